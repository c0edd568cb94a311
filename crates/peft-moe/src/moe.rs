//! The DeepSeek-MoE language model on the core Llama decoder.
//!
//! Dai et al., "DeepSeekMoE: Towards Ultimate Expert Specialization in Mixture-of-Experts
//! Language Models", 2024 (<https://arxiv.org/abs/2401.06066>), with the feed-forward layout of
//! DeepSeek-V2 (<https://arxiv.org/abs/2405.04434>): the first `first_k_dense_replace` layers
//! have a dense SwiGLU block; every later layer has `n_shared_experts` always-active experts
//! (one SwiGLU of width `n_shared_experts × moe_intermediate_size`) plus `n_routed_experts`
//! fine-grained routed experts. For token `t` with hidden `h_t`:
//! `s_t = softmax(W_gate h_t)`, `I_t = topK(s_t)`, `y_t = Σ_{i∈I_t} s_{t,i} E_i(h_t) + Shared(h_t)`
//! (top-K weights not renormalised unless `norm_topk_prob`; scaled by `routed_scaling_factor`).
//!
//! Attention is the core decoder's (rotary multi-head / grouped-query attention, as in
//! DeepSeekMoE 16B); DeepSeek-V2's multi-head latent attention is not modelled.
//!
//! Dispatch groups tokens per expert: the rows routed to expert `i` are gathered
//! (`select`), run through `E_i`, weighted and scatter-added back (`select_assign` with `Add`),
//! so each expert sees only its tokens. [`MoeLayer::forward_dense`] is the dense reference
//! (every expert on every token) used by the tests.

use std::path::Path;

use burn::module::{Module, Param};
use burn::nn::{Initializer, LinearConfig};
use burn::tensor::activation::{silu, softmax};
use burn::tensor::{Bool, Device, IndexingUpdateOp, Int, Tensor, TensorData};
use burnlp_core::burn;
use burnlp_core::nn::WeightSource;
use burnlp_core::nn::llama::{FeedForward, Llama, LlamaConfig};
use burnlp_core::nn::lora::LoraLinear;
use serde::{Deserialize, Serialize};

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

/// A SwiGLU block `down(silu(gate(x)) ⊙ up(x))` whose projections can carry LoRA adapters.
#[derive(Module, Debug)]
pub struct Expert {
    /// Gate projection `[d_model, inner]`.
    pub gate_proj: LoraLinear,
    /// Up projection `[d_model, inner]`.
    pub up_proj: LoraLinear,
    /// Down projection `[inner, d_model]`.
    pub down_proj: LoraLinear,
}

impl Expert {
    /// A fresh block without biases.
    pub fn new(d_model: usize, inner: usize, init: &Initializer, device: &Device) -> Self {
        let linear = |d_in, d_out| {
            LoraLinear::new(
                LinearConfig::new(d_in, d_out)
                    .with_bias(false)
                    .with_initializer(init.clone())
                    .init(device),
            )
        };
        Self {
            gate_proj: linear(d_model, inner),
            up_proj: linear(d_model, inner),
            down_proj: linear(inner, d_model),
        }
    }

    /// Applies the block.
    ///
    /// # Shapes
    /// - `x`: `[n, d_model]`; output: `[n, d_model]`
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let gate = silu(self.gate_proj.forward(x.clone()));
        self.down_proj.forward(gate * self.up_proj.forward(x))
    }

    /// Adds fresh LoRA adapters of `rank` (scale `alpha / rank`) to the three projections.
    pub fn add_lora(self, rank: usize, alpha: f64, device: &Device) -> Self {
        Self {
            gate_proj: self.gate_proj.with_adapter(rank, alpha, device),
            up_proj: self.up_proj.with_adapter(rank, alpha, device),
            down_proj: self.down_proj.with_adapter(rank, alpha, device),
        }
    }

    fn load(&mut self, weights: &mut WeightSource, prefix: &str) {
        weights.fill_linear(&mut self.gate_proj.base, &format!("{prefix}.gate_proj"));
        weights.fill_linear(&mut self.up_proj.base, &format!("{prefix}.up_proj"));
        weights.fill_linear(&mut self.down_proj.base, &format!("{prefix}.down_proj"));
    }
}

/// One MoE feed-forward layer: softmax gate, top-K routed experts and shared experts.
#[derive(Module, Debug)]
pub struct MoeLayer {
    /// Gate weight `[n_experts, d_model]` (the checkpoint's layout).
    pub gate: Param<Tensor<2>>,
    /// Routed experts.
    pub experts: Vec<Expert>,
    /// The shared experts, fused into one SwiGLU.
    pub shared_experts: Option<Expert>,
    /// Experts per token.
    pub top_k: usize,
    /// Whether top-K weights are renormalised.
    pub norm_topk_prob: bool,
    /// Factor on the routed output.
    pub routed_scaling_factor: f64,
}

/// The routing decision of one MoE layer for a set of tokens.
#[derive(Debug, Clone)]
pub struct Routing {
    /// Softmax gate scores `[n, n_experts]`.
    pub probs: Tensor<2>,
    /// Chosen experts, `top_k` per token, highest score first (ties: lower id).
    pub ids: Vec<usize>,
    /// Weights of the chosen experts `[n, top_k]` (differentiable).
    pub weights: Tensor<2>,
    /// The gate scores `s_{t,i}` of the chosen experts on the host, `top_k` per token.
    pub scores: Vec<f32>,
}

impl MoeLayer {
    /// Number of routed experts.
    pub fn n_experts(&self) -> usize {
        self.experts.len()
    }

    /// Routes tokens: softmax over the gate logits, greedy top-K.
    ///
    /// # Shapes
    /// - `x`: `[n, d_model]`
    pub fn route(&self, x: Tensor<2>) -> Routing {
        let [n, _] = x.dims();
        let (k, n_experts) = (self.top_k, self.n_experts());
        let probs = softmax(x.matmul(self.gate.val().transpose()), 1);
        let host = probs.try_to_vec_as::<f32>().expect("f32 scores");
        let mut ids = Vec::with_capacity(n * k);
        let mut scores = Vec::with_capacity(n * k);
        let mut order: Vec<usize> = Vec::with_capacity(n_experts);
        for row in host.chunks(n_experts) {
            order.clear();
            order.extend(0..n_experts);
            order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
            ids.extend_from_slice(&order[..k]);
            scores.extend(order[..k].iter().map(|&e| row[e]));
        }
        let index = Tensor::<2, Int>::from_data(
            TensorData::new(ids.iter().map(|&i| i as i64).collect(), [n, k]),
            &probs.device(),
        );
        let mut weights = probs.clone().gather(1, index);
        if self.norm_topk_prob {
            weights = weights.clone() / (weights.sum_dim(1) + 1e-20);
        }
        if self.routed_scaling_factor != 1.0 {
            weights = weights * self.routed_scaling_factor;
        }
        Routing {
            probs,
            ids,
            weights,
            scores,
        }
    }

    /// Applies the routed experts (grouped dispatch) and the shared experts.
    ///
    /// # Shapes
    /// - `x`: `[n, d_model]`; output: `[n, d_model]`
    pub fn forward_routed(&self, x: Tensor<2>, routing: &Routing) -> Tensor<2> {
        let [n, d] = x.dims();
        let k = self.top_k;
        let device = x.device();
        let mut slots: Vec<Vec<i64>> = vec![Vec::new(); self.n_experts()];
        for (slot, &e) in routing.ids.iter().enumerate() {
            slots[e].push(slot as i64);
        }
        let flat_weights = routing.weights.clone().reshape([n * k]);
        let mut out = Tensor::<2>::zeros([n, d], &device);
        for (expert, slots) in self.experts.iter().zip(slots) {
            if slots.is_empty() {
                continue;
            }
            let m = slots.len();
            let tokens: Vec<i64> = slots.iter().map(|s| s / k as i64).collect();
            let tokens = Tensor::<1, Int>::from_data(TensorData::new(tokens, [m]), &device);
            let slots = Tensor::<1, Int>::from_data(TensorData::new(slots, [m]), &device);
            let w = flat_weights.clone().select(0, slots).unsqueeze_dim::<2>(1);
            let y = expert.forward(x.clone().select(0, tokens.clone())) * w;
            out = out.select_assign(0, tokens, y, IndexingUpdateOp::Add);
        }
        match &self.shared_experts {
            Some(shared) => out + shared.forward(x),
            None => out,
        }
    }

    /// Reference computation: every routed expert on every token, weighted by the dense matrix
    /// of routing weights (zero for unchosen experts). Same result as
    /// [`MoeLayer::forward_routed`], `n_experts / top_k` times the work.
    ///
    /// # Shapes
    /// - `x`: `[n, d_model]`; output: `[n, d_model]`
    pub fn forward_dense(&self, x: Tensor<2>, routing: &Routing) -> Tensor<2> {
        let [n, _] = x.dims();
        let (k, n_experts) = (self.top_k, self.n_experts());
        let mut chosen = vec![0f32; n * n_experts];
        for (slot, &e) in routing.ids.iter().enumerate() {
            chosen[(slot / k) * n_experts + e] = 1.0;
        }
        let chosen = Tensor::<2>::from_data(TensorData::new(chosen, [n, n_experts]), &x.device());
        let mut dense = routing.probs.clone() * chosen;
        if self.norm_topk_prob {
            dense = dense.clone() / (dense.sum_dim(1) + 1e-20);
        }
        dense = dense * self.routed_scaling_factor;
        let mut out = match &self.shared_experts {
            Some(shared) => shared.forward(x.clone()),
            None => x.zeros_like(),
        };
        for (e, expert) in self.experts.iter().enumerate() {
            let w = dense.clone().slice_dim(1, e..e + 1);
            out = out + expert.forward(x.clone()) * w;
        }
        out
    }
}

/// The feed-forward block of a DeepSeek-MoE layer: dense SwiGLU or MoE (exactly one is set).
#[derive(Module, Debug)]
pub struct MoeBlock {
    /// The dense SwiGLU of the leading layers.
    pub dense: Option<Expert>,
    /// The MoE layer of the later layers.
    pub moe: Option<MoeLayer>,
}

impl MoeBlock {
    /// Applies the block and returns the routing decision of a MoE layer.
    ///
    /// # Shapes
    /// - `hidden`: `[batch, seq, d_model]`; output: `[batch, seq, d_model]`
    pub fn forward_with_routing(&self, hidden: Tensor<3>) -> (Tensor<3>, Option<Routing>) {
        let [b, s, d] = hidden.dims();
        let flat = hidden.reshape([b * s, d]);
        let (out, routing) = match (&self.dense, &self.moe) {
            (Some(dense), _) => (dense.forward(flat), None),
            (None, Some(moe)) => {
                let routing = moe.route(flat.clone());
                (moe.forward_routed(flat, &routing), Some(routing))
            }
            (None, None) => panic!("MoeBlock has neither a dense nor a MoE layer"),
        };
        (out.reshape([b, s, d]), routing)
    }
}

impl FeedForward for MoeBlock {
    fn forward(&self, hidden: Tensor<3>) -> Tensor<3> {
        self.forward_with_routing(hidden).0
    }

    /// Checkpoint names (DeepSeek-V2): dense `{prefix}.{gate,up,down}_proj.weight`; MoE
    /// `{prefix}.gate.weight`, `{prefix}.experts.{i}.{gate,up,down}_proj.weight`,
    /// `{prefix}.shared_experts.{gate,up,down}_proj.weight`.
    fn load_weights(&mut self, weights: &mut WeightSource, prefix: &str) {
        if let Some(dense) = self.dense.as_mut() {
            dense.load(weights, prefix);
        }
        if let Some(moe) = self.moe.as_mut() {
            weights.fill(&mut moe.gate, &format!("{prefix}.gate.weight"));
            for (i, expert) in moe.experts.iter_mut().enumerate() {
                expert.load(weights, &format!("{prefix}.experts.{i}"));
            }
            if let Some(shared) = moe.shared_experts.as_mut() {
                shared.load(weights, &format!("{prefix}.shared_experts"));
            }
        }
    }
}

/// Output of [`forward_detailed`].
#[derive(Debug)]
pub struct MoeOutput {
    /// Next-token logits `[batch, seq, vocab]`.
    pub logits: Tensor<3>,
    /// Routing of each decoder layer (`None` for dense layers).
    pub routing: Vec<Option<Routing>>,
}

/// Runs the model on unpadded (or right-padded) sequences and returns the logits and every
/// layer's routing. Equals [`Llama::forward`] without a cache and without padding.
///
/// # Shapes
/// - `input_ids`: `[batch, seq]`
pub fn forward_detailed(model: &MoeLm, input_ids: Tensor<2, Int>) -> MoeOutput {
    let [b, s] = input_ids.dims();
    let device = input_ids.device();
    let positions = Tensor::<1, Int>::arange(0..s as i64, &device)
        .unsqueeze::<2>()
        .expand([b, s]);
    let rope = model.rotary.angles(positions);
    let mask: Tensor<4, Bool> = Tensor::<4, Int>::zeros([b, 1, s, s], &device).equal_elem(1);
    let mut hidden = model.embed_tokens.forward(input_ids);
    let mut routing = Vec::with_capacity(model.layers.len());
    for layer in &model.layers {
        let attended = layer.self_attn.forward(
            layer.input_layernorm.forward(hidden.clone()),
            &rope,
            mask.clone(),
            None,
        ) + hidden;
        let (ffn, route) = layer
            .mlp
            .forward_with_routing(layer.post_attention_layernorm.forward(attended.clone()));
        hidden = ffn + attended;
        routing.push(route);
    }
    MoeOutput {
        logits: model.logits(model.norm.forward(hidden)),
        routing,
    }
}

/// DeepSeek's sequence-level balance loss summed over MoE layers:
/// `α Σ_layers mean_b Σ_i f_{b,i} P_{b,i}` with `f_{b,i}` = selections of expert `i` in sequence
/// `b` divided by `seq · K / n_experts` (no gradient) and `P_{b,i}` the mean gate score.
pub fn balance_loss(routing: &[Option<Routing>], batch: usize, alpha: f64) -> Option<Tensor<1>> {
    let mut total: Option<Tensor<1>> = None;
    for r in routing.iter().flatten() {
        let [n, n_experts] = r.probs.dims();
        let seq = n / batch;
        let k = r.ids.len() / n;
        let mut counts = vec![0f32; batch * n_experts];
        for (slot, &e) in r.ids.iter().enumerate() {
            counts[(slot / k / seq) * n_experts + e] += 1.0;
        }
        let scale = n_experts as f32 / (seq * k) as f32;
        counts.iter_mut().for_each(|c| *c *= scale);
        let f = Tensor::<2>::from_data(
            TensorData::new(counts, [batch, n_experts]),
            &r.probs.device(),
        );
        let p = r
            .probs
            .clone()
            .reshape([batch, seq, n_experts])
            .mean_dim(1)
            .reshape([batch, n_experts]);
        let loss = (f * p).sum_dim(1).mean().reshape([1]) * alpha;
        total = Some(match total {
            Some(t) => t + loss,
            None => loss,
        });
    }
    total
}

/// Loads `DIR/config.json` and `DIR/model.safetensors` or the shards of
/// `DIR/model.safetensors.index.json` (DeepSeek-V2 tensor names, Llama attention names); every
/// tensor must be present with the right shape.
pub fn load_pretrained(dir: &Path, device: &Device) -> Result<(MoeConfig, MoeLm), MoeError> {
    let config = MoeConfig::from_file(&dir.join("config.json"))?;
    let mut weights = WeightSource::open_dir(dir, device)?;
    let mut model = config.init(device);
    model.load_weights(&mut weights);
    let report = weights.finish()?;
    tracing::info!(dir = %dir.display(), loaded = report.loaded.len(), "loaded MoE LM");
    Ok((config, model))
}

/// Adds LoRA adapters of `rank` to every SwiGLU projection (dense, shared and routed experts).
pub fn add_lora(model: MoeLm, rank: usize, alpha: f64, device: &Device) -> MoeLm {
    let mut model = model;
    for layer in model.layers.iter_mut() {
        let block = &mut layer.mlp;
        if let Some(dense) = block.dense.take() {
            block.dense = Some(dense.add_lora(rank, alpha, device));
        }
        if let Some(moe) = block.moe.as_mut() {
            moe.experts = std::mem::take(&mut moe.experts)
                .into_iter()
                .map(|e| e.add_lora(rank, alpha, device))
                .collect();
            if let Some(shared) = moe.shared_experts.take() {
                moe.shared_experts = Some(shared.add_lora(rank, alpha, device));
            }
        }
    }
    model
}

/// One exported tensor: checkpoint name, shape, values.
pub type NamedTensor = (String, Vec<usize>, Vec<f32>);

fn named<const D: usize>(name: String, tensor: Tensor<D>) -> NamedTensor {
    let shape = tensor.dims().to_vec();
    (name, shape, tensor.try_to_vec_as::<f32>().expect("f32"))
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
        let attn = &layer.self_attn;
        for (proj, name) in [
            (&attn.q_proj, "q_proj"),
            (&attn.k_proj, "k_proj"),
            (&attn.v_proj, "v_proj"),
            (&attn.o_proj, "o_proj"),
        ] {
            out.push(named(
                format!("{p}.self_attn.{name}.weight"),
                proj.weight.val().transpose(),
            ));
        }
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
