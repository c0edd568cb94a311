"""Tiny randomly initialised Llama models and reference outputs for the Llama parity test.

Writes two seeded `LlamaForCausalLM` checkpoints (float32) with transformers:
- `crates/core/tests/golden/llama/tiny/`: vocab 128, hidden 64, 2 layers, 4 heads, 2 KV heads
  (grouped-query attention), SwiGLU inner size 96, rope_theta 10000, untied `lm_head`;
- `crates/core/tests/golden/llama/tiny_tied/`: vocab 64, hidden 32, 1 layer, 4 heads, 1 KV head
  (multi-query attention), inner size 48, rope_theta 500000, tied input/output embeddings.

Each directory gets `config.json`, `model.safetensors` and `golden.safetensors` holding:
- `single_ids` [1, n] and `single_logits` [1, n, vocab]: one unpadded sequence;
- `batch_ids`, `batch_mask` [3, seq]: a LEFT-padded batch (pad id 0), and `batch_logits`
  [3, seq, vocab], computed with position ids from the mask (cumsum - 1) as `generate` does;
- `greedy_tokens` [3, 8]: `generate(do_sample=False, max_new_tokens=8)` on the batch, new tokens
  only (no EOS, so every row runs the full 8 steps), identical with and without the KV cache;
- `greedy_log_probs` [3, 8]: log-softmax of the raw logits at each chosen token.

Weights are drawn with std 0.2 (instead of Llama's 0.02) so the next-token distributions are
peaked enough for greedy decoding to be stable under float rounding; the script checks that the
gap between the best and second-best logit at every greedy step is above 1e-3.

Usage (from the repository root, with torch, transformers and safetensors installed):
    python datasets/scripts/llama/make_tiny_llama.py
"""
from pathlib import Path

import torch
import transformers
from safetensors import safe_open
from safetensors.torch import save_file
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

OUT = Path("crates/core/tests/golden/llama")
NEW_TOKENS = 8

VARIANTS = {
    "tiny": dict(vocab_size=128, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, intermediate_size=96, rope_theta=10000.0,
                 tie_word_embeddings=False),
    "tiny_tied": dict(vocab_size=64, hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
                      num_key_value_heads=1, intermediate_size=48, rope_theta=500000.0,
                      tie_word_embeddings=True),
}


def make(name, shape, seed):
    torch.manual_seed(seed)
    config = LlamaConfig(**shape, max_position_embeddings=128, rms_norm_eps=1e-6,
                         initializer_range=0.2, bos_token_id=1, eos_token_id=2, pad_token_id=0)
    model = LlamaForCausalLM(config).eval()
    # Llama initialises RMSNorm weights to one; randomise them so the test sees them used.
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, transformers.models.llama.modeling_llama.LlamaRMSNorm):
                module.weight.uniform_(0.5, 1.5)
    directory = OUT / name
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory, safe_serialization=True)
    (directory / "generation_config.json").unlink(missing_ok=True)

    vocab = shape["vocab_size"]
    gen = torch.Generator().manual_seed(seed + 1)
    single = torch.randint(3, vocab, (1, 7), generator=gen)
    lengths = [6, 3, 5]
    seq = max(lengths)
    batch = torch.zeros(len(lengths), seq, dtype=torch.long)
    mask = torch.zeros(len(lengths), seq, dtype=torch.long)
    for row, length in enumerate(lengths):
        batch[row, seq - length:] = torch.randint(3, vocab, (length,), generator=gen)
        mask[row, seq - length:] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)

    with torch.no_grad():
        single_logits = model(input_ids=single).logits
        batch_logits = model(input_ids=batch, attention_mask=mask, position_ids=positions).logits
        settings = dict(do_sample=False, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS,
                        eos_token_id=None, pad_token_id=0, return_dict_in_generate=True,
                        output_logits=True)
        cached = model.generate(input_ids=batch, attention_mask=mask,
                                generation_config=GenerationConfig(**settings, use_cache=True))
        uncached = model.generate(input_ids=batch, attention_mask=mask,
                                  generation_config=GenerationConfig(**settings, use_cache=False))
    tokens = cached.sequences[:, seq:]
    assert tokens.shape == (len(lengths), NEW_TOKENS), tokens.shape
    assert torch.equal(tokens, uncached.sequences[:, seq:]), "cache changes greedy output"
    logits = torch.stack(cached.logits, dim=1)  # [batch, steps, vocab]
    top2 = logits.topk(2, dim=-1).values
    gap = (top2[..., 0] - top2[..., 1]).min().item()
    assert gap > 1e-3, f"greedy decoding is fragile: top-2 gap {gap}"
    log_probs = torch.log_softmax(logits, dim=-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)

    save_file(
        {
            "single_ids": single.contiguous(),
            "single_logits": single_logits.contiguous(),
            "batch_ids": batch.contiguous(),
            "batch_mask": mask.contiguous(),
            "batch_logits": batch_logits.contiguous(),
            "greedy_tokens": tokens.contiguous(),
            "greedy_log_probs": log_probs.contiguous(),
        },
        str(directory / "golden.safetensors"),
        metadata={"transformers": transformers.__version__, "torch": torch.__version__},
    )
    with safe_open(str(directory / "model.safetensors"), framework="pt") as saved:
        keys = sorted(saved.keys())
    print(f"{name}: {len(keys)} tensors, lm_head saved: {'lm_head.weight' in keys}, "
          f"greedy top-2 gap {gap:.4f}, tokens {tokens.tolist()}")


for index, (name, shape) in enumerate(VARIANTS.items()):
    make(name, shape, seed=index)
