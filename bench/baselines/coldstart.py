#!/usr/bin/python3
"""Cold start baseline: a fresh Python process imports torch, loads a torch.package archive from
disk and makes the first call (1 thread, no_grad). Argument: {"workload"} (a model of
bench/.cache/models/bench.json at batch 1, or one of its python_calls). The parent measures the
wall time from spawn to exit; this reports the phases."""

import os
import time

t_start = time.perf_counter()
import json  # noqa: E402
import sys  # noqa: E402

sys.dont_write_bytecode = True


def since_process_start_ms():
    """Milliseconds since this process started (kernel start time, 10 ms resolution)."""
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    start = int(fields[19]) / os.sysconf("SC_CLK_TCK")
    return (time.clock_gettime(time.CLOCK_BOOTTIME) - start) * 1000


def main():
    a = json.loads(sys.argv[1])
    out = {"ok": False, "pythonStartMs": round(since_process_start_ms(), 1)}
    t = time.perf_counter()
    import torch

    torch.set_num_threads(1)
    from common import check, find_model, load_arrays, load_object, manifest

    out["importTorchMs"] = (time.perf_counter() - t) * 1000
    m = manifest()
    pc = m["python_calls"].get(a["workload"])
    t = time.perf_counter()
    if pc:
        obj = load_object(pc["archive"], pc["pickle"])
        out["loadMs"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        result = getattr(obj, pc["method"])(*pc["args"])
        out["firstCallMs"] = (time.perf_counter() - t) * 1000
        out["firstResultAtMs"] = since_process_start_ms()
        out["ok"] = result == pc["expected"]
    else:
        e = find_model(m, a["workload"], 1)
        model = load_object(e["archive"], e["pickle"])
        out["loadMs"] = (time.perf_counter() - t) * 1000
        xs = load_arrays(e["inputs"])
        t = time.perf_counter()
        with torch.no_grad():
            y = model(*xs)
        out["firstCallMs"] = (time.perf_counter() - t) * 1000
        out["firstResultAtMs"] = since_process_start_ms()
        c = check(y, load_arrays(e["expected"])[0])
        out["ok"] = c["ok"]
        if not c["ok"]:
            out["error"] = c["error"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
