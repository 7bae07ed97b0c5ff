from . import Node  # noqa: F401

Argument = object
