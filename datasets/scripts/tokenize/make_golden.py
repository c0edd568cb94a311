"""Generate golden token ids for `crates/core/tests/it/tokenize.rs`.

Uses the Python `tokenizers` package (`pip install tokenizers`) on the real tokenizer files in
`../shared/models` and writes `crates/core/tests/golden/tokenize/golden.json`.
Not run in CI: the JSON is committed and the Rust test compares against it.

Usage (from the repository root):

    python datasets/scripts/tokenize/make_golden.py [--models ../shared/models]
"""

import argparse
import json
import pathlib

import tokenizers
from tokenizers import Tokenizer, decoders, pre_tokenizers, processors
from tokenizers.models import BPE

SINGLES = [
    "Hello world!",
    "The quick brown fox jumps over the lazy dog.",
    "Café naïve résumé, déjà vu.",
    "unaffable tokenization",
    "我爱北京天安门。",
    "Ich bin ein Berliner, oder?",
    "I'm 😀 ok",
    "  leading and  double  spaces ",
]
PAIRS = [
    ("How are you?", "I am fine, thanks."),
]
WORDS = [
    ["John", "lives", "in", "New", "York", "."],
    ["Café", "naïve", "Zürich", "résumé"],
    ["我", "爱", "北京", "天安门", "。"],
    ["EU", "rejects", "German", "call", "to", "boycott", "British", "lamb", "."],
]


def load(models: pathlib.Path):
    out = {
        "all-minilm-l6-v2": Tokenizer.from_file(str(models / "all-minilm-l6-v2/tokenizer.json")),
        "bert-base-chinese": Tokenizer.from_file(
            str(models / "bert-base-chinese-tokenizer/tokenizer.json")
        ),
        "xlmr": Tokenizer.from_file(str(models / "xlmr-tokenizer/tokenizer.json")),
    }
    # GPT-2: byte-level BPE from encoder.json + vocab.bpe, as `Tokenizer::from_gpt2_files` builds it.
    gpt2 = Tokenizer(
        BPE.from_file(
            str(models / "gpt2-tokenizer/encoder.json"), str(models / "gpt2-tokenizer/vocab.bpe")
        )
    )
    gpt2.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    gpt2.decoder = decoders.ByteLevel()
    gpt2.post_processor = processors.ByteLevel(trim_offsets=True)
    gpt2.add_special_tokens(["<|endoftext|>"])
    out["gpt2"] = gpt2
    for tok in out.values():
        tok.no_padding()
        tok.no_truncation()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="../shared/models")
    ap.add_argument("--out", default="crates/core/tests/golden/tokenize/golden.json")
    args = ap.parse_args()
    toks = load(pathlib.Path(args.models))
    golden = {"tokenizers_version": tokenizers.__version__, "models": {}}
    for name, tok in toks.items():
        entry = {"vocab_size": tok.get_vocab_size(with_added_tokens=True), "single": [], "pair": [], "words": []}
        for text in SINGLES:
            enc = tok.encode(text)
            entry["single"].append(
                {
                    "text": text,
                    "ids": enc.ids,
                    "tokens": enc.tokens,
                    "decoded": tok.decode(enc.ids, skip_special_tokens=True),
                }
            )
        for a, b in PAIRS:
            enc = tok.encode(a, b)
            entry["pair"].append({"a": a, "b": b, "ids": enc.ids, "type_ids": enc.type_ids})
        for words in WORDS:
            enc = tok.encode(words, is_pretokenized=True)
            entry["words"].append({"words": words, "ids": enc.ids, "word_ids": enc.word_ids})
        golden["models"][name] = entry
    path = pathlib.Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(golden, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
