"""torchvision.extension for archives that extern it (see torchvision/__init__.py here).

torchvision 0.14's module loads the C++ library `_C` into `torch.ops.torchvision`; in wasmdeploy
those ops are part of the torch layer, so they are always there: `_has_ops()` is True and
`_assert_has_ops()` passes. Loading any other native library (`_load_library("image")`, which
torchvision.io tries inside `except (ImportError, OSError)`) raises OSError, as a missing
library does in real torchvision.
"""

import torch

_HAS_OPS = True


def _has_ops():
    return True


def _assert_has_ops():
    if not _has_ops():
        raise RuntimeError("Couldn't load custom C++ ops.")


def _check_cuda_version():
    return -1


def _load_library(lib_name):
    raise OSError(f"torchvision.extension._load_library({lib_name!r}): native libraries cannot be loaded in wasmdeploy")
