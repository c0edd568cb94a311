//! Synthetic tasks that train burnlp-core's layers end to end on generated data.
//!
//! - [`graph`]: graph classification with the relational GCN;
//! - [`copy`]: sequence copying/reversal with the encoder-decoder Transformer.
//!
//! `cargo xtask demo` runs both through `synth-tasks demo`.

pub mod copy;
pub mod graph;

use serde::Serialize;

/// One row of the demo results table.
#[derive(Debug, Clone, Serialize)]
pub struct DemoResult {
    /// Task name, e.g. `synth-graph`.
    pub task: String,
    /// Description of the data.
    pub dataset: String,
    /// Name of the metric.
    pub metric: String,
    /// Score reached on held-out data.
    pub score: f64,
    /// Score the demo must reach.
    pub target: f64,
    /// Seconds the task took.
    pub wall_s: f64,
}
