//! Multi-head graph attention (GAT).
//!
//! Veličković et al., "Graph Attention Networks", ICLR 2018
//! (<https://arxiv.org/abs/1710.10903>), as DGL's `GATConv` computes it. Per head `k`, with
//! `z_j = W^k h_j` (no bias):
//!
//! `e_ij = LeakyReLU_0.2(a_src^k · z_j + a_dst^k · z_i [+ c^k_{rel(j→i)}])` for every edge
//! `j → i`, `α_ij = softmax_j(e_ij)` over the in-edges of `i`, and `h_i'^k = Σ_j α_ij z_j`.
//! Heads are concatenated or averaged, then a bias and the activation are applied (the paper's
//! `σ(1/K Σ_k …)` for averaging). The optional `c^k_r` is a learned logit per relation and head,
//! the edge-type term of DGL's `EdgeGATConv` for one-hot edge types. A repeated edge is a
//! separate term of the softmax; a node without in-edges aggregates 0.
//!
//! Dropout is applied to the input features and to the attention coefficients, as in `GATConv`.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::activation::{Activation, ActivationConfig};
use burn::nn::{Dropout, DropoutConfig, Initializer, Linear, LinearConfig};
use burn::tensor::activation::leaky_relu;
use burn::tensor::{Device, Tensor};

use super::GraphBatch;
use super::scatter::{scatter_sum, segment_softmax};

/// How the heads of a [`Gat`] layer are combined.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum HeadMerge {
    /// Concatenate: output size `num_heads · d_head` (hidden layers).
    Concat,
    /// Average: output size `d_head` (the paper's output layer).
    Mean,
}

/// Configuration of a [`Gat`] layer.
#[derive(Config, Debug)]
pub struct GatConfig {
    /// Input node feature size.
    pub d_input: usize,
    /// Output size of each head.
    pub d_head: usize,
    /// Number of heads.
    pub num_heads: usize,
    /// How heads are combined.
    #[config(default = "HeadMerge::Concat")]
    pub merge: HeadMerge,
    /// With `Some(R)`, a learned logit per relation and head is added to the attention logits.
    pub num_relations: Option<usize>,
    /// Negative slope of the LeakyReLU on the logits.
    #[config(default = 0.2)]
    pub negative_slope: f64,
    /// Dropout on the input features.
    #[config(default = 0.0)]
    pub feature_dropout: f64,
    /// Dropout on the attention coefficients.
    #[config(default = 0.0)]
    pub attention_dropout: f64,
    /// Whether the layer adds a bias.
    #[config(default = true)]
    pub bias: bool,
    /// Activation of the output.
    #[config(default = "ActivationConfig::Identity")]
    pub activation: ActivationConfig,
}

impl GatConfig {
    /// Output size: `num_heads · d_head` when concatenating, `d_head` when averaging.
    pub fn d_output(&self) -> usize {
        match self.merge {
            HeadMerge::Concat => self.num_heads * self.d_head,
            HeadMerge::Mean => self.d_head,
        }
    }

    /// A fresh layer: Xavier-normal weights with the ReLU gain (DGL's initialisation), zero
    /// bias.
    pub fn init(&self, device: &Device) -> Gat {
        assert!(self.num_heads > 0, "a GAT layer needs at least one head");
        let init = Initializer::XavierNormal { gain: 2f64.sqrt() };
        let (heads, d_head) = (self.num_heads, self.d_head);
        let attention = || init.init_with([heads, d_head], Some(d_head), Some(1), device);
        Gat {
            projection: LinearConfig::new(self.d_input, heads * d_head)
                .with_bias(false)
                .with_initializer(init.clone())
                .init(device),
            attention_src: attention(),
            attention_dst: attention(),
            relation_logits: self
                .num_relations
                .map(|r| init.init_with([r, heads], Some(r), Some(heads), device)),
            bias: self
                .bias
                .then(|| Initializer::Zeros.init([self.d_output()], device)),
            activation: self.activation.init(device),
            feature_dropout: DropoutConfig::new(self.feature_dropout).init(),
            attention_dropout: DropoutConfig::new(self.attention_dropout).init(),
            num_heads: heads,
            d_head,
            negative_slope: self.negative_slope,
            merge: self.merge,
        }
    }
}

/// One multi-head graph attention layer; see the [module docs](self).
#[derive(Module, Debug)]
pub struct Gat {
    /// Shared projection `W` of all heads, `[d_input, num_heads · d_head]`, no bias.
    pub projection: Linear,
    /// Attention vector over the source node, `[num_heads, d_head]`.
    pub attention_src: Param<Tensor<2>>,
    /// Attention vector over the destination node, `[num_heads, d_head]`.
    pub attention_dst: Param<Tensor<2>>,
    /// Edge-type logits `[R, num_heads]`.
    pub relation_logits: Option<Param<Tensor<2>>>,
    /// Bias of the merged output.
    pub bias: Option<Param<Tensor<1>>>,
    /// Activation.
    pub activation: Activation,
    /// Dropout on the input features.
    pub feature_dropout: Dropout,
    /// Dropout on the attention coefficients.
    pub attention_dropout: Dropout,
    /// Number of heads.
    pub num_heads: usize,
    /// Size of each head.
    pub d_head: usize,
    /// Negative slope of the LeakyReLU.
    pub negative_slope: f64,
    /// How heads are combined.
    #[module(skip)]
    pub merge: HeadMerge,
}

impl Gat {
    /// The attention coefficient of every edge and head (after the softmax, before dropout).
    ///
    /// # Shapes
    /// - `nodes`: `[num_nodes, d_input]`
    /// - output: `[num_edges, num_heads]`
    pub fn attention(&self, nodes: Tensor<2>, batch: &GraphBatch) -> Tensor<2> {
        let projected = self.project(nodes, batch);
        self.attention_of(projected, batch)
    }

    /// Applies the layer to the node features of `batch`.
    ///
    /// # Shapes
    /// - `nodes`: `[num_nodes, d_input]`
    /// - output: `[num_nodes, num_heads · d_head]` (concatenated) or `[num_nodes, d_head]`
    ///   (averaged)
    pub fn forward(&self, nodes: Tensor<2>, batch: &GraphBatch) -> Tensor<2> {
        let n = batch.num_nodes();
        let (heads, d_head) = (self.num_heads, self.d_head);
        let projected = self.project(nodes, batch); // [n, heads, d_head]
        let aggregated = if batch.num_edges() > 0 {
            let alpha = self
                .attention_dropout
                .forward(self.attention_of(projected.clone(), batch)); // [edges, heads]
            // [edges, heads, d_head]
            let messages = projected.select(0, batch.src()) * alpha.unsqueeze_dim(2);
            scatter_sum(messages, batch.dst(), n)
        } else {
            Tensor::zeros([n, heads, d_head], &projected.device())
        };
        let mut out = match self.merge {
            HeadMerge::Concat => aggregated.reshape([n, heads * d_head]),
            HeadMerge::Mean => aggregated.mean_dim(1).reshape([n, d_head]),
        };
        if let Some(bias) = &self.bias {
            out = out + bias.val().unsqueeze_dim(0);
        }
        self.activation.forward(out)
    }

    /// `W h` split into heads, `[num_nodes, num_heads, d_head]`.
    fn project(&self, nodes: Tensor<2>, batch: &GraphBatch) -> Tensor<3> {
        batch.check_rows(&nodes);
        let n = batch.num_nodes();
        self.projection
            .forward(self.feature_dropout.forward(nodes))
            .reshape([n, self.num_heads, self.d_head])
    }

    /// Softmax-normalised attention of every edge, `[num_edges, num_heads]`.
    fn attention_of(&self, projected: Tensor<3>, batch: &GraphBatch) -> Tensor<2> {
        let n = batch.num_nodes();
        let heads = self.num_heads;
        let score = |attention: &Param<Tensor<2>>| {
            (projected.clone() * attention.val().unsqueeze_dim(0))
                .sum_dim(2)
                .reshape([n, heads]) // [n, heads]
        };
        let mut logits = score(&self.attention_src).select(0, batch.src())
            + score(&self.attention_dst).select(0, batch.dst()); // [edges, heads]
        if let Some(relation_logits) = &self.relation_logits {
            assert_eq!(
                relation_logits.dims()[0],
                batch.num_relations(),
                "the batch has {} relations, the layer's edge-type logits {}",
                batch.num_relations(),
                relation_logits.dims()[0]
            );
            logits = logits + relation_logits.val().select(0, batch.relation());
        }
        segment_softmax(leaky_relu(logits, self.negative_slope), batch.dst(), n)
    }
}
