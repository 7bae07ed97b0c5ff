"""Models whose forward branches on tensor values or shapes, or changes its own state: the cases
where replaying a recorded graph would go wrong if the guards missed something. Each is called
several times in a row; every call must give PyTorch's result (packages/make_stateful_models.py)."""

import torch
import torch.nn as nn

from stateful_config import settings

SCALE = 1.0  # a module global that set_scale() rebinds


class ValueBranch(nn.Module):
    """if on a tensor's value."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(6, 4)
        self.b = nn.Linear(6, 4)

    def forward(self, x):
        if x.sum() > 0:
            return self.a(x)
        return self.b(x) * 2


class ItemLoop(nn.Module):
    """A loop whose trip count is read with .item()."""

    def __init__(self):
        super().__init__()
        self.l = nn.Linear(6, 6)

    def forward(self, x):
        n = int(x.abs().max().item() * 3) % 4 + 1
        for _ in range(n):
            x = torch.tanh(self.l(x))
        return x


class EarlyExit(nn.Module):
    """Stops after the first layer whose output is large."""

    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(6, 6) for _ in range(4)])

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if x.abs().mean() > 0.9:
                return x * (i + 1)
        return x


class ShapeBranch(nn.Module):
    """Branches on the batch size."""

    def __init__(self):
        super().__init__()
        self.l = nn.Linear(6, 4)

    def forward(self, x):
        if x.shape[0] > 2:
            return torch.relu(self.l(x))
        return torch.sigmoid(self.l(x)) * x.size(0)


class StepBuffer(nn.Module):
    """Buffers updated in place on every call: a step counter and a running mean."""

    def __init__(self):
        super().__init__()
        self.l = nn.Linear(6, 4)
        self.register_buffer("step", torch.zeros(()))
        self.register_buffer("running", torch.zeros(4))

    def forward(self, x):
        self.step += 1
        y = self.l(x)
        self.running.mul_(0.5).add_(y.mean(0) * 0.5)
        return y * self.step + self.running, self.step


class AttrCounter(nn.Module):
    """A Python attribute counter."""

    def __init__(self):
        super().__init__()
        self.l = nn.Linear(6, 4)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.l(x) * self.calls


class ListAppend(nn.Module):
    """A list attribute appended to."""

    def __init__(self):
        super().__init__()
        self.l = nn.Linear(6, 4)
        self.history = []

    def forward(self, x):
        self.history.append(x.shape[0])
        return self.l(x) * len(self.history)


class ClassCounter(nn.Module):
    """A class attribute changed through the type."""

    total = 0

    def __init__(self):
        super().__init__()
        self.l = nn.Linear(6, 4)

    def forward(self, x):
        type(self).total += 1
        return self.l(x) + type(self).total


class GlobalScale(nn.Module):
    """Reads state another method changes between calls: a module global rebound with
    `global`, and an attribute of an object in another module of the package."""

    def __init__(self):
        super().__init__()
        self.l = nn.Linear(6, 4)

    def forward(self, x):
        return self.l(x) * SCALE + settings.offset

    def set_scale(self, s):
        global SCALE
        SCALE = s
        return SCALE

    def set_offset(self, o):
        settings.offset = o
        return o


class Stable(nn.Module):
    """No state changes and no value reads: the control case that replays."""

    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(6, 8)
        self.l2 = nn.Linear(8, 4)

    def forward(self, x):
        return self.l2(torch.relu(self.l1(x))), x.shape[0]


def _make_counter():
    n = [0]

    def bump():
        n[0] += 1
        return n[0]

    return bump


_bump = _make_counter()


class ClosureCounter(nn.Module):
    """A counter in a closure cell (the fingerprint cannot see cells)."""

    def __init__(self):
        super().__init__()
        self.l = nn.Linear(6, 4)

    def forward(self, x):
        return self.l(x) * _bump()


class PyRandom(nn.Module):
    """Draws from Python's random module (here without effect on the result, so PyTorch's
    output is still the reference): a replay would skip the draw, so it must not replay."""

    def __init__(self):
        super().__init__()
        self.l = nn.Linear(6, 4)

    def forward(self, x):
        import random

        return self.l(x) * (1.0 + 0.0 * random.random())
