"""Models for host replay (src/pool/host-replay.ts): plain one-graph forwards the host can replay
alone, whose results depend on Python state that the host may change between calls (an
attribute, another method), on non-tensor arguments, and on which arguments are the same tensor;
and one that hands its argument back."""

import torch
import torch.nn as nn


class Scaled(nn.Module):
    """One graph per call; the result depends on a Python float attribute and a non-tensor argument."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(6, 4)
        self.scale = 1.0

    def forward(self, x, k=1):
        return self.lin(x) * self.scale + k

    def set_scale(self, s):
        self.scale = s
        return None


class Pair(nn.Module):
    """Two tensor arguments; an in-place update of the first shows whether they are one tensor."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(6, 6)

    def forward(self, a, b):
        a.mul_(2)
        return self.lin(a + b)


class Mixed(nn.Module):
    """A result of several kinds: tensors (one twice), a weight, ints, floats, bools, None, str."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(6, 3)
        self.register_buffer("offset", torch.arange(3, dtype=torch.float32))

    def forward(self, x):
        y = self.lin(x) + self.offset
        return {"y": y, "pair": (y, y.relu()), "n": 3, "f": 0.5, "ok": True, "none": None, "s": "out", "w": self.offset}


class Echo(nn.Module):
    """Its argument back beside a result: the host answers with the argument's values."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(6, 2)

    def forward(self, x):
        return x, self.lin(x)
