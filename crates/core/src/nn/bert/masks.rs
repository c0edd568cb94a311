//! What [`Bert::forward_masked`](super::Bert::forward_masked) applies besides the padding mask:
//! an attention mask restricting which keys each query sees (graph-restricted or local-window
//! attention), head and feed-forward-neuron masks multiplying unit outputs (Michel et al. 2019;
//! `transformers`' `head_mask`), and a width multiplier keeping the first units of every layer
//! (Dynamic Sparsification, DynaBERT-style).

use burn::tensor::{Bool, Device, Tensor, TensorData};

/// Which keys each query may attend to, on top of the padding mask.
///
/// Stored with a leading batch dimension: `[1, seq, seq]` is shared by every example of a
/// batch, `[batch, seq, seq]` is one mask per example. Row `i` is query position `i`, column `j`
/// key position `j`.
#[derive(Debug, Clone)]
pub enum AttentionMask {
    /// `true` where query `i` may attend to key `j`.
    Allowed(Tensor<3, Bool>),
    /// Added to the attention scores before the softmax: `0` keeps a pair, `-inf` (or a large
    /// negative number, as `transformers`' extended masks use) removes it; other values bias.
    Additive(Tensor<3>),
}

impl AttentionMask {
    /// One boolean `[seq, seq]` mask for every example (`true` = may attend).
    pub fn allowed(mask: Tensor<2, Bool>) -> Self {
        Self::Allowed(mask.unsqueeze())
    }

    /// One boolean mask per example, `[batch, seq, seq]` (`true` = may attend).
    pub fn allowed_batched(mask: Tensor<3, Bool>) -> Self {
        Self::Allowed(mask)
    }

    /// One additive `[seq, seq]` mask for every example.
    pub fn additive(bias: Tensor<2>) -> Self {
        Self::Additive(bias.unsqueeze())
    }

    /// One additive mask per example, `[batch, seq, seq]`.
    pub fn additive_batched(bias: Tensor<3>) -> Self {
        Self::Additive(bias)
    }

    /// Local-window attention: query `i` sees keys `j` with `|i - j| <= radius`.
    pub fn local_window(seq: usize, radius: usize, device: &Device) -> Self {
        let allowed = (0..seq * seq)
            .map(|k| (k / seq).abs_diff(k % seq) <= radius)
            .collect::<Vec<_>>();
        Self::allowed(Tensor::from_bool(
            TensorData::new(allowed, [seq, seq]),
            device,
        ))
    }

    /// Graph-restricted attention: example `b` lets query `i` see key `j` for every pair
    /// `(i, j)` in `pairs[b]` (add `(i, i)` for self-loops); every other pair is removed.
    ///
    /// # Panics
    /// When a position is not below `seq`.
    pub fn from_pairs(pairs: &[Vec<(usize, usize)>], seq: usize, device: &Device) -> Self {
        let mut allowed = vec![false; pairs.len() * seq * seq];
        for (b, edges) in pairs.iter().enumerate() {
            for &(i, j) in edges {
                assert!(
                    i < seq && j < seq,
                    "pair ({i}, {j}) outside {seq} positions"
                );
                allowed[(b * seq + i) * seq + j] = true;
            }
        }
        Self::Allowed(Tensor::from_bool(
            TensorData::new(allowed, [pairs.len(), seq, seq]),
            device,
        ))
    }

    /// The `[batch or 1, seq, seq]` shape.
    pub fn dims(&self) -> [usize; 3] {
        match self {
            Self::Allowed(mask) => mask.dims(),
            Self::Additive(bias) => bias.dims(),
        }
    }
}

/// How much of every layer a forward pass keeps: the first `⌈heads · H_l⌉` attention heads and
/// `⌈neurons · F_l⌉` feed-forward neurons of layer `l` (after reordering by importance these
/// are the most important ones). Each multiplier is clamped to `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Width {
    /// Multiplier of the attention heads.
    pub heads: f64,
    /// Multiplier of the feed-forward neurons.
    pub neurons: f64,
}

impl Width {
    /// The same multiplier for heads and neurons.
    pub fn uniform(m: f64) -> Self {
        Self {
            heads: m,
            neurons: m,
        }
    }

    /// Heads scaled by `m`, every feed-forward neuron kept.
    pub fn heads_only(m: f64) -> Self {
        Self {
            heads: m,
            neurons: 1.0,
        }
    }

    /// Feed-forward neurons scaled by `m`, every head kept.
    pub fn neurons_only(m: f64) -> Self {
        Self {
            heads: 1.0,
            neurons: m,
        }
    }

    /// `⌈m · n⌉` of `n` heads (a tolerance keeps `0.7 · 10` at 7).
    pub fn keep_heads(&self, n: usize) -> usize {
        keep(self.heads, n)
    }

    /// `⌈m · n⌉` of `n` neurons.
    pub fn keep_neurons(&self, n: usize) -> usize {
        keep(self.neurons, n)
    }
}

fn keep(m: f64, n: usize) -> usize {
    let m = m.clamp(0.0, 1.0);
    ((m * n as f64 - 1e-9).ceil().max(0.0) as usize).min(n)
}

/// Everything [`Bert::forward_masked`](super::Bert::forward_masked) applies besides the
/// padding mask. The default applies nothing, so `forward_masked(input, &BertMasks::default())`
/// is exactly `forward(input)`.
///
/// Unit masks are `[layers, units]`: column `j` of row `l` multiplies the `j`-th head (or
/// neuron) layer `l` has; columns past a pruned layer's own count are ignored. They may be
/// 0/1 masks, continuous gates (e.g. [`HardConcreteGates`](crate::nn::gates::HardConcreteGates))
/// or ones that require a gradient (importance scores, [`crate::nn::prune`]).
#[derive(Debug, Clone, Default)]
pub struct BertMasks {
    /// Restricts which keys each query may attend to.
    pub attention: Option<AttentionMask>,
    /// Multiplies each head's output (its attention-weighted values, before the output
    /// projection), `[layers, heads]`.
    pub heads: Option<Tensor<2>>,
    /// Multiplies each feed-forward neuron's activation, `[layers, intermediate]`.
    pub neurons: Option<Tensor<2>>,
    /// Keeps only the first units of every layer by slicing the weights (differentiable, for
    /// training all widths at once; [`Bert::slice_width`](super::Bert::slice_width) makes a
    /// smaller model for inference).
    pub width: Option<Width>,
}

impl BertMasks {
    /// Sets the attention mask.
    pub fn with_attention(mut self, mask: AttentionMask) -> Self {
        self.attention = Some(mask);
        self
    }

    /// Sets the head mask `[layers, heads]`.
    pub fn with_heads(mut self, mask: Tensor<2>) -> Self {
        self.heads = Some(mask);
        self
    }

    /// Sets the feed-forward neuron mask `[layers, intermediate]`.
    pub fn with_neurons(mut self, mask: Tensor<2>) -> Self {
        self.neurons = Some(mask);
        self
    }

    /// Sets the width multiplier.
    pub fn with_width(mut self, width: Width) -> Self {
        self.width = Some(width);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_round_up_and_clamp() {
        assert_eq!(Width::uniform(0.75).keep_heads(12), 9);
        assert_eq!(Width::uniform(0.25).keep_neurons(1536), 384);
        assert_eq!(Width::uniform(0.7).keep_heads(10), 7);
        assert_eq!(Width::uniform(0.3).keep_heads(4), 2);
        assert_eq!(Width::uniform(0.0).keep_heads(4), 0);
        assert_eq!(Width::uniform(2.0).keep_heads(4), 4);
        assert_eq!(Width::heads_only(0.5).keep_neurons(8), 8);
    }

    #[test]
    fn local_window_allows_the_band() {
        let device = crate::device::cpu();
        let AttentionMask::Allowed(mask) = AttentionMask::local_window(4, 1, &device) else {
            unreachable!()
        };
        let values = mask.into_data().try_to_vec::<bool>().unwrap();
        #[rustfmt::skip]
        let expected = vec![
            true, true, false, false,
            true, true, true, false,
            false, true, true, true,
            false, false, true, true,
        ];
        assert_eq!(values, expected);
    }
}
