//! [`LlamaConfig`] and reading it from a Hugging Face `config.json`.

use std::path::{Path, PathBuf};

use burn::config::Config;
use serde::Deserialize;

use super::rope::{HfRopeParameters, YarnScaling};
use crate::nn::weights::WeightError;

/// Configuration of a [`Llama`](super::Llama) causal language model.
#[derive(Config, Debug)]
pub struct LlamaConfig {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Hidden size `d_model`.
    pub hidden_size: usize,
    /// Number of decoder layers.
    pub num_layers: usize,
    /// Number of query heads.
    pub num_heads: usize,
    /// Number of key/value heads (grouped-query attention); must divide `num_heads`.
    pub num_kv_heads: usize,
    /// SwiGLU inner size.
    pub intermediate_size: usize,
    /// Size of one attention head; `hidden_size / num_heads` when absent.
    pub head_dim: Option<usize>,
    /// Base of the rotary embedding frequencies.
    #[config(default = 10000.0)]
    pub rope_theta: f64,
    /// YaRN scaling of the rotary embedding, if any.
    pub rope_scaling: Option<YarnScaling>,
    /// RMSNorm epsilon.
    #[config(default = 1e-6)]
    pub rms_norm_eps: f64,
    /// Whether the output projection reuses the input embedding matrix.
    #[config(default = false)]
    pub tie_word_embeddings: bool,
    /// Whether all four attention projections (q, k, v, o) have biases (Llama's
    /// `attention_bias`).
    #[config(default = false)]
    pub attention_bias: bool,
    /// Whether the query, key and value projections (not the output one) have biases, as in
    /// Qwen 2.
    #[config(default = false)]
    pub qkv_bias: bool,
    /// Whether the SwiGLU projections have biases.
    #[config(default = false)]
    pub mlp_bias: bool,
    /// Standard deviation of the normal initialisation of a fresh model.
    #[config(default = 0.02)]
    pub initializer_range: f64,
    /// End-of-sequence token ids from the checkpoint (for [`GenerationConfig`](super::GenerationConfig)).
    #[config(default = "Vec::new()")]
    pub eos_token_ids: Vec<u32>,
    /// Beginning-of-sequence token id from the checkpoint, if any.
    pub bos_token_id: Option<u32>,
}

impl LlamaConfig {
    /// Size of one attention head.
    pub fn head_dim(&self) -> usize {
        self.head_dim
            .unwrap_or(self.hidden_size / self.num_heads.max(1))
    }

    /// Checks the head arithmetic; `Err` names the problem.
    pub fn validate(&self) -> Result<(), String> {
        if self.num_heads == 0 || self.num_kv_heads == 0 {
            return Err("num_heads and num_kv_heads must be positive".into());
        }
        if self.head_dim.is_none() && !self.hidden_size.is_multiple_of(self.num_heads) {
            return Err(format!(
                "hidden_size {} is not a multiple of num_heads {}",
                self.hidden_size, self.num_heads
            ));
        }
        if !self.num_heads.is_multiple_of(self.num_kv_heads) {
            return Err(format!(
                "num_heads {} is not a multiple of num_kv_heads {}",
                self.num_heads, self.num_kv_heads
            ));
        }
        if !self.head_dim().is_multiple_of(2) || self.head_dim() == 0 {
            return Err(format!(
                "head_dim {} must be even and positive",
                self.head_dim()
            ));
        }
        Ok(())
    }

    /// Reads a Hugging Face `config.json` of a Llama-style model (`model_type` `llama`,
    /// `mistral` or `qwen2` with its q/k/v biases; sliding windows are not applied, which is
    /// exact for sequences no longer than the window).
    ///
    /// `rope_theta` is read from the top level (transformers 4) or from `rope_parameters`
    /// (transformers 5); YaRN scaling is read from either; other RoPE scaling is rejected.
    pub fn from_hf_file(path: impl AsRef<Path>) -> Result<Self, LlamaLoadError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| LlamaLoadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let config_error = |message: String| LlamaLoadError::Config {
            path: path.to_path_buf(),
            message,
        };
        let hf: HfLlamaConfig =
            serde_json::from_str(&text).map_err(|e| config_error(e.to_string()))?;
        if let Some(kind) = hf.model_type.as_deref()
            && !matches!(kind, "llama" | "mistral" | "qwen2")
        {
            return Err(config_error(format!(
                "model_type `{kind}` is not a Llama-style model"
            )));
        }
        if hf.hidden_act != "silu" {
            return Err(config_error(format!(
                "unsupported hidden_act `{}` (Llama uses silu)",
                hf.hidden_act
            )));
        }
        let mut rope_scaling = None;
        for rope in [&hf.rope_parameters, &hf.rope_scaling]
            .into_iter()
            .flatten()
        {
            if let Some(yarn) = rope
                .yarn(hf.max_position_embeddings)
                .map_err(config_error)?
            {
                rope_scaling = Some(yarn);
            }
        }
        let rope_theta = hf
            .rope_theta
            .or(hf.rope_parameters.as_ref().and_then(|r| r.rope_theta))
            .unwrap_or(10000.0);
        let eos_token_ids = match hf.eos_token_id {
            Some(OneOrMany::One(id)) => vec![id],
            Some(OneOrMany::Many(ids)) => ids,
            None => Vec::new(),
        };
        let config = LlamaConfig::new(
            hf.vocab_size,
            hf.hidden_size,
            hf.num_hidden_layers,
            hf.num_attention_heads,
            hf.num_key_value_heads.unwrap_or(hf.num_attention_heads),
            hf.intermediate_size,
        )
        .with_head_dim(hf.head_dim)
        .with_rope_theta(rope_theta)
        .with_rope_scaling(rope_scaling)
        .with_rms_norm_eps(hf.rms_norm_eps)
        .with_tie_word_embeddings(hf.tie_word_embeddings)
        .with_attention_bias(hf.attention_bias)
        .with_qkv_bias(hf.model_type.as_deref() == Some("qwen2"))
        .with_mlp_bias(hf.mlp_bias)
        .with_initializer_range(hf.initializer_range)
        .with_eos_token_ids(eos_token_ids)
        .with_bos_token_id(hf.bos_token_id);
        config.validate().map_err(config_error)?;
        Ok(config)
    }
}

/// Problems loading a pretrained Llama directory.
#[derive(Debug, thiserror::Error)]
pub enum LlamaLoadError {
    /// `config.json` could not be read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `config.json` is not a usable Llama configuration.
    #[error("`{path}` is not a Llama config.json: {message}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The weights do not fit the configuration.
    #[error(transparent)]
    Weights(#[from] WeightError),
    /// A GGUF file cannot be read or does not describe a supported model.
    #[error(transparent)]
    Gguf(Box<crate::nn::gguf::GgufError>),
}

/// The fields of a Hugging Face `config.json` that a [`LlamaConfig`] is made from.
#[derive(Debug, Deserialize)]
struct HfLlamaConfig {
    model_type: Option<String>,
    vocab_size: usize,
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    num_key_value_heads: Option<usize>,
    intermediate_size: usize,
    head_dim: Option<usize>,
    #[serde(default = "default_act")]
    hidden_act: String,
    rope_theta: Option<f64>,
    rope_parameters: Option<HfRopeParameters>,
    rope_scaling: Option<HfRopeParameters>,
    max_position_embeddings: Option<usize>,
    #[serde(default = "default_eps")]
    rms_norm_eps: f64,
    #[serde(default)]
    tie_word_embeddings: bool,
    #[serde(default)]
    attention_bias: bool,
    #[serde(default)]
    mlp_bias: bool,
    #[serde(default = "default_init")]
    initializer_range: f64,
    eos_token_id: Option<OneOrMany>,
    bos_token_id: Option<u32>,
}

/// `eos_token_id` is a single id or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(u32),
    Many(Vec<u32>),
}

fn default_act() -> String {
    "silu".into()
}
fn default_eps() -> f64 {
    1e-6
}
fn default_init() -> f64 {
    0.02
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Result<LlamaConfig, LlamaLoadError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, json).unwrap();
        LlamaConfig::from_hf_file(&path)
    }

    const BASE: &str = r#""vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1,
        "num_attention_heads": 2, "intermediate_size": 4"#;

    #[test]
    fn transformers_4_and_5_layouts() {
        let v4 = read(&format!(
            r#"{{{BASE}, "model_type": "llama", "rope_theta": 500000.0, "rope_scaling": null,
                "eos_token_id": [2, 7], "tie_word_embeddings": true}}"#
        ))
        .unwrap();
        assert_eq!(v4.rope_theta, 500000.0);
        assert_eq!(v4.eos_token_ids, vec![2, 7]);
        assert_eq!(v4.num_kv_heads, 2, "defaults to num_attention_heads");
        assert!(v4.tie_word_embeddings);
        let v5 = read(&format!(
            r#"{{{BASE}, "num_key_value_heads": 1, "eos_token_id": 3,
                "rope_parameters": {{"rope_theta": 1000.0, "rope_type": "default"}}}}"#
        ))
        .unwrap();
        assert_eq!(v5.rope_theta, 1000.0);
        assert_eq!(v5.eos_token_ids, vec![3]);
        assert_eq!(v5.head_dim(), 4);
        assert_eq!(v5.rope_scaling, None);
    }

    #[test]
    fn yarn_scaling_is_read_from_either_layout() {
        let v4 = read(&format!(
            r#"{{{BASE}, "max_position_embeddings": 64, "rope_scaling": {{"type": "yarn",
                "factor": 4.0, "original_max_position_embeddings": 16, "beta_fast": 0}}}}"#
        ))
        .unwrap();
        let yarn = v4.rope_scaling.expect("yarn");
        assert_eq!(
            (yarn.factor, yarn.original_max_position_embeddings),
            (4.0, 16)
        );
        assert_eq!(
            (yarn.beta_fast, yarn.beta_slow),
            (32.0, 1.0),
            "transformers' defaults"
        );
        // transformers 5: the factor follows from the two lengths when absent.
        let v5 = read(&format!(
            r#"{{{BASE}, "max_position_embeddings": 64, "rope_parameters": {{"rope_type": "yarn",
                "rope_theta": 50.0, "original_max_position_embeddings": 8, "mscale": 0.5}}}}"#
        ))
        .unwrap();
        let yarn = v5.rope_scaling.expect("yarn");
        assert_eq!((yarn.factor, yarn.mscale), (8.0, 0.5));
        assert_eq!(v5.rope_theta, 50.0);
        let error = read(&format!(
            r#"{{{BASE}, "rope_scaling": {{"type": "yarn", "factor": 4.0}}}}"#
        ))
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("original_max_position_embeddings"),
            "{error}"
        );
    }

    #[test]
    fn unsupported_configs_are_errors() {
        let cases = [
            (r#""model_type": "gpt2""#, "not a Llama-style model"),
            (r#""hidden_act": "gelu""#, "unsupported hidden_act"),
            (
                r#""rope_scaling": {"rope_type": "llama3", "factor": 8.0}"#,
                "unsupported RoPE scaling `llama3`",
            ),
            (
                r#""num_key_value_heads": 3"#,
                "not a multiple of num_kv_heads",
            ),
        ];
        for (extra, expected) in cases {
            let error = read(&format!("{{{BASE}, {extra}}}"))
                .unwrap_err()
                .to_string();
            assert!(error.contains(expected), "{extra}: {error}");
        }
    }
}
