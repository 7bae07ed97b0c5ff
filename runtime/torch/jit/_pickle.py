"""torch.jit._pickle: the helpers TorchScript's pickles name for typed lists and type tags."""


def build_intlist(data):
    return data


def build_tensorlist(data):
    return data


def build_doublelist(data):
    return data


def build_boollist(data):
    return data


def build_tensor_from_id(data):
    raise NotImplementedError("torch.jit._pickle.build_tensor_from_id: tensors by id are not supported by wasmdeploy")


def restore_type_tag(value, type_str):
    return value
