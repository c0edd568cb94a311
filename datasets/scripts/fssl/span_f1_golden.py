"""Golden values for fssl-span's span F1: seqeval on random IO and BIO tag sequences.

IO sequences (Few-NERD style) are converted to BIO (a maximal run of equal non-O tags is one
entity) before seqeval scores them; BIO sequences (with ill-formed I- starts) are scored as
they are. Sentences are grouped into episodes of unequal sizes so that both F1 definitions are
covered: micro over all sentences (Few-NERD) and the mean of per-episode F1 (SNIPS).

Usage: python3 datasets/scripts/fssl/span_f1_golden.py > crates/fssl-span/tests/golden/span_f1.json
"""

import json
import random

from seqeval.metrics import f1_score, precision_score, recall_score

TYPES = ["person-actor", "art-film", "location-gpe"]


def io_to_bio(tags):
    out = []
    prev = "O"
    for t in tags:
        if t == "O":
            out.append("O")
        elif t == prev:
            out.append("I-" + t)
        else:
            out.append("B-" + t)
        prev = t
    return out


def random_io(rng, n):
    tags = []
    while len(tags) < n:
        if rng.random() < 0.5:
            tags.append("O")
        else:
            tags.extend([rng.choice(TYPES)] * rng.randint(1, 3))
    return tags[:n]


def random_bio(rng, n):
    return [rng.choice(["O", "O", "B-a", "I-a", "B-b", "I-b"]) for _ in range(n)]


def perturb(rng, tags, choices):
    return [rng.choice(choices) if rng.random() < 0.25 else t for t in tags]


def case(rng, scheme):
    episodes = []
    for _ in range(6):
        sentences = []
        for _ in range(rng.randint(1, 6)):
            n = rng.randint(1, 12)
            if scheme == "io":
                gold = random_io(rng, n)
                pred = perturb(rng, gold, TYPES + ["O"])
            else:
                gold = random_bio(rng, n)
                pred = perturb(rng, gold, ["O", "B-a", "I-a", "B-b", "I-b"])
            sentences.append({"gold": gold, "pred": pred})
        episodes.append(sentences)
    conv = (lambda t: io_to_bio(t)) if scheme == "io" else (lambda t: t)
    all_gold = [conv(s["gold"]) for e in episodes for s in e]
    all_pred = [conv(s["pred"]) for e in episodes for s in e]
    per_episode = []
    for e in episodes:
        g = [conv(s["gold"]) for s in e]
        p = [conv(s["pred"]) for s in e]
        per_episode.append(f1_score(g, p, zero_division=0))
    return {
        "scheme": scheme,
        "episodes": episodes,
        "micro": {
            "precision": precision_score(all_gold, all_pred, zero_division=0),
            "recall": recall_score(all_gold, all_pred, zero_division=0),
            "f1": f1_score(all_gold, all_pred, zero_division=0),
        },
        "episode_f1": sum(per_episode) / len(per_episode),
    }


def main():
    rng = random.Random(7)
    cases = [case(rng, "io") for _ in range(4)] + [case(rng, "bio") for _ in range(4)]
    print(json.dumps(cases))


if __name__ == "__main__":
    main()
