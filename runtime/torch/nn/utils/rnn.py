"""torch.nn.utils.rnn (PyTorch 1.13 API). PackedSequence and the pack/pad helpers, with the
native kernels (_VF._pack_padded_sequence & co) written in Python over tensor ops. Lengths and
batch sizes are host-side integers, as in PyTorch (batch_sizes lives on the CPU)."""

import warnings
from collections import namedtuple
from typing import Iterable, List, Optional, Tuple, Union

import torch
from torch import Tensor

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]

PackedSequence_ = namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])
PackedSequence_.__annotations__ = {
    "data": Tensor,
    "batch_sizes": Tensor,
    "sorted_indices": Optional[Tensor],
    "unsorted_indices": Optional[Tensor],
}


def bind(optional, fn):
    if optional is None:
        return None
    return fn(optional)


def _ints(x):
    if isinstance(x, Tensor):
        return [int(v) for v in x.tolist()]
    return [int(v) for v in x]


class PackedSequence(PackedSequence_):
    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        return super().__new__(cls, *_packed_sequence_init_args(data, batch_sizes, sorted_indices, unsorted_indices))

    def pin_memory(self):
        return self

    def cuda(self, *args, **kwargs):
        raise NotImplementedError("PackedSequence.cuda: CUDA is not supported by wasmdeploy")

    def cpu(self, *args, **kwargs):
        return self

    def double(self):
        return self.to(dtype=torch.double)

    def float(self):
        return self.to(dtype=torch.float)

    def half(self):
        return self.to(dtype=torch.half)

    def long(self):
        return self.to(dtype=torch.long)

    def int(self):
        return self.to(dtype=torch.int)

    def short(self):
        return self.to(dtype=torch.short)

    def char(self):
        return self.to(dtype=torch.int8)

    def byte(self):
        return self.to(dtype=torch.uint8)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def _packed_sequence_init_args(data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
    if unsorted_indices is None:
        unsorted_indices = invert_permutation(sorted_indices)
    if batch_sizes is not None:
        return data, batch_sizes, sorted_indices, unsorted_indices
    assert isinstance(data, (list, tuple)) and len(data) == 2
    return data[0], data[1], sorted_indices, unsorted_indices


def _packed_sequence_init(data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
    data, batch_sizes, sorted_indices, unsorted_indices = _packed_sequence_init_args(
        data, batch_sizes, sorted_indices, unsorted_indices
    )
    return PackedSequence(data, batch_sizes, sorted_indices, unsorted_indices)


def invert_permutation(permutation: Optional[Tensor]) -> Optional[Tensor]:
    if permutation is None:
        return None
    perm = _ints(permutation)
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return torch.tensor(inverse, dtype=torch.int64)


def _pack_padded_sequence(input, lengths, batch_first):
    """(data, batch_sizes) as ATen's _pack_padded_sequence; lengths: sorted Python ints."""
    if batch_first:
        input = input.transpose(0, 1)
    if any(l <= 0 for l in lengths):
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"
        )
    for a, b in zip(lengths, lengths[1:]):
        if b > a:
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when "
                "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                "to pack_padded_sequence and/or pack_sequence to sidestep this "
                "requirement if you do not need ONNX exportability."
            )
    max_len = lengths[0]
    if max_len > input.size(0):
        raise RuntimeError(
            f"Expected sequence length to be larger than 0 in RNN; got lengths up to {max_len} for an input of length {input.size(0)}"
        )
    batch_sizes = []
    pieces = []
    for t in range(max_len):
        bs = sum(1 for l in lengths if l > t)
        batch_sizes.append(bs)
        pieces.append(input[t, :bs])
    data = torch.cat(pieces, 0)
    return data, torch.tensor(batch_sizes, dtype=torch.int64)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False, enforce_sorted: bool = True) -> PackedSequence:
    lengths = _ints(lengths)
    if enforce_sorted:
        sorted_indices = None
    else:
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
        lengths = [lengths[i] for i in order]
        sorted_indices = torch.tensor(order, dtype=torch.int64)
        batch_dim = 0 if batch_first else 1
        input = input.index_select(batch_dim, sorted_indices)
    data, batch_sizes = _pack_padded_sequence(input, lengths, batch_first)
    return _packed_sequence_init(data, batch_sizes, sorted_indices, None)


def _full_like_rows(like, rows, value):
    return torch.full((rows,) + tuple(like.shape[1:]), value, dtype=like.dtype)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: Optional[int] = None) -> Tuple[Tensor, Tensor]:
    batch_sizes = _ints(sequence.batch_sizes)
    max_seq_length = len(batch_sizes)
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError(
                "Expected total_length to be at least the length "
                "of the longest sequence in input, but got "
                "total_length={} and max sequence length being {}".format(total_length, max_seq_length)
            )
        max_seq_length = total_length
    data = sequence.data
    max_batch = batch_sizes[0]
    steps = []
    offset = 0
    for bs in batch_sizes:
        piece = data[offset:offset + bs]
        offset += bs
        if bs < max_batch:
            piece = torch.cat([piece, _full_like_rows(piece, max_batch - bs, padding_value)], 0)
        steps.append(piece)
    for _ in range(max_seq_length - len(batch_sizes)):
        steps.append(_full_like_rows(data, max_batch, padding_value))
    padded = torch.stack(steps, 0)
    if batch_first:
        padded = padded.transpose(0, 1)
    lengths = [sum(1 for bs in batch_sizes if bs > b) for b in range(max_batch)]
    unsorted_indices = sequence.unsorted_indices
    if unsorted_indices is not None:
        batch_dim = 0 if batch_first else 1
        perm = _ints(unsorted_indices)
        return padded.index_select(batch_dim, unsorted_indices), torch.tensor([lengths[i] for i in perm], dtype=torch.int64)
    return padded, torch.tensor(lengths, dtype=torch.int64)


def pad_sequence(sequences: Union[Tensor, List[Tensor]], batch_first: bool = False, padding_value: float = 0.0) -> Tensor:
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    if not isinstance(sequences, Iterable):
        raise RuntimeError(
            f"pad_sequence: Expected iterable for input sequences, but got arg of type: {type(sequences)}"
        )
    sequences = tuple(sequences)
    max_len = max(s.size(0) for s in sequences)
    padded = []
    for s in sequences:
        if s.size(0) < max_len:
            s = torch.cat([s, _full_like_rows(s, max_len - s.size(0), padding_value)], 0)
        padded.append(s)
    return torch.stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> List[Tensor]:
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :l] for i, l in enumerate(_ints(lengths))]


def pack_sequence(sequences: List[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    lengths = [v.size(0) for v in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> List[Tensor]:
    padded_sequences, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded_sequences, lengths, batch_first=True)
