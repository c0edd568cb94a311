//! The encoder-decoder Transformer for sequence-to-sequence tasks (NMT, AMR parsing).
//!
//! Vaswani et al., "Attention Is All You Need", NeurIPS 2017
//! (<https://arxiv.org/abs/1706.03762>), in the layout and conventions of fairseq's
//! `transformer` models and `SequenceGenerator`:
//!
//! - [`model`]: [`TransformerConfig`] (presets `tiny`, `transformer_iwslt`,
//!   `transformer_base`) and [`Transformer`]: teacher-forced [`Transformer::forward`] and
//!   incremental decoding with cached keys and values ([`Transformer::start_decoding`],
//!   [`Transformer::decode_step`], [`DecoderState::reorder`]);
//! - [`layers`]: post-LN/pre-LN encoder and decoder layers, ReLU/GELU feed-forward, causal or
//!   bidirectional decoder self-attention ([`Causality`]);
//! - [`attention`]: multi-head attention whose keys and values can be cached;
//! - [`positions`]: padding-aware sinusoidal or learned position embeddings;
//! - [`search`]: greedy decoding and batched beam search over any [`IncrementalDecoder`];
//! - [`batch`]: fairseq-style collation ([`Seq2SeqBatch`]) and the label-smoothed losses (uniform,
//!   or with any per-token smoothing distribution).
//!
//! Token conventions follow fairseq: sources end with EOS, the decoder input starts with EOS,
//! padding positions are ignored everywhere (positions, attention, loss).

pub mod attention;
pub mod batch;
mod init;
pub mod layers;
pub mod model;
pub mod positions;
pub mod search;

pub use batch::{
    Seq2SeqBatch, label_smoothed_cross_entropy, weighted_label_smoothed_cross_entropy,
};
pub use layers::{Causality, FfnActivation, NormPosition};
pub use model::{DecoderState, EncoderOutput, PositionKind, Transformer, TransformerConfig};
pub use search::{Hypothesis, IncrementalDecoder, SearchConfig, beam_search, greedy_search};
