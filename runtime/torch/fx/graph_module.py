"""torch.fx.graph_module for wasmdeploy: GraphModules unpickled from archives run the code
torch.fx generated for them.

PyTorch pickles a GraphModule as its __dict__ without the Graph plus its generated Python
source (torch.package: an interned module `fx-generated._N` holding the import block and
`forward`; plain pickle and torch::deploy: the source in the pickle). On load, PyTorch
re-traces that code into a Graph and recompiles it, which yields the same `forward`. Here the
loaders use the generated `forward` as it is: the module is a GraphModule whose class (one per
instance, as in PyTorch) has that `forward`, `code` is its source, and its submodules,
parameters and buffers are the pickled ones. There is no Graph: `.graph`, `recompile()` and
graph transformations raise NotImplementedError (tracing is not supported either).
"""

import copy
import linecache
from typing import Any, Dict

import torch

__all__ = ["GraphModule", "reduce_graph_module", "reduce_package_graph_module", "reduce_deploy_graph_module"]


def _unsupported(what):
    return NotImplementedError(
        f"torch.fx.GraphModule.{what}: wasmdeploy runs a GraphModule's generated code; it has no Graph"
    )


_next_id = [0]


def _exec_with_source(src, globals_):
    key = f"<eval_with_key>.{_next_id[0]}"
    _next_id[0] += 1
    linecache.cache[key] = (len(src), None, src.splitlines(True), key)
    exec(compile(src, key, "exec"), globals_)


def _forward_from_src(src, globals_, co_fields=None):
    globals_copy = globals_.copy()
    _exec_with_source(src, globals_copy)
    return globals_copy["forward"]


def reduce_graph_module(body: Dict[Any, Any], import_block: str) -> torch.nn.Module:
    fn_src = body.get("_code") or body["code"]
    forward = _forward_from_src(import_block + fn_src, {})
    return _deserialize_graph_module(forward, body)


def reduce_package_graph_module(importer, body: Dict[Any, Any], generated_module_name: str) -> torch.nn.Module:
    forward = importer.import_module(generated_module_name).forward
    return _deserialize_graph_module(forward, body)


def reduce_deploy_graph_module(importer, body: Dict[Any, Any], import_block: str) -> torch.nn.Module:
    ns = {"__builtins__": importer.patched_builtins}
    fn_src = body.get("_code")
    assert fn_src is not None
    forward = _forward_from_src(import_block + fn_src, ns)
    return _deserialize_graph_module(forward, body)


def _deserialize_graph_module(forward, body: Dict[Any, Any]) -> torch.nn.Module:
    gm = GraphModule.__new__(GraphModule)
    cls = type(gm)
    cls.forward = forward
    name = body.get("_graphmodule_cls_name", "GraphModule")
    cls.__name__ = name
    cls.__qualname__ = name
    torch.nn.Module.__init__(gm)
    gm.__dict__.update(body)
    return gm


class GraphModule(torch.nn.Module):
    """A Module whose forward is torch.fx generated code (see the module docstring)."""

    def __new__(cls, *args, **kwargs):
        # each instance gets its own class, so each can have its own forward
        class GraphModuleImpl(cls):  # type: ignore[misc, valid-type]
            pass

        return super().__new__(GraphModuleImpl)

    def __init__(self, root, graph, class_name="GraphModule"):
        raise _unsupported("__init__ (building a GraphModule from a Graph)")

    @property
    def graph(self):
        raise _unsupported("graph")

    @graph.setter
    def graph(self, g):
        raise _unsupported("graph")

    @property
    def code(self) -> str:
        return self.__dict__.get("_code", "")

    def recompile(self):
        raise _unsupported("recompile")

    def print_readable(self, print_output=True):
        if print_output:
            print(self.code)
        return self.code

    def to_folder(self, folder, module_name="FxModule"):
        raise _unsupported("to_folder")

    def add_submodule(self, target, m):
        *prefix, field = target.split(".")
        mod = self
        for item in prefix:
            submod = getattr(mod, item, None)
            if submod is None:
                submod = torch.nn.Module()
                setattr(mod, item, submod)
            if not isinstance(submod, torch.nn.Module):
                return False
            mod = submod
        mod.add_module(field, m)
        return True

    def delete_submodule(self, target):
        *path, name = target.split(".")
        mod = self
        for item in path:
            if not hasattr(mod, item):
                return False
            mod = getattr(mod, item)
        if not hasattr(mod, name):
            return False
        delattr(mod, name)
        return True

    def delete_all_unused_submodules(self):
        raise _unsupported("delete_all_unused_submodules")

    def __deepcopy__(self, memo):
        body = copy.deepcopy(self.__dict__, memo)
        return _deserialize_graph_module(type(self).forward, dict(body, _graphmodule_cls_name=type(self).__name__))

    def __copy__(self):
        return _deserialize_graph_module(type(self).forward, dict(self.__dict__, _graphmodule_cls_name=type(self).__name__))

    def __str__(self):
        orig_str = super().__str__()
        return "\n".join([orig_str, self.code])
