"""Tensors at the interpreter's edges: storages in pickles, tensors to and from the host.

- Pickled tensors: torch.package's persistent id ('storage', storage_type, key, location,
  numel) becomes a stable Storage "<package id>/<key>"; the host registers its bytes in the
  engine once per process, so every interpreter shares one copy of the weights.
- Host inputs arrive as {"$x": "tensor", storage, dtype, shape}: the data stays on the host.
- Tensors in a result are materialized together (one graph) and leave as storage ids; the
  host copies the data out of its own store. Nothing passes through Python's heap.

torch is imported when this module is (before the boot snapshot, so it costs nothing per
interpreter). If that import fails, plain Python still works and the first tensor use
raises the import error.
"""

import math
import contextlib

from . import package_importer, wire

try:
    import torch
    from torch import _backend, _graph, _replay
    from torch._dtype import from_name
    from torch._storage import Storage

    _Tensor = torch.Tensor
    _import_error = None
except Exception as e:  # the torch layer is broken: keep the interpreter usable for plain Python
    torch = None
    _import_error = e


def _require_torch():
    if torch is None:
        raise RuntimeError(f"the torch layer failed to import in this interpreter: {_import_error!r}") from _import_error


def _dtype_of_storage_type(storage_type, dtype=None):
    if dtype is not None:
        return dtype
    d = getattr(storage_type, "dtype", None)
    if d is None:  # torch 2.x UntypedStorage
        return torch.uint8
    return d


def load_storage(importer, saved_id):
    """package_importer's storage hook."""
    _require_torch()
    _, storage_type, key, _location, numel = saved_id[:5]
    dtype = _dtype_of_storage_type(storage_type)
    return Storage(f"{importer.storage_prefix}/{key}", dtype.name, numel, True)


def _encode_tensor(t, buffers):
    concrete = t._concrete()
    if concrete is None:
        _graph.materialize([t])
        concrete = t._concrete()
    storage, offset = concrete
    return {"storage": storage.id, "offset": offset, "dtype": t.dtype.name, "shape": list(t.shape)}


_decoded = {}  # storage id -> Tensor decoded in this operation


def _decode_tensor(fields, buffers):
    _require_torch()
    # The host sends a tensor passed twice once: both arguments are one tensor here too, as in
    # PyTorch (an in-place change through one shows through the other).
    t = _decoded.get(fields["storage"])
    if t is not None:
        return t
    dtype = from_name(fields["dtype"])
    shape = tuple(fields["shape"])
    storage = Storage(fields["storage"], fields["dtype"], math.prod(shape), False)
    t = _decoded[fields["storage"]] = torch.Tensor._from_storage(storage, 0, shape, dtype)
    return t


def _collect(value, out, depth=0):
    if depth > wire.MAX_DEPTH:
        return
    if isinstance(value, _Tensor):
        out.append(value)
        return
    fields = wire.record_fields(value)
    if fields is not None:
        for _, v in fields:
            _collect(v, out, depth + 1)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _collect(v, out, depth + 1)
    elif isinstance(value, dict):
        for v in value.values():
            _collect(v, out, depth + 1)


def prepare_result(value):
    """Materialize every tensor in a result in one graph before it is encoded."""
    if torch is None:
        return
    found = []
    _collect(value, found)
    lazy = [t for t in found if t._concrete() is None]
    if lazy:
        _graph.materialize(lazy)


def replayed_call(site, obj, fn, args, kwargs, package_dicts):
    """A call of a replicated object, replayed from its recording when the guards pass."""
    if torch is None:
        return fn(*args, **kwargs)
    return _replay.call(site, obj, fn, args, kwargs, package_dicts)


def decoded():
    """The request is decoded: its tensors are the call's to keep or drop."""
    _decoded.clear()


def begin_op():
    _decoded.clear()
    if torch is not None:
        _replay.begin_op()


def want_plans(on):
    """Whether this call may make a host replay plan (not when the host replays nothing)."""
    if torch is not None:
        _replay.plans_wanted = on


def take_plan():
    """The host replay plan of this operation's call (JSON text), if it made one."""
    if torch is None:
        return None
    p = _replay.plan
    _replay.plan = None
    return p


def forget_replays(prefix):
    if torch is not None:
        _replay.forget(prefix)


def hops_start():
    """Start per-hop timing in the torch layer; returns the dict it fills."""
    if torch is None:
        return {}
    _graph.hops = {}
    return _graph.hops


def hops_stop():
    if torch is not None:
        _graph.hops = None


def inference():
    """The context calls run in: torch.no_grad() when the torch layer is available."""
    return torch.no_grad() if torch is not None else contextlib.nullcontext()


def set_eager(on):
    """Debug mode: materialize after every op."""
    _require_torch()
    _graph.set_eager(on)


def take_releases():
    return _backend.take_releases() if torch is not None else []


if torch is not None:
    package_importer.storage_loader = load_storage
    wire.register_extension("tensor", _Tensor, _encode_tensor, _decode_tensor)
