//! Span and sequence layers shared by span-based extraction and tagging tasks.
//!
//! - [`enumerate`]: candidate spans up to a maximum width within sentences ([`Spans`]);
//! - [`representation`]: span vectors `[start; end; pooled inside; width]`;
//! - [`biaffine`]: biaffine pair scorer with label channels (Dozat & Manning 2017);
//! - [`crf`]: linear-chain CRF with masked log-likelihood and Viterbi decoding;
//! - [`pointer`](mod@pointer): pointer head, additive or bilinear (Vinyals et al. 2015).
//!
//! Masks here are `Bool` tensors that are true for real items (tokens, spans, positions).
//! Optimal matching of predicted to gold structures lives in [`crate::matching`].

pub mod biaffine;
pub mod crf;
pub mod enumerate;
pub mod pointer;
pub mod representation;

pub use biaffine::{Biaffine, BiaffineConfig};
pub use crf::{Crf, CrfConfig, CrfPath};
pub use enumerate::{
    SpanError, Spans, enumerate_spans, sentences_from_lengths, span_grid_index, span_grid_pair,
};
pub use pointer::{PointerHead, PointerHeadConfig, PointerScoring};
pub use representation::{SpanPooling, SpanRepresentation, SpanRepresentationConfig};

/// Score given to masked entries before a softmax: finite, so that fully masked rows give no
/// NaN, and low enough that `exp` of it relative to any real score is exactly 0.
const MASKED_SCORE: f32 = -1e9;
