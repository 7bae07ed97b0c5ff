"""Integer floor division, the whole model (int_div.pt, packages/make_models.py).

A benign model whose forward is one ordinary op on int64 inputs. Sent INT64_MIN and -1, real
PyTorch dies of SIGFPE on x86 (the idiv instruction traps); wasmdeploy must answer and keep
serving (test/server/cells.test.ts). Inputs a, b int64 [2, 3], b never 0.
"""

import torch
import torch.nn as nn


class IntDiv(nn.Module):
    def forward(self, a, b):
        return torch.div(a, b, rounding_mode="floor")
