#!/usr/bin/env python3
"""Golden values for the Matthews, Pearson and Spearman tests in `crates/core/tests/it/metrics.rs`.

Reference packages (pip): scikit-learn 1.9.1 (`sklearn.metrics.matthews_corrcoef`),
scipy 1.17.1 (`scipy.stats.pearsonr`, `scipy.stats.spearmanr`, `scipy.stats.rankdata`), numpy.

Usage (from the repository root):

    python datasets/scripts/metrics/correlation_golden.py

Writes `crates/core/tests/golden/metrics/correlation.json`. Inputs are seeded random samples
(binary and multi-class labels, continuous values, values with many ties) plus hand-picked edge
cases (one class everywhere, a constant prediction, two pairs, huge magnitudes). Floats are
written as their Python `repr` so that the Rust test parses them exactly.
"""

import json
import os
import random
import sys
import warnings

import numpy as np
from scipy.stats import pearsonr, rankdata, spearmanr
from sklearn.metrics import matthews_corrcoef

warnings.filterwarnings("ignore")

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
OUT = os.path.join(ROOT, "crates", "core", "tests", "golden", "metrics", "correlation.json")


def exact(obj):
    if isinstance(obj, float):
        return repr(obj)
    if isinstance(obj, dict):
        return {k: exact(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [exact(v) for v in obj]
    return obj


def noisy_labels(rng, gold, classes, keep):
    return [g if rng.random() < keep else rng.choice(classes) for g in gold]


def mcc_cases(rng):
    cases = []
    for i in range(12):
        n_classes = 2 if i < 5 else rng.randint(3, 7)
        classes = [f"c{k}" for k in range(n_classes)]
        n = rng.randint(5, 150)
        gold = [rng.choice(classes) for _ in range(n)]
        pred = noisy_labels(rng, gold, classes, rng.choice([0.0, 0.3, 0.7, 0.95]))
        cases.append(dict(name=f"random{i}", gold=gold, pred=pred))
    cases += [
        dict(name="sklearn_doc", gold=["+", "+", "+", "-"], pred=["+", "-", "+", "+"]),
        dict(name="perfect", gold=["a", "b", "c", "a"], pred=["a", "b", "c", "a"]),
        dict(name="inverse", gold=["a", "b", "a", "b"], pred=["b", "a", "b", "a"]),
        dict(name="one_class_everywhere", gold=["x"] * 5, pred=["x"] * 5),
        dict(name="constant_prediction", gold=["a", "b", "c", "a"], pred=["a"] * 4),
        dict(name="constant_gold", gold=["a"] * 4, pred=["a", "b", "a", "b"]),
        dict(name="single_item", gold=["a"], pred=["b"]),
        dict(name="label_only_predicted", gold=["a", "a", "b", "b"], pred=["a", "c", "b", "b"]),
    ]
    for c in cases:
        c["mcc"] = float(matthews_corrcoef(c["gold"], c["pred"]))
    return cases


def correlation_cases(rng):
    np_rng = np.random.default_rng(20240917)
    cases = []
    for i in range(10):
        n = int(np_rng.integers(3, 80))
        x = np_rng.normal(size=n)
        y = rng.choice([0.0, 0.3, 0.9]) * x + np_rng.normal(size=n)
        cases.append(dict(name=f"normal{i}", x=x.tolist(), y=y.tolist()))
    for i in range(8):
        # Many ties: small integer ranges, as in STS-B-style 0-5 ratings.
        n = int(np_rng.integers(3, 60))
        x = np_rng.integers(0, 6, size=n).astype(float)
        y = np.clip(x + np_rng.integers(-2, 3, size=n), 0, 5).astype(float)
        if i % 2:
            y = y + np_rng.choice([0.0, 0.5], size=n)
        cases.append(dict(name=f"ties{i}", x=x.tolist(), y=y.tolist()))
    cases += [
        dict(name="two_pairs", x=[1.0, 5.0], y=[3.0, -1.0]),
        dict(name="three_pairs", x=[0.1, 0.2, 0.4], y=[1.0, 3.0, 2.0]),
        dict(name="huge", x=[-5e210, 5e210, 3e200, -3e200], y=[1.0, 2.0, 3.5, -1.0]),
        dict(name="offset", x=[1e8 + v for v in [0.1, 0.25, 0.2, 0.4, 0.3]],
             y=[2.0, 1.0, 4.0, 3.0, 5.0]),
        dict(name="all_tied_but_one", x=[1.0, 1.0, 1.0, 1.0, 2.0], y=[0.3, 0.1, 0.4, 0.1, 0.5]),
        dict(name="negative_zero", x=[0.0, -0.0, 1.0, 2.0], y=[4.0, 3.0, 2.0, 1.0]),
    ]
    for c in cases:
        x, y = np.array(c["x"]), np.array(c["y"])
        c["pearson"] = float(pearsonr(x, y).statistic)
        c["spearman"] = float(spearmanr(x, y).statistic)
        c["ranks_x"] = rankdata(x).tolist()
    return cases


def main():
    rng = random.Random(20240917)
    out = dict(mcc=mcc_cases(rng), correlation=correlation_cases(rng))
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(exact(out), f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"{OUT}: {os.path.getsize(OUT)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
