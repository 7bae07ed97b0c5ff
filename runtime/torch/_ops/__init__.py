"""The torch layer's op implementations (one module per family), and torch.ops (registry.py):
like PyTorch's torch._ops, this module holds `ops`, `OpOverload` and `OpOverloadPacket`."""

from .registry import OpOverload, OpOverloadPacket, ops  # noqa: F401
