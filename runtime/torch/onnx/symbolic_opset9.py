"""torch.onnx.symbolic_opset9: names importable (library code imports them at import time), never callable."""

from ._symbolic_stub import make as _make

__getattr__ = _make(__name__)
