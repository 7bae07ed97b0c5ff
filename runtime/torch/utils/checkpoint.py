"""torch.utils.checkpoint for wasmdeploy.

Activation checkpointing only matters for training (it trades memory for recomputation in
backward). wasmdeploy runs inference without autograd, so ``checkpoint(fn, *args)`` is just
``fn(*args)``; the results are the same."""

import warnings
from typing import Any, Iterable, List, Tuple

__all__ = [
    "checkpoint",
    "checkpoint_sequential",
    "CheckpointFunction",
    "check_backward_validity",
    "detach_variable",
    "get_device_states",
    "set_device_states",
]


def detach_variable(inputs: Tuple[Any, ...]) -> Tuple[Any, ...]:
    if isinstance(inputs, tuple):
        out = []
        for inp in inputs:
            if not hasattr(inp, "detach"):
                out.append(inp)
                continue
            x = inp.detach()
            x.requires_grad = inp.requires_grad
            out.append(x)
        return tuple(out)
    raise RuntimeError("Only tuple of tensors is supported. Got Unsupported input type: ", type(inputs).__name__)


def check_backward_validity(inputs: Iterable[Any]) -> None:
    pass


def get_device_states(*args):
    return [], []


def set_device_states(devices, states) -> None:
    pass


class CheckpointFunction:
    @staticmethod
    def apply(run_function, preserve_rng_state, *args):
        return run_function(*args)


def checkpoint(function, *args, use_reentrant: bool = True, **kwargs):
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=True, **kwargs):
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if hasattr(functions, "children") and callable(functions.children):
        functions = list(functions.children())
    for f in functions:
        input = f(input)
    return input
