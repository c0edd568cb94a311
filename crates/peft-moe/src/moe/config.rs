//! The model's configuration in DeepSeek-V2's `config.json` field names.

use std::path::Path;

use burn::nn::Initializer;
use burn::tensor::Device;
use burnlp_core::burn;
use burnlp_core::nn::llama::{Llama, LlamaConfig};
use serde::{Deserialize, Serialize};

use super::{Expert, MoeBlock, MoeLayer};
use crate::error::MoeError;

/// Hugging Face-style configuration of a DeepSeek-MoE model (DeepSeek-V2 field names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoeConfig {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Hidden size.
    pub hidden_size: usize,
    /// Inner size of the dense SwiGLU layers.
    pub intermediate_size: usize,
    /// Inner size of one expert.
    pub moe_intermediate_size: usize,
    /// Number of decoder layers.
    pub num_hidden_layers: usize,
    /// Number of attention heads.
    pub num_attention_heads: usize,
    /// Number of key/value heads (defaults to the number of attention heads).
    #[serde(default)]
    pub num_key_value_heads: Option<usize>,
    /// Shared experts per MoE layer (fused into one SwiGLU).
    pub n_shared_experts: usize,
    /// Routed experts per MoE layer.
    pub n_routed_experts: usize,
    /// Routed experts chosen per token (top-K).
    pub num_experts_per_tok: usize,
    /// Number of leading dense layers.
    #[serde(default = "one")]
    pub first_k_dense_replace: usize,
    /// Renormalise the top-K weights to sum to one (false in DeepSeek-V2-Lite / ESFT).
    #[serde(default)]
    pub norm_topk_prob: bool,
    /// Factor on the routed experts' output.
    #[serde(default = "unit")]
    pub routed_scaling_factor: f64,
    /// Weight of the sequence-level balance loss (training only).
    #[serde(default = "alpha")]
    pub aux_loss_alpha: f64,
    /// RMSNorm epsilon.
    #[serde(default = "eps")]
    pub rms_norm_eps: f64,
    /// Rotary base.
    #[serde(default = "theta")]
    pub rope_theta: f64,
    /// Tied input and output embeddings.
    #[serde(default)]
    pub tie_word_embeddings: bool,
    /// Standard deviation of a fresh model's weights.
    #[serde(default = "init_std")]
    pub initializer_range: f64,
    /// Gate scoring function; only `softmax` is supported.
    #[serde(default = "softmax_name")]
    pub scoring_func: String,
    /// MoE layer every N layers after the dense ones; only 1 is supported.
    #[serde(default = "one")]
    pub moe_layer_freq: usize,
    /// Expert choice; only `greedy` top-K is supported (not group-limited).
    #[serde(default = "greedy")]
    pub topk_method: String,
    /// Activation of the SwiGLU blocks; only `silu` is supported.
    #[serde(default = "silu_name")]
    pub hidden_act: String,
}

fn one() -> usize {
    1
}
fn unit() -> f64 {
    1.0
}
fn alpha() -> f64 {
    0.001
}
fn eps() -> f64 {
    1e-6
}
fn theta() -> f64 {
    10000.0
}
fn init_std() -> f64 {
    0.02
}
fn softmax_name() -> String {
    "softmax".into()
}
fn greedy() -> String {
    "greedy".into()
}
fn silu_name() -> String {
    "silu".into()
}

impl MoeConfig {
    /// Reads a `config.json`, checking the settings this implementation supports.
    pub fn from_file(path: &Path) -> Result<Self, MoeError> {
        let config: Self = crate::routing::read_json(path)?;
        config.validate().map_err(|message| MoeError::Format {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(config)
    }

    /// Checks the settings; `Err` names the problem.
    pub fn validate(&self) -> Result<(), String> {
        if self.scoring_func != "softmax" {
            return Err(format!(
                "unsupported scoring_func `{}` (softmax only)",
                self.scoring_func
            ));
        }
        if self.topk_method != "greedy" {
            return Err(format!(
                "unsupported topk_method `{}` (greedy only)",
                self.topk_method
            ));
        }
        if self.hidden_act != "silu" {
            return Err(format!(
                "unsupported hidden_act `{}` (silu only)",
                self.hidden_act
            ));
        }
        if self.moe_layer_freq != 1 {
            return Err("moe_layer_freq other than 1 is not supported".into());
        }
        if self.num_experts_per_tok == 0 || self.num_experts_per_tok > self.n_routed_experts {
            return Err(format!(
                "num_experts_per_tok {} must be in 1..={}",
                self.num_experts_per_tok, self.n_routed_experts
            ));
        }
        self.llama().validate()
    }

    /// The decoder settings shared with Llama.
    pub fn llama(&self) -> LlamaConfig {
        LlamaConfig::new(
            self.vocab_size,
            self.hidden_size,
            self.num_hidden_layers,
            self.num_attention_heads,
            self.num_key_value_heads.unwrap_or(self.num_attention_heads),
            self.intermediate_size,
        )
        .with_rope_theta(self.rope_theta)
        .with_rms_norm_eps(self.rms_norm_eps)
        .with_tie_word_embeddings(self.tie_word_embeddings)
        .with_initializer_range(self.initializer_range)
    }

    /// Whether decoder layer `layer` is a MoE layer.
    pub fn is_moe_layer(&self, layer: usize) -> bool {
        layer >= self.first_k_dense_replace
    }

    /// Ids of the MoE layers.
    pub fn moe_layers(&self) -> Vec<usize> {
        (self.first_k_dense_replace..self.num_hidden_layers).collect()
    }

    /// A freshly initialised model.
    ///
    /// # Panics
    /// When the configuration is invalid (see [`MoeConfig::validate`]).
    pub fn init(&self, device: &Device) -> MoeLm {
        if let Err(message) = self.validate() {
            panic!("invalid MoeConfig: {message}");
        }
        let init = Initializer::Normal {
            mean: 0.0,
            std: self.initializer_range,
        };
        let swiglu = |inner: usize| Expert::new(self.hidden_size, inner, &init, device);
        self.llama().init_with(device, |layer| {
            if self.is_moe_layer(layer) {
                MoeBlock {
                    dense: None,
                    moe: Some(MoeLayer {
                        gate: init.init([self.n_routed_experts, self.hidden_size], device),
                        experts: (0..self.n_routed_experts)
                            .map(|_| swiglu(self.moe_intermediate_size))
                            .collect(),
                        shared_experts: (self.n_shared_experts > 0)
                            .then(|| swiglu(self.n_shared_experts * self.moe_intermediate_size)),
                        top_k: self.num_experts_per_tok,
                        norm_topk_prob: self.norm_topk_prob,
                        routed_scaling_factor: self.routed_scaling_factor,
                    }),
                }
            } else {
                MoeBlock {
                    dense: Some(swiglu(self.intermediate_size)),
                    moe: None,
                }
            }
        })
    }
}

/// A DeepSeek-MoE causal LM: the core decoder with [`MoeBlock`] feed-forward layers.
pub type MoeLm = Llama<MoeBlock>;
