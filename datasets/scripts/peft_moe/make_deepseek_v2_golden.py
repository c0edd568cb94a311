"""Golden logits of tiny random DeepSeek-V2 models (multi-head latent attention + YaRN RoPE).

Writes, for each configuration below, crates/peft-moe/tests/golden/<name>/ with
- config.json: the transformers configuration (`tiny_mla_yarn` as transformers 5 writes it, with
  `rope_parameters`; `tiny_mla_plain_q` rewritten in the transformers 4 layout of the published
  DeepSeek-V2 checkpoints, top-level `rope_theta` and `rope_scaling` with `type`);
- model-0000N-of-0000M.safetensors + model.safetensors.index.json: the weights in float16,
  sharded by transformers' `save_pretrained` (DeepSeek-V2 tensor names, one tensor per expert);
- golden.json: `input_ids` [2, 20] and the float32 `logits` [2, 20, vocab] of
  `DeepseekV2ForCausalLM` (eager attention) with those float16-representable weights.

The reference is transformers 5.25's own `DeepseekV2ForCausalLM`; weights are redrawn with larger
scales than its initialisation (normal 0.15, router 0.5, norms uniform in [0.5, 1.5]) so that
logits differ visibly between positions, then rounded to float16 so that the stored checkpoint
is exactly the model that made the logits. The script checks that no routing decision is
near-tied (top-k margin printed) so the parity test is not at the mercy of rounding.

Run: python3 datasets/scripts/peft_moe/make_deepseek_v2_golden.py
"""

import json
import os

import torch
from transformers import DeepseekV2Config, DeepseekV2ForCausalLM

ROOT = os.path.join(os.path.dirname(__file__), "../../../crates/peft-moe/tests/golden")

COMMON = dict(
    vocab_size=64,
    hidden_size=32,
    intermediate_size=48,
    moe_intermediate_size=8,
    num_hidden_layers=3,
    num_attention_heads=4,
    first_k_dense_replace=1,
    n_routed_experts=6,
    num_experts_per_tok=2,
    n_shared_experts=2,
    norm_topk_prob=False,
    routed_scaling_factor=1.0,
    topk_method="greedy",
    kv_lora_rank=16,
    qk_nope_head_dim=8,
    v_head_dim=8,
    max_position_embeddings=64,
    rms_norm_eps=1e-6,
    tie_word_embeddings=False,
    attn_implementation="eager",
)

CONFIGS = {
    # Query bottleneck, DeepSeek-V2-Lite's YaRN settings (mscale = mscale_all_dim: cos/sin
    # unscaled, softmax scale × mscale²).
    "tiny_mla_yarn": dict(
        COMMON,
        q_lora_rank=24,
        qk_rope_head_dim=4,
        rope_theta=10000.0,
        rope_scaling=dict(
            type="yarn",
            factor=4.0,
            original_max_position_embeddings=16,
            beta_fast=32,
            beta_slow=1,
            mscale=0.707,
            mscale_all_dim=0.707,
        ),
    ),
    # Full query projection (DeepSeek-V2-Lite / ESFT-vanilla-lite), a fractional YaRN ramp and
    # mscale ≠ mscale_all_dim, so that cosines and sines are scaled too.
    "tiny_mla_plain_q": dict(
        COMMON,
        q_lora_rank=None,
        qk_rope_head_dim=8,
        rope_theta=100.0,
        rope_scaling=dict(
            type="yarn",
            factor=4.0,
            original_max_position_embeddings=16,
            beta_fast=8,
            beta_slow=0.5,
            mscale=1.0,
            mscale_all_dim=0.8,
        ),
    ),
}

INPUT_IDS = [
    [1, 5, 9, 33, 2, 17, 17, 8, 40, 63, 0, 12, 25, 6, 30, 11, 48, 3, 3, 57],
    [7, 62, 14, 14, 29, 36, 1, 50, 22, 9, 41, 18, 5, 60, 27, 2, 33, 44, 10, 19],
]


def topk_margin(model, input_ids):
    """Smallest gap between the k-th and (k+1)-th router score over tokens and MoE layers."""
    scores = []
    hooks = [
        layer.mlp.gate.register_forward_hook(lambda m, i, o: scores.append(o[0].softmax(-1)))
        for layer in model.model.layers
        if hasattr(layer.mlp, "gate")
    ]
    with torch.no_grad():
        model(input_ids=input_ids)
    for hook in hooks:
        hook.remove()
    k = model.config.num_experts_per_tok
    margins = [(s.topk(k + 1, dim=-1).values[:, k - 1] - s.topk(k + 1, dim=-1).values[:, k]).min() for s in scores]
    return float(min(margins))


def random_model(kwargs, seed):
    torch.manual_seed(seed)
    model = DeepseekV2ForCausalLM(DeepseekV2Config(**kwargs))
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if "norm" in pname:
                p.uniform_(0.5, 1.5)
            elif "mlp.gate.weight" in pname:
                p.normal_(0.0, 0.5)
            else:
                p.normal_(0.0, 0.15)
            p.copy_(p.half().float())
    return model.eval()


def make(name, kwargs, seed):
    input_ids = torch.tensor(INPUT_IDS)
    # The first seed from `seed` whose routing has no near-ties (margin > 2e-3).
    for seed in range(seed, seed + 100):
        model = random_model(kwargs, seed)
        margin = topk_margin(model, input_ids)
        if margin > 2e-3:
            break
    else:
        raise SystemExit(f"{name}: every seed has near-tied routing")
    with torch.no_grad():
        logits = model(input_ids=input_ids).logits
    out = os.path.join(ROOT, name)
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        os.remove(os.path.join(out, f))
    model.half().save_pretrained(out, max_shard_size="40KB")
    os.remove(os.path.join(out, "generation_config.json"))
    config_path = os.path.join(out, "config.json")
    with open(config_path) as f:
        config = json.load(f)
    if name == "tiny_mla_plain_q":
        # The transformers 4 layout of the published checkpoints.
        rope = config.pop("rope_parameters")
        config["rope_theta"] = rope.pop("rope_theta")
        rope.pop("rope_type", None)
        config["rope_scaling"] = rope
        config.pop("head_dim", None)
        config.pop("qk_head_dim", None)
    with open(config_path, "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump(
            {
                "input_ids": INPUT_IDS,
                "logits": [[[round(v, 6) for v in row] for row in seq] for seq in logits.tolist()],
            },
            f,
        )
    size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"wrote {out} (seed {seed}): {sorted(os.listdir(out))}, {size} bytes, top-k margin {margin:.4f}, "
          f"logit std {float(logits.std()):.3f}")


def main():
    for seed, (name, kwargs) in zip([0, 1000], CONFIGS.items()):
        make(name, kwargs, seed)


if __name__ == "__main__":
    main()
