"""A forward that goes through numpy (packages/make_numpy_archives.py, issue 21)."""

import numpy as np
import torch


class NumpyHead(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x):
        a = np.asarray(x.tolist(), dtype=np.float32)
        a = np.clip(a * 2.0 - 1.0, -1.5, 1.5)
        y = self.fc(torch.tensor(a.tolist(), dtype=torch.float32))
        b = np.asarray(y.tolist(), dtype=np.float32)
        return torch.tensor(np.tanh(b).tolist(), dtype=torch.float32)
