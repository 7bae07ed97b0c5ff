"""outer.inner.deep: uses relative imports that go up one and two levels."""

from .. import helpers as h
from ..helpers import scale, tag
from . import LEVEL


def transform(x, base):
    return scale(x) + LEVEL + base


def chain():
    return [tag("deep"), tag("level=%d" % LEVEL), tag("scale=%d" % h.SCALE)]


class Deep:
    class Core:
        def __init__(self, weight):
            self.weight = weight

        def apply(self, x):
            return x * self.weight + LEVEL

    def __init__(self, weight):
        self.core = Deep.Core(weight)
