"""Pure-Python workloads for bench/pure.ts: the kinds of code that run in the interpreter because
they cannot become a graph (tokenizers, beam search, detection post-processing, value-dependent
loops). Standard library only; the same file runs under /usr/bin/python3.11 and in the WASI
interpreter. Each workload is deterministic and returns a checksum, compared across the two.

    run(name) -> [wall milliseconds, checksum, CPU milliseconds]

The CPU time is time.process_time's; under WASI that clock is not the thread's CPU time, so
bench/pure.ts measures the WASI side's CPU time on the host instead (the process's, around the
call).
"""

import heapq
import math
import time

TEXT = (
    "the quick brown fox jumps over the lazy dog while a tokenizer splits every word into "
    "pieces and merges the most frequent pairs until the vocabulary is full; beam search keeps "
    "the best hypotheses, detection keeps the boxes that do not overlap, and all of it is plain "
    "python code running one bytecode at a time"
)


def dicts_strings(n=300):
    """Word counts, f-strings, joins, str methods and dict updates."""
    words = TEXT.split()
    total = 0
    for rep in range(n):
        counts = {}
        for i, w in enumerate(words):
            key = f"{w.lower()}:{(i + rep) % 7}"
            counts[key] = counts.get(key, 0) + len(w)
        line = ",".join(sorted(counts))
        total += len(line) + sum(counts.values())
        parts = [p.upper().strip() for p in line.split(",") if p.startswith(("t", "b", "p"))]
        total += len(parts) + len("".join(parts).replace("E", ""))
        for _ in range(30):
            d = {str(k): k * k for k in range(40)}
            total += sum(int(v) for k, v in d.items() if k.endswith("3"))
    return total


class Vec:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def add(self, o):
        return Vec(self.x + o.x, self.y + o.y)

    def scale(self, k):
        return Vec(self.x * k, self.y * k)

    def dot(self, o):
        return self.x * o.x + self.y * o.y


class Particle:
    def __init__(self, i):
        self.pos = Vec(i * 0.5, -i * 0.25)
        self.vel = Vec(1.0 / (i + 1), 0.5)
        self.hits = 0

    @property
    def speed(self):
        return math.sqrt(self.vel.dot(self.vel))

    def step(self, dt):
        self.pos = self.pos.add(self.vel.scale(dt))
        if self.pos.y > 10.0 or self.pos.y < -10.0:
            self.vel = Vec(self.vel.x, -self.vel.y)
            self.hits += 1


def method_calls(n=1000):
    """Objects, method calls, attribute access and a property."""
    ps = [Particle(i) for i in range(100)]
    for _ in range(n):
        for p in ps:
            p.step(0.1)
    return sum(p.hits for p in ps) + int(sum(p.speed for p in ps) * 1000)


def tokenizer(n=5):
    """A byte-pair-encoding tokenizer: learn merges on a corpus, then encode with them."""
    corpus = (TEXT + " ") * 8
    total = 0
    for _ in range(n):
        seq = list(corpus)
        merges = {}
        for rank in range(40):
            pairs = {}
            for a, b in zip(seq, seq[1:]):
                if a != " " and b != " ":
                    pairs[(a, b)] = pairs.get((a, b), 0) + 1
            if not pairs:
                break
            best = max(pairs, key=lambda p: (pairs[p], p))
            merges[best] = rank
            out = []
            i = 0
            while i < len(seq):
                if i + 1 < len(seq) and (seq[i], seq[i + 1]) == best:
                    out.append(seq[i] + seq[i + 1])
                    i += 2
                else:
                    out.append(seq[i])
                    i += 1
            seq = out
        vocab = {tok: i for i, tok in enumerate(sorted(set(seq)))}
        total += sum(vocab[t] for t in seq) + len(merges)
    return total


def sorting(n=36):
    """Sorts of tuples, strings and a key function; bisect-free ranking by hand."""
    total = 0
    seed = 12345
    for rep in range(n):
        rows = []
        for i in range(3000):
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
            rows.append((seed % 1000, f"item{seed % 997}", i))
        rows.sort()
        by_name = sorted(rows, key=lambda r: (r[1], -r[0]))
        desc = sorted((r[0] for r in rows), reverse=True)
        total += rows[rep][0] + by_name[rep][2] + desc[rep * 10]
    return total


def recursion(n=28):
    """Recursive calls: naive Fibonacci and building and walking a tree of tuples."""

    def fib(k):
        return k if k < 2 else fib(k - 1) + fib(k - 2)

    def build(depth):
        return None if depth == 0 else (depth, build(depth - 1), build(depth - 1))

    def walk(t):
        return 0 if t is None else t[0] + walk(t[1]) + walk(t[2])

    return fib(n) + walk(build(16))


def beam_search(n=120):
    """Beam search over a toy language model: heapq, lists of tuples, math.log."""
    vocab = 50
    total = 0.0
    for rep in range(n):
        beams = [(0.0, (0,))]
        for step in range(12):
            cand = []
            for score, seq in beams:
                last = seq[-1]
                for t in range(vocab):
                    p = ((last * 31 + t * 17 + step + rep) % 97 + 1) / 98.0
                    cand.append((score + math.log(p), seq + (t,)))
            beams = heapq.nlargest(4, cand)
        total += beams[0][0]
    return round(total, 6)


def nms(n=4):
    """Detection post-processing: score filter, sort, IoU-based non-maximum suppression."""
    kept = 0
    seed = 7
    for _ in range(n):
        boxes = []
        for i in range(300):
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
            x, y = seed % 500, (seed >> 9) % 500
            w, h = 20 + seed % 60, 20 + (seed >> 5) % 60
            boxes.append((x, y, x + w, y + h, (seed % 1000) / 1000.0))
        boxes = [b for b in boxes if b[4] > 0.05]
        boxes.sort(key=lambda b: b[4], reverse=True)
        keep = []
        for b in boxes:
            ok = True
            for k in keep:
                ix = max(0, min(b[2], k[2]) - max(b[0], k[0]))
                iy = max(0, min(b[3], k[3]) - max(b[1], k[1]))
                inter = ix * iy
                union = (b[2] - b[0]) * (b[3] - b[1]) + (k[2] - k[0]) * (k[3] - k[1]) - inter
                if inter / union > 0.5:
                    ok = False
                    break
            if ok:
                keep.append(b)
        kept += len(keep)
    return kept


WORKLOADS = {
    "dicts_strings": dicts_strings,
    "method_calls": method_calls,
    "tokenizer": tokenizer,
    "sorting": sorting,
    "recursion": recursion,
    "beam_search": beam_search,
    "nms": nms,
}


def run(name):
    f = WORKLOADS[name]
    c = time.process_time()
    t = time.perf_counter()
    out = f()
    wall = time.perf_counter() - t
    return [wall * 1000.0, out, (time.process_time() - c) * 1000.0]


def names():
    return list(WORKLOADS)


if __name__ == "__main__":
    # Native side of bench/pure.ts: one JSON command per line on stdin ("name"), one JSON reply.
    import json
    import sys

    for line in sys.stdin:
        print(json.dumps(run(json.loads(line))), flush=True)
