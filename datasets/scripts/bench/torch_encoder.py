"""PyTorch reference for `cargo xtask bench`: the same encoder steps as crates/core/benches/encoder.rs.

A randomly initialised BertModel of all-MiniLM-L6-v2's shape (6 layers, hidden 384, 12 heads,
FFN 1536, vocab 30522, dropout off), batch 8 x 128 tokens, float32 on the CPU:
- forward_ms: forward under torch.no_grad();
- train_step_ms: forward, mean-pool, mean of squares, backward, AdamW step (lr 1e-5).
Prints one JSON line. Needs torch and transformers.
"""
import argparse
import json
import time

import torch
from transformers import BertConfig, BertModel

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--repeats", type=int, default=10)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)

BATCH, SEQ = 8, 128
config = BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                    intermediate_size=1536, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
model = BertModel(config, add_pooling_layer=True)
ids = (torch.arange(BATCH * SEQ) * 7919 % 30000 + 100).reshape(BATCH, SEQ)
mask = torch.ones(BATCH, SEQ, dtype=torch.long)


def timed(step, repeats):
    for _ in range(2):
        step()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    return (time.perf_counter() - start) / repeats * 1000


model.eval()


def forward():
    with torch.no_grad():
        model(input_ids=ids, attention_mask=mask)


forward_ms = timed(forward, args.repeats)

model.train()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)


def train_step():
    optimizer.zero_grad(set_to_none=True)
    hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
    m = mask.unsqueeze(-1).float()
    pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
    loss = pooled.square().mean()
    loss.backward()
    optimizer.step()


train_step_ms = timed(train_step, args.repeats)
print(json.dumps({"forward_ms": forward_ms, "train_step_ms": train_step_ms,
                  "threads": args.threads, "torch": torch.__version__}))
