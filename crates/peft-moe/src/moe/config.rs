//! The model's configuration in DeepSeek-V2's `config.json` field names.

use std::path::Path;

use burn::nn::Initializer;
use burn::tensor::Device;
use burnlp_core::burn;
use burnlp_core::nn::llama::{HfRopeParameters, Llama, LlamaConfig, RotaryEmbedding, YarnScaling};
use serde::{Deserialize, Serialize};

use super::mla::MlaConfig;
use super::{Expert, MoeAttention, MoeBlock, MoeLayer};
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
    /// DeepSeek-V2's attention and position settings (flattened into the same JSON object);
    /// all unset for a DeepSeek-MoE model with rotary grouped-query attention.
    #[serde(flatten)]
    pub v2: DeepseekV2Fields,
}

/// The `config.json` fields of DeepSeek-V2 beyond DeepSeek-MoE: multi-head latent attention
/// (used when `kv_lora_rank` is set), RoPE scaling and the model type. Unset fields are left out
/// when serialised.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeepseekV2Fields {
    /// Hugging Face model type (`deepseek_v2`, or `deepseek` for DeepSeek-MoE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_type: Option<String>,
    /// Rank of the query bottleneck of MLA; `None` for a full query projection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q_lora_rank: Option<usize>,
    /// Rank of the key/value latent of MLA; set means multi-head latent attention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kv_lora_rank: Option<usize>,
    /// MLA key/query dimensions per head without position information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qk_nope_head_dim: Option<usize>,
    /// MLA rotary key/query dimensions per head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qk_rope_head_dim: Option<usize>,
    /// MLA value dimensions per head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v_head_dim: Option<usize>,
    /// Whether the attention input and output projections have biases.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub attention_bias: bool,
    /// Context length the model is configured for (YaRN's default `factor` and
    /// `original_max_position_embeddings` derive from it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_position_embeddings: Option<usize>,
    /// RoPE scaling in the transformers 4 layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rope_scaling: Option<HfRopeParameters>,
    /// RoPE settings in the transformers 5 layout (which also holds `rope_theta`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rope_parameters: Option<HfRopeParameters>,
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
        self.yarn()?;
        self.mla()?;
        self.llama().validate()
    }

    /// The rotary base: `rope_parameters.rope_theta` (transformers 5), else
    /// `rope_scaling.rope_theta`, else the top-level `rope_theta`.
    pub fn theta(&self) -> f64 {
        [&self.v2.rope_parameters, &self.v2.rope_scaling]
            .into_iter()
            .flatten()
            .find_map(|rope| rope.rope_theta)
            .unwrap_or(self.rope_theta)
    }

    /// The YaRN scaling of the rotary embedding (`None` for plain RoPE); `Err` names the problem
    /// (another scaling type, missing lengths).
    pub fn yarn(&self) -> Result<Option<YarnScaling>, String> {
        let mut yarn = None;
        for rope in [&self.v2.rope_parameters, &self.v2.rope_scaling]
            .into_iter()
            .flatten()
        {
            if let Some(found) = rope.yarn(self.v2.max_position_embeddings)? {
                yarn.get_or_insert(found);
            }
        }
        Ok(yarn)
    }

    /// The multi-head latent attention sizes when `kv_lora_rank` is set (`None`: grouped-query
    /// attention); `Err` names a missing or inconsistent size.
    pub fn mla(&self) -> Result<Option<MlaConfig>, String> {
        let v2 = &self.v2;
        let Some(kv_lora_rank) = v2.kv_lora_rank else {
            let stray = [
                ("q_lora_rank", v2.q_lora_rank),
                ("qk_nope_head_dim", v2.qk_nope_head_dim),
                ("qk_rope_head_dim", v2.qk_rope_head_dim),
                ("v_head_dim", v2.v_head_dim),
            ]
            .into_iter()
            .find(|(_, value)| value.is_some());
            if let Some((name, _)) = stray {
                return Err(format!(
                    "{name} is set but kv_lora_rank is not (multi-head latent attention needs both)"
                ));
            }
            if v2.model_type.as_deref() == Some("deepseek_v2") {
                return Err(
                    "model_type deepseek_v2 has multi-head latent attention but kv_lora_rank is missing"
                        .into(),
                );
            }
            return Ok(None);
        };
        let required = |name: &str, value: Option<usize>| {
            value
                .filter(|&v| v > 0)
                .ok_or_else(|| format!("multi-head latent attention needs a positive {name}"))
        };
        let qk_rope_head_dim = required("qk_rope_head_dim", v2.qk_rope_head_dim)?;
        if !qk_rope_head_dim.is_multiple_of(2) {
            return Err(format!("qk_rope_head_dim {qk_rope_head_dim} must be even"));
        }
        if kv_lora_rank == 0 || v2.q_lora_rank == Some(0) {
            return Err("kv_lora_rank and q_lora_rank must be positive".into());
        }
        if let Some(kv_heads) = self.num_key_value_heads
            && kv_heads != self.num_attention_heads
        {
            return Err(format!(
                "num_key_value_heads {kv_heads} differs from num_attention_heads {} \
                 (multi-head latent attention decompresses keys and values for every head)",
                self.num_attention_heads
            ));
        }
        let softmax_scale_factor = self.yarn()?.map_or(1.0, |y| y.softmax_scale_factor());
        Ok(Some(MlaConfig {
            hidden_size: self.hidden_size,
            num_heads: self.num_attention_heads,
            q_lora_rank: v2.q_lora_rank,
            kv_lora_rank,
            qk_nope_head_dim: v2
                .qk_nope_head_dim
                .ok_or("multi-head latent attention needs qk_nope_head_dim")?,
            qk_rope_head_dim,
            v_head_dim: required("v_head_dim", v2.v_head_dim)?,
            attention_bias: v2.attention_bias,
            softmax_scale_factor,
        }))
    }

    /// The rotary embedding shared by all layers: `qk_rope_head_dim` dimensions in interleaved
    /// pairs for multi-head latent attention, the whole head in the `rotate_half` layout for
    /// grouped-query attention; YaRN-scaled when configured.
    ///
    /// # Panics
    /// When the configuration is invalid (see [`MoeConfig::validate`]).
    pub fn rotary(&self) -> RotaryEmbedding {
        let yarn = self.yarn().expect("validated RoPE scaling");
        match self.mla().expect("validated attention") {
            Some(mla) => RotaryEmbedding::new(mla.qk_rope_head_dim, self.theta())
                .with_interleaved(true)
                .with_scaling(yarn),
            None => self.llama().rotary(),
        }
    }

    /// A freshly initialised attention block: multi-head latent attention when `kv_lora_rank`
    /// is set, else the core decoder's rotary grouped-query attention.
    ///
    /// # Panics
    /// When the configuration is invalid (see [`MoeConfig::validate`]).
    pub fn init_attention(&self, device: &Device) -> MoeAttention {
        match self.mla().expect("validated attention") {
            Some(mla) => MoeAttention::Mla(mla.init(&self.initializer(), device)),
            None => MoeAttention::Gqa(self.llama().init_attention(device)),
        }
    }

    fn initializer(&self) -> Initializer {
        Initializer::Normal {
            mean: 0.0,
            std: self.initializer_range,
        }
    }

    /// The decoder settings shared with Llama (with multi-head latent attention, `head_dim` is
    /// the rotary `qk_rope_head_dim` and the attention fields describe no Llama block).
    pub fn llama(&self) -> LlamaConfig {
        LlamaConfig::new(
            self.vocab_size,
            self.hidden_size,
            self.num_hidden_layers,
            self.num_attention_heads,
            self.num_key_value_heads.unwrap_or(self.num_attention_heads),
            self.intermediate_size,
        )
        .with_head_dim(self.v2.kv_lora_rank.and(self.v2.qk_rope_head_dim))
        .with_rope_theta(self.theta())
        .with_rope_scaling(self.yarn().ok().flatten())
        .with_rms_norm_eps(self.rms_norm_eps)
        .with_tie_word_embeddings(self.tie_word_embeddings)
        .with_attention_bias(self.v2.attention_bias)
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
        let init = self.initializer();
        let swiglu = |inner: usize| Expert::new(self.hidden_size, inner, &init, device);
        let attention = |_| self.init_attention(device);
        self.llama()
            .init_with_layers(device, self.rotary(), attention, |layer| {
                if self.is_moe_layer(layer) {
                    MoeBlock {
                        dense: None,
                        moe: Some(MoeLayer {
                            gate: init.init([self.n_routed_experts, self.hidden_size], device),
                            experts: (0..self.n_routed_experts)
                                .map(|_| swiglu(self.moe_intermediate_size))
                                .collect(),
                            shared_experts: (self.n_shared_experts > 0).then(|| {
                                swiglu(self.n_shared_experts * self.moe_intermediate_size)
                            }),
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

/// A DeepSeek-MoE / DeepSeek-V2 causal LM: the core decoder with [`MoeBlock`] feed-forward
/// layers and [`MoeAttention`] (grouped-query or multi-head latent) attention.
pub type MoeLm = Llama<MoeBlock, MoeAttention>;

#[cfg(test)]
mod tests {
    use super::*;

    /// The `config.json` of `deepseek-ai/ESFT-vanilla-lite` (DeepSeek-V2-Lite's architecture,
    /// transformers 4 layout; `auto_map` and other fields the model does not use left out).
    const ESFT_VANILLA_LITE: &str = r#"{
        "architectures": ["DeepseekV2ForCausalLM"], "attention_bias": false,
        "aux_loss_alpha": 0.001, "bos_token_id": 100000, "eos_token_id": 100001,
        "ep_size": 1, "first_k_dense_replace": 1, "hidden_act": "silu", "hidden_size": 2048,
        "initializer_range": 0.02, "intermediate_size": 10944, "kv_lora_rank": 512,
        "max_position_embeddings": 163840, "model_type": "deepseek_v2",
        "moe_intermediate_size": 1408, "moe_layer_freq": 1, "n_group": 1,
        "n_routed_experts": 64, "n_shared_experts": 2, "norm_topk_prob": false,
        "num_attention_heads": 16, "num_experts_per_tok": 6, "num_hidden_layers": 27,
        "num_key_value_heads": 16, "pretraining_tp": 1, "q_lora_rank": null,
        "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "rms_norm_eps": 1e-06,
        "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 0.707,
            "mscale_all_dim": 0.707, "original_max_position_embeddings": 4096, "type": "yarn"},
        "rope_theta": 10000, "routed_scaling_factor": 1.0, "scoring_func": "softmax",
        "seq_aux": true, "tie_word_embeddings": false, "topk_group": 1, "topk_method": "greedy",
        "torch_dtype": "bfloat16", "use_cache": true, "v_head_dim": 128, "vocab_size": 102400
    }"#;

    #[test]
    fn deepseek_v2_lite_config_describes_mla_with_yarn() {
        let config: MoeConfig = serde_json::from_str(ESFT_VANILLA_LITE).unwrap();
        config.validate().unwrap();
        let mla = config.mla().unwrap().expect("MLA");
        assert_eq!(mla.q_lora_rank, None);
        assert_eq!(
            (mla.kv_lora_rank, mla.qk_head_dim(), mla.v_head_dim),
            (512, 192, 128)
        );
        // transformers' yarn_apply_mscale: (0.1 · 0.707 · ln 40 + 1)².
        assert!((mla.softmax_scale_factor - 1.589_626_165_120_873_6).abs() < 1e-12);
        let rotary = config.rotary();
        assert_eq!((rotary.head_dim, rotary.interleaved), (64, true));
        let yarn = rotary.scaling.expect("YaRN");
        assert_eq!(
            (yarn.factor, yarn.original_max_position_embeddings),
            (40.0, 4096)
        );
        assert_eq!(yarn.attention_factor(), 1.0);
        assert_eq!(config.moe_layers(), (1..27).collect::<Vec<_>>());
        // Serialising keeps the transformers 4 layout and reads back equal.
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(json["rope_scaling"]["type"], "yarn");
        assert!(json.get("rope_parameters").is_none());
        let again: MoeConfig = serde_json::from_value(json).unwrap();
        assert_eq!(again, config);
    }

    #[test]
    fn plain_deepseek_moe_configs_keep_grouped_query_attention() {
        let mut json: serde_json::Value = serde_json::from_str(ESFT_VANILLA_LITE).unwrap();
        for field in [
            "kv_lora_rank",
            "q_lora_rank",
            "qk_nope_head_dim",
            "qk_rope_head_dim",
            "v_head_dim",
            "rope_scaling",
        ] {
            json.as_object_mut().unwrap().remove(field);
        }
        json["model_type"] = "deepseek".into();
        let config: MoeConfig = serde_json::from_value(json.clone()).unwrap();
        config.validate().unwrap();
        assert_eq!(config.mla().unwrap(), None);
        let rotary = config.rotary();
        assert_eq!((rotary.head_dim, rotary.interleaved), (128, false));
        // A deepseek_v2 model type promises MLA.
        json["model_type"] = "deepseek_v2".into();
        let config: MoeConfig = serde_json::from_value(json).unwrap();
        let error = config.validate().unwrap_err();
        assert!(error.contains("kv_lora_rank is missing"), "{error}");
    }
}
