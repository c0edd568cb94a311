//! Sub-network fine-tuning of BERT-family encoders: Child-Tuning_F and _D (Xu et al., EMNLP
//! 2021), Bi-Drop (Tong et al., Findings of EMNLP 2023) and S4-Tuning (Xu et al., ACL 2022).
//!
//! All of them update only a sub-network of a pre-trained encoder by multiplying the gradient
//! with a 0/1 mask before AdamW's moment updates; they differ in where the mask comes from
//! ([`strategy`]). The classifier, its training loop and its run directory are text-cls's
//! ([`text_cls::train_with`]); the masks are core's (`burnlp_core::train::subnet`). This crate
//! adds the strategies, the readers of the formats the papers use and the comparisons.
//!
//! - [`data`]: GLUE, XNLI, PAWS-X, JSON Lines and Tatoeba readers; `LANG=PATH` arguments;
//! - [`strategy`]: [`Strategy`] and [`StrategyConfig`] (the flags of every strategy);
//! - [`train`]: [`SubnetConfig`] and [`train()`];
//! - [`masks`]: a run's fixed masks, their density per layer and overlap between languages;
//! - [`tatoeba`]: few-shot contrastive adaptation for Tatoeba retrieval (S4-Tuning's setting);
//! - [`experiment`]: the comparisons behind `docs/results/subnet-tune.md` (GLUE-style tasks,
//!   and Tatoeba in [`experiment::tatoeba`]);
//! - [`demo`]: the `cargo xtask demo` rows.

pub mod data;
pub mod demo;
pub mod error;
pub mod experiment;
pub mod masks;
pub mod strategy;
pub mod tatoeba;
pub mod train;

pub use data::{DataFile, Task, read_files};
pub use error::SubnetError;
pub use strategy::{Strategy, StrategyConfig};
pub use train::{SubnetConfig, train};
