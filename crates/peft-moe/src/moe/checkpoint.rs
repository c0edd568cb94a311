//! Checkpoints in the Hugging Face layout (`config.json` + safetensors, DeepSeek-V2 names).

use std::path::Path;

use burn::nn::Linear;
use burn::tensor::{Device, Tensor};
use burnlp_core::burn;
use burnlp_core::nn::WeightSource;

use super::{Expert, MoeAttention, MoeConfig, MoeLm};
use crate::error::MoeError;

/// Loads `DIR/config.json` and `DIR/model.safetensors` or the shards of
/// `DIR/model.safetensors.index.json` with the tensor names of transformers'
/// `DeepseekV2ForCausalLM` (multi-head latent attention when `config.json` has `kv_lora_rank`,
/// else Llama's `q_proj`/`k_proj`/`v_proj`/`o_proj`); every tensor must be present with the right
/// shape (tensors the model does not use, e.g. rotary buffers, are ignored). Both
/// transformers 4 (`rope_scaling`) and 5 (`rope_parameters`) configurations are read.
pub fn load_pretrained(dir: &Path, device: &Device) -> Result<(MoeConfig, MoeLm), MoeError> {
    let config = MoeConfig::from_file(&dir.join("config.json"))?;
    let mut weights = WeightSource::open_dir(dir, device)?;
    let mut model = config.init(device);
    model.load_weights(&mut weights);
    let report = weights.finish()?;
    tracing::info!(dir = %dir.display(), loaded = report.loaded.len(), "loaded MoE LM");
    Ok((config, model))
}

/// One exported tensor: checkpoint name, shape, values.
pub type NamedTensor = (String, Vec<usize>, Vec<f32>);

fn named<const D: usize>(name: String, tensor: Tensor<D>) -> NamedTensor {
    let shape = tensor.dims().to_vec();
    (name, shape, tensor.try_to_vec_as::<f32>().expect("f32"))
}

/// A linear layer's weight in PyTorch's `[out, in]` layout and its bias, if any.
fn export_linear(out: &mut Vec<NamedTensor>, linear: &Linear, name: &str) {
    out.push(named(
        format!("{name}.weight"),
        linear.weight.val().transpose(),
    ));
    if let Some(bias) = &linear.bias {
        out.push(named(format!("{name}.bias"), bias.val()));
    }
}

fn export_attention(out: &mut Vec<NamedTensor>, attention: &MoeAttention, prefix: &str) {
    match attention {
        MoeAttention::Gqa(attn) => {
            for (proj, name) in [
                (&attn.q_proj, "q_proj"),
                (&attn.k_proj, "k_proj"),
                (&attn.v_proj, "v_proj"),
                (&attn.o_proj, "o_proj"),
            ] {
                export_linear(out, proj, &format!("{prefix}.{name}"));
            }
        }
        MoeAttention::Mla(attn) => {
            let optional = [
                (&attn.q_proj, "q_proj"),
                (&attn.q_a_proj, "q_a_proj"),
                (&attn.q_b_proj, "q_b_proj"),
            ];
            for (proj, name) in optional {
                if let Some(proj) = proj {
                    export_linear(out, proj, &format!("{prefix}.{name}"));
                }
            }
            if let Some(norm) = &attn.q_a_layernorm {
                out.push(named(
                    format!("{prefix}.q_a_layernorm.weight"),
                    norm.gamma.val(),
                ));
            }
            export_linear(
                out,
                &attn.kv_a_proj_with_mqa,
                &format!("{prefix}.kv_a_proj_with_mqa"),
            );
            out.push(named(
                format!("{prefix}.kv_a_layernorm.weight"),
                attn.kv_a_layernorm.gamma.val(),
            ));
            export_linear(out, &attn.kv_b_proj, &format!("{prefix}.kv_b_proj"));
            export_linear(out, &attn.o_proj, &format!("{prefix}.o_proj"));
        }
    }
}

fn export_expert(out: &mut Vec<NamedTensor>, expert: &Expert, prefix: &str) {
    for (proj, name) in [
        (&expert.gate_proj, "gate_proj"),
        (&expert.up_proj, "up_proj"),
        (&expert.down_proj, "down_proj"),
    ] {
        out.push(named(
            format!("{prefix}.{name}.weight"),
            proj.merged().weight.val().transpose(),
        ));
    }
}

/// Every tensor of the model under its checkpoint name (the inverse of [`load_pretrained`]),
/// LoRA adapters merged into their base weights; linear weights in PyTorch's `[out, in]`.
pub fn export_tensors(model: &MoeLm) -> Vec<NamedTensor> {
    let mut out = vec![named(
        "model.embed_tokens.weight".into(),
        model.embed_tokens.weight.val(),
    )];
    for (i, layer) in model.layers.iter().enumerate() {
        let p = format!("model.layers.{i}");
        export_attention(&mut out, &layer.self_attn, &format!("{p}.self_attn"));
        if let Some(dense) = &layer.mlp.dense {
            export_expert(&mut out, dense, &format!("{p}.mlp"));
        }
        if let Some(moe) = &layer.mlp.moe {
            out.push(named(format!("{p}.mlp.gate.weight"), moe.gate.val()));
            for (e, expert) in moe.experts.iter().enumerate() {
                export_expert(&mut out, expert, &format!("{p}.mlp.experts.{e}"));
            }
            if let Some(shared) = &moe.shared_experts {
                export_expert(&mut out, shared, &format!("{p}.mlp.shared_experts"));
            }
        }
        out.push(named(
            format!("{p}.input_layernorm.weight"),
            layer.input_layernorm.gamma.val(),
        ));
        out.push(named(
            format!("{p}.post_attention_layernorm.weight"),
            layer.post_attention_layernorm.gamma.val(),
        ));
    }
    out.push(named("model.norm.weight".into(), model.norm.gamma.val()));
    if let Some(head) = &model.lm_head {
        out.push(named(
            "lm_head.weight".into(),
            head.weight.val().transpose(),
        ));
    }
    out
}

/// Writes `DIR/config.json` and `DIR/model.safetensors` (readable by [`load_pretrained`]).
pub fn save_pretrained(dir: &Path, config: &MoeConfig, model: &MoeLm) -> Result<(), MoeError> {
    std::fs::create_dir_all(dir).map_err(|source| MoeError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let json = serde_json::to_string_pretty(config).expect("serialisable");
    burnlp_core::data::write_atomic(dir.join("config.json"), json.as_bytes())?;
    let bytes = burnlp_core::train::params::to_safetensors(&export_tensors(model));
    burnlp_core::data::write_atomic(dir.join("model.safetensors"), &bytes)?;
    Ok(())
}
