"""torch.onnx.symbolic_helper: decorators used when defining ONNX symbolics (never run here)."""

import functools


def parse_args(*arg_descriptors):
    def decorator(fn):
        fn._arg_descriptors = arg_descriptors

        @functools.wraps(fn)
        def wrapper(g, *args, **kwargs):
            return fn(g, *args, **kwargs)

        return wrapper

    return decorator


def quantized_args(*arg_q_descriptors, scale=None, zero_point=None):
    def decorator(fn):
        return fn

    return decorator


def _unimplemented(op, msg):
    raise NotImplementedError(f"torch.onnx: {op} {msg}")
