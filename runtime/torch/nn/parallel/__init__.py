"""torch.nn.parallel: checkpoints saved from wrapped models pickle these classes
(``torch.nn.parallel.data_parallel.DataParallel``). There is one CPU "device" here, so the
wrappers just call the wrapped module, as DataParallel does when no GPU is present."""

from .data_parallel import DataParallel, data_parallel  # noqa: F401
from .distributed import DistributedDataParallel  # noqa: F401

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]
