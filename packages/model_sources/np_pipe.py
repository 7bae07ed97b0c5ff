"""Pre- and post-processing in numpy (packages/make_numpy_archives.py, issue 21)."""

import numpy as np


class Pipeline:
    def __init__(self, mean, std, labels):
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.asarray(std, dtype=np.float64)
        self.labels = list(labels)

    def preprocess(self, rows):
        x = np.asarray(rows, dtype=np.float64)
        z = (x - self.mean) / self.std
        return np.round(z, 6).tolist()

    def softmax_topk(self, logits, k):
        a = np.asarray(logits, dtype=np.float64)
        e = np.exp(a - a.max(axis=-1, keepdims=True))
        p = e / e.sum(axis=-1, keepdims=True)
        order = np.argsort(-p, axis=-1, kind="stable")[..., :k]
        return [[[self.labels[int(i)], round(float(row[i]), 6)] for i in idx] for row, idx in zip(p, order)]

    def stats(self, values):
        v = np.asarray(values, dtype=np.float64)
        hist, edges = np.histogram(v, bins=4)
        return {
            "hist": hist.tolist(),
            "edges": np.round(edges, 6).tolist(),
            "cumsum": np.round(np.cumsum(v), 6).tolist(),
            "median": float(np.median(v)),
            "std": round(float(v.std()), 6),
        }

    def solve(self, a, b):
        return np.round(np.linalg.solve(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)), 6).tolist()
