"""User model code for packages/make_realworld.py: the shapes real-world models take that the
torchvision conformance models do not (see packages/README.md, "Real-world models").

Interned into packages/models/realworld/*.pt. Everything here is plain PyTorch 1.13 code.
"""

import dataclasses
from typing import Dict, List, NamedTuple, Optional, Tuple

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

    @torch.jit.export
    def spectrum(self, x: torch.Tensor) -> torch.Tensor:
        """Complex FFT: wasmdeploy has no complex tensors, so this must fail with a typed error."""
        return torch.fft.fft(x).abs()

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


def _scale_shift(x: torch.Tensor, params: Dict[str, torch.Tensor]) -> torch.Tensor:
    """A free function called from scripted code (compiled into the archive's TorchScript)."""
    if "scale" in params:
        x = x * params["scale"]
    return x + params.get("shift", torch.zeros(1))


class Heads(nn.Module):
    """Scripted: nn.ModuleList unrolled, nn.Embedding / nn.LayerNorm (aten argument orders),
    F.interpolate (torch.nn.functional's own code, compiled into the archive), dicts, tuples,
    dtype arguments, arange, shape arithmetic, a string check and an exception path."""

    def __init__(self, d=16, n=2):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(d, d) for _ in range(n)])
        self.norm = nn.LayerNorm(d)
        self.emb = nn.Embedding(10, d)
        self.mode = "sum"

    def forward(self, h: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        if h.dim() != 2:
            raise ValueError("expected a 2-D input")
        b = h.shape[0]
        ids = torch.arange(b, dtype=torch.long) % 10
        x = h[:, : self.norm.normalized_shape[0]] + self.emb(ids)
        outs: Dict[str, torch.Tensor] = {}
        for i, layer in enumerate(self.layers):
            x = torch.relu(layer(self.norm(x)))
            outs["layer" + str(i)] = x.mean(dim=1)
        up = F.interpolate(x.unsqueeze(1), scale_factor=2.0, mode="linear", align_corners=False)
        params = {"scale": torch.full([1], 0.5), "shift": outs["layer0"].unsqueeze(1)}
        y = _scale_shift(up.squeeze(1), params)
        if self.mode == "sum":
            y = y + y.sum(dim=1, keepdim=True).to(torch.float64).to(torch.float32)
        return y, outs


class WithScripted(nn.Module):
    """Eager model holding torch.jit.script'ed submodules (Gate, Pool, Heads)."""

    def __init__(self, d=16):
        super().__init__()
        self.embed = nn.Linear(8, d)
        self.gate = torch.jit.script(Gate(d))
        self.head = nn.Linear(d * 4, 6)
        self.pool = torch.jit.script(Pool())
        self.heads = torch.jit.script(Heads(d))

    def forward(self, x, mask):
        h = self.embed(x)  # [B, 4, d]
        h = self.gate(h, mask)  # [B, 4 * d]
        y, parts = self.heads(h)
        return self.head(h), self.pool(h, 5), y, parts

    def spectrum(self, x):
        return self.gate.spectrum(x)


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
