"""PyTorch reference for `cargo xtask bench`: the same work as crates/core/benches/smollm2.rs.

SmolLM2-135M-Instruct loaded by Hugging Face transformers from the shared GGUF file
(`AutoModelForCausalLM.from_pretrained(dir, gguf_file=...)` dequantizes it to float32), CPU:
- prefill_b1_ms: one forward pass over the 96-token GSM8K chat prompt of reference.json;
- generate_b1_ms / generate_b8_ms: 32 greedy new tokens (no EOS) after the 37-token chat
  prompt, KV cache, batch 1 and 8;
- peak_rss_mb: the process's peak resident memory after all runs.
Prints one JSON line. Needs torch, transformers and gguf.
"""
import argparse
import json
import os
import resource
import time

import torch
from transformers import AutoModelForCausalLM, GenerationConfig

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--repeats", type=int, default=5)
args = parser.parse_args()
torch.set_num_threads(args.threads)

here = os.path.dirname(os.path.abspath(__file__))
model_dir = os.path.normpath(os.path.join(here, "../../../../shared/models/smollm2-135m-instruct"))
reference = json.load(open(os.path.join(model_dir, "reference.json")))
prompts = {p["name"]: p["input_ids"] for p in reference["prompts"]}
model = AutoModelForCausalLM.from_pretrained(
    model_dir, gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf", dtype=torch.float32).eval()
NEW_TOKENS = 32


def timed(step, repeats):
    for _ in range(2):
        step()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    return (time.perf_counter() - start) / repeats * 1000


long_ids = torch.tensor([prompts["chat_gsm8k"]])


def prefill():
    with torch.no_grad():
        model(long_ids).logits[:, -1]


def generate(batch):
    ids = torch.tensor([prompts["chat_capital"]] * batch)
    mask = torch.ones_like(ids)
    settings = GenerationConfig(do_sample=False, max_new_tokens=NEW_TOKENS,
                                min_new_tokens=NEW_TOKENS, eos_token_id=None, pad_token_id=2)

    def step():
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=mask, generation_config=settings)
        assert out.shape == (batch, ids.shape[1] + NEW_TOKENS), out.shape

    return step


result = {"prefill_b1_ms": timed(prefill, args.repeats),
          "generate_b1_ms": timed(generate(1), args.repeats),
          "generate_b8_ms": timed(generate(8), args.repeats)}
result["decode_b1_tokens_per_s"] = NEW_TOKENS / result["generate_b1_ms"] * 1000
result["decode_b8_tokens_per_s"] = 8 * NEW_TOKENS / result["generate_b8_ms"] * 1000
result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
result["threads"] = args.threads
result["torch"] = torch.__version__
print(json.dumps(result))
