"""numpy interop, as PyTorch has it: Tensor.numpy(), Tensor.__array__ (np.asarray(tensor)),
torch.from_numpy, and torch.tensor / torch.as_tensor of an ndarray.

Where PyTorch shares memory between a CPU tensor and its array, this copies: a tensor's
elements live in the engine on the host, outside the interpreter's memory (docs/tensor-layer.md),
so `t.numpy()` is a writable copy that later changes to `t` do not reach, and `torch.from_numpy(a)`
is a tensor of `a`'s values when it was called. numpy is imported only when one of these runs;
where the interpreter has no numpy the error is numpy's own ModuleNotFoundError.
"""

import sys

from . import _dtype as D

# torch dtype <-> numpy dtype name, as torch 1.13 maps them (torch/csrc/utils/tensor_numpy.cpp).
_TO_NUMPY = {
    D.bool_: "bool",
    D.uint8: "uint8",
    D.int8: "int8",
    D.int16: "int16",
    D.int32: "int32",
    D.int64: "int64",
    D.float16: "float16",
    D.float32: "float32",
    D.float64: "float64",
    D.complex64: "complex64",
    D.complex128: "complex128",
}
_FROM_NUMPY = {v: k for k, v in _TO_NUMPY.items()}


def is_ndarray(x):
    """True for a numpy array (without importing numpy: a process that never did has none)."""
    np = sys.modules.get("numpy")
    return np is not None and isinstance(x, np.ndarray)


def numpy_dtype(d):
    name = _TO_NUMPY.get(d)
    if name is None:
        # PyTorch: "Got unsupported ScalarType BFloat16"
        raise TypeError(f"Got unsupported ScalarType {d.name.capitalize() if d is not D.bfloat16 else 'BFloat16'}")
    return name


def torch_dtype(np_dtype):
    d = _FROM_NUMPY.get(np_dtype.name)
    if d is None:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{np_dtype.name}. The only supported types are: "
            "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint8, and bool."
        )
    return d


def to_numpy(t):
    """A writable C-contiguous array of the tensor's values (a copy)."""
    import numpy as np

    from . import _graph as G

    v = t._value
    dt = np.dtype(numpy_dtype(v.dtype))
    n = v.numel()
    data = G.read_bytes(v) if n else b""
    return np.frombuffer(bytearray(data), dtype=dt.newbyteorder("<"), count=n).astype(dt, copy=False).reshape(tuple(v.shape))


def from_numpy(a):
    """A tensor of the array's values (a copy; PyTorch's shares the array's memory)."""
    import numpy as np

    from . import _graph as G
    from ._ops.core import wrap

    if not isinstance(a, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(a).__name__})")
    d = torch_dtype(a.dtype)
    D.check_supported(d, "from_numpy")
    data = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes()
    return wrap(G.write(data, d, tuple(int(s) for s in a.shape)))
