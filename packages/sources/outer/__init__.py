"""outer: top of a nested interned package (nested.pt)."""

from . import helpers
from .inner import deep
from .inner import LEVEL
from .inner.deep import Deep
from . import inner as _inner


class Nested:
    def __init__(self, base):
        self.base = base
        self.deep = Deep(3)

    def compute(self, x):
        # helpers.scale(x) + inner.LEVEL + base
        return deep.transform(x, self.base)

    def path(self):
        return [helpers.tag("outer")] + deep.chain()

    def names(self):
        return [helpers.short_name(m) for m in (_inner, deep, helpers)]

    def qualname(self):
        return type(self).__qualname__

    def core_qualname(self):
        return type(self.deep.core).__qualname__

    def core_apply(self, x):
        return self.deep.core.apply(x)

    def level(self):
        return LEVEL
