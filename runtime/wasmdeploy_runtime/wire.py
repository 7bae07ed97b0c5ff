"""Python values <-> the wire format shared with the TypeScript host (src/wire.ts).

A value travels as JSON text plus a list of byte buffers. JSON carries None, bool,
str, safe ints, finite floats and lists as themselves; everything else is a
one-key object tagged with "$":

  {"$t": [...]}          tuple
  {"$d": [k, v, ...]}    dict (keys may be any encodable, hashable value)
  {"$b": n}              bytes: buffers[n]
  {"$i": "123..."}       int outside +-(2**53 - 1), the range a JS number holds exactly
  {"$f": "nan"|"inf"|"-inf"}
  {"$o": id, "t": type}  a handle to a Python object that stays in this interpreter
  {"$x": kind, ...}      an extension value (tensors), see register_extension

A dataclass instance or a NamedTuple (any tuple class with `_fields`, but torch.return_types,
which are tuples in PyTorch) travels as a dict of its fields, in order: the host gets a plain
object, as for a model returning a `ModelOutput`-style dataclass.

JSON is used because both ends parse it in C/C++ and it keeps the walk simple.
"""

import json
import math
import sys

MAX_SAFE_INT = 2**53 - 1
MAX_DEPTH = 200


class WireError(ValueError):
    """A value could not be encoded or decoded."""


# Extension codecs (tensors register here): type -> encoder, kind -> decoder.
_ext_encoders = {}
_ext_decoders = {}


def record_fields(v):
    """[(name, value), ...] of a dataclass instance or a NamedTuple, else None."""
    t = type(v)
    if isinstance(v, tuple):
        fields = getattr(t, "_fields", None)
        if fields is None or t.__module__ == "torch.return_types":
            return None
        return [(f, getattr(v, f)) for f in fields]
    if hasattr(t, "__dataclass_fields__") and not isinstance(v, type):
        dataclasses = sys.modules["dataclasses"]
        return [(f.name, getattr(v, f.name)) for f in dataclasses.fields(v)]
    return None


def register_extension(kind, cls, encoder, decoder):
    """encoder(value, buffers) -> dict of extra fields; decoder(fields, buffers) -> value."""
    _ext_encoders[cls] = (kind, encoder)
    _ext_decoders[kind] = decoder


class Encoder:
    """Encodes results. Objects that are not plain data become handles via `make_handle`."""

    def __init__(self, make_handle):
        self.make_handle = make_handle
        self.buffers = []

    def dumps(self, value):
        return json.dumps(self.encode(value, 0), allow_nan=False, separators=(",", ":"))

    def encode(self, v, depth):
        if depth > MAX_DEPTH:
            raise WireError(
                f"value is nested more than {MAX_DEPTH} levels deep (or refers to itself); "
                "return a flatter structure or a handle"
            )
        t = type(v)
        if v is None or t is bool or t is str:
            return v
        if t is int:
            return v if -MAX_SAFE_INT <= v <= MAX_SAFE_INT else {"$i": str(v)}
        if t is float:
            return v if math.isfinite(v) else {"$f": "nan" if v != v else ("inf" if v > 0 else "-inf")}
        if t is list:
            return [self.encode(x, depth + 1) for x in v]
        if t is tuple:
            return {"$t": [self.encode(x, depth + 1) for x in v]}
        if t is dict:
            return {"$d": self._flat_items(v, depth)}
        if t is bytes or t is bytearray or t is memoryview:
            self.buffers.append(bytes(v))
            return {"$b": len(self.buffers) - 1}
        ext = _ext_encoders.get(t)
        if ext is not None:
            kind, enc = ext
            fields = enc(v, self.buffers)
            fields["$x"] = kind
            return fields
        for cls, (kind, enc) in _ext_encoders.items():
            if isinstance(v, cls):  # e.g. nn.Parameter, a Tensor subclass
                fields = enc(v, self.buffers)
                fields["$x"] = kind
                return fields
        fields = record_fields(v)
        if fields is not None:
            flat = []
            for name, x in fields:
                flat.append(name)
                flat.append(self.encode(x, depth + 1))
            return {"$d": flat}
        # Subclasses of plain types (IntEnum, OrderedDict, str enums, torch.return_types) travel as their base.
        if isinstance(v, bool):
            return bool(v)
        if isinstance(v, int):
            return self.encode(int(v), depth)
        if isinstance(v, float):
            return self.encode(float(v), depth)
        if isinstance(v, str):
            return str(v)
        if isinstance(v, tuple):
            return {"$t": [self.encode(x, depth + 1) for x in v]}
        if isinstance(v, list):
            return [self.encode(x, depth + 1) for x in v]
        if isinstance(v, dict):
            return {"$d": self._flat_items(v, depth)}
        return self.make_handle(v)

    def _flat_items(self, d, depth):
        out = []
        for k, val in d.items():
            out.append(self.encode(k, depth + 1))
            out.append(self.encode(val, depth + 1))
        return out


def loads(text, buffers, resolve_handle):
    """Decode wire JSON. `buffers` is a sequence of bytes; `resolve_handle(id)` maps handles back."""

    def hook(obj):
        if "$t" in obj:
            return tuple(obj["$t"])
        if "$d" in obj:
            flat = obj["$d"]
            try:
                return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}
            except TypeError as e:
                raise WireError(f"dict key is not hashable in Python ({e}); use str, int, float or tuple keys")
        if "$b" in obj:
            return buffers[obj["$b"]]
        if "$i" in obj:
            return int(obj["$i"])
        if "$f" in obj:
            return float(obj["$f"])
        if "$o" in obj:
            return resolve_handle(obj["$o"])
        if "$x" in obj:
            dec = _ext_decoders.get(obj["$x"])
            if dec is None:
                raise WireError(f"this interpreter cannot decode values of kind {obj['$x']!r}")
            return dec(obj, buffers)
        raise WireError(f"untagged object on the wire: {sorted(obj)!r}")

    return json.loads(text, object_hook=hook)
