//! Dozat & Manning, "Deep Biaffine Attention for Neural Dependency Parsing", ICLR 2017
//! (<https://arxiv.org/abs/1611.01734>): the biaffine parser network, on a BERT-family encoder
//! read at the first subword of every word (the `[CLS]` position stands for the root), with four
//! MLPs, a biaffine arc scorer and a bilinear label scorer (core's [`Biaffine`]), their
//! cross-entropy losses and MST decoding.
//!
//! `s_arc(d, h) = [r_d; 1]ᵀ U r_h` (SuPar's `bias_x=True, bias_y=False`: the head prior
//! `h_hᵀ u` of the paper is the augmented row of `U`), `s_label(d, h) = [r_d; 1]ᵀ U_l [r_h; 1]`
//! (`bias_x = bias_y = True`), MLPs with leaky ReLU (0.1) and dropout; the label loss is taken at
//! the gold head, labels are predicted at the decoded head.

use burnlp_core::burn;
use burnlp_core::burn::module::Module;
use burnlp_core::burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burnlp_core::burn::tensor::activation::{leaky_relu, log_softmax};
use burnlp_core::burn::tensor::{Device, Int, Tensor, TensorData};
use burnlp_core::nn::bert::{Bert, BertConfig, BertInput};
use burnlp_core::nn::span::{Biaffine, BiaffineConfig};
use serde::{Deserialize, Serialize};

use super::decode::mst_heads;

/// Everything needed to rebuild a trained parser (`RUN/model.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParserSpec {
    /// Encoder configuration.
    pub encoder: BertConfig,
    /// Relation labels (full DEPREL, subtypes kept) in output order.
    pub labels: Vec<String>,
    /// Width of the arc MLPs.
    pub arc_mlp: usize,
    /// Width of the label MLPs.
    pub label_mlp: usize,
    /// Dropout on the encoder output and in the MLPs.
    pub dropout: f64,
    /// Maximum subword tokens per sentence, special tokens included.
    pub max_length: usize,
}

/// One MLP layer: linear, leaky ReLU (slope 0.1), dropout.
#[derive(Module, Debug)]
pub struct Mlp {
    /// The projection.
    pub linear: Linear,
    /// Dropout after the activation.
    pub dropout: Dropout,
}

impl Mlp {
    fn new(input: usize, output: usize, dropout: f64, device: &Device) -> Self {
        Self {
            linear: LinearConfig::new(input, output).init(device),
            dropout: DropoutConfig::new(dropout).init(),
        }
    }

    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.dropout
            .forward(leaky_relu(self.linear.forward(x), 0.1))
    }
}

/// The parser; see the module docs.
#[derive(Module, Debug)]
pub struct DepParser {
    /// The encoder.
    pub encoder: Bert,
    /// Dropout on the word representations.
    pub dropout: Dropout,
    /// Dependent view for arcs.
    pub arc_dep: Mlp,
    /// Head view for arcs.
    pub arc_head: Mlp,
    /// Dependent view for labels.
    pub label_dep: Mlp,
    /// Head view for labels.
    pub label_head: Mlp,
    /// Arc scorer (one channel).
    pub arc: Biaffine,
    /// Label scorer (one channel per label).
    pub label: Biaffine,
}

impl ParserSpec {
    /// A parser with fresh MLPs and scorers on `encoder`.
    pub fn init_with(&self, encoder: Bert, device: &Device) -> DepParser {
        let hidden = encoder.hidden_size();
        let mlp = |size| Mlp::new(hidden, size, self.dropout, device);
        DepParser {
            encoder,
            dropout: DropoutConfig::new(self.dropout).init(),
            arc_dep: mlp(self.arc_mlp),
            arc_head: mlp(self.arc_mlp),
            label_dep: mlp(self.label_mlp),
            label_head: mlp(self.label_mlp),
            arc: BiaffineConfig::new(self.arc_mlp, self.arc_mlp)
                .with_bias_x(true)
                .with_linear(false)
                .init(device),
            label: BiaffineConfig::new(self.label_mlp, self.label_mlp)
                .with_num_labels(self.labels.len())
                .with_bias_x(true)
                .with_bias_y(true)
                .with_linear(false)
                .init(device),
        }
    }

    /// A parser with a randomly initialised encoder (before loading trained parameters).
    pub fn init(&self, device: &Device) -> DepParser {
        self.init_with(self.encoder.init(device), device)
    }
}

/// A sentence as the network reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedSentence {
    /// Subword ids, special tokens included (position 0 is `[CLS]`, the root).
    pub ids: Vec<u32>,
    /// Position of each word's first subword.
    pub first: Vec<usize>,
    /// Gold head of each word (0 = root), empty when unannotated.
    pub heads: Vec<usize>,
    /// Gold label index of each word, empty when unannotated.
    pub labels: Vec<usize>,
}

/// A padded batch: `W` is the longest sentence's word count; node 0 is the root.
#[derive(Debug, Clone)]
pub struct ParserBatch {
    /// Encoder input.
    pub input: BertInput,
    /// Subword position of every node `[batch, W + 1]` (0 for the root and padding).
    pub positions: Tensor<2, Int>,
    /// 1 for the root and the words, 0 for padding `[batch, W + 1]`.
    pub nodes: Tensor<2>,
    /// 1 for the words, 0 for the root and padding `[batch, W + 1]`.
    pub words: Tensor<2>,
    /// Words of each sentence.
    pub lengths: Vec<usize>,
}

impl ParserBatch {
    /// Pads `sentences` into a batch.
    pub fn new(sentences: &[&EncodedSentence], pad_id: u32, device: &Device) -> Self {
        let rows: Vec<Vec<u32>> = sentences.iter().map(|s| s.ids.clone()).collect();
        let input = BertInput::from_rows(&rows, pad_id, device);
        let batch = sentences.len();
        let width = sentences.iter().map(|s| s.first.len()).max().unwrap_or(0) + 1;
        let mut positions = vec![0i64; batch * width];
        let mut nodes = vec![0f32; batch * width];
        let mut words = vec![0f32; batch * width];
        for (b, s) in sentences.iter().enumerate() {
            nodes[b * width] = 1.0;
            for (i, &p) in s.first.iter().enumerate() {
                positions[b * width + i + 1] = p as i64;
                nodes[b * width + i + 1] = 1.0;
                words[b * width + i + 1] = 1.0;
            }
        }
        let shape = [batch, width];
        Self {
            input,
            positions: Tensor::from_data(TensorData::new(positions, shape), device),
            nodes: Tensor::from_data(TensorData::new(nodes, shape), device),
            words: Tensor::from_data(TensorData::new(words, shape), device),
            lengths: sentences.iter().map(|s| s.first.len()).collect(),
        }
    }

    /// Gold heads or labels as a `[batch, W + 1]` tensor (0 for the root and padding).
    fn gold(
        &self,
        sentences: &[&EncodedSentence],
        field: fn(&EncodedSentence) -> &[usize],
    ) -> Tensor<2, Int> {
        let [batch, width] = self.positions.dims();
        let mut values = vec![0i64; batch * width];
        for (b, s) in sentences.iter().enumerate() {
            for (i, &v) in field(s).iter().enumerate() {
                values[b * width + i + 1] = v as i64;
            }
        }
        Tensor::from_data(
            TensorData::new(values, [batch, width]),
            &self.positions.device(),
        )
    }
}

/// The scores of a batch.
#[derive(Debug, Clone)]
pub struct ParserScores {
    /// `arcs[b, d, h]`: score of head `h` for dependent `d`; padded heads are `-1e9`.
    pub arcs: Tensor<3>,
    /// `labels[b, d, h, l]`: score of label `l` on the arc `h → d`.
    pub labels: Tensor<4>,
}

/// Negative log-likelihood of `targets` under `log_softmax(logits)` over the last dimension,
/// averaged over the positions where `mask` is 1.
fn masked_nll(logits: Tensor<3>, targets: Tensor<2, Int>, mask: Tensor<2>) -> Tensor<1> {
    let nll = -log_softmax(logits, 2)
        .gather(2, targets.unsqueeze_dim::<3>(2))
        .squeeze_dim::<2>(2);
    (nll * mask.clone()).sum() / mask.sum().clamp_min(1.0)
}

impl DepParser {
    /// Arc and label scores of a batch.
    pub fn forward(&self, batch: &ParserBatch) -> ParserScores {
        let hidden = self.encoder.forward(batch.input.clone()).hidden;
        let size = hidden.dims()[2];
        let [b, width] = batch.positions.dims();
        let index = batch
            .positions
            .clone()
            .reshape([b, width, 1])
            .repeat_dim(2, size);
        let nodes = self.dropout.forward(hidden.gather(1, index));
        // [b, W+1, W+1, 1] -> [b, W+1, W+1]
        let arcs = self
            .arc
            .forward(
                self.arc_dep.forward(nodes.clone()),
                self.arc_head.forward(nodes.clone()),
            )
            .reshape([b, width, width]);
        let head_mask = (batch.nodes.clone() - 1.0).reshape([b, 1, width]) * 1e9;
        let labels = self.label.forward(
            self.label_dep.forward(nodes.clone()),
            self.label_head.forward(nodes),
        );
        ParserScores {
            arcs: arcs + head_mask,
            labels,
        }
    }

    /// Mean arc cross-entropy plus mean label cross-entropy at the gold heads.
    pub fn loss(&self, batch: &ParserBatch, sentences: &[&EncodedSentence]) -> Tensor<1> {
        let scores = self.forward(batch);
        let heads = batch.gold(sentences, |s| &s.heads);
        let labels = batch.gold(sentences, |s| &s.labels);
        let arc_loss = masked_nll(scores.arcs, heads.clone(), batch.words.clone());
        let gold_labels = label_scores_at(scores.labels, heads);
        arc_loss + masked_nll(gold_labels, labels, batch.words.clone())
    }

    /// Heads (MST with one root child) and label indices of every sentence of a batch.
    pub fn decode(&self, batch: &ParserBatch) -> Vec<(Vec<usize>, Vec<usize>)> {
        let scores = self.forward(batch);
        let [b, width, _] = scores.arcs.dims();
        let arcs = log_softmax(scores.arcs, 2)
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32 scores");
        let mut heads = Vec::with_capacity(b);
        for (s, &n) in batch.lengths.iter().enumerate() {
            let matrix: Vec<Vec<f64>> = (0..=n)
                .map(|d| {
                    (0..=n)
                        .map(|h| f64::from(arcs[(s * width + d) * width + h]))
                        .collect()
                })
                .collect();
            heads.push(mst_heads(&matrix, true));
        }
        let mut flat = vec![0i64; b * width];
        for (s, h) in heads.iter().enumerate() {
            for (d, &head) in h.iter().enumerate() {
                flat[s * width + d] = head as i64;
            }
        }
        let device = batch.positions.device();
        let head_tensor = Tensor::<2, Int>::from_data(TensorData::new(flat, [b, width]), &device);
        let labels = label_scores_at(scores.labels, head_tensor)
            .argmax(2)
            .into_data()
            .convert::<i64>()
            .try_into_vec::<i64>()
            .expect("i64 labels");
        heads
            .into_iter()
            .enumerate()
            .map(|(s, h)| {
                let n = batch.lengths[s];
                let l = (1..=n).map(|d| labels[s * width + d] as usize).collect();
                (h[1..].to_vec(), l)
            })
            .collect()
    }
}

/// Label scores on the arcs from `heads`: `[b, W+1, W+1, L]` at `[b, d, heads[b, d]]` →
/// `[b, W+1, L]`.
fn label_scores_at(labels: Tensor<4>, heads: Tensor<2, Int>) -> Tensor<3> {
    let [b, width, _, count] = labels.dims();
    let index = heads.reshape([b, width, 1, 1]).repeat_dim(3, count);
    labels.gather(2, index).reshape([b, width, count])
}
