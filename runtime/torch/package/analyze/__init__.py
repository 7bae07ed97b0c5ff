from .is_from_package import is_from_package  # noqa: F401
