//! Encoder and decoder layers of the Transformer, post-LN or pre-LN.
//!
//! Vaswani et al. 2017 (<https://arxiv.org/abs/1706.03762>) normalise after each residual
//! connection (post-LN); Xiong et al., "On Layer Normalization in the Transformer Architecture",
//! ICML 2020 (<https://arxiv.org/abs/2002.04745>) normalise the input of each sub-layer
//! (pre-LN, fairseq's `--encoder-normalize-before`/`--decoder-normalize-before`). The layout and
//! names follow fairseq's `TransformerEncoderLayer` and `TransformerDecoderLayer`.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, LayerNorm, Linear};
use burn::tensor::activation::{gelu, relu};
use burn::tensor::{Bool, Tensor};

use super::attention::{KeyValue, MultiheadAttention};

/// Where layer normalisation sits relative to the residual connections.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum NormPosition {
    /// After each residual addition (Vaswani et al. 2017; fairseq's default).
    Post,
    /// Before each sub-layer, with a final layer norm after the last layer.
    Pre,
}

/// Which target positions the decoder's self-attention lets each position see.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum Causality {
    /// Position `t` sees positions `0..=t` (autoregressive decoding; the default).
    Causal,
    /// Every position sees every (unpadded) target position: for decoders that produce all
    /// outputs at once from a fixed set of input slots, such as IPGPF's parallel event
    /// generation. Such a decoder runs teacher-forced ([`Transformer::decode`]) or in a single
    /// [`Transformer::decode_step`]; it cannot be extended step by step.
    ///
    /// [`Transformer::decode`]: super::Transformer::decode
    /// [`Transformer::decode_step`]: super::Transformer::decode_step
    Bidirectional,
}

/// The activation of the feed-forward block.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum FfnActivation {
    /// ReLU (Vaswani et al. 2017).
    Relu,
    /// Exact GELU with `erf`.
    Gelu,
}

/// The position-wise feed-forward block `fc2(dropout(act(fc1(x))))`.
#[derive(Module, Debug)]
pub struct FeedForward {
    /// Up-projection `d_model → ffn_dim`.
    pub fc1: Linear,
    /// Down-projection `ffn_dim → d_model`.
    pub fc2: Linear,
    /// Dropout after the activation.
    pub activation_dropout: Dropout,
    /// The activation.
    #[module(skip)]
    pub activation: FfnActivation,
}

impl FeedForward {
    /// # Shapes
    /// - `x`, output: `[batch, len, d_model]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let inner = self.fc1.forward(x);
        let inner = match self.activation {
            FfnActivation::Relu => relu(inner),
            FfnActivation::Gelu => gelu(inner),
        };
        self.fc2.forward(self.activation_dropout.forward(inner))
    }
}

/// A residual sub-layer: `x + dropout(f(x'))` where `x'` is `norm(x)` for pre-LN, and the sum
/// is normalised for post-LN.
fn residual(
    x: Tensor<3>,
    norm: &LayerNorm,
    position: NormPosition,
    dropout: &Dropout,
    sublayer: impl FnOnce(Tensor<3>) -> Tensor<3>,
) -> Tensor<3> {
    match position {
        NormPosition::Pre => x.clone() + dropout.forward(sublayer(norm.forward(x))),
        NormPosition::Post => norm.forward(x.clone() + dropout.forward(sublayer(x))),
    }
}

/// One encoder layer: self-attention and feed-forward.
#[derive(Module, Debug)]
pub struct EncoderLayer {
    /// Self-attention.
    pub self_attn: MultiheadAttention,
    /// Layer norm of the self-attention sub-layer.
    pub self_attn_layer_norm: LayerNorm,
    /// Feed-forward block.
    pub ffn: FeedForward,
    /// Layer norm of the feed-forward sub-layer.
    pub final_layer_norm: LayerNorm,
    /// Dropout on each sub-layer's output.
    pub dropout: Dropout,
    /// Post-LN or pre-LN.
    #[module(skip)]
    pub norm_position: NormPosition,
}

impl EncoderLayer {
    /// # Shapes
    /// - `x`, output: `[batch, src_len, d_model]`
    /// - `padding`: `[batch, src_len]`, true for padding
    pub fn forward(&self, x: Tensor<3>, padding: Option<Tensor<2, Bool>>) -> Tensor<3> {
        let x = residual(
            x,
            &self.self_attn_layer_norm,
            self.norm_position,
            &self.dropout,
            |h| {
                let memory = self.self_attn.key_value(h.clone());
                self.self_attn.attend(h, memory, padding, false)
            },
        );
        residual(
            x,
            &self.final_layer_norm,
            self.norm_position,
            &self.dropout,
            |h| self.ffn.forward(h),
        )
    }
}

/// One decoder layer: (causal or bidirectional) self-attention, encoder-decoder attention and
/// feed-forward.
#[derive(Module, Debug)]
pub struct DecoderLayer {
    /// Self-attention over the target positions.
    pub self_attn: MultiheadAttention,
    /// Layer norm of the self-attention sub-layer.
    pub self_attn_layer_norm: LayerNorm,
    /// Attention over the encoder output.
    pub encoder_attn: MultiheadAttention,
    /// Layer norm of the encoder-attention sub-layer.
    pub encoder_attn_layer_norm: LayerNorm,
    /// Feed-forward block.
    pub ffn: FeedForward,
    /// Layer norm of the feed-forward sub-layer.
    pub final_layer_norm: LayerNorm,
    /// Dropout on each sub-layer's output.
    pub dropout: Dropout,
    /// Post-LN or pre-LN.
    #[module(skip)]
    pub norm_position: NormPosition,
    /// Causal or bidirectional self-attention.
    #[module(skip)]
    pub causality: Causality,
}

impl DecoderLayer {
    /// Runs the layer on the last `len` target positions.
    ///
    /// `past` holds the self-attention keys and values of the positions before them (from
    /// earlier calls); the returned [`KeyValue`] covers `past` and the new positions, ready for
    /// the next call. Without `past`, `x` is the whole target prefix (teacher forcing).
    ///
    /// # Shapes
    /// - `x`, output: `[batch, len, d_model]`
    /// - `self_padding`: `[batch, past + len]`, true for padded target positions
    /// - `memory`: the encoder output projected by [`Self::encoder_attn`], `[batch, heads,
    ///   src_len, d_head]`
    /// - `memory_padding`: `[batch, src_len]`, true for source padding
    pub fn forward(
        &self,
        x: Tensor<3>,
        self_padding: Option<Tensor<2, Bool>>,
        past: Option<KeyValue>,
        memory: KeyValue,
        memory_padding: Tensor<2, Bool>,
    ) -> (Tensor<3>, KeyValue) {
        let mut cache = None;
        let x = residual(
            x,
            &self.self_attn_layer_norm,
            self.norm_position,
            &self.dropout,
            |h| {
                let new = self.self_attn.key_value(h.clone());
                let keys = match past {
                    Some(past) => past.append(new),
                    None => new,
                };
                cache = Some(keys.clone());
                let causal = self.causality == Causality::Causal;
                self.self_attn.attend(h, keys, self_padding, causal)
            },
        );
        let x = residual(
            x,
            &self.encoder_attn_layer_norm,
            self.norm_position,
            &self.dropout,
            |h| {
                self.encoder_attn
                    .attend(h, memory, Some(memory_padding), false)
            },
        );
        let x = residual(
            x,
            &self.final_layer_norm,
            self.norm_position,
            &self.dropout,
            |h| self.ffn.forward(h),
        );
        (x, cache.expect("the self-attention sub-layer ran"))
    }
}
