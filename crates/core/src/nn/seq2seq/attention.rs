//! Multi-head attention whose keys and values can be cached for incremental decoding.
//!
//! Vaswani et al., "Attention Is All You Need", NeurIPS 2017, §3.2
//! (<https://arxiv.org/abs/1706.03762>), laid out as fairseq's `MultiheadAttention`
//! (`q_proj`, `k_proj`, `v_proj`, `out_proj`, dropout on the attention probabilities).
//! Keys and values are projected separately from the query ([`MultiheadAttention::key_value`])
//! so that a decoder can keep them: self-attention appends one step at a time, and
//! encoder-decoder attention projects the encoder output once per source.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear};
use burn::tensor::activation::softmax;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Device, Int, Tensor};

use super::init::xavier_linear;

/// Configuration of a [`MultiheadAttention`].
#[derive(Config, Debug)]
pub struct MultiheadAttentionConfig {
    /// Model size; queries, keys, values and output all have this size.
    pub d_model: usize,
    /// Number of heads; must divide `d_model`.
    pub num_heads: usize,
    /// Dropout on the attention probabilities.
    #[config(default = 0.0)]
    pub dropout: f64,
}

impl MultiheadAttentionConfig {
    /// A fresh layer initialised as fairseq does: Xavier-uniform projections (gain `1/√2` for
    /// the query, key and value projections, 1 for the output projection) and zero biases.
    pub fn init(&self, device: &Device) -> MultiheadAttention {
        assert!(
            self.num_heads > 0 && self.d_model.is_multiple_of(self.num_heads),
            "d_model {} must be a multiple of num_heads {}",
            self.d_model,
            self.num_heads
        );
        let projection = |gain: f64| xavier_linear(self.d_model, self.d_model, gain, device);
        MultiheadAttention {
            q_proj: projection(std::f64::consts::FRAC_1_SQRT_2),
            k_proj: projection(std::f64::consts::FRAC_1_SQRT_2),
            v_proj: projection(std::f64::consts::FRAC_1_SQRT_2),
            out_proj: projection(1.0),
            dropout: DropoutConfig::new(self.dropout).init(),
            num_heads: self.num_heads,
        }
    }
}

/// Keys and values projected and split into heads.
#[derive(Debug, Clone)]
pub struct KeyValue {
    /// Keys `[batch, heads, len, d_head]`.
    pub key: Tensor<4>,
    /// Values `[batch, heads, len, d_head]`.
    pub value: Tensor<4>,
}

impl KeyValue {
    /// Number of key positions.
    pub fn len(&self) -> usize {
        self.key.dims()[2]
    }

    /// True when there are no key positions.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// These keys and values followed by `next`'s, along the position axis.
    pub fn append(self, next: KeyValue) -> KeyValue {
        KeyValue {
            key: Tensor::cat(vec![self.key, next.key], 2),
            value: Tensor::cat(vec![self.value, next.value], 2),
        }
    }

    /// The rows `order` of the batch, in that order (rows may repeat).
    pub fn select(self, order: Tensor<1, Int>) -> KeyValue {
        KeyValue {
            key: self.key.select(0, order.clone()),
            value: self.value.select(0, order),
        }
    }
}

/// Multi-head scaled dot-product attention.
#[derive(Module, Debug)]
pub struct MultiheadAttention {
    /// Query projection.
    pub q_proj: Linear,
    /// Key projection.
    pub k_proj: Linear,
    /// Value projection.
    pub v_proj: Linear,
    /// Output projection.
    pub out_proj: Linear,
    /// Dropout on the attention probabilities.
    pub dropout: Dropout,
    /// Number of heads.
    pub num_heads: usize,
}

impl MultiheadAttention {
    /// Projects `source` to keys and values.
    ///
    /// # Shapes
    /// - `source`: `[batch, len, d_model]`
    /// - output: `[batch, heads, len, d_head]` each
    pub fn key_value(&self, source: Tensor<3>) -> KeyValue {
        KeyValue {
            key: self.split_heads(self.k_proj.forward(source.clone())),
            value: self.split_heads(self.v_proj.forward(source)),
        }
    }

    /// Attends from `query` to `memory`.
    ///
    /// With `causal`, query `i` of `q_len` sees only the first `k_len - q_len + i + 1` keys
    /// (the queries are the last `q_len` positions of the keys, as in incremental decoding).
    ///
    /// # Shapes
    /// - `query`: `[batch, q_len, d_model]`
    /// - `memory`: `[batch, heads, k_len, d_head]` keys and values
    /// - `key_padding`: `[batch, k_len]`, true for keys to ignore
    /// - output: `[batch, q_len, d_model]`
    pub fn attend(
        &self,
        query: Tensor<3>,
        memory: KeyValue,
        key_padding: Option<Tensor<2, Bool>>,
        causal: bool,
    ) -> Tensor<3> {
        let [batch, q_len, d_model] = query.dims();
        let heads = self.num_heads;
        let k_len = memory.len();
        let device = query.device();
        let q = self.split_heads(self.q_proj.forward(query));
        let padding = key_padding.map(|padding| {
            padding
                .reshape([batch, 1, 1, k_len])
                .expand([batch, heads, q_len, k_len])
        });
        let dropout_active =
            self.dropout.prob > 0.0 && self.dropout.training.is_enabled() && device.is_autodiff();
        let context = if dropout_active {
            let d_head = d_model / heads;
            // [batch, heads, q_len, k_len]
            let mut scores = q.matmul(memory.key.swap_dims(2, 3)) / (d_head as f64).sqrt();
            if let Some(padding) = padding {
                scores = scores.mask_fill(padding, f32::MIN);
            }
            if causal {
                let future =
                    Tensor::<2, Bool>::tril_mask([q_len, k_len], (k_len - q_len) as i64, &device)
                        .unsqueeze::<4>()
                        .expand([batch, heads, q_len, k_len]);
                scores = scores.mask_fill(future, f32::MIN);
            }
            self.dropout
                .forward(softmax(scores, 3))
                .matmul(memory.value)
        } else {
            attention(
                q,
                memory.key,
                memory.value,
                padding,
                None,
                AttentionModuleOptions {
                    is_causal: causal,
                    ..AttentionModuleOptions::default()
                },
            )
        };
        // [batch, heads, q_len, d_head] -> [batch, q_len, d_model]
        self.out_proj
            .forward(context.swap_dims(1, 2).reshape([batch, q_len, d_model]))
    }

    /// `[batch, len, d_model]` -> `[batch, heads, len, d_head]`.
    fn split_heads(&self, x: Tensor<3>) -> Tensor<4> {
        let [batch, len, d_model] = x.dims();
        x.reshape([batch, len, self.num_heads, d_model / self.num_heads])
            .swap_dims(1, 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causal_attention_over_a_prefix_matches_step_by_step() {
        let device = crate::device::cpu();
        device.seed(11);
        let layer = MultiheadAttentionConfig::new(8, 2).init(&device);
        let x = Tensor::<3>::random([2, 5, 8], burn::tensor::Distribution::Default, &device);
        let full = layer.attend(x.clone(), layer.key_value(x.clone()), None, true);
        // The last two positions attending to all five keys, causally aligned to the end.
        let tail = x.clone().slice([0..2, 3..5]);
        let partial = layer.attend(tail, layer.key_value(x), None, true);
        let diff = (full.slice([0..2, 3..5]) - partial)
            .abs()
            .max()
            .into_scalar::<f32>();
        assert!(diff < 1e-6, "difference {diff}");
    }

    #[test]
    fn explicit_training_path_matches_fused_attention() {
        // A dropout probability this small keeps every weight, so the explicit path (taken on
        // an autodiff device in training mode) must agree with the fused kernel.
        let device = crate::device::cpu().autodiff();
        device.seed(13);
        let layer = MultiheadAttentionConfig::new(8, 2)
            .with_dropout(1e-9)
            .init(&device);
        let plain = crate::device::cpu();
        let x = Tensor::<3>::random([2, 4, 8], burn::tensor::Distribution::Default, &plain);
        let padding = Tensor::<2, Bool>::from_bool(
            [[false, false, false, true], [false, false, false, false]],
            &plain,
        );
        let fused_layer = layer.valid();
        let fused = fused_layer.attend(
            x.clone(),
            fused_layer.key_value(x.clone()),
            Some(padding.clone()),
            true,
        );
        let x = Tensor::<3>::from_data(x.to_data(), &device);
        let padding = Tensor::<2, Bool>::from_data(padding.to_data(), &device);
        let explicit = layer.attend(x.clone(), layer.key_value(x), Some(padding), true);
        let explicit = Tensor::<3>::from_data(explicit.to_data(), &plain);
        let diff = (fused - explicit).abs().max().into_scalar::<f32>();
        assert!(diff < 1e-6, "difference {diff}");
    }

    #[test]
    fn padded_keys_are_ignored() {
        let device = crate::device::cpu();
        device.seed(12);
        let layer = MultiheadAttentionConfig::new(8, 2).init(&device);
        let query = Tensor::<3>::random([1, 2, 8], burn::tensor::Distribution::Default, &device);
        let keys = Tensor::<3>::random([1, 4, 8], burn::tensor::Distribution::Default, &device);
        let padding = Tensor::<2, Bool>::from_bool([[false, false, true, true]], &device);
        let masked = layer.attend(
            query.clone(),
            layer.key_value(keys.clone()),
            Some(padding),
            false,
        );
        let short = layer.attend(
            query,
            layer.key_value(keys.slice([0..1, 0..2])),
            None,
            false,
        );
        let diff = (masked - short).abs().max().into_scalar::<f32>();
        assert!(diff < 1e-6, "difference {diff}");
    }
}
