"""Engine-resident storages and the torch.*Storage classes that pickles name."""

from . import _dtype


class Storage:
    """Bytes that live in the engine. `stable` storages (weights unpickled from a package) are
    owned by the host and never released from here; transient ones are released in the engine
    when this object is collected."""

    __slots__ = ("id", "dtype", "numel", "stable", "__weakref__")

    def __init__(self, id, dtype, numel, stable):
        self.id = id
        self.dtype = dtype if isinstance(dtype, str) else dtype.name  # engine dtype name
        self.numel = numel
        self.stable = stable

    def __repr__(self):
        return f"Storage({self.id!r}, {self.dtype}, numel={self.numel}{', stable' if self.stable else ''})"

    def __len__(self):
        return self.numel

    def size(self):
        return self.numel

    def nbytes(self):
        return self.numel * _dtype.from_name(self.dtype).itemsize

    def __del__(self):
        if self.stable:
            return
        try:
            from . import _backend

            release = getattr(_backend.get(), "release", None)
            if release is not None:
                release(self.id)
        except Exception:  # interpreter shutdown, no backend
            pass


# ----- torch.FloatStorage & co: pickles (PyTorch 1.13) name these classes as storage types -----
class _StorageType(type):
    def __repr__(cls):
        return f"<class 'torch.{cls.__name__}'>"


class UntypedStorage(metaclass=_StorageType):
    dtype = _dtype.uint8

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(f"torch.{type(self).__name__}: creating storages from Python is not supported by wasmdeploy")

    @classmethod
    def from_buffer(cls, *args, **kwargs):
        raise NotImplementedError(f"torch.{cls.__name__}.from_buffer is not supported by wasmdeploy")


class TypedStorage(UntypedStorage):
    dtype = None


_LEGACY = {
    "DoubleStorage": _dtype.float64,
    "FloatStorage": _dtype.float32,
    "HalfStorage": _dtype.float16,
    "LongStorage": _dtype.int64,
    "IntStorage": _dtype.int32,
    "ShortStorage": _dtype.int16,
    "CharStorage": _dtype.int8,
    "ByteStorage": _dtype.uint8,
    "BoolStorage": _dtype.bool_,
    "BFloat16Storage": _dtype.bfloat16,
    "ComplexDoubleStorage": _dtype.complex128,
    "ComplexFloatStorage": _dtype.complex64,
    "QUInt8Storage": _dtype.quint8,
    "QInt8Storage": _dtype.qint8,
    "QInt32Storage": _dtype.qint32,
}

legacy_storage_classes = {name: _StorageType(name, (TypedStorage,), {"dtype": d, "__module__": "torch"}) for name, d in _LEGACY.items()}
