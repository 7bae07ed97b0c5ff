"""em_mod: interned code using extern stdlib modules and a mocked module (extern_mock.pt)."""

import collections
import functools
import json
import math
import re

import fancy_dep

# Attribute access on a mocked module at import time works (it returns a MockedObject);
# only *using* the object raises.
HELPER = fancy_dep.helper


@functools.lru_cache(maxsize=None)
def _fib(n):
    return n if n < 2 else _fib(n - 1) + _fib(n - 2)


class ExternMock:
    def __init__(self, sep):
        self.sep = sep

    def uses_mock(self):
        return fancy_dep.something()

    def mock_type(self):
        return type(HELPER).__name__

    def stats(self, xs):
        n = len(xs)
        mean = math.fsum(xs) / n
        var = math.fsum((x - mean) ** 2 for x in xs) / (n - 1)
        return {"n": n, "mean": mean, "stdev": math.sqrt(var)}

    def tokens(self, text):
        return re.findall(r"[a-z]+|\d+", text.lower())

    def count(self, words):
        return dict(collections.Counter(words))

    def to_json(self, obj):
        return json.dumps(obj, sort_keys=True, separators=(",", ":"))

    def from_json(self, text):
        return json.loads(text)

    def fib(self, n):
        return _fib(n)

    def joined(self, items):
        return functools.reduce(lambda a, b: a + self.sep + b, items)
