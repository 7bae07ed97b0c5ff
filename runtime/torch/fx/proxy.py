from . import Attribute, Proxy  # noqa: F401
