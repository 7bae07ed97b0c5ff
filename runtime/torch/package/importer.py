"""torch.package.importer (PyTorch 1.13 API)."""

import importlib
from abc import ABC, abstractmethod
from pickle import _getattribute, _Pickler, whichmodule as _pickle_whichmodule  # type: ignore[attr-defined]
from types import ModuleType
from typing import Any, List, Optional, Tuple

from ._mangling import demangle, get_mangle_prefix, is_mangled

__all__ = ["ObjNotFoundError", "ObjMismatchError", "Importer", "OrderedImporter", "sys_importer"]


class ObjNotFoundError(Exception):
    pass


class ObjMismatchError(Exception):
    pass


class Importer(ABC):
    modules: dict

    @abstractmethod
    def import_module(self, module_name: str) -> ModuleType:
        pass

    def get_name(self, obj: Any, name: Optional[str] = None) -> Tuple[str, str]:
        if name is None and obj and _Pickler.dispatch.get(type(obj)) is None:
            reduce = getattr(obj, "__reduce__", None)
            if reduce is not None:
                try:
                    rv = reduce()
                    if isinstance(rv, str):
                        name = rv
                except Exception:
                    pass
        if name is None:
            name = getattr(obj, "__qualname__", None)
        if name is None:
            name = obj.__name__
        orig_module_name = self.whichmodule(obj, name)
        module_name = demangle(orig_module_name)
        try:
            module = self.import_module(module_name)
            obj2, _ = _getattribute(module, name)
        except (ImportError, KeyError, AttributeError):
            raise ObjNotFoundError(f"{obj} was not found as {module_name}.{name}") from None
        if obj is obj2:
            return module_name, name
        raise ObjMismatchError(f"{obj} is not the same object as {module_name}.{name}")

    def whichmodule(self, obj: Any, name: str) -> str:
        return _pickle_whichmodule(obj, name)


class _SysImporter(Importer):
    def import_module(self, module_name: str):
        return importlib.import_module(module_name)

    def whichmodule(self, obj: Any, name: str) -> str:
        return _pickle_whichmodule(obj, name)


sys_importer = _SysImporter()


class OrderedImporter(Importer):
    def __init__(self, *args):
        self._importers: List[Importer] = list(args)

    def _is_torchpackage_dummy(self, module):
        if not getattr(module, "__torch_package__", False):
            return False
        if not hasattr(module, "__path__"):
            return False
        if not hasattr(module, "__file__"):
            return True
        return module.__file__ is None

    def import_module(self, module_name: str) -> ModuleType:
        last_err = None
        for importer in self._importers:
            if not isinstance(importer, Importer) and not hasattr(importer, "import_module"):
                raise TypeError(f"{importer} is not a Importer. All importers in OrderedImporter must inherit from Importer.")
            try:
                module = importer.import_module(module_name)
                if self._is_torchpackage_dummy(module):
                    continue
                return module
            except ModuleNotFoundError as err:
                last_err = err
        if last_err is not None:
            raise last_err
        raise ModuleNotFoundError(module_name)

    def whichmodule(self, obj: Any, name: str) -> str:
        for importer in self._importers:
            module_name = importer.whichmodule(obj, name)
            if module_name != "__main__":
                return module_name
        return "__main__"
