//! `ml-prune dynamic`: Dynamic Sparsification — train once, choose the width at inference.
//!
//! A **reconstruction** (spec §5; the paper's DS was described only as "train once, adapt to
//! different sizes at inference"), after DynaBERT's width-adaptive training (Hou et al.,
//! "DynaBERT: Dynamic BERT with Adaptive Width and Depth", NeurIPS 2020):
//!
//! 1. fine-tune the full classifier with text-cls (`OUT/full/`, the teacher);
//! 2. score heads and neurons by mask importance ([`importance_scores`]) and **rewire** every
//!    layer so its most important units come first (`Bert::reorder`, function-preserving);
//! 3. train the rewired student: at every step, for each width `m` of a sample of `--widths`
//!    (always the largest and the smallest, the "sandwich rule", plus random others up to
//!    `--widths-per-step`), keep the first `⌈m·H⌉` heads and `⌈m·F⌉` neurons of every layer
//!    (`forward_masked` with a width) and take the soft cross-entropy against the full
//!    teacher's logits (temperature `--temperature`); the losses are averaged into one step.
//!    Only logits are distilled (DynaBERT also matches hidden states);
//! 4. at inference, `Bert::slice_width` keeps the first units: `ml-prune eval --model
//!    OUT/dynamic --width 0.5`, no retraining.
//!
//! The run also measures the teacher rewired and cut to each width *without* the dynamic
//! training (`cut` in `OUT/summary.json`), the baseline DS has to beat.

use std::path::{Path, PathBuf};

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::activation::softmax;
use burnlp_core::burn::tensor::loss::cross_entropy_with_logits;
use burnlp_core::burn::tensor::{Tensor, TensorData};
use burnlp_core::data::write_json;
use burnlp_core::nn::bert::{BertMasks, Width};
use burnlp_core::train::{Metrics, TrainTask, Trainer};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use text_cls::model::batch_input;
use text_cls::{ClassificationTask, Classifier, Run, TrainConfig};

use crate::error::{MlPruneError, Result};
use crate::eval::{sliced, width};
use crate::l0::accuracy_with;
use crate::profile::LatencyConfig;
use crate::prune::{
    PruneData, PrunedModel, RunControl, classification_task, evaluated_run, fine_tune_trainer,
    halted, importance_scores, remove_checkpoints, settings_file,
};

/// Everything that decides a Dynamic Sparsification run besides its data
/// (`OUT/dynamic.json`).
#[derive(clap::Args, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DynamicConfig {
    /// The fine-tuning of the teacher (text-cls's settings; the student's rates too).
    #[command(flatten)]
    pub fine_tune: TrainConfig,
    /// Widths trained and measured, each in (0, 1], comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0.25,0.5,0.75,1.0", value_parser = width)]
    pub widths: Vec<f64>,
    /// Widths per training step (the largest and the smallest always, then random others);
    /// default: all of them.
    #[arg(long, value_parser = burnlp_core::cli::positive)]
    pub widths_per_step: Option<usize>,
    /// Epochs of width-adaptive training.
    #[arg(long, default_value_t = 2, value_parser = burnlp_core::cli::positive)]
    pub dynamic_epochs: usize,
    /// Distillation temperature.
    #[arg(long, default_value_t = 1.0, value_parser = burnlp_core::cli::positive_f64)]
    pub temperature: f64,
    /// Training examples the importance scores (the rewiring) are accumulated over.
    #[arg(long, default_value_t = 512, value_parser = burnlp_core::cli::positive)]
    pub importance_examples: usize,
    /// The latency measurement of every width.
    #[command(flatten)]
    pub latency: LatencyConfig,
}

impl Default for DynamicConfig {
    fn default() -> Self {
        Self {
            fine_tune: TrainConfig::default(),
            widths: vec![0.25, 0.5, 0.75, 1.0],
            widths_per_step: None,
            dynamic_epochs: 2,
            temperature: 1.0,
            importance_examples: 512,
            latency: LatencyConfig::default(),
        }
    }
}

impl DynamicConfig {
    /// Rejects settings the command line would have rejected.
    pub fn validate(&self) -> Result<()> {
        if self.widths.is_empty() {
            return Err(MlPruneError::invalid("--widths", "give at least one"));
        }
        if let Some(w) = self.widths.iter().find(|w| !(**w > 0.0 && **w <= 1.0)) {
            return Err(MlPruneError::invalid(
                "--widths",
                format!("{w} is not in (0, 1]"),
            ));
        }
        if self.widths_per_step == Some(0) || self.dynamic_epochs == 0 {
            return Err(MlPruneError::invalid(
                "--widths-per-step / --dynamic-epochs",
                "must be at least 1",
            ));
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(MlPruneError::invalid(
                "--temperature",
                format!("{} is not positive", self.temperature),
            ));
        }
        Ok(())
    }

    /// The widths, largest first, without repeats.
    fn sorted_widths(&self) -> Vec<f64> {
        let mut widths = self.widths.clone();
        widths.sort_by(|a, b| b.total_cmp(a));
        widths.dedup();
        widths
    }
}

/// The outcome of [`dynamic`] (`OUT/summary.json`, readable by `ml-prune plot`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DynamicReport {
    /// `dynamic`.
    pub method: String,
    /// The teacher first, then the dynamic model at each width below 1 (sparsity `1 − w`) and
    /// at width 1 (sparsity 0 is the teacher's; the student's full width is listed with
    /// `sparsity` 0 in [`full_width`](Self::full_width)).
    pub models: Vec<PrunedModel>,
    /// The dynamic model at full width.
    pub full_width: Option<PrunedModel>,
    /// The rewired teacher cut to each width below 1 without retraining.
    pub cut: Vec<PrunedModel>,
}

/// The width-adaptive distillation task.
pub struct DynamicTask<'a> {
    /// Batches and dev data.
    pub task: &'a ClassificationTask,
    /// The teacher's soft labels `softmax(logits / T)` of every training example.
    pub teacher: Vec<Vec<f32>>,
    /// Widths, largest first.
    pub widths: Vec<f64>,
    /// Widths per step.
    pub per_step: usize,
    /// Temperature `T`.
    pub temperature: f64,
    /// Seed of the width sampling.
    pub seed: u64,
}

impl DynamicTask<'_> {
    /// The widths of the step over `batch`: the largest and the smallest, then others drawn
    /// with a generator seeded by the run's seed and the batch (deterministic).
    pub fn step_widths(&self, batch: &[usize]) -> Vec<f64> {
        let n = self.widths.len();
        if self.per_step >= n {
            return self.widths.clone();
        }
        let mut chosen = vec![self.widths[0]];
        if self.per_step >= 2 && n >= 2 {
            chosen.push(self.widths[n - 1]);
        }
        let key = batch.iter().fold(self.seed, |h, &i| {
            (h ^ i as u64).wrapping_mul(0x0100_0000_01b3)
        });
        let mut rng = rand::rngs::StdRng::seed_from_u64(key);
        let mut middle: Vec<f64> = self.widths[1..n.saturating_sub(1)].to_vec();
        middle.shuffle(&mut rng);
        chosen.extend(
            middle
                .into_iter()
                .take(self.per_step.saturating_sub(chosen.len())),
        );
        chosen
    }

    /// Dev accuracy of `model` at width `w`.
    fn accuracy(&self, model: &Classifier, w: f64) -> f64 {
        let device = model.devices()[0].clone();
        let masks = BertMasks::default().with_width(Width::uniform(w));
        accuracy_with(&self.task.dev, self.task.pad_id, &device, |input| {
            model.forward_masked(input, &masks)
        })
    }
}

impl TrainTask<Classifier> for DynamicTask<'_> {
    type Batch = Vec<usize>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Vec<usize>> {
        self.task.train_batches(epoch, seed)
    }

    fn loss(&self, model: &Classifier, batch: &Vec<usize>) -> Tensor<1> {
        let device = model.devices()[0].clone();
        let labels = self.teacher.first().map_or(0, Vec::len);
        let soft: Vec<f32> = batch
            .iter()
            .flat_map(|&i| self.teacher[i].iter().copied())
            .collect();
        let targets = Tensor::<2>::from_data(TensorData::new(soft, [batch.len(), labels]), &device);
        let widths = self.step_widths(batch);
        let count = widths.len() as f64;
        widths
            .into_iter()
            .map(|w| {
                let input = batch_input(&self.task.train, batch, self.task.pad_id, &device);
                let masks = BertMasks::default().with_width(Width::uniform(w));
                let logits = model.forward_masked(input, &masks) / self.temperature;
                cross_entropy_with_logits(logits, targets.clone())
            })
            .reduce(|a, b| a + b)
            .expect("at least one width")
            / count
    }

    /// `accuracy`: the mean dev accuracy over the widths (what selects the model), and
    /// `accuracy_wW` per width.
    fn evaluate(&self, model: &Classifier) -> Metrics {
        let mut metrics = Metrics::new();
        let mut sum = 0.0;
        for &w in &self.widths {
            let a = self.accuracy(model, w);
            sum += a;
            metrics.insert(format!("accuracy_w{w:.2}"), a);
        }
        metrics.insert("accuracy".into(), sum / self.widths.len() as f64);
        metrics
    }

    fn batch_len(&self, batch: &Vec<usize>) -> usize {
        batch.len()
    }
}

/// The teacher's soft labels of every training example (no dropout).
fn soft_labels(teacher: &Classifier, task: &ClassificationTask, temperature: f64) -> Vec<Vec<f32>> {
    let device = teacher.devices()[0].clone();
    let n = task.train.ids.len();
    let indices: Vec<usize> = (0..n).collect();
    let mut out = Vec::with_capacity(n);
    for chunk in indices.chunks(64) {
        let logits = teacher.forward(batch_input(&task.train, chunk, task.pad_id, &device));
        let [rows, labels] = logits.dims();
        let probs = softmax(logits / temperature, 1)
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("f32");
        out.extend((0..rows).map(|r| probs[r * labels..(r + 1) * labels].to_vec()));
    }
    out
}

/// The rewired classifier: every layer's heads and neurons ordered by decreasing score.
fn rewired(model: &Classifier, scores: &burnlp_core::nn::prune::UnitScores) -> Classifier {
    Classifier {
        encoder: model.encoder.reorder(scores),
        dropout: model.dropout.clone(),
        head: model.head.clone(),
        pooling: model.pooling,
        regression: model.regression,
    }
}

/// Runs Dynamic Sparsification into `out`: `full/` (the teacher), `dynamic/` (the student, a
/// text-cls run at full width that `ml-prune eval --width` slices), `summary.json`.
pub fn dynamic(config: &DynamicConfig, data: &PruneData, out: &Path) -> Result<DynamicReport> {
    dynamic_with(config, data, out, RunControl::default())
}

/// [`dynamic`], resuming the run in `out` or halting as `control` says: the teacher's and the
/// student's trainings continue from their newest checkpoints (a finished one does no more
/// steps), the scores are recomputed from a seeded device, and the student's optimizer
/// checkpoints are removed only after `summary.json` is written.
pub fn dynamic_with(
    config: &DynamicConfig,
    data: &PruneData,
    out: &Path,
    control: RunControl,
) -> Result<DynamicReport> {
    config.validate()?;
    data.check(crate::prune::Setting::Shared)?;
    settings_file(&out.join("dynamic.json"), config, control.resume)?;
    let fine_tune = &config.fine_tune;
    let full_dir = out.join("full");
    crate::prune::fine_tune_full(fine_tune, data, &full_dir, control.resume)?;

    let training = fine_tune.device.training()?;
    let inference = fine_tune.device.inference()?;
    let full = Run::load(&full_dir, &training)?;
    let task = classification_task(&full, data, fine_tune.batch_size)?;
    // Seeded, a scoring pass that draws random numbers scores alike in a resumed run.
    training.seed(fine_tune.seed);
    let scores = importance_scores(&full.model, &task, config.importance_examples);
    let student = rewired(&full.model, &scores);
    let teacher = soft_labels(&full.model.valid(), &task, config.temperature);
    let widths = config.sorted_widths();
    let dynamic_task = DynamicTask {
        task: &task,
        teacher,
        per_step: config.widths_per_step.unwrap_or(widths.len()),
        widths,
        temperature: config.temperature,
        seed: fine_tune.seed,
    };

    // The student's run directory: a text-cls run of the same shape as the teacher.
    let dir = out.join("dynamic");
    write_json(dir.join("model.json"), &full.spec, true)?;
    full.tokenizer.save(dir.join("tokenizer.json"), false)?;
    let mut trainer_config =
        fine_tune_trainer(fine_tune, config.dynamic_epochs, task.batches_per_epoch());
    trainer_config.halt_after = control.halt_after;
    let trainer = Trainer::new(trainer_config, &dir);
    let optimizer = text_cls::optimizer(fine_tune);
    let experiment = serde_json::json!({"dynamic": config, "model": full.spec});
    trainer.write_config(&optimizer, &experiment, control.resume)?;
    let outcome = trainer.fit(student, optimizer.init(), &dynamic_task, control.resume)?;
    halted(&outcome.stop, &dir)?;
    outcome.best()?;

    // Measure the teacher, the student at every width, and the rewired teacher cut.
    let teacher_run = Run::load(&full_dir, &inference)?;
    let student_run = Run::load(&dir, &inference)?;
    let cut_base = rewired(&teacher_run.model, &scores);
    let measure = |run: &Run, model: Classifier, w: f64| -> Result<PrunedModel> {
        let view = Run {
            model,
            tokenizer: run.tokenizer.clone(),
            spec: run.spec.clone(),
        };
        evaluated_run(
            &view,
            &dir,
            1.0 - w,
            None,
            data,
            &config.latency,
            &inference,
            false,
        )
    };
    let mut models = vec![measure(&teacher_run, teacher_run.model.clone(), 1.0)?];
    models[0].dir = full_dir.clone();
    let mut full_width = None;
    let mut cut = Vec::new();
    for &w in &config.sorted_widths() {
        let model = measure(&student_run, sliced(&student_run.model, w), w)?;
        if w >= 1.0 {
            full_width = Some(model);
            continue;
        }
        models.push(model);
        let mut c = measure(&teacher_run, sliced(&cut_base, w), w)?;
        c.dir = PathBuf::from(&full_dir);
        cut.push(c);
    }
    let report = DynamicReport {
        method: "dynamic".into(),
        models,
        full_width,
        cut,
    };
    write_json(out.join("summary.json"), &report, true)?;
    // The optimizer checkpoints only serve `--resume`; `best/` and `last/` stay.
    remove_checkpoints(&dir)?;
    Ok(report)
}
