"""values_mod: returns one value of each Python type the host bridge must carry (values.pt)."""


class Values:
    def __init__(self, label, primes, tags, pair):
        self.label = label
        self.primes = primes  # a set of ints (pickled via builtins.set)
        self.tags = tags
        self.pair = pair  # a tuple
        self._restored = False

    def __getstate__(self):
        state = dict(self.__dict__)
        del state["_restored"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._restored = True

    def echo(self, x):
        return x

    def none(self):
        return None

    def true(self):
        return True

    def false(self):
        return False

    def small_int(self):
        return 42

    def big_int(self):
        return 2**70 + 3

    def neg_big_int(self):
        return -(2**70 + 3)

    def a_float(self):
        return 0.1 + 0.2

    def text(self):
        return "h\u00e9llo w\u00f6rld \u2014 \u4f60\u597d \U0001F642"

    def raw_bytes(self):
        return bytes([0, 1, 2, 127, 128, 254, 255]) + b"abc"

    def a_list(self):
        return [1, "two", 2.5, None, True, [3]]

    def a_tuple(self):
        return (1, "a", (2, "b"), [])

    def a_dict(self):
        return {"a": 1, "b": [1, 2], "c": {"d": None}, "\u00e9": "accent"}

    def int_key_dict(self):
        return {1: "a", 2: "b"}

    def nested(self):
        return {
            "rows": [(1, "x"), (2, "y")],
            "meta": {"ok": True, "ratio": 0.5, "big": 2**64},
            "blob": b"\x01\x02",
            "by_id": {10: (b"\xff", None)},
        }

    def kwargs_echo(self, *args, **kwargs):
        return {"args": list(args), "kwargs": kwargs}

    def state(self):
        return {
            "label": self.label,
            "primes": sorted(self.primes),
            "tags": self.tags,
            "pair": self.pair,
            "restored": self._restored,
        }

    def type_name(self, x):
        return type(x).__name__
