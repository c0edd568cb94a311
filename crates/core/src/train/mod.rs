//! The training loop shared by every task.
//!
//! A task implements [`TrainTask`] (its batches, its loss, its evaluation); [`Trainer::fit`]
//! does the rest: AdamW with parameter groups, frozen parameters, freeze masks and gradient
//! masks ([`optim`]), per-step gradient masks from a [`MaskProvider`] for sub-network
//! fine-tuning (Child-Tuning, Bi-Drop, S4-Tuning: [`subnet`]),
//! learning-rate schedules ([`schedule`]), gradient accumulation, clipping by global norm,
//! evaluation every N steps with best-model selection on a named metric, early stopping,
//! non-finite loss detection, atomic checkpoints and exact resumption ([`checkpoint`]), a
//! progress bar, metrics as JSON lines and an SVG plot of the curves ([`plot`]).
//!
//! # Determinism
//! Batch order is a function of `(seed, epoch)` (the task's [`TrainTask::train_batches`]), and
//! the device's random generator (dropout) is reseeded from `(seed, step)` before every
//! optimizer step. The random state of a run is therefore `(seed, step)`, which every checkpoint
//! stores, and a resumed run continues exactly as an uninterrupted one would. burn's CPU
//! generator is process-wide, so this holds for one training run per process (as the CLIs do);
//! concurrent runs in one process draw from the same generator. Mask providers are functions
//! of `(seed, step)` and the step's batches, so they resume exactly too.

pub mod checkpoint;
mod log;
pub mod optim;
pub mod params;
pub mod plot;
pub mod schedule;
mod step;
pub mod subnet;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::data::write_atomic;
pub use checkpoint::{CheckpointDir, MODEL_FILE, RunDir, remove_dir_whole};
pub use log::curves_svg;
pub use optim::{AdamW, AdamWConfig, AdamWStyle, ParamGroup};
pub use params::{GradStore, load_parameters, save_parameters};
pub use schedule::LrSchedule;
pub use subnet::{BitMask, MaskProvider, ParamMasks};

use log::{MetricsLog, ThroughputWindow, format_metrics, progress_bar, truncate_metrics};
use step::{accumulate, first_device, prepare, step_seed};

/// Named evaluation results, e.g. `{"accuracy": 0.91, "loss": 0.3}`.
pub type Metrics = BTreeMap<String, f64>;

/// Errors of training and checkpointing.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Writing a file failed.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// A checkpoint is malformed or does not fit the model.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The loss became NaN or infinite.
    #[error(
        "loss is {value} at step {step} (epoch {epoch}, batch {batch}); training stopped, the last good checkpoint is kept{}",
        last_checkpoint.as_ref().map(|p| format!(" at {}", p.display())).unwrap_or_default()
    )]
    NonFiniteLoss {
        /// Optimizer step being computed.
        step: usize,
        /// Epoch.
        epoch: usize,
        /// Batch index within the epoch.
        batch: usize,
        /// The loss value.
        value: f64,
        /// The newest checkpoint on disk, if any.
        last_checkpoint: Option<PathBuf>,
    },
    /// An optimizer hyperparameter is not a finite number in its range.
    #[error("optimizer setting `{name}` is {value}: it must be a finite number in its range")]
    InvalidSetting {
        /// The setting (`lr`, `encoder.lr`, …).
        name: String,
        /// Its value.
        value: f64,
    },
    /// A parameter holds NaN or an infinity: the model is not saved.
    #[error(
        "parameter `{parameter}` holds {value} (entry {index}); not saved to {path}: the update diverged (lower the learning rate, clip gradients)"
    )]
    NonFiniteParameter {
        /// The file that was not written.
        path: PathBuf,
        /// The parameter's path.
        parameter: String,
        /// Flat index of the first bad entry.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// The selection metric of an evaluation is NaN or infinite.
    #[error("the selection metric `{metric}` is {value} at step {step}; the model is not kept")]
    NonFiniteMetric {
        /// The selection metric.
        metric: String,
        /// Its value.
        value: f64,
        /// The optimizer step.
        step: usize,
    },
    /// The evaluation did not report the metric chosen for model selection.
    #[error("evaluation reported no metric `{metric}` (it reported: {available})")]
    MissingMetric {
        /// The selection metric.
        metric: String,
        /// Metrics that were reported.
        available: String,
    },
    /// The run directory holds a run with a different configuration.
    #[error(
        "{path} belongs to another run: {message}; use a new directory or resume it with the same settings"
    )]
    ConfigMismatch {
        /// The run's config.json.
        path: PathBuf,
        /// What differs.
        message: String,
    },
    /// Training ended without a single evaluation, so there is no best model.
    #[error("training ran no evaluation (no best model); evaluate at least once per run")]
    NoEvaluation,
    /// A mask provider has no mask for a batch group.
    #[error(
        "no gradient mask for batch group {}; masks exist for: {available}",
        group.as_deref().map(|g| format!("`{g}`")).unwrap_or_else(|| "(none)".into())
    )]
    MissingMask {
        /// The batch group ([`TrainTask::group`]).
        group: Option<String>,
        /// Groups that have masks.
        available: String,
    },
}

/// What a task supplies to [`Trainer::fit`].
pub trait TrainTask<M: Module> {
    /// One unit of work for a forward/backward pass (a padded batch, or its example indices).
    type Batch;

    /// The batches of one epoch in training order; must be deterministic in `(epoch, seed)`.
    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Self::Batch>;

    /// The mean loss of a batch, computed by `model` on its (autodiff) device.
    fn loss(&self, model: &M, batch: &Self::Batch) -> Tensor<1>;

    /// Metrics on the development data; `model` is in validation mode (no dropout, no autodiff).
    fn evaluate(&self, model: &M) -> Metrics;

    /// Number of examples in a batch, for throughput.
    fn batch_len(&self, _batch: &Self::Batch) -> usize {
        1
    }

    /// The group of a batch, e.g. its language (S4-Tuning): with a [`MaskProvider`], each
    /// group's share of a step's gradient is masked with that group's mask. `None` (the
    /// default) for ungrouped batches.
    fn group(&self, _batch: &Self::Batch) -> Option<String> {
        None
    }
}

/// Settings of a training run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainerConfig {
    /// Number of passes over the training batches.
    pub epochs: usize,
    /// Stop after this many optimizer steps, even mid-epoch.
    pub max_steps: Option<usize>,
    /// Batches accumulated into one optimizer step.
    pub grad_accum: usize,
    /// Clip gradients to this global L2 norm (PyTorch's `clip_grad_norm_`).
    pub clip_norm: Option<f64>,
    /// Learning-rate schedule over optimizer steps.
    pub schedule: LrSchedule,
    /// Evaluate every N optimizer steps; `None` evaluates at the end of every epoch.
    pub eval_every: Option<usize>,
    /// Metric used to select the best model.
    pub metric: String,
    /// Whether a larger metric is better.
    pub higher_is_better: bool,
    /// Stop after this many evaluations without improvement.
    pub patience: Option<usize>,
    /// Also checkpoint every N optimizer steps (checkpoints are always written at evaluations
    /// and at the end).
    pub checkpoint_every: Option<usize>,
    /// Number of step checkpoints kept on disk.
    pub keep_checkpoints: usize,
    /// Seed of batch order, initialisation and dropout.
    pub seed: u64,
    /// Log training loss every N optimizer steps.
    pub log_every: usize,
    /// Show a progress bar on a terminal.
    pub progress: bool,
    /// Stop this process after this many optimizer steps (counted from the start of this
    /// process), leaving a checkpoint, as a time-boxed job or a killed run would; `--resume`
    /// continues it.
    #[serde(skip)]
    pub halt_after: Option<usize>,
}

impl Default for TrainerConfig {
    fn default() -> Self {
        Self {
            epochs: 1,
            max_steps: None,
            grad_accum: 1,
            clip_norm: Some(1.0),
            schedule: LrSchedule::Constant,
            eval_every: None,
            metric: "loss".into(),
            higher_is_better: false,
            patience: None,
            checkpoint_every: None,
            keep_checkpoints: 2,
            seed: 42,
            log_every: 10,
            progress: true,
            halt_after: None,
        }
    }
}

/// Why [`Trainer::fit`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StopReason {
    /// All epochs or `max_steps` done.
    Completed,
    /// `patience` evaluations without improvement.
    EarlyStopped,
    /// `halt_after` reached; the run can be resumed.
    Halted,
}

/// The best evaluation so far.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BestEval {
    /// Optimizer step of the evaluation.
    pub step: usize,
    /// Value of the selection metric.
    pub value: f64,
    /// All metrics of that evaluation.
    pub metrics: Metrics,
}

/// Progress of a run, stored in every checkpoint's `state.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TrainState {
    /// Optimizer steps done.
    pub step: usize,
    /// Current epoch.
    pub epoch: usize,
    /// Batches of the current epoch already consumed.
    pub batch_in_epoch: usize,
    /// Best evaluation so far.
    pub best: Option<BestEval>,
    /// Evaluations since the best one.
    pub evals_without_improvement: usize,
    /// The seed; with `step` it is the whole random state of the run.
    pub seed: u64,
}

/// The outcome of [`Trainer::fit`].
#[derive(Debug)]
pub struct TrainOutcome<M> {
    /// The model when training stopped.
    pub model: M,
    /// Final state of the run.
    pub state: TrainState,
    /// Why training stopped.
    pub stop: StopReason,
    /// The latest evaluation.
    pub last_eval: Option<Metrics>,
}

impl TrainError {
    /// A non-finite loss error completed with the run's newest checkpoint.
    fn with_checkpoint(self, checkpoint: &Option<PathBuf>) -> Self {
        match self {
            TrainError::NonFiniteLoss {
                step,
                epoch,
                batch,
                value,
                last_checkpoint: None,
            } => TrainError::NonFiniteLoss {
                step,
                epoch,
                batch,
                value,
                last_checkpoint: checkpoint.clone(),
            },
            other => other,
        }
    }
}

impl<M> TrainOutcome<M> {
    /// The best evaluation, logged (with a note when the run was halted and can be resumed);
    /// an error when the run evaluated nothing.
    pub fn best(&self) -> Result<&BestEval, TrainError> {
        if self.stop == StopReason::Halted {
            tracing::info!(step = self.state.step, "halted; continue with --resume");
        }
        let best = self.state.best.as_ref().ok_or(TrainError::NoEvaluation)?;
        tracing::info!(step = best.step, value = best.value, "best evaluation");
        Ok(best)
    }
}

/// Runs [`TrainTask`]s in a run directory.
pub struct Trainer {
    config: TrainerConfig,
    run_dir: PathBuf,
    masks: Option<Box<dyn MaskProvider + Send + Sync>>,
}

impl Trainer {
    /// A trainer writing to `run_dir`.
    pub fn new(config: TrainerConfig, run_dir: impl Into<PathBuf>) -> Self {
        Self {
            config,
            run_dir: run_dir.into(),
            masks: None,
        }
    }

    /// Trains a sub-network: every optimizer step runs `provider.passes()` forward/backward
    /// passes over its batches and multiplies each batch group's mean gradient by the
    /// provider's mask for `(step, group)` before the update (see [`subnet`]). The provider's
    /// settings belong in the experiment part of `config.json`.
    pub fn with_mask_provider(
        mut self,
        provider: impl MaskProvider + Send + Sync + 'static,
    ) -> Self {
        self.masks = Some(Box::new(provider));
        self
    }

    /// The run directory.
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// Writes `RUN/config.json` = `{"trainer": …, "optimizer": …, "experiment": …}`.
    ///
    /// When resuming, the stored configuration must equal the new one; a different
    /// configuration in an existing run directory is an error rather than a silent mix.
    pub fn write_config(
        &self,
        optimizer: &AdamWConfig,
        experiment: &serde_json::Value,
        resume: bool,
    ) -> Result<(), TrainError> {
        let value = serde_json::json!({
            "trainer": self.config,
            "optimizer": optimizer,
            "experiment": experiment,
        });
        let path = RunDir::new(&self.run_dir).config();
        if resume && path.exists() {
            let stored: serde_json::Value = read_json(&path)?;
            if stored != value {
                return Err(TrainError::ConfigMismatch {
                    path,
                    message: "the stored config.json differs from this run's settings".into(),
                });
            }
            return Ok(());
        }
        write_json(&path, &value)
    }

    /// Trains `model` (created on an autodiff device) on `task`.
    ///
    /// With `resume`, continues from the newest checkpoint of the run directory (or starts fresh
    /// when there is none).
    pub fn fit<M, T>(
        &self,
        model: M,
        mut optimizer: AdamW,
        task: &T,
        resume: bool,
    ) -> Result<TrainOutcome<M>, TrainError>
    where
        M: Module + Clone,
        T: TrainTask<M>,
    {
        let config = &self.config;
        if let Some((name, value)) = optimizer.config().invalid_setting() {
            return Err(TrainError::InvalidSetting { name, value });
        }
        let checkpoints = CheckpointDir::new(&self.run_dir);
        let device = first_device(&model);
        let metrics_path = RunDir::new(&self.run_dir).metrics();
        let (mut model, mut state, mut last_checkpoint) =
            self.start(model, &mut optimizer, &checkpoints, &metrics_path, resume)?;
        let mut log = MetricsLog::open(&metrics_path)?;

        let mut batches = task.train_batches(state.epoch, config.seed);
        let steps_per_epoch = batches.len().div_ceil(config.grad_accum.max(1));
        let total_steps = config
            .max_steps
            .unwrap_or(steps_per_epoch * config.epochs)
            .min(steps_per_epoch * config.epochs);
        let progress = progress_bar(config.progress, total_steps, state.step);
        let mut last_eval = None;
        let mut stop = StopReason::Completed;
        let mut steps_this_process = 0;
        let mut window = ThroughputWindow::new();

        while state.epoch < config.epochs && state.step < total_steps {
            if state.batch_in_epoch >= batches.len() {
                state.epoch += 1;
                state.batch_in_epoch = 0;
                if state.epoch >= config.epochs {
                    break;
                }
                batches = task.train_batches(state.epoch, config.seed);
                continue;
            }
            // One optimizer step over `grad_accum` batches.
            let end = (state.batch_in_epoch + config.grad_accum.max(1)).min(batches.len());
            device.seed(step_seed(config.seed, state.step));
            let provider = self.masks.as_deref().map(|p| p as &dyn MaskProvider);
            let passes = provider.map_or(1, |p| p.passes().max(1));
            let range = state.batch_in_epoch..end;
            let step = accumulate(
                task,
                &model,
                &batches,
                range,
                &state,
                passes,
                provider.is_some(),
            )
            .map_err(|e| e.with_checkpoint(&last_checkpoint))?;
            let (loss, examples) = (step.loss, step.examples);
            let prepared = prepare(step, &optimizer, provider, state.step, config.clip_norm)?;
            let lr_factor = config.schedule.factor(state.step);
            model = optimizer.step(model, prepared.grads, lr_factor);
            state.step += 1;
            state.batch_in_epoch = end;
            steps_this_process += 1;
            let throughput = window.record(examples);
            let lr = optimizer.config().lr * lr_factor;
            progress.set_position(state.step as u64);
            progress.set_message(format!("loss {loss:.4} lr {lr:.2e} {throughput:.1} ex/s"));
            if state.step.is_multiple_of(config.log_every.max(1)) || state.step == 1 {
                let mut record = serde_json::json!({
                    "split": "train", "step": state.step, "epoch": state.epoch,
                    "loss": loss, "lr": lr, "grad_norm": prepared.norm,
                    "examples_per_sec": throughput,
                });
                if let Some(kept) = prepared.kept {
                    record["mask_kept"] = serde_json::json!(kept);
                }
                log.write(&record)?;
            }

            let epoch_done = state.batch_in_epoch >= batches.len();
            let eval_due = match config.eval_every {
                Some(every) => state.step.is_multiple_of(every.max(1)),
                None => epoch_done,
            } || state.step >= total_steps;
            if eval_due {
                let metrics = self.evaluate(task, &model, &mut state, &mut log, &progress)?;
                last_eval = Some(metrics);
            }
            let checkpoint_due = eval_due
                || epoch_done
                || config
                    .checkpoint_every
                    .is_some_and(|every| state.step.is_multiple_of(every.max(1)));
            let halt = config.halt_after.is_some_and(|n| steps_this_process >= n);
            if checkpoint_due || halt {
                last_checkpoint =
                    Some(self.save_checkpoint(&checkpoints, &model, &optimizer, &state)?);
            }
            if eval_due
                && config
                    .patience
                    .is_some_and(|p| state.evals_without_improvement >= p)
            {
                stop = StopReason::EarlyStopped;
                break;
            }
            if halt && state.step < total_steps {
                stop = StopReason::Halted;
                break;
            }
        }
        progress.finish_and_clear();
        if stop != StopReason::Halted {
            save_parameters(&model, &RunDir::new(&self.run_dir).last_model())?;
            write_atomic(
                RunDir::new(&self.run_dir).curves(),
                curves_svg(&metrics_path, &config.metric)?.as_bytes(),
            )?;
        }
        Ok(TrainOutcome {
            model,
            state,
            stop,
            last_eval,
        })
    }

    /// The model, state and newest checkpoint to start from: the latest checkpoint when
    /// resuming (its metrics lines after the checkpoint's step are dropped), or a fresh state
    /// (and an emptied metrics log, also when `resume` finds no checkpoint).
    fn start<M: Module>(
        &self,
        mut model: M,
        optimizer: &mut AdamW,
        checkpoints: &CheckpointDir,
        metrics_path: &Path,
        resume: bool,
    ) -> Result<(M, TrainState, Option<PathBuf>), TrainError> {
        let fresh = TrainState {
            seed: self.config.seed,
            ..TrainState::default()
        };
        RunDir::new(&self.run_dir).recover_best()?;
        if resume && let Some(dir) = checkpoints.latest()? {
            model = load_parameters(model, &dir.join(MODEL_FILE))?;
            optimizer.load(&dir, &first_device(&model))?;
            let state: TrainState = read_json(&dir.join("state.json"))?;
            truncate_metrics(metrics_path, state.step)?;
            tracing::info!(checkpoint = %dir.display(), step = state.step, "resuming");
            return Ok((model, state, Some(dir)));
        }
        // Starting afresh, also when a resumed run finds no checkpoint (killed before its
        // first): the lines of an earlier process must not stay in the log.
        if metrics_path.exists() {
            std::fs::remove_file(metrics_path).map_err(|source| TrainError::Io {
                path: metrics_path.to_path_buf(),
                source,
            })?;
        }
        Ok((model, fresh, None))
    }

    /// Evaluates, logs, keeps the best model, and returns the metrics.
    fn evaluate<M: Module, T: TrainTask<M>>(
        &self,
        task: &T,
        model: &M,
        state: &mut TrainState,
        log: &mut MetricsLog,
        progress: &indicatif::ProgressBar,
    ) -> Result<Metrics, TrainError> {
        let metrics = task.evaluate(&model.valid());
        let improved = self.record_eval(state, &metrics)?;
        let mut record =
            serde_json::json!({"split": "eval", "step": state.step, "epoch": state.epoch});
        for (k, v) in &metrics {
            record[k] = serde_json::json!(v);
        }
        log.write(&record)?;
        tracing::info!(step = state.step, ?metrics, improved, "evaluation");
        progress.println(format!("step {}: {}", state.step, format_metrics(&metrics)));
        if improved {
            RunDir::new(&self.run_dir).replace_best(|dir| {
                save_parameters(model, &dir.join(MODEL_FILE))?;
                write_json(&dir.join("state.json"), state)
            })?;
        }
        Ok(metrics)
    }

    fn record_eval(&self, state: &mut TrainState, metrics: &Metrics) -> Result<bool, TrainError> {
        let value = *metrics
            .get(&self.config.metric)
            .ok_or_else(|| TrainError::MissingMetric {
                metric: self.config.metric.clone(),
                available: metrics.keys().cloned().collect::<Vec<_>>().join(", "),
            })?;
        if !value.is_finite() {
            return Err(TrainError::NonFiniteMetric {
                metric: self.config.metric.clone(),
                value,
                step: state.step,
            });
        }
        let improved = match &state.best {
            None => true,
            Some(best) if self.config.higher_is_better => value > best.value,
            Some(best) => value < best.value,
        };
        if improved {
            state.best = Some(BestEval {
                step: state.step,
                value,
                metrics: metrics.clone(),
            });
            state.evals_without_improvement = 0;
        } else {
            state.evals_without_improvement += 1;
        }
        Ok(improved)
    }

    fn save_checkpoint<M: Module>(
        &self,
        checkpoints: &CheckpointDir,
        model: &M,
        optimizer: &AdamW,
        state: &TrainState,
    ) -> Result<PathBuf, TrainError> {
        checkpoints.save(state.step, self.config.keep_checkpoints, |dir| {
            save_parameters(model, &dir.join(MODEL_FILE))?;
            optimizer.save(dir)?;
            write_json(&dir.join("state.json"), state)
        })
    }
}

/// Writes pretty JSON atomically, creating the directory.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), TrainError> {
    Ok(write_atomic(
        path,
        &serde_json::to_vec_pretty(value).expect("serializable"),
    )?)
}

/// Reads one JSON document; errors name the file and the problem.
pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, TrainError> {
    Ok(crate::data::read_json_document(path)?)
}
