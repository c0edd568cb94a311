//! Training the captioner with `burnlp_core::train`, loading a run, greedy captioning and the
//! caption scores of held-out examples.
//!
//! A run directory holds the trainer's files (`config.json`, `metrics.jsonl`, `best/`,
//! `last/`, `checkpoints/`) and `model.json` ([`CaptionerSpec`]), `vocab.json` ([`Vocab`]) and
//! `train_report.json` ([`TrainReport`]).

use std::path::{Path, PathBuf};
use std::time::Instant;

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::{Device, Int, Tensor, TensorData};
use burnlp_core::data::shuffled_batches;
use burnlp_core::nn::seq2seq::label_smoothed_cross_entropy;
use burnlp_core::train::{
    AdamWConfig, LrSchedule, Metrics, RunDir, TrainTask, Trainer, TrainerConfig, load_parameters,
};
use serde::{Deserialize, Serialize};

use super::charts::{Chart, Raster};
use super::model::{Captioner, CaptionerSpec, patch_tensor};
use super::vocab::{EOS, PAD, Vocab};
use crate::error::{ArxivCapError, Result};
use crate::eval::{CaptionInstance, CaptionPrediction, CaptionReport, score_captions};

/// Files of a run directory besides the trainer's.
pub mod run_files {
    /// The [`super::CaptionerSpec`].
    pub const MODEL: &str = "model.json";
    /// The [`super::Vocab`].
    pub const VOCAB: &str = "vocab.json";
    /// The [`super::TrainReport`].
    pub const REPORT: &str = "train_report.json";
}

/// An image with its caption.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptionExample {
    /// An id (`chart-<seed>` for generated charts, `<arxiv_id>/<image_file>` for real ones).
    pub id: String,
    /// The image, `image_size` square.
    pub image: Raster,
    /// The reference caption.
    pub caption: String,
}

impl From<Chart> for CaptionExample {
    fn from(chart: Chart) -> Self {
        Self {
            id: format!("chart-{}", chart.seed),
            caption: chart.caption(),
            image: chart.image,
        }
    }
}

/// Settings of [`train`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Optimizer steps.
    pub steps: usize,
    /// Examples per batch.
    pub batch_size: usize,
    /// Peak learning rate (AdamW).
    pub lr: f64,
    /// Linear warm-up steps (then linear decay to 0 at `steps`).
    pub warmup: usize,
    /// Label smoothing of the cross-entropy.
    pub label_smoothing: f64,
    /// Evaluate (validation loss and word accuracy) every N steps; also at the end.
    pub eval_every: usize,
    /// Words of the vocabulary: seen at least this often in the training captions.
    pub min_word_count: usize,
    /// At most this many words (most frequent first).
    pub max_vocab: usize,
    /// Seed of initialisation and batch order.
    pub seed: u64,
    /// Show a progress bar.
    pub progress: bool,
    /// Continue the newest checkpoint of the run directory (whose `config.json` must match);
    /// not a setting of the model, so not saved.
    #[serde(skip)]
    pub resume: bool,
    /// Stop this process after this many optimizer steps, leaving a checkpoint that `resume`
    /// continues (as a killed or time-boxed run would); not saved.
    #[serde(skip)]
    pub halt_after: Option<usize>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            steps: 300,
            batch_size: 32,
            lr: 2e-3,
            warmup: 30,
            label_smoothing: 0.0,
            eval_every: 100,
            min_word_count: 1,
            max_vocab: 5000,
            seed: 13,
            progress: true,
            resume: false,
            halt_after: None,
        }
    }
}

/// The outcome of [`train`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// Optimizer steps done.
    pub steps: usize,
    /// Training examples.
    pub train_examples: usize,
    /// Validation examples.
    pub valid_examples: usize,
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Wall time in seconds.
    pub wall_s: f64,
    /// Validation metrics before training (the initial model).
    pub initial_eval: Metrics,
    /// Validation metrics of the best evaluation.
    pub best_eval: Metrics,
}

/// The training task: examples encoded once.
pub struct CaptionTask {
    spec: CaptionerSpec,
    train: Vec<(Raster, Vec<u32>)>,
    valid: Vec<(Raster, Vec<u32>)>,
    batch_size: usize,
    label_smoothing: f64,
}

impl CaptionTask {
    /// Encodes the captions of `train` and `valid` with `vocab`.
    pub fn new(
        spec: &CaptionerSpec,
        vocab: &Vocab,
        train: &[CaptionExample],
        valid: &[CaptionExample],
        config: &TrainConfig,
    ) -> Self {
        let encode = |examples: &[CaptionExample]| {
            examples
                .iter()
                .map(|e| {
                    (
                        e.image.clone(),
                        vocab.encode(&e.caption, spec.max_caption_words),
                    )
                })
                .collect()
        };
        Self {
            spec: spec.clone(),
            train: encode(train),
            valid: encode(valid),
            batch_size: config.batch_size,
            label_smoothing: config.label_smoothing,
        }
    }

    /// Teacher-forced logits and targets of examples.
    fn logits(
        &self,
        model: &Captioner,
        examples: &[&(Raster, Vec<u32>)],
    ) -> (Tensor<3>, Tensor<2, Int>) {
        let device = model.devices()[0].clone();
        let images: Vec<&Raster> = examples.iter().map(|e| &e.0).collect();
        let len = examples.iter().map(|e| e.1.len() + 1).max().unwrap_or(1);
        let mut prev = vec![i64::from(PAD); examples.len() * len];
        let mut target = prev.clone();
        for (row, (_, words)) in examples.iter().enumerate() {
            prev[row * len] = i64::from(EOS);
            for (i, &w) in words.iter().enumerate() {
                prev[row * len + i + 1] = i64::from(w);
                target[row * len + i] = i64::from(w);
            }
            target[row * len + words.len()] = i64::from(EOS);
        }
        let int = |v: Vec<i64>| {
            Tensor::<2, Int>::from_data(TensorData::new(v, [examples.len(), len]), &device)
        };
        let logits = model.forward(patch_tensor(&images, &self.spec, &device), int(prev));
        (logits, int(target))
    }
}

impl TrainTask<Captioner> for CaptionTask {
    type Batch = Vec<usize>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Vec<usize>> {
        shuffled_batches(self.train.len(), self.batch_size, seed, epoch as u64)
    }

    fn loss(&self, model: &Captioner, batch: &Vec<usize>) -> Tensor<1> {
        let examples: Vec<_> = batch.iter().map(|&i| &self.train[i]).collect();
        let (logits, target) = self.logits(model, &examples);
        label_smoothed_cross_entropy(logits, target, self.label_smoothing, PAD)
    }

    fn evaluate(&self, model: &Captioner) -> Metrics {
        teacher_forced(self, model, &self.valid)
    }

    fn batch_len(&self, batch: &Vec<usize>) -> usize {
        batch.len()
    }
}

/// Mean per-word cross-entropy (`loss`) and next-word accuracy (`accuracy`) of `examples`,
/// teacher-forced, end-of-caption included.
fn teacher_forced(
    task: &CaptionTask,
    model: &Captioner,
    examples: &[(Raster, Vec<u32>)],
) -> Metrics {
    let (mut nll, mut right, mut words) = (0.0, 0usize, 0usize);
    for chunk in examples.chunks(task.batch_size.max(1) * 2) {
        let refs: Vec<_> = chunk.iter().collect();
        let (logits, target) = task.logits(model, &refs);
        let n = chunk.iter().map(|e| e.1.len() + 1).sum::<usize>();
        let loss = label_smoothed_cross_entropy(logits.clone(), target.clone(), 0.0, PAD);
        nll += f64::from(loss.into_scalar::<f32>()) * n as f64;
        let predicted = logits.argmax(2).squeeze_dim::<2>(2);
        let hits = predicted
            .equal(target.clone())
            .int()
            .mul(target.not_equal_elem(i64::from(PAD)).int())
            .sum()
            .into_scalar::<i64>();
        right += hits as usize;
        words += n;
    }
    Metrics::from([
        ("loss".to_string(), nll / words.max(1) as f64),
        ("accuracy".to_string(), right as f64 / words.max(1) as f64),
    ])
}

/// Trains a captioner on `train` (validating on `valid`) into the run directory `out`, on
/// `device` (an autodiff device is derived from it). The vocabulary comes from the training
/// captions; `spec`'s `vocab_size` is replaced by its size.
pub fn train(
    train: &[CaptionExample],
    valid: &[CaptionExample],
    spec: &CaptionerSpec,
    config: &TrainConfig,
    out: &Path,
    device: &Device,
) -> Result<TrainReport> {
    let started = Instant::now();
    if train.is_empty() || valid.is_empty() {
        return Err(ArxivCapError::Empty {
            what: "the captioner's training or validation data".into(),
        });
    }
    let vocab = Vocab::build(
        train.iter().map(|e| e.caption.as_str()),
        config.min_word_count,
        config.max_vocab,
    );
    let spec = CaptionerSpec {
        vocab_size: vocab.len(),
        ..spec.clone()
    };
    if let Some(problem) = spec.problem() {
        return Err(ArxivCapError::Invalid {
            path: out.join(run_files::MODEL),
            record: 1,
            id: None,
            problem,
        });
    }
    for e in train.iter().chain(valid) {
        if e.image.width != spec.image_size || e.image.height != spec.image_size {
            return Err(ArxivCapError::Invalid {
                path: PathBuf::from(&e.id),
                record: 1,
                id: Some(e.id.clone()),
                problem: format!(
                    "image is {}×{}, the model takes {}×{}",
                    e.image.width, e.image.height, spec.image_size, spec.image_size
                ),
            });
        }
    }
    std::fs::create_dir_all(out).map_err(|e| ArxivCapError::read(out, e))?;
    burnlp_core::data::write_json(out.join(run_files::MODEL), &spec, true)?;
    burnlp_core::data::write_json(out.join(run_files::VOCAB), &vocab, true)?;
    let task = CaptionTask::new(&spec, &vocab, train, valid, config);
    let trainer_config = TrainerConfig {
        // Enough epochs for `steps` steps even with one batch per epoch.
        epochs: config.steps,
        max_steps: Some(config.steps),
        clip_norm: Some(1.0),
        schedule: LrSchedule::Linear {
            warmup: config.warmup,
            total: config.steps,
        },
        eval_every: Some(config.eval_every),
        metric: "loss".into(),
        higher_is_better: false,
        keep_checkpoints: 1,
        seed: config.seed,
        log_every: 10,
        progress: config.progress,
        halt_after: config.halt_after,
        ..TrainerConfig::default()
    };
    let optimizer = AdamWConfig::new(config.lr).with_weight_decay(0.01);
    let trainer = Trainer::new(trainer_config, out);
    trainer.write_config(
        &optimizer,
        &serde_json::json!({"captioner": config, "model": spec}),
        config.resume,
    )?;
    let train_device = device.clone().autodiff();
    train_device.seed(config.seed);
    let model = spec.init(&train_device);
    let initial_eval = task.evaluate(&model.valid());
    let outcome = trainer.fit(model, optimizer.init(), &task, config.resume)?;
    let best = outcome.best()?.metrics.clone();
    let report = TrainReport {
        steps: outcome.state.step,
        train_examples: train.len(),
        valid_examples: valid.len(),
        vocab_size: vocab.len(),
        wall_s: started.elapsed().as_secs_f64(),
        initial_eval,
        best_eval: best,
    };
    burnlp_core::data::write_json(out.join(run_files::REPORT), &report, true)?;
    Ok(report)
}

/// A trained captioner with its vocabulary.
pub struct CaptionerRun {
    /// The model (best validation loss), inference mode.
    pub model: Captioner,
    /// Its settings.
    pub spec: CaptionerSpec,
    /// Its vocabulary.
    pub vocab: Vocab,
}

impl CaptionerRun {
    /// Loads the best model of a run directory written by [`train`].
    pub fn load(run: &Path, device: &Device) -> Result<Self> {
        let spec: CaptionerSpec =
            burnlp_core::data::read_json_document(run.join(run_files::MODEL))?;
        let vocab: Vocab = burnlp_core::data::read_json_document(run.join(run_files::VOCAB))?;
        let vocab = Vocab::from_words(vocab.words);
        if vocab.len() != spec.vocab_size {
            return Err(ArxivCapError::Invalid {
                path: run.join(run_files::VOCAB),
                record: 1,
                id: None,
                problem: format!("{} words, the model has {}", vocab.len(), spec.vocab_size),
            });
        }
        let model = load_parameters(spec.init(device), &RunDir::new(run).best_model())?;
        Ok(Self { model, spec, vocab })
    }

    /// Greedy captions of images (`image_size` square), `batch_size` at a time.
    pub fn caption(&self, images: &[&Raster], batch_size: usize) -> Vec<String> {
        let device = self.model.devices()[0].clone();
        images
            .chunks(batch_size.max(1))
            .flat_map(|chunk| {
                let x = patch_tensor(chunk, &self.spec, &device);
                self.model
                    .greedy(x, self.spec.max_caption_words)
                    .into_iter()
                    .map(|h| self.vocab.decode(h.output()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

/// Caption scores of a model on examples it was not trained on, with the chance level of
/// always answering the most frequent training caption.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldOutScores {
    /// BLEU-2, ROUGE-L and CIDEr-D of the model's greedy captions.
    pub model: CaptionReport,
    /// Share of captions generated exactly.
    pub exact: f64,
    /// The same scores for the most frequent training caption given to every example.
    pub majority: CaptionReport,
    /// Share of examples whose caption is the most frequent training caption.
    pub majority_exact: f64,
}

/// Scores `run` on `examples` (see [`HeldOutScores`]); `train_captions` gives the majority
/// baseline.
pub fn held_out_scores<'a>(
    run: &CaptionerRun,
    examples: &[CaptionExample],
    train_captions: impl IntoIterator<Item = &'a str>,
) -> Result<HeldOutScores> {
    let images: Vec<&Raster> = examples.iter().map(|e| &e.image).collect();
    let generated = run.caption(&images, 64);
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for c in train_captions {
        *counts.entry(c).or_default() += 1;
    }
    let majority = counts
        .iter()
        .max_by_key(|(c, n)| (**n, std::cmp::Reverse(**c)))
        .map(|(c, _)| c.to_string())
        .unwrap_or_default();
    let instances: Vec<CaptionInstance> = examples
        .iter()
        .map(|e| CaptionInstance {
            id: e.id.clone(),
            reference: e.caption.clone(),
        })
        .collect();
    let predictions = |texts: &mut dyn Iterator<Item = String>| -> Vec<CaptionPrediction> {
        examples
            .iter()
            .zip(texts)
            .map(|(e, prediction)| CaptionPrediction {
                id: e.id.clone(),
                prediction,
            })
            .collect()
    };
    let source = Path::new("<generated captions>");
    let exact_share = |texts: &[String]| {
        let same = examples
            .iter()
            .zip(texts)
            .filter(|(e, t)| {
                crate::captioner::vocab::words(&e.caption) == crate::captioner::vocab::words(t)
            })
            .count();
        same as f64 / examples.len().max(1) as f64
    };
    let majority_texts = vec![majority; examples.len()];
    Ok(HeldOutScores {
        model: score_captions(
            &instances,
            &predictions(&mut generated.clone().into_iter()),
            source,
        )?,
        exact: exact_share(&generated),
        majority: score_captions(
            &instances,
            &predictions(&mut majority_texts.clone().into_iter()),
            source,
        )?,
        majority_exact: exact_share(&majority_texts),
    })
}

/// Captioner examples from ArxivCap rows whose image bytes are embedded (Parquet): every image
/// with its figure's caption, rasterised when it is a PDF/EPS. Returns the examples and, for
/// every image that could not be used, its id and why (the caller reports them).
pub fn real_examples(
    rows: &[crate::schema::ArxivCapRow],
    size: usize,
    rasterizer: &crate::images::Rasterizer,
) -> (Vec<CaptionExample>, Vec<(String, String)>) {
    let mut examples = Vec::new();
    let mut failed = Vec::new();
    for row in rows {
        for c in &row.caption_images {
            for pair in &c.cil_pairs {
                let id = format!("{}/{}", row.arxiv_id, pair.image_file);
                let Some(bytes) = pair.image_bytes.as_deref().filter(|b| !b.is_empty()) else {
                    failed.push((id, "no embedded image bytes".to_string()));
                    continue;
                };
                match crate::images::load_raster(bytes, Path::new(&id), size, rasterizer) {
                    Ok(image) => examples.push(CaptionExample {
                        id,
                        image,
                        caption: c.caption.clone(),
                    }),
                    Err(e) => failed.push((id, e.to_string())),
                }
            }
        }
    }
    (examples, failed)
}
