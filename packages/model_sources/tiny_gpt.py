"""A GPT-style decoder written with plain tensor ops (after Karpathy's minGPT / nanoGPT).

Interned into packages/models/tiny_gpt.pt by packages/make_models.py. Covers: token and position
embeddings (int64 ids, torch.arange), causal self-attention spelled out with
view/transpose/split/masked_fill on a `torch.tril` buffer, softmax, matmul (@), layer norm as a
module and as F.layer_norm, tanh-approximate and exact GELU, a tied output projection (the
lm_head weight is the same Parameter as the token embedding), and a plain (non-Module) config
object stored on the model.
"""

import math

import torch
import torch.nn as nn
from torch.nn import functional as F


class GPTConfig:
    """Plain Python object pickled as an attribute of the model."""

    def __init__(self, vocab_size=64, block_size=16, n_layer=2, n_head=4, n_embd=32):
        self.vocab_size = vocab_size
        self.block_size = block_size
        self.n_layer = n_layer
        self.n_head = n_head
        self.n_embd = n_embd


class CausalSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd)
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        size = config.block_size
        self.register_buffer("bias", torch.tril(torch.ones(size, size)).view(1, 1, size, size))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = att @ v  # (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, config, approximate):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd)
        self.approximate = approximate  # "tanh" or "none"

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate=self.approximate))


class Block(nn.Module):
    def __init__(self, config, approximate):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.mlp = MLP(config, approximate)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class TinyGPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        # Block 0 uses the tanh approximation of GELU, the others the exact (erf) one.
        approx = ["tanh"] + ["none"] * (config.n_layer - 1)
        self.h = nn.ModuleList([Block(config, approx[i]) for i in range(config.n_layer)])
        # The final layer norm is applied with F.layer_norm on bare parameters.
        self.ln_f_weight = nn.Parameter(torch.ones(config.n_embd))
        self.ln_f_bias = nn.Parameter(torch.zeros(config.n_embd))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying: one Parameter, two owners

    def forward(self, idx):
        b, t = idx.size()
        assert t <= self.config.block_size, "sequence longer than block_size"
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device).unsqueeze(0)  # (1, t)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.h:
            x = block(x)
        x = F.layer_norm(x, (self.config.n_embd,), self.ln_f_weight, self.ln_f_bias, 1e-5)
        return self.lm_head(x)
