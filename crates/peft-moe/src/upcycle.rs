//! Sparse upcycling: a dense Llama decoder turned into a [`MoeLm`] that starts from the dense
//! model's function.
//!
//! Komatsuzaki et al., "Sparse Upcycling: Training Mixture-of-Experts from Dense Checkpoints",
//! ICLR 2023 (<https://arxiv.org/abs/2212.05055>): every feed-forward block of the dense model is
//! copied into the `E` experts of a MoE layer and a fresh router is added; attention, norms,
//! embeddings and the output head are taken over unchanged. Here this makes a real-start MoE
//! that fits the CPU — SmolLM2-135M upcycled — as the stand-in for DeepSeek-V2-Lite in the
//! ESFT experiments (crate README, "Upcycled SmolLM2").
//!
//! **Why `norm_topk_prob = true`.** A MoE layer computes `y = Σ_{i∈topK} w_i E_i(x)`. When the
//! experts are exact copies of the dense block `F`, `y = (Σ_i w_i) F(x)`, which equals `F(x)`
//! for *every* routing decision only if the chosen weights sum to one, i.e. when the top-K gate
//! scores are renormalised. DeepSeek-V2-Lite itself uses `norm_topk_prob = false` (raw softmax
//! scores, which sum to less than one with K < E); with that setting an upcycled layer would
//! output a token-dependent fraction of `F(x)` and the model would not start from the dense
//! function. The router then only decides *which* (identical) copies run, so its weights can
//! be small random values that spread tokens over the experts (ESFT's expert selection needs
//! routing that differs between tokens) while the logits stay the dense model's exactly (up to
//! float rounding). With `noise_std > 0` the copies are perturbed (multiplicatively,
//! `W ⊙ (1 + σ ε)`, `ε ~ N(0, 1)`) so that they can diverge; the start is then only close to the
//! dense function.
//!
//! With a shared expert, the shared block and every routed copy carry half of the dense
//! down-projection, so `Shared(x) + Σ w_i E_i(x) = ½F(x) + ½F(x) = F(x)`.

use std::path::{Path, PathBuf};

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};
use burnlp_core::burn;
use burnlp_core::chat::{ChatTemplate, ChatTemplateError};
use burnlp_core::hub::ModelLocation;
use burnlp_core::nn::gguf::GgufFile;
use burnlp_core::nn::llama::model::LlamaDecoderLayer;
use burnlp_core::nn::llama::{Llama, LlamaConfig, LlamaMlp};
use burnlp_core::nn::lora::LoraLinear;
use burnlp_core::tokenize::{TokenizeError, Tokenizer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::MoeError;
use crate::moe::{Expert, MoeBlock, MoeConfig, MoeLayer, MoeLm, load_pretrained};

/// Problems upcycling a dense model or reading and writing an upcycled model's directory.
#[derive(Debug, thiserror::Error)]
pub enum UpcycleError {
    /// The dense model or the settings cannot be upcycled (the message says why).
    #[error("cannot upcycle: {0}")]
    Unsupported(String),
    /// The MoE checkpoint cannot be read or written.
    #[error(transparent)]
    Moe(#[from] MoeError),
    /// The tokenizer cannot be read or written.
    #[error(transparent)]
    Tokenize(#[from] TokenizeError),
    /// A chat template or `tokenizer_config.json` cannot be read, parsed or written.
    #[error("{path}: {message}")]
    TokenizerConfig {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Settings of [`upcycle`].
#[derive(Debug, Clone, PartialEq)]
pub struct UpcycleConfig {
    /// Routed experts per MoE layer (`E`).
    pub experts: usize,
    /// Routed experts per token (`K`, `1..=E`).
    pub top_k: usize,
    /// Standard deviation of the multiplicative noise on each expert copy (0: exact copies).
    pub noise_std: f64,
    /// Standard deviation of the router weights (normal, mean 0).
    pub router_std: f64,
    /// Seed of the router weights and of the noise.
    pub seed: u64,
    /// Leading layers kept dense (DeepSeek's `first_k_dense_replace`).
    pub dense_layers: usize,
    /// Add one shared expert per MoE layer (the dense block split in half between the shared
    /// expert and the routed copies).
    pub shared_expert: bool,
}

impl UpcycleConfig {
    /// `experts` copies, `top_k` per token, exact copies, router std 0.02, seed 1, every layer
    /// MoE, no shared expert.
    pub fn new(experts: usize, top_k: usize) -> Self {
        Self {
            experts,
            top_k,
            noise_std: 0.0,
            router_std: 0.02,
            seed: 1,
            dense_layers: 0,
            shared_expert: false,
        }
    }

    /// Checks the settings against a model of `layers` decoder layers; `Err` names the problem.
    pub fn validate(&self, layers: usize) -> Result<(), String> {
        if self.experts == 0 {
            return Err("experts must be at least 1".into());
        }
        if self.top_k == 0 || self.top_k > self.experts {
            return Err(format!(
                "top_k {} must be in 1..={}",
                self.top_k, self.experts
            ));
        }
        for (name, value) in [
            ("noise_std", self.noise_std),
            ("router_std", self.router_std),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(format!("{name} {value} is not a finite number ≥ 0"));
            }
        }
        if self.dense_layers > layers {
            return Err(format!(
                "dense_layers {} exceeds the model's {layers} layers",
                self.dense_layers
            ));
        }
        Ok(())
    }
}

/// Parameter counts of a MoE model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ParamCounts {
    /// Every parameter (tied embeddings counted once).
    pub total: usize,
    /// Parameters used for one token: the total without the `E − K` unchosen routed experts of
    /// each MoE layer.
    pub active_per_token: usize,
}

/// Counts the parameters of a MoE model, total and active per token.
pub fn param_counts(model: &MoeLm) -> ParamCounts {
    let total = model.num_params();
    let inactive: usize = model
        .layers
        .iter()
        .filter_map(|layer| layer.mlp.moe.as_ref())
        .map(|moe| {
            let per_expert = moe.experts.first().map_or(0, |e| e.num_params());
            moe.experts.len().saturating_sub(moe.top_k) * per_expert
        })
        .sum();
    ParamCounts {
        total,
        active_per_token: total - inactive,
    }
}

/// Upcycles a dense Llama into a DeepSeek-MoE model (see the module documentation): each
/// layer's SwiGLU is copied into `config.experts` routed experts (plus optional noise), a
/// seeded random router is added with `norm_topk_prob = true`, and attention, norms,
/// embeddings and the head move over unchanged.
///
/// The returned [`MoeConfig`] carries the dense model's settings (vocabulary, sizes, heads,
/// rotary base, RMSNorm epsilon, tied embeddings) with `moe_intermediate_size` equal to the
/// dense inner size. Dense models with biases or a head size other than
/// `hidden / heads` cannot be expressed by [`MoeConfig`] and are rejected.
pub fn upcycle(
    dense: Llama,
    config: &UpcycleConfig,
    device: &Device,
) -> Result<(MoeLm, MoeConfig), UpcycleError> {
    let moe_config = moe_config_of(&dense, config)?;
    let mut router_rng = StdRng::seed_from_u64(config.seed);
    // A separate stream, so that the router does not depend on the noise setting.
    let mut noise_rng = StdRng::seed_from_u64(config.seed ^ 0x9E37_79B9_7F4A_7C15);
    let hidden = moe_config.hidden_size;
    let Llama {
        embed_tokens,
        layers,
        norm,
        lm_head,
        rotary,
    } = dense;
    let layers = layers
        .into_iter()
        .enumerate()
        .map(|(i, layer)| {
            let LlamaDecoderLayer {
                self_attn,
                mlp,
                input_layernorm,
                post_attention_layernorm,
            } = layer;
            let block = if moe_config.is_moe_layer(i) {
                let gate = normal(
                    &mut router_rng,
                    [config.experts, hidden],
                    config.router_std,
                    device,
                );
                let down_scale = if config.shared_expert { 0.5 } else { 1.0 };
                let experts = (0..config.experts)
                    .map(|_| copy_mlp(&mlp, down_scale, config.noise_std, &mut noise_rng, device))
                    .collect();
                let shared_experts = config
                    .shared_expert
                    .then(|| copy_mlp(&mlp, 0.5, 0.0, &mut noise_rng, device));
                MoeBlock {
                    dense: None,
                    moe: Some(MoeLayer {
                        gate: Param::from_tensor(gate),
                        experts,
                        shared_experts,
                        top_k: config.top_k,
                        norm_topk_prob: true,
                        routed_scaling_factor: 1.0,
                    }),
                }
            } else {
                MoeBlock {
                    dense: Some(Expert {
                        gate_proj: LoraLinear::new(mlp.gate_proj),
                        up_proj: LoraLinear::new(mlp.up_proj),
                        down_proj: LoraLinear::new(mlp.down_proj),
                    }),
                    moe: None,
                }
            };
            LlamaDecoderLayer {
                self_attn: self_attn.into(),
                mlp: block,
                input_layernorm,
                post_attention_layernorm,
            }
        })
        .collect();
    let model = Llama {
        embed_tokens,
        layers,
        norm,
        lm_head,
        rotary,
    };
    Ok((model, moe_config))
}

/// The [`MoeConfig`] of an upcycled `dense` model, read off the model's modules.
fn moe_config_of(dense: &Llama, config: &UpcycleConfig) -> Result<MoeConfig, UpcycleError> {
    let unsupported = |message: String| UpcycleError::Unsupported(message);
    let first = dense
        .layers
        .first()
        .ok_or_else(|| unsupported("the dense model has no layers".into()))?;
    config.validate(dense.layers.len()).map_err(unsupported)?;
    let [vocab_size, hidden_size] = dense.embed_tokens.weight.lazy_shape().dims::<2>();
    let [_, intermediate_size] = first.mlp.gate_proj.weight.lazy_shape().dims::<2>();
    let attn = &first.self_attn;
    if attn.num_heads * attn.head_dim != hidden_size {
        return Err(unsupported(format!(
            "head size {} × {} heads differs from the hidden size {hidden_size} (MoeConfig \
             has no head_dim)",
            attn.head_dim, attn.num_heads
        )));
    }
    let has_bias = |l: &Linear| l.bias.is_some();
    for (i, layer) in dense.layers.iter().enumerate() {
        let a = &layer.self_attn;
        let m = &layer.mlp;
        if [&a.q_proj, &a.k_proj, &a.v_proj, &a.o_proj]
            .into_iter()
            .any(has_bias)
            || [&m.gate_proj, &m.up_proj, &m.down_proj]
                .into_iter()
                .any(has_bias)
        {
            return Err(unsupported(format!(
                "layer {i} has biases (MoeConfig describes bias-free models)"
            )));
        }
        let [_, inner] = m.gate_proj.weight.lazy_shape().dims::<2>();
        if inner != intermediate_size {
            return Err(unsupported(format!(
                "layer {i} has inner size {inner}, layer 0 {intermediate_size}"
            )));
        }
    }
    if dense.rotary.interleaved || dense.rotary.scaling.is_some() {
        return Err(unsupported(
            "interleaved or scaled rotary embeddings are not carried into MoeConfig".into(),
        ));
    }
    if dense.lm_head.as_ref().is_some_and(has_bias) {
        return Err(unsupported("the output head has a bias".into()));
    }
    let moe = MoeConfig {
        vocab_size,
        hidden_size,
        intermediate_size,
        moe_intermediate_size: intermediate_size,
        num_hidden_layers: dense.layers.len(),
        num_attention_heads: attn.num_heads,
        num_key_value_heads: Some(attn.num_kv_heads),
        n_shared_experts: usize::from(config.shared_expert),
        n_routed_experts: config.experts,
        num_experts_per_tok: config.top_k,
        first_k_dense_replace: config.dense_layers,
        norm_topk_prob: true,
        routed_scaling_factor: 1.0,
        aux_loss_alpha: 0.001,
        rms_norm_eps: shortest(dense.norm.epsilon),
        rope_theta: dense.rotary.theta,
        tie_word_embeddings: dense.lm_head.is_none(),
        initializer_range: 0.02,
        scoring_func: "softmax".into(),
        moe_layer_freq: 1,
        topk_method: "greedy".into(),
        hidden_act: "silu".into(),
        v2: Default::default(),
    };
    moe.validate().map_err(unsupported)?;
    Ok(moe)
}

/// `value` written with the fewest digits that give back the same `f32` when it is an `f32`
/// widened (a GGUF's `1e-5` is stored as `f32` and read as `9.999999747378752e-6`); the norm
/// computes in `f32`, so the model is unchanged and `config.json` reads like the original.
fn shortest(value: f64) -> f64 {
    let narrow = value as f32;
    if f64::from(narrow) == value {
        narrow.to_string().parse().unwrap_or(value)
    } else {
        value
    }
}

/// A copy of a dense SwiGLU block with fresh parameter ids (the optimizer and ESFT's freezing
/// key parameters by id), the down projection scaled by `down_scale` and, with `noise_std > 0`,
/// every weight multiplied by `1 + noise_std · ε`.
fn copy_mlp(
    mlp: &LlamaMlp,
    down_scale: f64,
    noise_std: f64,
    rng: &mut StdRng,
    device: &Device,
) -> Expert {
    let mut copy = |linear: &Linear, scale: f64| {
        let mut weight = linear.weight.val();
        if scale != 1.0 {
            weight = weight * scale;
        }
        if noise_std > 0.0 {
            let noise = normal(rng, weight.dims(), noise_std, device);
            weight = weight.clone() + weight * noise;
        }
        LoraLinear::new(Linear {
            weight: Param::from_tensor(weight),
            bias: None,
        })
    };
    Expert {
        gate_proj: copy(&mlp.gate_proj, 1.0),
        up_proj: copy(&mlp.up_proj, 1.0),
        down_proj: copy(&mlp.down_proj, down_scale),
    }
}

/// A `[rows, cols]` tensor of `N(0, std²)` values drawn on the host (Box–Muller), so that a
/// seed gives the same values on every backend.
fn normal(rng: &mut StdRng, [rows, cols]: [usize; 2], std: f64, device: &Device) -> Tensor<2> {
    let n = rows * cols;
    let mut values = Vec::with_capacity(n + 1);
    while values.len() < n {
        let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
        let u2: f64 = rng.random();
        let radius = (-2.0 * u1.ln()).sqrt() * std;
        let angle = std::f64::consts::TAU * u2;
        values.push((radius * angle.cos()) as f32);
        values.push((radius * angle.sin()) as f32);
    }
    values.truncate(n);
    Tensor::from_data(TensorData::new(values, [rows, cols]), device)
}

/// A chat template's source with the texts of the special tokens it may refer to, as kept in a
/// Hugging Face `tokenizer_config.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatTemplateSource {
    /// The Jinja source.
    pub template: String,
    /// Text of the BOS token (empty when none).
    pub bos_token: String,
    /// Text of the EOS token (empty when none).
    pub eos_token: String,
}

impl ChatTemplateSource {
    /// Parses the template.
    pub fn parse(&self) -> Result<ChatTemplate, ChatTemplateError> {
        ChatTemplate::new(
            self.template.clone(),
            self.bos_token.clone(),
            self.eos_token.clone(),
        )
    }

    /// Reads the chat template of a model location: a GGUF file's `tokenizer.chat_template`
    /// or a Hugging Face directory's `tokenizer_config.json`; `None` when it has none. The BOS
    /// and EOS texts come from `tokenizer` and the ids in `config`.
    pub fn of_location(
        location: &ModelLocation,
        tokenizer: &Tokenizer,
        config: &LlamaConfig,
    ) -> Result<Option<Self>, UpcycleError> {
        match location {
            ModelLocation::Gguf(path) => {
                let error = |message: String| UpcycleError::TokenizerConfig {
                    path: path.clone(),
                    message,
                };
                let file = GgufFile::open(path).map_err(|e| error(e.to_string()))?;
                let Some(value) = file.get("tokenizer.chat_template") else {
                    return Ok(None);
                };
                let template = value
                    .as_str()
                    .ok_or_else(|| error("tokenizer.chat_template is not a string".into()))?;
                let text = |id: Option<u32>| {
                    id.and_then(|id| tokenizer.id_to_token(id))
                        .unwrap_or_default()
                };
                Ok(Some(Self {
                    template: template.to_string(),
                    bos_token: text(config.bos_token_id),
                    eos_token: text(config.eos_token_ids.first().copied()),
                }))
            }
            ModelLocation::HfDir(dir) => Self::read(dir),
            ModelLocation::E5s1(_) => Ok(None),
        }
    }

    /// Reads `DIR/tokenizer_config.json` (`chat_template`, `bos_token`, `eos_token`, the tokens
    /// as strings or `{"content": …}` objects); `None` when the file or the template is absent.
    pub fn read(dir: &Path) -> Result<Option<Self>, UpcycleError> {
        let path = dir.join(TOKENIZER_CONFIG);
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(None);
        };
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| UpcycleError::TokenizerConfig {
                path: path.clone(),
                message: e.to_string(),
            })?;
        let Some(template) = value.get("chat_template").and_then(|v| v.as_str()) else {
            return Ok(None);
        };
        let token = |key: &str| {
            let v = value.get(key);
            v.and_then(|v| v.as_str())
                .or_else(|| v.and_then(|v| v.get("content")).and_then(|c| c.as_str()))
                .unwrap_or_default()
                .to_string()
        };
        Ok(Some(Self {
            template: template.to_string(),
            bos_token: token("bos_token"),
            eos_token: token("eos_token"),
        }))
    }

    /// Writes `DIR/tokenizer_config.json` with `chat_template`, `bos_token` and `eos_token`.
    pub fn write(&self, dir: &Path) -> Result<(), UpcycleError> {
        let json = serde_json::json!({
            "chat_template": self.template,
            "bos_token": self.bos_token,
            "eos_token": self.eos_token,
        });
        let text = serde_json::to_string_pretty(&json).expect("serialisable");
        burnlp_core::data::write_atomic(dir.join(TOKENIZER_CONFIG), text.as_bytes())
            .map_err(MoeError::from)?;
        Ok(())
    }
}

const TOKENIZER_CONFIG: &str = "tokenizer_config.json";

/// A MoE model directory loaded with its tokenizer (see [`load_with_tokenizer`]).
#[derive(Debug)]
pub struct MoeWithTokenizer {
    /// The configuration.
    pub config: MoeConfig,
    /// The network.
    pub model: MoeLm,
    /// The tokenizer (`tokenizer.json`).
    pub tokenizer: Tokenizer,
    /// The chat template (`tokenizer_config.json`), when there is one.
    pub chat_template: Option<ChatTemplate>,
    /// The EOS token ids (the `eos_token` of `tokenizer_config.json`, when the tokenizer knows
    /// it).
    pub eos_token_ids: Vec<u32>,
}

/// Writes the tokenizer files of a MoE directory: `DIR/tokenizer.json` and, with a chat
/// template, `DIR/tokenizer_config.json`.
pub fn save_tokenizer(
    dir: &Path,
    tokenizer: &Tokenizer,
    chat_template: Option<&ChatTemplateSource>,
) -> Result<(), UpcycleError> {
    std::fs::create_dir_all(dir).map_err(|source| MoeError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    tokenizer.save(dir.join("tokenizer.json"), false)?;
    if let Some(template) = chat_template {
        template.write(dir)?;
    }
    Ok(())
}

/// Loads a MoE directory written by [`crate::moe::save_pretrained`] plus [`save_tokenizer`]
/// (e.g. by `peft-moe upcycle`): `config.json`, `model.safetensors`, `tokenizer.json` and the
/// optional `tokenizer_config.json` with the chat template.
pub fn load_with_tokenizer(dir: &Path, device: &Device) -> Result<MoeWithTokenizer, UpcycleError> {
    let (config, model) = load_pretrained(dir, device)?;
    let tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))?;
    let source = ChatTemplateSource::read(dir)?;
    let chat_template = source
        .as_ref()
        .map(|s| s.parse())
        .transpose()
        .map_err(|e| UpcycleError::TokenizerConfig {
            path: dir.join(TOKENIZER_CONFIG),
            message: e.to_string(),
        })?;
    let eos_token_ids = source
        .and_then(|s| tokenizer.token_to_id(&s.eos_token))
        .into_iter()
        .collect();
    Ok(MoeWithTokenizer {
        config,
        model,
        tokenizer,
        chat_template,
        eos_token_ids,
    })
}
