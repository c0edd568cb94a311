//! The ESD model (Wang et al., "An Enhanced Span-based Decomposition Method for Few-Shot
//! Sequence Labeling", NAACL 2022, <https://arxiv.org/abs/2109.13023>; reference code
//! Wangpeiyi9979/ESD `model/ESD.py`), and the token-level prototypical-network baseline the
//! paper compares with (Snell et al. 2017 applied to tokens, as in Few-NERD's ProtoBERT).
//!
//! ESD: span initialisation `MLP([h_start; h_end])`, intra-sentence span attention (ISA),
//! cross-span attention between the support spans and each query sentence (CSA), instance
//! span attention building query-aware class prototypes (INSA) including three O sub-class
//! prototypes merged by prototypical span attention (PSA), and logits `-‖proto − q‖²`.
//! Every span-pair interaction is a batched tensor op; the only loop is over query sentences.

use burnlp_core::burn;
use burnlp_core::burn::config::Config;
use burnlp_core::burn::module::Module;
use burnlp_core::burn::nn::{
    Dropout, DropoutConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig,
};
use burnlp_core::burn::tensor::activation::{gelu, softmax};
use burnlp_core::burn::tensor::loss::cross_entropy_with_logits;
use burnlp_core::burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use burnlp_core::nn::bert::{Bert, BertConfig, BertInput};
use burnlp_core::nn::scores::tanh_scores;

use crate::encode::EncodedEpisode;
use crate::spans::O_CLASSES;

/// Finite score for masked attention entries (no NaN for fully masked rows).
const MASKED: f32 = -1e9;

/// Configuration of a [`SpanAttention`] block.
#[derive(Config, Debug)]
pub struct SpanAttentionConfig {
    /// Span vector size D.
    pub d_model: usize,
    /// Dropout in the feed-forward part (the attention weights are not dropped: the
    /// reference's `nn.MultiheadAttention(embed_dim, num_heads)` has dropout 0).
    #[config(default = 0.1)]
    pub dropout: f64,
}

/// Single-head attention + residual + LayerNorm + feed-forward (D → 4D → D, GELU) + residual +
/// LayerNorm (`MultiHeadedAttentionWithFNN` with one head).
#[derive(Module, Debug)]
pub struct SpanAttention {
    query: Linear,
    key: Linear,
    value: Linear,
    output: Linear,
    norm0: LayerNorm,
    ffn_in: Linear,
    ffn_out: Linear,
    norm1: LayerNorm,
    dropout: Dropout,
}

impl SpanAttentionConfig {
    /// Builds the block.
    pub fn init(&self, device: &Device) -> SpanAttention {
        let d = self.d_model;
        SpanAttention {
            query: LinearConfig::new(d, d).init(device),
            key: LinearConfig::new(d, d).init(device),
            value: LinearConfig::new(d, d).init(device),
            output: LinearConfig::new(d, d).init(device),
            norm0: LayerNormConfig::new(d).init(device),
            ffn_in: LinearConfig::new(d, 4 * d).init(device),
            ffn_out: LinearConfig::new(4 * d, d).init(device),
            norm1: LayerNormConfig::new(d).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

impl SpanAttention {
    /// `queries` attend to `keys`; masked keys (false) get no weight.
    ///
    /// # Shapes
    /// - `queries`: `[batch, n, d]`, `keys`: `[batch, m, d]`, `key_mask`: `[batch, m]`
    /// - output: `[batch, n, d]`
    pub fn forward(
        &self,
        queries: Tensor<3>,
        keys: Tensor<3>,
        key_mask: Option<Tensor<2, Bool>>,
    ) -> Tensor<3> {
        let v = self.value.forward(keys.clone());
        let weights = self.attention_weights(queries.clone(), keys, key_mask);
        let attended = self.output.forward(weights.matmul(v));
        let x = self.norm0.forward(attended + queries);
        let ffn = self
            .ffn_out
            .forward(self.dropout.forward(gelu(self.ffn_in.forward(x.clone()))));
        self.norm1.forward(x + self.dropout.forward(ffn))
    }

    /// The attention weights of `queries` over `keys` as [`Self::forward`] uses them: a softmax
    /// per query row over the unmasked keys, without dropout (rows sum to 1 in training too).
    ///
    /// # Shapes
    /// - `queries`: `[batch, n, d]`, `keys`: `[batch, m, d]`, `key_mask`: `[batch, m]`
    /// - output: `[batch, n, m]`
    pub fn attention_weights(
        &self,
        queries: Tensor<3>,
        keys: Tensor<3>,
        key_mask: Option<Tensor<2, Bool>>,
    ) -> Tensor<3> {
        let [batch, n, d] = queries.dims();
        let m = keys.dims()[1];
        let q = self.query.forward(queries);
        let k = self.key.forward(keys);
        let mut scores = q.matmul(k.swap_dims(1, 2)) / (d as f64).sqrt(); // [batch, n, m]
        if let Some(mask) = key_mask {
            let hidden = mask.bool_not().unsqueeze_dim::<3>(1).expand([batch, n, m]);
            scores = scores.mask_fill(hidden, MASKED);
        }
        softmax(scores, 2)
    }
}

/// Configuration of [`Esd`] (saved as `model.json` in a run directory).
#[derive(Config, Debug)]
pub struct EsdConfig {
    /// The encoder.
    pub encoder: BertConfig,
    /// Span vector size D.
    #[config(default = 100)]
    pub hidden: usize,
    /// Maximum span length in words (L).
    #[config(default = 8)]
    pub max_span_words: usize,
    /// Dropout on the encoder output.
    #[config(default = 0.5)]
    pub encoder_dropout: f64,
    /// Dropout inside the span MLP and the attention blocks.
    #[config(default = 0.1)]
    pub dropout: f64,
    /// Maximum subword length of a sentence (longer ones are truncated at word boundaries).
    #[config(default = 128)]
    pub max_length: usize,
    /// Architecture: ESD or the token-level prototypical baseline.
    #[config(default = "Architecture::Esd")]
    pub architecture: Architecture,
    /// Reproduce the reference code's off-by-one span mask in ISA (one padding slot per
    /// sentence is attendable); the correct mask is the default.
    #[config(default = false)]
    pub reference_mask: bool,
}

/// Which model a run trains.
#[derive(Config, Debug, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Architecture {
    /// ESD (span matching).
    Esd,
    /// Token-level prototypical network (ProtoBERT).
    Proto,
}

/// The ESD model.
#[derive(Module, Debug)]
pub struct Esd {
    /// The encoder.
    pub encoder: Bert,
    encoder_dropout: Dropout,
    fusion_in: Linear,
    fusion_dropout: Dropout,
    fusion_out: Linear,
    isa: SpanAttention,
    csa: SpanAttention,
    #[module(skip)]
    reference_mask: bool,
}

impl EsdConfig {
    /// ESD with a randomly initialised encoder.
    pub fn init(&self, device: &Device) -> Esd {
        self.init_with(self.encoder.init(device), device)
    }

    /// ESD on a given (pretrained) encoder.
    pub fn init_with(&self, encoder: Bert, device: &Device) -> Esd {
        let h = encoder.hidden_size();
        let attention = SpanAttentionConfig::new(self.hidden).with_dropout(self.dropout);
        Esd {
            encoder,
            encoder_dropout: DropoutConfig::new(self.encoder_dropout).init(),
            fusion_in: LinearConfig::new(2 * h, h).init(device),
            fusion_dropout: DropoutConfig::new(self.dropout).init(),
            fusion_out: LinearConfig::new(h, self.hidden).init(device),
            isa: attention.init(device),
            csa: attention.init(device),
            reference_mask: self.reference_mask,
        }
    }
}

fn int1(values: Vec<i64>, device: &Device) -> Tensor<1, Int> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), device)
}

/// `fast_att`: per query row, softmax over candidates of `Σ_d tanh(q ⊙ v)`, weighted sum.
///
/// # Shapes
/// - `q`: `[n, d]`, `values`: `[n, m, d]`
/// - output: `[n, d]`
fn fast_att(q: Tensor<2>, values: Tensor<3>) -> Tensor<2> {
    let [n, m, d] = values.dims();
    let scores = tanh_scores(q.unsqueeze_dim::<3>(1), values.clone()).reshape([n, m, 1]);
    (values * softmax(scores, 1)).sum_dim(1).reshape([n, d])
}

impl Esd {
    /// The same model with the reference code's off-by-one ISA mask switched on or off.
    pub fn with_reference_mask(mut self, reference_mask: bool) -> Self {
        self.reference_mask = reference_mask;
        self
    }

    /// Span vectors after initialisation and ISA for every sentence (support first).
    ///
    /// # Shapes
    /// - output: `[sentences, max_spans, D]` and the span mask `[sentences, max_spans]`
    fn span_vectors(&self, episode: &EncodedEpisode) -> (Tensor<3>, Tensor<2, Bool>, usize) {
        let device = self.fusion_in.weight.device();
        let input = BertInput::from_rows(&episode.rows(), episode.pad_id, &device);
        let hidden = self
            .encoder_dropout
            .forward(self.encoder.forward(input).hidden);
        let [n, seq, h] = hidden.dims();
        let flat = hidden.reshape([n * seq, h]);
        let sentences: Vec<_> = episode.support.iter().chain(&episode.query).collect();
        let max_spans = sentences
            .iter()
            .map(|s| s.spans.len())
            .max()
            .unwrap_or(0)
            .max(1);
        let mut starts = vec![0i64; n * max_spans];
        let mut ends = vec![0i64; n * max_spans];
        let mut mask = vec![false; n * max_spans];
        for (i, s) in sentences.iter().enumerate() {
            for (j, &(a, b)) in s.subword_spans.iter().enumerate() {
                starts[i * max_spans + j] = (i * seq + a) as i64;
                ends[i * max_spans + j] = (i * seq + b) as i64;
                mask[i * max_spans + j] = true;
            }
        }
        let start_rep = flat.clone().select(0, int1(starts, &device));
        let end_rep = flat.select(0, int1(ends, &device));
        let fused = Tensor::cat(vec![start_rep, end_rep], 1); // [n * max_spans, 2h]
        let spans = self.fusion_out.forward(
            self.fusion_dropout
                .forward(gelu(self.fusion_in.forward(fused))),
        );
        let d = spans.dims()[1];
        let mut isa_mask = mask.clone();
        if self.reference_mask {
            // The reference `sequence_mask` (idx > len) leaves one padding slot attendable.
            for (i, s) in sentences.iter().enumerate() {
                if s.spans.len() < max_spans {
                    isa_mask[i * max_spans + s.spans.len()] = true;
                }
            }
        }
        let mask = Tensor::<2, Bool>::from_data(TensorData::new(mask, [n, max_spans]), &device);
        let isa_mask =
            Tensor::<2, Bool>::from_data(TensorData::new(isa_mask, [n, max_spans]), &device);
        // Padding slots are zero vectors, as in the reference.
        let spans = spans.reshape([n, max_spans, d]) * mask.clone().float().unsqueeze_dim::<3>(2);
        let spans = self.isa.forward(spans.clone(), spans, Some(isa_mask));
        (spans, mask, max_spans)
    }

    /// Logits over `[O, type 1, …, type N]` for every query span, query sentences in order.
    ///
    /// # Shapes
    /// - output: `[query spans, N + 1]`
    pub fn forward(&self, episode: &EncodedEpisode) -> Tensor<2> {
        let device = self.fusion_in.weight.device();
        let (spans, mask, max_spans) = self.span_vectors(episode);
        let [n, _, d] = spans.dims();
        let n_support = episode.support.len();
        let n_query = n - n_support;
        let mut support_idx = Vec::new();
        let mut support_labels = Vec::new();
        for (i, s) in episode.support.iter().enumerate() {
            for (j, &label) in s.span_labels.iter().enumerate() {
                support_idx.push((i * max_spans + j) as i64);
                support_labels.push(label as usize);
            }
        }
        let n_spans = support_idx.len();
        let support = spans
            .clone()
            .reshape([n * max_spans, d])
            .select(0, int1(support_idx, &device)); // [S_s, d]
        let query = spans.narrow(0, n_support, n_query); // [n_q, max_spans, d]
        let query_mask = mask.narrow(0, n_support, n_query);
        let support = support.unsqueeze_dim::<3>(0).expand([n_query, n_spans, d]);
        let support_enh = self
            .csa
            .forward(support.clone(), query.clone(), Some(query_mask));
        let query_enh = self.csa.forward(query, support, None);

        let classes = O_CLASSES + episode.n_way;
        let mut hide = vec![true; classes * n_spans];
        let mut present = vec![0f32; classes];
        for (j, &label) in support_labels.iter().enumerate() {
            hide[label * n_spans + j] = false;
            present[label] = 1.0;
        }
        let hide = Tensor::<2, Bool>::from_data(TensorData::new(hide, [classes, n_spans]), &device);
        let present = Tensor::<1>::from_data(TensorData::new(present, [classes]), &device)
            .reshape([classes, 1, 1]);

        // INSA scores of every query span against every support span, all sentences at once.
        let insa = tanh_scores(query_enh.clone(), support_enh.clone()); // [n_q, max_spans, S_s]
        let mut logits = Vec::with_capacity(n_query);
        for (i, sentence) in episode.query.iter().enumerate() {
            let len = sentence.spans.len();
            if len == 0 {
                continue;
            }
            let q = query_enh
                .clone()
                .slice([i..i + 1, 0..len])
                .reshape([len, d]);
            let s = support_enh.clone().narrow(0, i, 1).reshape([n_spans, d]);
            // INSA: [len, S_s] scores, one masked softmax per class.
            let scores = insa
                .clone()
                .slice([i..i + 1, 0..len])
                .reshape([1, len, n_spans])
                .expand([classes, len, n_spans])
                .mask_fill(
                    hide.clone()
                        .unsqueeze_dim::<3>(1)
                        .expand([classes, len, n_spans]),
                    MASKED,
                );
            let weights = softmax(scores, 2) * present.clone();
            let protos = weights
                .matmul(s.unsqueeze_dim::<3>(0).expand([classes, n_spans, d]))
                .swap_dims(0, 1); // [len, classes, d]
            // PSA over the three O prototypes.
            let o_proto = fast_att(q.clone(), protos.clone().slice([0..len, 0..O_CLASSES]));
            let all = Tensor::cat(
                vec![
                    o_proto.unsqueeze_dim::<3>(1),
                    protos.slice([0..len, O_CLASSES..classes]),
                ],
                1,
            ); // [len, N + 1, d]
            let distance = (all - q.unsqueeze_dim::<3>(1)).powi_scalar(2).sum_dim(2);
            logits.push(-distance.reshape([len, episode.n_way + 1]));
        }
        Tensor::cat(logits, 0)
    }

    /// Mean cross-entropy over the query spans.
    pub fn loss(&self, episode: &EncodedEpisode) -> Tensor<1> {
        let labels = episode
            .query
            .iter()
            .flat_map(|s| s.span_labels.iter().copied());
        label_cross_entropy(self.forward(episode), labels.collect())
    }
}

/// Token-level prototypical network: class prototypes are means of support token vectors
/// (first subword of each word) per class (O and the N types); query tokens are scored by
/// negative squared Euclidean distance.
#[derive(Module, Debug)]
pub struct ProtoNet {
    /// The encoder.
    pub encoder: Bert,
    dropout: Dropout,
}

impl EsdConfig {
    /// The prototypical baseline on a given encoder.
    pub fn init_proto_with(&self, encoder: Bert) -> ProtoNet {
        ProtoNet {
            encoder,
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }

    /// The prototypical baseline with a random encoder.
    pub fn init_proto(&self, device: &Device) -> ProtoNet {
        self.init_proto_with(self.encoder.init(device))
    }
}

impl ProtoNet {
    /// Logits over `[O, type 1, …, type N]` for every kept query word, sentences in order.
    ///
    /// # Shapes
    /// - output: `[query words, N + 1]`
    pub fn forward(&self, episode: &EncodedEpisode) -> Tensor<2> {
        let device = self.encoder.embeddings.word_embeddings.weight.device();
        let input = BertInput::from_rows(&episode.rows(), episode.pad_id, &device);
        let hidden = self.dropout.forward(self.encoder.forward(input).hidden);
        let [n, seq, h] = hidden.dims();
        let flat = hidden.reshape([n * seq, h]);
        let gather = |sentences: &[crate::encode::EncodedSentence], offset: usize| {
            let mut idx = Vec::new();
            let mut labels = Vec::new();
            for (i, s) in sentences.iter().enumerate() {
                for (&p, &l) in s.first_subwords.iter().zip(&s.word_labels) {
                    idx.push(((offset + i) * seq + p) as i64);
                    labels.push(l as usize);
                }
            }
            (idx, labels)
        };
        let (s_idx, s_labels) = gather(&episode.support, 0);
        let (q_idx, _) = gather(&episode.query, episode.support.len());
        let classes = episode.n_way + 1;
        let mut weights = vec![0f32; classes * s_idx.len()];
        let mut counts = vec![0f32; classes];
        for &l in &s_labels {
            counts[l] += 1.0;
        }
        for (j, &l) in s_labels.iter().enumerate() {
            weights[l * s_idx.len() + j] = 1.0 / counts[l];
        }
        let weights =
            Tensor::<2>::from_data(TensorData::new(weights, [classes, s_idx.len()]), &device);
        let support = flat.clone().select(0, int1(s_idx, &device));
        let protos = weights.matmul(support); // [classes, h]
        let query = flat.select(0, int1(q_idx, &device)); // [q, h]
        let rows = query.dims()[0];
        let diff = query.unsqueeze_dim::<3>(1).expand([rows, classes, h])
            - protos.unsqueeze_dim::<3>(0).expand([rows, classes, h]);
        -diff.powi_scalar(2).sum_dim(2).reshape([rows, classes])
    }

    /// Mean cross-entropy over the query words.
    pub fn loss(&self, episode: &EncodedEpisode) -> Tensor<1> {
        let labels = episode
            .query
            .iter()
            .flat_map(|s| s.word_labels.iter().copied());
        label_cross_entropy(self.forward(episode), labels.collect())
    }
}

/// Mean cross-entropy of `logits` (`[rows, classes]`) against one class id per row.
fn label_cross_entropy(logits: Tensor<2>, labels: Vec<i64>) -> Tensor<1> {
    let device = logits.device();
    let [rows, classes] = logits.dims();
    let targets = Tensor::<1, Int>::from_data(TensorData::new(labels, [rows]), &device)
        .one_hot(classes)
        .float();
    cross_entropy_with_logits(logits, targets)
}
