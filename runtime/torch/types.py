"""torch.types (PyTorch 1.13): aliases used in annotations."""

import builtins
from typing import Any, List, Sequence, Tuple, Union

import torch

_TensorOrTensors = Union[torch.Tensor, Sequence[torch.Tensor]]

_int = builtins.int
_float = builtins.float
_bool = builtins.bool

_dtype = torch.dtype
_device = torch.device
_size = Union[torch.Size, List[_int], Tuple[_int, ...]]
_qscheme = Any
_layout = Any
_dispatchkey = Union[str, Any]

Number = Union[builtins.int, builtins.float, builtins.bool]
Device = Union[_device, str, _int, None]


class Storage:
    _cdata: int
    device: torch.device
    dtype: torch.dtype
    _torch_load_uninitialized: bool

    def __deepcopy__(self, memo) -> "Storage":
        ...

    def _new_shared(self, int) -> "Storage":
        ...

    def element_size(self) -> int:
        ...

    def is_shared(self) -> bool:
        ...

    def share_memory_(self) -> "Storage":
        ...

    def nbytes(self) -> int:
        ...
