//! Training runs: the hyper-parameters ([`TrainConfig`]), [`train()`] (core's trainer on
//! [`GainTask`], best model and dev θ kept in the run directory), a trained run loaded back
//! ([`TrainedRun`]) to predict with a [`Threshold`], and the data helpers of the CLI
//! ([`load_documents`], [`relation_ids`], [`split_documents`]).
//!
//! A run directory holds core's layout ([`RunDir`]: `config.json`, `metrics.jsonl`,
//! `checkpoints/`, `best/`, `last/`) plus `model.json` (the [`GainConfig`]) and the vocabulary
//! (`tokenizer.json` or `vocab.json`, see [`crate::encoder`]).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use burnlp_core::burn::tensor::Device;
use burnlp_core::cli::{self, DeviceArgs};
use burnlp_core::data::{read_json_document, write_json};
use burnlp_core::train::{
    AdamWConfig, BestEval, LrSchedule, ParamGroup, RunDir, TrainState, Trainer, TrainerConfig,
    load_parameters,
};
use serde::{Deserialize, Serialize};

use crate::data::{Document, NA_RELATION, Relations, Validation, read_documents, validate};
use crate::encoder::{BuiltModel, EncoderChoice, Vocabulary, build_model, prepare_all};
use crate::error::{GainError, Result};
use crate::eval::{Prediction, TrainFacts};
use crate::model::{Gain, GainConfig};
use crate::train::{GainTask, ScoredCandidates, score_candidates};

/// The model configuration in a run directory (this crate's file, next to core's layout).
pub const MODEL_FILE: &str = "model.json";

/// Documents per forward pass when the trainer scores the dev set.
const EVAL_BATCH_SIZE: usize = 4;

/// Everything that decides a training run besides its data (stored in `RUN/config.json`).
#[derive(clap::Args, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Encoder: a BERT-family model reference (a Hugging Face directory or id, an E5S1 file),
    /// `tiny` (a small random BERT with a WordPiece vocabulary learned from the training
    /// words), `lstm` (random word embeddings of size --tiny-hidden + BiLSTM, the GloVe variant
    /// without pretrained vectors) or `glove:FILE` (GloVe text vectors + BiLSTM).
    #[arg(long, default_value = "tiny")]
    pub encoder: String,
    /// Passes over the training documents.
    #[arg(long, default_value_t = 30, value_parser = cli::positive)]
    pub epochs: usize,
    /// Stop after this many optimizer steps.
    #[arg(long, value_parser = cli::positive)]
    pub max_steps: Option<usize>,
    /// Documents per batch (5 for BERT, 32 for GloVe in the paper).
    #[arg(long, default_value_t = 5, value_parser = cli::positive)]
    pub batch_size: usize,
    /// Learning rate of everything but a pretrained encoder.
    #[arg(long, default_value_t = 1e-3, value_parser = cli::positive_f64)]
    pub lr: f64,
    /// Learning rate of a pretrained encoder (the paper: 0.01 × lr).
    #[arg(long, default_value_t = 1e-5, value_parser = cli::positive_f64)]
    pub encoder_lr: f64,
    /// Weight decay outside a pretrained encoder (which uses AdamW's default 0.01).
    #[arg(long, default_value_t = 1e-4, value_parser = cli::non_negative_f64)]
    pub weight_decay: f64,
    /// Dropout (0.6 in the paper).
    #[arg(long, default_value_t = 0.6, value_parser = cli::fraction)]
    pub dropout: f64,
    /// Half-cosine learning-rate decay over the run (the paper's BERT runs) instead of a
    /// constant rate.
    #[arg(long)]
    pub cosine: bool,
    /// Hidden size of the `tiny` encoder (a multiple of its 4 heads), or the word-embedding size
    /// of `lstm`.
    #[arg(long, default_value_t = 64, value_parser = cli::positive)]
    pub tiny_hidden: usize,
    /// Layers of the `tiny` encoder.
    #[arg(long, default_value_t = 2, value_parser = cli::positive)]
    pub tiny_layers: usize,
    /// Entity-type and entity-id embedding sizes (20 in the paper).
    #[arg(long, default_value_t = 20, value_parser = cli::positive)]
    pub embedding_dim: usize,
    /// LSTM size per direction of the GloVe / `lstm` encoder.
    #[arg(long, default_value_t = 256, value_parser = cli::positive)]
    pub lstm_hidden: usize,
    /// Evaluate every N steps (default: every epoch).
    #[arg(long, value_parser = cli::positive)]
    pub eval_every: Option<usize>,
    /// Select the best model on dev Ign F1 (the reference code) instead of F1.
    #[arg(long)]
    pub select_ign: bool,
    /// Seed of initialisation, pair sampling, batch order and dropout.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Where training runs (not part of the run's identity).
    #[command(flatten)]
    #[serde(skip)]
    pub device: DeviceArgs,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            encoder: "tiny".into(),
            epochs: 30,
            max_steps: None,
            batch_size: 5,
            lr: 1e-3,
            encoder_lr: 1e-5,
            weight_decay: 1e-4,
            dropout: 0.6,
            cosine: false,
            tiny_hidden: 64,
            tiny_layers: 2,
            embedding_dim: 20,
            lstm_hidden: 256,
            eval_every: None,
            select_ign: false,
            seed: 42,
            device: DeviceArgs::default(),
        }
    }
}

impl TrainConfig {
    /// The dev metric that selects the best model: `f1`, or `ign_f1` with `select_ign`.
    pub fn selection_metric(&self) -> &'static str {
        if self.select_ign { "ign_f1" } else { "f1" }
    }

    /// The trainer's settings for `train_docs` training documents.
    fn trainer(&self, train_docs: usize) -> TrainerConfig {
        let steps = train_docs.div_ceil(self.batch_size.max(1)) * self.epochs;
        let steps = self.max_steps.map_or(steps, |m| m.min(steps));
        TrainerConfig {
            epochs: self.epochs,
            max_steps: self.max_steps,
            schedule: if self.cosine {
                LrSchedule::Cosine {
                    warmup: 0,
                    total: steps,
                }
            } else {
                LrSchedule::Constant
            },
            clip_norm: None,
            eval_every: self.eval_every,
            metric: self.selection_metric().into(),
            higher_is_better: true,
            seed: self.seed,
            ..TrainerConfig::default()
        }
    }

    /// AdamW; a pretrained encoder gets its own rate and AdamW's default decay.
    fn optimizer(&self) -> AdamWConfig {
        let optimizer = AdamWConfig::new(self.lr).with_weight_decay(self.weight_decay);
        match EncoderChoice::parse(&self.encoder) {
            EncoderChoice::Pretrained(_) => optimizer.with_group(
                ParamGroup::new("encoder", &["bert"])
                    .with_lr(self.encoder_lr)
                    .with_weight_decay(0.01),
            ),
            _ => optimizer,
        }
    }
}

/// Trains GAIN on `train_docs` predicting `relations` (the model's classes, in order), selects
/// the best model and its threshold θ on `dev_docs` and writes the run directory `out`
/// (`model.json`, the vocabulary, checkpoints, `best/`, metrics). Dev labels with relations
/// outside `relations` stay in the scorer's gold set. Returns the best dev evaluation (its
/// metrics hold `theta`). `origin` names the data in `config.json`.
pub fn train(
    config: &TrainConfig,
    train_docs: &[Document],
    dev_docs: &[Document],
    relations: Vec<String>,
    out: &Path,
    origin: &serde_json::Value,
    resume: bool,
) -> Result<BestEval> {
    non_empty(train_docs, "the training documents")?;
    non_empty(dev_docs, "the dev documents")?;
    if relations.is_empty() {
        return Err(GainError::NoRelations);
    }
    std::fs::create_dir_all(out).map_err(|source| GainError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let device = config.device.training()?;
    device.seed(config.seed);
    let BuiltModel {
        model,
        vocabulary,
        config: gain,
    } = build_model(config, train_docs, dev_docs, relations, out, &device)?;
    write_json(out.join(MODEL_FILE), &gain, true)?;
    let dev_known: Vec<Document> = dev_docs
        .iter()
        .map(|d| {
            let mut d = d.clone();
            d.labels.retain(|l| gain.relations.contains(&l.r));
            d
        })
        .collect();
    let task = GainTask {
        train: prepare_all(train_docs, &vocabulary, &gain, "the training documents")?,
        dev: prepare_all(&dev_known, &vocabulary, &gain, "the dev documents")?,
        dev_gold: dev_docs.to_vec(),
        train_facts: Some(TrainFacts::from_documents(train_docs)),
        batch_size: config.batch_size,
        eval_batch_size: EVAL_BATCH_SIZE,
    };
    let trainer = Trainer::new(config.trainer(train_docs.len()), out);
    let optimizer = config.optimizer();
    let experiment = serde_json::json!({"data": origin, "config": config, "model": gain});
    trainer.write_config(&optimizer, &experiment, resume)?;
    let outcome = trainer.fit(model, optimizer.init(), &task, resume)?;
    Ok(outcome.best()?.clone())
}

fn non_empty(docs: &[Document], what: &str) -> Result<()> {
    if docs.is_empty() {
        return Err(GainError::Empty { what: what.into() });
    }
    Ok(())
}

/// Which candidates [`TrainedRun::predict`] keeps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Threshold {
    /// Every candidate of the sweep (for the scorer to choose θ itself).
    All,
    /// Probability ≥ the run's dev θ.
    Dev,
    /// Probability ≥ this θ.
    Given(f64),
}

/// The best model of a run directory with its vocabulary, configuration and dev θ.
#[derive(Debug)]
pub struct TrainedRun {
    model: Gain,
    vocabulary: Vocabulary,
    config: GainConfig,
    dev_theta: f64,
}

impl TrainedRun {
    /// Loads the best checkpoint of the run in `dir` onto `device`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let path = dir.join(MODEL_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| GainError::NotARun {
            dir: dir.to_path_buf(),
            source,
        })?;
        let config: GainConfig = serde_json::from_str(&text).map_err(|e| GainError::RunFile {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let vocabulary = Vocabulary::load(dir, &config)?;
        let run = RunDir::new(dir);
        let model = load_parameters(config.init(device), &run.best_model())?;
        let state_path = run.best().join("state.json");
        let state: TrainState = read_json_document(&state_path)?;
        let dev_theta = state
            .best
            .and_then(|best| best.metrics.get("theta").copied())
            .ok_or_else(|| GainError::RunFile {
                path: state_path,
                message: "holds no dev θ".into(),
            })?;
        Ok(TrainedRun {
            model,
            vocabulary,
            config,
            dev_theta,
        })
    }

    /// The model.
    pub fn model(&self) -> &Gain {
        &self.model
    }

    /// The model's configuration (`model.json`).
    pub fn config(&self) -> &GainConfig {
        &self.config
    }

    /// θ of the best checkpoint on the dev set.
    pub fn dev_theta(&self) -> f64 {
        self.dev_theta
    }

    /// The θ a threshold applies (`None` for [`Threshold::All`]).
    pub fn theta(&self, threshold: Threshold) -> Option<f64> {
        match threshold {
            Threshold::All => None,
            Threshold::Dev => Some(self.dev_theta),
            Threshold::Given(theta) => Some(theta),
        }
    }

    /// Scores `docs` (labels are ignored; `what` names them in errors) and returns the
    /// candidates `threshold` keeps, highest score first, compactly ([`ScoredCandidates`]:
    /// write them with [`ScoredCandidates::write_json`]).
    pub fn score(
        &self,
        docs: &[Document],
        what: &str,
        threshold: Threshold,
        batch_size: usize,
    ) -> Result<ScoredCandidates> {
        let unlabelled: Vec<Document> = docs
            .iter()
            .map(|d| Document {
                labels: Vec::new(),
                ..d.clone()
            })
            .collect();
        let inputs = prepare_all(&unlabelled, &self.vocabulary, &self.config, what)?;
        Ok(score_candidates(
            &self.model,
            &inputs,
            batch_size,
            self.theta(threshold),
        ))
    }

    /// [`TrainedRun::score`] in the DocRED submission format (for small document sets).
    pub fn predict(
        &self,
        docs: &[Document],
        what: &str,
        threshold: Threshold,
        batch_size: usize,
    ) -> Result<Vec<Prediction>> {
        Ok(self
            .score(docs, what, threshold, batch_size)?
            .predictions(None))
    }
}

/// Reads and validates a DocRED file (against `relations`, when given).
pub fn load_documents(
    path: &Path,
    relations: Option<&Relations>,
) -> Result<(Vec<Document>, Validation)> {
    let located = |source| GainError::Documents {
        path: path.to_path_buf(),
        source,
    };
    let documents = read_documents(path).map_err(located)?;
    let validation = validate(&documents, relations).map_err(located)?;
    Ok((documents, validation))
}

/// The model's relation ids: those of a `rel2id.json` (by class index, Na left out), or the
/// relations of the training labels (P-numbers in numeric order).
pub fn relation_ids(rel2id: Option<&Path>, train: &[Document]) -> Result<Vec<String>> {
    if let Some(path) = rel2id {
        let map: BTreeMap<String, usize> = read_json_document(path)?;
        let mut ids: Vec<(usize, String)> = map
            .into_iter()
            .filter(|(id, _)| id != NA_RELATION)
            .map(|(id, i)| (i, id))
            .collect();
        ids.sort();
        return Ok(ids.into_iter().map(|(_, id)| id).collect());
    }
    let mut ids: Vec<String> = train
        .iter()
        .flat_map(|d| d.labels.iter().map(|l| l.r.clone()))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    ids.sort_by_key(|id| {
        (
            id.strip_prefix('P')
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(u64::MAX),
            id.clone(),
        )
    });
    if ids.is_empty() {
        return Err(GainError::NoRelations);
    }
    Ok(ids)
}

/// Splits documents into a training portion and the last `dev_docs` documents for dev (both
/// non-empty; `origin` names the documents in the error).
pub fn split_documents<'a>(
    docs: &'a [Document],
    dev_docs: usize,
    origin: &str,
) -> Result<(&'a [Document], &'a [Document])> {
    if dev_docs == 0 || dev_docs >= docs.len() {
        return Err(GainError::Split {
            requested: dev_docs,
            available: docs.len(),
            origin: origin.to_string(),
        });
    }
    Ok(docs.split_at(docs.len() - dev_docs))
}
