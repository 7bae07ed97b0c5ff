"""Expected values for the engine tests, computed by real PyTorch (and NumPy for .npy files).

Run with Debian's interpreter, which has torch:  /usr/bin/python3 test/engine/make_expected.py
Writes test/engine/expected.json and test/engine/fixtures/*.npy. The TypeScript tests build
the equivalent ONNX GraphSpecs and compare the engine's results with these.
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)
DTYPES = {
    torch.float32: "float32", torch.float64: "float64", torch.float16: "float16", torch.int64: "int64",
    torch.int32: "int32", torch.int8: "int8", torch.uint8: "uint8", torch.bool: "bool",
}


def enc(t: torch.Tensor) -> dict:
    """A tensor as JSON: int64 as strings (exact beyond 2**53), float16 as raw bits, bool as 0/1."""
    t = t.detach().contiguous()
    dtype = DTYPES[t.dtype]
    if dtype == "int64":
        data = [str(v) for v in t.flatten().tolist()]
    elif dtype == "float16":
        data = t.flatten().view(torch.int16).numpy().view(np.uint16).tolist()
    elif dtype == "bool":
        data = [int(v) for v in t.flatten().tolist()]
    else:
        data = t.flatten().tolist()
    return {"dtype": dtype, "shape": list(t.shape), "data": data}


cases = {}


def case(name, inputs, outputs, storages=None):
    cases[name] = {
        "inputs": {k: enc(v) for k, v in inputs.items()},
        "storages": {k: enc(v) for k, v in (storages or {}).items()},
        "outputs": {k: enc(v) for k, v in outputs.items()},
    }


# Add with broadcasting: [2,3,4] + [3,1]
a, b = torch.randn(2, 3, 4), torch.randn(3, 1)
case("add_broadcast", {"a": a, "b": b}, {"y": a + b})

# MatMul, batched left operand: [2,3,4] @ [4,5]
a, b = torch.randn(2, 3, 4), torch.randn(4, 5)
case("matmul", {"a": a, "b": b}, {"y": a @ b})

# Gemm = nn.Linear: y = x W^T + b, weights from storages
x, w, bias = torch.randn(3, 4), torch.randn(5, 4), torch.randn(5)
case("gemm", {"x": x}, {"y": F.linear(x, w, bias)}, {"fc.weight": w, "fc.bias": bias})

# Conv2d(3->4, 3x3, pad 1) + BatchNorm2d (eval) + ReLU. All six parameters live in ONE storage
# (the test reads them at element offsets), as torch.package would when they share a storage.
x = torch.randn(1, 3, 6, 6)
conv = torch.nn.Conv2d(3, 4, 3, padding=1)
bn = torch.nn.BatchNorm2d(4).eval()
with torch.no_grad():
    bn.weight.uniform_(0.5, 1.5)
    bn.bias.uniform_(-0.5, 0.5)
    bn.running_mean.uniform_(-0.5, 0.5)
    bn.running_var.uniform_(0.5, 1.5)
    y = F.relu(bn(conv(x)))
params = [conv.weight, conv.bias, bn.weight, bn.bias, bn.running_mean, bn.running_var]
packed = torch.cat([p.detach().flatten() for p in params])
case("conv_bn_relu", {"x": x}, {"y": y}, {"block.params": packed})

# Softmax over the last dim
x = torch.randn(2, 5) * 3
case("softmax", {"x": x}, {"y": torch.softmax(x, dim=-1)})

# LayerNorm over the last dim (affine)
x, g, beta = torch.randn(2, 3, 8), torch.randn(8), torch.randn(8)
case("layernorm", {"x": x}, {"y": F.layer_norm(x, (8,), g, beta, eps=1e-5)}, {"ln.weight": g, "ln.bias": beta})

# Embedding = Gather on axis 0 with int64 indices
table = torch.randn(10, 4)
idx = torch.tensor([[0, 2, 9], [4, 4, 1]], dtype=torch.int64)
case("embedding", {"idx": idx}, {"y": F.embedding(idx, table)}, {"emb.weight": table})

# Reductions: mean over dim 1, sum over dims (0, 2) keeping dims
x = torch.randn(3, 4, 5)
case("reduce", {"x": x}, {"mean": x.mean(dim=1), "sum": x.sum(dim=(0, 2), keepdim=True)})

# Casts: float32 -> int32 (truncates toward zero), float32 -> float16
x = torch.tensor([-2.7, -0.5, 0.0, 0.4, 1.5, 3.99, 100.25, -65.5])
case("cast", {"x": x}, {"i": x.to(torch.int32), "h": x.to(torch.float16)})

# Where with a bool input and a computed bool condition
c = torch.tensor([[True, False, True], [False, False, True]])
x, y = torch.randn(2, 3), torch.randn(2, 3)
case("where", {"c": c, "x": x, "y": y}, {"out": torch.where(c, x, y), "pos": torch.where(x > 0, x, y)})

# int64 arithmetic, including values beyond 2**53 (exact only as int64, not as doubles), and
# floor division (torch rounds toward -inf; ONNX Div truncates, so the graph lowers it)
a = torch.tensor([2**60 + 1, -(2**40) - 3, 7, -9], dtype=torch.int64)
b = torch.tensor([3, 5, -2, 4], dtype=torch.int64)
case("int64_arith", {"a": a, "b": b}, {"y": a * b + a, "q": torch.div(a, b, rounding_mode="floor")})

# float64 end to end
a = torch.randn(3, 3, dtype=torch.float64)
case("float64", {"a": a}, {"y": torch.tanh(a) * 2})

with open(os.path.join(HERE, "expected.json"), "w") as f:
    # One case per line: small, and diffs stay readable.
    f.write('{"generator": %s,\n"cases": {\n' % json.dumps(f"torch {torch.__version__}, numpy {np.__version__}"))
    f.write(",\n".join(f"{json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in cases.items()))
    f.write("\n}}\n")

# .npy fixtures written by NumPy itself.
fx = os.path.join(HERE, "fixtures")
os.makedirs(fx, exist_ok=True)
np.save(os.path.join(fx, "f32_2x3.npy"), np.arange(6, dtype=np.float32).reshape(2, 3) / 4)
np.save(os.path.join(fx, "i64.npy"), np.array([-(2**62), 0, 2**53 + 1], dtype=np.int64))
np.save(os.path.join(fx, "bool.npy"), np.array([[True, False], [False, True]]))
np.save(os.path.join(fx, "f16.npy"), np.array([1.0, -2.5, 65504.0], dtype=np.float16))
np.save(os.path.join(fx, "scalar_f64.npy"), np.array(3.25, dtype=np.float64))
np.save(os.path.join(fx, "u8_empty.npy"), np.zeros((0, 3), dtype=np.uint8))
np.save(os.path.join(fx, "fortran.npy"), np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
np.save(os.path.join(fx, "bigendian.npy"), np.arange(3, dtype=">f4"))
print(f"wrote {len(cases)} cases to expected.json and .npy fixtures")
