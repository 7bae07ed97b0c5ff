from types import ModuleType
from typing import Any

from .._mangling import is_mangled


def is_from_package(obj: Any) -> bool:
    """True if obj (a module, or an instance of a class) comes from a torch.package archive."""
    if type(obj) == ModuleType:
        return is_mangled(obj.__name__)
    return is_mangled(type(obj).__module__)
