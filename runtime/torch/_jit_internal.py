"""torch._jit_internal for wasmdeploy: the decorators and typing helpers that eager model code
uses (PyTorch 1.13 names). TorchScript itself does not exist here: everything runs eagerly,
so the decorators only record their marks and return the function."""

import contextlib
import inspect
import sys
import typing
import weakref
from typing import (  # noqa: F401  (re-exported, as in PyTorch)
    Any,
    Callable,
    Dict,
    Final,
    ForwardRef,
    Generic,
    List,
    Optional,
    Tuple,
    Type,
    TypeVar,
    Union,
)

boolean_dispatched: "weakref.WeakKeyDictionary[Callable, Dict[str, Callable]]" = weakref.WeakKeyDictionary()


class FunctionModifiers:
    UNUSED = "unused (ignored and replaced with raising of an exception)"
    IGNORE = "ignore (leave as a call to Python, cannot be torch.jit.save'd)"
    EXPORT = "export (compile this function even if nothing calls it)"
    DEFAULT = "default (compile if called from a exported function / forward)"
    COPY_TO_SCRIPT_WRAPPER = "if this method is not scripted, copy the python method onto the scripted model"
    _DROP = "_drop (function is fully ignored, declaration can be unscriptable)"


def boolean_dispatch(arg_name, arg_index, default, if_true, if_false, module_name, func_name):
    """Dispatches to one of two functions on a boolean argument (e.g. F.max_pool2d's
    return_indices)."""

    def fn(*args, **kwargs):
        dispatch_flag = default
        if arg_name in kwargs:
            dispatch_flag = kwargs[arg_name]
        elif arg_index < len(args):
            dispatch_flag = args[arg_index]
        if dispatch_flag:
            return if_true(*args, **kwargs)
        return if_false(*args, **kwargs)

    if if_true.__doc__ is None and if_false.__doc__ is not None:
        doc = if_false.__doc__
    elif if_false.__doc__ is None and if_true.__doc__ is not None:
        doc = if_true.__doc__
    else:
        doc = if_false.__doc__
    fn.__doc__ = doc
    if module_name is not None:
        fn.__module__ = module_name
    if func_name is not None:
        fn.__name__ = func_name
        fn.__qualname__ = func_name
    boolean_dispatched[fn] = {
        "if_true": if_true,
        "if_false": if_false,
        "index": arg_index,
        "default": default,
        "arg_name": arg_name,
    }
    return fn


def export(fn):
    fn._torchscript_modifier = FunctionModifiers.EXPORT
    return fn


def unused(fn):
    if isinstance(fn, property):
        prop = fn
        setattr(prop.fget, "_torchscript_modifier", FunctionModifiers.UNUSED)
        if prop.fset:
            setattr(prop.fset, "_torchscript_modifier", FunctionModifiers.UNUSED)
        return prop
    fn._torchscript_modifier = FunctionModifiers.UNUSED
    return fn


class _IgnoreContextManager(contextlib.AbstractContextManager):
    def __init__(self, **kwargs):
        pass

    def __exit__(self, exc_type, exc_value, traceback):
        pass


def ignore(drop=False, **kwargs):
    if callable(drop):
        fn = drop
        fn._torchscript_modifier = FunctionModifiers.IGNORE
        return fn
    if not isinstance(drop, bool):
        raise RuntimeError(
            "Argument to @torch.jit.ignore must be a bool or a function but got {}".format(drop)
        )
    drop_on_export = kwargs.pop("drop_on_export", None)
    if drop_on_export:
        drop = drop_on_export

    def decorator(fn):
        fn._torchscript_modifier = FunctionModifiers._DROP if drop else FunctionModifiers.IGNORE
        return fn

    return decorator


def _drop(fn):
    fn._torchscript_modifier = FunctionModifiers._DROP
    return fn


def _copy_to_script_wrapper(fn):
    fn._torchscript_modifier = FunctionModifiers.COPY_TO_SCRIPT_WRAPPER
    return fn


def module_has_exports(mod):
    for name in dir(mod):
        if hasattr(mod, name):
            item = getattr(mod, name)
            if callable(item) and get_torchscript_modifier(item) is FunctionModifiers.EXPORT:
                return True
    return False


def get_torchscript_modifier(fn):
    if not callable(fn):
        return None
    if hasattr(fn, "__func__"):
        fn = fn.__func__
    return getattr(fn, "_torchscript_modifier", FunctionModifiers.DEFAULT)


def should_drop(fn) -> bool:
    attr = get_torchscript_modifier(fn)
    if attr is None:
        return False
    return attr is FunctionModifiers.UNUSED or attr is FunctionModifiers._DROP


def is_ignored_fn(fn) -> bool:
    mod = get_torchscript_modifier(fn)
    return mod is FunctionModifiers.UNUSED or mod is FunctionModifiers.IGNORE or mod is FunctionModifiers._DROP


def copy_torchscript_modifier(orig, new) -> None:
    attr = get_torchscript_modifier(orig)
    if attr is None:
        return
    new._torchscript_modifier = attr


# ----- overloads: the declarations are kept for introspection; the implementation runs.
_overloaded_fns: Dict[str, List[Callable]] = {}
_overloaded_methods: Dict[str, Dict[str, List[Callable]]] = {}


def _qualified_name(obj, mangle_name=True) -> str:
    if hasattr(obj, "_jit_override_qualname"):
        return obj._jit_override_qualname
    if isinstance(obj, typing.TypeVar) if hasattr(typing, "TypeVar") else False:
        return obj.__name__
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if name is None:
        raise RuntimeError("Could not get name of python class object")
    module_name = getattr(obj, "__module__", None) or "__main__"
    if module_name == "torch._classes":
        return obj.qualified_name
    if module_name == "__main__":
        module_name = "__torch__"
    return module_name + "." + name


def _overload(func):
    qual_name = _qualified_name(func)
    _overloaded_fns.setdefault(qual_name, []).append(func)
    return func


def _get_fn_overloads(qual_name):
    return _overloaded_fns.get(qual_name)


def _clear_fn_overloads(qual_name) -> None:
    _overloaded_fns.pop(qual_name, None)


def _overload_method(func):
    qual_name = _qualified_name(func)
    _overloaded_methods.setdefault(qual_name, {}).setdefault(func.__name__, []).append(func)
    return func


def _get_overloaded_methods(method, mod_class):
    return None


# ----- type helpers
def get_origin(target_type):
    return getattr(target_type, "__origin__", None)


def get_args(target_type):
    return getattr(target_type, "__args__", None)


def is_tuple(ann) -> bool:
    if ann is Tuple:
        return True
    return get_origin(ann) in (tuple, Tuple)


def is_list(ann) -> bool:
    if ann is List:
        return True
    return get_origin(ann) in (list, List)


def is_dict(ann) -> bool:
    if ann is Dict:
        return True
    return get_origin(ann) in (dict, Dict)


def is_union(ann):
    if ann is Union:
        return True
    import types

    return get_origin(ann) is Union or (hasattr(types, "UnionType") and isinstance(ann, types.UnionType))


def is_optional(ann):
    if ann is Optional:
        return True
    return is_union(ann) and type(None) in (get_args(ann) or ())


def is_future(ann) -> bool:
    return ann is Future or get_origin(ann) is Future


def is_final(ann) -> bool:
    return ann is Final or get_origin(ann) is Final


class BroadcastingListCls:
    def __getitem__(self, types):
        return


BroadcastingList1 = BroadcastingListCls()
for i in range(2, 7):
    globals()[f"BroadcastingList{i}"] = BroadcastingList1
BroadcastingList2 = BroadcastingList1
BroadcastingList3 = BroadcastingList1


def is_scripting() -> bool:
    return False


T = TypeVar("T")


class Future(Generic[T]):
    """torch.jit.Future as returned by torch.jit.fork: already completed (fork runs the
    function synchronously)."""

    def __init__(self, value=None, exception=None):
        self._value = value
        self._exception = exception

    def wait(self):
        if self._exception is not None:
            raise self._exception
        return self._value

    def value(self):
        return self.wait()

    def done(self):
        return True

    def then(self, callback):
        return Future(callback(self))

    def set_result(self, result):
        self._value = result


def _isinstance(obj, target_type) -> bool:
    origin = get_origin(target_type)
    if origin is None:
        return isinstance(obj, target_type)
    if origin in (list, List):
        (arg,) = get_args(target_type)
        return isinstance(obj, list) and all(_isinstance(x, arg) for x in obj)
    if origin in (tuple, Tuple):
        args = get_args(target_type)
        return isinstance(obj, tuple) and len(obj) == len(args) and all(_isinstance(x, a) for x, a in zip(obj, args))
    if origin in (dict, Dict):
        k, v = get_args(target_type)
        return isinstance(obj, dict) and all(_isinstance(a, k) and _isinstance(b, v) for a, b in obj.items())
    if is_union(target_type):
        return any(_isinstance(obj, a) for a in get_args(target_type))
    return isinstance(obj, origin)


def _disable_emit_hooks():
    return contextlib.nullcontext()


def _is_exception(obj) -> bool:
    return inspect.isclass(obj) and issubclass(obj, Exception)


def createResolutionCallbackFromFrame(frames_up: int = 0):
    frame = inspect.currentframe()
    for _ in range(frames_up + 1):
        frame = frame.f_back
    f_locals, f_globals = frame.f_locals, frame.f_globals

    def lookup(key):
        if key in f_locals:
            return f_locals[key]
        if key in f_globals:
            return f_globals[key]
        import builtins

        return getattr(builtins, key, None)

    return lookup


def _get_named_tuple_properties(obj):
    return obj.__name__, list(getattr(obj, "_fields", ())), [], []
