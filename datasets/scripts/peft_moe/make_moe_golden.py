"""Golden logits of a tiny random DeepSeek-MoE for crates/peft-moe/tests/golden/tiny_moe/.

Reference: Hugging Face transformers' LlamaForCausalLM (attention, norms, RoPE) with the MLP of
every layer after `first_k_dense_replace` replaced by transformers' own `DeepseekV2Moe` (softmax
router, greedy top-k without renormalisation, shared experts). The checkpoint is written with
DeepSeek-V2 tensor names (`mlp.gate.weight`, `mlp.experts.{i}.{gate,up,down}_proj.weight`,
`mlp.shared_experts.*`). Run: python3 datasets/scripts/peft_moe/make_moe_golden.py
"""

import json
import os

import torch
from safetensors.torch import save_file
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.models.deepseek_v2.configuration_deepseek_v2 import DeepseekV2Config
from transformers.models.deepseek_v2.modeling_deepseek_v2 import DeepseekV2Moe

OUT = os.path.join(os.path.dirname(__file__), "../../../crates/peft-moe/tests/golden/tiny_moe")

CONFIG = {
    "model_type": "deepseek",
    "vocab_size": 40,
    "hidden_size": 16,
    "intermediate_size": 24,
    "moe_intermediate_size": 8,
    "num_hidden_layers": 3,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "n_shared_experts": 2,
    "n_routed_experts": 6,
    "num_experts_per_tok": 2,
    "first_k_dense_replace": 1,
    "norm_topk_prob": False,
    "routed_scaling_factor": 1.0,
    "aux_loss_alpha": 0.001,
    "rms_norm_eps": 1e-6,
    "rope_theta": 10000.0,
    "tie_word_embeddings": False,
    "scoring_func": "softmax",
    "moe_layer_freq": 1,
}


def main():
    torch.manual_seed(0)
    c = CONFIG
    llama = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=c["vocab_size"],
            hidden_size=c["hidden_size"],
            intermediate_size=c["intermediate_size"],
            num_hidden_layers=c["num_hidden_layers"],
            num_attention_heads=c["num_attention_heads"],
            num_key_value_heads=c["num_key_value_heads"],
            rms_norm_eps=c["rms_norm_eps"],
            rope_theta=c["rope_theta"],
            tie_word_embeddings=False,
            attn_implementation="eager",
        )
    )
    ds = DeepseekV2Config(
        hidden_size=c["hidden_size"],
        moe_intermediate_size=c["moe_intermediate_size"],
        n_shared_experts=c["n_shared_experts"],
        n_routed_experts=c["n_routed_experts"],
        num_experts_per_tok=c["num_experts_per_tok"],
        routed_scaling_factor=1.0,
        topk_method="greedy",
        num_attention_heads=4,
        num_key_value_heads=4,
        norm_topk_prob=False,
    )
    for i in range(c["first_k_dense_replace"], c["num_hidden_layers"]):
        moe = DeepseekV2Moe(ds)
        with torch.no_grad():
            for p in moe.parameters():
                p.normal_(0.0, 0.3)
        llama.model.layers[i].mlp = moe
    with torch.no_grad():
        for name, p in llama.named_parameters():
            if "norm" in name:
                p.uniform_(0.5, 1.5)
            elif "mlp.experts" not in name and "mlp.gate" not in name and "shared_experts" not in name:
                p.normal_(0.0, 0.3)
    llama.eval()

    tensors = {}
    inter = c["moe_intermediate_size"]
    for name, p in llama.state_dict().items():
        if ".mlp.experts.gate_up_proj" in name:
            prefix = name.replace(".gate_up_proj", "")
            for e in range(p.shape[0]):
                tensors[f"{prefix}.{e}.gate_proj.weight"] = p[e, :inter].contiguous()
                tensors[f"{prefix}.{e}.up_proj.weight"] = p[e, inter:].contiguous()
        elif ".mlp.experts.down_proj" in name:
            prefix = name.replace(".down_proj", "")
            for e in range(p.shape[0]):
                tensors[f"{prefix}.{e}.down_proj.weight"] = p[e].contiguous()
        else:
            tensors[name] = p.contiguous()

    input_ids = torch.tensor([[1, 5, 9, 33, 2, 17, 17, 8], [3, 39, 0, 12, 25, 6, 30, 11]])
    with torch.no_grad():
        logits = llama(input_ids=input_ids).logits
    os.makedirs(OUT, exist_ok=True)
    save_file(tensors, os.path.join(OUT, "model.safetensors"))
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=1)
    with open(os.path.join(OUT, "golden.json"), "w") as f:
        json.dump(
            {
                "input_ids": input_ids.tolist(),
                "logits": [[[round(v, 6) for v in row] for row in seq] for seq in logits.tolist()],
            },
            f,
        )
    print("wrote", OUT, "tensors", len(tensors), "logits", tuple(logits.shape))


if __name__ == "__main__":
    main()
