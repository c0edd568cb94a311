//! Structured pruning of a multilingual encoder, after "Probing Structured Pruning on
//! Multilingual Pre-trained Models: Settings, Algorithms, and Efficiency" (Li et al., ACL
//! 2022). The paper's code was not available: the procedure is the reconstruction of
//! `shared/papers/ml-prune.md` §4 and §6 on core's masks, Taylor importance and physical
//! pruning (`burnlp_core::nn::prune`) and text-cls's fine-tuning.
//!
//! - [`data`]: XNLI, PAWS-X and RTE readers;
//! - [`prune`](mod@prune): fine-tune, score heads and FFN neurons (Taylor importance or random),
//!   prune to each sparsity, re-fine-tune, save loadable checkpoints;
//! - [`profile`](mod@profile): parameters (embeddings apart), size on disk, latency per batch;
//! - [`demo`]: the `cargo xtask demo` rows on text-cls's synthetic task.

pub mod data;
pub mod demo;
pub mod error;
pub mod profile;
pub mod prune;

pub use data::Task;
pub use error::{MlPruneError, Result};
pub use profile::{Latency, LatencyConfig, Params, Profile, profile};
pub use prune::{
    Method, PruneConfig, PruneData, PruneReport, PrunedModel, Setting, Units, importance_scores,
    prune, random_scores, select,
};
