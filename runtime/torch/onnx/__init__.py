"""torch.onnx for wasmdeploy: exporting is not supported inside an interpreter. The
registration API exists because library code calls it at import time (torchvision.ops registers
its custom-op symbolics when imported); registrations are recorded and never used."""

from . import symbolic_helper, symbolic_opset9, symbolic_opset11  # noqa: F401

__all__ = ["export", "register_custom_op_symbolic", "unregister_custom_op_symbolic", "is_in_onnx_export"]

producer_name = "pytorch"
producer_version = "1.13.0"
_registered = {}


class OperatorExportTypes:
    ONNX = 0
    ONNX_ATEN = 1
    ONNX_ATEN_FALLBACK = 2
    ONNX_FALLTHROUGH = 3


class TrainingMode:
    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


def register_custom_op_symbolic(symbolic_name, symbolic_fn, opset_version):
    _registered[(symbolic_name, opset_version)] = symbolic_fn


def unregister_custom_op_symbolic(symbolic_name, opset_version):
    _registered.pop((symbolic_name, opset_version), None)


def is_in_onnx_export():
    return False


def export(*args, **kwargs):
    raise NotImplementedError("torch.onnx.export is not supported by wasmdeploy (export with real PyTorch)")


def dynamo_export(*args, **kwargs):
    raise NotImplementedError("torch.onnx.dynamo_export is not supported by wasmdeploy")
