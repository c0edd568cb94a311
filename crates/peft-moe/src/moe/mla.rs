//! Multi-head latent attention (MLA) of DeepSeek-V2.
//!
//! DeepSeek-AI, "DeepSeek-V2: A Strong, Economical, and Efficient Mixture-of-Experts Language
//! Model", 2024 (<https://arxiv.org/abs/2405.04434>), §2.1; the layout and names follow
//! Hugging Face transformers' `DeepseekV2Attention` (`modeling_deepseek_v2.py`).
//!
//! For hidden state `h_t` and `n_h` heads:
//! - queries: `q_t = W_q h_t` (`q_proj`), or through a low-rank bottleneck when `q_lora_rank`
//!   is set: `q_t = W_UQ RMSNorm(W_DQ h_t)` (`q_b_proj`, `q_a_layernorm`, `q_a_proj`); each
//!   head's query splits into `qk_nope_head_dim` plain and `qk_rope_head_dim` rotary dimensions;
//! - keys and values: `[c_t; k_t^R] = W_DKV h_t` (`kv_a_proj_with_mqa`), a latent `c_t` of
//!   `kv_lora_rank` dimensions and one rotary key `k_t^R` shared by all heads;
//!   `[k_t^C; v_t] = W_UKV RMSNorm(c_t)` (`kv_b_proj`, `kv_a_layernorm`) gives each head
//!   `qk_nope_head_dim` key and `v_head_dim` value dimensions;
//! - each head attends with key `[k_t^C; RoPE(k_t^R)]` and query `[q_t^C; RoPE(q_t^R)]`, softmax
//!   scale `(qk_nope_head_dim + qk_rope_head_dim)^(-1/2)` times YaRN's `mscale(s,
//!   mscale_all_dim)²` when the rotary embedding is YaRN-scaled; the rotary dimensions are rotated
//!   as interleaved pairs `(2i, 2i + 1)`; `o_proj` maps the `n_h · v_head_dim` context back.
//!
//! The KV cache ([`LayerCache`]) holds the full per-head keys and values after decompression, as
//! for grouped-query attention; the paper's inference optimisation of caching only `c_t` and
//! `k_t^R` (and absorbing `W_UK` into the query) is not implemented — it saves memory, not
//! results.

use burn::module::Module;
use burn::nn::{Initializer, Linear, LinearConfig, RmsNorm, RmsNormConfig};
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Device, Tensor};
use burnlp_core::burn;
use burnlp_core::nn::WeightSource;
use burnlp_core::nn::llama::{LayerCache, RopeAngles, SelfAttention};

/// Epsilon of the latent RMSNorms (transformers' `DeepseekV2RMSNorm` default; the config's
/// `rms_norm_eps` applies to the decoder norms only).
const LATENT_NORM_EPS: f64 = 1e-6;

/// Sizes of a [`MlaAttention`] block.
#[derive(Debug, Clone, PartialEq)]
pub struct MlaConfig {
    /// Hidden size `d_model`.
    pub hidden_size: usize,
    /// Number of heads `n_h`.
    pub num_heads: usize,
    /// Rank of the query bottleneck; `None` for a full query projection.
    pub q_lora_rank: Option<usize>,
    /// Rank of the key/value latent `c_t`.
    pub kv_lora_rank: usize,
    /// Key/query dimensions per head without position information.
    pub qk_nope_head_dim: usize,
    /// Rotary key/query dimensions per head (the rotary key is shared by all heads).
    pub qk_rope_head_dim: usize,
    /// Value dimensions per head.
    pub v_head_dim: usize,
    /// Whether `q_a_proj`, `kv_a_proj_with_mqa` and `o_proj` have biases.
    pub attention_bias: bool,
    /// Factor on the softmax scale `(qk_nope_head_dim + qk_rope_head_dim)^(-1/2)` (YaRN's
    /// `mscale²`, 1 without YaRN).
    pub softmax_scale_factor: f64,
}

impl MlaConfig {
    /// Key/query dimensions per head.
    pub fn qk_head_dim(&self) -> usize {
        self.qk_nope_head_dim + self.qk_rope_head_dim
    }

    /// A fresh block with weights drawn from `init` and latent norms at one.
    pub fn init(&self, init: &Initializer, device: &Device) -> MlaAttention {
        let linear = |d_in, d_out, bias| {
            LinearConfig::new(d_in, d_out)
                .with_bias(bias)
                .with_initializer(init.clone())
                .init(device)
        };
        let norm = |d| {
            RmsNormConfig::new(d)
                .with_epsilon(LATENT_NORM_EPS)
                .init(device)
        };
        let (h, heads, bias) = (self.hidden_size, self.num_heads, self.attention_bias);
        let q_out = heads * self.qk_head_dim();
        let (q_proj, q_a_proj, q_a_layernorm, q_b_proj) = match self.q_lora_rank {
            None => (Some(linear(h, q_out, false)), None, None, None),
            Some(rank) => (
                None,
                Some(linear(h, rank, bias)),
                Some(norm(rank)),
                Some(linear(rank, q_out, false)),
            ),
        };
        MlaAttention {
            q_proj,
            q_a_proj,
            q_a_layernorm,
            q_b_proj,
            kv_a_proj_with_mqa: linear(h, self.kv_lora_rank + self.qk_rope_head_dim, bias),
            kv_a_layernorm: norm(self.kv_lora_rank),
            kv_b_proj: linear(
                self.kv_lora_rank,
                heads * (self.qk_nope_head_dim + self.v_head_dim),
                false,
            ),
            o_proj: linear(heads * self.v_head_dim, h, bias),
            num_heads: heads,
            kv_lora_rank: self.kv_lora_rank,
            qk_nope_head_dim: self.qk_nope_head_dim,
            qk_rope_head_dim: self.qk_rope_head_dim,
            v_head_dim: self.v_head_dim,
            softmax_scale: self.softmax_scale_factor / (self.qk_head_dim() as f64).sqrt(),
        }
    }
}

/// DeepSeek-V2's multi-head latent attention (see the module documentation).
#[derive(Module, Debug)]
pub struct MlaAttention {
    /// Full query projection `[d_model, heads * qk_head_dim]` (without a query bottleneck).
    pub q_proj: Option<Linear>,
    /// Query down-projection `[d_model, q_lora_rank]`.
    pub q_a_proj: Option<Linear>,
    /// RMSNorm of the query latent.
    pub q_a_layernorm: Option<RmsNorm>,
    /// Query up-projection `[q_lora_rank, heads * qk_head_dim]`.
    pub q_b_proj: Option<Linear>,
    /// Key/value down-projection and shared rotary key `[d_model, kv_lora_rank + qk_rope_head_dim]`.
    pub kv_a_proj_with_mqa: Linear,
    /// RMSNorm of the key/value latent.
    pub kv_a_layernorm: RmsNorm,
    /// Key/value up-projection `[kv_lora_rank, heads * (qk_nope_head_dim + v_head_dim)]`.
    pub kv_b_proj: Linear,
    /// Output projection `[heads * v_head_dim, d_model]`.
    pub o_proj: Linear,
    /// Number of heads.
    pub num_heads: usize,
    /// Rank of the key/value latent.
    pub kv_lora_rank: usize,
    /// Key/query dimensions per head without position information.
    pub qk_nope_head_dim: usize,
    /// Rotary key/query dimensions per head.
    pub qk_rope_head_dim: usize,
    /// Value dimensions per head.
    pub v_head_dim: usize,
    /// Factor on the query-key products before the softmax.
    pub softmax_scale: f64,
}

impl MlaAttention {
    /// The queries of every head, plain then rotated dimensions.
    ///
    /// # Shapes
    /// - `hidden`: `[batch, seq, d_model]`; output: `[batch, heads, seq, qk_head_dim]`
    fn queries(&self, hidden: Tensor<3>, rope: &RopeAngles) -> Tensor<4> {
        let [batch, seq, _] = hidden.dims();
        let (nope, qk) = (
            self.qk_nope_head_dim,
            self.qk_nope_head_dim + self.qk_rope_head_dim,
        );
        let q = match (
            &self.q_proj,
            &self.q_a_proj,
            &self.q_a_layernorm,
            &self.q_b_proj,
        ) {
            (Some(q_proj), ..) => q_proj.forward(hidden),
            (None, Some(a), Some(norm), Some(b)) => b.forward(norm.forward(a.forward(hidden))),
            _ => panic!("MlaAttention has neither q_proj nor the q_a/q_b bottleneck"),
        };
        // [batch, seq, heads * qk] -> [batch, heads, seq, qk]
        let q = q.reshape([batch, seq, self.num_heads, qk]).swap_dims(1, 2);
        let q_nope = q.clone().slice_dim(3, 0..nope);
        let q_rope = rope.rotate(q.slice_dim(3, nope..qk));
        Tensor::cat(vec![q_nope, q_rope], 3)
    }

    /// The keys and values of every head.
    ///
    /// # Shapes
    /// - `hidden`: `[batch, seq, d_model]`
    /// - output: keys `[batch, heads, seq, qk_head_dim]`, values `[batch, heads, seq, v_head_dim]`
    fn keys_values(&self, hidden: Tensor<3>, rope: &RopeAngles) -> (Tensor<4>, Tensor<4>) {
        let [batch, seq, _] = hidden.dims();
        let (heads, rank) = (self.num_heads, self.kv_lora_rank);
        let (nope, rope_dim, v_dim) = (
            self.qk_nope_head_dim,
            self.qk_rope_head_dim,
            self.v_head_dim,
        );
        let compressed = self.kv_a_proj_with_mqa.forward(hidden); // [batch, seq, rank + rope]
        let latent = compressed.clone().slice_dim(2, 0..rank);
        // [batch, seq, rope] -> [batch, 1, seq, rope]: one rotary key shared by all heads.
        let k_rope = rope.rotate(
            compressed
                .slice_dim(2, rank..rank + rope_dim)
                .unsqueeze_dim::<4>(1),
        );
        // [batch, seq, heads * (nope + v)] -> [batch, heads, seq, nope + v]
        let kv = self
            .kv_b_proj
            .forward(self.kv_a_layernorm.forward(latent))
            .reshape([batch, seq, heads, nope + v_dim])
            .swap_dims(1, 2);
        let k_nope = kv.clone().slice_dim(3, 0..nope);
        let values = kv.slice_dim(3, nope..nope + v_dim);
        let keys = Tensor::cat(
            vec![k_nope, k_rope.expand([batch, heads, seq, rope_dim])],
            3,
        );
        (keys, values)
    }
}

impl SelfAttention for MlaAttention {
    /// Attends from the new positions to the cached and new ones; the cache holds the
    /// decompressed keys `[batch, heads, len, qk_head_dim]` and values
    /// `[batch, heads, len, v_head_dim]`.
    ///
    /// # Shapes
    /// - `hidden`: `[batch, seq, d_model]`
    /// - `rope`: interleaved angles of `qk_rope_head_dim` dimensions for the new positions
    /// - `mask`: `[batch, 1, seq, len]`, true where a key is hidden (causality is added here)
    /// - output: `[batch, seq, d_model]`
    fn forward(
        &self,
        hidden: Tensor<3>,
        rope: &RopeAngles,
        mask: Tensor<4, Bool>,
        cache: Option<&mut LayerCache>,
    ) -> Tensor<3> {
        let [batch, seq, _] = hidden.dims();
        let heads = self.num_heads;
        let queries = self.queries(hidden.clone(), rope);
        let (keys, values) = self.keys_values(hidden, rope);
        let (keys, values) = match cache {
            Some(cache) => cache.append(keys, values),
            None => (keys, values),
        };
        let len = keys.dims()[2];
        let context = attention(
            queries,
            keys,
            values,
            Some(mask.expand([batch, heads, seq, len])),
            None,
            AttentionModuleOptions {
                scale: Some(self.softmax_scale),
                is_causal: true,
                ..Default::default()
            },
        );
        // [batch, heads, seq, v] -> [batch, seq, heads * v]
        let context = context
            .swap_dims(1, 2)
            .reshape([batch, seq, heads * self.v_head_dim]);
        self.o_proj.forward(context)
    }

    /// Checkpoint names (transformers' `DeepseekV2Attention`): `{prefix}.q_proj` or
    /// `{prefix}.{q_a_proj, q_a_layernorm, q_b_proj}`, `{prefix}.kv_a_proj_with_mqa`,
    /// `{prefix}.kv_a_layernorm`, `{prefix}.kv_b_proj`, `{prefix}.o_proj`.
    fn load_weights(&mut self, weights: &mut WeightSource, prefix: &str) {
        if let Some(q_proj) = self.q_proj.as_mut() {
            weights.fill_linear(q_proj, &format!("{prefix}.q_proj"));
        }
        if let Some(q_a) = self.q_a_proj.as_mut() {
            weights.fill_linear(q_a, &format!("{prefix}.q_a_proj"));
        }
        if let Some(norm) = self.q_a_layernorm.as_mut() {
            weights.fill(&mut norm.gamma, &format!("{prefix}.q_a_layernorm.weight"));
        }
        if let Some(q_b) = self.q_b_proj.as_mut() {
            weights.fill_linear(q_b, &format!("{prefix}.q_b_proj"));
        }
        weights.fill_linear(
            &mut self.kv_a_proj_with_mqa,
            &format!("{prefix}.kv_a_proj_with_mqa"),
        );
        weights.fill(
            &mut self.kv_a_layernorm.gamma,
            &format!("{prefix}.kv_a_layernorm.weight"),
        );
        weights.fill_linear(&mut self.kv_b_proj, &format!("{prefix}.kv_b_proj"));
        weights.fill_linear(&mut self.o_proj, &format!("{prefix}.o_proj"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, Int};
    use burnlp_core::nn::llama::RotaryEmbedding;

    fn config(q_lora_rank: Option<usize>) -> MlaConfig {
        MlaConfig {
            hidden_size: 16,
            num_heads: 2,
            q_lora_rank,
            kv_lora_rank: 6,
            qk_nope_head_dim: 4,
            qk_rope_head_dim: 4,
            v_head_dim: 3,
            attention_bias: false,
            softmax_scale_factor: 1.0,
        }
    }

    #[test]
    fn shapes_and_causality() {
        let device = burnlp_core::device::cpu();
        let init = Initializer::Normal {
            mean: 0.0,
            std: 0.3,
        };
        for q_lora_rank in [None, Some(5)] {
            let mla = config(q_lora_rank).init(&init, &device);
            assert_eq!(mla.q_proj.is_some(), q_lora_rank.is_none());
            let rotary = RotaryEmbedding::new(4, 10000.0).with_interleaved(true);
            let positions = Tensor::<1, Int>::arange(0..5, &device).unsqueeze::<2>();
            let rope = rotary.angles(positions);
            let mask = Tensor::<4, Int>::zeros([1, 1, 5, 5], &device).equal_elem(1);
            let x = Tensor::<3>::random([1, 5, 16], Distribution::Normal(0.0, 1.0), &device);
            let out = mla.forward(x.clone(), &rope, mask.clone(), None);
            assert_eq!(out.dims(), [1, 5, 16]);
            // Changing the last position leaves the earlier outputs alone.
            let mut changed = x.clone();
            changed = changed.slice_assign(
                [0..1, 4..5, 0..16],
                Tensor::random([1, 1, 16], Distribution::Normal(0.0, 1.0), &device),
            );
            let again = mla.forward(changed, &rope, mask, None);
            let diff = |a: Tensor<3>, b: Tensor<3>| (a - b).abs().max().into_scalar::<f32>();
            assert_eq!(
                diff(
                    out.clone().slice_dim(1, 0..4),
                    again.clone().slice_dim(1, 0..4)
                ),
                0.0
            );
            assert!(diff(out.slice_dim(1, 4..5), again.slice_dim(1, 4..5)) > 1e-4);
        }
    }
}
