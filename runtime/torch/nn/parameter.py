"""torch.nn.Parameter for wasmdeploy (PyTorch 1.13 semantics).

A Parameter is a Tensor subclass that shares its data with the tensor it was made from.
Pickles rebuild it through torch._utils._rebuild_parameter(data, requires_grad, hooks)."""

from collections import OrderedDict

import torch
from torch import Tensor
from torch._C import _disabled_torch_function_impl

__all__ = ["Parameter", "UninitializedParameter", "is_lazy", "UninitializedBuffer"]


def _make_subclass(cls, data, requires_grad):
    """A `cls` instance sharing `data`'s contents (torch.Tensor._make_subclass)."""
    make = getattr(Tensor, "_make_subclass", None)
    if make is not None:
        return make(cls, data, requires_grad)
    raise NotImplementedError("torch.Tensor._make_subclass is missing from the tensor layer")


class Parameter(Tensor):
    r"""A kind of Tensor that is to be considered a module parameter."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = torch.empty(0)
        return _make_subclass(cls, data, requires_grad)

    def __init__(self, *args, **kwargs):
        # Tensor.__init__ must not run again on an instance built by __new__.
        pass

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self.requires_grad)
        memo[id(self)] = result
        return result

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, proto):
        return (torch._utils._rebuild_parameter, (self.data, self.requires_grad, OrderedDict()))

    __torch_function__ = _disabled_torch_function_impl


def is_lazy(param):
    return isinstance(param, UninitializedTensorMixin)


class UninitializedTensorMixin:
    def materialize(self, shape, device=None, dtype=None):
        if dtype is None:
            dtype = self.data.dtype
        self.data = torch.empty(shape, dtype=dtype)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. "
            "This error usually happens in `load_state_dict` when trying to load "
            "an uninitialized parameter into an initialized one. "
            "Call `forward` to initialize the parameters before accessing their attributes."
        )

    def share_memory_(self):
        raise RuntimeError(
            "Can't share memory on an uninitialized parameter or buffer. "
            "Call `forward` to initialize the parameters before calling "
            "`module.share_memory()`."
        )

    def __repr__(self):
        return f"<{self.__class__.__name__}>"

    def __reduce_ex__(self, proto):
        return (self.__class__, (self.requires_grad,))


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        data = torch.empty(0, dtype=dtype)
        return _make_subclass(cls, data, requires_grad)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None):
        data = torch.empty(0, dtype=dtype)
        return _make_subclass(cls, data, requires_grad)

    def __init__(self, *args, **kwargs):
        pass
