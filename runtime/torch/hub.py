"""torch.hub for wasmdeploy: interpreters have no network and no writable model cache, so
everything that would download raises; the path helpers torchvision reads at import time
work."""

import os

__all__ = ["download_url_to_file", "get_dir", "help", "list", "load", "load_state_dict_from_url", "set_dir"]

ENV_TORCH_HOME = "TORCH_HOME"
ENV_XDG_CACHE_HOME = "XDG_CACHE_HOME"
DEFAULT_CACHE_DIR = "~/.cache"
VAR_DEPENDENCY = "dependencies"
MODULE_HUBCONF = "hubconf.py"
READ_DATA_CHUNK = 8192
_hub_dir = None


def _no_network(what, detail):
    return RuntimeError(
        f"torch.hub.{what}: wasmdeploy interpreters have no network access ({detail}). "
        "Package the weights into the torch.package archive instead "
        "(e.g. pickle the model with its weights, or save a state_dict as a resource)."
    )


def _get_torch_home():
    return os.path.expanduser(
        os.getenv(ENV_TORCH_HOME, os.path.join(os.getenv(ENV_XDG_CACHE_HOME, DEFAULT_CACHE_DIR), "torch"))
    )


def get_dir():
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(_get_torch_home(), "hub")


def set_dir(d):
    global _hub_dir
    _hub_dir = os.path.expanduser(d)


def list(github, force_reload=False, skip_validation=False, trust_repo=None):
    raise _no_network("list", github)


def help(github, model, force_reload=False, skip_validation=False, trust_repo=None):
    raise _no_network("help", github)


def load(repo_or_dir, model, *args, source="github", trust_repo=None, force_reload=False, verbose=True,
         skip_validation=False, **kwargs):
    raise _no_network("load", f"{repo_or_dir}:{model}")


def download_url_to_file(url, dst, hash_prefix=None, progress=True):
    raise _no_network("download_url_to_file", url)


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True, check_hash=False,
                             file_name=None):
    raise _no_network("load_state_dict_from_url", url)
