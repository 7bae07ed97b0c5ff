"""torch.package._mangling: names of packaged modules look like '<torch_package_N>.pkg.mod'.

One counter and one demangle for the whole interpreter: the importer that loads archives
(wasmdeploy_runtime.package_importer) owns them, so names made here never collide with its own.
"""

import re

from wasmdeploy_runtime.package_importer import _next_mangle_prefix, demangle  # noqa: F401


class PackageMangler:
    def __init__(self):
        self._mangle_parent = _next_mangle_prefix()
        self._mangle_index = int(self._mangle_parent[len("<torch_package_"):-1])

    def mangle(self, name) -> str:
        assert len(name) != 0
        return self._mangle_parent + "." + name

    def demangle(self, mangled: str) -> str:
        if mangled.startswith(self._mangle_parent + "."):
            return mangled.partition(".")[2]
        return mangled

    def parent_name(self):
        return self._mangle_parent


def is_mangled(name: str) -> bool:
    return bool(re.match(r"<torch_package_\d+>", name))


def get_mangle_prefix(name: str) -> str:
    return name.partition(".")[0] if is_mangled(name) else name
