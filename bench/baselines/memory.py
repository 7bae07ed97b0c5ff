#!/usr/bin/python3
"""Memory baseline: n Python processes, each holding the model (loaded from its torch.package
archive, one inference done). Argument: {"workload", "counts": [1, 2, 4, ...]}. Processes are
started one after another; at each count the parent (which imports no torch and is not counted)
sums VmRSS and Pss (/proc/<pid>/smaps_rollup: shared pages split between the processes) of the
holders. A holder is `memory.py --hold WORKLOAD`: it loads, runs once, prints "ready", then waits
for stdin to close."""

import json
import subprocess
import sys
import time

from common import args, emit, pss_bytes, progress, rss_bytes


def hold(workload):
    import torch

    torch.set_num_threads(1)
    from common import check, find_model, load_arrays, load_object, manifest

    m = manifest()
    pc = m["python_calls"].get(workload)
    if pc:
        obj = load_object(pc["archive"], pc["pickle"])
        ok = getattr(obj, pc["method"])(*pc["args"]) == pc["expected"]
    else:
        e = find_model(m, workload, 1)
        obj = load_object(e["archive"], e["pickle"])
        with torch.no_grad():
            ok = check(obj(*load_arrays(e["inputs"])), load_arrays(e["expected"])[0])["ok"]
    print(json.dumps({"ready": True, "ok": ok}), flush=True)
    sys.stdin.read()  # hold until the parent closes our stdin


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--hold":
        return hold(sys.argv[2])
    a = args()
    procs, points = [], []
    try:
        for n in sorted(a["counts"]):
            while len(procs) < n:
                p = subprocess.Popen([sys.executable, __file__, "--hold", a["workload"]],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                line = p.stdout.readline()
                procs.append(p)
                if not line or not json.loads(line).get("ok"):
                    raise RuntimeError("holder failed: %s" % line.strip())
            time.sleep(0.5)
            rss = [rss_bytes(p.pid) for p in procs]
            pss = [pss_bytes(p.pid) for p in procs]
            points.append({"n": n, "rssBytes": sum(rss), "pssBytes": sum(x or 0 for x in pss),
                           "perProcessRss": rss})
            progress("%s x%d: RSS %.0f MB, PSS %.0f MB" % (a["workload"], n, sum(rss) / 2**20,
                                                           sum(x or 0 for x in pss) / 2**20))
    except Exception as e:  # noqa: BLE001
        emit({"ok": False, "error": str(e)[:300], "points": points})
        return
    finally:
        for p in procs:
            p.stdin.close()
        for p in procs:
            p.wait(30)
    emit({"ok": True, "points": points})


if __name__ == "__main__":
    main()
