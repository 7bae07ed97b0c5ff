"""torch.nn.utils.clip_grad: there are no gradients in wasmdeploy (inference only), so the
parameters never have a .grad and clipping is a no-op returning a zero norm, as PyTorch does
for parameters without gradients."""

import warnings

import torch

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_"]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    return torch.tensor(0.0)


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    warnings.warn(
        "torch.nn.utils.clip_grad_norm is now deprecated in favor of torch.nn.utils.clip_grad_norm_.", stacklevel=2
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite)


def clip_grad_value_(parameters, clip_value) -> None:
    return None
