//! The encoder-decoder Transformer with teacher-forced and incremental decoding.
//!
//! Vaswani et al., "Attention Is All You Need", NeurIPS 2017
//! (<https://arxiv.org/abs/1706.03762>), following fairseq's `TransformerModel`
//! (<https://github.com/facebookresearch/fairseq/blob/main/fairseq/models/transformer>):
//! token embeddings scaled by `√d_model` plus padding-aware positions ([`super::positions`]),
//! dropout, a stack of post-LN or pre-LN layers ([`super::layers`]), a final layer norm for
//! pre-LN, and an output projection that is either its own matrix or the decoder's embedding
//! matrix. The decoder input (`prev_output_tokens`) starts with EOS, as fairseq's does.

use crate::nn::activation::log_softmax;
use burn::config::Config;
use burn::module::Module;
use burn::nn::{
    Dropout, DropoutConfig, Embedding, Initializer, LayerNorm, LayerNormConfig, Linear,
    LinearConfig,
};
use burn::tensor::module::linear;
use burn::tensor::{Bool, Device, Int, Tensor};

use super::attention::{KeyValue, MultiheadAttentionConfig};
use super::init::{padded_embedding, xavier_linear};
use super::layers::{
    Causality, DecoderLayer, EncoderLayer, FeedForward, FfnActivation, NormPosition,
};
use super::positions::PositionalEmbedding;
use super::search::{self, Hypothesis, IncrementalDecoder, SearchConfig};

/// How positions are embedded.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum PositionKind {
    /// Fixed sinusoids (fairseq's default).
    Sinusoidal,
    /// A learned table (fairseq's `--encoder-learned-pos`/`--decoder-learned-pos`).
    Learned,
}

/// Configuration of a [`Transformer`]; field names follow fairseq's arguments.
#[derive(Config, Debug)]
pub struct TransformerConfig {
    /// Source vocabulary size.
    pub src_vocab_size: usize,
    /// Target vocabulary size.
    pub tgt_vocab_size: usize,
    /// Model size (`--encoder-embed-dim`, `--decoder-embed-dim`).
    #[config(default = 512)]
    pub d_model: usize,
    /// Feed-forward inner size (`--encoder-ffn-embed-dim`).
    #[config(default = 2048)]
    pub ffn_dim: usize,
    /// Attention heads; must divide `d_model`.
    #[config(default = 8)]
    pub num_heads: usize,
    /// Encoder layers.
    #[config(default = 6)]
    pub encoder_layers: usize,
    /// Decoder layers.
    #[config(default = 6)]
    pub decoder_layers: usize,
    /// Dropout on embeddings and sub-layer outputs.
    #[config(default = 0.1)]
    pub dropout: f64,
    /// Dropout on attention probabilities.
    #[config(default = 0.0)]
    pub attention_dropout: f64,
    /// Dropout after the feed-forward activation.
    #[config(default = 0.0)]
    pub activation_dropout: f64,
    /// Feed-forward activation.
    #[config(default = "FfnActivation::Relu")]
    pub activation: FfnActivation,
    /// Post-LN (Vaswani et al.) or pre-LN.
    #[config(default = "NormPosition::Post")]
    pub norm_position: NormPosition,
    /// Sinusoidal or learned positions.
    #[config(default = "PositionKind::Sinusoidal")]
    pub positions: PositionKind,
    /// Longest source, in tokens.
    #[config(default = 1024)]
    pub max_source_positions: usize,
    /// Longest target, in tokens.
    #[config(default = 1024)]
    pub max_target_positions: usize,
    /// One embedding matrix for source, target and output (`--share-all-embeddings`); needs
    /// equal vocabularies.
    #[config(default = false)]
    pub share_all_embeddings: bool,
    /// Use the decoder embedding as the output matrix (`--share-decoder-input-output-embed`).
    #[config(default = false)]
    pub share_decoder_input_output_embed: bool,
    /// Multiply token embeddings by `√d_model` (off with fairseq's `--no-scale-embedding`).
    #[config(default = true)]
    pub scale_embedding: bool,
    /// Id of the padding token (fairseq dictionaries use 1).
    #[config(default = 1)]
    pub padding_idx: usize,
    /// Layer norm epsilon.
    #[config(default = 1e-5)]
    pub layer_norm_eps: f64,
    /// Decoder self-attention: causal (the default) or bidirectional, for decoders that
    /// generate all positions in parallel (see [`Causality::Bidirectional`]).
    #[config(default = "Causality::Causal")]
    pub decoder_causality: Causality,
}

impl TransformerConfig {
    /// A small model for tests and synthetic tasks: `d_model` 32, feed-forward 64, 4 heads,
    /// 2 + 2 layers, dropout 0.
    pub fn tiny(src_vocab_size: usize, tgt_vocab_size: usize) -> Self {
        Self::new(src_vocab_size, tgt_vocab_size)
            .with_d_model(32)
            .with_ffn_dim(64)
            .with_num_heads(4)
            .with_encoder_layers(2)
            .with_decoder_layers(2)
            .with_dropout(0.0)
            .with_max_source_positions(256)
            .with_max_target_positions(256)
    }

    /// A small model that trains in minutes on a CPU: `d_model` 256, feed-forward 1024,
    /// 4 heads, 3 + 3 layers, dropout 0.1.
    pub fn small(src_vocab_size: usize, tgt_vocab_size: usize) -> Self {
        Self::new(src_vocab_size, tgt_vocab_size)
            .with_d_model(256)
            .with_ffn_dim(1024)
            .with_num_heads(4)
            .with_encoder_layers(3)
            .with_decoder_layers(3)
    }

    /// fairseq's `transformer_iwslt_de_en`: `d_model` 512, feed-forward 1024, 4 heads,
    /// 6 + 6 layers, with the base architecture's other defaults (dropout 0.1, ReLU, post-LN,
    /// sinusoidal positions). The usual IWSLT'14 recipe adds `--dropout 0.3` and
    /// `--share-decoder-input-output-embed`.
    pub fn transformer_iwslt(src_vocab_size: usize, tgt_vocab_size: usize) -> Self {
        Self::new(src_vocab_size, tgt_vocab_size)
            .with_d_model(512)
            .with_ffn_dim(1024)
            .with_num_heads(4)
    }

    /// The base Transformer of Vaswani et al. (fairseq's `transformer`): `d_model` 512,
    /// feed-forward 2048, 8 heads, 6 + 6 layers, dropout 0.1.
    pub fn transformer_base(src_vocab_size: usize, tgt_vocab_size: usize) -> Self {
        Self::new(src_vocab_size, tgt_vocab_size)
    }

    /// A freshly initialised model, as fairseq initialises one: embeddings `N(0, d^-0.5)` with a
    /// zero padding row, Xavier-uniform linear layers with zero biases.
    pub fn init(&self, device: &Device) -> Transformer {
        assert!(
            self.num_heads > 0 && self.d_model.is_multiple_of(self.num_heads),
            "d_model {} must be a multiple of num_heads {}",
            self.d_model,
            self.num_heads
        );
        assert!(
            !self.share_all_embeddings || self.src_vocab_size == self.tgt_vocab_size,
            "share_all_embeddings needs equal vocabularies, got {} and {}",
            self.src_vocab_size,
            self.tgt_vocab_size
        );
        assert!(
            self.padding_idx < self.src_vocab_size.min(self.tgt_vocab_size),
            "padding_idx {} is outside the vocabularies",
            self.padding_idx
        );
        let d = self.d_model;
        let embed_scale = if self.scale_embedding {
            (d as f64).sqrt()
        } else {
            1.0
        };
        let embedding = |vocab| padded_embedding(vocab, d, self.padding_idx, device);
        let positions = |max| match self.positions {
            PositionKind::Sinusoidal => PositionalEmbedding::sinusoidal(d, self.padding_idx, max),
            PositionKind::Learned => PositionalEmbedding::learned(d, self.padding_idx, max, device),
        };
        let norm = || {
            LayerNormConfig::new(d)
                .with_epsilon(self.layer_norm_eps)
                .init(device)
        };
        let final_norm = || (self.norm_position == NormPosition::Pre).then(norm);
        let attention = |dropout| {
            MultiheadAttentionConfig::new(d, self.num_heads)
                .with_dropout(dropout)
                .init(device)
        };
        let ffn = || FeedForward {
            fc1: xavier_linear(d, self.ffn_dim, 1.0, device),
            fc2: xavier_linear(self.ffn_dim, d, 1.0, device),
            activation_dropout: DropoutConfig::new(self.activation_dropout).init(),
            activation: self.activation,
        };
        let dropout = || DropoutConfig::new(self.dropout).init();
        let encoder = TransformerEncoder {
            embed_tokens: embedding(self.src_vocab_size),
            embed_positions: positions(self.max_source_positions),
            layers: (0..self.encoder_layers)
                .map(|_| EncoderLayer {
                    self_attn: attention(self.attention_dropout),
                    self_attn_layer_norm: norm(),
                    ffn: ffn(),
                    final_layer_norm: norm(),
                    dropout: dropout(),
                    norm_position: self.norm_position,
                })
                .collect(),
            layer_norm: final_norm(),
            dropout: dropout(),
            embed_scale,
        };
        let tied_output = self.share_all_embeddings || self.share_decoder_input_output_embed;
        let decoder = TransformerDecoder {
            embed_tokens: (!self.share_all_embeddings).then(|| embedding(self.tgt_vocab_size)),
            embed_positions: positions(self.max_target_positions),
            layers: (0..self.decoder_layers)
                .map(|_| DecoderLayer {
                    self_attn: attention(self.attention_dropout),
                    self_attn_layer_norm: norm(),
                    encoder_attn: attention(self.attention_dropout),
                    encoder_attn_layer_norm: norm(),
                    ffn: ffn(),
                    final_layer_norm: norm(),
                    dropout: dropout(),
                    norm_position: self.norm_position,
                    causality: self.decoder_causality,
                })
                .collect(),
            layer_norm: final_norm(),
            output_projection: (!tied_output).then(|| {
                LinearConfig::new(d, self.tgt_vocab_size)
                    .with_bias(false)
                    .with_initializer(Initializer::Normal {
                        mean: 0.0,
                        std: (d as f64).powf(-0.5),
                    })
                    .init(device)
            }),
            dropout: dropout(),
            embed_scale,
        };
        Transformer {
            encoder,
            decoder,
            padding_idx: self.padding_idx,
        }
    }
}

/// The encoder stack.
#[derive(Module, Debug)]
pub struct TransformerEncoder {
    /// Source token embeddings `[src_vocab, d_model]` (shared with the decoder under
    /// `share_all_embeddings`).
    pub embed_tokens: Embedding,
    /// Source positions.
    pub embed_positions: PositionalEmbedding,
    /// The layers.
    pub layers: Vec<EncoderLayer>,
    /// Final layer norm (pre-LN only).
    pub layer_norm: Option<LayerNorm>,
    /// Dropout on the embeddings.
    pub dropout: Dropout,
    /// Multiplier of the token embeddings.
    pub embed_scale: f64,
}

/// The decoder stack and output projection.
#[derive(Module, Debug)]
pub struct TransformerDecoder {
    /// Target token embeddings `[tgt_vocab, d_model]`; `None` when shared with the encoder.
    pub embed_tokens: Option<Embedding>,
    /// Target positions.
    pub embed_positions: PositionalEmbedding,
    /// The layers.
    pub layers: Vec<DecoderLayer>,
    /// Final layer norm (pre-LN only).
    pub layer_norm: Option<LayerNorm>,
    /// Output matrix (no bias); `None` when tied to the target embeddings.
    pub output_projection: Option<Linear>,
    /// Dropout on the embeddings.
    pub dropout: Dropout,
    /// Multiplier of the token embeddings.
    pub embed_scale: f64,
}

/// An encoded source batch.
#[derive(Debug, Clone)]
pub struct EncoderOutput {
    /// Encoder states `[batch, src_len, d_model]`.
    pub hidden: Tensor<3>,
    /// `[batch, src_len]`, true for padding.
    pub padding: Tensor<2, Bool>,
}

/// The caches of incremental decoding: per decoder layer, the self-attention keys and values
/// of the tokens decoded so far, and the encoder-attention keys and values of the source
/// (computed once in [`Transformer::start_decoding`]).
#[derive(Debug, Clone)]
pub struct DecoderState {
    self_attention: Vec<Option<KeyValue>>,
    memory: Vec<KeyValue>,
    memory_padding: Tensor<2, Bool>,
    len: usize,
}

impl DecoderState {
    /// Number of target tokens fed so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True before the first step.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of rows (hypotheses) being decoded.
    pub fn rows(&self) -> usize {
        self.memory_padding.dims()[0]
    }

    /// Keeps the rows `order`, in that order (rows may repeat): beam search calls this to follow
    /// the surviving hypotheses and to drop finished sentences.
    pub fn reorder(&mut self, order: Tensor<1, Int>) {
        for cache in self.self_attention.iter_mut() {
            *cache = cache.take().map(|kv| kv.select(order.clone()));
        }
        for memory in self.memory.iter_mut() {
            *memory = memory.clone().select(order.clone());
        }
        self.memory_padding = self.memory_padding.clone().select(0, order);
    }
}

/// The encoder-decoder Transformer.
#[derive(Module, Debug)]
pub struct Transformer {
    /// The encoder.
    pub encoder: TransformerEncoder,
    /// The decoder.
    pub decoder: TransformerDecoder,
    /// Id of the padding token.
    pub padding_idx: usize,
}

impl Transformer {
    /// The target token embeddings (the encoder's when all embeddings are shared).
    pub fn target_embedding(&self) -> &Embedding {
        self.decoder
            .embed_tokens
            .as_ref()
            .unwrap_or(&self.encoder.embed_tokens)
    }

    /// Whether the decoder's self-attention is causal or bidirectional.
    pub fn causality(&self) -> Causality {
        self.decoder
            .layers
            .first()
            .map_or(Causality::Causal, |layer| layer.causality)
    }

    /// Target vocabulary size.
    pub fn tgt_vocab_size(&self) -> usize {
        self.target_embedding().weight.lazy_shape().dims::<2>()[0]
    }

    /// Encodes a padded source batch.
    ///
    /// # Shapes
    /// - `src_tokens`: `[batch, src_len]`
    /// - `src_padding`: `[batch, src_len]`, true for padding
    pub fn encode(
        &self,
        src_tokens: Tensor<2, Int>,
        src_padding: Tensor<2, Bool>,
    ) -> EncoderOutput {
        let e = &self.encoder;
        let x = e.embed_tokens.forward(src_tokens) * e.embed_scale
            + e.embed_positions.forward(src_padding.clone());
        // Zero the padded positions, as fairseq does.
        let real = src_padding.clone().bool_not().float().unsqueeze_dim::<3>(2);
        let mut x = e.dropout.forward(x) * real;
        for layer in &e.layers {
            x = layer.forward(x, Some(src_padding.clone()));
        }
        if let Some(norm) = &e.layer_norm {
            x = norm.forward(x);
        }
        EncoderOutput {
            hidden: x,
            padding: src_padding,
        }
    }

    /// Teacher-forced decoding: next-token logits for every prefix of `prev_output_tokens`
    /// (the target shifted right, starting with EOS), with causal masking and masking of the
    /// target padding (`prev_output_tokens == padding_idx`). A bidirectional decoder
    /// ([`Causality::Bidirectional`]) masks only the padding: every position's output depends
    /// on all target positions.
    ///
    /// # Shapes
    /// - `prev_output_tokens`: `[batch, tgt_len]`
    /// - output: `[batch, tgt_len, tgt_vocab]`
    pub fn decode(
        &self,
        prev_output_tokens: Tensor<2, Int>,
        encoder_out: &EncoderOutput,
    ) -> Tensor<3> {
        let padding = prev_output_tokens
            .clone()
            .equal_elem(self.padding_idx as i64);
        let positions = self.decoder.embed_positions.forward(padding.clone());
        let mut x = self.embed_target(prev_output_tokens, positions);
        for layer in &self.decoder.layers {
            let memory = layer.encoder_attn.key_value(encoder_out.hidden.clone());
            x = layer
                .forward(
                    x,
                    Some(padding.clone()),
                    None,
                    memory,
                    encoder_out.padding.clone(),
                )
                .0;
        }
        self.output_layer(x)
    }

    /// Teacher-forced training forward: [`Self::encode`] then [`Self::decode`].
    ///
    /// # Shapes
    /// - `src_tokens`, `src_padding`: `[batch, src_len]`
    /// - `prev_output_tokens`: `[batch, tgt_len]`
    /// - output: logits `[batch, tgt_len, tgt_vocab]`
    pub fn forward(
        &self,
        src_tokens: Tensor<2, Int>,
        src_padding: Tensor<2, Bool>,
        prev_output_tokens: Tensor<2, Int>,
    ) -> Tensor<3> {
        let encoder_out = self.encode(src_tokens, src_padding);
        self.decode(prev_output_tokens, &encoder_out)
    }

    /// Prepares incremental decoding of `encoder_out`: projects the encoder states to the keys
    /// and values of every decoder layer's encoder attention, once.
    pub fn start_decoding(&self, encoder_out: &EncoderOutput) -> DecoderState {
        DecoderState {
            self_attention: vec![None; self.decoder.layers.len()],
            memory: self
                .decoder
                .layers
                .iter()
                .map(|layer| layer.encoder_attn.key_value(encoder_out.hidden.clone()))
                .collect(),
            memory_padding: encoder_out.padding.clone(),
            len: 0,
        }
    }

    /// Feeds the next `len` target tokens (usually one) and returns their next-token logits,
    /// extending the caches; only the new positions are computed. Rows must not contain
    /// padding.
    ///
    /// # Panics
    /// A bidirectional decoder ([`Causality::Bidirectional`]) can only decode all positions in
    /// one call from a fresh state (earlier positions would have to see the new ones); extending
    /// a non-empty state panics, so greedy and beam search need a causal decoder.
    ///
    /// # Shapes
    /// - `tokens`: `[rows, len]`
    /// - output: `[rows, len, tgt_vocab]`
    pub fn decode_step(&self, tokens: Tensor<2, Int>, state: &mut DecoderState) -> Tensor<3> {
        let [rows, len] = tokens.dims();
        assert_eq!(
            rows,
            state.rows(),
            "decode_step got {rows} rows for a state of {} rows",
            state.rows()
        );
        assert!(
            state.is_empty() || self.causality() == Causality::Causal,
            "a bidirectional decoder cannot extend a decoding state of {} positions: feed all \
             positions in one decode_step or use decode",
            state.len()
        );
        let positions =
            self.decoder
                .embed_positions
                .continuing(state.len, rows, len, &tokens.device());
        let mut x = self.embed_target(tokens, positions);
        for (i, layer) in self.decoder.layers.iter().enumerate() {
            let (out, keys) = layer.forward(
                x,
                None,
                state.self_attention[i].take(),
                state.memory[i].clone(),
                state.memory_padding.clone(),
            );
            state.self_attention[i] = Some(keys);
            x = out;
        }
        state.len += len;
        self.output_layer(x)
    }

    /// Greedy decoding of a source batch (see [`search::greedy_search`]); one hypothesis per
    /// source.
    ///
    /// # Shapes
    /// - `src_tokens`, `src_padding`: `[batch, src_len]`
    pub fn greedy(
        &self,
        src_tokens: Tensor<2, Int>,
        src_padding: Tensor<2, Bool>,
        config: &SearchConfig,
    ) -> Vec<Hypothesis> {
        let src_len = src_tokens.dims()[1];
        let state = self.start_decoding(&self.encode(src_tokens, src_padding));
        search::greedy_search(self, state, src_len, config)
    }

    /// Beam search over a source batch (see [`search::beam_search`]); for each source, up to
    /// `beam_size` hypotheses, best first.
    ///
    /// # Shapes
    /// - `src_tokens`, `src_padding`: `[batch, src_len]`
    pub fn beam_search(
        &self,
        src_tokens: Tensor<2, Int>,
        src_padding: Tensor<2, Bool>,
        config: &SearchConfig,
    ) -> Vec<Vec<Hypothesis>> {
        let src_len = src_tokens.dims()[1];
        let state = self.start_decoding(&self.encode(src_tokens, src_padding));
        search::beam_search(self, state, src_len, config)
    }

    /// Scaled target embeddings plus positions, with dropout.
    fn embed_target(&self, tokens: Tensor<2, Int>, positions: Tensor<3>) -> Tensor<3> {
        let d = &self.decoder;
        d.dropout
            .forward(self.target_embedding().forward(tokens) * d.embed_scale + positions)
    }

    /// Final layer norm (pre-LN) and output projection.
    fn output_layer(&self, x: Tensor<3>) -> Tensor<3> {
        let x = match &self.decoder.layer_norm {
            Some(norm) => norm.forward(x),
            None => x,
        };
        match &self.decoder.output_projection {
            Some(projection) => projection.forward(x),
            None => linear(x, self.target_embedding().weight.val().transpose(), None),
        }
    }
}

impl IncrementalDecoder for Transformer {
    type State = DecoderState;

    fn device(&self) -> Device {
        self.target_embedding().weight.val().device()
    }

    fn max_positions(&self) -> usize {
        self.decoder.embed_positions.max_positions
    }

    fn rows(&self, state: &DecoderState) -> usize {
        state.rows()
    }

    fn next_log_probs(&self, state: &mut DecoderState, tokens: Tensor<2, Int>) -> Tensor<2> {
        let logits = self.decode_step(tokens, state);
        let [rows, len, vocab] = logits.dims();
        let last = logits.slice([0..rows, len - 1..len]).reshape([rows, vocab]);
        log_softmax(last, 1)
    }

    fn reorder(&self, state: &mut DecoderState, order: Tensor<1, Int>) {
        state.reorder(order);
    }
}
