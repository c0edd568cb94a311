//! The results suite (`docre-gain experiment`, run by `cargo xtask results`): GAIN with a
//! BERT-family encoder (MiniLM) and the BiLSTM baseline trained on one split of the shared
//! DocRED sample, scored on the dev portion with the official scorer; [`write_report`] writes
//! the markdown report and the same numbers as JSON beside it.

mod report;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burnlp_core::cli::DeviceArgs;
use burnlp_core::data::write_json;
use serde::Serialize;

pub use report::{check_report_path, markdown, write_report};

use crate::data::{Document, Relations};
use crate::error::{GainError, Result};
use crate::eval::{EvalOptions, EvalReport, TrainFacts, evaluate};
use crate::run::{
    Threshold, TrainConfig, TrainedRun, load_documents, relation_ids, split_documents, train,
};

/// Settings of the experiment (the CLI's flags, resolved).
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentConfig {
    /// DocRED directory holding `dev_sample.json` (and, if present, `rel2id.json` for the
    /// model's classes and `rel_info.json` for relation names), or a DocRED file (the relation
    /// files are looked up beside it).
    pub data: PathBuf,
    /// Encoder of the BERT variant: a model reference or `tiny`.
    pub encoder: String,
    /// Working directory: `train.json`, `dev.json` and one run directory per variant.
    pub out: PathBuf,
    /// Epochs of the BERT variant.
    pub epochs: usize,
    /// Epochs of the BiLSTM variant.
    pub lstm_epochs: usize,
    /// Documents of the dev portion (the last ones of the file).
    pub dev_docs: usize,
    /// Seed of both variants.
    pub seed: u64,
    /// Documents per batch (both variants).
    pub batch_size: usize,
    /// Learning rate of everything but the pretrained encoder (both variants).
    pub lr: f64,
    /// Learning rate of the pretrained encoder.
    pub encoder_lr: f64,
    /// Dropout (both variants).
    pub dropout: f64,
    /// Entity-type and entity-id embedding sizes.
    pub embedding_dim: usize,
    /// Word-embedding size of the BiLSTM variant.
    pub word_dim: usize,
    /// LSTM size per direction of the BiLSTM variant.
    pub lstm_hidden: usize,
    /// Hidden size of a `tiny` encoder.
    pub tiny_hidden: usize,
    /// Where both variants train and predict.
    pub device: DeviceArgs,
    /// The command line that ran the experiment (shown in the report).
    pub command: String,
}

/// Counts of one portion of the split.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Portion {
    /// Documents.
    pub documents: usize,
    /// Entities.
    pub entities: usize,
    /// Mentions.
    pub mentions: usize,
    /// Distinct facts (document, relation, head, tail).
    pub facts: usize,
    /// Words.
    pub tokens: usize,
    /// Relations among the facts.
    pub relation_types: usize,
}

impl Portion {
    /// The counts of `docs`.
    pub fn of(docs: &[Document]) -> Self {
        let facts: HashSet<(usize, &str, usize, usize)> = docs
            .iter()
            .enumerate()
            .flat_map(|(i, d)| d.labels.iter().map(move |l| (i, l.r.as_str(), l.h, l.t)))
            .collect();
        Portion {
            documents: docs.len(),
            entities: docs.iter().map(|d| d.vertex_set.len()).sum(),
            mentions: docs.iter().flat_map(|d| &d.vertex_set).map(Vec::len).sum(),
            facts: facts.len(),
            tokens: docs.iter().map(Document::num_tokens).sum(),
            relation_types: facts.iter().map(|f| f.1).collect::<HashSet<_>>().len(),
        }
    }
}

/// Settings and scores of one trained variant (scores are fractions in [0, 1]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantResult {
    /// `gain-bert` or `gain-bilstm`.
    pub variant: &'static str,
    /// The `--encoder` of the variant.
    pub encoder: String,
    /// Epochs.
    pub epochs: usize,
    /// Documents per batch.
    pub batch_size: usize,
    /// Learning rate.
    pub lr: f64,
    /// Learning rate of the pretrained encoder, if any.
    pub encoder_lr: Option<f64>,
    /// Dropout.
    pub dropout: f64,
    /// Optimizer steps.
    pub steps: usize,
    /// Epoch of the best dev evaluation.
    pub best_epoch: usize,
    /// Seconds of training (with the dev evaluations).
    pub train_wall_s: f64,
    /// Official precision of the submission at the dev θ.
    pub precision: f64,
    /// Official recall at the dev θ.
    pub recall: f64,
    /// Official F1 at the dev θ.
    pub f1: f64,
    /// Ign F1 at the dev θ.
    pub ign_f1: Option<f64>,
    /// θ of the sweep over every candidate.
    pub theta: Option<f64>,
    /// Best F1 of the sweep.
    pub best_f1: Option<f64>,
    /// Best Ign F1 of the sweep.
    pub best_ign_f1: Option<f64>,
    /// Area under the precision-recall curve.
    pub auc: Option<f64>,
    /// Area under the Ign precision-recall curve.
    pub ign_auc: Option<f64>,
    /// Predictions at the dev θ.
    pub predictions: usize,
    /// Correct ones among them.
    pub correct: usize,
}

/// Everything the report shows (also its JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// The command line.
    pub command: String,
    /// The day of the run (UTC, YYYY-MM-DD).
    pub date: String,
    /// The DocRED file that was split.
    pub sample: String,
    /// The `rel2id.json` giving the model's classes, if any.
    pub rel2id: Option<String>,
    /// The training portion.
    pub train: Portion,
    /// The dev portion.
    pub dev: Portion,
    /// Dev facts that are training facts by the Ign rule.
    pub dev_facts_in_train: usize,
    /// The seed.
    pub seed: u64,
    /// The device.
    pub device: String,
    /// Hardware threads.
    pub threads: usize,
    /// `dev` or `release`.
    pub profile: &'static str,
    /// Entity-type and entity-id embedding sizes.
    pub embedding_dim: usize,
    /// Word-embedding size of the BiLSTM.
    pub word_dim: usize,
    /// LSTM size per direction.
    pub lstm_hidden: usize,
    /// Seconds in all.
    pub wall_s: f64,
    /// One entry per variant.
    pub results: Vec<VariantResult>,
}

/// The sample file and the relation files beside it.
struct DataFiles {
    sample: PathBuf,
    rel2id: Option<PathBuf>,
    rel_info: Option<PathBuf>,
}

impl DataFiles {
    fn locate(data: &Path) -> Result<Self> {
        let (sample, dir) = if data.is_dir() {
            (data.join("dev_sample.json"), data.to_path_buf())
        } else {
            let dir = data.parent().unwrap_or(Path::new(".")).to_path_buf();
            (data.to_path_buf(), dir)
        };
        if !sample.is_file() {
            return Err(GainError::NoSample { path: sample });
        }
        let beside = |name: &str| Some(dir.join(name)).filter(|p| p.is_file());
        Ok(DataFiles {
            sample,
            rel2id: beside("rel2id.json"),
            rel_info: beside("rel_info.json"),
        })
    }
}

/// Splits the sample, trains and scores both variants and returns the summary (write it with
/// [`write_report`]).
pub fn run_experiment(config: &ExperimentConfig) -> Result<Summary> {
    let started = Instant::now();
    let files = DataFiles::locate(&config.data)?;
    let relations = files
        .rel_info
        .as_deref()
        .map(Relations::from_rel_info)
        .transpose()?;
    let (docs, validation) = load_documents(&files.sample, relations.as_ref())?;
    for warning in &validation.warnings {
        tracing::warn!(file = %files.sample.display(), "{warning}");
    }
    let (train, dev) =
        split_documents(&docs, config.dev_docs, &files.sample.display().to_string())?;
    write_json(config.out.join("train.json"), train, false)?;
    write_json(config.out.join("dev.json"), dev, false)?;
    let facts = TrainFacts::from_documents(train);
    let options = EvalOptions {
        train_facts: Some(&facts),
        relations: relations.as_ref(),
        keep_duplicates: false,
    };
    let classes = relation_ids(files.rel2id.as_deref(), train)?;
    let mut results = Vec::new();
    for (variant, encoder, epochs) in [
        ("gain-bert", config.encoder.as_str(), config.epochs),
        ("gain-bilstm", "lstm", config.lstm_epochs),
    ] {
        let split = Split {
            train,
            dev,
            classes: &classes,
            options: &options,
        };
        results.push(run_variant(config, &split, variant, encoder, epochs)?);
    }
    Ok(Summary {
        command: config.command.clone(),
        date: report::utc_date(),
        sample: files.sample.display().to_string(),
        rel2id: files.rel2id.as_ref().map(|p| p.display().to_string()),
        train: Portion::of(train),
        dev: Portion::of(dev),
        dev_facts_in_train: dev_facts_in_train(dev, &facts),
        seed: config.seed,
        device: config.device.to_string(),
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        profile: if cfg!(debug_assertions) {
            "dev"
        } else {
            "release"
        },
        embedding_dim: config.embedding_dim,
        word_dim: config.word_dim,
        lstm_hidden: config.lstm_hidden,
        wall_s: started.elapsed().as_secs_f64(),
        results,
    })
}

/// The split both variants train and are scored on.
struct Split<'a> {
    train: &'a [Document],
    dev: &'a [Document],
    /// The model's relation classes.
    classes: &'a [String],
    options: &'a EvalOptions<'a>,
}

/// Trains one variant in `OUT/<variant>` and scores its best model on the dev portion: the
/// submission at the dev θ (`result.json`) and every candidate (`scored.json`, the sweep).
fn run_variant(
    config: &ExperimentConfig,
    split: &Split<'_>,
    variant: &'static str,
    encoder: &str,
    epochs: usize,
) -> Result<VariantResult> {
    let run_dir = config.out.join(variant);
    let train_config = variant_config(config, encoder, epochs);
    tracing::info!(variant, encoder, epochs, "training");
    let clock = Instant::now();
    let origin = serde_json::json!({
        "train": config.out.join("train.json"), "dev": config.out.join("dev.json"),
    });
    let best = train(
        &train_config,
        split.train,
        split.dev,
        split.classes.to_vec(),
        &run_dir,
        &origin,
        false,
    )?;
    let train_wall_s = clock.elapsed().as_secs_f64();
    let trained = TrainedRun::load(&run_dir, &config.device.inference()?)?;
    let score = |threshold, name: &str| -> Result<EvalReport> {
        let predictions = trained.predict(split.dev, "the dev portion", threshold, 4)?;
        write_json(run_dir.join(name), &predictions, false)?;
        Ok(evaluate(split.dev, &predictions, split.options)?)
    };
    let official = score(Threshold::Dev, "result.json")?;
    let sweep = score(Threshold::All, "scored.json")?.sweep;
    let steps_per_epoch = split.train.len().div_ceil(config.batch_size.max(1));
    Ok(VariantResult {
        variant,
        encoder: encoder.to_owned(),
        epochs,
        batch_size: config.batch_size,
        lr: config.lr,
        encoder_lr: (encoder != "lstm" && encoder != "tiny").then_some(config.encoder_lr),
        dropout: config.dropout,
        steps: steps_per_epoch * epochs,
        best_epoch: best.step.div_ceil(steps_per_epoch),
        train_wall_s,
        precision: official.precision,
        recall: official.recall,
        f1: official.f1,
        ign_f1: official.ign_f1,
        theta: sweep.as_ref().map(|s| s.theta),
        best_f1: sweep.as_ref().map(|s| s.f1),
        best_ign_f1: sweep.as_ref().and_then(|s| s.ign_f1),
        auc: sweep.as_ref().map(|s| s.auc),
        ign_auc: sweep.as_ref().and_then(|s| s.ign_auc),
        predictions: official.counts.predictions,
        correct: official.counts.correct,
    })
}

/// The training settings of one variant.
fn variant_config(config: &ExperimentConfig, encoder: &str, epochs: usize) -> TrainConfig {
    TrainConfig {
        encoder: encoder.to_owned(),
        epochs,
        batch_size: config.batch_size,
        lr: config.lr,
        encoder_lr: config.encoder_lr,
        weight_decay: 1e-4,
        dropout: config.dropout,
        tiny_hidden: if encoder == "lstm" {
            config.word_dim
        } else {
            config.tiny_hidden
        },
        tiny_layers: 2,
        embedding_dim: config.embedding_dim,
        lstm_hidden: config.lstm_hidden,
        seed: config.seed,
        device: config.device.clone(),
        ..TrainConfig::default()
    }
}

/// Dev facts whose (head mention name, tail mention name, relation) is a training triple.
fn dev_facts_in_train(dev: &[Document], facts: &TrainFacts) -> usize {
    let dev_facts: HashSet<(usize, usize, usize, &str)> = dev
        .iter()
        .enumerate()
        .flat_map(|(i, d)| d.labels.iter().map(move |l| (i, l.h, l.t, l.r.as_str())))
        .collect();
    dev_facts
        .iter()
        .filter(|(i, h, t, r)| {
            let d = &dev[*i];
            let (heads, tails) = (&d.vertex_set[*h], &d.vertex_set[*t]);
            heads
                .iter()
                .any(|m| tails.iter().any(|n| facts.contains(&m.name, &n.name, r)))
        })
        .count()
}
