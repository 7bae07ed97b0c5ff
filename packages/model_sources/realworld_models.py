"""User model code for packages/make_realworld.py: the shapes real-world models take that the
torchvision conformance models do not (see packages/README.md, "Real-world models").

Interned into packages/models/realworld/*.pt. Everything here is plain PyTorch 1.13 code.
"""

import dataclasses
from typing import List, NamedTuple, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    """A small MLP, the plain module torch.fx.symbolic_trace turns into a GraphModule."""

    def __init__(self, d_in=12, d_hidden=24, d_out=5):
        super().__init__()
        self.fc1 = nn.Linear(d_in, d_hidden)
        self.norm = nn.LayerNorm(d_hidden)
        self.fc2 = nn.Linear(d_hidden, d_out)
        self.register_buffer("scale", torch.linspace(0.5, 1.5, d_out))

    def forward(self, x):
        h = F.gelu(self.norm(self.fc1(x)))
        y = self.fc2(h) * self.scale
        return torch.cat([y, y.sum(-1, keepdim=True)], dim=-1).softmax(-1), h.mean(dim=1)


class Gate(nn.Module):
    """Scripted (torch.jit.script) inside an eager model: control flow on values and shapes, a
    loop, int/float/list/Optional arguments, a method call and a constant (Final) attribute."""

    steps: torch.jit.Final[int]

    def __init__(self, d=16, steps=3):
        super().__init__()
        self.proj = nn.Linear(d, d)
        self.steps = steps
        self.register_buffer("bias", torch.linspace(-0.5, 0.5, d))

    def _mix(self, x: torch.Tensor, alpha: float) -> torch.Tensor:
        return alpha * x + (1.0 - alpha) * torch.tanh(x)

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        h = x
        for i in range(self.steps):
            h = self._mix(self.proj(h) + self.bias, 0.25 * (i + 1))
        if mask is not None:
            h = h.masked_fill(mask.unsqueeze(-1), 0.0)
        sizes: List[int] = []
        for d in h.shape:
            sizes.append(d)
        if h.sum() > 0:
            h = h * 2.0
        else:
            h = -h
        return h.reshape(sizes[0], -1)


class Pool(nn.Module):
    """Scripted too: strided slices, an in-place write into a slice, a tuple from max()."""

    def forward(self, x: torch.Tensor, k: int) -> torch.Tensor:
        out = torch.zeros_like(x[:, :k])
        for j in range(k):
            out[:, j] = x[:, j::k].max(dim=1)[0]
        return out


class WithScripted(nn.Module):
    """Eager model holding torch.jit.script'ed submodules."""

    def __init__(self, d=16):
        super().__init__()
        self.embed = nn.Linear(8, d)
        self.gate = torch.jit.script(Gate(d))
        self.head = nn.Linear(d * 4, 6)
        self.pool = torch.jit.script(Pool())

    def forward(self, x, mask):
        h = self.embed(x)  # [B, 4, d]
        h = self.gate(h, mask)  # [B, 4 * d]
        return self.head(h), self.pool(h, 5)


@dataclasses.dataclass
class ModelOutput:
    """The `ModelOutput` style: a dataclass with tensors and an optional field."""

    logits: torch.Tensor
    hidden: torch.Tensor
    attention: Optional[torch.Tensor] = None
    n_tokens: int = 0


class Pair(NamedTuple):
    values: torch.Tensor
    indices: torch.Tensor


class StructuredOut(nn.Module):
    """Returns a dataclass (ModelOutput style), or a NamedTuple from `pair`."""

    def __init__(self, d=8):
        super().__init__()
        self.lin = nn.Linear(d, d)

    def forward(self, x):
        h = torch.relu(self.lin(x))
        return ModelOutput(logits=h.sum(-1), hidden=h, n_tokens=int(x.shape[1]))

    def pair(self, x, k: int):
        v, i = self.lin(x).topk(k, dim=-1)
        return Pair(v, i)
