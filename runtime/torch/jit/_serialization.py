"""TorchScript that archives carry, loaded and run on the torch layer.

torch.package pickles a ScriptModule (torch.jit.script'ed submodule) as
`unpackage_script_module(importer, id)` and writes what TorchScript serializes:

    .data/ts_code/code/__torch__/<module path>.py   the scripted classes and functions, in
                                                    TorchScript's Python syntax (shared by all
                                                    the archive's script modules)
    .data/ts_code/<id>/data.pkl                     the module object: GLOBAL __torch__.<path>
                                                    <Class>, its attributes, tensors as
                                                    ('storage', type, '<key>.storage', ...)
    .data/ts_code/<id>/constants.pkl                the tensor constants (CONSTANTS.c<i>)

Here the code files are executed as Python (annotations kept as strings) in a namespace whose
`torch` and `ops` give TorchScript's builtins their TorchScript meaning: aten ops on tensors
are the torch layer's, on numbers, strings and lists they are Python's (`torch.add(i, 1)` is an
int, `torch.append(xs, x)` a list append, `torch.slice(xs, 0, 2)` a list slice); `prim` ops,
`annotate`, `unchecked_cast`, `uninitialized`, dtypes as ScalarType numbers. The classes
derive from torch.jit.RecursiveScriptModule (an nn.Module), so the scripted submodule is an
nn.Module inside the eager model; its parameters, buffers and submodules are the pickled
ones. Anything this cannot run (an op the torch layer lacks, a custom C++ class, an unknown
construct) raises torch.jit.UnsupportedScriptError naming it and the scripted function.
"""

import __future__
import builtins
import io
import math
import pickle
import sys
import types
import typing
import warnings

import torch

_CODE = ".data/ts_code/code/"


class UnsupportedScriptError(NotImplementedError):
    """A TorchScript construct wasmdeploy cannot run; the message names it."""

    __module__ = "torch.jit"


def _where():
    """'__torch__.x.Cls.method' of the innermost TorchScript frame, if any."""
    f = sys._getframe(1)
    while f is not None:
        fn = f.f_code.co_filename
        if fn.startswith("<torchscript "):
            return f"{fn[len('<torchscript '):-1]}: {f.f_code.co_name}"
        f = f.f_back
    return "TorchScript code"


def _unsupported(what):
    return UnsupportedScriptError(f"{what} (in {_where()}) is not supported by wasmdeploy")


# ----- ScalarType numbers (c10/core/ScalarType.h) -----
_SCALAR_TYPES = {
    0: "uint8", 1: "int8", 2: "int16", 3: "int32", 4: "int64", 5: "float16", 6: "float32", 7: "float64",
    11: "bool", 15: "bfloat16",
}
_CODE_OF = {v: k for k, v in _SCALAR_TYPES.items()}


def _dtype(x):
    if isinstance(x, int) and not isinstance(x, bool):
        name = _SCALAR_TYPES.get(x)
        if name is None:
            raise _unsupported(f"ScalarType {x}")
        return getattr(torch, name)
    return x


def _fix_kwargs(kwargs):
    if "dtype" in kwargs:
        kwargs["dtype"] = _dtype(kwargs["dtype"])
    for k in ("layout", "memory_format", "pin_memory"):
        if k in kwargs and (kwargs[k] is None or isinstance(kwargs[k], int)):
            del kwargs[k]
    return kwargs


def _is_num(x):
    return isinstance(x, (int, float, bool))


def _any_tensor(args):
    for a in args:
        if isinstance(a, torch.Tensor):
            return True
    return False


# ----- aten ops with TorchScript's meaning -----
def _numeric(name, py):
    """An aten op that is Python's on numbers, strings and lists, the torch layer's on tensors."""
    def f(*args, **kwargs):
        if not _any_tensor(args) and not _any_tensor(kwargs.values()):
            return py(*args, **kwargs)
        return _tensor_op(name)(*args, **kwargs)

    f.__name__ = name
    return f


def _div(a, b, rounding_mode=None):
    if rounding_mode == "floor":
        return a // b
    if rounding_mode == "trunc":
        return float(math.trunc(a / b))
    return a / b


def _pow(a, b):
    r = a ** b
    return float(r) if isinstance(a, int) and isinstance(b, int) else r


def _slice(x, *args, **kwargs):
    if isinstance(x, (list, str, tuple)):
        start = kwargs.get("start", args[0] if len(args) > 0 else None)
        end = kwargs.get("end", args[1] if len(args) > 1 else None)
        step = kwargs.get("step", args[2] if len(args) > 2 else 1)
        return x[start:end:step]
    dim = kwargs.get("dim", args[0] if len(args) > 0 else 0)
    start = kwargs.get("start", args[1] if len(args) > 1 else None)
    end = kwargs.get("end", args[2] if len(args) > 2 else None)
    step = kwargs.get("step", args[3] if len(args) > 3 else 1)
    dim = dim + x.dim() if dim < 0 else dim
    return x[(slice(None),) * dim + (slice(start, end, step),)]


def _size(x, dim=None):
    if dim is None:
        return list(x.shape)
    return x.size(dim)


def _len(x):
    if isinstance(x, torch.Tensor):
        if x.dim() == 0:
            raise TypeError("len() of a 0-d tensor")
        return x.shape[0]
    return len(x)


def _append(xs, x):
    xs.append(x)
    return xs


def _to(x, *args, **kwargs):
    kwargs = _fix_kwargs(dict(kwargs))
    kwargs.pop("non_blocking", None)
    copy = kwargs.pop("copy", False)
    pos = []
    for a in args:
        if isinstance(a, bool):
            continue  # non_blocking, copy
        if isinstance(a, int):
            pos.append(_dtype(a))
        elif a is None:
            continue
        else:
            pos.append(a)
    out = x.to(*pos, **kwargs)
    return out.clone() if copy and out is x else out


def _index(x, indices):
    return x[tuple(slice(None) if i is None else i for i in indices)]


def _index_put_(x, indices, values, accumulate=False):
    return x.index_put_(tuple(slice(None) if i is None else i for i in indices), values, accumulate)


def _index_put(x, indices, values, accumulate=False):
    return x.clone().index_put_(tuple(slice(None) if i is None else i for i in indices), values, accumulate)


def _set_item(container, key, value):
    container[key] = value
    return container


def _raise(msg, cls="builtins.RuntimeError"):
    from . import Error

    raise Error(f"{cls}: {msg}" if cls else msg)


def _warn(msg, stacklevel=2):
    warnings.warn(msg, stacklevel=stacklevel)


def _upsample(mode, has_align=True, antialias=False):
    F = torch.nn.functional

    def up(input, output_size=None, *args):
        align = None
        if has_align:
            align, *args = args if args else (False,)
        scales = args[0] if args else None
        if scales is not None and not isinstance(scales, (list, tuple)):  # the per-dim scalar overloads
            scales = list(args)
            scales = [x for x in scales if x is not None] or None
            if output_size is not None:
                scales = None
        return F.interpolate(input, size=output_size if output_size is not None else None,
                             scale_factor=None if output_size is not None else scales, mode=mode,
                             align_corners=align if has_align else None, antialias=antialias)

    return up


def _aten_nn():
    F = torch.nn.functional

    def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled=True):
        return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)

    def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
        return F.layer_norm(input, normalized_shape, weight, bias, eps)

    def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
        return F.group_norm(input, num_groups, weight, bias, eps)

    def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled=True):
        return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)

    def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
        return F.embedding(indices, weight)

    def dropout(input, p, train):
        return F.dropout(input, p, train)

    out = {"batch_norm": batch_norm, "layer_norm": layer_norm, "group_norm": group_norm,
           "instance_norm": instance_norm, "embedding": embedding, "dropout": dropout, "linear": F.linear}
    for name, mode, align, aa in (
        ("upsample_nearest1d", "nearest", False, False), ("upsample_nearest2d", "nearest", False, False),
        ("upsample_nearest3d", "nearest", False, False), ("_upsample_nearest_exact1d", "nearest-exact", False, False),
        ("_upsample_nearest_exact2d", "nearest-exact", False, False), ("_upsample_nearest_exact3d", "nearest-exact", False, False),
        ("upsample_linear1d", "linear", True, False), ("upsample_bilinear2d", "bilinear", True, False),
        ("upsample_trilinear3d", "trilinear", True, False), ("upsample_bicubic2d", "bicubic", True, False),
        ("_upsample_bilinear2d_aa", "bilinear", True, True), ("_upsample_bicubic2d_aa", "bicubic", True, True),
    ):
        out[name] = _upsample(mode, align, aa)
    return out


_SPECIAL = None


def _specials():
    global _SPECIAL
    if _SPECIAL is None:
        py = {
            "add": lambda a, b, alpha=1: a + b * alpha if alpha != 1 else a + b,
            "sub": lambda a, b, alpha=1: a - b * alpha if alpha != 1 else a - b,
            "mul": lambda a, b: a * b, "div": _div, "floordiv": lambda a, b: a // b,
            "remainder": lambda a, b: a % b, "fmod": math.fmod, "pow": _pow, "neg": lambda a: -a,
            "abs": abs, "floor": math.floor, "ceil": math.ceil, "sqrt": math.sqrt, "exp": math.exp,
            "log": math.log, "sin": math.sin, "cos": math.cos, "tanh": math.tanh,
            "round": lambda a: float(round(a)),
            "eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "lt": lambda a, b: a < b,
            "le": lambda a, b: a <= b, "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
            "min": lambda *a: min(*a), "max": lambda *a: max(*a), "sum": lambda xs: sum(xs),
        }
        s = {name: _numeric(name, fn) for name, fn in py.items()}
        s.update({
            "slice": _slice, "size": _size, "len": _len, "append": _append, "to": _to,
            "select": lambda x, dim, index: x[index] if isinstance(x, list) else x.select(dim, index),
            "dim": lambda x: x.dim(), "numel": lambda x: x.numel(),
            "copy_": lambda x, src, non_blocking=False: x.copy_(src),
            "__is__": lambda a, b: a is b, "__isnot__": lambda a, b: a is not b, "__not__": lambda a: not a,
            "__and__": _numeric("__and__", lambda a, b: a and b), "__or__": _numeric("__or__", lambda a, b: a or b),
            "__contains__": lambda c, x: x in c, "__getitem__": lambda c, i: c[i],
            "__range_length": lambda lo, hi, step: len(range(lo, hi, step)),
            "__derive_index": lambda index, start, step: start + index * step,
            "list": list, "str": str, "format": lambda fmt, *a: fmt.format(*a), "warn": _warn,
            "_set_item": _set_item, "get": lambda d, k, default=None: d.get(k, default),
            "setdefault": lambda d, k, default: d.setdefault(k, default),
            "keys": lambda d: list(d.keys()), "values": lambda d: list(d.values()),
            "items": lambda d: list(d.items()), "dict": lambda *a: dict(*a),
            "extend": lambda xs, ys: xs.extend(ys), "insert": lambda xs, i, x: xs.insert(i, x),
            "pop": lambda xs, *i: xs.pop(*i), "clear": lambda xs: xs.clear(),
            "Int": lambda x: int(x), "Float": lambda x: float(x), "Bool": lambda x: bool(x),
            "IntImplicit": lambda x: int(x), "FloatImplicit": lambda x: float(x),
            "ScalarImplicit": lambda x: x.item(),
            "index": _index, "index_put_": _index_put_, "index_put": _index_put,
            "contiguous": lambda x, memory_format=0: x.contiguous(),
            "clone": lambda x, memory_format=None: x.clone(),
            "expand": lambda x, size, implicit=False: x.expand(size),
            "device": lambda *a, **k: torch.device(*a, **k),
            "tensor": lambda data, dtype=None, device=None, requires_grad=False: torch.tensor(data, dtype=_dtype(dtype)),
        })
        s.update(_aten_nn())
        _SPECIAL = s
    return _SPECIAL


def _tensor_op(name):
    """The torch layer's op `name`, taking TorchScript's argument conventions (dtype numbers)."""
    from torch._ops.registry import _resolve_aten

    fn = _resolve_aten(name)
    if fn is None:
        fn = getattr(torch.Tensor, name, None) if not name.startswith("__") else None
    if fn is None or not callable(fn):
        def missing(*args, **kwargs):
            raise _unsupported(f"aten::{name}")

        return missing

    def call(*args, **kwargs):
        if kwargs:
            kwargs = _fix_kwargs(dict(kwargs))
        try:
            return fn(*args, **kwargs)
        except torch._tensor._Unsupported as e:
            raise _unsupported(f"aten::{name} ({e})") from e

    call.__name__ = name
    return call


class _TorchNamespace:
    """`torch` inside TorchScript code."""

    Tensor = torch.Tensor
    device = torch.device

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__") and name not in _specials():
            raise AttributeError(name)
        fn = _specials().get(name)
        if fn is None:
            fn = _tensor_op(name)
        setattr(self, name, fn)
        return fn


def _prim():
    def dtype(t):
        return _CODE_OF[t.dtype.name]

    return {
        "NumToTensor": lambda x: torch.tensor(x), "unchecked_unwrap_optional": lambda x: x,
        "dtype": dtype, "device": lambda t: torch.device("cpu"), "is_cuda": lambda t: False,
        "requires_grad": lambda t: False, "data": lambda t: t, "shape": lambda t: list(t.shape),
        "min": _numeric("min", lambda *a: min(*a)), "max": _numeric("max", lambda *a: max(*a)),
        "abs": abs, "RaiseException": _raise, "layout": lambda t: 0, "is_quantized": lambda t: False,
        "is_sparse": lambda t: False, "is_mkldnn": lambda t: False, "is_meta": lambda t: False,
        "grad": lambda t: None, "name": lambda t: None, "Uninitialized": lambda: None,
        "unchecked_cast": lambda x: x, "TupleUnpack": lambda t: t, "tolist": lambda t, dim=None, elem=None: t.tolist(),
    }


class _OpsNS:
    def __init__(self, ns):
        self._ns = ns

    def __getattr__(self, name):
        if self._ns == "prim":
            fn = _prim().get(name)
            if fn is None:
                raise _unsupported(f"prim::{name}")
        elif self._ns == "aten":
            fn = _specials().get(name) or _tensor_op(name)
        else:
            try:
                fn = getattr(getattr(torch.ops, self._ns), name)
            except AttributeError:
                raise _unsupported(f"{self._ns}::{name}") from None
        setattr(self, name, fn)
        return fn


class _Ops:
    def __getattr__(self, ns):
        v = _OpsNS(ns)
        setattr(self, ns, v)
        return v


def annotate(the_type, the_value):
    return the_value


def unchecked_cast(the_type, the_value):
    return the_value


def uninitialized(the_type):
    return None


class _Constants:
    def __init__(self, values):
        for i, v in enumerate(values):
            setattr(self, f"c{i}", v)

    def __getattr__(self, name):
        raise _unsupported(f"CONSTANTS.{name} (a constant the archive does not hold)")


class _Interface:
    pass


def _isinstance(obj, types_):
    def check(t):
        if t is typing.Any:
            return True
        origin = typing.get_origin(t)
        if origin is not None:
            if origin is typing.Union:
                return any(check(a) for a in typing.get_args(t))
            return isinstance(obj, origin)
        if t is type(None):
            return obj is None
        return isinstance(obj, t)

    if isinstance(types_, tuple):
        return any(check(t) for t in types_)
    return check(types_)


class _Namespace:
    """`__torch__` and its sub-packages: the archive's code files, loaded on first use."""

    def __init__(self, cu, parts):
        self._cu = cu
        self._parts = parts

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        v = self._cu.lookup(self._parts + [name])
        setattr(self, name, v)
        return v


class _CodeModule(types.ModuleType):
    """A code file's namespace; a name it does not define may be a file below it (TorchScript
    writes __torch__/torch/nn/functional.py and __torch__/torch/nn/functional/___torch_mangle_1.py)."""

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__") or name in ("_cu", "_parts"):
            raise AttributeError(name)
        return self._cu.lookup(self._parts + [name])


class CompilationUnit:
    """The TorchScript code of one script module of an archive (its constants differ per id)."""

    def __init__(self, importer, script_id):
        self.importer = importer
        self.files = importer.files
        self.script_id = script_id
        self.modules = {}
        self.root = _Namespace(self, ["__torch__"])
        consts = self.files.get(f".data/ts_code/{script_id}/constants.pkl")
        self.constants = _Constants(self.unpickle(consts) if consts is not None else ())

    def lookup(self, parts):
        try:
            return self._lookup(parts)
        except UnsupportedScriptError:
            # inside a class body Python mangles `x.___torch_mangle_1` to `x._Cls___torch_mangle_1`
            last = parts[-1]
            if last.startswith("_"):
                for i in range(2, len(last) - 1):
                    if last[i : i + 2] == "__" and last[i - 1] != "_":
                        try:
                            return self._lookup(parts[:-1] + [last[i:]])
                        except UnsupportedScriptError:
                            pass
            raise

    def _lookup(self, parts):
        path = "/".join(parts)
        if _CODE + path + ".py" in self.files:
            return self.module(parts)
        if any(p.startswith(_CODE + path + "/") for p in self.files):
            return _Namespace(self, parts)
        parent = parts[:-1]
        if _CODE + "/".join(parent) + ".py" in self.files:
            mod = self.module(parent)
            if parts[-1] in mod.__dict__:
                return mod.__dict__[parts[-1]]
        if parts[:2] == ["__torch__", "torch"] and parts[2:3] == ["classes"]:
            raise _unsupported("custom C++ class " + ".".join(parts[3:]))
        raise _unsupported("TorchScript type " + ".".join(parts) + " (not in the archive's code)")

    def module(self, parts):
        name = ".".join(parts)
        mod = self.modules.get(name)
        if mod is not None:
            return mod
        path = _CODE + "/".join(parts) + ".py"
        source = self.files[path].decode("utf-8")
        mod = _CodeModule(name)
        mod._cu, mod._parts = self, parts
        mod.__dict__.update(self.namespace())
        mod.__dict__["__name__"] = name
        self.modules[name] = mod
        code = compile(source, f"<torchscript {name}>", "exec", flags=__future__.annotations.compiler_flag, dont_inherit=True)
        exec(code, mod.__dict__)
        for v in list(mod.__dict__.values()):
            if isinstance(v, type) and v.__module__ == name:
                v.__qualname__ = v.__name__
                v._ts_source = source
        return mod

    def namespace(self):
        from . import RecursiveScriptModule

        cu = self

        def ts_import(name, globals=None, locals=None, fromlist=(), level=0):
            if name == "__torch__" or name.startswith("__torch__."):
                return cu.root
            return builtins.__import__(name, globals, locals, fromlist, level)

        b = dict(builtins.__dict__)
        b["__import__"] = ts_import
        b["isinstance"] = _isinstance
        return {
            "__builtins__": b, "torch": _TS_TORCH, "ops": _TS_OPS, "__torch__": self.root,
            "annotate": annotate, "unchecked_cast": unchecked_cast, "uninitialized": uninitialized,
            "Module": RecursiveScriptModule, "Tensor": torch.Tensor, "List": typing.List, "Dict": typing.Dict,
            "Optional": typing.Optional, "Tuple": typing.Tuple, "Union": typing.Union, "Any": typing.Any,
            "Final": typing.Final, "NoneType": type(None), "number": float, "Device": torch.device,
            "Future": object, "NamedTuple": typing.NamedTuple, "Enum": __import__("enum").Enum,
            "Interface": _Interface, "CONSTANTS": self.constants, "inf": math.inf, "nan": math.nan,
            "math": math, "int": int, "float": float, "bool": bool, "str": str,
        }

    def find_class(self, module, name):
        if module == "__torch__" or module.startswith("__torch__."):
            return self.lookup(module.split(".") + [name])
        if module == "__builtin__":
            module = "builtins"
        __import__(module)
        obj = sys.modules[module]
        for part in name.split("."):
            obj = getattr(obj, part)
        return obj

    def unpickle(self, data):
        from wasmdeploy_runtime import package_importer

        cu = self

        class Unpickler(pickle.Unpickler):
            def find_class(self, module, name):
                return cu.find_class(module, name)

            def persistent_load(self, saved_id):
                if saved_id[0] != "storage":
                    raise pickle.UnpicklingError(f"unknown persistent id {saved_id[0]!r} in TorchScript data")
                key = saved_id[2]
                if key.endswith(".storage"):
                    key = key[: -len(".storage")]
                return package_importer.storage_loader(cu.importer, (saved_id[0], saved_id[1], key) + tuple(saved_id[3:]))

        return Unpickler(io.BytesIO(data)).load()


_TS_TORCH = _TorchNamespace()
_TS_OPS = _Ops()


def unpackage_script_module(importer, script_module_id):
    """torch.jit._script.unpackage_script_module: the ScriptModule pickled with id
    `script_module_id` in the archive `importer` reads."""
    cache = importer.__dict__.setdefault("_ts_units", {})
    cu = cache.get(script_module_id)
    if cu is None:
        cu = cache[script_module_id] = CompilationUnit(importer, script_module_id)
    data = importer.files.get(f".data/ts_code/{script_module_id}/data.pkl")
    if data is None:
        raise RuntimeError(f"the archive has no TorchScript module {script_module_id!r} (.data/ts_code/{script_module_id}/data.pkl)")
    return cu.unpickle(data)
