#!/usr/bin/python3
"""Latency baseline: PyTorch eager, the model loaded from its torch.package archive.

Argument: {"system": {"id", "threads"}, "cells": [{"model", "batch"}], "timing": {...}}.
One call at a time under torch.no_grad(), torch.set_num_threads(threads).
"""

import time

from common import args, check, emit, find_model, fmt, load_arrays, load_object, manifest, \
    progress, summarize, time_calls

import torch


def main():
    a = args()
    torch.set_num_threads(a["system"]["threads"])
    m = manifest()
    cells, models = [], {}
    for c in a["cells"]:
        cell = dict(c, system=a["system"]["id"], ok=False)
        cells.append(cell)
        try:
            e = find_model(m, c["model"], c["batch"])
            if e["archive"] not in models:
                models[e["archive"]] = load_object(e["archive"], e["pickle"])
            model = models[e["archive"]]
            xs = load_arrays(e["inputs"])
            want = load_arrays(e["expected"])[0]
            with torch.no_grad():
                t = time.perf_counter()
                out = model(*xs)
                cell["firstCallMs"] = round((time.perf_counter() - t) * 1000, 3)
                cell["check"] = check(out, want)
                if not cell["check"]["ok"]:
                    cell["error"] = cell["check"]["error"]
                    progress("%s b%d: failed: %s" % (c["model"], c["batch"], cell["error"]))
                    continue
                samples = time_calls(a["timing"], lambda: model(*xs))
            cell.update(ok=True, ms=summarize(samples), samples=[round(x, 3) for x in samples])
            progress("%s b%d: %s" % (c["model"], c["batch"], fmt(cell["ms"])))
        except Exception as e:  # noqa: BLE001
            cell["error"] = ("%s: %s" % (type(e).__name__, e)).splitlines()[0][:300]
            progress("%s b%d: failed: %s" % (c["model"], c["batch"], cell["error"]))
    emit({"cells": cells})


if __name__ == "__main__":
    main()
