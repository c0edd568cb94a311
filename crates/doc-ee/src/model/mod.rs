//! The TSAR model (spec D.4–D.5; the reference's `MyBertmodel`).
//!
//! 1. Two streams over the same encoder weights: the *global* stream with full attention and
//!    the *local* stream where token `i` sees token `j` only when `j` is in `i`'s sentence or in
//!    the trigger's sentence (`[CLS]` sees everything), through core's [`BertMasks`].
//! 2. AMR-guided interaction per stream (shared weights): node vector = mean of the stream's
//!    vectors over the node's subword span; R-GCN over the 13 edge types (right normalisation,
//!    self-loop, ReLU, dropout 3 × the hidden dropout); concat(input, every layer) → Linear → ReLU
//!    → Dropout; every token adds the mean of the vectors of the nodes covering it (0 if none).
//!    The global stream uses the global graph, the local stream the local one.
//! 3. Gated fusion `g = σ(w_g·H_g' + w_l·H_l')`, `F = g ⊙ H_g' + (1 − g) ⊙ H_l'`.
//! 4. Span vector `Linear_{3h→h}([W_s F_start; W_e F_end; mean F[start..=end]])` (core's
//!    [`SpanRepresentation`] gathers endpoints and the mean); classifier over
//!    `[s; t; |s − t|; s ⊙ t; len_emb; event_emb]` → Linear → ReLU → Dropout → Linear, logits of
//!    labels outside NA and the event's roles set to −10⁴.
//! 5. Loss: class-weighted cross-entropy over candidates (NA 1, roles `pos_loss_weight`) plus
//!    `λ_b` × the start and end boundary losses (Linear(h → 2) on `W_s F` and `W_e F`, weights
//!    [1, `pos_loss_weight`]).
//!
//! Ablations: `use_graph = false` skips the interaction, `local_stream = false` uses the global
//! stream alone.

use burnlp_core::burn;

pub mod batch;
pub mod input;

use burnlp_core::burn::config::Config;
use burnlp_core::burn::module::Module;
use burnlp_core::burn::nn::activation::ActivationConfig;
use burnlp_core::burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig,
};
use burnlp_core::burn::tensor::activation::{log_softmax, relu, sigmoid};
use burnlp_core::burn::tensor::{Device, Int, Tensor};
use burnlp_core::nn::bert::{Bert, BertConfig, BertMasks};
use burnlp_core::nn::graph::{GcnNorm, RgcnConfig, RgcnStack, RgcnStackConfig};
use burnlp_core::nn::span::{SpanPooling, SpanRepresentation, SpanRepresentationConfig};

pub use batch::{GraphInputs, TsarBatch};

use crate::graph::NUM_EDGE_TYPES;

/// Logit given to labels outside NA and the event type's roles.
const MASKED_LOGIT: f32 = -1e4;

/// Configuration of [`Tsar`].
#[derive(Config, Debug)]
pub struct TsarConfig {
    /// The encoder.
    pub encoder: BertConfig,
    /// Labels, NA included.
    pub num_labels: usize,
    /// Event types.
    pub num_events: usize,
    /// R-GCN layers (4 for RAMS and WikiEvents base, 3 for WikiEvents large).
    #[config(default = 4)]
    pub gcn_layers: usize,
    /// Span-length embedding entries (lengths are cut to `len_size − 1`).
    #[config(default = 50)]
    pub len_size: usize,
    /// Span-length embedding size.
    #[config(default = 20)]
    pub len_dim: usize,
    /// Event-type embedding size.
    #[config(default = 200)]
    pub event_dim: usize,
    /// Hidden dropout (the R-GCN uses 3 × this).
    #[config(default = 0.1)]
    pub dropout: f64,
    /// Class weight of every role label and of a boundary (NA and "no boundary" weigh 1).
    #[config(default = 10.0)]
    pub pos_loss_weight: f64,
    /// Weight λ_b of the boundary losses (0.05 RAMS, 0.1 WikiEvents).
    #[config(default = 0.05)]
    pub lambda_boundary: f64,
    /// Use the graphs (false: the "no AMR graph" ablation).
    #[config(default = true)]
    pub use_graph: bool,
    /// Use the local stream (false: the "no local stream" ablation).
    #[config(default = true)]
    pub local_stream: bool,
}

impl TsarConfig {
    /// A fresh model (the encoder randomly initialised).
    pub fn init(&self, device: &Device) -> Tsar {
        self.init_with(None, device)
    }

    /// A fresh model around `encoder` (a pretrained one), or a random encoder.
    pub fn init_with(&self, encoder: Option<Bert>, device: &Device) -> Tsar {
        let h = self.encoder.hidden_size;
        let linear = |a: usize, b: usize| LinearConfig::new(a, b).init(device);
        let rgcn = RgcnStackConfig::new(
            RgcnConfig::new(h, h, NUM_EDGE_TYPES)
                .with_activation(ActivationConfig::Relu)
                .with_dropout(3.0 * self.dropout)
                .with_norm(GcnNorm::Right),
            self.gcn_layers,
        )
        .init(device);
        Tsar {
            bert: encoder.unwrap_or_else(|| self.encoder.init(device)),
            dropout: DropoutConfig::new(self.dropout).init(),
            rgcn,
            middle: linear(h * (self.gcn_layers + 1), h),
            global_gate: linear(h, 1),
            local_gate: linear(h, 1),
            transform_start: linear(h, h),
            transform_end: linear(h, h),
            transform_span: linear(3 * h, h),
            span_representation: SpanRepresentationConfig::new(
                h,
                self.encoder.max_position_embeddings.max(1),
            )
            .with_pooling(Some(SpanPooling::Mean))
            .init(device),
            len_embedding: EmbeddingConfig::new(self.len_size, self.len_dim).init(device),
            event_embedding: EmbeddingConfig::new(self.num_events.max(1), self.event_dim)
                .init(device),
            classifier_hidden: linear(4 * h + self.len_dim + self.event_dim, h),
            classifier_out: linear(h, self.num_labels),
            start_classifier: linear(h, 2),
            end_classifier: linear(h, 2),
            hidden: h,
            pos_loss_weight: self.pos_loss_weight,
            lambda_boundary: self.lambda_boundary,
            use_graph: self.use_graph,
            local_stream: self.local_stream,
        }
    }
}

/// The TSAR model; see the [module docs](self).
#[derive(Module, Debug)]
pub struct Tsar {
    /// The shared encoder of both streams.
    pub bert: Bert,
    /// Hidden dropout.
    pub dropout: Dropout,
    /// The R-GCN layers (shared by both streams).
    pub rgcn: RgcnStack,
    /// concat(R-GCN input, layers) → h.
    pub middle: Linear,
    /// `w_g`.
    pub global_gate: Linear,
    /// `w_l`.
    pub local_gate: Linear,
    /// `W_s`.
    pub transform_start: Linear,
    /// `W_e`.
    pub transform_end: Linear,
    /// 3h → h.
    pub transform_span: Linear,
    /// Endpoints and mean of a span (no parameters).
    pub span_representation: SpanRepresentation,
    /// Span-length embedding.
    pub len_embedding: Embedding,
    /// Event-type embedding.
    pub event_embedding: Embedding,
    /// Classifier, first layer.
    pub classifier_hidden: Linear,
    /// Classifier, output layer.
    pub classifier_out: Linear,
    /// Start-boundary classifier.
    pub start_classifier: Linear,
    /// End-boundary classifier.
    pub end_classifier: Linear,
    /// Hidden size.
    pub hidden: usize,
    /// Role class weight.
    pub pos_loss_weight: f64,
    /// λ_b.
    pub lambda_boundary: f64,
    /// Whether the graphs are used.
    pub use_graph: bool,
    /// Whether the local stream is used.
    pub local_stream: bool,
}

/// What a forward pass returns.
#[derive(Debug, Clone)]
pub struct TsarOutput {
    /// Label logits `[batch, spans, labels]`.
    pub logits: Tensor<3>,
    /// `W_s F` `[batch, seq, h]`.
    pub start: Tensor<3>,
    /// `W_e F` `[batch, seq, h]`.
    pub end: Tensor<3>,
}

impl Tsar {
    /// The interaction module on one stream: token vectors plus the graph's token vectors.
    ///
    /// # Shapes
    /// - `hidden`: `[batch, seq, h]`; output: `[batch, seq, h]`
    fn interact(&self, hidden: Tensor<3>, graph: &GraphInputs, global: bool) -> Tensor<3> {
        let [batch, seq, h] = hidden.dims();
        let max_nodes = graph.max_nodes;
        // [batch, max_nodes, h] → the graph batch's node rows.
        let nodes = graph.node_average.clone().matmul(hidden.clone());
        let nodes = nodes
            .reshape([batch * max_nodes, h])
            .select(0, graph.node_rows.clone());
        let graphs = if global { &graph.global } else { &graph.local };
        let mut bank = vec![nodes.clone()];
        bank.extend(self.rgcn.forward_layers(nodes, graphs));
        let nodes = self
            .dropout
            .forward(relu(self.middle.forward(Tensor::cat(bank, 1))));
        // Back to [batch, max_nodes, h] slots (padding slots weigh 0 below), then to tokens.
        let slots = nodes
            .select(0, graph.slot_rows.clone())
            .reshape([batch, max_nodes, h]);
        let tokens = graph.token_average.clone().matmul(slots);
        debug_assert_eq!(tokens.dims(), [batch, seq, h]);
        hidden + tokens
    }

    /// Runs the model.
    ///
    /// # Shapes
    /// - output `logits`: `[batch, spans, labels]`
    pub fn forward(&self, batch: &TsarBatch) -> TsarOutput {
        let global = self
            .dropout
            .forward(self.bert.forward(batch.input.clone()).hidden);
        let global = match (&batch.graph, self.use_graph) {
            (Some(graph), true) => self.interact(global, graph, true),
            _ => global,
        };
        let fused = if self.local_stream {
            let masks = BertMasks::default().with_attention(batch.local_mask.clone());
            let local = self
                .dropout
                .forward(self.bert.forward_masked(batch.input.clone(), &masks).hidden);
            let local = match (&batch.graph, self.use_graph) {
                (Some(graph), true) => self.interact(local, graph, false),
                _ => local,
            };
            let gate = sigmoid(
                self.global_gate.forward(global.clone()) + self.local_gate.forward(local.clone()),
            ); // [batch, seq, 1]
            let [b, s, h] = global.dims();
            let gate = gate.expand([b, s, h]);
            gate.clone() * global + (gate.neg() + 1.0) * local
        } else {
            global
        };
        let [batch_size, _, h] = fused.dims();
        let [_, n] = batch.spans.dims();
        let start = self.transform_start.forward(fused.clone());
        let end = self.transform_end.forward(fused.clone());
        // [batch, n, 3h] = [F_start; F_end; mean F]
        let parts = self
            .span_representation
            .forward(fused.clone(), &batch.spans);
        let f_start = parts.clone().slice([0..batch_size, 0..n, 0..h]);
        let f_end = parts.clone().slice([0..batch_size, 0..n, h..2 * h]);
        let mean = parts.slice([0..batch_size, 0..n, 2 * h..3 * h]);
        let span = self.transform_span.forward(Tensor::cat(
            vec![
                self.transform_start.forward(f_start),
                self.transform_end.forward(f_end),
                mean,
            ],
            2,
        ));
        let trigger = fused
            .gather(
                1,
                batch
                    .trigger_index
                    .clone()
                    .reshape([batch_size, 1, 1])
                    .expand([batch_size, 1, h]),
            )
            .expand([batch_size, n, h]);
        let lengths = self.len_embedding.forward(batch.span_lengths.clone());
        let events = self
            .event_embedding
            .forward(batch.event_ids.clone().reshape([batch_size, 1]));
        let event_dim = events.dims()[2];
        let events = events.expand([batch_size, n, event_dim]);
        let features = Tensor::cat(
            vec![
                span.clone(),
                trigger.clone(),
                (span.clone() - trigger.clone()).abs(),
                span * trigger,
                lengths,
                events,
            ],
            2,
        );
        let hidden = self
            .dropout
            .forward(relu(self.classifier_hidden.forward(features)));
        let logits = self.classifier_out.forward(hidden);
        let labels = logits.dims()[2];
        let disallowed = batch
            .allowed
            .clone()
            .bool_not()
            .reshape([batch_size, 1, labels])
            .expand([batch_size, n, labels]);
        TsarOutput {
            logits: logits.mask_fill(disallowed, MASKED_LOGIT),
            start,
            end,
        }
    }

    /// The training loss of a batch (see the [module docs](self)).
    pub fn loss(&self, batch: &TsarBatch) -> Tensor<1> {
        let out = self.forward(batch);
        let span_loss = weighted_cross_entropy(
            out.logits,
            batch.labels.clone(),
            batch.spans.mask(),
            self.pos_loss_weight,
        );
        if self.lambda_boundary <= 0.0 {
            return span_loss;
        }
        let start = weighted_cross_entropy(
            self.start_classifier.forward(out.start),
            batch.start_labels.clone(),
            batch.token_mask.clone(),
            self.pos_loss_weight,
        );
        let end = weighted_cross_entropy(
            self.end_classifier.forward(out.end),
            batch.end_labels.clone(),
            batch.token_mask.clone(),
            self.pos_loss_weight,
        );
        span_loss + (start + end) * self.lambda_boundary
    }

    /// The arg-max label of every candidate span, per example (padding slots dropped).
    pub fn predict_labels(&self, batch: &TsarBatch) -> Vec<Vec<usize>> {
        let logits = self.forward(batch).logits;
        let [b, n, _] = logits.dims();
        let labels = logits
            .argmax(2)
            .reshape([b * n])
            .into_data()
            .convert::<i64>()
            .try_into_vec::<i64>()
            .expect("i64 labels");
        batch
            .span_counts
            .iter()
            .enumerate()
            .map(|(i, &count)| {
                labels[i * n..i * n + count]
                    .iter()
                    .map(|&l| l as usize)
                    .collect()
            })
            .collect()
    }
}

/// PyTorch's `CrossEntropyLoss(weight)` with class 0 weighing 1 and every other class
/// `positive`: `Σ w_y · nll / Σ w_y` over the unmasked items.
///
/// # Shapes
/// - `logits`: `[batch, n, classes]`, `targets`: `[batch, n]`, `mask`: `[batch, n]`
pub fn weighted_cross_entropy(
    logits: Tensor<3>,
    targets: Tensor<2, Int>,
    mask: Tensor<2, burnlp_core::burn::tensor::Bool>,
    positive: f64,
) -> Tensor<1> {
    let [b, n, _] = logits.dims();
    let log_probs = log_softmax(logits, 2);
    let nll = log_probs
        .gather(2, targets.clone().reshape([b, n, 1]))
        .reshape([b, n])
        .neg();
    let weights = targets.greater_elem(0).float() * (positive - 1.0) + 1.0;
    let weights = weights * mask.float();
    let total = weights.clone().sum().clamp_min(1e-12);
    (nll * weights).sum() / total
}
