"""torch.package for wasmdeploy. Packages are imported by the runtime's own importer
(wasmdeploy_runtime.package_importer.PackageImporter, torch 1.13 semantics); this module
gives packaged code the names it reaches for: ``torch.package.PackageImporter`` (for
isinstance checks and ``importer.load_pickle`` & co on ``torch_package_importer``),
``is_from_package``, ``sys_importer``, the mangling helpers. Writing packages
(PackageExporter) is not supported in an interpreter."""

from ._mangling import demangle, get_mangle_prefix, is_mangled  # noqa: F401
from .importer import Importer, ObjMismatchError, ObjNotFoundError, OrderedImporter, sys_importer  # noqa: F401
from .package_exporter import EmptyMatchError, PackageExporter, PackagingError  # noqa: F401
from .package_importer import PackageImporter  # noqa: F401
from .analyze.is_from_package import is_from_package  # noqa: F401
