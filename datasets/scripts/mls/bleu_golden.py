"""Golden BLEU values for crates/mls-nmt/tests: sacreBLEU on the MLS repository outputs.

Scores ../shared/datasets/mls_outputs/ro-en-ori-ls.out.{sys,ref} (fairseq outputs of the
official PKUnlp-icler/MLS repository) with sacreBLEU, tokenize='none' (the plain
whitespace-token corpus BLEU the repository's README reports, 22.54) and the default '13a',
a few sentence-level scores, and sacreBLEU's default chrF. Writes
crates/mls-nmt/tests/golden/bleu.json.

Run from the repository root: python3 datasets/scripts/mls/bleu_golden.py
"""

import json
import pathlib

import sacrebleu

ROOT = pathlib.Path(__file__).resolve().parents[3]
DATA = ROOT.parent / "shared" / "datasets" / "mls_outputs"
OUT = ROOT / "crates" / "mls-nmt" / "tests" / "golden" / "bleu.json"


def read(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def main():
    hyps = read(DATA / "ro-en-ori-ls.out.sys")
    refs = read(DATA / "ro-en-ori-ls.out.ref")
    result = {"sacrebleu_version": sacrebleu.__version__, "files": "ro-en-ori-ls.out.{sys,ref}"}
    for tokenize in ["none", "13a"]:
        score = sacrebleu.corpus_bleu(hyps, [refs], tokenize=tokenize)
        result[tokenize] = {
            "bleu": score.score,
            "counts": list(score.counts),
            "totals": list(score.totals),
            "bp": score.bp,
            "sys_len": score.sys_len,
            "ref_len": score.ref_len,
        }
    chrf = sacrebleu.corpus_chrf(hyps, [refs])
    result["chrf"] = {"score": chrf.score}
    result["sentences"] = [
        {"index": i, "bleu": sacrebleu.sentence_bleu(hyps[i], [refs[i]]).score}
        for i in range(0, len(hyps), 400)
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
