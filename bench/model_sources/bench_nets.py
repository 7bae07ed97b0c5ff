"""Bench-only model code, interned into the archives bench/make_bench_models.py makes.

MLP: a small multilayer perceptron whose every call is a handful of tiny ops, so the time of
a call is spent in Python (and the call machinery), not in the math: the "Python dominates"
model of the throughput experiment.

Encoder: nn.TransformerEncoder (post-norm, ReLU, batch_first) called with a single tensor.
"""

import torch.nn as nn


class MLP(nn.Module):
    def __init__(self, d_in=64, hidden=128, d_out=10, layers=3):
        super().__init__()
        dims = [d_in] + [hidden] * (layers - 1)
        self.hidden = nn.ModuleList([nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:])])
        self.out = nn.Linear(dims[-1], d_out)

    def forward(self, x):
        for layer in self.hidden:
            x = layer(x).relu()
        return self.out(x)


class Encoder(nn.Module):
    def __init__(self, d_model=128, nhead=4, dim_feedforward=512, num_layers=4):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0.1,
                                           activation="relu", batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)

    def forward(self, src):
        return self.encoder(src)
