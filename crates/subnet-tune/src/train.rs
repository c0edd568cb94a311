//! Training with a strategy: text-cls's fine-tuning with the strategy's gradient masks.

use std::path::Path;

use burnlp_core::train::BestEval;
use serde::{Deserialize, Serialize};
use text_cls::Example;

use crate::data::Task;
use crate::error::SubnetError;
use crate::strategy::StrategyConfig;

/// Everything that decides a run besides its data (stored in `RUN/config.json`).
#[derive(clap::Args, Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SubnetConfig {
    /// The strategy and its hyperparameters.
    #[command(flatten)]
    pub strategy: StrategyConfig,
    /// Encoder, optimisation and the classifier head (text-cls's settings).
    #[command(flatten)]
    pub fine_tune: text_cls::TrainConfig,
}

impl SubnetConfig {
    /// The configuration with `task`'s head and selection metric (unless a metric was given).
    pub fn for_task(mut self, task: Task) -> Self {
        self.fine_tune.head = task.head();
        if self.fine_tune.metric.is_none() {
            self.fine_tune.metric = Some(task.metric().to_string());
        }
        self
    }
}

/// Fine-tunes on `train` with the configured strategy, selecting the best model on `dev`;
/// writes the run directory `out` (text-cls's layout, plus `masks/` for fixed masks).
pub fn train(
    config: &SubnetConfig,
    train: &[Example],
    dev: &[Example],
    out: &Path,
    origin: &serde_json::Value,
    resume: bool,
) -> Result<BestEval, SubnetError> {
    let subnetwork = config.strategy.subnetwork(config.fine_tune.seed, out);
    Ok(text_cls::train_with(
        &config.fine_tune,
        train,
        dev,
        out,
        origin,
        resume,
        subnetwork,
    )?)
}
