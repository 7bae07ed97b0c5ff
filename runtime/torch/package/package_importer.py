"""torch.package.package_importer: the runtime's importer under PyTorch's name.

``torch_package_importer`` inside packaged code is an instance of this class, so
``isinstance(importer, torch.package.PackageImporter)`` holds and its ``load_pickle``,
``load_text``, ``load_binary``, ``import_module``, ``id``, ``python_version`` and
``get_resource_reader`` work as in PyTorch 1.13. Opening an archive from a path inside an
interpreter is not supported (the host loads packages)."""

from ._mangling import demangle, is_mangled  # noqa: F401
from .importer import Importer, sys_importer  # noqa: F401

__all__ = ["PackageImporter"]

try:
    from wasmdeploy_runtime.package_importer import PackageImporter as _RuntimeImporter
except ImportError:  # plain CPython without the runtime (development)
    _RuntimeImporter = None


if _RuntimeImporter is not None:
    PackageImporter = _RuntimeImporter
    try:
        Importer.register(PackageImporter)
    except Exception:
        pass
else:

    class PackageImporter(Importer):
        modules: dict

        def __init__(self, file_or_buffer, module_allowed=lambda module_name: True):
            raise NotImplementedError(
                "torch.package.PackageImporter: opening archives inside an interpreter is not supported by "
                "wasmdeploy; load packages through the host (InterpreterManager.loadPackage)"
            )

        def import_module(self, name, package=None):
            raise NotImplementedError
