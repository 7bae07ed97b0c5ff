#!/usr/bin/python3
"""Throughput baseline: real PyTorch from Python threads sharing one GIL, or one process each.

Argument: {"mode": "threads"|"processes", "system", "counts": [n...], "workloads": [...],
"durationMs", "warmupMs"}. Workloads are the models of bench/.cache/models/bench.json at batch 1
or its pure-Python calls (tokenizer, slow_counter), loaded from their torch.package archives.
torch.set_num_threads(1) everywhere: the threads / processes are the parallelism.
"""

import multiprocessing as mp
import threading
import time

from common import args, check, emit, find_model, load_arrays, load_object, manifest, progress

import torch

torch.set_num_threads(1)


def make_call(m, name):
    """Returns (call, check_result) for one workload; call() runs it once under no_grad."""
    pc = m["python_calls"].get(name)
    if pc:
        obj = load_object(pc["archive"], pc["pickle"])
        fn = getattr(obj, pc["method"])
        call = lambda: fn(*pc["args"])  # noqa: E731
        out = call()
        ok = out == pc["expected"]
        return call, {"ok": ok, **({} if ok else {"error": "result differs from the expected"})}
    e = find_model(m, name, 1)
    model = load_object(e["archive"], e["pickle"])
    xs = load_arrays(e["inputs"])
    want = load_arrays(e["expected"])[0]

    def call():
        with torch.no_grad():  # thread-local: entered in the calling thread
            return model(*xs)

    return call, check(call(), want)


# ---------------------------------------------------------------------------------------------
# threads
# ---------------------------------------------------------------------------------------------


def run_threads(call, n, duration, warmup):
    start = time.perf_counter() + warmup
    end = start + duration
    counts, lasts = [0] * n, [0.0] * n

    def worker(i):
        while time.perf_counter() < start:
            call()
        c, last = 0, start
        while time.perf_counter() < end:
            call()
            c += 1
            last = time.perf_counter()
        counts[i], lasts[i] = c, last

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return counts, max(lasts) - start


# ---------------------------------------------------------------------------------------------
# processes: a pool of max(counts) processes, each with its own copy of every workload
# ---------------------------------------------------------------------------------------------


def process_main(conn, names):
    torch.set_num_threads(1)
    m = manifest()
    calls, checks = {}, {}
    for name in names:
        try:
            calls[name], checks[name] = make_call(m, name)
        except Exception as e:  # noqa: BLE001
            checks[name] = {"ok": False, "error": ("%s: %s" % (type(e).__name__, e))[:300]}
    conn.send(checks)
    while True:
        msg = conn.recv()
        if msg is None:
            return
        name, start, end = msg
        call = calls[name]
        while time.time() < start:
            call()
        c, last = 0, start
        while time.time() < end:
            call()
            c += 1
            last = time.time()
        conn.send((c, last))


def main():
    a = args()
    m = manifest()
    duration, warmup = a["durationMs"] / 1000, a["warmupMs"] / 1000
    points = []
    if a["mode"] == "threads":
        for name in a["workloads"]:
            try:
                call, chk = make_call(m, name)
            except Exception as e:  # noqa: BLE001
                call, chk = None, {"ok": False, "error": ("%s: %s" % (type(e).__name__, e))[:300]}
            for n in a["counts"]:
                p = {"workload": name, "system": a["system"], "n": n, "callers": n, "ok": False,
                     "check": chk}
                points.append(p)
                if not chk["ok"]:
                    p["error"] = chk["error"]
                    continue
                counts, secs = run_threads(call, n, duration, warmup)
                p.update(ok=True, calls=sum(counts), seconds=round(secs, 4),
                         callsPerS=round(sum(counts) / secs, 2), perWorker=counts)
                progress("%s n=%d: %.1f calls/s (threads %s)" % (name, n, p["callsPerS"],
                                                                 "/".join(map(str, counts))))
    else:
        ctx = mp.get_context("spawn")
        size = max(a["counts"])
        pipes, procs = [], []
        t0 = time.time()
        for _ in range(size):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=process_main, args=(child, a["workloads"]), daemon=True)
            p.start()
            pipes.append(parent)
            procs.append(p)
        checks = [c.recv() for c in pipes]
        progress("%d processes ready in %.1f s" % (size, time.time() - t0))
        for name in a["workloads"]:
            for n in a["counts"]:
                bad = next((c[name] for c in checks[:n] if not c[name]["ok"]), None)
                p = {"workload": name, "system": a["system"], "n": n, "callers": n, "ok": False,
                     "check": checks[0][name]}
                points.append(p)
                if bad:
                    p["error"] = bad["error"]
                    continue
                start = time.time() + warmup + 0.05
                for c in pipes[:n]:
                    c.send((name, start, start + duration))
                res = [c.recv() for c in pipes[:n]]
                counts = [r[0] for r in res]
                secs = max(r[1] for r in res) - start
                p.update(ok=True, calls=sum(counts), seconds=round(secs, 4),
                         callsPerS=round(sum(counts) / secs, 2), perWorker=counts)
                progress("%s n=%d: %.1f calls/s (processes %s)" % (name, n, p["callsPerS"],
                                                                   "/".join(map(str, counts))))
        for c in pipes:
            c.send(None)
        for p in procs:
            p.join(10)
    emit({"points": points})


if __name__ == "__main__":
    main()
