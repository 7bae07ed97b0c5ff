"""Runs every case of op_cases.py under real PyTorch 1.13 and writes op_expected.json.

    /usr/bin/python3 test/torch/make_op_expected.py
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import op_cases  # noqa: E402

assert not op_cases.WASMDEPLOY, "run this with real PyTorch (/usr/bin/python3), not wasmdeploy's runtime"


def main():
    out = {"generator": f"torch {torch.__version__}", "cases": {}}
    bad = []
    for c in op_cases.CASES:
        r = op_cases.run_case(c)
        if c["error"]:
            want = c["error"][0]
            if "error" not in r or r["error"][0] != want:
                bad.append(f"{c['name']}: expected {want}, got {r}")
            out["cases"][c["name"]] = {"error": want, "contains": c["error"][1]}
        else:
            if "error" in r:
                bad.append(f"{c['name']}: raised {r['error']}")
                continue
            entry = {"result": r["ok"]}
            if c["tol"]:
                entry["tol"] = list(c["tol"])
            out["cases"][c["name"]] = entry
    text = json.dumps(out, separators=(",", ":"), sort_keys=False)
    with open(os.path.join(HERE, "op_expected.json"), "w") as f:
        f.write(text + "\n")
    print(f"{len(out['cases'])} cases, {len(text)} bytes")
    if bad:
        print("problems:\n  " + "\n  ".join(bad))
        sys.exit(1)


if __name__ == "__main__":
    main()
