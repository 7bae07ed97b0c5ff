"""numpy interop as PyTorch has it, in a forward (packages/make_numpy_archives.py, issue 21):
Tensor.numpy(), np.asarray(tensor) through __array__, torch.from_numpy, torch.as_tensor and
torch.tensor of arrays, and the dtypes each side maps to."""
import numpy as np
import torch


class Interop(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 4)

    def forward(self, x, ids):
        a = self.fc(x).numpy() if not self.fc.weight.requires_grad else self.fc(x).detach().numpy()
        b = np.asarray(x * 2)
        c = torch.from_numpy(np.tanh(a) + b)
        d = torch.as_tensor(np.arange(4, dtype=np.float32))
        e = torch.tensor(ids.numpy() % 3)
        f = torch.from_numpy(np.array([True, False, True, True]))
        return c + d, e, f, str(a.dtype), str(ids.numpy().dtype), str(e.dtype), str(f.dtype)
