//! The comparison suite: every strategy on the same data, seeds and steps, a learning-rate
//! search per strategy on dev, test scores as mean ± standard deviation over seeds.
//!
//! Splits: the model-selection (dev) portion is carved from the training file with a fixed
//! seed, the reported test file is never trained or selected on, and training subsets
//! (low-resource settings) are drawn from the rest, the same subset for every strategy and
//! seed. The overlap of test with train+dev is checked.

pub mod tatoeba;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use burnlp_core::data::check_disjoint;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use text_cls::{Example, Run};

use crate::data::{DataFile, Task, read_files};
use crate::error::SubnetError;
use crate::strategy::{Strategy, StrategyConfig};
use crate::train::{SubnetConfig, train};

/// Settings of a comparison.
#[derive(clap::Args, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentConfig {
    /// The task (reader, head and metric).
    #[arg(long, value_enum)]
    pub task: Task,
    /// Training file(s); the dev portion is carved from them.
    #[arg(long = "train", required = true)]
    pub train: Vec<DataFile>,
    /// Test file(s), reported on and never selected on. Without it, a test portion of
    /// `--test-size` examples is carved from the training files too.
    #[arg(long = "test")]
    pub test: Vec<DataFile>,
    /// Examples held out of the training files for model and learning-rate selection.
    #[arg(long, default_value_t = 200, value_parser = burnlp_core::cli::positive)]
    pub dev_size: usize,
    /// Examples carved out for testing when no `--test` file is given.
    #[arg(long, default_value_t = 200, value_parser = burnlp_core::cli::positive)]
    pub test_size: usize,
    /// Training-set sizes to compare (0 = everything left after dev/test).
    #[arg(long, value_delimiter = ',', default_value = "0")]
    pub subsets: Vec<usize>,
    /// Strategies to compare.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "vanilla,child-f,child-d,bi-drop"
    )]
    pub strategies: Vec<Strategy>,
    /// Seeds per strategy and setting.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,4,5")]
    pub seeds: Vec<u64>,
    /// Encoder learning rates searched per strategy (on the first seed, by dev score).
    #[arg(long, value_delimiter = ',', default_value = "4e-5")]
    pub lrs: Vec<f64>,
    /// Seed of the dev/test carving and of the subsets.
    #[arg(long, default_value_t = 0)]
    pub data_seed: u64,
    /// Where the runs go.
    #[arg(long, default_value = "target/burnlp/experiment/subnet-tune")]
    pub runs: PathBuf,
}

/// The splits of a comparison.
pub struct Splits {
    /// Training pool (subsets are drawn from it).
    pub train: Vec<Example>,
    /// Model-selection examples.
    pub dev: Vec<Example>,
    /// Reported examples.
    pub test: Vec<Example>,
}

/// Carves dev (and, without a test file, test) out of the shuffled training examples.
pub fn splits(config: &ExperimentConfig) -> Result<Splits, SubnetError> {
    let mut pool = read_files(config.task, &config.train)?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(config.data_seed);
    pool.shuffle(&mut rng);
    let carve = |pool: &mut Vec<Example>, n: usize, what: &str| {
        if pool.len() <= n {
            return Err(SubnetError::Setup(format!(
                "the training files have {} examples, too few to carve {n} {what} examples",
                pool.len()
            )));
        }
        Ok(pool.split_off(pool.len() - n))
    };
    let test = if config.test.is_empty() {
        carve(&mut pool, config.test_size, "test")?
    } else {
        read_files(config.task, &config.test)?
    };
    let dev = carve(&mut pool, config.dev_size, "dev")?;
    let key = |e: &Example| format!("{}\t{}", e.text, e.pair.as_deref().unwrap_or(""));
    let seen: Vec<String> = pool.iter().chain(&dev).map(key).collect();
    let test_keys: Vec<String> = test.iter().map(key).collect();
    check_disjoint("subnet-tune experiment train+dev/test", &seen, &test_keys)?;
    Ok(Splits {
        train: pool,
        dev,
        test,
    })
}

/// One strategy's results in one setting.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cell {
    /// Training-set size.
    pub train_size: usize,
    /// The strategy.
    pub strategy: Strategy,
    /// The learning rate chosen on dev.
    pub lr: f64,
    /// Dev score of each learning rate tried (first seed).
    pub lr_search: Vec<(f64, f64)>,
    /// Test score per seed.
    pub test: Vec<f64>,
}

impl Cell {
    /// Mean and sample standard deviation of the test scores.
    pub fn mean_std(&self) -> (f64, f64) {
        mean_std(&self.test)
    }
}

/// Mean and sample standard deviation (0 for a single value; 0 and 0 for none).
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    burnlp_core::metrics::mean_std(values).unwrap_or((0.0, 0.0))
}

/// Trains one run and returns (best dev score, test score).
fn one_run(
    base: &SubnetConfig,
    strategy: Strategy,
    lr: f64,
    seed: u64,
    data: (&[Example], &[Example], &[Example]),
    dir: &Path,
) -> Result<(f64, f64), SubnetError> {
    let mut config = base.clone();
    config.strategy.strategy = strategy;
    config.fine_tune.encoder_lr = lr;
    config.fine_tune.seed = seed;
    let (train_set, dev, test) = data;
    let origin = serde_json::json!({"experiment": dir.display().to_string()});
    let best = train(&config, train_set, dev, dir, &origin, false)?;
    let run = Run::load(dir, &config.fine_tune.device.inference()?)?;
    let metric = config.fine_tune.selection_metric().to_string();
    let scores = run.evaluate(test, "test portion")?;
    prune_run(dir)?;
    Ok((best.value, scores.get(&metric).copied().unwrap_or(f64::NAN)))
}

/// Deletes a finished comparison run's checkpoints and last model (a comparison trains dozens
/// of runs, and each checkpoint holds the model and both Adam moments); `best/`, the metrics
/// and the configuration stay.
pub fn prune_run(dir: &Path) -> Result<(), SubnetError> {
    let run = burnlp_core::train::RunDir::new(dir);
    let last = run.last_model();
    let checkpoints = run.checkpoints();
    for path in [checkpoints.root(), last.parent().unwrap_or(dir)] {
        if path.is_dir() && path != dir {
            std::fs::remove_dir_all(path).map_err(|e| SubnetError::Record {
                path: path.to_owned(),
                record: 0,
                message: format!("cannot delete ({e})"),
            })?;
        }
    }
    Ok(())
}

/// Runs the comparison: for every training-set size and strategy, a learning-rate search on
/// the first seed (by dev score), then every seed at the chosen rate.
pub fn run(config: &ExperimentConfig, base: &SubnetConfig) -> Result<Vec<Cell>, SubnetError> {
    let base = base.clone().for_task(config.task);
    let splits = splits(config)?;
    let mut cells = Vec::new();
    for &size in &config.subsets {
        let train_set: Vec<Example> = match size {
            0 => splits.train.clone(),
            n => splits.train.iter().take(n).cloned().collect(),
        };
        let n = train_set.len();
        for &strategy in &config.strategies {
            let dir = |lr: f64, seed: u64| {
                config
                    .runs
                    .join(format!("n{n}-{}-lr{lr:e}-seed{seed}", strategy.name()))
            };
            let data = (
                train_set.as_slice(),
                splits.dev.as_slice(),
                splits.test.as_slice(),
            );
            let first = config.seeds[0];
            let mut search = Vec::new();
            let mut first_test = Vec::new();
            for &lr in &config.lrs {
                let (dev, test) = one_run(&base, strategy, lr, first, data, &dir(lr, first))?;
                search.push((lr, dev));
                first_test.push(test);
            }
            let best = (0..search.len())
                .max_by(|&a, &b| search[a].1.total_cmp(&search[b].1))
                .unwrap_or(0);
            let lr = search[best].0;
            let mut test = vec![first_test[best]];
            for &seed in &config.seeds[1..] {
                test.push(one_run(&base, strategy, lr, seed, data, &dir(lr, seed))?.1);
            }
            let cell = Cell {
                train_size: n,
                strategy,
                lr,
                lr_search: search,
                test,
            };
            let (mean, std) = cell.mean_std();
            tracing::info!(n, strategy = strategy.name(), lr, mean, std, "setting done");
            cells.push(cell);
        }
    }
    Ok(cells)
}

/// The Markdown table of a comparison: mean ± std (seeds) per training size and strategy,
/// with the difference to vanilla and the per-seed scores.
pub fn table(config: &ExperimentConfig, cells: &[Cell], metric: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| train size | strategy | lr | test {metric} (mean ± std, {} seeds) | Δ vs vanilla | per seed |",
        config.seeds.len()
    );
    let _ = writeln!(out, "|---:|---|---:|---:|---:|---|");
    for cell in cells {
        let (mean, std) = cell.mean_std();
        let vanilla = cells
            .iter()
            .find(|c| c.train_size == cell.train_size && c.strategy == Strategy::Vanilla)
            .map(|c| c.mean_std().0);
        let delta = match vanilla {
            Some(v) if cell.strategy != Strategy::Vanilla => format!("{:+.2}", 100.0 * (mean - v)),
            _ => "".into(),
        };
        let seeds: Vec<String> = cell
            .test
            .iter()
            .map(|v| format!("{:.1}", 100.0 * v))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {:e} | {:.2} ± {:.2} | {delta} | {} |",
            cell.train_size,
            cell.strategy.name(),
            cell.lr,
            100.0 * mean,
            100.0 * std,
            seeds.join(", ")
        );
    }
    out
}

/// The defaults of the strategies in a comparison (the spec's `reserve_p` 0.3, k = 2, ρ = 0.3).
pub fn default_strategy() -> StrategyConfig {
    StrategyConfig::default()
}
