//! Relational graph convolution (R-GCN).
//!
//! Schlichtkrull et al., "Modeling Relational Data with Graph Convolutional Networks", ESWC 2018
//! (<https://arxiv.org/abs/1703.06103>), as computed by DGL's `RelGraphConv` and by the
//! `RelGraphConvLayer` (a `HeteroGraphConv` of `GraphConv(norm="right")` per relation) that GAIN
//! and GIT use:
//!
//! `h_i' = act(Σ_r 1/|N_r(i)| Σ_{j ∈ N_r(i)} W_r h_j + W_0 h_i + b)`, then dropout,
//!
//! where `N_r(i)` are the in-neighbours of `i` through relation `r` (a repeated edge counts each
//! time), `W_0` is the self-loop weight, and a relation without in-edges at `i` contributes 0.
//! That is the right normalisation `D_in^{-1}` ([`GcnNorm::Right`], the default). With
//! [`GcnNorm::Both`] every message is instead weighted by `1/√(d_out,r(j) · d_in,r(i))` (degrees
//! within relation `r`, at least 1): the symmetric normalisation `D_out^{-1/2} A D_in^{-1/2}` of
//! Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional Networks", ICLR 2017
//! (<https://arxiv.org/abs/1609.02907>), as DGL's `GraphConv(norm="both")` computes it. With one
//! relation and no self-loop weight the layer is DGL's `GraphConv` (weight and bias); Kipf &
//! Welling's self-connections are self-edges in the graph.
//! With basis decomposition, `W_r = Σ_b a_rb V_b` (DGL's `WeightBasis`), used when
//! `num_bases < num_relations`, as in DGL. Every node is transformed by the same weights
//! whatever its type; node types enter through the input features.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::activation::{Activation, ActivationConfig};
use burn::nn::{Dropout, DropoutConfig, Initializer};
use burn::tensor::{Device, Tensor};

use super::GraphBatch;
use super::scatter::scatter_sum;

/// How messages into a node are normalised (DGL's `GraphConv` `norm` argument).
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum GcnNorm {
    /// `D_in^{-1}`: the mean of the messages of each relation (`norm="right"`; GAIN, GIT).
    Right,
    /// `D_out^{-1/2} A D_in^{-1/2}`: each message scaled by `1/√(d_out(src) · d_in(dst))`
    /// (`norm="both"`; Kipf & Welling's GCN).
    Both,
}

/// Configuration of one [`Rgcn`] layer.
#[derive(Config, Debug)]
pub struct RgcnConfig {
    /// Input node feature size.
    pub d_input: usize,
    /// Output node feature size.
    pub d_output: usize,
    /// Number of relations `R`.
    pub num_relations: usize,
    /// Number of bases of the basis decomposition; used only when smaller than `num_relations`
    /// (as DGL does), otherwise every relation has its own full matrix.
    pub num_bases: Option<usize>,
    /// Whether the layer adds the self-loop term `W_0 h_i`.
    #[config(default = true)]
    pub self_loop: bool,
    /// Whether the layer adds a bias.
    #[config(default = true)]
    pub bias: bool,
    /// Activation after the sum.
    #[config(default = "ActivationConfig::Identity")]
    pub activation: ActivationConfig,
    /// Dropout on the output.
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Normalisation of the messages of each relation.
    #[config(default = "GcnNorm::Right")]
    pub norm: GcnNorm,
}

impl RgcnConfig {
    /// A fresh layer: Xavier-uniform weights with the ReLU gain (DGL's initialisation), zero
    /// bias.
    pub fn init(&self, device: &Device) -> Rgcn {
        assert!(
            self.num_relations > 0,
            "an R-GCN needs at least one relation"
        );
        let init = Initializer::XavierUniform { gain: 2f64.sqrt() };
        let (d_in, d_out, r) = (self.d_input, self.d_output, self.num_relations);
        let bases = self.num_bases.filter(|&b| b < r);
        if let Some(b) = bases {
            assert!(b > 0, "num_bases must be positive");
        }
        let weight = init.init_with(
            [bases.unwrap_or(r), d_in, d_out],
            Some(d_in),
            Some(d_out),
            device,
        );
        Rgcn {
            weight,
            coefficients: bases.map(|b| init.init_with([r, b], Some(b), Some(r), device)),
            loop_weight: self
                .self_loop
                .then(|| init.init_with([d_in, d_out], Some(d_in), Some(d_out), device)),
            bias: self.bias.then(|| Initializer::Zeros.init([d_out], device)),
            activation: self.activation.init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            num_relations: r,
            norm: self.norm,
        }
    }
}

/// One relational graph convolution layer; see the [module docs](self).
#[derive(Module, Debug)]
pub struct Rgcn {
    /// Relation weights `[R, d_input, d_output]`, or the bases `V` `[num_bases, d_input,
    /// d_output]` when `coefficients` is set.
    pub weight: Param<Tensor<3>>,
    /// Basis coefficients `a` `[R, num_bases]`.
    pub coefficients: Option<Param<Tensor<2>>>,
    /// Self-loop weight `W_0` `[d_input, d_output]`.
    pub loop_weight: Option<Param<Tensor<2>>>,
    /// Bias `[d_output]`.
    pub bias: Option<Param<Tensor<1>>>,
    /// Activation.
    pub activation: Activation,
    /// Output dropout.
    pub dropout: Dropout,
    /// Number of relations `R`.
    pub num_relations: usize,
    /// Normalisation of the messages.
    #[module(skip)]
    pub norm: GcnNorm,
}

impl Rgcn {
    /// The relation matrices `W_r`, combined from the bases when the layer has them.
    ///
    /// # Shapes
    /// - output: `[R, d_input, d_output]`
    pub fn relation_weights(&self) -> Tensor<3> {
        let weight = self.weight.val();
        match &self.coefficients {
            None => weight,
            Some(coefficients) => {
                let [bases, d_in, d_out] = weight.dims();
                coefficients
                    .val()
                    .matmul(weight.reshape([bases, d_in * d_out])) // [R, d_in · d_out]
                    .reshape([self.num_relations, d_in, d_out])
            }
        }
    }

    /// Applies the layer to the node features of `batch`.
    ///
    /// Messages are gathered once for all edges, summed into (node, relation) slots by one
    /// scatter-add, normalised per slot ([`GcnNorm::Right`]) or per edge before the sum
    /// ([`GcnNorm::Both`]), and transformed by one matrix product with the stacked `W_r`.
    ///
    /// # Shapes
    /// - `nodes`: `[num_nodes, d_input]`
    /// - output: `[num_nodes, d_output]`
    pub fn forward(&self, nodes: Tensor<2>, batch: &GraphBatch) -> Tensor<2> {
        batch.check_rows(&nodes);
        assert_eq!(
            batch.num_relations(),
            self.num_relations,
            "the batch has {} relations, the layer {}",
            batch.num_relations(),
            self.num_relations
        );
        let [n, d_in] = nodes.dims();
        let [_, _, d_out] = self.weight.dims();
        let r = self.num_relations;
        let mut out = match &self.loop_weight {
            Some(loop_weight) => nodes.clone().matmul(loop_weight.val()),
            None => Tensor::zeros([n, d_out], &nodes.device()),
        };
        if batch.num_edges() > 0 {
            let messages = nodes.select(0, batch.src()); // [edges, d_in]
            // [n · R, d_in]: the normalised message sum of every (node, relation) slot.
            let aggregated = match self.norm {
                GcnNorm::Right => {
                    scatter_sum(messages, batch.dst_relation(), n * r) * batch.relation_norm()
                }
                GcnNorm::Both => scatter_sum(
                    messages * batch.symmetric_norm(),
                    batch.dst_relation(),
                    n * r,
                ),
            };
            out = out
                + aggregated
                    .reshape([n, r * d_in])
                    .matmul(self.relation_weights().reshape([r * d_in, d_out]));
        }
        if let Some(bias) = &self.bias {
            out = out + bias.val().unsqueeze_dim(0);
        }
        self.dropout.forward(self.activation.forward(out))
    }
}

/// Configuration of an [`RgcnStack`].
#[derive(Config, Debug)]
pub struct RgcnStackConfig {
    /// The layers' configuration: the first layer maps `d_input` to `d_output`, the others
    /// `d_output` to `d_output`.
    pub layer: RgcnConfig,
    /// Number of layers.
    pub num_layers: usize,
}

impl RgcnStackConfig {
    /// A fresh stack of layers.
    pub fn init(&self, device: &Device) -> RgcnStack {
        let layers = (0..self.num_layers)
            .map(|i| {
                let d_input = if i == 0 {
                    self.layer.d_input
                } else {
                    self.layer.d_output
                };
                RgcnConfig {
                    d_input,
                    ..self.layer.clone()
                }
                .init(device)
            })
            .collect();
        RgcnStack { layers }
    }
}

/// R-GCN layers applied in sequence.
#[derive(Module, Debug)]
pub struct RgcnStack {
    /// The layers.
    pub layers: Vec<Rgcn>,
}

impl RgcnStack {
    /// The output of every layer, in order (GAIN concatenates them with the input).
    ///
    /// # Shapes
    /// - `nodes`: `[num_nodes, d_input]`
    /// - output: one `[num_nodes, d_output]` per layer
    pub fn forward_layers(&self, nodes: Tensor<2>, batch: &GraphBatch) -> Vec<Tensor<2>> {
        let mut outputs: Vec<Tensor<2>> = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let input = outputs.last().cloned().unwrap_or_else(|| nodes.clone());
            outputs.push(layer.forward(input, batch));
        }
        outputs
    }

    /// The output of the last layer (the input when the stack is empty).
    ///
    /// # Shapes
    /// - `nodes`: `[num_nodes, d_input]`
    /// - output: `[num_nodes, d_output]`
    pub fn forward(&self, nodes: Tensor<2>, batch: &GraphBatch) -> Tensor<2> {
        self.layers
            .iter()
            .fold(nodes, |h, layer| layer.forward(h, batch))
    }
}
