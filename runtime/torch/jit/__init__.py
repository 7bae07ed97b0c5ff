"""torch.jit for wasmdeploy. There is no TorchScript compiler: eager model code only needs the
decorators and the "am I being scripted/traced?" queries, which answer False.

- ``script(fn_or_module)`` returns its argument unchanged (scripted code would compute the
  same thing eagerly); ``trace``/``trace_module``/``save``/``load``/``freeze`` raise
  NotImplementedError naming the function.
"""

import contextlib
import warnings
from typing import Any

from torch._jit_internal import (  # noqa: F401
    Final,
    Future,
    _IgnoreContextManager,
    _drop,
    _isinstance,
    _overload,
    _overload_method,
    export,
    ignore,
    is_scripting,
    unused,
)

from . import annotations  # noqa: F401

__all__ = [
    "Attribute",
    "CompilationUnit",
    "Error",
    "Final",
    "Future",
    "ScriptFunction",
    "ScriptModule",
    "annotate",
    "enable_onednn_fusion",
    "export",
    "export_opnames",
    "fork",
    "freeze",
    "ignore",
    "interface",
    "isinstance",
    "load",
    "onednn_fusion_enabled",
    "optimize_for_inference",
    "save",
    "script",
    "script_if_tracing",
    "set_fusion_strategy",
    "strict_fusion",
    "trace",
    "trace_module",
    "unused",
    "wait",
]


def _unsupported(name):
    return NotImplementedError(f"torch.jit.{name}: TorchScript is not supported by wasmdeploy (eager code runs as is)")


class Error(RuntimeError):
    pass


Error.__module__ = "torch.jit"


class ScriptWarning(Warning):
    pass


class TracerWarning(Warning):
    @staticmethod
    def ignore_lib_warnings():
        warnings.filterwarnings("ignore", category=TracerWarning, module="torch.(?!jit)")


class TracingCheckError(Exception):
    def __init__(self, graph_diff_error, tensor_compare_error, extra_msg=None):
        self.message = "Tracing failed sanity checks!\n"
        if extra_msg is not None:
            self.message += extra_msg + "\n"
        super().__init__(self.message)


class _ScriptMeta(type):
    pass


def _nn():
    import torch.nn

    return torch.nn


class ScriptModule(_nn().Module):
    """Base of TorchScript modules loaded from archives (see RecursiveScriptModule)."""

    def __init__(self, *args, **kwargs):
        raise _unsupported("ScriptModule")


class RecursiveScriptModule(ScriptModule):
    """A scripted module an archive carries as TorchScript (torch.jit._serialization): its class
    is made from the serialized code (`Module` there), the instance from its pickled attributes.
    It is an nn.Module: parameters, buffers and submodules are registered as such."""

    __parameters__ = ()
    __buffers__ = ()

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        _nn().Module.__init__(obj)
        return obj

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        nn = _nn()
        params = set(type(self).__parameters__)
        buffers = set(type(self).__buffers__)
        for k, v in state.items():
            if k in params:
                self._parameters[k] = v if v is None or isinstance(v, nn.Parameter) else nn.Parameter(v, requires_grad=False)
            elif k in buffers:
                self._buffers[k] = v
            elif isinstance(v, nn.Module):
                self._modules[k] = v
            else:
                object.__setattr__(self, k, v)

    @property
    def original_name(self):
        return type(self).__name__

    @property
    def code(self):
        return getattr(type(self), "_ts_source", "")

    @property
    def graph(self):
        raise _unsupported("ScriptModule.graph")

    def save(self, *args, **kwargs):
        raise _unsupported("ScriptModule.save")

    def _get_method(self, name):
        return getattr(self, name)


class TracedModule(ScriptModule):
    pass


class TopLevelTracedModule(TracedModule):
    pass


class ScriptFunction:
    def __init__(self, *args, **kwargs):
        raise _unsupported("ScriptFunction")


class RecursiveScriptClass:
    pass


class CompilationUnit:
    def __init__(self, *args, **kwargs):
        raise _unsupported("CompilationUnit")


class Attribute:
    """torch.jit.Attribute(value, type) is the value itself in eager mode."""

    def __new__(cls, value, type=None):
        return value


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """Eager stand-in: returns ``obj`` unchanged (function, class or nn.Module)."""
    return obj


def script_method(fn):
    return fn


def interface(obj):
    return obj


def _script_if_tracing(fn):
    return fn


script_if_tracing = _script_if_tracing


def trace(func, example_inputs=None, *args, **kwargs):
    raise _unsupported("trace")


def trace_module(mod, inputs, *args, **kwargs):
    raise _unsupported("trace_module")


def is_tracing() -> bool:
    return False


def _get_trace_graph(*args, **kwargs):
    raise _unsupported("_get_trace_graph")


def save(m, f, _extra_files=None):
    raise _unsupported("save")


def load(f, map_location=None, _extra_files=None):
    raise _unsupported("load")


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    raise _unsupported("freeze")


def optimize_for_inference(mod, other_methods=None):
    raise _unsupported("optimize_for_inference")


def run_frozen_optimizations(mod, optimize_numerics=True, preserved_methods=None):
    raise _unsupported("run_frozen_optimizations")


def export_opnames(m):
    raise _unsupported("export_opnames")


def fork(func, *args, **kwargs):
    """Runs ``func`` now and returns a completed Future (no inter-op parallelism here)."""
    try:
        return Future(func(*args, **kwargs))
    except Exception as exc:  # surfaced on wait(), as with a real fork
        return Future(exception=exc)


def wait(future):
    return future.wait()


_fork = fork
_wait = wait


def annotate(the_type, the_value):
    return the_value


def _jit_isinstance(obj, target_type):
    return _isinstance(obj, target_type)


def _unwrap_optional(x):
    assert x is not None, "Unwrapping null optional"
    return x


def _flatten(obj):
    raise _unsupported("_flatten")


def _unique_state_dict(module, keep_vars=False):
    state_dict = module.state_dict(keep_vars=True)
    filtered = type(state_dict)()
    seen = set()
    for k, v in state_dict.items():
        if id(v) in seen:
            continue
        seen.add(id(v))
        filtered[k] = v if keep_vars else v.detach()
    return filtered


@contextlib.contextmanager
def optimized_execution(should_optimize):
    yield


@contextlib.contextmanager
def fuser(name):
    yield


def last_executed_optimized_graph():
    raise _unsupported("last_executed_optimized_graph")


def set_fusion_strategy(strategy):
    return []


_set_fusion_strategy = set_fusion_strategy


def enable_onednn_fusion(enabled: bool):
    pass


def onednn_fusion_enabled():
    return False


class strict_fusion:
    def __enter__(self):
        return self

    def __exit__(self, type: Any, value: Any, tb: Any) -> None:
        pass


def _hide_source_ranges():
    return contextlib.nullcontext()


class _ScriptProfile:
    def __init__(self):
        pass

    def enable(self):
        pass

    def disable(self):
        pass

    def dump_string(self):
        return ""

    def dump(self):
        pass


from ._serialization import UnsupportedScriptError  # noqa: E402,F401

# torch.jit.isinstance (defined last so the builtin stays usable in this module)
isinstance = _jit_isinstance
