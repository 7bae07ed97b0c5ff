"""The `torchvision` that archives reach when they extern `torchvision.extension`.

torchvision's Python code travels interned in archives (it runs from there against the torch
layer); only its C++ op library is native. An archive made so that real PyTorch can load it
back interns torchvision but externs `torchvision.extension`, the module that loads that
library: this package provides that module, and the ops themselves are the torch layer's
`torch.ops.torchvision.*` (runtime/torch/_ops/vision.py). Nothing else of torchvision is here;
`import torchvision` outside an archive gets only this stub.
"""

__version__ = "0.14.1"


def _is_tracing():
    return False
