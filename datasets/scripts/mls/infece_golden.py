"""Golden values for the inference ECE of crates/mls-nmt (InfECE semantics).

The MLS paper (Chen et al., ACL 2022, Table 6) reports the inference ECE of Wang et al., "On the
Inference Calibration of Neural Machine Translation" (ACL 2020), computed with the scripts of
shuo-git/InfECE. Their `run.sh` does, per corpus:

1. tercom 0.7.25 (`-s`: case sensitive; default beam width 20, shift distance 50) aligns every
   hypothesis with its reference, with block shifts;
2. `parse_xml.py` reads the alignment of the shifted hypothesis: a hypothesis token is labelled
   with its edit (C = match, S, I), except that a token right after a reference-only edit (D) is
   labelled D;
3. `shift_back.py` undoes the shifts (from the last to the first) on the shifted tokens and
   their labels; a shift whose destination lies inside the moved block is not undone;
4. `filter_diff_tok.py` keeps position j of a sentence only where the shifted-back token equals
   the original hypothesis token (or contains '?'), for the tokens, labels and probabilities;
5. `calc_ece.py` (20 bins by default, which run.sh uses): confidence = exp(log-probability),
   correct = label C, bin i = [i/20, (i+1)/20) with the bounds computed as i * (1.0 / 20), the
   last bin closed; ECE = sum over bins of |sum of (correct - confidence)| / N.

This script is our own re-implementation of those steps (tercom's TERcalc.java alignment and
shift search, and the semantics of the InfECE scripts), in plain Python. It checks its edit
counts against sacreBLEU's TER port (`sacrebleu.metrics.lib_ter`) on 3,000 generated pairs and,
when the environment variable TERCOM_PRA names a `.pra` file written by tercom 0.7.25 (e.g.
`java -jar tercom.7.25.jar -r ref -h hyp -n out -o pra`), its alignments and shifts against
real tercom (done during development on 22 records of WMT QE English-German output, all
reproduced; that third-party text is not part of this repository). It then writes
crates/mls-nmt/tests/golden/infece.json:

- `tercom`: alignments of generated pairs with block shifts (reference, hypothesis, shifted
  hypothesis, alignment, shifts, edits) the Rust TER must reproduce;
- `cases`: (hypothesis tokens, probabilities, reference tokens) triples with the labels each
  step gives, and the inference ECE of all of them with 20 bins (and with 10, prepare4relia.py's
  default).

Run from the repository root: python3 datasets/scripts/mls/infece_golden.py
(needs numpy and sacrebleu 2.x).
"""

import json
import os
import pathlib
import random

import numpy as np
from sacrebleu.metrics import lib_ter

ROOT = pathlib.Path(__file__).resolve().parents[3]
OUT = ROOT / "crates" / "mls-nmt" / "tests" / "golden" / "infece.json"

MAX_SHIFT_SIZE = 10
MAX_SHIFT_DIST = 50
BEAM_WIDTH = 20
INF = 999999


# --- tercom: beam edit distance ---------------------------------------------------------------


def min_edit_dist(hyp, ref):
    """Edit distance of hyp (columns) against ref (rows) with tercom's beam and tie-breaking.

    Returns (cost, path); the path holds ' ' (match), 'S', 'I' (hypothesis token only) and 'D'
    (reference token only), from the start of the sentences.
    """
    n_ref, n_hyp = len(ref), len(hyp)
    score = [[-1] * (n_hyp + 1) for _ in range(n_ref + 1)]
    op = [["0"] * (n_hyp + 1) for _ in range(n_ref + 1)]
    score[0][0] = 0
    current_best = INF
    current_first_good = 0
    cur_last_good = 0
    for j in range(n_hyp + 1):
        last_best, current_best = current_best, INF
        first_good, current_first_good = current_first_good, -1
        last_good, cur_last_good = cur_last_good, -1
        assert first_good >= 0
        i = first_good
        while i <= n_ref:
            if i > last_good:
                break
            here = score[i][j]
            if here < 0 or (j < n_hyp and here > last_best + BEAM_WIDTH):
                i += 1
                continue
            if current_first_good == -1:
                current_first_good = i
            if i < n_ref and j < n_hyp:
                if ref[i] == hyp[j]:
                    cost = here
                    if score[i + 1][j + 1] == -1 or cost < score[i + 1][j + 1]:
                        score[i + 1][j + 1] = cost
                        op[i + 1][j + 1] = " "
                    current_best = min(current_best, cost)
                else:
                    cost = here + 1
                    if score[i + 1][j + 1] < 0 or cost < score[i + 1][j + 1]:
                        score[i + 1][j + 1] = cost
                        op[i + 1][j + 1] = "S"
                        current_best = min(current_best, cost)
            cur_last_good = i + 1
            if j < n_hyp:
                cost = here + 1
                if score[i][j + 1] < 0 or score[i][j + 1] > cost:
                    score[i][j + 1] = cost
                    op[i][j + 1] = "I"
            if i < n_ref:
                cost = here + 1
                if score[i + 1][j] < 0 or score[i + 1][j] > cost:
                    score[i + 1][j] = cost
                    op[i + 1][j] = "D"
                    if i >= last_good:
                        last_good = i + 1
            i += 1
    path = []
    i, j = n_ref, n_hyp
    while i > 0 or j > 0:
        o = op[i][j]
        path.append(o)
        if o in (" ", "S"):
            i, j = i - 1, j - 1
        elif o == "D":
            i -= 1
        elif o == "I":
            j -= 1
        else:
            raise AssertionError(f"no path at {i},{j}")
    path.reverse()
    return score[n_ref][n_hyp], "".join(path)


# --- tercom: shifts ---------------------------------------------------------------------------


def word_matches(hyp, ref):
    """Reference phrases (up to MAX_SHIFT_SIZE + 1 words, all in the hypothesis) -> starts."""
    in_hyp = set(hyp)
    found = {}
    for start in range(len(ref)):
        end = start
        while end < len(ref) and end - start <= MAX_SHIFT_SIZE and ref[end] in in_hyp:
            found.setdefault(tuple(ref[start : end + 1]), []).append(start)
            end += 1
    return found


def align_errors(path, n_hyp, n_ref):
    herr, rerr, ralign = [False] * n_hyp, [False] * n_ref, [0] * n_ref
    h = r = -1
    for o in path:
        if o in (" ", "S"):
            h += 1
            r += 1
            herr[h] = rerr[r] = o == "S"
            ralign[r] = h
        elif o == "I":
            h += 1
            herr[h] = True
        else:
            r += 1
            rerr[r] = True
            ralign[r] = h
    return herr, rerr, ralign


def possible_shifts(cur, ref, rloc, herr, rerr, ralign):
    """Candidate shifts (start, end, newloc) by length - 1, in tercom's order."""
    by_len = [[] for _ in range(MAX_SHIFT_SIZE + 1)]
    for start in range(len(cur)):
        starts = rloc.get((cur[start],))
        if starts is None:
            continue
        if not any(
            start != ralign[m]
            and ralign[m] - start <= MAX_SHIFT_DIST
            and start - ralign[m] - 1 <= MAX_SHIFT_DIST
            for m in starts
        ):
            continue
        end = start
        while end < len(cur) and end < start + MAX_SHIFT_SIZE:
            cand = tuple(cur[start : end + 1])
            movetos = rloc.get(cand)
            if movetos is None:
                break
            if not any(herr[start : end + 1]):
                end += 1
                continue
            any_target = False
            for m in movetos:
                dest = ralign[m]
                if not (
                    dest != start
                    and (dest < start or dest > end)
                    and dest - start <= MAX_SHIFT_DIST
                    and start - dest <= MAX_SHIFT_DIST
                ):
                    continue
                any_target = True
                if not any(rerr[m : m + end - start + 1]):
                    continue
                for roff in range(-1, end - start + 1):
                    if roff == -1 and m == 0:
                        by_len[end - start].append((start, end, -1))
                    elif start != ralign[m + roff] and (
                        roff == 0 or ralign[m + roff] != ralign[m]
                    ):
                        by_len[end - start].append((start, end, ralign[m + roff]))
            if not any_target:
                break
            end += 1
    return by_len


def perform_shift(words, start, end, newloc):
    block = words[start : end + 1]
    if newloc == -1:
        return block + words[:start] + words[end + 1 :]
    if newloc < start:
        return words[: newloc + 1] + block + words[newloc + 1 : start] + words[end + 1 :]
    if newloc > end:
        return words[:start] + words[end + 1 : newloc + 1] + block + words[newloc + 1 :]
    # The block moves by newloc - start inside its own span.
    stop = end + (newloc - start)
    return words[:start] + words[end + 1 : stop + 1] + block + words[stop + 1 :]


def best_shift(cur, ref, rloc, cost, path):
    herr, rerr, ralign = align_errors(path, len(cur), len(ref))
    candidates = possible_shifts(cur, ref, rloc, herr, rerr, ralign)
    best = None  # (shift, cost, path, words)
    best_shift_cost = 0
    best_cost = cost
    for i in range(len(candidates) - 1, -1, -1):
        max_fix = 2 * (i + 1)

        def done():
            fixed = cost - (best_shift_cost + best_cost)
            return fixed > max_fix or (best_shift_cost != 0 and fixed == max_fix)

        if done():
            break
        for shift in candidates[i]:
            if done():
                break
            words = perform_shift(cur, *shift)
            new_cost, new_path = min_edit_dist(words, ref)
            gain = (best_cost + best_shift_cost) - (new_cost + 1)
            if gain > 0 or (best_shift_cost == 0 and gain == 0):
                best = (shift, new_cost, new_path, words)
                best_shift_cost = 1
                best_cost = new_cost
    return best


def ter(hyp, ref):
    """tercom's TER with shifts: shifted hypothesis, alignment, shifts and edits."""
    if not hyp or not ref:
        path = "D" * len(ref) if not hyp else "I" * len(hyp)
        return {"aftershift": list(hyp), "alignment": path, "shifts": [], "edits": len(path)}
    rloc = word_matches(hyp, ref)
    cur = list(hyp)
    cost, path = min_edit_dist(cur, ref)
    shifts = []
    while True:
        found = best_shift(cur, ref, rloc, cost, path)
        if found is None:
            break
        shift, cost, path, cur = found
        shifts.append(list(shift))
    return {"aftershift": cur, "alignment": path, "shifts": shifts, "edits": cost + len(shifts)}


# --- InfECE -----------------------------------------------------------------------------------


def infece_labels(hyp, ref):
    """Per hypothesis position: 1 / 0 (correct or not), or None where the filter drops it."""
    result = ter(hyp, ref)
    # parse_xml.py: labels of the shifted hypothesis tokens.
    text, labels, prev_d = [], [], False
    h = 0
    for o in result["alignment"]:
        if o == "D":
            prev_d = True
            continue
        text.append(result["aftershift"][h])
        labels.append("D" if prev_d else {" ": "C", "S": "S", "I": "I"}[o])
        prev_d = False
        h += 1
    # shift_back.py
    for start, end, dest in reversed(result["shifts"]):
        length = end - start + 1
        if dest < start:
            pass
        elif dest > end:
            dest -= length
        else:
            continue
        block_t = text[dest + 1 : dest + length + 1]
        block_l = labels[dest + 1 : dest + length + 1]
        del text[dest + 1 : dest + length + 1]
        del labels[dest + 1 : dest + length + 1]
        text[start:start] = block_t
        labels[start:start] = block_l
    # filter_diff_tok.py
    assert len(text) == len(hyp)
    out = []
    for orig, back, label in zip(hyp, text, labels):
        if orig == back or "?" in back:
            out.append(1 if label == "C" else 0)
        else:
            out.append(None)
    return out, result, text


def infece(probs, labels, bins):
    """calc_ece.py's error_matrix + calculate_ece (one vocabulary column per distinct token)."""
    prob = np.array(probs, dtype=np.float64)
    value = np.array(labels, dtype=np.float64) - prob
    width = 1.0 / bins
    err = np.zeros(bins)
    count = np.zeros(bins, dtype=np.int64)
    for i in range(bins):
        lower, upper = i * width, (i + 1) * width
        if i < bins - 1:
            cond = (prob >= lower) & (prob < upper)
        else:
            cond = (prob >= lower) & (prob <= upper)
        err[i] = value[cond].sum()
        count[i] = cond.sum()
    assert count.sum() == len(probs)
    return float(np.sum(np.abs(err)) / np.sum(count)), count.tolist()


# --- checks and fixture -----------------------------------------------------------------------


def parse_pra(path):
    records, rec = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("Sentence ID:"):
            rec = {"id": line.split(":", 1)[1].strip(), "shifts": []}
            records.append(rec)
        elif line.startswith("Original Ref: "):
            rec["ref"] = line[len("Original Ref: ") :].split(" ")
        elif line.startswith("Original Hyp: "):
            rec["hyp"] = line[len("Original Hyp: ") :].split(" ")
        elif line.startswith("Hyp After Shift: "):
            rec["aftershift"] = line[len("Hyp After Shift: ") :].split(" ")
        elif line.startswith("Alignment: "):
            rec["alignment"] = line[line.index("(") + 1 : line.rindex(")")]
        elif line.startswith("  ["):
            start, end, rest = line.strip()[1:].split(",", 2)
            newloc = rest.split("]")[0].split("/")[1]
            rec["shifts"].append([int(start), int(end), int(newloc)])
        elif line.startswith("Score: "):
            rec["edits"] = int(float(line.split("(")[1].split("/")[0]))
    return records


def random_cases(count, seed):
    """Sentence pairs over a tiny vocabulary, so that shifts, repeats and gaps are common."""
    rng = random.Random(seed)
    vocab = ["a", "b", "c", "d", "e", "f", "?x", "g"]
    cases = []
    for _ in range(count):
        ref = [rng.choice(vocab) for _ in range(rng.randint(1, 12))]
        hyp = list(ref)
        for _ in range(rng.randint(1, 4)):
            kind = rng.random()
            if kind < 0.3 and len(hyp) > 2:
                i, j = sorted(rng.sample(range(len(hyp)), 2))
                k = rng.randint(0, len(hyp) - (j - i))
                block = hyp[i:j]
                del hyp[i:j]
                hyp[k:k] = block
            elif kind < 0.55:
                hyp.insert(rng.randint(0, len(hyp)), rng.choice(vocab))
            elif kind < 0.8 and hyp:
                del hyp[rng.randrange(len(hyp))]
            elif hyp:
                hyp[rng.randrange(len(hyp))] = rng.choice(vocab)
        cases.append((hyp, ref))
    return cases


def main():
    pra = os.environ.get("TERCOM_PRA")
    if pra:
        for rec in parse_pra(pathlib.Path(pra)):
            got = ter(rec["hyp"], rec["ref"])
            for key in ("aftershift", "alignment", "shifts", "edits"):
                assert got[key] == rec[key], (rec["id"], key, got[key], rec[key])
        print(f"tercom: the records of {pra} reproduced")
    else:
        print("tercom: TERCOM_PRA not set; the check against real tercom output is skipped")

    checked = 0
    for hyp, ref in random_cases(3000, 7):
        edits, _ = lib_ter.translation_edit_rate(hyp, ref)
        assert ter(hyp, ref)["edits"] == edits, (hyp, ref, ter(hyp, ref), edits)
        checked += 1
    print(f"sacreBLEU TER: {checked} edit counts agree")

    # Alignments the Rust TER must reproduce: generated pairs, most with block shifts.
    records = []
    for i, (hyp, ref) in enumerate(random_cases(600, 5)):
        got = ter(hyp, ref)
        if got["shifts"] or i % 7 == 0:
            records.append({"id": f"generated:{i}", "ref": ref, "hyp": hyp, **got})
        if len(records) == 30:
            break

    # Hand-picked cases: a shift, a match right after a gap (labelled D), an empty reference,
    # an empty hypothesis, shifts inside their own span (made up: the shift-back skips them, so
    # the filter drops tokens, except one whose shifted-back token contains '?'), and
    # probabilities on bin edges.
    hand = [
        (["a", "b", "c", "d"], ["a", "b", "c", "d"]),
        (["b", "c", "a", "d"], ["a", "b", "c", "d"]),
        (["the", "cat", "sat"], ["the", "black", "cat", "sat"]),
        (["x", "y"], []),
        ([], ["a"]),
        ("c d c g c e".split(), "d c f c d g c e".split()),
        ("c ?x ?x ?x e".split(), "?x c ?x".split()),
    ]
    rng = random.Random(2022)
    pool = random_cases(400, 11)
    extra = [c for c in pool if c[0]][:25]
    edges = [0.05, 0.15, 0.5, 0.95, 1.0, 0.0500000001, 0.3, 0.65]
    cases = []
    for hyp, ref in hand + extra:
        labels, result, back = infece_labels(hyp, ref)
        probs = []
        for _ in hyp:
            if rng.random() < 0.3:
                probs.append(rng.choice(edges))
            else:
                probs.append(round(rng.uniform(0.0, 1.0), 6))
        cases.append(
            {
                "hyp": hyp,
                "ref": ref,
                "probs": probs,
                "aftershift": result["aftershift"],
                "alignment": result["alignment"],
                "shifts": result["shifts"],
                "shifted_back": back,
                "labels": labels,
            }
        )
    assert any(None in c["labels"] for c in cases), "no filtered token"
    kept_probs = [p for c in cases for p, l in zip(c["probs"], c["labels"]) if l is not None]
    kept_labels = [l for c in cases for l in c["labels"] if l is not None]
    summary = {}
    for bins in (20, 10):
        ece, counts = infece(kept_probs, kept_labels, bins)
        summary[str(bins)] = {"ece": ece, "counts": counts}
    result = {
        "note": "written by datasets/scripts/mls/infece_golden.py",
        "tercom": records,
        "cases": cases,
        "n": len(kept_probs),
        "mean_confidence": float(np.mean(kept_probs)),
        "accuracy": float(np.mean(kept_labels)),
        "bins": summary,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({"n": result["n"], "bins": summary}, indent=1))


if __name__ == "__main__":
    main()
