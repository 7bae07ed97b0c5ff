"""Small user modules around torch.nn's attention and recurrent layers.

Interned into packages/models/*.pt by packages/make_models.py. The wrappers exist so that every
model is called positionally with tensors only (`model(x, mask)`), and so that the archives
also hold a bit of user code that post-processes the layer outputs.
"""

import torch
import torch.nn as nn


class Encoder(nn.Module):
    """nn.TransformerEncoder over an input with a bool key padding mask (True = padding)."""

    def __init__(self, d_model=32, nhead=4, dim_feedforward=64, num_layers=2, batch_first=True,
                 norm_first=False, activation="relu", final_norm=False, causal=False):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0.1,
                                           activation=activation, batch_first=batch_first,
                                           norm_first=norm_first)
        norm = nn.LayerNorm(d_model) if final_norm else None
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=norm)
        self.batch_first = batch_first
        self.causal = causal

    def forward(self, src, key_padding_mask):
        mask = None
        if self.causal:
            t = src.shape[1] if self.batch_first else src.shape[0]
            # float mask: 0 on and below the diagonal, -inf above (nn.Transformer's convention)
            mask = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        return self.encoder(src, mask=mask, src_key_padding_mask=key_padding_mask)


class Attention(nn.Module):
    """nn.MultiheadAttention used directly: causal self-attention, then cross-attention with
    different key/value widths (kdim/vdim, so separate q/k/v projection weights)."""

    def __init__(self, embed_dim=32, num_heads=4, kdim=24, vdim=20):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(embed_dim, num_heads, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(embed_dim, num_heads, kdim=kdim, vdim=vdim,
                                                batch_first=True)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x, memory):
        t = x.shape[1]
        causal = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)  # True = masked
        h, self_weights = self.self_attn(x, x, x, attn_mask=causal, need_weights=True)
        h = self.norm(x + h)
        value = memory[..., 4:]  # the last 20 of the 24 features
        y, cross_weights = self.cross_attn(h, memory, value, need_weights=True,
                                           average_attn_weights=False)
        return y, self_weights, cross_weights


class LSTMModel(nn.Module):
    """2-layer batch_first LSTM + linear head; returns (head(output), (h_n, c_n))."""

    def __init__(self, input_size=8, hidden_size=16, num_layers=2, out_features=4):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, out_features)

    def forward(self, x):
        y, (h, c) = self.lstm(x)
        return self.head(y), (h, c)


class GRUModel(nn.Module):
    """2-layer batch_first GRU. Unidirectional: takes an explicit h0. Bidirectional: h0 = zeros
    (not passed) and a tanh projection of the concatenated directions."""

    def __init__(self, input_size=8, hidden_size=16, num_layers=2, bidirectional=False,
                 out_features=6):
        super().__init__()
        self.gru = nn.GRU(input_size, hidden_size, num_layers=num_layers, batch_first=True,
                          bidirectional=bidirectional)
        self.bidirectional = bidirectional
        self.proj = nn.Linear(hidden_size * (2 if bidirectional else 1), out_features)

    def forward(self, x, h0=None):
        y, h = self.gru(x, h0)
        return torch.tanh(self.proj(y)), h
