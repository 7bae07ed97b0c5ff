#!/usr/bin/python3
"""Real PyTorch's results for module_cases.py -> module_expected.json, and nn_zoo.pt.

Run with Debian's python3-torch (1.13):

    /usr/bin/python3 test/torch_nn/make_module_expected.py

- module_expected.json: {"cases": {name: run_case(name)}, "api": api_report(),
  "roundtrip": state_dict_roundtrip(), "zoo": {name: outputs of the unpickled module}}
- nn_zoo.pt: a torch.package archive (torch externed, nothing interned) holding, for every
  name in module_cases.PICKLED, the built module (weights set) at zoo/<name>.pkl, exactly as
  torch 1.13 pickles nn.Modules (Module.__setstate__, _rebuild_parameter, FloatStorage ids),
  and the state_dict() of case composite_tinynet at zoo/tinynet_state.pkl.

module_expected.json is deterministic. nn_zoo.pt may differ byte-wise between runs: torch 1.13's
pickler memoizes the RNN weight-name strings differently from run to run (same objects).
"""

import io
import json
import os
import sys
import warnings

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402
from torch.package import PackageExporter, PackageImporter  # noqa: E402

import module_cases as mc  # noqa: E402

warnings.filterwarnings("ignore")
torch.set_num_threads(1)


def main():
    out = {"made_with": {"torch": torch.__version__, "python": sys.version.split()[0]}, "cases": {}}
    for name in mc.CASES:
        out["cases"][name] = json.loads(mc.run_case(name))
    out["api"] = json.loads(mc.api_report())
    out["roundtrip"] = json.loads(mc.state_dict_roundtrip())

    zoo_path = os.path.join(HERE, "nn_zoo.pt")
    buf = io.BytesIO()
    with PackageExporter(buf) as exporter:
        exporter.extern(["torch", "torch.**"])
        for name in mc.PICKLED:
            module, _ = mc.build(name)
            exporter.save_pickle("zoo", f"{name}.pkl", module)
        tinynet, _ = mc.build("composite_tinynet")
        exporter.save_pickle("zoo", "tinynet_state.pkl", tinynet.state_dict())
    data = buf.getvalue()
    with open(zoo_path, "wb") as f:
        f.write(data)

    importer = PackageImporter(zoo_path)
    out["zoo"] = {}
    for name in mc.PICKLED:
        module = importer.load_pickle("zoo", f"{name}.pkl")
        out["zoo"][name] = json.loads(mc.run_module(name, module))
        assert out["zoo"][name] == out["cases"][name], f"{name}: unpickled module differs"
    out["zoo_pickles"] = list(mc.PICKLED)
    out["zoo_state_dict"] = json.loads(mc.run_state_dict(importer.load_pickle("zoo", "tinynet_state.pkl")))

    path = os.path.join(HERE, "module_expected.json")
    text = json.dumps(out, separators=(",", ":"), sort_keys=False)
    with open(path, "w") as f:
        f.write(text + "\n")
    print(f"wrote {path} ({len(text)} bytes), {zoo_path} ({len(data)} bytes), {len(mc.CASES)} cases")


if __name__ == "__main__":
    main()
