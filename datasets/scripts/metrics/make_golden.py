#!/usr/bin/env python3
"""Generate golden values for `crates/core/tests/it/metrics.rs` from the reference packages.

Reference packages (pip): sacrebleu==2.6.0, seqeval==1.2.2, rouge-score==0.1.2,
scikit-learn (pulled in by seqeval), numpy.

Usage (from the repository root):

    python datasets/scripts/metrics/make_golden.py

Writes `crates/core/tests/golden/metrics/{bleu,bleu_mls,chrf,seqeval,rouge,classification,
calibration}.json`. Inputs are deterministic (seeded `random.Random`) plus hand-picked edge cases.
The MLS golden values are computed on `../shared/datasets/mls_outputs/` (relative to the
repository root); the Rust test reads the same files.
"""

import json
import os
import random
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore")

import sacrebleu  # noqa: E402
from rouge_score import rouge_scorer  # noqa: E402
from sacrebleu.metrics import BLEU, CHRF  # noqa: E402
from seqeval.metrics import classification_report as seq_report  # noqa: E402
from seqeval.metrics.sequence_labeling import get_entities  # noqa: E402
from seqeval.scheme import IOB1, IOB2, IOBES, IOE1, IOE2, BILOU  # noqa: E402
from sklearn.metrics import accuracy_score, precision_recall_fscore_support  # noqa: E402

import logging  # noqa: E402

logging.getLogger("sacrebleu").setLevel(logging.ERROR)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
OUT = os.path.join(ROOT, "crates", "core", "tests", "golden", "metrics")
MLS = os.path.abspath(os.path.join(ROOT, "..", "shared", "datasets", "mls_outputs"))


def exact_floats(obj):
    """Writes floats as their shortest round-trip string (`repr`), so that the Rust test can
    parse them exactly with `str::parse::<f64>` (serde_json's default float parsing is only
    best-effort and may be off by one ULP)."""
    if isinstance(obj, float):
        return repr(obj)
    if isinstance(obj, dict):
        return {k: exact_floats(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [exact_floats(v) for v in obj]
    return obj


def dump(name, obj):
    obj = exact_floats(obj)
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"{path}: {os.path.getsize(path)} bytes", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# Random text

WORDS = [
    "the", "The", "a", "cat", "dog", "sat", "on", "mat", "house", "is", "was", "not", "it",
    "It's", "don't", "U.S.", "Mr.", "e-mail", "state-of-the-art", "1,000", "3.14", "2019",
    "10-20", "5%", "$5", "(hello)", "[x]", "{y}", "\"quoted\"", "'single'", "a,b", "end.",
    "well,", "yes!", "no?", "x:y", "a/b", "&amp;", "&quot;", "&lt;tag&gt;", "<skipped>",
    "café", "naïve", "Straße", "ΟΔΟΣ", "ΣΟΦΟΣ", "İstanbul", "KELVIN\u212a", "über", "ﬁne",
    "“smart”", "it’s", "—", "–", "…", "€10", "½", "™", "©", "°C", "→", "★", "😀", "#tag",
    "@user", "a_b", "x^2", "~", "`", "|", "\\", "word-", "-word", "9-", "-9", "3,", ",3",
    ".5", "5.", "A.B.C", "¿qué?", "¡sí!", "日本", "中文字", "한국어", "Ελλάδα", "мир",
]
CJK = list("我的你他她是在有不了人这中大为上个国和地到以说时要就出会可也着")
SEPS = [" ", " ", " ", " ", "  ", "\t", "\u00a0", "\u3000", "\u2009", "\u001f"]


def rand_sentence(rng, lo=0, hi=14, cjk=False):
    n = rng.randint(lo, hi)
    toks = []
    for _ in range(n):
        if cjk and rng.random() < 0.6:
            toks.append("".join(rng.choice(CJK) for _ in range(rng.randint(1, 4))))
        else:
            toks.append(rng.choice(WORDS))
    out = ""
    for i, t in enumerate(toks):
        if i:
            out += rng.choice(SEPS) if not (cjk and rng.random() < 0.5) else ""
        out += t
    if rng.random() < 0.2:
        out = rng.choice([" ", "  ", "\t", "\n"]) + out
    if rng.random() < 0.2:
        out += rng.choice([" ", " \n", "\t", "\u3000"])
    return out


def perturb(rng, sent):
    toks = sent.split()
    out = []
    for t in toks:
        r = rng.random()
        if r < 0.15:
            continue
        if r < 0.3:
            out.append(rng.choice(WORDS))
        else:
            out.append(t)
        if rng.random() < 0.08:
            out.append(rng.choice(WORDS))
    if len(out) > 3 and rng.random() < 0.3:
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    return " ".join(out)


# ---------------------------------------------------------------------------------------------
# BLEU


def bleu_cfg(tokenize="13a", smooth_method="exp", smooth_value=None, lowercase=False,
             effective_order=False, max_ngram_order=4):
    return dict(tokenize=tokenize, smooth_method=smooth_method, smooth_value=smooth_value,
                lowercase=lowercase, effective_order=effective_order,
                max_ngram_order=max_ngram_order)


def bleu_expected(score):
    # Note: with `add-k` smoothing sacreBLEU returns the smoothed (k-added) counts/totals.
    return dict(score=score.score, counts=list(score.counts),
                totals=list(score.totals), precisions=list(score.precisions),
                bp=score.bp, sys_len=score.sys_len, ref_len=score.ref_len,
                display=score.format())


def make_bleu_cases(rng):
    corpora = {}
    # Random corpus, two reference streams.
    refs1 = [rand_sentence(rng, 0, 16) for _ in range(40)]
    refs2 = [perturb(rng, r) for r in refs1]
    hyps = [perturb(rng, r) for r in refs1]
    hyps[3] = ""
    corpora["rand"] = dict(hyps=hyps, refs=[refs1, refs2])
    # Chinese-heavy corpus for the zh tokenizer.
    zrefs = [rand_sentence(rng, 1, 10, cjk=True) for _ in range(25)]
    zhyps = []
    for r in zrefs:
        chars = list(r)
        for _ in range(rng.randint(0, 3)):
            if chars:
                i = rng.randrange(len(chars))
                chars[i] = rng.choice(CJK + [" ", ","])
        zhyps.append("".join(chars))
    corpora["zh"] = dict(hyps=zhyps, refs=[zrefs])
    # Edge cases.
    corpora["short_hyp"] = dict(hyps=["the cat"], refs=[["the cat sat on the mat today"]])
    corpora["long_hyp"] = dict(hyps=["the cat sat on the mat on the mat on the mat"],
                               refs=[["the cat sat on the mat"]])
    corpora["all_empty"] = dict(hyps=["", ""], refs=[["a b c", "d e"]])
    corpora["no_match"] = dict(hyps=["x y z w v"], refs=[["a b c d e"]])
    corpora["no_4grams"] = dict(hyps=["a b c", "d e"], refs=[["a b c", "d e f"]])
    corpora["unigram_only"] = dict(hyps=["a x b y c"], refs=[["a b c d e"]])
    corpora["multi_ref_tie"] = dict(
        hyps=["one two three four five", "the same thing here"],
        refs=[["one two three four five six", "the same"],
              ["one two three four", "the same thing here ."],
              ["1 2 3", "thing here"]])
    corpora["numbers_punct"] = dict(
        hyps=["It cost $1,000.50 in 2019-2020, i.e. a lot.", "Call 555-1234 (now)!"],
        refs=[["It cost $1,000.50 in 2019 - 2020, i.e. a lot.", "Call 555-1234 now!"]])
    corpora["case"] = dict(hyps=["THE Cat SAT", "ΣΟΦΟΣ ΟΔΟΣ"], refs=[["the cat sat", "σοφος οδος"]])

    configs = [bleu_cfg(), bleu_cfg(tokenize="none"), bleu_cfg(tokenize="intl"),
               bleu_cfg(tokenize="zh"), bleu_cfg(lowercase=True),
               bleu_cfg(smooth_method="floor"), bleu_cfg(smooth_method="floor", smooth_value=0.3),
               bleu_cfg(smooth_method="add-k"), bleu_cfg(smooth_method="add-k", smooth_value=0.5),
               bleu_cfg(smooth_method="none"), bleu_cfg(effective_order=True),
               bleu_cfg(max_ngram_order=2), bleu_cfg(max_ngram_order=6)]
    corpus_cases = []
    for name, corpus in corpora.items():
        for cfg in configs:
            tok_ok = cfg["tokenize"] == "13a" or (name == "zh" and cfg["tokenize"] == "zh")
            if name != "rand" and (cfg["max_ngram_order"] != 4 or not tok_ok
                                   or cfg["smooth_value"] is not None):
                continue
            bleu = BLEU(**{k: v for k, v in cfg.items()})
            s = bleu.corpus_score(corpus["hyps"], corpus["refs"])
            corpus_cases.append(dict(corpus=name, config=cfg, expected=bleu_expected(s)))

    sentence_cases = []
    for i in range(16):
        ref = rand_sentence(rng, 1, 12)
        hyp = perturb(rng, ref)
        refs = [ref] + ([perturb(rng, ref)] if i % 3 == 0 else [])
        for cfg in [bleu_cfg(effective_order=True) if i % 2 else bleu_cfg(),
                    bleu_cfg(smooth_method=rng.choice(["floor", "add-k", "none"]),
                             effective_order=bool(i % 2))]:
            s = BLEU(**cfg).sentence_score(hyp, refs)
            sentence_cases.append(dict(hyp=hyp, refs=refs, config=cfg, expected=bleu_expected(s)))

    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
    from sacrebleu.tokenizers.tokenizer_intl import TokenizerV14International
    from sacrebleu.tokenizers.tokenizer_zh import TokenizerZh
    toks = {"13a": Tokenizer13a(), "intl": TokenizerV14International(), "zh": TokenizerZh()}
    tokenizer_cases = []
    specials = ["", " ", "a-\nb", "x\ny", "1.2.3", "a.b,c", "3-4-5", "3 - 4", "(1,000)",
                "end. 2019.", "ⅫⅣ½", "U+2019’x", "“quote”", "a\u2014b", "1\u00a02",
                "price:$9.99!", "[a]{b}~c^d`e_f|g\\h@i", "&amp;amp;", "&gt;&lt;", "中文,English.",
                "\u2f80\u2fa2\u2001\u2a6d\u2a6e", "１２３ＡＢＣ", "😀!", "é.ü"]
    for name, tok in toks.items():
        for s in specials + [rand_sentence(rng, 1, 10, cjk=(name == "zh")) for _ in range(20)]:
            tokenizer_cases.append(dict(tokenizer=name, input=s, output=tok(s)))

    return dict(corpora=corpora, corpus_cases=corpus_cases, sentence_cases=sentence_cases,
                tokenizer_cases=tokenizer_cases)


# ---------------------------------------------------------------------------------------------
# chrF


def make_chrf_cases(rng, corpora):
    configs = [dict(), dict(word_order=2), dict(lowercase=True), dict(whitespace=True),
               dict(eps_smoothing=True), dict(char_order=4, word_order=1, beta=1),
               dict(word_order=2, beta=3, eps_smoothing=True)]
    corpus_cases = []
    for name in ["rand", "zh", "short_hyp", "all_empty", "no_match", "multi_ref_tie",
                 "numbers_punct", "case"]:
        corpus = corpora[name]
        for cfg in configs:
            s = CHRF(**cfg).corpus_score(corpus["hyps"], corpus["refs"])
            corpus_cases.append(dict(corpus=name, config=cfg, score=s.score, display=s.format()))
    sentence_cases = []
    for i in range(25):
        ref = rand_sentence(rng, 0, 12)
        hyp = perturb(rng, ref)
        refs = [ref] + ([perturb(rng, ref), rand_sentence(rng, 0, 5)] if i % 4 == 0 else [])
        for cfg in [dict(), dict(word_order=2)]:
            s = CHRF(**cfg).sentence_score(hyp, refs)
            sentence_cases.append(dict(hyp=hyp, refs=refs, config=cfg, score=s.score))
    return dict(corpus_cases=corpus_cases, sentence_cases=sentence_cases)


# ---------------------------------------------------------------------------------------------
# MLS real data


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().split("\n")[:-1]


def make_mls():
    hyps = read_lines(os.path.join(MLS, "ro-en-ori-ls.out.sys"))
    refs = read_lines(os.path.join(MLS, "ro-en-ori-ls.out.ref"))
    cases = []
    for cfg in [bleu_cfg(), bleu_cfg(tokenize="none"), bleu_cfg(tokenize="intl"),
                bleu_cfg(lowercase=True), bleu_cfg(tokenize="zh")]:
        s = BLEU(**cfg).corpus_score(hyps, [refs])
        cases.append(dict(config=cfg, expected=bleu_expected(s)))
    chrf = [dict(config=cfg, score=CHRF(**cfg).corpus_score(hyps, [refs]).score)
            for cfg in [dict(), dict(word_order=2)]]
    sent = []
    for i in range(0, 40, 4):
        s = BLEU(effective_order=True).sentence_score(hyps[i], [refs[i]])
        sent.append(dict(line=i, expected=bleu_expected(s)))
    return dict(n_lines=len(hyps), bleu=cases, chrf=chrf, sentence_bleu=sent,
                sacrebleu_version=sacrebleu.__version__)


# ---------------------------------------------------------------------------------------------
# seqeval

SCHEMES = {"IOB1": IOB1, "IOB2": IOB2, "IOE1": IOE1, "IOE2": IOE2, "IOBES": IOBES,
           "BILOU": BILOU}
ALLOWED = {"IOB1": "IOB", "IOB2": "IOB", "IOE1": "IOE", "IOE2": "IOE", "IOBES": "IOBES",
           "BILOU": "BILOU"}
TYPES = ["PER", "LOC", "ORG", "MISC"]


def well_formed(rng, n, scheme):
    """A well-formed IOB2/IOBES sequence, to be corrupted afterwards."""
    tags = []
    while len(tags) < n:
        if rng.random() < 0.4:
            tags.append("O")
            continue
        t = rng.choice(TYPES)
        k = min(rng.randint(1, 3), n - len(tags))
        if scheme == "IOBES":
            tags += [f"S-{t}"] if k == 1 else [f"B-{t}"] + [f"I-{t}"] * (k - 2) + [f"E-{t}"]
        else:
            tags += [f"B-{t}"] + [f"I-{t}"] * (k - 1)
    return tags


def rand_tags(rng, n, letters, weird=False):
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.35:
            out.append("O")
        elif weird and r < 0.45:
            out.append(rng.choice(["I", "B", "X-FOO", ".", "B-PER-X", "I-", "E", "S-", "IPER",
                                   "B-per", "L-LOC", "U-ORG"]))
        else:
            out.append(f"{rng.choice(letters)}-{rng.choice(TYPES[:3])}")
    return out


def report_dict(d):
    return {k: dict(precision=float(v["precision"]), recall=float(v["recall"]),
                    f1=float(v["f1-score"]), support=int(v["support"])) for k, v in d.items()}


def make_seqeval_cases(rng):
    cases = []

    def add(name, gold, pred, mode=None, scheme=None):
        kw = {}
        if mode == "strict":
            kw = dict(mode="strict", scheme=SCHEMES[scheme])
        try:
            rep = seq_report(gold, pred, output_dict=True, **kw)
            text2 = seq_report(gold, pred, digits=2, **kw) if rep else None
            text4 = seq_report(gold, pred, digits=4, **kw) if rep and len(cases) < 8 else None
            case = dict(name=name, gold=gold, pred=pred, mode=mode, scheme=scheme,
                        report=report_dict(rep), text2=text2)
            if text4 is not None:
                case["text4"] = text4
            cases.append(case)
        except (ValueError, KeyError) as e:
            cases.append(dict(name=name, gold=gold, pred=pred, mode=mode, scheme=scheme,
                              error=f"{type(e).__name__}: {e}"))

    add("docstring", [["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]],
        [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]])
    add("ill_formed_default", [["B-PER", "I-PER", "O", "I-LOC", "I-LOC"], ["I-ORG", "B-ORG"]],
        [["I-PER", "I-PER", "O", "B-LOC", "I-LOC"], ["B-ORG", "I-ORG"]])
    add("ill_formed_strict_iob2", [["B-PER", "I-PER", "O", "I-LOC", "I-LOC"], ["I-ORG", "B-ORG"]],
        [["I-PER", "I-PER", "O", "B-LOC", "I-LOC"], ["B-ORG", "I-ORG"]], "strict", "IOB2")
    add("iobes_default", [["B-PER", "E-PER", "S-LOC", "O", "B-ORG", "I-ORG", "E-ORG"]],
        [["B-PER", "I-PER", "S-LOC", "E-LOC", "B-ORG", "E-ORG", "O"]])
    add("iobes_strict", [["B-PER", "E-PER", "S-LOC", "O", "B-ORG", "I-ORG", "E-ORG"]],
        [["B-PER", "I-PER", "S-LOC", "E-LOC", "B-ORG", "E-ORG", "O"]], "strict", "IOBES")
    add("bad_prefix_strict", [["B-PER", "S-PER"]], [["B-PER", "O"]], "strict", "IOB2")
    add("no_prediction", [["B-PER", "I-PER", "O"]], [["O", "O", "O"]])
    add("empty_sentence", [[], ["B-X"]], [[], ["B-X"]])

    # Random: default mode with weird tags; strict mode per scheme with ill-formed sequences.
    for k in range(5):
        gold = [rand_tags(rng, rng.randint(0, 12), "BIES", weird=True) for _ in range(8)]
        pred = [[t if rng.random() < 0.7 else rng.choice(["O", "B-PER", "I-LOC", "E-ORG", "X"])
                 for t in g] for g in gold]
        add(f"rand_default_{k}", gold, pred)
    for scheme in SCHEMES:
        for k in range(3):
            letters = ALLOWED[scheme].replace("O", "")
            if k == 0:
                gold = [well_formed(rng, rng.randint(1, 12), "IOBES" if scheme == "IOBES" else
                                    "IOB2") for _ in range(8)]
                gold = [[t if t[0] in ALLOWED[scheme] else "O" for t in g] for g in gold]
            else:
                gold = [rand_tags(rng, rng.randint(1, 12), letters) for _ in range(8)]
            pred = [[t if rng.random() < 0.75 else
                     rng.choice(["O"] + [f"{c}-{rng.choice(TYPES[:3])}" for c in letters])
                     for t in g] for g in gold]
            add(f"rand_{scheme}_{k}", gold, pred, "strict", scheme)
            if k == 1:
                add(f"rand_{scheme}_{k}_as_default", gold, pred)

    # get_entities on single sequences, incl. weird tags.
    ge = []
    for seq in [["B-PER", "I-PER", "O", "B-LOC"], ["I-A", "I-B", "E-B", "S-C", "I-C"],
                ["X-A", "O", "X", "B-C"], ["B", "I", "O", ".", "I-"], ["B-PER-X", "I-PER-X"],
                ["O", "I", "I", "O"], ["I", "O", "I"], ["B", "O", "I", "I"], ["E", "E", "I"],
                ["S", "I", "E"], [".", "I-X", ".", "I-X"], ["I-X", "X", "B-Y", "E", "S"]]:
        ge.append(dict(tags=seq, entities=[list(e) for e in get_entities(seq)]))
    for _ in range(10):
        seq = rand_tags(rng, 12, "BIES", weird=True)
        ge.append(dict(tags=seq, entities=[list(e) for e in get_entities(seq)]))
    return dict(cases=cases, get_entities=ge)


# ---------------------------------------------------------------------------------------------
# ROUGE


def make_rouge_cases(rng):
    scorer = rouge_scorer.RougeScorer(["rougeL", "rougeLsum", "rouge1", "rouge2"],
                                      use_stemmer=False)
    pairs = [("The quick brown fox jumps over the lazy dog",
              "The quick brown dog jumps on the log."),
             ("", "something"), ("something", ""), ("...", "!!!"),
             ("w1 w2 w3 w4 w5", "w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5"),
             ("İstanbul KELVIN\u212a café 3.14 1,000", "istanbul kelvink caf 3 14 1 000"),
             ("a b\n\nc d\n", "c d\na b"), ("A a a a", "a A b a"),
             # LCS back-tracking ties decide which tokens enter the union LCS.
             ("a b", "b a\nb"), ("a b c\nc b a", "c b a\nb\na c"), ("x y x y", "y x\nx\ny")]
    for _ in range(30):
        t = "\n".join(rand_sentence(rng, 0, 12) for _ in range(rng.randint(1, 3)))
        p = "\n".join(perturb(rng, s) for s in t.split("\n"))
        if rng.random() < 0.3:
            p = p.replace("\n", " ")
        pairs.append((t, p))
    out = []
    for t, p in pairs:
        s = scorer.score(t, p)
        out.append(dict(target=t, prediction=p, **{
            k: [v.precision, v.recall, v.fmeasure] for k, v in s.items()}))
    means = {k: [float(np.mean([c[k][i] for c in out])) for i in range(3)]
             for k in ["rougeL", "rougeLsum"]}
    multi = []
    for i in range(8):
        targets = [t for t, _ in pairs[10 + 3 * i: 13 + 3 * i]]
        pred = pairs[10 + 3 * i + 1][1]
        s = rouge_scorer.RougeScorer(["rougeL"]).score_multi(targets, pred)["rougeL"]
        multi.append(dict(targets=targets, prediction=pred,
                          rougeL=[s.precision, s.recall, s.fmeasure]))
    return dict(pairs=out, means=means, multi=multi)


# ---------------------------------------------------------------------------------------------
# Classification (scikit-learn)


def make_classification_cases(rng):
    cases = []

    def add(name, gold, pred, labels=None):
        res = dict(name=name, gold=gold, pred=pred, labels=labels,
                   accuracy=float(accuracy_score(gold, pred)))
        for avg in ["micro", "macro", "weighted"]:
            p, r, f, _ = precision_recall_fscore_support(gold, pred, average=avg, labels=labels,
                                                         zero_division=0)
            res[avg] = [float(p), float(r), float(f)]
        cases.append(res)

    add("sklearn_doc", [0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1])
    add("strings", ["cat", "dog", "dog", "bird"], ["cat", "cat", "dog", "fish"])
    for k in range(6):
        n_labels = rng.choice([2, 3, 5, 12, 30])
        n = rng.randint(5, 200)
        gold = [rng.randrange(n_labels) for _ in range(n)]
        pred = [g if rng.random() < 0.6 else rng.randrange(n_labels + 2) for g in gold]
        add(f"rand_{k}", gold, pred)
        if k % 2 == 0:
            add(f"rand_{k}_subset", gold, pred, labels=list(range(1, n_labels)) + [n_labels + 5])
    return dict(cases=cases)


# ---------------------------------------------------------------------------------------------
# Calibration (reference re-implementation of the documented definition)


def ece_reference(conf, correct, n_bins):
    edges = [i / n_bins for i in range(n_bins + 1)]
    bins = []
    for b in range(n_bins):
        idx = [i for i, c in enumerate(conf)
               if sum(1 for e in edges[1:n_bins] if e <= c) == b]
        if idx:
            mc = float(np.sum([conf[i] for i in idx]) / len(idx))
            acc = sum(correct[i] for i in idx) / len(idx)
        else:
            mc = acc = 0.0
        bins.append(dict(count=len(idx), mean_confidence=mc, accuracy=acc))
    ece = sum(b["count"] / len(conf) * abs(b["accuracy"] - b["mean_confidence"]) for b in bins)
    return ece, bins


def make_calibration_cases(rng):
    cases = []
    for k, n_bins in enumerate([10, 10, 15, 5, 1]):
        n = rng.randint(20, 120)
        conf = [round(rng.random() ** 0.5, 3) for _ in range(n)]
        conf += [0.0, 1.0, 0.3, 0.5, 0.7]
        correct = [rng.random() < c * 0.9 for c in conf]
        ece, bins = ece_reference(conf, correct, n_bins)
        cases.append(dict(confidences=conf, correct=correct, n_bins=n_bins, ece=ece, bins=bins))
    return dict(cases=cases)


def main():
    rng = random.Random(20240521)
    bleu = make_bleu_cases(rng)
    dump("bleu.json", bleu)
    dump("chrf.json", make_chrf_cases(rng, bleu["corpora"]))
    dump("bleu_mls.json", make_mls())
    dump("seqeval.json", make_seqeval_cases(rng))
    dump("rouge.json", make_rouge_cases(rng))
    dump("classification.json", make_classification_cases(rng))
    dump("calibration.json", make_calibration_cases(rng))


if __name__ == "__main__":
    main()
