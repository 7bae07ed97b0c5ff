"""torch.overrides for wasmdeploy: there are no __torch_function__ subclasses here, so the
checks model code makes are always False and handle_torch_function is never reached in
practice (it dispatches to the first overriding argument's __torch_function__ if called)."""

import functools
from typing import Any, Callable, Dict, Iterable

__all__ = [
    "get_ignored_functions",
    "get_overridable_functions",
    "get_testing_overrides",
    "handle_torch_function",
    "has_torch_function",
    "has_torch_function_unary",
    "has_torch_function_variadic",
    "is_tensor_like",
    "is_tensor_method_or_property",
    "wrap_torch_function",
]


def has_torch_function(relevant_args: Iterable[Any]) -> bool:
    return False


def has_torch_function_unary(arg) -> bool:
    return False


def has_torch_function_variadic(*args) -> bool:
    return False


def _get_overloaded_args(relevant_args):
    import torch

    out = []
    for arg in relevant_args:
        tf = getattr(type(arg), "__torch_function__", None)
        if tf is None or isinstance(arg, type):
            continue
        base = getattr(torch.Tensor, "__torch_function__", None)
        if base is not None and tf is base:
            continue
        if type(arg) not in [type(a) for a in out]:
            out.append(arg)
    return out


def handle_torch_function(public_api: Callable, relevant_args: Iterable[Any], *args, **kwargs) -> Any:
    overloaded_args = _get_overloaded_args(relevant_args)
    types = tuple(map(type, overloaded_args))
    for overloaded_arg in overloaded_args:
        result = type(overloaded_arg).__torch_function__(public_api, types, args, kwargs)
        if result is not NotImplemented:
            return result
    func_name = "{}.{}".format(public_api.__module__, public_api.__name__)
    raise TypeError(
        "no implementation found for '{}' on types that implement __torch_function__: {}".format(
            func_name, [type(arg) for arg in overloaded_args]
        )
    )


def is_tensor_like(inp) -> bool:
    import torch

    return type(inp) is torch.Tensor or hasattr(inp, "__torch_function__") and isinstance(inp, torch.Tensor)


def is_tensor_method_or_property(func: Callable) -> bool:
    import torch

    return func in vars(torch.Tensor).values() or getattr(func, "__name__", None) == "__get__"


def wrap_torch_function(dispatcher: Callable):
    def inner(func):
        @functools.wraps(func)
        def wrapped(*args, **kwargs):
            return func(*args, **kwargs)

        return wrapped

    return inner


def get_ignored_functions():
    return set()


def get_overridable_functions() -> Dict[Any, list]:
    return {}


def get_testing_overrides() -> Dict[Callable, Callable]:
    return {}


class TorchFunctionMode:
    def __torch_function__(self, func, types, args=(), kwargs=None):
        raise NotImplementedError()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        return None
