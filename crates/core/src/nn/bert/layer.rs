//! The embedding block and the post-LN encoder layer, with the masks and width slicing of
//! [`BertMasks`](super::BertMasks) applied inside the layer.

use burn::module::Module;
use burn::nn::{Dropout, Embedding, LayerNorm, Linear};
use burn::tensor::activation::{gelu, gelu_approximate, relu, softmax};
use burn::tensor::module::{attention, linear};
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Tensor};

use super::HiddenAct;

/// Token, position and token-type embeddings followed by layer norm and dropout.
#[derive(Module, Debug)]
pub struct BertEmbeddings {
    /// Token embeddings `[vocab, hidden]`.
    pub word_embeddings: Embedding,
    /// Position embeddings `[max_positions, hidden]`.
    pub position_embeddings: Embedding,
    /// Token type (segment) embeddings `[type_vocab, hidden]`.
    pub token_type_embeddings: Embedding,
    /// Layer norm over the summed embeddings.
    pub layer_norm: LayerNorm,
    /// Dropout after the layer norm.
    pub dropout: Dropout,
}

/// One post-LN encoder layer. Head `h` owns columns `h·d_head..(h+1)·d_head` of the query, key
/// and value projections and the same rows of `attention_output`; feed-forward neuron `i` owns
/// column `i` of `intermediate` and row `i` of `output`. A pruned layer simply has fewer of
/// them (possibly none).
#[derive(Module, Debug)]
pub struct BertLayer {
    /// Query projection `[hidden, heads · d_head]`.
    pub query: Linear,
    /// Key projection `[hidden, heads · d_head]`.
    pub key: Linear,
    /// Value projection `[hidden, heads · d_head]`.
    pub value: Linear,
    /// Projection of the attention output `[heads · d_head, hidden]`.
    pub attention_output: Linear,
    /// Layer norm after the attention residual.
    pub attention_norm: LayerNorm,
    /// Feed-forward up-projection `[hidden, intermediate]`.
    pub intermediate: Linear,
    /// Feed-forward down-projection `[intermediate, hidden]`.
    pub output: Linear,
    /// Layer norm after the feed-forward residual.
    pub output_norm: LayerNorm,
    /// Dropout on attention probabilities.
    pub attention_dropout: Dropout,
    /// Dropout on sub-layer outputs.
    pub dropout: Dropout,
    /// Number of attention heads.
    pub num_heads: usize,
    /// Feed-forward activation.
    #[module(skip)]
    pub hidden_act: HiddenAct,
}

/// The attention restriction every layer of one forward pass shares.
#[derive(Debug, Clone)]
pub(super) struct LayerAttention {
    /// True where a key is masked out: `[batch, 1, 1, seq]` (padding only) or
    /// `[batch, 1, seq, seq]`.
    pub masked: Tensor<4, Bool>,
    /// Added to the scores, `[batch or 1, 1, seq, seq]`.
    pub bias: Option<Tensor<4>>,
}

/// How much of one layer a forward pass uses, and the unit masks applied to it.
#[derive(Debug, Clone)]
pub(super) struct LayerUnits {
    /// Heads kept (the first ones).
    pub heads: usize,
    /// Feed-forward neurons kept (the first ones).
    pub neurons: usize,
    /// Multiplies each kept head's output, `[heads]`.
    pub head_mask: Option<Tensor<1>>,
    /// Multiplies each kept neuron's activation, `[neurons]`.
    pub neuron_mask: Option<Tensor<1>>,
}

impl BertLayer {
    /// Size of one attention head (0 for a layer without heads).
    pub fn head_dim(&self) -> usize {
        match self.num_heads {
            0 => 0,
            heads => self.query.weight.lazy_shape().dims::<2>()[1] / heads,
        }
    }

    /// Feed-forward width (number of intermediate neurons).
    pub fn intermediate_size(&self) -> usize {
        self.intermediate.weight.lazy_shape().dims::<2>()[1]
    }

    /// One encoder layer.
    ///
    /// # Shapes
    /// - `hidden`: `[batch, seq, d_model]`
    /// - `padding`: `[batch, 1, 1, seq]`, true for padded keys
    /// - output: `[batch, seq, d_model]`
    pub fn forward(&self, hidden: Tensor<3>, padding: Tensor<4, Bool>) -> Tensor<3> {
        let attention = LayerAttention {
            masked: padding,
            bias: None,
        };
        let units = LayerUnits {
            heads: self.num_heads,
            neurons: self.intermediate_size(),
            head_mask: None,
            neuron_mask: None,
        };
        self.forward_units(hidden, &attention, units)
    }

    /// One encoder layer using the first `units.heads` heads and `units.neurons` neurons, with
    /// the unit masks multiplied in. Using every unit without masks runs exactly the plain
    /// layer (no extra operation).
    pub(super) fn forward_units(
        &self,
        hidden: Tensor<3>,
        attention: &LayerAttention,
        units: LayerUnits,
    ) -> Tensor<3> {
        let [batch, seq, _] = hidden.dims();
        let update = if units.heads == 0 {
            bias_only(&self.attention_output, batch, seq, &hidden)
        } else {
            let context = self.attend(hidden.clone(), attention, units.heads);
            // [batch, heads, seq, d_head] with each head scaled by its mask.
            let context = match units.head_mask {
                Some(mask) => context * mask.reshape([1, units.heads, 1, 1]),
                None => context,
            };
            let width = units.heads * self.head_dim();
            // [batch, heads, seq, d_head] -> [batch, seq, heads · d_head]
            let context = context.swap_dims(1, 2).reshape([batch, seq, width]);
            first_inputs(&self.attention_output, context, width)
        };
        let attended = self
            .attention_norm
            .forward(self.dropout.forward(update) + hidden);
        let update = if units.neurons == 0 {
            bias_only(&self.output, batch, seq, &attended)
        } else {
            let inner = first_outputs(&self.intermediate, attended.clone(), units.neurons);
            let inner = match self.hidden_act {
                HiddenAct::Gelu => gelu(inner),
                HiddenAct::GeluTanh => gelu_approximate(inner),
                HiddenAct::Relu => relu(inner),
            };
            let inner = match units.neuron_mask {
                Some(mask) => inner * mask.reshape([1, 1, units.neurons]),
                None => inner,
            };
            first_inputs(&self.output, inner, units.neurons)
        };
        self.output_norm
            .forward(self.dropout.forward(update) + attended)
    }

    /// Attention-weighted values of the first `heads` heads, `[batch, heads, seq, d_head]`.
    fn attend(&self, hidden: Tensor<3>, restriction: &LayerAttention, heads: usize) -> Tensor<4> {
        let [batch, seq, _] = hidden.dims();
        let d_head = self.head_dim();
        let width = heads * d_head;
        // [batch, seq, heads · d_head] -> [batch, heads, seq, d_head]
        let split = |x: Tensor<3>| x.reshape([batch, seq, heads, d_head]).swap_dims(1, 2);
        let q = split(first_outputs(&self.query, hidden.clone(), width));
        let k = split(first_outputs(&self.key, hidden.clone(), width));
        let v = split(first_outputs(&self.value, hidden.clone(), width));
        let shape = [batch, heads, seq, seq];
        let masked = restriction.masked.clone().expand(shape);
        let bias = restriction.bias.clone().map(|bias| bias.expand(shape));

        let dropout_active = self.attention_dropout.prob > 0.0
            && self.attention_dropout.training.is_enabled()
            && hidden.device().is_autodiff();
        if dropout_active {
            // [batch, heads, seq, seq]
            let scores = q.matmul(k.swap_dims(2, 3)) / (d_head as f64).sqrt();
            // A finite floor keeps rows whose every key is removed from turning into NaN.
            let scores = match bias {
                Some(bias) => scores + bias.clamp_min(-1e30),
                None => scores,
            };
            let scores = scores.mask_fill(masked, f32::MIN);
            let probs = self.attention_dropout.forward(softmax(scores, 3));
            probs.matmul(v)
        } else {
            attention(
                q,
                k,
                v,
                Some(masked),
                bias,
                AttentionModuleOptions::default(),
            )
        }
    }
}

/// `linear` restricted to its first `n` outputs (the whole layer when `n` is its width).
fn first_outputs(layer: &Linear, x: Tensor<3>, n: usize) -> Tensor<3> {
    let [d_in, d_out] = layer.weight.lazy_shape().dims();
    if n == d_out {
        return layer.forward(x);
    }
    let weight = layer.weight.val().slice([0..d_in, 0..n]);
    let bias = layer.bias.as_ref().map(|b| b.val().narrow(0, 0, n));
    linear(x, weight, bias)
}

/// `linear` restricted to its first `n` inputs (the whole layer when `n` is its width).
fn first_inputs(layer: &Linear, x: Tensor<3>, n: usize) -> Tensor<3> {
    let [d_in, d_out] = layer.weight.lazy_shape().dims();
    if n == d_in {
        return layer.forward(x);
    }
    let weight = layer.weight.val().slice([0..n, 0..d_out]);
    linear(x, weight, layer.bias.as_ref().map(|b| b.val()))
}

/// What a linear layer with no inputs left outputs: its bias (or zeros), `[batch, seq, d_out]`.
fn bias_only(layer: &Linear, batch: usize, seq: usize, like: &Tensor<3>) -> Tensor<3> {
    let [_, d_out] = layer.weight.lazy_shape().dims();
    match &layer.bias {
        Some(bias) => bias
            .val()
            .reshape([1, 1, d_out])
            .expand([batch, seq, d_out]),
        None => Tensor::zeros([batch, seq, d_out], &like.device()),
    }
}
