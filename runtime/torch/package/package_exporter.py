"""torch.package.package_exporter: writing packages is not supported inside an interpreter."""

__all__ = ["PackagingErrorReason", "EmptyMatchError", "PackagingError", "PackageExporter"]


class PackagingErrorReason:
    pass


class EmptyMatchError(Exception):
    pass


class PackagingError(Exception):
    def __init__(self, dependency_graph=None, debug=False):
        super().__init__("packaging failed")


class PackageExporter:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            "torch.package.PackageExporter: writing torch.package archives is not supported by wasmdeploy "
            "(make archives with real PyTorch)"
        )
