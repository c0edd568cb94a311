//! Synthetic tasks that train burnlp-core's layers end to end on generated data.
//!
//! - [`graph`]: graph classification with the relational GCN;
//! - [`copy`]: sequence copying/reversal with the encoder-decoder Transformer.
//!
//! `cargo xtask demo` runs both through `synth-tasks demo`.

pub mod copy;
pub mod graph;

pub use burnlp_core::report::DemoRow;
