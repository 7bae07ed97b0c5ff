"""A "heavy" dependency that extern_mock.pt mocks out with exporter.mock("fancy_dep").

This real implementation is only imported by the exporter; inside the archive the module is
replaced by torch.package's mock stub, whose attributes are MockedObjects that raise
NotImplementedError when used.
"""


def something():
    return "the real fancy_dep.something"


def helper():
    return "the real fancy_dep.helper"
