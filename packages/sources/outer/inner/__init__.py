"""outer.inner: defines LEVEL before importing its submodule `deep`."""

LEVEL = 2

from . import deep  # noqa: E402
from .deep import Deep  # noqa: E402,F401
