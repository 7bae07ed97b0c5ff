"""torch._utils for wasmdeploy: the rebuild functions pickles call (PyTorch 1.13 names and
signatures, plus the 2.x additions), and the helpers libraries import from here.

A pickled tensor arrives as ``_rebuild_tensor_v2(storage, storage_offset, size, stride,
requires_grad, backward_hooks, metadata=None)`` where ``storage`` is what the package
importer's storage loader returned for the persistent id ``('storage', torch.FloatStorage,
key, location, numel)``: a ``torch._storage.Storage`` (engine-resident, stable). Contiguous
tensors become concrete tensors over that storage at the offset; other strides (transposed,
expanded, general) become views recorded over the whole storage.
"""

import sys
import traceback
import warnings
from collections import OrderedDict
from typing import Any, List, Optional

import torch


# ---------------------------------------------------------------- rebuilding tensors
def _storage_dtype(storage, dtype=None):
    if dtype is not None:
        return dtype
    d = getattr(storage, "dtype", None)
    if isinstance(d, str):
        return torch._dtype.from_name(d)
    if d is None:
        raise TypeError(f"cannot rebuild a tensor from {storage!r}: the storage has no dtype")
    return d


def _retype_storage(storage, dtype):
    """An untyped (byte) storage seen as `dtype` elements (torch 2.x pickles)."""
    from torch._storage import Storage

    name = storage.dtype if isinstance(storage.dtype, str) else storage.dtype.name
    if name == dtype.name:
        return storage
    if name != "uint8":
        raise TypeError(f"cannot view a {name} storage as {dtype}")
    return Storage(storage.id, dtype.name, storage.numel // dtype.itemsize, storage.stable)


def _strided_view(storage, storage_offset, size, stride, dtype):
    """A tensor reading `size` elements at `stride` from `storage` (as_strided semantics):
    concrete when contiguous, else a view recorded over the storage."""
    return torch.Tensor._from_storage(storage, int(storage_offset), tuple(size), dtype, tuple(stride))


def _finish(tensor, requires_grad, backward_hooks):
    if requires_grad:
        try:
            tensor.requires_grad = requires_grad
        except (AttributeError, RuntimeError, NotImplementedError):
            pass
    if backward_hooks:
        try:
            tensor._backward_hooks = backward_hooks
        except AttributeError:
            pass
    return tensor


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _strided_view(storage, storage_offset, size, stride, _storage_dtype(storage))


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    tensor = _rebuild_tensor(storage, storage_offset, size, stride)
    return _finish(tensor, requires_grad, backward_hooks)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    """torch 2.x: an untyped storage plus the element dtype."""
    storage = _retype_storage(storage, dtype)
    tensor = _strided_view(storage, storage_offset, size, stride, dtype)
    return _finish(tensor, requires_grad, backward_hooks)


def _unsupported(what):
    return NotImplementedError(f"torch._utils.{what}: this kind of pickled tensor is not supported by wasmdeploy")


def _validate_loaded_sparse_tensors():
    pass


def _rebuild_sparse_tensor(layout, data):
    raise _unsupported("_rebuild_sparse_tensor (sparse tensors)")


def _rebuild_sparse_csr_tensor(layout, data):
    raise _unsupported("_rebuild_sparse_csr_tensor (sparse tensors)")


def _rebuild_device_tensor_from_numpy(data, dtype, device, requires_grad):
    raise _unsupported("_rebuild_device_tensor_from_numpy (numpy-backed tensors)")


_rebuild_xla_tensor = _rebuild_device_tensor_from_numpy
_rebuild_mps_tensor = _rebuild_device_tensor_from_numpy


def _rebuild_meta_tensor_no_storage(dtype, size, stride, requires_grad):
    raise _unsupported("_rebuild_meta_tensor_no_storage (meta tensors)")


def _rebuild_wrapper_subclass(cls, dtype, size, stride, storage_offset, layout, device, requires_grad):
    raise _unsupported("_rebuild_wrapper_subclass (tensor wrapper subclasses)")


def _rebuild_qtensor(storage, storage_offset, size, stride, quantizer_params, requires_grad, backward_hooks):
    raise _unsupported("_rebuild_qtensor (quantized tensors)")


def _rebuild_nested_tensor(buffer, sizes, strides, storage_offsets):
    raise _unsupported("_rebuild_nested_tensor (nested tensors)")


def _set_obj_state(obj, state):
    if isinstance(state, tuple):
        if not len(state) == 2:
            raise RuntimeError(f"Invalid serialized state: {state}")
        dict_state = state[0]
        slots_state = state[1]
    else:
        dict_state = state
        slots_state = None
    if dict_state:
        for k, v in dict_state.items():
            setattr(obj, k, v)
    if slots_state:
        for k, v in slots_state.items():
            setattr(obj, k, v)
    return obj


def _rebuild_parameter(data, requires_grad, backward_hooks):
    param = torch.nn.Parameter(data, requires_grad)
    # NB: This line exists only for backwards compatibility; the
    # general expectation is that backward_hooks is an empty
    # OrderedDict.  See Note [Don't serialize hooks]
    if backward_hooks:
        try:
            param._backward_hooks = backward_hooks
        except AttributeError:
            pass
    return param


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    param = _rebuild_parameter(data, requires_grad, backward_hooks)
    return _set_obj_state(param, state)


def _as_subclass(tensor, cls):
    if type(tensor) is cls:
        return tensor
    as_subclass = getattr(tensor, "as_subclass", None)
    if as_subclass is not None:
        return as_subclass(cls)
    return torch.Tensor._make_subclass(cls, tensor, getattr(tensor, "requires_grad", False))


def _rebuild_from_type(func, type, args, dict):
    if type is torch.Tensor:
        return func(*args)
    ret = _as_subclass(func(*args), type)
    ret.__dict__ = dict
    return ret


def _rebuild_from_type_v2(func, new_type, args, state):
    ret = func(*args)
    if type(ret) is not new_type:
        ret = _as_subclass(ret, new_type)
    # Tensor subclasses may define __setstate__ (as in PyTorch's _rebuild_from_type_v2).
    if getattr(ret.__class__, "__setstate__", None) is not getattr(torch.Tensor, "__setstate__", None) and hasattr(
        ret.__class__, "__setstate__"
    ):
        ret.__setstate__(state)
    else:
        ret = _set_obj_state(ret, state)
    return ret


# ---------------------------------------------------------------- helpers libraries import
def _type(self, dtype=None, non_blocking=False, **kwargs):
    if dtype is None:
        return self.__module__ + "." + self.__class__.__name__
    if isinstance(dtype, str):
        dtype = _import_dotted_name(dtype)
    return self.to(dtype)


def _cuda(self, device=None, non_blocking=False, **kwargs):
    raise NotImplementedError("torch.Tensor.cuda: CUDA is not supported by wasmdeploy")


def _get_async_or_non_blocking(function_name, non_blocking, kwargs):
    if not kwargs:
        return non_blocking
    if len(kwargs) != 1 or "async" not in kwargs:
        message = "{}() got an unexpected keyword argument '{}'"
        argument = list(kwargs.keys()).pop()
        raise TypeError(message.format(function_name, argument))
    warnings.warn("'async' is deprecated; use 'non_blocking'")
    return kwargs["async"]


def _import_dotted_name(name):
    components = name.split(".")
    obj = __import__(components[0])
    for component in components[1:]:
        obj = getattr(obj, component)
    return obj


def _accumulate(iterable, fn=lambda x, y: x + y):
    it = iter(iterable)
    try:
        total = next(it)
    except StopIteration:
        return
    yield total
    for element in it:
        total = fn(total, element)
        yield total


def _flatten_dense_tensors(tensors):
    return torch.cat([t.reshape(-1) for t in tensors], 0) if len(tensors) != 1 else tensors[0].reshape(-1)


def _unflatten_dense_tensors(flat, tensors):
    outputs = []
    offset = 0
    for tensor in tensors:
        numel = tensor.numel()
        if numel == 0:
            outputs.append(torch.empty_like(tensor))
        else:
            outputs.append(flat.narrow(0, offset, numel).view_as(tensor))
            offset += numel
    return tuple(outputs)


def _reorder_tensors_as(tensors, ordered_tensors):
    type_dict = OrderedDict()
    for tensor in tensors:
        type_dict.setdefault(tensor.type(), []).append(tensor)
    type_dict_ = {t: iter(coll) for t, coll in type_dict.items()}
    return tuple(next(type_dict_[tensor.type()]) for tensor in ordered_tensors)


def annotate(ret, **kwargs):
    def dec(fun):
        fun.__annotations__ = dict(kwargs)
        fun.__annotations__["return"] = ret
        return fun

    return dec


class KeyErrorMessage(str):
    def __repr__(self):
        return self


class ExceptionWrapper:
    def __init__(self, exc_info=None, where="in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = "Caught {} {}.\nOriginal {}".format(self.exc_type.__name__, self.where, self.exc_msg)
        if self.exc_type == KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except TypeError:
            raise RuntimeError(msg) from None
        raise exception


def _get_available_device_type():
    return None


def _get_device_attr(get_member):
    return None


def _get_current_device_index():
    return -1


def _get_all_device_indices():
    return []


def _get_devices_properties(device_ids):
    return []


def get_current_device_index() -> int:
    return -1


def _get_device_index(device: Any, optional: bool = False, allow_cpu: bool = False) -> int:
    if isinstance(device, str):
        device = torch.device(device)
    device_idx: Optional[int] = None
    if isinstance(device, torch.device):
        if not allow_cpu and device.type == "cpu":
            raise ValueError("Expected a non cpu device, but got: {}".format(device))
        device_idx = -1 if device.type == "cpu" else device.index
    if isinstance(device, int):
        device_idx = device
    if device_idx is None:
        if optional:
            device_idx = _get_current_device_index()
        else:
            raise ValueError("Expected a torch.device with a specified index or an integer, but got:{}".format(device))
    return device_idx


def _handle_complex(tensor):
    return tensor


def _element_size(dtype):
    if not isinstance(dtype, torch.dtype):
        raise RuntimeError(f"expected torch.dtype, but got {type(dtype)}")
    return dtype.itemsize


class _ClassPropertyDescriptor:
    def __init__(self, fget, fset=None):
        self.fget = fget

    def __get__(self, instance, owner=None):
        if owner is None:
            owner = type(instance)
        return self.fget.__get__(instance, owner)()


def classproperty(func):
    if not isinstance(func, (classmethod, staticmethod)):
        func = classmethod(func)
    return _ClassPropertyDescriptor(func)


def is_compiling():
    return False
