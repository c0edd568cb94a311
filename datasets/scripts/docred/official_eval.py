#!/usr/bin/env python3
"""DocRED official scorer and GAIN's threshold sweep: a RE-IMPLEMENTATION, not the original code.

The original scripts are not available offline here. This file re-implements, step by step, the
logic of

* thunlp/DocRED `code/evaluation.py` (revision 6c79803: the submission is sorted by
  (title, h_idx, t_idx, r) and adjacent repeats are dropped; revision 24a8ae8 scored it as given,
  reproduced with `--keep-duplicates`), with `fact_in_train` from a training file;
* DreamInvoker/GAIN `code/test.py`, function `test()`: stable descending sort by score, float32
  precision/recall/F1 arrays, best F1 and θ, Ign F1 maximised separately, Ign F1 "at θ" (the last
  cut-off with a score strictly above θ), AUC via `sklearn.metrics.auc`,

as read from those repositories, and serves as the reference for the golden fixtures of
`crates/docre-gain/tests/it/eval.rs`. Two additions are not part of either script and are labelled
below: a per-relation table, and evidence scores reported as None when no prediction carries an
`evidence` field (the official script would report 0).

Usage:
  python3 official_eval.py score --gold dev.json --pred result.json [--train train_annotated.json]
                                 [--keep-duplicates]
  python3 official_eval.py golden [--dev PATH] [--out DIR]
"""

import argparse
import json
import random
from pathlib import Path

import numpy as np
import sklearn.metrics

ROOT = Path(__file__).resolve().parents[3]
DEV = ROOT / "../shared/datasets/docred/dev_sample.json"
REL_INFO = ROOT / "../shared/datasets/docred/rel_info.json"
OUT = ROOT / "crates/docre-gain/tests/fixtures/golden"
TRAIN_DOCS = 12  # the golden cases use dev_sample documents [0, 12) as the training file


def gen_train_facts(train_docs):
    """The official `gen_train_facts`: (head mention name, tail mention name, r) of every label."""
    fact_in_train = set()
    for data in train_docs:
        vertex_set = data["vertexSet"]
        for label in data["labels"]:
            rel = label["r"]
            for n1 in vertex_set[label["h"]]:
                for n2 in vertex_set[label["t"]]:
                    fact_in_train.add((n1["name"], n2["name"], rel))
    return fact_in_train


def gold_index(truth):
    """The official `std` (fact → evidence set), evidence total and `title2vectexSet`."""
    std = {}
    tot_evidences = 0
    title2vertex_set = {}
    for x in truth:
        title = x["title"]
        title2vertex_set[title] = x["vertexSet"]
        for label in x["labels"]:
            std[(title, label["r"], label["h"], label["t"])] = set(label["evidence"])
            tot_evidences += len(label["evidence"])
    return std, tot_evidences, title2vertex_set


def dedupe_official(submission):
    """Revision 6c79803: stable sort by key, drop a record equal in key to its predecessor."""
    tmp = sorted(submission, key=lambda x: (x["title"], x["h_idx"], x["t_idx"], x["r"]))
    answer = [tmp[0]]
    for i in range(1, len(tmp)):
        x, y = tmp[i], tmp[i - 1]
        if (x["title"], x["h_idx"], x["t_idx"], x["r"]) != (y["title"], y["h_idx"], y["t_idx"], y["r"]):
            answer.append(tmp[i])
    return answer


def in_train(vertex_set, h_idx, t_idx, r, fact_in_train):
    found = False
    for n1 in vertex_set[h_idx]:
        for n2 in vertex_set[t_idx]:
            if (n1["name"], n2["name"], r) in fact_in_train:
                found = True
    return found


def official(truth, submission, fact_in_train, keep_duplicates=False):
    """The official scorer's numbers (and the counts behind them)."""
    std, tot_evidences, title2vertex_set = gold_index(truth)
    tot_relations = len(std)
    answer = list(submission) if keep_duplicates else dedupe_official(submission)

    correct_re = correct_evidence = pred_evi = correct_in_train = unknown_titles = 0
    has_evidence = False  # addition: see the module docstring
    for x in answer:
        title, h_idx, t_idx, r = x["title"], x["h_idx"], x["t_idx"], x["r"]
        has_evidence |= "evidence" in x
        if title not in title2vertex_set:
            unknown_titles += 1
            continue
        vertex_set = title2vertex_set[title]
        evi = set(x["evidence"]) if "evidence" in x else set()
        pred_evi += len(evi)
        if (title, r, h_idx, t_idx) in std:
            correct_re += 1
            correct_evidence += len(std[(title, r, h_idx, t_idx)] & evi)
            if in_train(vertex_set, h_idx, t_idx, r, fact_in_train):
                correct_in_train += 1

    re_p = 1.0 * correct_re / len(answer)
    re_r = 1.0 * correct_re / tot_relations
    re_f1 = 0 if re_p + re_r == 0 else 2.0 * re_p * re_r / (re_p + re_r)
    evi_p = 1.0 * correct_evidence / pred_evi if pred_evi > 0 else 0
    evi_r = 1.0 * correct_evidence / tot_evidences
    evi_f1 = 0 if evi_p + evi_r == 0 else 2.0 * evi_p * evi_r / (evi_p + evi_r)
    ign_p = 1.0 * (correct_re - correct_in_train) / (len(answer) - correct_in_train)
    ign_f1 = 0 if ign_p + re_r == 0 else 2.0 * ign_p * re_r / (ign_p + re_r)

    out = {
        "precision": re_p, "recall": re_r, "f1": re_f1,
        "ign_precision": ign_p, "ign_f1": ign_f1,
        "evidence_precision": evi_p if has_evidence else None,
        "evidence_recall": evi_r if has_evidence else None,
        "evidence_f1": evi_f1 if has_evidence else None,
        "counts": {
            "submitted": len(submission), "duplicates": len(submission) - len(answer),
            "predictions": len(answer), "unknown_titles": unknown_titles,
            "gold": tot_relations, "correct": correct_re, "correct_in_train": correct_in_train,
            "gold_evidence": tot_evidences, "predicted_evidence": pred_evi,
            "correct_evidence": correct_evidence,
        },
        "relations": per_relation(std, answer),
    }
    return out, answer


def per_relation(std, answer):
    """Addition (not in the official script): per-relation counts, F1 = 2·tp / (pred + gold)."""
    rows = {}
    for (_, r, _, _) in std:
        rows.setdefault(r, [0, 0, 0])[0] += 1
    for x in answer:
        row = rows.setdefault(x["r"], [0, 0, 0])
        row[1] += 1
        row[2] += (x["title"], x["r"], x["h_idx"], x["t_idx"]) in std

    def order(r):
        return (int(r[1:]) if r.startswith("P") and r[1:].isdigit() else 2**64 - 1, r)

    return [
        {"relation": r, "gold": g, "predicted": p, "correct": c,
         "precision": c / p if p else 0.0, "recall": c / g if g else 0.0,
         "f1": 2.0 * c / (g + p) if g + p else 0.0}
        for r, (g, p, c) in sorted(rows.items(), key=lambda kv: order(kv[0]))
    ]


def gain_sweep(truth, submission, fact_in_train, keep_duplicates=False):
    """GAIN's `test()` on scored predictions (input_theta = -1, the dev setting)."""
    std, _, title2vertex_set = gold_index(truth)
    seen, candidates = set(), []
    for x in submission:  # the records the official de-duplication keeps, in submission order
        key = (x["title"], x["h_idx"], x["t_idx"], x["r"])
        if keep_duplicates or key not in seen:
            seen.add(key)
            candidates.append(x)
    test_result = []
    for x in candidates:
        key = (x["title"], x["r"], x["h_idx"], x["t_idx"])
        correct = key in std
        intrain = correct and in_train(title2vertex_set[x["title"]], x["h_idx"], x["t_idx"], x["r"],
                                       fact_in_train)
        test_result.append((correct, float(x["score"]), intrain))
    test_result.sort(key=lambda x: x[1], reverse=True)
    total_recall = len(std)

    pr_x, pr_y, correct = [], [], 0
    for i, item in enumerate(test_result):
        correct += item[0]
        pr_y.append(float(correct) / (i + 1))
        pr_x.append(float(correct) / total_recall)
    pr_x = np.asarray(pr_x, dtype="float32")
    pr_y = np.asarray(pr_y, dtype="float32")
    f1_arr = 2 * pr_x * pr_y / (pr_x + pr_y + 1e-20)
    assert f1_arr.dtype == np.float32
    f1 = f1_arr.max()
    f1_pos = int(f1_arr.argmax())
    theta = test_result[f1_pos][1]
    auc = sklearn.metrics.auc(x=pr_x, y=pr_y)
    best = {"theta": theta, "best_cutoff": f1_pos + 1, "best_f1": float(f1),
            "best_precision": float(pr_y[f1_pos]), "best_recall": float(pr_x[f1_pos]),
            "auc": float(auc)}

    input_theta = theta
    ign_x, ign_y, correct, correct_in_train, w = [], [], 0, 0, 0
    for i, item in enumerate(test_result):
        correct += item[0]
        if item[0] & item[2]:
            correct_in_train += 1
        if correct_in_train == correct:
            p = 0
        else:
            p = float(correct - correct_in_train) / (i + 1 - correct_in_train)
        ign_y.append(p)
        ign_x.append(float(correct) / total_recall)
        if item[1] > input_theta:
            w = i
    ign_x = np.asarray(ign_x, dtype="float32")
    ign_y = np.asarray(ign_y, dtype="float32")
    ign_arr = 2 * ign_x * ign_y / (ign_x + ign_y + 1e-20)
    best.update({"best_ign_f1": float(ign_arr.max()), "ign_f1_at_theta": float(ign_arr[w]),
                 "ign_auc": float(sklearn.metrics.auc(x=ign_x, y=ign_y))})
    return best


def score(truth, submission, fact_in_train, keep_duplicates=False):
    out, answer = official(truth, submission, fact_in_train, keep_duplicates)
    if not keep_duplicates:  # the first-occurrence filter keeps exactly the sorted de-duplication's records
        firsts, seen = [], set()
        for x in submission:
            key = (x["title"], x["h_idx"], x["t_idx"], x["r"])
            if key not in seen:
                seen.add(key)
                firsts.append(id(x))
        assert sorted(firsts) == sorted(id(x) for x in answer)
    sweep = {"theta": None}
    if submission and all("score" in x for x in submission):
        sweep = gain_sweep(truth, submission, fact_in_train, keep_duplicates)
    out.update(sweep)
    return out


def make_cases(dev, relations, seed=20240611):
    rng = random.Random(seed)
    facts = [(d["title"], l) for d in dev for l in d["labels"]]

    def pred(title, h, t, r, evidence=None):
        x = {"title": title, "h_idx": h, "t_idx": t, "r": r}
        if evidence is not None:
            x["evidence"] = evidence
        return x

    def evidence_for(label, n_sents):
        roll = rng.random()
        if roll < 0.35:
            return list(label["evidence"])  # complete
        if roll < 0.7:  # partial, sometimes with a wrong sentence and a repeated one
            kept = [s for s in label["evidence"] if rng.random() < 0.5]
            if rng.random() < 0.5:
                kept.append(rng.randrange(n_sents))
            if kept and rng.random() < 0.2:
                kept.append(kept[0])
            return kept
        return None  # no evidence field

    def random_wrong(doc):
        n = len(doc["vertexSet"])
        h, t = rng.sample(range(n), 2)
        return h, t, rng.choice(relations)

    n_sents = {d["title"]: len(d["sents"]) for d in dev}

    dropped = []
    for title, l in facts:
        if rng.random() < 0.5:
            dropped.append(pred(title, l["h"], l["t"], l["r"], evidence_for(l, n_sents[title])))

    noisy = []
    for title, l in facts:
        if rng.random() < 0.4:
            continue
        r = l["r"]
        if rng.random() < 0.15:
            r = rng.choice([x for x in relations if x != l["r"]])
        noisy.append(pred(title, l["h"], l["t"], r, evidence_for(l, n_sents[title])))
        if rng.random() < 0.1:  # a repeat, with its own evidence
            noisy.append(pred(title, l["h"], l["t"], r, evidence_for(l, n_sents[title])))
    for i in range(25):
        noisy.append(pred(f"Unknown document {i % 7}", rng.randrange(5), rng.randrange(5),
                          rng.choice(relations), [0]))
    for _ in range(40):
        doc = rng.choice(dev)
        noisy.append(pred(doc["title"], *random_wrong(doc)))
    rng.shuffle(noisy)

    scored = []
    for title, l in facts:
        if rng.random() < 0.6:
            x = pred(title, l["h"], l["t"], l["r"])
            x["score"] = round(rng.uniform(0.35, 1.0), 2)
            scored.append(x)
    gold_keys = {(t, l["h"], l["t"], l["r"]) for t, l in facts}
    while len(scored) < 600:
        doc = rng.choice(dev)
        h, t, r = random_wrong(doc)
        if (doc["title"], h, t, r) in gold_keys:
            continue
        x = pred(doc["title"], h, t, r)
        x["score"] = round(rng.uniform(0.0, 1.0), 2)
        scored.append(x)
    for i in range(0, len(scored), 40):  # repeats with a lower score; dropped unless kept
        scored.append(dict(scored[i], score=round(scored[i]["score"] / 2, 2)))
    rng.shuffle(scored)
    for i, x in enumerate(scored[:20]):  # GAIN's output fields, ignored by the scorer
        x.update({"index": i, "r_idx": 1, "intrain": False})
    return {"dropped": dropped, "noisy": noisy, "scored": scored}


def golden(dev_path, out_dir):
    dev = json.load(open(dev_path))
    relations = sorted(json.load(open(REL_INFO)))
    fact_in_train = gen_train_facts(dev[:TRAIN_DOCS])
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, submission in make_cases(dev, relations).items():
        expected = {
            "dedupe": score(dev, submission, fact_in_train),
            "keep_duplicates": score(dev, submission, fact_in_train, keep_duplicates=True),
        }
        record = {
            "generator": "datasets/scripts/docred/official_eval.py golden",
            "gold": "shared/datasets/docred/dev_sample.json",
            "train_docs": TRAIN_DOCS,
            "predictions": submission,
            "expected": expected,
        }
        path = out_dir / f"{name}.json"
        path.write_text(json.dumps(record, separators=(",", ":")) + "\n")
        e = expected["dedupe"]
        print(f"{path.name}: {len(submission)} predictions, F1 {e['f1']:.4f}, "
              f"Ign F1 {e['ign_f1']:.4f}, θ {e['theta']}, {path.stat().st_size} bytes")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("score", help="score a submission")
    s.add_argument("--gold", required=True)
    s.add_argument("--pred", required=True)
    s.add_argument("--train", help="training documents for the Ign scores")
    s.add_argument("--keep-duplicates", action="store_true")
    g = sub.add_parser("golden", help="write the golden fixtures")
    g.add_argument("--dev", default=str(DEV))
    g.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    if args.command == "score":
        truth = json.load(open(args.gold))
        facts = gen_train_facts(json.load(open(args.train))) if args.train else set()
        print(json.dumps(score(truth, json.load(open(args.pred)), facts, args.keep_duplicates)))
    else:
        golden(Path(args.dev), Path(args.out))


if __name__ == "__main__":
    main()
