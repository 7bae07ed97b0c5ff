"""torch._C stand-in for wasmdeploy: the few native entry points eager model code calls
directly. There is no native extension; anything else raises AttributeError naming it."""

import types as _types


def _log_api_usage_once(event: str) -> None:
    pass


def _log_api_usage_metadata(event: str, metadata_map) -> None:
    pass


def _get_tracing_state():
    return None


def _jit_set_profiling_executor(flag):
    return False


def _jit_set_profiling_mode(flag):
    return False


def _jit_override_can_fuse_on_cpu(flag):
    pass


def _jit_override_can_fuse_on_gpu(flag):
    pass


def _jit_set_texpr_fuser_enabled(flag):
    pass


def _jit_set_nvfuser_enabled(flag):
    return False


def _jit_is_script_object(obj):
    return False


def _set_cudnn_enabled(flag):
    pass


def _get_cudnn_enabled():
    return False


def _get_mkldnn_enabled():
    return False


def _set_mkldnn_enabled(flag):
    pass


def _has_cuda():
    return False


def _cuda_getDeviceCount():
    return 0


def _get_default_device():
    return "cpu"


def _is_torch_function_enabled():
    return False


def _disabled_torch_function_impl(func, types, args=(), kwargs=None):
    return func(*args, **(kwargs or {}))


def _get_num_threads():
    return 1


def _set_num_threads(n):
    pass


has_cuda = False
has_cudnn = False
has_mkl = False
has_mkldnn = False
has_openmp = False
has_lapack = False
_GLIBCXX_USE_CXX11_ABI = True


class _ImperativeEngine:
    pass


class JITException(RuntimeError):
    pass


class ScriptObject:
    pass


class ScriptFunction:
    pass


class ScriptMethod:
    pass


class Generator:
    def __init__(self, device="cpu"):
        self.device = device
        self._seed = 67280421310721

    def manual_seed(self, seed):
        self._seed = int(seed)
        return self

    def seed(self):
        return self._seed

    def initial_seed(self):
        return self._seed


class _TorchFunctionsMeta(type):
    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        import torch

        return getattr(torch, name)


class _VariableFunctionsClass(metaclass=_TorchFunctionsMeta):
    """Pickles of torch.* builtins (torch.tanh, torch.relu, ...) are written as
    getattr(torch._C._VariableFunctionsClass, "tanh"); every name resolves to torch's function
    (on the class and on its instance torch._C._VariableFunctions)."""

    def __getattr__(self, name):
        return getattr(type(self), name)


_VariableFunctions = _VariableFunctionsClass()


def __getattr__(name):
    # Names that alias Python-level classes of the tensor layer.
    import torch

    if name in ("_TensorBase", "TensorBase"):
        return torch.Tensor
    if name == "_TensorMeta":
        return type(torch.Tensor)
    if name in ("dtype", "device", "Size", "finfo", "iinfo"):
        return getattr(torch, name)
    raise AttributeError(f"module 'torch._C' has no attribute '{name}' (wasmdeploy has no native torch._C)")


from . import _nn  # noqa: E402,F401  (torch._C._nn: F's builtins, as pickles name them)
