//! Span representations: endpoints, pooled inside and width embedding, concatenated.
//!
//! Lee et al., "End-to-end Neural Coreference Resolution", EMNLP 2017
//! (<https://arxiv.org/abs/1707.07045>): `g = [x_start; x_end; x̂; φ(width)]`, where `x̂` is an
//! attention-weighted sum of the span's tokens (AllenNLP's `SelfAttentiveSpanExtractor`) or,
//! here alternatively, their mean. Pooling gathers a window of `max_width` tokens per span and
//! masks the ones past its end, so the whole batch is a handful of tensor operations.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Int, Tensor};

use super::MASKED_SCORE;
use super::enumerate::Spans;

/// How the tokens inside a span are pooled.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum SpanPooling {
    /// Mean of the span's token vectors.
    Mean,
    /// Softmax over a learned per-token score within the span (head-finding attention).
    Attention,
}

/// Configuration of a [`SpanRepresentation`].
#[derive(Config, Debug)]
pub struct SpanRepresentationConfig {
    /// Size `d` of the token vectors.
    pub input_size: usize,
    /// Largest span width in tokens; spans given to the module must not be wider.
    pub max_width: usize,
    /// Pooling of the inside tokens, or `None` for endpoints only.
    #[config(default = "Some(SpanPooling::Mean)")]
    pub pooling: Option<SpanPooling>,
    /// Size of the learned width embedding, or `None` for no width feature.
    #[config(default = "None")]
    pub width_embedding_size: Option<usize>,
}

impl SpanRepresentationConfig {
    /// Size of a span vector: `2d`, plus `d` with pooling, plus the width embedding size.
    pub fn output_size(&self) -> usize {
        let pooled = if self.pooling.is_some() {
            self.input_size
        } else {
            0
        };
        2 * self.input_size + pooled + self.width_embedding_size.unwrap_or(0)
    }

    /// A freshly initialised module.
    pub fn init(&self, device: &Device) -> SpanRepresentation {
        assert!(self.max_width > 0, "max_width must be positive");
        SpanRepresentation {
            attention: (self.pooling == Some(SpanPooling::Attention))
                .then(|| LinearConfig::new(self.input_size, 1).init(device)),
            width_embedding: self
                .width_embedding_size
                .map(|size| EmbeddingConfig::new(self.max_width, size).init(device)),
            max_width: self.max_width,
            pooling: self.pooling,
        }
    }
}

/// Span vectors from token vectors; see the module docs.
#[derive(Module, Debug)]
pub struct SpanRepresentation {
    /// Per-token attention score `d -> 1`, with attention pooling.
    pub attention: Option<Linear>,
    /// Embedding of `width - 1`, `[max_width, width_embedding_size]`.
    pub width_embedding: Option<Embedding>,
    /// Largest span width in tokens.
    pub max_width: usize,
    /// Pooling of the inside tokens.
    #[module(skip)]
    pub pooling: Option<SpanPooling>,
}

impl SpanRepresentation {
    /// Represents every span as `[x_start; x_end; pooled; width]`; padding spans are zero
    /// vectors.
    ///
    /// Pooling gathers a `[batch, num_spans, max_width, d]` window tensor, as AllenNLP's span
    /// extractors do; size batches with that in mind.
    ///
    /// # Shapes
    /// - `hidden`: `[batch, seq, d]`
    /// - `spans`: `[batch, num_spans]` over `seq` tokens, with `spans.max_width() <= max_width`
    /// - output: `[batch, num_spans, output_size]` (see
    ///   [`SpanRepresentationConfig::output_size`])
    pub fn forward(&self, hidden: Tensor<3>, spans: &Spans) -> Tensor<3> {
        let [batch, seq, d] = hidden.dims();
        let [span_batch, n] = spans.dims();
        assert_eq!(
            [batch, seq],
            [span_batch, spans.seq_len()],
            "spans were made for a different [batch, seq] than hidden"
        );
        assert!(
            spans.max_width() <= self.max_width,
            "spans may be {} tokens wide, but the module was configured for {}",
            spans.max_width(),
            self.max_width
        );
        let starts = spans.starts();
        let ends = spans.ends();
        let mask = spans.mask();
        // Rows of `hidden` at `[batch, k]` token indices -> [batch, k, d].
        let rows = |index: Tensor<2, Int>| {
            let k = index.dims()[1];
            hidden
                .clone()
                .gather(1, index.unsqueeze_dim::<3>(2).expand([batch, k, d]))
        };
        let mut parts = vec![rows(starts.clone()), rows(ends.clone())];

        if let Some(pooling) = self.pooling {
            let w = spans.max_width();
            let device = hidden.device();
            // [batch, n, w] token positions of each span's window; `inside` marks its tokens.
            let offsets = Tensor::<1, Int>::arange(0..w as i64, &device)
                .reshape([1, 1, w])
                .expand([batch, n, w]);
            let positions = starts.clone().unsqueeze_dim::<3>(2).expand([batch, n, w]) + offsets;
            let inside = positions
                .clone()
                .lower_equal(ends.clone().unsqueeze_dim::<3>(2).expand([batch, n, w]))
                .bool_and(mask.clone().unsqueeze_dim::<3>(2).expand([batch, n, w]));
            // [batch, n * w]: positions past the sequence are clamped and then masked.
            let positions = positions.clamp_max(seq as i64 - 1).reshape([batch, n * w]);
            let weights = match pooling {
                SpanPooling::Mean => {
                    let inside = inside.float();
                    inside.clone() / inside.sum_dim(2).clamp_min(1.0)
                }
                SpanPooling::Attention => {
                    let scorer = self
                        .attention
                        .as_ref()
                        .expect("attention pooling has a scorer");
                    // [batch, seq]
                    let scores = scorer.forward(hidden.clone()).squeeze_dim::<2>(2);
                    let scores = scores.gather(1, positions.clone()).reshape([batch, n, w]);
                    let probs =
                        softmax(scores.mask_fill(inside.clone().bool_not(), MASKED_SCORE), 2);
                    probs * inside.float()
                }
            };
            // [batch, n, 1, w] @ [batch, n, w, d] windows -> [batch, n, d]
            let window = rows(positions).reshape([batch, n, w, d]);
            parts.push(
                weights
                    .unsqueeze_dim::<4>(2)
                    .matmul(window)
                    .squeeze_dim::<3>(2),
            );
        }
        if let Some(embedding) = &self.width_embedding {
            parts.push(embedding.forward(ends - starts));
        }
        Tensor::cat(parts, 2) * mask.float().unsqueeze_dim::<3>(2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::span::enumerate::{enumerate_spans, sentences_from_lengths, span_grid_index};

    /// Token `t` of document `b` is the vector `[b, t, t^2]`.
    fn hidden(device: &Device) -> Tensor<3> {
        let values: Vec<f32> = (0..2)
            .flat_map(|b| (0..5).flat_map(move |t| [b as f32, t as f32, (t * t) as f32]))
            .collect();
        Tensor::<1>::from_floats(values.as_slice(), device).reshape([2, 5, 3])
    }

    fn vector(out: &Tensor<3>, doc: usize, span: usize) -> Vec<f32> {
        let [_, _, size] = out.dims();
        out.clone()
            .slice([doc..doc + 1, span..span + 1, 0..size])
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    }

    #[test]
    fn mean_pooling_endpoints_and_width_embedding() {
        let device = crate::device::cpu();
        let config = SpanRepresentationConfig::new(3, 3).with_width_embedding_size(Some(2));
        assert_eq!(config.output_size(), 11);
        let module = config.init(&device);
        let (ids, mask) = sentences_from_lengths(&[vec![5], vec![2]], 5, &device).unwrap();
        let spans = enumerate_spans(ids, mask, 3);
        let out = module.forward(hidden(&device), &spans);
        assert_eq!(out.dims(), [2, 15, 11]);

        let table = module
            .width_embedding
            .as_ref()
            .unwrap()
            .weight
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        // Span (1, 3) of document 0: tokens 1, 2, 3.
        let got = vector(&out, 0, span_grid_index(1, 3, 3).unwrap());
        let mut expected = vec![0.0, 1.0, 1.0, 0.0, 3.0, 9.0, 0.0, 2.0, 14.0 / 3.0];
        expected.extend(&table[4..6]);
        for (g, e) in got.iter().zip(&expected) {
            assert!((g - e).abs() < 1e-5, "{got:?} vs {expected:?}");
        }
        // Width 1: pooled equals the token.
        let got = vector(&out, 1, span_grid_index(1, 1, 3).unwrap());
        assert_eq!(&got[..9], &[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
        // Spans over padding are all zeros.
        let got = vector(&out, 1, span_grid_index(1, 2, 3).unwrap());
        assert!(got.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn attention_pooling_is_a_convex_combination_inside_the_span() {
        let device = crate::device::cpu();
        device.seed(1);
        let config = SpanRepresentationConfig::new(3, 2).with_pooling(Some(SpanPooling::Attention));
        let module = config.init(&device);
        // Explicit spans, including a padding slot in document 1.
        let spans =
            Spans::from_pairs(&[vec![(0, 1), (4, 4)], vec![(2, 3)]], 5, 2, &device).unwrap();
        let out = module.forward(hidden(&device), &spans);
        assert_eq!(out.dims(), [2, 2, 9]);
        let pooled = |doc, span| vector(&out, doc, span)[6..9].to_vec();
        // Width 1: exactly the token.
        assert_eq!(pooled(0, 1), vec![0.0, 4.0, 16.0]);
        // Width 2 over tokens (2, 3) of document 1: second coordinate p*2 + (1-p)*3 with the
        // third consistent with the same p.
        let p = pooled(1, 0);
        let alpha = 3.0 - p[1];
        assert!(alpha > 0.0 && alpha < 1.0, "{p:?}");
        assert!(
            (p[2] - (alpha * 4.0 + (1.0 - alpha) * 9.0)).abs() < 1e-4,
            "{p:?}"
        );
        assert!(vector(&out, 1, 1).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn endpoints_only_and_fully_padded_batch_are_finite() {
        let device = crate::device::cpu();
        for pooling in [None, Some(SpanPooling::Mean), Some(SpanPooling::Attention)] {
            let config = SpanRepresentationConfig::new(3, 2).with_pooling(pooling);
            let module = config.init(&device);
            let (ids, mask) = sentences_from_lengths(&[vec![], vec![]], 5, &device).unwrap();
            let spans = enumerate_spans(ids, mask, 2);
            let out = module.forward(hidden(&device), &spans);
            assert_eq!(out.dims(), [2, 10, config.output_size()]);
            assert_eq!(out.abs().sum().into_scalar::<f32>(), 0.0);
        }
    }
}
