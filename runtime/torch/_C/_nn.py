"""torch._C._nn: in PyTorch 1.13 several torch.nn.functional functions are these builtins
(gelu, softplus, softshrink, log_sigmoid, elu_, hardtanh_, leaky_relu_, linear, one_hot,
avg_pool2d, avg_pool3d, ...), so pickles that hold them (e.g. TransformerEncoderLayer's
activation=F.gelu) name ``torch._C._nn.gelu``. Here every name resolves to the same object as
torch.nn.functional's (so ``activation is F.gelu`` still holds), else to torch's."""

_ALIASES = {"log_sigmoid": "logsigmoid"}


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    import torch
    import torch.nn.functional as F

    fn = getattr(F, _ALIASES.get(name, name), None)
    if fn is None:
        fn = getattr(torch, name, None)
    if fn is None:
        raise AttributeError(f"module 'torch._C._nn' has no attribute '{name}' (wasmdeploy)")
    return fn
