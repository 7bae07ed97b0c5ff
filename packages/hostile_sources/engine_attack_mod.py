"""engine_attack_mod: attacks on the tensor engine from inside an interpreter (engine_attack.pt).

Python is contained by its interpreter, but the graphs it sends run in ONNX Runtime's native
code on the host. Each method is one way a tenant could try to fault, exhaust or stall the host
through the engine: ordinary torch code that overflows integer division, a scalar that hides a
huge intermediate, shapes taken from data, oversized constants, a hand-made faulting graph,
requests padded with junk, tensors hoarded across calls, and a flood of distinct graphs.
The host must end each in a value or a typed error, and every other tenant must keep serving.

make_hostile.py calls only int_division (with safe inputs, in plain CPython).
"""

import json

import torch

I64_MIN = -(2**63)
I32_MIN = -(2**31)


def _bridge():
    """The interpreter's raw engine bridge: call(kind, json_text, buffers) -> (json_text, buffers)."""
    from torch import _backend

    return _backend._find_bridge()


def _run(spec, feeds=None, **extra):
    body = {"spec": spec, "feeds": feeds or {}}
    body.update(extra)
    reply, _ = _bridge()("run", json.dumps(body), [])
    return json.loads(reply)


def _read_int64(storage, n):
    _, bufs = _bridge()("read", json.dumps({"storage": storage, "dtype": "int64", "offset": 0, "numel": n}), [])
    raw = bytes(bufs[0])
    return [int.from_bytes(raw[i : i + 8], "little", signed=True) for i in range(0, len(raw), 8)]


def _const(name, dtype, shape, data):
    return {"op": "Constant", "inputs": [], "outputs": [name], "attrs": {"value": {"tensor": {"dtype": dtype, "shape": shape, "data": data}}}}


PAIRS = [(None, -1), (None, 3), (7, -1), (-7, 2), (9, -4), (0, -1)]  # None: INT_MIN of the dtype


def operands(dtype_name):
    lo = I64_MIN if dtype_name == "int64" else I32_MIN
    return [lo if a is None else a for a, _ in PAIRS], [b for _, b in PAIRS]


class EngineAttack:
    def __init__(self):
        self.kept = []

    def int_division(self, dtype_name):
        """INT_MIN by -1 among ordinary values, through the torch ops a model would use."""
        dt = getattr(torch, dtype_name)
        a_vals, b_vals = operands(dtype_name)
        a = torch.tensor(a_vals, dtype=dt)
        b = torch.tensor(b_vals, dtype=dt)
        return {
            "trunc": torch.div(a, b, rounding_mode="trunc").tolist(),
            "floor": torch.div(a, b, rounding_mode="floor").tolist(),
            "floordiv": (a // b).tolist(),
            "remainder": torch.remainder(a, b).tolist(),
            "fmod": torch.fmod(a, b).tolist(),
        }

    def big_intermediate(self):
        """One float out, 1.6 GB in between."""
        return torch.ones(20000, 20000).sum().item()

    def shape_from_data(self):
        """ConstantOfShape whose shape is a tensor of data (20000 x 20000), summed to a scalar."""
        shape = torch.tensor([20000, 20000], dtype=torch.int64)
        v = shape._value
        spec = {
            "inputs": [{"name": "s", "dtype": "int64", "shape": [2]}],
            "weights": [],
            "nodes": [
                {"op": "ConstantOfShape", "inputs": ["s"], "outputs": ["big"]},
                {"op": "ReduceSum", "inputs": ["big"], "outputs": ["y"], "attrs": {"keepdims": 0}},
            ],
            "outputs": [{"name": "y", "dtype": "float32", "shape": []}],
        }
        return _run(spec, {"s": [v.storage.id, v.offset]})

    def large_constant(self, n):
        """A Constant of n floats written inline in the spec's JSON."""
        spec = {
            "inputs": [],
            "weights": [],
            "nodes": [_const("c", "float32", [n], [0.5] * n), {"op": "ReduceSum", "inputs": ["c"], "outputs": ["y"], "attrs": {"keepdims": 0}}],
            "outputs": [{"name": "y", "dtype": "float32", "shape": []}],
        }
        return _run(spec)

    def handmade_div(self, dtype_name):
        """A hand-made graph dividing INT_MIN by -1, the one that faults natively."""
        lo = I64_MIN if dtype_name == "int64" else I32_MIN
        spec = {
            "inputs": [],
            "weights": [],
            "nodes": [
                _const("a", dtype_name, [2], [lo, lo]),
                _const("b", dtype_name, [2], [-1, 1]),
                {"op": "Div", "inputs": ["a", "b"], "outputs": ["q"]},
                {"op": "Mod", "inputs": ["a", "b"], "outputs": ["r"], "attrs": {"fmod": 0}},
                {"op": "Cast", "inputs": ["q"], "outputs": ["q64"], "attrs": {"to": 7}},
                {"op": "Cast", "inputs": ["r"], "outputs": ["r64"], "attrs": {"to": 7}},
            ],
            "outputs": [{"name": "q64", "dtype": "int64", "shape": [2]}, {"name": "r64", "dtype": "int64", "shape": [2]}],
        }
        q, r = _run(spec)["storages"]
        return {"quotient": _read_int64(q, 2), "remainder": _read_int64(r, 2)}

    def padded_request(self, mb):
        """A run request carrying mb MB of a field the bridge does not know."""
        spec = {"inputs": [], "weights": [], "nodes": [_const("y", "float32", [1], [1.0])], "outputs": [{"name": "y", "dtype": "float32", "shape": [1]}]}
        return _run(spec, junk="x" * (mb * 2**20))

    def hoard(self, mb):
        """Keep mb MB of engine tensors alive across calls; returns the MB held so far."""
        from torch import _graph

        t = torch.ones(mb * 2**18) + 1.0
        _graph.materialize([t])  # computed: the engine holds it
        self.kept.append(t)
        return sum(x.numel() for x in self.kept) * 4 // 2**20

    def release(self):
        self.kept.clear()
        return 0

    def many_graphs(self, n, size):
        """n graphs of distinct shapes (each a compiled session) of size x size."""
        total = 0.0
        for i in range(n):
            x = torch.ones(size, size + i)
            total += float((x * 2.0 + 1.0).sum().item())
        return total
