//! ESD span-based few-shot sequence labeling (Few-NERD, SNIPS episodes).
//!
//! Wang et al., "An Enhanced Span-based Decomposition Method for Few-Shot Sequence Labeling",
//! NAACL 2022 (<https://arxiv.org/abs/2109.13023>). Modules:
//!
//! - [`data`]: the [`data::Episode`] type, Few-NERD JSONL and SNIPS few-shot JSON readers,
//!   IO/BIO entity chunking;
//! - [`sample`]: flat corpora (CoNLL, `seq.in`/`seq.out`) and the greedy Few-NERD episode
//!   sampler;
//! - [`spans`]: candidate spans, O sub-classes, soft-NMS beam search;
//! - [`encode`]: episodes → subword ids, spans and labels;
//! - [`model`]: ESD and the token-level prototypical baseline;
//! - [`eval`]: prediction and the Few-NERD / SNIPS F1 definitions;
//! - [`train`]: the episodic [`burnlp_core::train::TrainTask`];
//! - [`synthetic`]: the demo's generated corpus.

pub mod data;
pub mod encode;
pub mod eval;
pub mod model;
pub mod sample;
pub mod spans;
pub mod synthetic;
pub mod train;
