#!/usr/bin/env python3
"""Golden values for BLEU with a maximum n-gram order of 1 to 4 (BLEU-1 .. BLEU-4) in
`crates/core/tests/it/metrics.rs`.

Reference package (pip): sacrebleu==2.6.0 (`sacrebleu.metrics.BLEU(max_ngram_order=n)`).

Usage (from the repository root):

    python datasets/scripts/metrics/bleu_orders_golden.py

Writes `crates/core/tests/golden/metrics/bleu_orders.json`: corpus and sentence scores of seeded
random corpora (one or two reference streams) for every order 1..4 with the default (`exp`),
`floor`, `add-k` and `none` smoothing, and sentence BLEU with effective order. The main BLEU
golden file (`make_golden.py`, `bleu.json`) covers tokenizers and the other options at order 4.
"""

import json
import logging
import os
import random
import sys

from sacrebleu.metrics import BLEU

logging.getLogger("sacrebleu").setLevel(logging.ERROR)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
OUT = os.path.join(ROOT, "crates", "core", "tests", "golden", "metrics", "bleu_orders.json")

WORDS = ("the a cat dog sat on mat house is was not it , . ! ? U.S. e-mail 1,000 3.14 "
         "(hello) well yes no big small red green quickly jumped over lazy fox").split()


def sentence(rng, lo, hi):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))


def perturb(rng, text):
    words = text.split()
    for _ in range(rng.randint(0, 4)):
        op = rng.random()
        if op < 0.4 and words:
            words[rng.randrange(len(words))] = rng.choice(WORDS)
        elif op < 0.7 and words:
            del words[rng.randrange(len(words))]
        else:
            words.insert(rng.randrange(len(words) + 1), rng.choice(WORDS))
    return " ".join(words)


def expected(score):
    return dict(score=score.score, counts=list(score.counts), totals=list(score.totals),
                precisions=list(score.precisions), bp=score.bp, sys_len=score.sys_len,
                ref_len=score.ref_len, display=score.format())


def main():
    rng = random.Random(20240920)
    corpora = []
    for i in range(3):
        refs1 = [sentence(rng, 1, 14) for _ in range(rng.randint(5, 30))]
        streams = [refs1] + ([[perturb(rng, r) for r in refs1]] if i != 1 else [])
        hyps = [perturb(rng, r) for r in refs1]
        corpora.append(dict(name=f"random{i}", hyps=hyps, refs=streams))
    corpora.append(dict(name="short", hyps=["the cat", "a"], refs=[["the cat sat", "a dog"]]))

    smoothing = [("exp", None), ("floor", None), ("add-k", None), ("none", None)]
    corpus_cases = []
    for c in corpora:
        for order in range(1, 5):
            for method, value in smoothing:
                bleu = BLEU(max_ngram_order=order, smooth_method=method, smooth_value=value)
                s = bleu.corpus_score(c["hyps"], c["refs"])
                corpus_cases.append(dict(corpus=c["name"], max_ngram_order=order,
                                         smooth_method=method, expected=expected(s)))
    sentence_cases = []
    for i in range(12):
        ref = sentence(rng, 1, 10)
        hyp = perturb(rng, ref)
        order = 1 + i % 4
        for effective in (False, True):
            s = BLEU(max_ngram_order=order, effective_order=effective).sentence_score(hyp, [ref])
            sentence_cases.append(dict(hyp=hyp, refs=[ref], max_ngram_order=order,
                                       effective_order=effective, expected=expected(s)))

    def exact(obj):
        if isinstance(obj, float):
            return repr(obj)
        if isinstance(obj, dict):
            return {k: exact(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [exact(v) for v in obj]
        return obj

    out = dict(corpora=corpora, corpus_cases=corpus_cases, sentence_cases=sentence_cases)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(exact(out), f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"{OUT}: {os.path.getsize(OUT)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
