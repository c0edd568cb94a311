#!/usr/bin/env python3
"""Golden values for the Tatoeba retrieval tests in `crates/core/tests/it/metrics.rs`.

References: XTREME's Tatoeba evaluation (`third_party/run_retrieval.py`, `similarity_search`
with `normalize=True`: L2-normalise, inner-product nearest neighbour) and LASER's xSIM
(`source/xsim.py`, facebookresearch/LASER, margin `absolute` and `ratio`), ported to NumPy with
a brute-force k-nearest-neighbour search in float64 instead of faiss (faiss is not needed for
a few hundred vectors, and the port keeps the operations: normalise, k nearest by cosine,
average the k cosines on both sides, score each query's k candidates by
`cos / ((avg_x + avg_y) / 2)`, keep the arg-max). `k` is capped at the number of candidates,
as LASER's `calculate_error` in later versions does.

Usage (from the repository root; needs numpy only):

    python datasets/scripts/metrics/retrieval_golden.py

Writes `crates/core/tests/golden/metrics/retrieval.json`. Embeddings are seeded: target `i`
is source `i` plus noise, and a few "hub" targets lie near the centre of many sources, so
cosine and margin retrieval differ. Components are rounded to 4 decimals and read as float32
on both sides (the Rust API takes `f32` embeddings).
"""

import json
import os
import sys

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
OUT = os.path.join(ROOT, "crates", "core", "tests", "golden", "metrics", "retrieval.json")


def normalise(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def knn(x, y, k):
    """The k most similar rows of y for every row of x, best first (ties: lower index)."""
    sims = x @ y.T
    idx = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(sims, idx, axis=1), idx


def retrieve(x, y, margin, k):
    x, y = normalise(x), normalise(y)
    if margin == "absolute":
        return knn(x, y, 1)[1][:, 0]
    cos_xy, idx_xy = knn(x, y, min(k, len(y)))
    cos_yx, _ = knn(y, x, min(k, len(x)))
    avg_xy, avg_yx = cos_xy.mean(axis=1), cos_yx.mean(axis=1)
    scores = np.zeros(idx_xy.shape)
    for i in range(idx_xy.shape[0]):
        for j in range(idx_xy.shape[1]):
            jj = idx_xy[i, j]
            scores[i, j] = cos_xy[i, j] / ((avg_xy[i] + avg_yx[jj]) / 2)
    best = scores.argmax(axis=1)
    return idx_xy[np.arange(len(x)), best]


def margin_matrix(x, y, k):
    x, y = normalise(x), normalise(y)
    cos = x @ y.T
    avg_xy = knn(x, y, min(k, len(y)))[0].mean(axis=1)
    avg_yx = knn(y, x, min(k, len(x)))[0].mean(axis=1)
    return cos / ((avg_xy[:, None] + avg_yx[None, :]) / 2)


def make_case(rng, n, dim, noise, hubs):
    src = rng.normal(size=(n, dim))
    tgt = src + noise * rng.normal(size=(n, dim))
    centre = src.mean(axis=0)
    for h in range(hubs):
        tgt[h] = centre + 0.2 * rng.normal(size=dim)
    src, tgt = np.round(src, 4), np.round(tgt, 4)
    # The file holds the 4-decimal values; both sides compute from their nearest float32.
    x = src.astype(np.float32).astype(np.float64)
    y = tgt.astype(np.float32).astype(np.float64)
    case = dict(source=src.tolist(), target=tgt.tolist(), results=[])
    for margin, k in [("absolute", 1), ("ratio", 4), ("ratio", 1), ("ratio", 2), ("ratio", 100)]:
        fwd = retrieve(x, y, margin, k)
        bwd = retrieve(y, x, margin, k)
        case["results"].append(dict(
            margin=margin, k=k, source_to_target=fwd.tolist(), target_to_source=bwd.tolist(),
            accuracy_source_to_target=float((fwd == np.arange(n)).mean()),
            accuracy_target_to_source=float((bwd == np.arange(n)).mean())))
    m = margin_matrix(x, y, 4)
    case["margin_k4_rows"] = [[float(v) for v in m[i]] for i in range(3)]
    return case


def main():
    rng = np.random.default_rng(20240918)
    cases = [
        make_case(rng, 40, 8, 1.0, 0),
        make_case(rng, 60, 12, 1.2, 6),
        make_case(rng, 25, 16, 0.6, 3),
        make_case(rng, 3, 4, 0.5, 0),
    ]
    out = dict(cases=cases)

    def exact(obj):
        if isinstance(obj, float):
            return repr(obj)
        if isinstance(obj, dict):
            return {k: exact(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [exact(v) for v in obj]
        return obj

    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(exact(out), f, separators=(",", ":"))
        f.write("\n")
    print(f"{OUT}: {os.path.getsize(OUT)} bytes", file=sys.stderr)
    for c in cases:
        for r in c["results"]:
            print(len(c["source"]), r["margin"], r["k"], r["accuracy_source_to_target"],
                  r["accuracy_target_to_source"], file=sys.stderr)


if __name__ == "__main__":
    main()
