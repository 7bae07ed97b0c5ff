"""outer.helpers: reached from outer.inner.deep via `from ..helpers import ...`."""

SCALE = 7


def scale(x):
    return x * SCALE


def tag(s):
    return "[" + s + "]"


def short_name(module):
    # Last dotted component of a module's __name__ (independent of any mangling prefix).
    return module.__name__.rpartition(".")[2]
