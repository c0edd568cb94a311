//! The results suite (`docre-gain experiment`, run by `cargo xtask results`): GAIN with a
//! BERT-family encoder (MiniLM) and the BiLSTM baseline on a three-way split of the shared
//! DocRED sample ([`split_sample`]: train / dev / test in file order, checked disjoint), each
//! trained on train, its checkpoint and θ selected on dev, and scored on test with the official
//! scorer and GAIN's threshold sweep; [`write_report`] writes the markdown report, the same
//! numbers as JSON and the test precision–recall curves as SVG beside it.

mod report;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burnlp_core::cli::DeviceArgs;
use burnlp_core::data::{check_disjoint, write_json};
use serde::Serialize;

pub use report::{ReportFiles, check_report_path, markdown, pr_chart, write_report};

use crate::data::{Document, Relations};
use crate::demo::document_text;
use crate::error::{GainError, Result};
use crate::eval::{EvalOptions, TrainFacts, evaluate};
use crate::run::{Threshold, TrainConfig, TrainedRun, load_documents, relation_ids, train};
use crate::train::ScoredCandidates;

/// Most points drawn per precision–recall curve.
pub const CURVE_POINTS: usize = 400;

/// Documents per forward pass when scoring the test portion.
const PREDICT_BATCH: usize = 4;

/// Settings of the experiment (the CLI's flags, resolved).
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentConfig {
    /// DocRED directory holding `dev_sample.json` (and, if present, `rel2id.json` for the
    /// model's classes and `rel_info.json` for relation names), or a DocRED file (the relation
    /// files are looked up beside it).
    pub data: PathBuf,
    /// Encoder of the BERT variant: a model reference or `tiny`.
    pub encoder: String,
    /// Working directory: `train.json`, `dev.json`, `test.json` and one run directory per
    /// variant.
    pub out: PathBuf,
    /// Epochs of the BERT variant.
    pub epochs: usize,
    /// Epochs of the BiLSTM variant.
    pub lstm_epochs: usize,
    /// Documents of the dev portion (checkpoint and θ selection; the ones before the test
    /// portion).
    pub dev_docs: usize,
    /// Documents of the test portion (reported; the last ones of the file).
    pub test_docs: usize,
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

/// Settings and scores of one trained variant (scores are fractions in [0, 1]): selected on
/// the dev portion, scored on the test portion.
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
    /// Best-threshold F1 of the selected checkpoint on the dev portion (what selected it).
    pub dev_f1: f64,
    /// Best-threshold Ign F1 of the selected checkpoint on the dev portion.
    pub dev_ign_f1: Option<f64>,
    /// The dev θ: the threshold of the dev sweep, applied to the test portion.
    pub theta: f64,
    /// Official precision on the test portion at the dev θ.
    pub precision: f64,
    /// Official recall on the test portion at the dev θ.
    pub recall: f64,
    /// Official F1 on the test portion at the dev θ.
    pub f1: f64,
    /// Official Ign F1 on the test portion at the dev θ.
    pub ign_f1: Option<f64>,
    /// Test predictions at the dev θ.
    pub predictions: usize,
    /// Correct ones among them.
    pub correct: usize,
    /// Oracle: the best F1 of the test sweep (θ chosen with the test labels).
    pub oracle_f1: Option<f64>,
    /// Oracle: the θ of that best test F1.
    pub oracle_theta: Option<f64>,
    /// Oracle: the best Ign F1 of the test sweep.
    pub oracle_ign_f1: Option<f64>,
    /// Area under the test precision–recall curve (every candidate; no threshold).
    pub auc: Option<f64>,
    /// Area under the test Ign precision–recall curve.
    pub ign_auc: Option<f64>,
    /// Test candidates scored (every ordered entity pair × relation).
    pub candidates: usize,
    /// The test precision–recall curve as `(recall, precision)` points, at most
    /// [`CURVE_POINTS`] (drawn in the SVG, not written to the JSON).
    #[serde(skip)]
    pub curve: Vec<(f64, f64)>,
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
    /// The dev portion (checkpoint and θ selection).
    pub dev: Portion,
    /// The test portion (reported).
    pub test: Portion,
    /// Dev facts that are training facts by the Ign rule.
    pub dev_facts_in_train: usize,
    /// Test facts that are training facts by the Ign rule.
    pub test_facts_in_train: usize,
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

/// The three portions of a sample, in file order.
#[derive(Debug, Clone, Copy)]
pub struct SampleSplit<'a> {
    /// The first documents: training.
    pub train: &'a [Document],
    /// The next `dev_docs` documents: checkpoint and θ selection.
    pub dev: &'a [Document],
    /// The last `test_docs` documents: the reported scores.
    pub test: &'a [Document],
}

/// Splits `docs` in file order into a training portion, the next `dev_docs` documents (dev)
/// and the last `test_docs` documents (test), and checks on the documents' joined words
/// ([`check_disjoint`]) that no dev document is a training document and no test document is a
/// training or dev document. Every portion must be non-empty; `origin` names the documents in
/// the errors.
pub fn split_sample<'a>(
    docs: &'a [Document],
    dev_docs: usize,
    test_docs: usize,
    origin: &str,
) -> Result<SampleSplit<'a>> {
    let empty = |what: String| Err(GainError::Empty { what });
    if dev_docs == 0 {
        return empty(format!("the dev documents of {origin} (0 asked for)"));
    }
    if test_docs == 0 {
        return empty(format!("the test documents of {origin} (0 asked for)"));
    }
    let held_out = dev_docs.saturating_add(test_docs);
    if held_out >= docs.len() {
        return empty(format!(
            "the training documents of {origin} ({} documents, less {dev_docs} for dev and \
             {test_docs} for test)",
            docs.len()
        ));
    }
    let (seen, test) = docs.split_at(docs.len() - test_docs);
    let (train, dev) = seen.split_at(seen.len() - dev_docs);
    let texts = |docs: &[Document]| docs.iter().map(document_text).collect::<Vec<_>>();
    check_disjoint(&format!("{origin}: train/dev"), &texts(train), &texts(dev))?;
    check_disjoint(
        &format!("{origin}: train+dev/test"),
        &texts(seen),
        &texts(test),
    )?;
    Ok(SampleSplit { train, dev, test })
}

/// Splits the sample, trains both variants on the training portion (checkpoint and θ selected
/// on dev), scores them on the test portion and returns the summary (write it with
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
    let sample = files.sample.display().to_string();
    let split = split_sample(&docs, config.dev_docs, config.test_docs, &sample)?;
    for (name, portion) in [
        ("train.json", split.train),
        ("dev.json", split.dev),
        ("test.json", split.test),
    ] {
        write_json(config.out.join(name), portion, false)?;
    }
    let facts = TrainFacts::from_documents(split.train);
    let options = EvalOptions {
        train_facts: Some(&facts),
        relations: relations.as_ref(),
        keep_duplicates: false,
    };
    let classes = relation_ids(files.rel2id.as_deref(), split.train)?;
    let mut results = Vec::new();
    for (variant, encoder, epochs) in [
        ("gain-bert", config.encoder.as_str(), config.epochs),
        ("gain-bilstm", "lstm", config.lstm_epochs),
    ] {
        let setup = Setup {
            split,
            classes: &classes,
            options: &options,
        };
        results.push(run_variant(config, &setup, variant, encoder, epochs)?);
    }
    Ok(Summary {
        command: config.command.clone(),
        date: report::utc_date(),
        sample,
        rel2id: files.rel2id.as_ref().map(|p| p.display().to_string()),
        train: Portion::of(split.train),
        dev: Portion::of(split.dev),
        test: Portion::of(split.test),
        dev_facts_in_train: facts_in_train(split.dev, &facts),
        test_facts_in_train: facts_in_train(split.test, &facts),
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

/// The split both variants train, select and are scored on.
struct Setup<'a> {
    split: SampleSplit<'a>,
    /// The model's relation classes.
    classes: &'a [String],
    options: &'a EvalOptions<'a>,
}

/// Trains one variant in `OUT/<variant>` (checkpoint and θ selected on the dev portion) and
/// scores its best model on the test portion: the submission at the dev θ (`result.json`,
/// official scores), every candidate (`scored.json`, the sweep: oracle θ and AUC) and the
/// precision–recall curve.
fn run_variant(
    config: &ExperimentConfig,
    setup: &Setup<'_>,
    variant: &'static str,
    encoder: &str,
    epochs: usize,
) -> Result<VariantResult> {
    let SampleSplit {
        train: train_docs,
        dev,
        test,
    } = setup.split;
    let run_dir = config.out.join(variant);
    let train_config = variant_config(config, encoder, epochs);
    tracing::info!(variant, encoder, epochs, "training");
    let clock = Instant::now();
    let origin = serde_json::json!({
        "train": config.out.join("train.json"), "dev": config.out.join("dev.json"),
    });
    let best = train(
        &train_config,
        train_docs,
        dev,
        setup.classes.to_vec(),
        &run_dir,
        &origin,
        false,
    )?;
    let train_wall_s = clock.elapsed().as_secs_f64();
    let trained = TrainedRun::load(&run_dir, &config.device.inference()?)?;
    let theta = trained.dev_theta();
    let candidates = trained.score(test, "the test portion", Threshold::All, PREDICT_BATCH)?;
    write_candidates(&candidates, &run_dir.join("result.json"), Some(theta))?;
    write_candidates(&candidates, &run_dir.join("scored.json"), None)?;
    let official = evaluate(test, &candidates.predictions(Some(theta)), setup.options)?;
    let sweep = evaluate(test, &candidates.predictions(None), setup.options)?.sweep;
    let steps_per_epoch = train_docs.len().div_ceil(config.batch_size.max(1));
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
        dev_f1: best.metrics.get("f1").copied().unwrap_or(best.value),
        dev_ign_f1: best.metrics.get("ign_f1").copied(),
        theta,
        precision: official.precision,
        recall: official.recall,
        f1: official.f1,
        ign_f1: official.ign_f1,
        predictions: official.counts.predictions,
        correct: official.counts.correct,
        oracle_f1: sweep.as_ref().map(|s| s.f1),
        oracle_theta: sweep.as_ref().map(|s| s.theta),
        oracle_ign_f1: sweep.as_ref().and_then(|s| s.ign_f1),
        auc: sweep.as_ref().map(|s| s.auc),
        ign_auc: sweep.as_ref().and_then(|s| s.ign_auc),
        candidates: candidates.len(),
        curve: precision_recall_curve(&candidates, test, CURVE_POINTS),
    })
}

/// Writes the candidates with score ≥ `theta` (all with `None`) in the submission format.
fn write_candidates(candidates: &ScoredCandidates, path: &Path, theta: Option<f64>) -> Result<()> {
    candidates
        .write_json(path, theta)
        .map_err(|source| GainError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(())
}

/// The precision–recall curve of `candidates` (highest score first) against the labels of
/// `gold`: `(recall, precision)` after each cut-off, as in GAIN's sweep (a candidate is correct
/// when `(title, r, h, t)` is a gold fact). Lossless at the corners (the cut-off of each correct
/// candidate and the one just before it, where precision has fallen at constant recall, plus the
/// last), then thinned evenly to at most `max_points` (at least 2) keeping the first and the
/// last. Empty without candidates or gold facts.
pub fn precision_recall_curve(
    candidates: &ScoredCandidates,
    gold: &[Document],
    max_points: usize,
) -> Vec<(f64, f64)> {
    let facts: HashSet<(&str, &str, usize, usize)> = gold
        .iter()
        .flat_map(|d| {
            d.labels
                .iter()
                .map(move |l| (d.title.as_str(), l.r.as_str(), l.h, l.t))
        })
        .collect();
    if facts.is_empty() || candidates.is_empty() {
        return Vec::new();
    }
    let total = facts.len() as f64;
    let point =
        |correct: usize, kept: usize| (correct as f64 / total, correct as f64 / kept as f64);
    let mut corners = Vec::new();
    let mut correct = 0;
    let mut kept = 0;
    for (title, h, t, r, _) in candidates.iter() {
        if facts.contains(&(title, r, h, t)) {
            if kept > 0 && corners.last() != Some(&point(correct, kept)) {
                corners.push(point(correct, kept));
            }
            correct += 1;
            kept += 1;
            corners.push(point(correct, kept));
        } else {
            kept += 1;
            if kept == 1 {
                corners.push(point(correct, kept));
            }
        }
    }
    if corners.last() != Some(&point(correct, kept)) {
        corners.push(point(correct, kept));
    }
    thin(corners, max_points.max(2))
}

/// At most `max` (≥ 2) of `points`, evenly spaced by index, the first and the last kept.
fn thin(points: Vec<(f64, f64)>, max: usize) -> Vec<(f64, f64)> {
    if points.len() <= max {
        return points;
    }
    let last = points.len() - 1;
    (0..max)
        .map(|i| points[(i * last).div_ceil(max - 1).min(last)])
        .collect()
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

/// Facts of `docs` whose (head mention name, tail mention name, relation) is a training triple.
fn facts_in_train(docs: &[Document], facts: &TrainFacts) -> usize {
    let doc_facts: HashSet<(usize, usize, usize, &str)> = docs
        .iter()
        .enumerate()
        .flat_map(|(i, d)| d.labels.iter().map(move |l| (i, l.h, l.t, l.r.as_str())))
        .collect();
    doc_facts
        .iter()
        .filter(|(i, h, t, r)| {
            let d = &docs[*i];
            let (heads, tails) = (&d.vertex_set[*h], &d.vertex_set[*t]);
            heads
                .iter()
                .any(|m| tails.iter().any(|n| facts.contains(&m.name, &n.name, r)))
        })
        .count()
}
