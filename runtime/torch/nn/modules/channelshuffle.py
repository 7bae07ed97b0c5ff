"""ChannelShuffle (PyTorch 1.13 torch/nn/modules/channelshuffle.py, BSD-3-Clause; adapted for wasmdeploy)."""

from .module import Module
from .. import functional as F
from torch import Tensor
__all__ = ['ChannelShuffle']

class ChannelShuffle(Module):
    __constants__ = ['groups']
    groups: int

    def __init__(self, groups: int) -> None:
        super(ChannelShuffle, self).__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return 'groups={}'.format(self.groups)
