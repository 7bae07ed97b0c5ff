"""utils (clash_a flavour): same top-level module name as clash_b/utils.py."""

NAME = "alpha"


def who():
    return "I am utils from clash_a; sum=%d" % sum(range(10))
