//! Loading a [`Llama`] from a llama.cpp GGUF file (architectures `llama`, `mistral`, `qwen2`).
//!
//! The configuration comes from the `{arch}.*` metadata, the tensors are dequantized to `f32`
//! and renamed to the Hugging Face names [`Llama::load_weights`] expects:
//!
//! | GGUF | Hugging Face |
//! |---|---|
//! | `token_embd.weight` | `model.embed_tokens.weight` |
//! | `blk.N.attn_norm.weight` | `model.layers.N.input_layernorm.weight` |
//! | `blk.N.attn_{q,k,v}.{weight,bias}` | `model.layers.N.self_attn.{q,k,v}_proj.*` |
//! | `blk.N.attn_output.weight` | `model.layers.N.self_attn.o_proj.weight` |
//! | `blk.N.ffn_norm.weight` | `model.layers.N.post_attention_layernorm.weight` |
//! | `blk.N.ffn_{gate,up,down}.weight` | `model.layers.N.mlp.{gate,up,down}_proj.weight` |
//! | `output_norm.weight` | `model.norm.weight` |
//! | `output.weight` (absent when tied) | `lm_head.weight` |
//!
//! llama.cpp's converter (`convert_hf_to_gguf.py`, `LlamaModel.permute`) reorders the rows of
//! each head of `attn_q`/`attn_k` for architecture `llama` so that its adjacent-pair RoPE gives
//! the same scores; this model rotates Hugging Face's half-split pairs, so the rows are put back
//! (within a head, GGUF row `2i` is row `i` and row `2i + 1` is row `i + head_dim / 2`). `qwen2`
//! files are written unpermuted (llama.cpp runs them with NEOX RoPE).

use std::path::Path;

use burn::tensor::Device;

use super::config::{LlamaConfig, LlamaLoadError};
use super::model::Llama;
use crate::nn::gguf::{GgufFile, GgufValue};
use crate::nn::weights::{Pretrained, WeightSource};

/// A Llama loaded from a file, with its configuration and load report.
pub type LoadedLlama = Pretrained<Llama, LlamaConfig>;

impl LlamaConfig {
    /// Reads the configuration from a GGUF file's metadata.
    pub fn from_gguf(file: &GgufFile) -> Result<Self, LlamaLoadError> {
        let gguf = |e| LlamaLoadError::Gguf(Box::new(e));
        let arch = file.get_str("general.architecture").map_err(gguf)?;
        let family = Family::of(file)?;
        let key = |name: &str| format!("{arch}.{name}");
        let usize_of = |name: &str| file.get_u64(&key(name)).map(|v| v as usize).map_err(gguf);
        let hidden = usize_of("embedding_length")?;
        let heads = usize_of("attention.head_count")?;
        let kv_heads = match file.get(&key("attention.head_count_kv")) {
            Some(_) => usize_of("attention.head_count_kv")?,
            None => heads,
        };
        let head_dim = match file.get(&key("attention.key_length")) {
            Some(_) => usize_of("attention.key_length")?,
            None => hidden / heads.max(1),
        };
        if let Some(rope_dims) = file
            .get(&key("rope.dimension_count"))
            .and_then(GgufValue::as_u64)
            && rope_dims as usize != head_dim
        {
            return Err(gguf(file.metadata_error(
                &key("rope.dimension_count"),
                &format!(
                    "partial rotary embeddings ({rope_dims} of {head_dim} dims) are not supported"
                ),
            )));
        }
        if let Some(kind) = file
            .get(&key("rope.scaling.type"))
            .and_then(GgufValue::as_str)
            && kind != "none"
        {
            return Err(gguf(file.metadata_error(
                &key("rope.scaling.type"),
                &format!("RoPE scaling `{kind}` is not supported"),
            )));
        }
        if file.tensor("rope_freqs.weight").is_some() {
            return Err(gguf(file.metadata_error(
                "rope_freqs.weight",
                "RoPE frequency factors (Llama 3.1 scaling) are not supported",
            )));
        }
        let embed = file
            .tensor("token_embd.weight")
            .ok_or_else(|| gguf(file.metadata_error("token_embd.weight", "tensor absent")))?;
        let vocab_size = embed.shape()[0];
        let rope_theta = match file.get(&key("rope.freq_base")) {
            Some(_) => file.get_f64(&key("rope.freq_base")).map_err(gguf)?,
            None => 10000.0,
        };
        let eps = file
            .get_f64(&key("attention.layer_norm_rms_epsilon"))
            .map_err(gguf)?;
        let id = |name: &str| file.get(name).and_then(GgufValue::as_u64).map(|v| v as u32);
        let config = LlamaConfig::new(
            vocab_size,
            hidden,
            usize_of("block_count")?,
            heads,
            kv_heads,
            usize_of("feed_forward_length")?,
        )
        .with_head_dim(Some(head_dim))
        .with_rope_theta(rope_theta)
        // GGUF stores the epsilon as f32; widen the f32 value exactly as llama.cpp uses it.
        .with_rms_norm_eps(eps)
        .with_tie_word_embeddings(file.tensor("output.weight").is_none())
        .with_qkv_bias(family.qkv_bias() || file.tensor("blk.0.attn_q.bias").is_some())
        .with_attention_bias(file.tensor("blk.0.attn_output.bias").is_some())
        .with_eos_token_ids(id("tokenizer.ggml.eos_token_id").into_iter().collect())
        .with_bos_token_id(id("tokenizer.ggml.bos_token_id"));
        config
            .validate()
            .map_err(|message| gguf(file.metadata_error(&key("attention.head_count"), &message)))?;
        Ok(config)
    }
}

impl Llama {
    /// Loads a GGUF file: configuration from its metadata, weights dequantized to `f32`.
    ///
    /// Missing or wrongly-shaped tensors are an error naming each one; the report lists the
    /// GGUF tensors the model did not use under their (mapped) names.
    pub fn from_gguf(
        path: impl AsRef<Path>,
        device: &Device,
    ) -> Result<LoadedLlama, LlamaLoadError> {
        let file = GgufFile::open(path.as_ref()).map_err(|e| LlamaLoadError::Gguf(Box::new(e)))?;
        Self::from_gguf_file(&file, device)
    }

    /// [`Llama::from_gguf`] on an already opened file (e.g. to build its tokenizer as well).
    pub fn from_gguf_file(file: &GgufFile, device: &Device) -> Result<LoadedLlama, LlamaLoadError> {
        let config = LlamaConfig::from_gguf(file)?;
        let permuted = Family::of(file)?.permuted_qk();
        let head_dim = config.head_dim();
        let mut tensors = Vec::with_capacity(file.tensors().len());
        for info in file.tensors() {
            let (shape, mut values) = file
                .dequantize(&info.name)
                .map_err(|e| LlamaLoadError::Gguf(Box::new(e)))?;
            let hf_name = hf_name(&info.name);
            if permuted {
                if info.name.contains(".attn_q.") {
                    unpermute_rows(&mut values, &shape, config.num_heads, head_dim);
                } else if info.name.contains(".attn_k.") {
                    unpermute_rows(&mut values, &shape, config.num_kv_heads, head_dim);
                }
            }
            tensors.push((hf_name, shape, values));
        }
        let mut weights = WeightSource::from_tensors(file.path(), tensors, device);
        let mut model = config.init(device);
        model.load_weights(&mut weights);
        let report = weights.finish()?;
        tracing::info!(
            file = %file.path().display(),
            loaded = report.loaded.len(),
            unused = report.unexpected.len(),
            "loaded Llama from GGUF"
        );
        Ok(Pretrained {
            model,
            config,
            report,
        })
    }
}

/// The GGUF architectures this loader knows, grouped by what they imply for loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// `llama`, `mistral`: no biases; Q/K rows permuted by the converter.
    Llama,
    /// `qwen2`: q/k/v biases; written unpermuted (llama.cpp runs it with NEOX RoPE).
    Qwen2,
}

impl Family {
    fn of(file: &GgufFile) -> Result<Self, LlamaLoadError> {
        let gguf = |e| LlamaLoadError::Gguf(Box::new(e));
        match file.get_str("general.architecture").map_err(gguf)? {
            "llama" | "mistral" => Ok(Self::Llama),
            "qwen2" => Ok(Self::Qwen2),
            other => Err(gguf(file.metadata_error(
                "general.architecture",
                &format!("architecture `{other}` is not supported (known: llama, mistral, qwen2)"),
            ))),
        }
    }

    /// Whether llama.cpp's converter reordered the rows of each Q/K head.
    fn permuted_qk(self) -> bool {
        self == Self::Llama
    }

    /// Whether q/k/v carry biases even when the file does not say so by tensor presence.
    fn qkv_bias(self) -> bool {
        self == Self::Qwen2
    }
}

/// The Hugging Face name of a GGUF tensor; names without a mapping are kept as they are.
fn hf_name(name: &str) -> String {
    match name {
        "token_embd.weight" => return "model.embed_tokens.weight".into(),
        "output_norm.weight" => return "model.norm.weight".into(),
        "output.weight" => return "lm_head.weight".into(),
        _ => {}
    }
    let Some(rest) = name.strip_prefix("blk.") else {
        return name.into();
    };
    let Some((layer, rest)) = rest.split_once('.') else {
        return name.into();
    };
    let Some((part, suffix)) = rest.split_once('.') else {
        return name.into();
    };
    let mapped = match part {
        "attn_norm" => "input_layernorm",
        "ffn_norm" => "post_attention_layernorm",
        "attn_q" => "self_attn.q_proj",
        "attn_k" => "self_attn.k_proj",
        "attn_v" => "self_attn.v_proj",
        "attn_output" => "self_attn.o_proj",
        "ffn_gate" => "mlp.gate_proj",
        "ffn_up" => "mlp.up_proj",
        "ffn_down" => "mlp.down_proj",
        _ => return name.into(),
    };
    format!("model.layers.{layer}.{mapped}.{suffix}")
}

/// Undoes llama.cpp's Q/K row permutation: within each head of `head_dim` rows, GGUF row `2i`
/// goes to row `i` and row `2i + 1` to row `i + head_dim / 2`. Works on weights
/// (`[heads * head_dim, in]`) and biases (`[heads * head_dim]`).
fn unpermute_rows(values: &mut [f32], shape: &[usize], heads: usize, head_dim: usize) {
    let rows = shape.first().copied().unwrap_or(0);
    if rows != heads * head_dim || head_dim < 2 {
        return; // the shape check in `WeightSource::take` reports the mismatch
    }
    let cols = values.len() / rows.max(1);
    let source = values.to_vec();
    let half = head_dim / 2;
    for head in 0..heads {
        for i in 0..half {
            for (from, to) in [(2 * i, i), (2 * i + 1, i + half)] {
                let src = (head * head_dim + from) * cols;
                let dst = (head * head_dim + to) * cols;
                values[dst..dst + cols].copy_from_slice(&source[src..src + cols]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_hugging_face() {
        assert_eq!(
            hf_name("blk.12.attn_q.bias"),
            "model.layers.12.self_attn.q_proj.bias"
        );
        assert_eq!(
            hf_name("blk.0.ffn_norm.weight"),
            "model.layers.0.post_attention_layernorm.weight"
        );
        assert_eq!(hf_name("token_embd.weight"), "model.embed_tokens.weight");
        assert_eq!(hf_name("blk.0.unknown.weight"), "blk.0.unknown.weight");
        assert_eq!(hf_name("rope_freqs.weight"), "rope_freqs.weight");
    }

    #[test]
    fn unpermute_inverts_the_converter_permutation() {
        // One head of 4 rows with 1 column: HF rows [a, b, c, d] are written by llama.cpp as
        // [a, c, b, d] (view [1, 2, 2, 1], swap axes 1 and 2).
        let mut values = vec![0.0, 2.0, 1.0, 3.0];
        unpermute_rows(&mut values, &[4, 1], 1, 4);
        assert_eq!(values, vec![0.0, 1.0, 2.0, 3.0]);
    }
}
