"""PyTorch reference for `cargo xtask bench`: the same generation as crates/core/benches/generate.rs.

A randomly initialised LlamaForCausalLM (vocab 2048, hidden 256, 4 layers, 8 query heads, 4 KV
heads, SwiGLU 688, untied head), batch 4 x 32-token prompts, 32 greedy new tokens per row with
no EOS, float32 on the CPU, Hugging Face `generate`:
- cached_ms: with the KV cache (use_cache=True);
- uncached_ms: recomputing the whole sequence at every step (use_cache=False);
- *_tokens_per_s: generated tokens (batch x new tokens) per second.
Prints one JSON line. Needs torch and transformers.
"""
import argparse
import json
import time

import torch
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--repeats", type=int, default=10)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)

BATCH, PROMPT, NEW_TOKENS = 4, 32, 32
config = LlamaConfig(vocab_size=2048, hidden_size=256, num_hidden_layers=4, num_attention_heads=8,
                     num_key_value_heads=4, intermediate_size=688, tie_word_embeddings=False)
model = LlamaForCausalLM(config).eval()
ids = ((torch.arange(BATCH * PROMPT) * 7919) % 2000 + 10).reshape(BATCH, PROMPT)
mask = torch.ones(BATCH, PROMPT, dtype=torch.long)


def timed(step, repeats):
    for _ in range(2):
        step()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    return (time.perf_counter() - start) / repeats * 1000


def generate(use_cache):
    settings = GenerationConfig(do_sample=False, max_new_tokens=NEW_TOKENS,
                                min_new_tokens=NEW_TOKENS, eos_token_id=None, pad_token_id=0,
                                use_cache=use_cache)

    def step():
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=mask, generation_config=settings)
        assert out.shape == (BATCH, PROMPT + NEW_TOKENS), out.shape

    return step


cached_ms = timed(generate(True), args.repeats)
uncached_ms = timed(generate(False), args.repeats)
tokens = BATCH * NEW_TOKENS
print(json.dumps({"cached_ms": cached_ms, "uncached_ms": uncached_ms,
                  "cached_tokens_per_s": tokens / cached_ms * 1000,
                  "uncached_tokens_per_s": tokens / uncached_ms * 1000,
                  "threads": args.threads, "torch": torch.__version__}))
