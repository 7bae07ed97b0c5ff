"""torch.utils.model_zoo: kept for backward compatibility, as in PyTorch."""

from torch.hub import load_state_dict_from_url as load_url  # noqa: F401

__all__ = ["load_url"]
