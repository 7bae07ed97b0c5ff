"""Tensor math in many dtypes inside one forward().

Interned into packages/models/dtype_zoo.pt by packages/make_models.py. Inputs: x float32 [4, 8]
and ids int32 [4, 8]. Returns a tuple with one tensor per dtype; the comments give the dtype
torch 1.13 gives each result (type promotion is part of what is tested).
"""

import torch
import torch.nn as nn


class DtypeZoo(nn.Module):
    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(7)
        self.register_buffer("scale64", torch.randn(8, generator=g, dtype=torch.float64))
        self.register_buffer("offset32", torch.arange(8, dtype=torch.int32) - 3)
        self.register_buffer("table_u8", torch.tensor([0, 1, 127, 128, 200, 250, 254, 255],
                                                      dtype=torch.uint8))
        self.register_buffer("flags", torch.tensor([True, False] * 4))
        self.register_buffer("half_bias", torch.linspace(-1, 1, 8).to(torch.float16))

    def forward(self, x, ids):
        # float64: exact-ish double math on a float32 input
        d = x.double() * self.scale64 + 1e-10
        f64 = (d * d).sum(dim=1) / 3.0 + torch.exp(d).mean()  # float64 [4]

        # float16: cast down, do elementwise math in half precision
        h = x.half()
        f16 = h * h - h * self.half_bias + 0.5  # float16 [4, 8]

        # int32: integer arithmetic, floor division and both remainders
        i = ids * 3 + self.offset32  # int32 [4, 8]
        i32 = torch.div(i, 4, rounding_mode="floor") + (i % 5) * 10 + torch.fmod(i, 3) * 100
        i32 = torch.where(i32 > 50, i32 - 7, i32)  # still int32

        # uint8: saturation by clamp, then wrap-around on add, bitwise ops
        u = (x * 60 + 128).clamp(0, 255).to(torch.uint8)
        u8 = (u + self.table_u8) ^ (u & 0x0F)  # uint8 [4, 8], wraps modulo 256

        # bool: comparisons, logical ops, reductions
        b = (x > 0) & (ids % 2 == 0)
        b = b | self.flags
        b = torch.logical_xor(b, ~(x < -0.5))  # bool [4, 8]
        any_row = b.any(dim=1, keepdim=True)  # bool [4, 1]

        # mixed: bool/int/half/float promote to float32; int32 cumsum gives int64
        mixed = torch.where(b, x, -x) + ids * 0.25 + h.float() + u.float() / 255  # float32 [4, 8]
        counts = torch.cumsum(ids, dim=1) + b.sum(dim=1, keepdim=True)  # int64 [4, 8]
        argm = torch.argmax(mixed, dim=1)  # int64 [4]
        return f64, f16, i32, u8, b & any_row, mixed, counts, argm
