"""utils (clash_b flavour): same top-level module name as clash_a/utils.py."""

NAME = "beta"


def who():
    return "utils of clash_b says " + "-".join(str(i * i) for i in range(5))
