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
//! Attention ([`MoeAttention`]) is either the core decoder's rotary multi-head / grouped-query
//! attention (as in DeepSeekMoE 16B and the upcycled dense models) or DeepSeek-V2's multi-head
//! latent attention ([`MlaAttention`], chosen when `config.json` has `kv_lora_rank`) with
//! interleaved, optionally YaRN-scaled rotary dimensions; [`load_pretrained`] reads a
//! transformers `DeepseekV2ForCausalLM` checkpoint directory (e.g. `deepseek-ai/ESFT-vanilla-lite`).
//!
//! Dispatch groups tokens per expert: the rows routed to expert `i` are gathered
//! (`select`), run through `E_i`, weighted and scatter-added back (`select_assign` with `Add`),
//! so each expert sees only its tokens. [`MoeLayer::forward_dense`] is the dense reference
//! (every expert on every token) used by the tests.

use burn::module::{Module, Param};
use burn::nn::{Initializer, LinearConfig};
use burn::tensor::activation::{silu, softmax};
use burn::tensor::{Bool, Device, IndexingUpdateOp, Int, Tensor, TensorData};
use burnlp_core::burn;
use burnlp_core::nn::WeightSource;
use burnlp_core::nn::llama::{FeedForward, LayerCache, LlamaAttention, RopeAngles, SelfAttention};
use burnlp_core::nn::lora::LoraLinear;

mod checkpoint;
mod config;
mod mla;

pub use checkpoint::{NamedTensor, export_tensors, load_pretrained, save_pretrained};
pub use config::{DeepseekV2Fields, MoeConfig, MoeLm};
pub use mla::{MlaAttention, MlaConfig};

/// The attention block of a decoder layer: the core decoder's rotary grouped-query attention
/// or DeepSeek-V2's multi-head latent attention. A core [`LlamaAttention`] becomes one with
/// `.into()`.
// One value per decoder layer, so the size difference of the variants costs nothing (and burn's
// `Module` derive has no `Box` support to even it out).
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum MoeAttention {
    /// Rotary multi-head / grouped-query attention (`q_proj`, `k_proj`, `v_proj`, `o_proj`).
    Gqa(LlamaAttention),
    /// Multi-head latent attention.
    Mla(MlaAttention),
}

impl From<LlamaAttention> for MoeAttention {
    fn from(attention: LlamaAttention) -> Self {
        Self::Gqa(attention)
    }
}

impl SelfAttention for MoeAttention {
    fn forward(
        &self,
        hidden: Tensor<3>,
        rope: &RopeAngles,
        mask: Tensor<4, Bool>,
        cache: Option<&mut LayerCache>,
    ) -> Tensor<3> {
        match self {
            Self::Gqa(attention) => attention.forward(hidden, rope, mask, cache),
            Self::Mla(attention) => attention.forward(hidden, rope, mask, cache),
        }
    }

    fn load_weights(&mut self, weights: &mut WeightSource, prefix: &str) {
        match self {
            Self::Gqa(attention) => attention.load_weights(weights, prefix),
            Self::Mla(attention) => attention.load_weights(weights, prefix),
        }
    }
}
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
/// layer's routing. Equals [`Llama::forward`](burnlp_core::nn::llama::Llama::forward) without a
/// cache and without padding.
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
