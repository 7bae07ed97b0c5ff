"""torch.ao.quantization for wasmdeploy: what float models (and torchvision's quantizable model
classes, imported by torchvision.models at import time) use. QuantStub and DeQuantStub are the
identity before a model is converted, as in PyTorch 1.13; preparing or converting a model for
quantized kernels is not supported (there are none)."""

from torch import nn


class QuantStub(nn.Module):
    def __init__(self, qconfig=None):
        super().__init__()
        if qconfig:
            self.qconfig = qconfig

    def forward(self, x):
        return x


class DeQuantStub(nn.Module):
    def __init__(self, qconfig=None):
        super().__init__()
        if qconfig:
            self.qconfig = qconfig

    def forward(self, x):
        return x


class QuantWrapper(nn.Module):
    def __init__(self, module):
        super().__init__()
        qconfig = getattr(module, "qconfig", None)
        self.add_module("quant", QuantStub(qconfig))
        self.add_module("dequant", DeQuantStub(qconfig))
        self.add_module("module", module)
        self.train(module.training)

    def forward(self, X):
        X = self.quant(X)
        X = self.module(X)
        return self.dequant(X)


def _unsupported(name):
    def f(*args, **kwargs):
        raise NotImplementedError(f"torch.ao.quantization.{name}: quantization is not supported by wasmdeploy")

    f.__name__ = name
    return f


for _name in ("fuse_modules", "fuse_modules_qat", "prepare", "prepare_qat", "convert", "quantize", "quantize_dynamic",
              "get_default_qconfig", "get_default_qat_qconfig", "propagate_qconfig_"):
    globals()[_name] = _unsupported(_name)
del _name
