"""Reference for `cargo xtask bench`: the standard Smatch tool (PyPI `smatch` 1.0.4) on the same
input as crates/amr-aux/benches/smatch.rs.

Input: the perturbed copy of The Little Prince AMR bank written by
datasets/scripts/amr/make_smatch_golden.py (crates/amr-aux/tests/golden/little_prince_perturbed.txt)
scored against the original bank (../shared/datasets/amr/little_prince_v1.6.txt, rewritten with
`# ::id` lines as the tool expects), with the tool's defaults (4 random restarts).
- corpus_ms: wall time of the command line `smatch.py --pr -f TEST GOLD` (interpreter start,
  parsing and scoring; best of `--repeats` runs).
Prints one JSON line. Needs `pip install smatch==1.0.4`.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "datasets", "scripts", "amr"))

import smatch  # noqa: E402
from make_smatch_golden import read_amr_bank  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=2, help="unused: the tool is single-threaded")
parser.add_argument("--repeats", type=int, default=3)
args = parser.parse_args()

bank = read_amr_bank(os.path.join(ROOT, "..", "shared", "datasets", "amr", "little_prince_v1.6.txt"))
perturbed = os.path.join(ROOT, "crates", "amr-aux", "tests", "golden", "little_prince_perturbed.txt")
with tempfile.TemporaryDirectory() as tmp:
    gold = os.path.join(tmp, "gold.txt")
    with open(gold, "w", encoding="utf-8") as f:
        for gid, snt, lines in bank:
            f.write("# ::id %s\n# ::snt %s\n%s\n\n" % (gid, snt, "\n".join(lines)))
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, smatch.__file__, "--pr", "-f", perturbed, gold],
                       check=True, capture_output=True)
        times.append(time.perf_counter() - start)
print(json.dumps({"reference": "smatch 1.0.4 (PyPI)", "corpus_ms": min(times) * 1000}))
