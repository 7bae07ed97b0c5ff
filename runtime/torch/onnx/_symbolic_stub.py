"""Symbolic functions are only ever called by the ONNX exporter, which wasmdeploy does not have."""


def make(module_name):
    def __getattr__(name):
        if name.startswith("__"):
            raise AttributeError(name)

        def symbolic(g, *args, **kwargs):
            raise NotImplementedError(f"{module_name}.{name}: ONNX export is not supported by wasmdeploy")

        symbolic.__name__ = name
        return symbolic

    return __getattr__
