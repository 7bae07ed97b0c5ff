"""res_pkg: an interned package that also holds resources (resources.pt)."""

import importlib.resources

import res_pkg

from . import sub  # noqa: F401  (interns res_pkg.sub so it is a package in the archive)


class ResObj:
    def via_importer_text(self):
        import torch_package_importer

        return torch_package_importer.load_text("res_pkg", "greeting.txt")

    def via_importer_binary(self):
        import torch_package_importer

        return torch_package_importer.load_binary("res_pkg", "data.bin")

    def via_importer_nested_text(self):
        import torch_package_importer

        return torch_package_importer.load_text("res_pkg.sub", "note.txt")

    def via_importlib_resources(self):
        return importlib.resources.read_text(res_pkg, "greeting.txt")

    def via_importlib_resources_binary(self):
        return importlib.resources.read_binary(res_pkg, "data.bin")

    def via_importlib_files(self):
        return importlib.resources.files(res_pkg).joinpath("greeting.txt").read_text(encoding="utf-8")

    def is_resource(self, name):
        return importlib.resources.is_resource(res_pkg, name)
