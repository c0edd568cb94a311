#!/usr/bin/env python3
"""Golden values for the CIDEr-D tests in `crates/core/tests/it/metrics.rs`.

Reference package (pip): pycocoevalcap 1.2 (`pycocoevalcap.cider.cider.Cider`, which is
CIDEr-D: clipped TF-IDF cosines, Gaussian length penalty with sigma 6, x10), numpy.

Usage (from the repository root):

    python datasets/scripts/metrics/cider_golden.py

Writes `crates/core/tests/golden/metrics/cider.json`. The captions are generated from a small
vocabulary (so n-grams repeat across segments and document frequencies matter) and given to
`Cider.compute_score` as they are: like the COCO evaluation after its PTB tokenizer, they are
lower-case, space-separated tokens. A few edge cases are added: a single segment (all idf 0), an
empty hypothesis, one-word captions (the bigram-count length quirk), repeated n-grams
(clipping), case differences and a varying number of references.
"""

import json
import os
import random
import sys

from pycocoevalcap.cider.cider import Cider

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
OUT = os.path.join(ROOT, "crates", "core", "tests", "golden", "metrics", "cider.json")

WORDS = ("a an the man woman dog cat two people riding sitting on in of with red blue "
         "horse bike street table plate food grass field ball playing next to is are "
         "standing white black small large").split()


def caption(rng, lo=3, hi=12):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))


def perturb(rng, text):
    words = text.split()
    for _ in range(rng.randint(0, 4)):
        op = rng.random()
        if op < 0.4 and words:
            words[rng.randrange(len(words))] = rng.choice(WORDS)
        elif op < 0.7 and len(words) > 1:
            del words[rng.randrange(len(words))]
        else:
            words.insert(rng.randrange(len(words) + 1), rng.choice(WORDS))
    return " ".join(words)


def score(hyps, refs):
    gts = {i: list(r) for i, r in enumerate(refs)}
    res = {i: [h] for i, h in enumerate(hyps)}
    corpus, segments = Cider().compute_score(gts, res)
    return dict(score=float(corpus), segments=[float(s) for s in segments])


def main():
    rng = random.Random(20240919)
    corpora = []
    for i in range(4):
        n = rng.randint(8, 40)
        refs, hyps = [], []
        for _ in range(n):
            base = caption(rng)
            refs.append([perturb(rng, base) for _ in range(rng.randint(1, 5))])
            hyps.append(perturb(rng, base) if rng.random() < 0.8 else caption(rng, 0, 6))
        corpora.append(dict(name=f"random{i}", hyps=hyps, refs=refs))
    corpora += [
        dict(name="single_segment", hyps=["a man riding a horse"],
             refs=[["a man riding a horse", "a person on a horse"]]),
        dict(name="edge_cases",
             hyps=["", "dog", "a a a a a a", "A Man Riding A Horse", "the cat on the mat",
                   "two dogs playing with a ball in the grass"],
             refs=[["a dog on the grass"], ["dog", "a dog"], ["a a dog", "a cat"],
                   ["a man riding a horse", "a man on a horse", "man riding horse"],
                   ["the cat is on the mat", "a cat sitting on a mat", "the cat on the mat",
                    "cat on mat", "there is a cat on the mat"],
                   ["two dogs play with a ball on the grass"]]),
        dict(name="whitespace", hyps=["  a  man\triding a horse\n"],
             refs=[["a man riding a horse"]]),
    ]
    # The whitespace corpus has one segment; give it company so idf is not 0.
    corpora[-1]["hyps"].append("a dog")
    corpora[-1]["refs"].append(["a black dog", "the dog"])
    for c in corpora:
        c["expected"] = score(c["hyps"], c["refs"])

    def exact(obj):
        if isinstance(obj, float):
            return repr(obj)
        if isinstance(obj, dict):
            return {k: exact(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [exact(v) for v in obj]
        return obj

    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(exact(dict(corpora=corpora)), f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"{OUT}: {os.path.getsize(OUT)} bytes", file=sys.stderr)
    for c in corpora:
        print(c["name"], len(c["hyps"]), c["expected"]["score"], file=sys.stderr)


if __name__ == "__main__":
    main()
