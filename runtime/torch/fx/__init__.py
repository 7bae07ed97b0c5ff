"""torch.fx for wasmdeploy. ``torch.fx.wrap`` (used at module level by torchvision) registers
nothing and returns its argument; symbolic tracing is not supported. GraphModules that PyTorch
traced and pickled load and run their generated code (graph_module.py). ``Proxy`` exists for
isinstance checks and never matches a real value here."""

from typing import Any, Callable, Union

__all__ = ["symbolic_trace", "Tracer", "wrap", "Graph", "GraphModule", "Interpreter", "Node", "Proxy", "Transformer"]


def _unsupported(name):
    return NotImplementedError(f"torch.fx.{name}: FX graph capture is not supported by wasmdeploy")


def wrap(fn_or_name: Union[str, Callable]):
    return fn_or_name


class Proxy:
    def __init__(self, node, tracer=None):
        raise _unsupported("Proxy")


class Attribute(Proxy):
    pass


class Node:
    def __init__(self, *args, **kwargs):
        raise _unsupported("Node")


class Graph:
    def __init__(self, *args, **kwargs):
        raise _unsupported("Graph")


class Tracer:
    def __init__(self, *args, **kwargs):
        raise _unsupported("Tracer")


class Interpreter:
    def __init__(self, *args, **kwargs):
        raise _unsupported("Interpreter")


class Transformer(Interpreter):
    pass


def symbolic_trace(root, concrete_args=None):
    raise _unsupported("symbolic_trace")


def replace_pattern(gm, pattern, replacement):
    raise _unsupported("replace_pattern")


def has_side_effect(fn):
    return fn


def _is_fx_tracing():
    return False


from .graph_module import GraphModule  # noqa: E402
