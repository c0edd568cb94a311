//! Structured pruning of a multilingual encoder, after "Probing Structured Pruning on
//! Multilingual Pre-trained Models: Settings, Algorithms, and Efficiency" (Li et al., ACL
//! 2022). The paper's code was not available: the procedure is the reconstruction of
//! `shared/papers/ml-prune.md` §4 and §6 on core's masks, Taylor importance and physical
//! pruning (`burnlp_core::nn::prune`) and text-cls's fine-tuning.
//!
//! - [`data`]: XNLI, PAWS-X and RTE readers, files tagged with their language;
//! - [`prune`](mod@prune): fine-tune, score heads and FFN neurons (mask importance, weight
//!   Taylor, L0 gates or random), prune to each sparsity (shared or per language),
//!   re-fine-tune, save loadable checkpoints;
//! - [`taylor`]: per-weight Taylor scores; [`l0`]: hard-concrete gates with an L0 penalty;
//! - [`profile`](mod@profile): parameters (embeddings apart), size on disk, latency per batch;
//! - [`dynamic`]: Dynamic Sparsification (width-adaptive distillation, any width at
//!   inference); [`eval`](mod@eval): one model's accuracy, size and latency; [`plot`](mod@plot):
//!   the table and SVG of several runs;
//! - [`demo`]: the `cargo xtask demo` rows on text-cls's synthetic task.

pub mod data;
pub mod demo;
pub mod dynamic;
pub mod error;
pub mod eval;
pub mod l0;
pub mod plot;
pub mod profile;
pub mod prune;
pub mod taylor;

pub use data::{LangPath, Task};
pub use error::{MlPruneError, Result};
pub use profile::{Latency, LatencyConfig, Params, Profile, profile};
pub use prune::{
    Method, PROGRESS, PruneConfig, PruneData, PruneReport, PrunedModel, RunControl, Setting, Units,
    importance_scores, prune, prune_with, random_scores, select,
};
