"""torch.utils for wasmdeploy: the pieces model code imports (hooks, checkpoint, model_zoo, data stubs)."""

import sys


def set_module(obj, mod):
    if not isinstance(mod, str):
        raise TypeError("The mod argument should be a string")
    obj.__module__ = mod


cmake_prefix_path = None
