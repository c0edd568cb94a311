//! Training: token-based batches, the smoothed losses, the inverse-sqrt schedule, the core
//! trainer, and checkpoint averaging.
//!
//! As in the paper's fairseq recipe (Appendix B): Adam with betas (0.9, 0.98), an
//! inverse-square-root learning-rate schedule with linear warm-up, dropout, batches of at most
//! `max_tokens` padded tokens, model selection on the validation loss, and a final model that
//! averages the parameters of the last N checkpoints.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::{Device, Tensor, TensorData};
use burnlp_core::data::{BatchLimit, bucket_batches, epoch_seed};
use burnlp_core::nn::seq2seq::{Seq2SeqBatch, Transformer, weighted_label_smoothed_cross_entropy};
use burnlp_core::train::params::{from_safetensors, to_safetensors};
use burnlp_core::train::{
    AdamWConfig, LrSchedule, Metrics, StopReason, TrainTask, Trainer, TrainerConfig,
};
use serde::{Deserialize, Serialize};

use crate::data::{Pairs, PreparedData, files};
use crate::error::{NmtError, Result, io_error};
use crate::eval::teacher_forced;
use crate::loss::{LossConfig, SmoothingWeights};
use crate::model::{Arch, ModelSpec};

/// Files a run directory holds besides the trainer's.
pub mod run_files {
    /// The [`super::ModelSpec`].
    pub const MODEL: &str = "model.json";
    /// Parameters averaged over the last checkpoints.
    pub const AVERAGED: &str = "averaged/model.safetensors";
    /// Summary of the run ([`super::TrainReport`]).
    pub const REPORT: &str = "train_report.json";
}

/// Settings of [`train`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The loss.
    pub loss: LossConfig,
    /// Model size.
    pub arch: Arch,
    /// Dropout (the paper: 0.3).
    pub dropout: f64,
    /// Peak learning rate (the paper: 7e-4).
    pub lr: f64,
    /// Warm-up steps of the inverse-sqrt schedule (the paper: 1000).
    pub warmup: usize,
    /// Decoupled weight decay (the paper: 1e-4).
    pub weight_decay: f64,
    /// Clip gradients to this global norm.
    pub clip_norm: Option<f64>,
    /// Padded tokens per batch (source or target, whichever is longer).
    pub max_tokens: usize,
    /// Batches accumulated into one optimizer step (fairseq's `--update-freq`; the paper: 4).
    pub update_freq: usize,
    /// Passes over the training data.
    pub epochs: usize,
    /// Stop after this many optimizer steps.
    pub max_steps: Option<usize>,
    /// Stop after about this many minutes of training.
    pub minutes: Option<f64>,
    /// Evaluate (validation loss, accuracy, training-time ECE) every N steps.
    pub eval_every: usize,
    /// Number of checkpoints averaged into the final model: the one at the end of training
    /// and the preceding ones at multiples of `eval_every` steps.
    pub average_last: usize,
    /// Seed of initialisation, batch order and dropout (the paper: 666).
    pub seed: u64,
    /// Longest sequence the model handles.
    pub max_positions: usize,
    /// Show a progress bar.
    pub progress: bool,
    /// Continue the newest checkpoint of the run directory (its `config.json` must match);
    /// not part of the run's identity.
    #[serde(skip)]
    pub resume: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            loss: LossConfig {
                kind: crate::loss::LossKind::Mls,
                alpha: 0.1,
                wls_ratio: Default::default(),
            },
            arch: Arch::Tiny,
            dropout: 0.3,
            lr: 7e-4,
            warmup: 1000,
            weight_decay: 1e-4,
            clip_norm: None,
            max_tokens: 4096,
            update_freq: 1,
            epochs: 20,
            max_steps: None,
            minutes: None,
            eval_every: 500,
            average_last: 3,
            seed: 666,
            max_positions: 256,
            progress: true,
            resume: false,
        }
    }
}

/// The outcome of [`train`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// Optimizer steps done.
    pub steps: usize,
    /// Wall time of this process in seconds.
    pub wall_s: f64,
    /// Target tokens per second of training (evaluation included; a resumed run counts only
    /// the steps this process took).
    pub target_tokens_per_s: f64,
    /// Step of the best validation loss.
    pub best_step: Option<usize>,
    /// The last validation metrics.
    pub last_eval: Option<Metrics>,
    /// Checkpoints averaged into `averaged/model.safetensors`.
    pub averaged: Vec<PathBuf>,
}

/// The training task over prepared pairs.
pub struct NmtTask {
    train: Pairs,
    valid: Pairs,
    max_tokens: usize,
    weights: SmoothingWeights,
    pad: u32,
    eos: u32,
}

impl NmtTask {
    /// A task training on `train`, evaluating on `valid`, with the loss `weights`.
    pub fn new(
        train: Pairs,
        valid: Pairs,
        max_tokens: usize,
        weights: SmoothingWeights,
        pad: u32,
        eos: u32,
    ) -> Self {
        Self {
            train,
            valid,
            max_tokens,
            weights,
            pad,
            eos,
        }
    }

    /// Padded tokens of pair `i` (the longer side, EOS included).
    fn length(pair: &(Vec<u32>, Vec<u32>)) -> usize {
        pair.0.len().max(pair.1.len()) + 1
    }

    /// Number of target tokens (EOS included) of a batch.
    pub fn target_tokens(&self, batch: &[usize]) -> usize {
        batch.iter().map(|&i| self.train[i].1.len() + 1).sum()
    }
}

impl TrainTask<Transformer> for NmtTask {
    type Batch = Vec<usize>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Vec<usize>> {
        let lengths: Vec<usize> = self.train.iter().map(Self::length).collect();
        bucket_batches(
            &lengths,
            BatchLimit::tokens(self.max_tokens),
            Some(epoch_seed(seed, epoch as u64)),
        )
        .expect("a positive token limit")
    }

    fn loss(&self, model: &Transformer, batch: &Vec<usize>) -> Tensor<1> {
        let device = model.devices()[0].clone();
        let pairs: Vec<(&[u32], &[u32])> = batch
            .iter()
            .map(|&i| (self.train[i].0.as_slice(), self.train[i].1.as_slice()))
            .collect();
        let batch = Seq2SeqBatch::from_pairs(&pairs, self.eos, self.pad, &device);
        let logits = model.forward(
            batch.src_tokens,
            batch.src_padding,
            batch.prev_output_tokens,
        );
        let vocab = self.weights.weights.len();
        let smoothing = Tensor::<1>::from_data(
            TensorData::new(self.weights.weights.clone(), [vocab]),
            &device,
        );
        weighted_label_smoothed_cross_entropy(
            logits,
            batch.target,
            self.weights.gold_weight,
            smoothing,
            self.pad,
        )
    }

    fn evaluate(&self, model: &Transformer) -> Metrics {
        let stats = teacher_forced(model, &self.valid, self.max_tokens, self.pad, self.eos);
        let ece = stats
            .calibration(crate::eval::ECE_BINS)
            .map_or(f64::NAN, |c| c.ece);
        Metrics::from([
            ("nll".to_string(), stats.nll),
            ("ppl".to_string(), stats.nll.exp()),
            ("accuracy".to_string(), stats.accuracy()),
            ("ece".to_string(), ece),
        ])
    }

    fn batch_len(&self, batch: &Vec<usize>) -> usize {
        self.target_tokens(batch)
    }
}

/// Trains a model on prepared data into the run directory `out` (see the module
/// documentation), on `device` (an autodiff device is derived from it).
pub fn train(
    data: &PreparedData,
    config: &TrainConfig,
    out: &Path,
    device: &Device,
) -> Result<TrainReport> {
    if [
        config.max_tokens,
        config.update_freq,
        config.eval_every,
        config.average_last,
    ]
    .contains(&0)
    {
        return Err(NmtError::InvalidArgument {
            name: "train",
            message: "max_tokens, update_freq, eval_every and average_last must be positive".into(),
        });
    }
    if config.max_positions < 4 {
        return Err(NmtError::InvalidArgument {
            name: "max_positions",
            message: format!("{} is below 4", config.max_positions),
        });
    }
    if data.train.is_empty() || data.valid.is_empty() {
        return Err(NmtError::BadInput {
            path: data.dir.clone(),
            line: None,
            message: "no training or validation pairs".into(),
        });
    }
    let started = Instant::now();
    std::fs::create_dir_all(out).map_err(io_error(out))?;
    for name in [files::TOKENIZER, files::VOCAB] {
        let from = data.dir.join(name);
        let bytes = std::fs::read(&from).map_err(io_error(&from))?;
        burnlp_core::data::write_atomic(out.join(name), &bytes)?;
    }
    let vocab = &data.vocab;
    let spec = ModelSpec {
        arch: config.arch,
        vocab_size: vocab.len(),
        pad: vocab.pad,
        eos: vocab.eos,
        dropout: config.dropout,
        max_positions: config.max_positions,
    };
    burnlp_core::data::write_json(out.join(run_files::MODEL), &spec, true)?;
    let weights = config.loss.weights(vocab)?;
    let clip = |pairs: &Pairs| -> Pairs {
        let max = config.max_positions - 2;
        pairs
            .iter()
            .map(|(s, t)| {
                (
                    s[..s.len().min(max)].to_vec(),
                    t[..t.len().min(max)].to_vec(),
                )
            })
            .collect()
    };
    let task = NmtTask::new(
        clip(&data.train),
        clip(&data.valid),
        config.max_tokens,
        weights,
        vocab.pad,
        vocab.eos,
    );

    // The trainer also checkpoints at the end of every epoch; keep enough checkpoints that
    // the last `average_last` at multiples of `eval_every` survive.
    let steps_per_epoch = task
        .train_batches(0, config.seed)
        .len()
        .div_ceil(config.update_freq)
        .max(1);
    let window = config.average_last * config.eval_every;
    let keep = config.average_last + window / steps_per_epoch + 2;
    let trainer_config = TrainerConfig {
        epochs: config.epochs,
        max_steps: config.max_steps,
        grad_accum: config.update_freq,
        clip_norm: config.clip_norm,
        schedule: LrSchedule::InverseSqrt {
            warmup: config.warmup,
        },
        eval_every: Some(config.eval_every),
        metric: "nll".into(),
        higher_is_better: false,
        checkpoint_every: Some(config.eval_every),
        keep_checkpoints: keep,
        seed: config.seed,
        log_every: 10,
        progress: config.progress,
        ..TrainerConfig::default()
    };
    let optimizer = AdamWConfig {
        beta2: 0.98,
        ..AdamWConfig::new(config.lr).with_weight_decay(config.weight_decay)
    };
    if config.resume && config.minutes.is_some() {
        return Err(NmtError::InvalidArgument {
            name: "resume",
            message: "a run with a --minutes budget cannot be resumed (its step count depends on \
                      the speed of its first minutes); give --max-steps for a resumable run"
                .into(),
        });
    }
    Trainer::new(trainer_config.clone(), out).write_config(
        &optimizer,
        &serde_json::to_value(config).expect("serializable"),
        config.resume,
    )?;
    // Steps already taken by an earlier process: the throughput below counts only this one's.
    let resumed_step = if config.resume && out.join("checkpoints").is_dir() {
        checkpoints(out)?.last().map_or(0, |(step, _)| *step)
    } else {
        0
    };
    let train_device = device.clone().autodiff();
    train_device.seed(config.seed);
    let model = spec.config().init(&train_device);
    let outcome = match config.minutes {
        None => {
            Trainer::new(trainer_config, out).fit(model, optimizer.init(), &task, config.resume)?
        }
        Some(minutes) => {
            // Time a few steps, then fix the number of steps that fits the budget, so the
            // run is an ordinary (resumable, deterministic) run of that many steps.
            const PROBE: usize = 20;
            let probe_started = Instant::now();
            let probe = TrainerConfig {
                halt_after: Some(PROBE),
                ..trainer_config.clone()
            };
            let first = Trainer::new(probe, out).fit(model, optimizer.init(), &task, false)?;
            if first.stop == StopReason::Halted {
                let per_step = probe_started.elapsed().as_secs_f64() / PROBE as f64;
                let budget = minutes * 60.0 - started.elapsed().as_secs_f64();
                let fitting = PROBE + (budget.max(0.0) / per_step) as usize;
                let steps = config.max_steps.map_or(fitting, |m| m.min(fitting));
                tracing::info!(steps, per_step, "steps fitting the time budget");
                let rest = TrainerConfig {
                    max_steps: Some(steps.max(PROBE)),
                    ..trainer_config
                };
                Trainer::new(rest, out).fit(first.model, optimizer.init(), &task, true)?
            } else {
                first
            }
        }
    };
    let averaged = average_last_checkpoints(out, config.average_last, config.eval_every)?;
    let wall_s = started.elapsed().as_secs_f64();
    let batches = task.train_batches(0, config.seed);
    let tokens_per_step = (batches.iter().map(|b| task.target_tokens(b)).sum::<usize>()
        * config.update_freq) as f64
        / batches.len().max(1) as f64;
    let report = TrainReport {
        steps: outcome.state.step,
        wall_s,
        target_tokens_per_s: tokens_per_step
            * outcome.state.step.saturating_sub(resumed_step) as f64
            / wall_s,
        best_step: outcome.state.best.as_ref().map(|b| b.step),
        last_eval: outcome.last_eval,
        averaged,
    };
    burnlp_core::data::write_json(out.join(run_files::REPORT), &report, true)?;
    Ok(report)
}

/// The step checkpoints of a run with their steps, oldest first.
pub fn checkpoints(run: &Path) -> Result<Vec<(usize, PathBuf)>> {
    let dir = run.join("checkpoints");
    let mut found: Vec<(usize, PathBuf)> = std::fs::read_dir(&dir)
        .map_err(io_error(&dir))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .filter_map(|p| {
            let step = p
                .file_name()?
                .to_str()?
                .strip_prefix("step-")?
                .parse()
                .ok()?;
            Some((step, p))
        })
        .collect();
    found.sort();
    Ok(found)
}

/// Averages the last `n` checkpoints of `run` (the newest one and the preceding ones at
/// multiples of `every` steps) into `RUN/averaged/model.safetensors`; returns the
/// checkpoints used.
pub fn average_last_checkpoints(run: &Path, n: usize, every: usize) -> Result<Vec<PathBuf>> {
    let all = checkpoints(run)?;
    let Some((last, _)) = all.last() else {
        return Err(NmtError::BadInput {
            path: run.join("checkpoints"),
            line: None,
            message: "no checkpoints to average".into(),
        });
    };
    let last = *last;
    let mut chosen: Vec<PathBuf> = all
        .into_iter()
        .filter(|(step, _)| *step == last || step.is_multiple_of(every.max(1)))
        .map(|(_, path)| path)
        .collect();
    chosen.drain(..chosen.len().saturating_sub(n));
    let files: Vec<PathBuf> = chosen.iter().map(|d| d.join("model.safetensors")).collect();
    average_parameters(&files, &run.join(run_files::AVERAGED))?;
    Ok(chosen)
}

/// Writes the element-wise mean of the parameter files `inputs` (same names and shapes) to
/// `output` (fairseq's `average_checkpoints.py`).
pub fn average_parameters(inputs: &[PathBuf], output: &Path) -> Result<()> {
    let Some((first, rest)) = inputs.split_first() else {
        return Err(NmtError::InvalidArgument {
            name: "checkpoints",
            message: "nothing to average".into(),
        });
    };
    let read = |path: &PathBuf| -> Result<_> {
        let bytes = std::fs::read(path).map_err(io_error(path))?;
        Ok(from_safetensors(&bytes, path)?)
    };
    let mut sum: Vec<(String, Vec<usize>, Vec<f64>)> = read(first)?
        .into_iter()
        .map(|(name, (shape, values))| (name, shape, values.into_iter().map(f64::from).collect()))
        .collect();
    for path in rest {
        let mut tensors = read(path)?;
        for (name, shape, acc) in sum.iter_mut() {
            let (found, values) =
                tensors
                    .remove(name.as_str())
                    .ok_or_else(|| NmtError::BadInput {
                        path: path.clone(),
                        line: None,
                        message: format!("no tensor `{name}`"),
                    })?;
            if &found != shape {
                return Err(NmtError::BadInput {
                    path: path.clone(),
                    line: None,
                    message: format!("`{name}` has shape {found:?}, expected {shape:?}"),
                });
            }
            for (a, v) in acc.iter_mut().zip(values) {
                *a += f64::from(v);
            }
        }
    }
    let n = inputs.len() as f64;
    let mean: Vec<(String, Vec<usize>, Vec<f32>)> = sum
        .into_iter()
        .map(|(name, shape, acc)| {
            (
                name,
                shape,
                acc.into_iter().map(|a| (a / n) as f32).collect(),
            )
        })
        .collect();
    burnlp_core::data::write_atomic(output, &to_safetensors(&mean))?;
    Ok(())
}
