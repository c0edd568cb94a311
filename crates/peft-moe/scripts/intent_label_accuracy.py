"""Diagnostic beside the official intent score: of official-format completion files
(`peft-moe eval --esft-eval … --out completions.jsonl`), how many predictions have a first line
that parses as JSON, and how many name the gold intent (slots ignored). Not the official metric
(that is `peft-moe score --task intent`). Used for docs/results/peft-moe-smollm2.md.

Usage: python3 crates/peft-moe/scripts/intent_label_accuracy.py RUN/runs/*/completions.jsonl
"""

import json
import sys


def first_line_json(text):
    line = text.strip().split("\n")[0].rstrip("。")
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def main(paths):
    for path in paths:
        rows = [json.loads(line) for line in open(path, encoding="utf-8")]
        parsed = intent = 0
        for row in rows:
            gold = json.loads(row["example"]["raw_answers"][0])
            pred = first_line_json(row["example"]["raw_prediction"])
            if pred is not None:
                parsed += 1
                intent += pred.get("intent") == gold["intent"]
        print(f"{path}\t{len(rows)} items\tJSON {parsed}\tintent right {intent}")


if __name__ == "__main__":
    main(sys.argv[1:])
