// Model metadata before the first call: the inputs a served object's signature declares, read
// in its interpreter when the model loads. Python below reads the object statically (the class
// dictionaries, the function's code object and defaults): no archive code runs, so a hostile
// archive cannot stall a load here. Inputs are named INPUT__0..N-1 (the positional parameters
// without defaults of `forward`, `__call__` or the configured method); a datatype comes from an
// annotation (str/bytes: BYTES; List[str]: BYTES [-1]), and for the first input of an nn.Module
// from its first layer (Embedding: INT64 [-1, -1]; ConvNd: [-1, C, -1...]; Linear: [-1, in];
// RNN/LSTM/GRU: [-1, -1, in]; otherwise its weights' dtype, shape [-1]); -1 is an unknown dim.
// What nothing tells is a guess: FP32 [-1] for an nn.Module's tensors, BYTES [] (one value) for
// a plain Python callable's arguments. The first call's real datatypes and shapes replace it.

import type { InterpreterManager, ReplicatedObj } from "../../index.js";
import { isOipDatatype } from "../datatypes.js";
import type { TensorSpec } from "../config.js";

export const SIGNATURE_MODULE = "wasmdeploy_signature";

export const SIGNATURE_SOURCE = String.raw`
import inspect
import types

_DTYPES = {
    "torch.float32": "FP32", "torch.float64": "FP64", "torch.float16": "FP16", "torch.bfloat16": None,
    "torch.int64": "INT64", "torch.int32": "INT32", "torch.int16": "INT16", "torch.int8": "INT8",
    "torch.uint8": "UINT8", "torch.bool": "BOOL",
}
_MRO = type.__dict__["__mro__"]


def _static(obj, name):
    try:
        return inspect.getattr_static(obj, name)
    except AttributeError:
        return None


def _is(cls, base):
    if base is None:
        return False
    return any(c is base for c in _MRO.__get__(cls))


def _annotation(fn, name):
    try:
        try:
            import annotationlib  # Python 3.14: annotations are evaluated lazily; read them as strings
            ann = annotationlib.get_annotations(fn, format=annotationlib.Format.STRING)
        except ImportError:
            ann = fn.__annotations__
        a = ann.get(name) if type(ann) is dict else None
    except Exception:
        return None
    if a is str or a is bytes:
        return ("BYTES", [])
    if type(a) is str:
        t = a.replace(" ", "").replace("typing.", "")
        if t in ("str", "bytes"):
            return ("BYTES", [])
        if t in ("List[str]", "list[str]", "List[bytes]", "list[bytes]", "Sequence[str]"):
            return ("BYTES", [-1])
        return None
    origin = getattr(a, "__origin__", None) if type(a).__module__ in ("typing", "types") else None
    if origin is list and getattr(a, "__args__", ()) in ((str,), (bytes,)):
        return ("BYTES", [-1])
    return None


def _first_layer(m, depth=0):
    if depth > 64:
        return None
    subs = _static(m, "_modules")
    if isinstance(subs, dict):
        for child in list(subs.values()):
            if child is not None:
                found = _first_layer(child, depth + 1)
                if found is not None:
                    return found
    params = _static(m, "_parameters")
    if isinstance(params, dict) and params.get("weight") is not None:
        return m
    return None


def _dtype(t):
    try:
        return _DTYPES.get(str(t.dtype))
    except Exception:
        return None


def _guess(obj):
    try:
        import torch.nn as nn
    except Exception:
        return None
    if not _is(type(obj), getattr(nn, "Module", None)):
        return None
    layer = _first_layer(obj)
    if layer is None:
        return None
    cls = type(layer)
    weight = _static(layer, "_parameters").get("weight")
    dtype = _dtype(weight) or "FP32"
    if _is(cls, getattr(nn, "Embedding", None)) or _is(cls, getattr(nn, "EmbeddingBag", None)):
        return ("INT64", [-1, -1])
    for n in (1, 2, 3):
        if _is(cls, getattr(nn, "Conv%dd" % n, None)) or _is(cls, getattr(nn, "ConvTranspose%dd" % n, None)):
            c = _static(layer, "in_channels")
            return (dtype, [-1, c if type(c) is int else -1] + [-1] * n)
    if _is(cls, getattr(nn, "Linear", None)):
        f = _static(layer, "in_features")
        return (dtype, [-1, f if type(f) is int else -1])
    for name in ("RNN", "LSTM", "GRU"):
        if _is(cls, getattr(nn, name, None)):
            f = _static(layer, "input_size")
            return (dtype, [-1, -1, f if type(f) is int else -1])
    return (dtype, [-1])


def describe(obj, method=None):
    """[[name, datatype or None, shape], ...] for the call's required positional inputs, or None."""
    cls = type(obj)
    try:
        import torch.nn as nn
        is_module = _is(cls, getattr(nn, "Module", None))
    except Exception:
        is_module = False
    name = method or ("forward" if is_module else "__call__")
    fn = _static(cls, name)
    skip = 1
    if type(fn) is staticmethod:
        fn, skip = fn.__func__, 0
    elif type(fn) is classmethod:
        fn = fn.__func__
    if type(fn) is not types.FunctionType:
        return None
    code = fn.__code__
    names = code.co_varnames[: code.co_argcount]
    defaults = fn.__defaults__ or ()
    params = names[skip : code.co_argcount - len(defaults)]
    out = []
    for i, p in enumerate(params):
        known = _annotation(fn, p)
        if known is None and i == 0 and is_module:
            known = _guess(obj)
        if known is None and not is_module:
            known = ("BYTES", [])  # a plain Python callable: most take str/bytes (a guess)
        out.append(["INPUT__%d" % i, known[0] if known else None, known[1] if known else [-1]])
    return out
`;

/** Stands in for a datatype nothing tells (a guess: most tensor inputs are float32; the first call shows the real one). */
const FALLBACK = "FP32";

/**
 * The object's inputs as its signature tells, or undefined when it cannot be read. Unpickling
 * (archive code) runs first under a deadline; the read itself runs no archive code and is
 * bounded too.
 */
export async function describeInputs(manager: InterpreterManager, obj: ReplicatedObj, method: string | undefined, timeoutMs = 30_000): Promise<TensorSpec[] | undefined> {
  await manager.registerModuleSource(SIGNATURE_MODULE, SIGNATURE_SOURCE);
  // Loads the pickle on an interpreter, under the deadline (what the first call would do).
  await obj.withOptions({ timeoutMs }).hasattr("__class__");
  const session = obj.acquireSession();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const read = (async () => {
      const o = await session.fromMovable(obj);
      const fn = await session.global(SIGNATURE_MODULE, "describe");
      return fn.call(o, method ?? null);
    })();
    const got = await Promise.race([read, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("reading the signature timed out")), timeoutMs)))]);
    if (!Array.isArray(got)) return undefined;
    return got.map((entry: unknown) => {
      const [name, datatype, shape] = entry as [string, string | null, number[]];
      return { name, datatype: isOipDatatype(datatype) ? datatype : FALLBACK, shape: shape.map(Number) };
    });
  } finally {
    clearTimeout(timer);
    await session.release();
  }
}
