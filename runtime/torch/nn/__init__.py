"""torch.nn for wasmdeploy (PyTorch 1.13 names)."""

from .modules import *  # noqa: F401,F403
from .parameter import (  # noqa: F401
    Parameter as Parameter,
    UninitializedParameter as UninitializedParameter,
    UninitializedBuffer as UninitializedBuffer,
)
from .parallel import DataParallel as DataParallel  # noqa: F401
from . import init  # noqa: F401
from . import functional  # noqa: F401
from . import utils  # noqa: F401


def factory_kwargs(kwargs):
    if kwargs is None:
        return {}
    simple_keys = {"device", "dtype", "memory_format"}
    expected_keys = simple_keys | {"factory_kwargs"}
    if not kwargs.keys() <= expected_keys:
        raise TypeError(f"unexpected kwargs {kwargs.keys() - expected_keys}")
    r = dict(kwargs.get("factory_kwargs", {}))
    for k in simple_keys:
        if k in kwargs:
            if k in r:
                raise TypeError(f"{k} specified twice, in **kwargs and in factory_kwargs")
            r[k] = kwargs[k]
    return r
