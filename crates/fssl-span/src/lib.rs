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
//! - [`train`]: [`TrainConfig`], the episodic [`burnlp_core::train::TrainTask`] and
//!   [`train()`];
//! - [`run`]: a trained run directory ([`Run`]: `load`, `evaluate`, `predict`);
//! - [`demo`]: the `cargo xtask demo` row on sentence-disjoint synthetic episodes;
//! - [`experiment`]: the `cargo xtask results` suite (SNIPS held-out intents, Few-NERD);
//! - [`synthetic`]: the demo's generated corpus;
//! - [`error`]: the error type [`FsslError`].

pub mod data;
pub mod demo;
pub mod encode;
pub mod error;
pub mod eval;
pub mod experiment;
pub mod model;
pub mod run;
pub mod sample;
pub mod spans;
pub mod synthetic;
pub mod train;

pub use error::FsslError;
pub use experiment::{ExperimentConfig, experiment};
pub use run::{QueryPrediction, Run, Trained, load_episodes};
pub use train::{F1Kind, TrainConfig, train};
