"""Reference outputs of all-MiniLM-L6-v2 for the encoder parity test.

Runs Hugging Face transformers' BertModel in float32 on a few fixed sentences (dynamic padding,
attention mask) and writes the token ids, mask, last hidden state and pooler output to
`crates/core/tests/golden/encoder/minilm_golden.safetensors`.

Usage (from the repository root, with torch, transformers and safetensors installed):
    python datasets/scripts/encoder/make_minilm_golden.py [../shared/models/all-minilm-l6-v2]
"""
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import AutoTokenizer, BertModel

SENTENCES = [
    "Hello world!",
    "The quick brown fox jumps over the lazy dog.",
    "Graph neural networks aggregate information along edges, don't they?",
    "Zürich's café served crème brûlée at 9:30.",
]

model_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/models/all-minilm-l6-v2")
out = Path("crates/core/tests/golden/encoder/minilm_golden.safetensors")

tokenizer = AutoTokenizer.from_pretrained(model_dir)
model = BertModel.from_pretrained(model_dir, torch_dtype=torch.float32).eval()
batch = tokenizer(SENTENCES, padding=True, return_tensors="pt")
with torch.no_grad():
    result = model(
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        token_type_ids=batch["token_type_ids"],
    )
save_file(
    {
        "input_ids": batch["input_ids"].to(torch.int64).contiguous(),
        "attention_mask": batch["attention_mask"].to(torch.int64).contiguous(),
        "last_hidden_state": result.last_hidden_state.contiguous(),
        "pooler_output": result.pooler_output.contiguous(),
    },
    str(out),
    metadata={"sentences": "\n".join(SENTENCES), "transformers": __import__("transformers").__version__,
              "torch": torch.__version__},
)
print(f"wrote {out}: ids {tuple(batch['input_ids'].shape)}")
