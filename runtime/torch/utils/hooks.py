"""torch.utils.hooks (PyTorch 1.13): RemovableHandle and friends. No autograd here, so
BackwardHook only keeps the interface."""

import warnings
import weakref
from collections import OrderedDict
from typing import Any

__all__ = ["RemovableHandle", "unserializable_hook", "warn_if_has_hooks", "BackwardHook"]


class RemovableHandle:
    """A handle which provides the capability to remove a hook."""

    id: int
    next_id: int = 0

    def __init__(self, hooks_dict: Any) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1

    def remove(self) -> None:
        hooks_dict = self.hooks_dict_ref()
        if hooks_dict is not None and self.id in hooks_dict:
            del hooks_dict[self.id]

    def __getstate__(self):
        return (self.hooks_dict_ref(), self.id)

    def __setstate__(self, state) -> None:
        if state[0] is None:
            self.hooks_dict_ref = weakref.ref(OrderedDict())
        else:
            self.hooks_dict_ref = weakref.ref(state[0])
        self.id = state[1]
        RemovableHandle.next_id = max(RemovableHandle.next_id, self.id + 1)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, type: Any, value: Any, tb: Any) -> None:
        self.remove()


def unserializable_hook(f):
    f.__torch_unserializable__ = True
    return f


def warn_if_has_hooks(tensor):
    hooks = getattr(tensor, "_backward_hooks", None)
    if hooks:
        for k in hooks:
            hook = hooks[k]
            if not hasattr(k, "__torch_unserializable__"):
                warnings.warn(
                    "backward hook {} on tensor will not be serialized.  If this is expected, you can "
                    "decorate the function with @torch.utils.hooks.unserializable_hook "
                    "to suppress this warning".format(repr(hook))
                )


class BackwardHook:
    """Interface only: wasmdeploy has no autograd, so backward hooks never run."""

    def __init__(self, module, user_hooks):
        self.module = module
        self.user_hooks = user_hooks

    def setup_input_hook(self, args):
        return args

    def setup_output_hook(self, args):
        return args
