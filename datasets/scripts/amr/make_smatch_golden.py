#!/usr/bin/env python3
"""Golden Smatch results of the reference tool (PyPI `smatch` 1.0.4) for `crates/amr-aux`.

Writes, under crates/amr-aux/tests/golden/:
- little_prince_perturbed.txt: a seeded, perturbed copy of The Little Prince AMR bank
  (concepts changed, roles relabelled or swapped, leaf roles dropped, polarity added, children
  reordered), one graph per line with its `# ::id`;
- smatch_golden.json: the reference tool's per-pair and corpus counts for
  (a) smatch_test_input1.txt (test) vs smatch_test_input2.txt (gold), and
  (b) the perturbed copy (test) vs the original (gold), with restarts 4 (the default), with
  restarts 0 (smart initialisation only, flagged when it drew random numbers) and the best of
  the 4-restart run and a 40-restart run; plus the reference's wall time on (b).

The reference reseeds its generator from the clock in every initialisation; here
`random.seed` is disabled after seeding once, so the results are reproducible.

Usage: pip install smatch==1.0.4 && python3 datasets/scripts/amr/make_smatch_golden.py
"""

import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time

import amr  # noqa: F401  (installed with smatch)
import smatch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SHARED = os.path.join(ROOT, "..", "shared", "datasets", "amr")
OUT = os.path.join(ROOT, "crates", "amr-aux", "tests", "golden")
SEED = 20240917
CAPTION = re.compile(r"^\d+\.\s+(.*?)\s*\(([^()\s]+)\)$")
TOKEN = re.compile(r'\(|\)|/|"(?:[^"\\]|\\.)*"|:[^\s()"]*|[^\s()"/]+')


def read_amr_bank(path):
    """(id, sentence, graph lines) of each graph of an AMR bank release."""
    graphs, meta, lines = [], None, []
    for raw in open(path, encoding="utf-8"):
        line = raw.rstrip("\n")
        caption = CAPTION.match(line.strip())
        if caption and not lines:
            meta = (caption.group(2), caption.group(1))
        elif line.strip() == "":
            if lines:
                graphs.append((meta[0], meta[1], lines))
                lines = []
        elif meta is not None:
            lines.append(line)
    if lines:
        graphs.append((meta[0], meta[1], lines))
    return graphs


def parse_tree(text):
    """Nested [variable, concept, [[role, target], ...]] with string targets for leaves."""
    tokens = TOKEN.findall(text)
    pos = 0

    def node():
        nonlocal pos
        assert tokens[pos] == "("
        var = tokens[pos + 1]
        pos += 2
        concept = None
        if tokens[pos] == "/":
            concept = tokens[pos + 1]
            pos += 2
        edges = []
        while tokens[pos] != ")":
            role = tokens[pos]
            pos += 1
            if tokens[pos] == "(":
                edges.append([role, node()])
            else:
                edges.append([role, tokens[pos]])
                pos += 1
        pos += 1
        return [var, concept, edges]

    return node()


def write_tree(tree):
    var, concept, edges = tree
    parts = ["(" + var + (" / " + concept if concept is not None else "")]
    for role, target in edges:
        parts.append(role + " " + (write_tree(target) if isinstance(target, list) else target))
    return " ".join(parts) + ")"


def nodes(tree):
    yield tree
    for _, target in tree[2]:
        if isinstance(target, list):
            yield from nodes(target)


def perturb(tree, rng, concepts, roles):
    local = [n[1] for n in nodes(tree) if n[1] is not None]
    for node in list(nodes(tree)):
        if node[1] is not None and rng.random() < 0.08:
            choice = rng.random()
            if choice < 0.4 and re.search(r"-\d\d$", node[1]):
                node[1] = node[1][:-2] + "%02d" % rng.randint(1, 4)
            elif choice < 0.7:
                node[1] = rng.choice(local)
            else:
                node[1] = rng.choice(concepts)
        kept = []
        for role, target in node[2]:
            leaf = not isinstance(target, list) or not target[2]
            if leaf and rng.random() < 0.06:
                continue
            if rng.random() < 0.06:
                role = rng.choice(roles)
            kept.append([role, target])
        args = [e for e in kept if re.match(r":ARG\d$", e[0])]
        if len(args) >= 2 and rng.random() < 0.15:
            a, b = rng.sample(args, 2)
            a[0], b[0] = b[0], a[0]
        if rng.random() < 0.1:
            rng.shuffle(kept)
        if rng.random() < 0.02:
            kept.append([":polarity", "-"])
        node[2] = kept


def score(test_lines, gold_lines, restarts, seed, detect_random=False):
    """Per-pair [match, test, gold(, used random)] of the reference with a fixed seed."""
    smatch.iteration_num = restarts + 1
    random.seed(seed)
    smatch.random.seed = lambda *args, **kwargs: None
    calls = [0]
    randint = random.randint

    def counting(a, b):
        calls[0] += 1
        return randint(a, b)

    smatch.random.randint = counting
    pairs = []
    try:
        for test, gold in zip(test_lines, gold_lines):
            calls[0] = 0
            m, t, g = smatch.get_amr_match(test, gold)
            smatch.match_triple_dict.clear()
            pairs.append([m, t, g, int(calls[0] > 0)] if detect_random else [m, t, g])
    finally:
        smatch.random.randint = randint
    return pairs


def amr_lines(path):
    with open(path, encoding="utf-8") as f:
        lines = []
        while True:
            line = amr.AMR.get_amr_line(f)
            if not line:
                return lines
            lines.append(line)


def corpus(pairs):
    m, t, g = (sum(p[i] for p in pairs) for i in range(3))
    return {"match": m, "test": t, "gold": g, "f1": smatch.compute_f(m, t, g)[2]}


def main():
    os.makedirs(OUT, exist_ok=True)
    golden = {"tool": "smatch 1.0.4 (PyPI)", "seed": SEED}

    # (a) The tool's own sample inputs.
    t1 = amr_lines(os.path.join(SHARED, "smatch_test_input1.txt"))
    t2 = amr_lines(os.path.join(SHARED, "smatch_test_input2.txt"))
    pairs = score(t1, t2, 4, SEED)
    golden["smatch_test_inputs"] = dict(corpus(pairs), pairs=pairs)

    # (b) The Little Prince against a perturbed copy of itself.
    bank = read_amr_bank(os.path.join(SHARED, "little_prince_v1.6.txt"))
    trees = [parse_tree(" ".join(lines)) for _, _, lines in bank]
    concepts = sorted({n[1] for t in trees for n in nodes(t) if n[1] is not None})
    roles = sorted({role for t in trees for n in nodes(t) for role, _ in n[2]})
    rng = random.Random(SEED)
    for tree in trees:
        perturb(tree, rng, concepts, roles)
    perturbed_path = os.path.join(OUT, "little_prince_perturbed.txt")
    with open(perturbed_path, "w", encoding="utf-8") as f:
        for (gid, _, _), tree in zip(bank, trees):
            f.write("# ::id %s\n%s\n\n" % (gid, write_tree(tree)))
    with tempfile.TemporaryDirectory() as tmp:
        gold_path = os.path.join(tmp, "gold.txt")
        with open(gold_path, "w", encoding="utf-8") as f:
            for gid, snt, lines in bank:
                f.write("# ::id %s\n# ::snt %s\n%s\n\n" % (gid, snt, "\n".join(lines)))
        test_lines, gold_lines = amr_lines(perturbed_path), amr_lines(gold_path)
        assert len(test_lines) == len(gold_lines) == len(bank) == 1562
        r4 = score(test_lines, gold_lines, 4, SEED)
        r0 = score(test_lines, gold_lines, 0, SEED, detect_random=True)
        r40 = score(test_lines, gold_lines, 40, SEED + 1)
        # Wall time of the reference command line on the same files (median of 3 runs).
        script = smatch.__file__
        times = []
        for _ in range(3):
            start = time.perf_counter()
            out = subprocess.run([sys.executable, script, "--pr", "-f", perturbed_path, gold_path],
                                 check=True, capture_output=True, text=True).stdout
            times.append(time.perf_counter() - start)
        times.sort()
    golden["little_prince"] = dict(
        corpus(r4),
        restarts0=corpus(r0),
        best=corpus([[max(a[0], b[0]), a[1], a[2]] for a, b in zip(r4, r40)]),
        # [match (restarts 4), test, gold, match (restarts 0), restarts 0 drew random numbers,
        #  best match of the 4- and 40-restart runs]
        pairs=[[a[0], a[1], a[2], z[0], z[3], max(a[0], b[0])] for a, z, b in zip(r4, r0, r40)],
    )
    golden["reference_wall_s"] = times[1]
    golden["reference_output"] = out.strip().splitlines()
    with open(os.path.join(OUT, "smatch_golden.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")
    print(json.dumps({
        "test_inputs_f1": golden["smatch_test_inputs"]["f1"],
        "little_prince_f1": golden["little_prince"]["f1"],
        "little_prince_best_f1": golden["little_prince"]["best"]["f1"],
        "reference_wall_s": times[1],
        "perturbed_bytes": os.path.getsize(perturbed_path),
    }))


if __name__ == "__main__":
    main()
