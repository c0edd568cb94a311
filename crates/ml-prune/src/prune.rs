//! Pruning a fine-tuned classifier's encoder to several sparsities (spec §4; a
//! reconstruction, the paper's code was not found).
//!
//! 1. Fine-tune with text-cls ([`text_cls::train`]) into `OUT/full/`, on all training data.
//! 2. Score every head and FFN neuron ([`Method`]): the mask gradients `Σ_b |∂L_b/∂ξ|` with
//!    core's [`taylor_importance`] (Michel et al. 2019), per-weight Taylor scores
//!    `Σ |∂L/∂w · w|` ([`crate::taylor`]), seeded random scores (the control), or learned
//!    hard-concrete gates ([`crate::l0`], one training per sparsity); head scores are
//!    ℓ2-normalised per layer.
//! 3. For each sparsity `s`, keep the best `(1 − s)` of all heads and of all neurons, compared
//!    over every layer (global selection), and slice them out with `Bert::select_units` (on
//!    the training device, directly): a dense, smaller encoder. Since every head (every neuron)
//!    has the same number of parameters, this removes the fraction `s` of the attention
//!    (feed-forward) parameters.
//! 4. Re-fine-tune the pruned classifier briefly (core's [`Trainer`] on text-cls's
//!    [`ClassificationTask`], head kept), select its best epoch on dev, and write it as a
//!    text-cls run directory `OUT/s0.30/` (`Run::load` reads it) plus `OUT/s0.30/encoder/`, a
//!    Hugging Face directory with per-layer sizes and the tokenizer (`load_encoder` reads it).
//!
//! [`Setting::PerLanguage`] repeats 2–4 for each language on that language's training and dev
//! examples only (`OUT/LANG/s0.30/`): one mask, and one model, per language (spec §4.3).
//!
//! A run is a sequence of stages (the full model, then one per language and sparsity); each
//! finished stage is recorded in `OUT/progress.json` (rewritten atomically), and only then are
//! its optimizer checkpoints removed. With [`RunControl::resume`] (`--resume`) a killed run keeps
//! its finished stages and continues the unfinished one from its newest checkpoint; the scores
//! are recomputed (from a seeded device, so identically) when a stage still needs them, and the
//! finished run's files equal an uninterrupted run's (latencies apart, which are timings).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::loss::cross_entropy_with_logits;
use burnlp_core::burn::tensor::{Device, Int, Tensor, TensorData};
use burnlp_core::data::{check_disjoint, read_json_document, write_json};
use burnlp_core::nn::bert::{BertInput, BertMasks};
use burnlp_core::nn::prune::{UnitScores, UnitSelection, taylor_importance};
use burnlp_core::train::{
    LrSchedule, RunDir, StopReason, TrainTask, Trainer, TrainerConfig, save_parameters,
};
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use text_cls::model::batch_input;
use text_cls::{
    ClassificationTask, Classifier, EncodedSet, Example, Head, Run, TrainConfig, encode,
};

use crate::data::{example_key, languages, only_language};
use crate::error::{MlPruneError, Result};
use crate::profile::{Latency, LatencyConfig, Params, latency};

/// How units are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Mask gradients `Σ_b |∂L_b/∂ξ|` of heads and neurons (Michel et al. 2019): the spec's
    /// simple importance ranking.
    Importance,
    /// Per-weight first-order Taylor scores `Σ |∂L/∂w · w|` over each unit's weights
    /// (Molchanov et al. 2019).
    Taylor,
    /// Hard-concrete gates trained with an L0 penalty toward each sparsity (Louizos et al.
    /// 2018; Wang et al. 2020).
    L0,
    /// Seeded uniform random scores (the control).
    Random,
}

/// Which units are pruned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Units {
    /// Heads and FFN neurons, each to the sparsity.
    Both,
    /// Attention heads only.
    Heads,
    /// FFN neurons only.
    Ffn,
}

/// Where the masks are estimated (spec §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Setting {
    /// One mask for all languages, from all training data.
    Shared,
    /// One mask and one pruned model per language, each scored, re-fine-tuned and selected on
    /// that language's examples only (every example needs a language).
    PerLanguage,
}

/// A sparsity in the open interval (0, 1), for `--sparsity`.
pub fn sparsity(s: &str) -> std::result::Result<f64, String> {
    let v: f64 = s.trim().parse().map_err(|e| format!("`{s}`: {e}"))?;
    if v > 0.0 && v < 1.0 {
        Ok(v)
    } else {
        Err(format!("{v} is not in (0, 1)"))
    }
}

/// Everything that decides a pruning run besides its data (stored in `OUT/prune.json`).
#[derive(clap::Args, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PruneConfig {
    /// The fine-tuning (text-cls's settings: `--encoder`, `--epochs`, rates, `--seed`, …).
    #[command(flatten)]
    pub fine_tune: TrainConfig,
    /// How units are scored.
    #[arg(long, value_enum, default_value_t = Method::Importance)]
    pub method: Method,
    /// Where the masks are estimated.
    #[arg(long, value_enum, default_value_t = Setting::Shared)]
    pub setting: Setting,
    /// Which units are pruned.
    #[arg(long, value_enum, default_value_t = Units::Both)]
    pub units: Units,
    /// Target sparsities, each in (0, 1), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0.1,0.3,0.5", value_parser = sparsity)]
    pub sparsity: Vec<f64>,
    /// Training examples the importance and Taylor scores are accumulated over.
    #[arg(long, default_value_t = 512, value_parser = burnlp_core::cli::positive)]
    pub importance_examples: usize,
    /// Re-fine-tuning epochs after pruning.
    #[arg(long, default_value_t = 1, value_parser = burnlp_core::cli::positive)]
    pub refine_epochs: usize,
    /// `--method l0`: epochs of gate (and model) training per sparsity.
    #[arg(long, default_value_t = 1, value_parser = burnlp_core::cli::positive)]
    #[serde(default = "one")]
    pub l0_epochs: usize,
    /// `--method l0`: weight λ of the penalty `((E[‖z‖₀] − t) / N)²`.
    #[arg(long, default_value_t = 10.0, value_parser = burnlp_core::cli::positive_f64)]
    #[serde(default = "ten")]
    pub l0_lambda: f64,
    /// `--method l0`: learning rate of the gates' `log α`.
    #[arg(long, default_value_t = 0.1, value_parser = burnlp_core::cli::positive_f64)]
    #[serde(default = "tenth")]
    pub l0_lr: f64,
    /// The latency measurement of every model.
    #[command(flatten)]
    pub latency: LatencyConfig,
}

fn one() -> usize {
    1
}
fn ten() -> f64 {
    10.0
}
fn tenth() -> f64 {
    0.1
}

impl Default for PruneConfig {
    fn default() -> Self {
        Self {
            fine_tune: TrainConfig::default(),
            method: Method::Importance,
            setting: Setting::Shared,
            units: Units::Both,
            sparsity: vec![0.1, 0.3, 0.5],
            importance_examples: 512,
            refine_epochs: 1,
            l0_epochs: 1,
            l0_lambda: 10.0,
            l0_lr: 0.1,
            latency: LatencyConfig::default(),
        }
    }
}

impl PruneConfig {
    /// Rejects settings the command line would have rejected.
    pub fn validate(&self) -> Result<()> {
        if self.sparsity.is_empty() {
            return Err(MlPruneError::invalid("--sparsity", "give at least one"));
        }
        for &s in &self.sparsity {
            if !(s > 0.0 && s < 1.0) {
                return Err(MlPruneError::invalid(
                    "--sparsity",
                    format!("{s} is not in (0, 1)"),
                ));
            }
        }
        if self.fine_tune.head != Head::Classification {
            return Err(MlPruneError::invalid(
                "--head",
                "pruning needs a classification head",
            ));
        }
        for (value, flag) in [
            (self.importance_examples, "--importance-examples"),
            (self.refine_epochs, "--refine-epochs"),
            (self.l0_epochs, "--l0-epochs"),
        ] {
            if value == 0 {
                return Err(MlPruneError::invalid(flag, "must be at least 1"));
            }
        }
        for (value, flag) in [(self.l0_lambda, "--l0-lambda"), (self.l0_lr, "--l0-lr")] {
            if !(value.is_finite() && value > 0.0) {
                return Err(MlPruneError::invalid(
                    flag,
                    format!("{value} is not positive"),
                ));
            }
        }
        Ok(())
    }
}

/// Training, dev and optional test examples (an example's [`Example::group`] is its language).
#[derive(Debug, Clone, Default)]
pub struct PruneData {
    /// Fine-tuning (and importance) examples.
    pub train: Vec<Example>,
    /// Model-selection examples.
    pub dev: Vec<Example>,
    /// Report examples, if any.
    pub test: Option<Vec<Example>>,
}

impl PruneData {
    /// The examples of one language.
    pub fn language(&self, lang: &str) -> PruneData {
        PruneData {
            train: only_language(&self.train, lang),
            dev: only_language(&self.dev, lang),
            test: self.test.as_ref().map(|t| only_language(t, lang)),
        }
    }

    /// Rejects overlapping splits, and for `setting` per-language, examples without a language
    /// or a language missing from dev (or test).
    pub fn check(&self, setting: Setting) -> Result<()> {
        let keys = |set: &[Example]| set.iter().map(example_key).collect::<Vec<_>>();
        check_disjoint("ml-prune train/dev", &keys(&self.train), &keys(&self.dev))?;
        if let Some(test) = &self.test {
            let seen: Vec<String> = keys(&self.train)
                .into_iter()
                .chain(keys(&self.dev))
                .collect();
            check_disjoint("ml-prune train+dev/test", &seen, &keys(test))?;
        }
        if setting == Setting::PerLanguage {
            let train = languages(&self.train, "training data")?;
            for (set, what) in [
                (Some(&self.dev), "dev data"),
                (self.test.as_ref(), "test data"),
            ] {
                let Some(set) = set else { continue };
                let langs = languages(set, what)?;
                if let Some(missing) = train.iter().find(|l| !langs.contains(*l)) {
                    return Err(MlPruneError::invalid(
                        what,
                        format!("no examples of language `{missing}` (the training data has them)"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// One model of a pruning run: the fine-tuned full model (sparsity 0) or a pruned one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrunedModel {
    /// Target sparsity (0 for the full model).
    pub sparsity: f64,
    /// The language of a per-language model (none for the full and shared models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// The text-cls run directory (`encoder/` inside holds the Hugging Face encoder, for a
    /// pruned model).
    pub dir: PathBuf,
    /// Heads kept per layer.
    pub heads: Vec<usize>,
    /// FFN neurons kept per layer.
    pub neurons: Vec<usize>,
    /// Parameters by part.
    pub params: Params,
    /// Dev accuracy right after pruning, before re-fine-tuning (the full model's own).
    pub dev_pruned: f64,
    /// Dev accuracy of the selected (re-fine-tuned) model.
    pub dev: f64,
    /// Test accuracy, when test data was given.
    pub test: Option<f64>,
    /// Mean test cross-entropy (negative log-likelihood of the gold labels), when test data was
    /// given: it still separates models whose accuracy has saturated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_loss: Option<f64>,
    /// Dev accuracy per language, when the data has languages.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dev_by_lang: BTreeMap<String, f64>,
    /// Test accuracy per language, when the data has languages.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub test_by_lang: BTreeMap<String, f64>,
    /// Encoder latency per batch.
    pub latency: Latency,
}

/// The outcome of [`prune`] (`OUT/summary.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PruneReport {
    /// The scoring method.
    pub method: Method,
    /// Where the masks were estimated.
    #[serde(default = "shared")]
    pub setting: Setting,
    /// The pruned units.
    pub units: Units,
    /// The full model first, then one entry per sparsity (per language and sparsity for the
    /// per-language setting).
    pub models: Vec<PrunedModel>,
}

fn shared() -> Setting {
    Setting::Shared
}

/// How a pruning run is driven.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunControl {
    /// Continue the run of the output directory (`--resume`): the stages `progress.json`
    /// records as finished are kept, the unfinished one continues from its newest checkpoint.
    pub resume: bool,
    /// Stop a re-fine-tuning (or L0 gate training) after this many optimizer steps of this
    /// call, leaving a checkpoint, as a killed run would ([`MlPruneError::Halted`]; tests).
    pub halt_after: Option<usize>,
}

/// The file of a run directory that records its finished stages.
pub const PROGRESS: &str = "progress.json";

/// The finished stages of a run (`OUT/progress.json`): their models, in run order.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Progress {
    models: Vec<PrunedModel>,
}

/// Walks the stages of a run in order, handing back the recorded ones and recording new ones.
pub(crate) struct Stages {
    path: PathBuf,
    progress: Progress,
    next: usize,
}

impl Stages {
    /// The stages of the run in `out`: those recorded there when resuming, none otherwise (a
    /// stale record of an earlier run is removed).
    pub(crate) fn open(out: &Path, resume: bool) -> Result<Self> {
        let path = out.join(PROGRESS);
        let progress = if resume && path.exists() {
            read_json_document(&path)?
        } else {
            if path.exists() {
                std::fs::remove_file(&path).map_err(|source| MlPruneError::Io {
                    path: path.clone(),
                    source,
                })?;
            }
            Progress::default()
        };
        Ok(Self {
            path,
            progress,
            next: 0,
        })
    }

    /// The next stage's model, when it is recorded as finished.
    pub(crate) fn finished(&mut self) -> Option<PrunedModel> {
        let model = self.progress.models.get(self.next).cloned()?;
        self.next += 1;
        Some(model)
    }

    /// Whether the next `n` stages are all finished.
    fn all_finished(&self, n: usize) -> bool {
        self.progress.models.len() >= self.next + n
    }

    /// Records the next stage as finished.
    pub(crate) fn record(&mut self, model: PrunedModel) -> Result<()> {
        self.progress.models.truncate(self.next);
        self.progress.models.push(model);
        self.next += 1;
        Ok(write_json(&self.path, &self.progress, true)?)
    }
}

/// Writes the settings file of a run (`prune.json`, `dynamic.json`), or with `resume` checks
/// that the stored one holds the same settings.
pub(crate) fn settings_file<T: Serialize>(path: &Path, config: &T, resume: bool) -> Result<()> {
    if resume && path.exists() {
        let stored: serde_json::Value = read_json_document(path)?;
        let now = serde_json::to_value(config).map_err(|e| {
            MlPruneError::invalid(path.display().to_string(), format!("cannot serialise: {e}"))
        })?;
        if stored != now {
            return Err(MlPruneError::Mismatch {
                path: path.to_path_buf(),
                message: "the stored settings differ from this run's".into(),
            });
        }
        return Ok(());
    }
    Ok(write_json(path, config, true)?)
}

/// Fine-tunes, scores, prunes to every sparsity, re-fine-tunes and evaluates; writes the run
/// directories under `out` (see the module documentation).
pub fn prune(config: &PruneConfig, data: &PruneData, out: &Path) -> Result<PruneReport> {
    prune_with(config, data, out, RunControl::default())
}

/// [`prune`], resuming the run in `out` or halting as `control` says.
pub fn prune_with(
    config: &PruneConfig,
    data: &PruneData,
    out: &Path,
    control: RunControl,
) -> Result<PruneReport> {
    config.validate()?;
    data.check(config.setting)?;
    settings_file(&out.join("prune.json"), config, control.resume)?;
    let mut stages = Stages::open(out, control.resume)?;
    let full_dir = out.join("full");
    let fine_tune = &config.fine_tune;
    let inference = fine_tune.device.inference()?;
    let training = fine_tune.device.training()?;
    let full_model = match stages.finished() {
        Some(model) => model,
        None => {
            fine_tune_full(fine_tune, data, &full_dir, control.resume)?;
            let model = evaluated(&full_dir, 0.0, None, None, data, config, &inference)?;
            stages.record(model.clone())?;
            model
        }
    };

    // Scoring, surgery and re-fine-tuning all run on the training (autodiff) device.
    let full = Run::load(&full_dir, &training)?;
    let mut models = vec![full_model];
    match config.setting {
        Setting::Shared => models.extend(prune_to_each(
            &full,
            data,
            None,
            config,
            out,
            &mut stages,
            control,
        )?),
        Setting::PerLanguage => {
            for lang in languages(&data.train, "training data")? {
                let subset = data.language(&lang);
                let dir = out.join(&lang);
                models.extend(prune_to_each(
                    &full,
                    &subset,
                    Some(&lang),
                    config,
                    &dir,
                    &mut stages,
                    control,
                )?);
            }
        }
    }
    let report = PruneReport {
        method: config.method,
        setting: config.setting,
        units: config.units,
        models,
    };
    write_json(out.join("summary.json"), &report, true)?;
    Ok(report)
}

/// Scores the units of `full` on `data`, prunes to every sparsity, re-fine-tunes and evaluates
/// on `data`; the models go to `out/sS/`.
fn prune_to_each(
    full: &Run,
    data: &PruneData,
    lang: Option<&str>,
    config: &PruneConfig,
    out: &Path,
    stages: &mut Stages,
    control: RunControl,
) -> Result<Vec<PrunedModel>> {
    let stage_dir = |s: f64| out.join(format!("s{s:.2}"));
    if stages.all_finished(config.sparsity.len()) {
        let mut models = Vec::new();
        for &s in &config.sparsity {
            // A run killed between recording a stage and removing its checkpoints.
            remove_checkpoints(&stage_dir(s))?;
            remove_checkpoints(&stage_dir(s).join("l0"))?;
            models.extend(stages.finished());
        }
        return Ok(models);
    }
    let inference = config.fine_tune.device.inference()?;
    let task = classification_task(full, data, config.fine_tune.batch_size)?;
    // A different random mask per language (FNV-1a of its name).
    let seed = config.fine_tune.seed
        ^ lang.map_or(0, |l| {
            l.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            })
        });
    // From a seeded device, a scoring pass that draws random numbers (dropout) scores alike in
    // an uninterrupted run and in a resumed one, whatever ran before it in the process.
    full.model.devices()[0].seed(seed);
    let scores = match config.method {
        Method::Importance => Some(importance_scores(
            &full.model,
            &task,
            config.importance_examples,
        )),
        Method::Taylor => Some(crate::taylor::taylor_scores(
            &full.model,
            &task,
            config.importance_examples,
        )),
        Method::Random => Some(random_scores(&full.model, seed)),
        Method::L0 => None,
    };
    if let Some(scores) = &scores {
        write_json(out.join("scores.json"), &scores_json(scores), true)?;
    }
    let mut models = Vec::new();
    for &s in &config.sparsity {
        let dir = stage_dir(s);
        let l0_dir = dir.join("l0");
        if let Some(model) = stages.finished() {
            remove_checkpoints(&dir)?;
            remove_checkpoints(&l0_dir)?;
            models.push(model);
            continue;
        }
        let pruned = match &scores {
            Some(scores) => pruned_classifier(&full.model, &select(scores, s, config.units)),
            None => {
                let (gated, pruned) = crate::l0::learn_and_prune_with(
                    &full.model,
                    &task,
                    s,
                    config,
                    &l0_dir,
                    control,
                )?;
                write_json(
                    l0_dir.join("scores.json"),
                    &scores_json(&gated.scores()),
                    true,
                )?;
                remove_models(&l0_dir)?;
                pruned
            }
        };
        let dev_pruned = task.evaluate(&pruned.valid())["accuracy"];
        refine(full, pruned, &task, config, &dir, control)?;
        let model = evaluated(&dir, s, lang, Some(dev_pruned), data, config, &inference)?;
        stages.record(model.clone())?;
        // The optimizer checkpoints only serve `--resume`; once the stage is recorded they go
        // (`best/`, what `Run::load` reads, and `last/` stay).
        remove_checkpoints(&dir)?;
        remove_checkpoints(&l0_dir)?;
        models.push(model);
    }
    Ok(models)
}

/// The classification task of `data` with `run`'s tokenizer.
pub fn classification_task(
    run: &Run,
    data: &PruneData,
    batch_size: usize,
) -> Result<ClassificationTask> {
    let set = |examples: &[Example], what: &str| encode(&run.tokenizer, &run.spec, examples, what);
    Ok(ClassificationTask {
        train: set(&data.train, "training data")?,
        dev: set(&data.dev, "dev data")?,
        batch_size,
        pad_id: run.tokenizer.special_tokens().pad.unwrap_or(0),
        head: Head::Classification,
    })
}

/// Removes the model files (`best/`, `last/`) of an auxiliary training run, keeping its
/// configuration and metrics.
fn remove_models(dir: &Path) -> Result<()> {
    let run = RunDir::new(dir);
    for file in [run.best_model(), run.last_model()] {
        if let Some(parent) = file.parent().filter(|p| p.exists() && *p != dir) {
            burnlp_core::train::remove_dir_whole(parent)?;
        } else if file.exists() {
            std::fs::remove_file(&file).map_err(|source| MlPruneError::Io {
                path: file.clone(),
                source,
            })?;
        }
    }
    Ok(())
}

/// Loads a run directory on the inference device, evaluates it (per language too, when the
/// data has languages), times its encoder and, for a pruned model, writes its encoder as a
/// Hugging Face directory.
pub(crate) fn evaluated(
    dir: &Path,
    sparsity: f64,
    lang: Option<&str>,
    dev_pruned: Option<f64>,
    data: &PruneData,
    config: &PruneConfig,
    device: &Device,
) -> Result<PrunedModel> {
    let run = Run::load(dir, device)?;
    let model = evaluated_run(
        &run,
        dir,
        sparsity,
        dev_pruned,
        data,
        &config.latency,
        device,
        sparsity > 0.0,
    )?;
    Ok(PrunedModel {
        lang: lang.map(str::to_string),
        ..model
    })
}

/// [`evaluated`] for a loaded run (`dir` is where it lives, and where its encoder is written
/// as `encoder/` when `write_encoder`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn evaluated_run(
    run: &Run,
    dir: &Path,
    sparsity: f64,
    dev_pruned: Option<f64>,
    data: &PruneData,
    latency_config: &LatencyConfig,
    device: &Device,
    write_encoder: bool,
) -> Result<PrunedModel> {
    let dev = run.evaluate(&data.dev, "dev data")?["accuracy"];
    let test_metrics = match &data.test {
        Some(test) => Some(run.evaluate(test, "test data")?),
        None => None,
    };
    let test = test_metrics.as_ref().map(|m| m["accuracy"]);
    let test_loss = test_metrics.as_ref().map(|m| m["loss"]);
    let by_lang = |set: &[Example], what: &str| -> Result<BTreeMap<String, f64>> {
        let mut out = BTreeMap::new();
        let langs: std::collections::BTreeSet<&str> =
            set.iter().filter_map(|e| e.group.as_deref()).collect();
        for lang in langs {
            let subset = only_language(set, lang);
            out.insert(lang.to_string(), run.evaluate(&subset, what)?["accuracy"]);
        }
        Ok(out)
    };
    let dev_by_lang = by_lang(&data.dev, "dev data")?;
    let test_by_lang = match &data.test {
        Some(test) => by_lang(test, "test data")?,
        None => BTreeMap::new(),
    };
    let encoder = &run.model.encoder;
    if write_encoder {
        let encoder_dir = dir.join("encoder");
        encoder.save_pretrained(&encoder_dir, &run.spec.encoder)?;
        run.tokenizer
            .save(encoder_dir.join("tokenizer.json"), false)?;
    }
    tracing::info!(sparsity, dev, "evaluated");
    Ok(PrunedModel {
        sparsity,
        lang: None,
        dir: dir.to_path_buf(),
        heads: encoder.layer_heads(),
        neurons: encoder.layer_intermediate_sizes(),
        params: encoder.parameter_count().into(),
        dev_pruned: dev_pruned.unwrap_or(dev),
        dev,
        test,
        test_loss,
        dev_by_lang,
        test_by_lang,
        latency: latency(encoder, latency_config, device),
    })
}

/// The classifier with only the selected units of its encoder (head, pooling shared).
pub fn pruned_classifier(model: &Classifier, selection: &UnitSelection) -> Classifier {
    Classifier {
        encoder: model.encoder.select_units(selection),
        dropout: model.dropout.clone(),
        head: model.head.clone(),
        pooling: model.pooling,
        regression: model.regression,
    }
}

/// Re-fine-tunes `pruned` (a pruned copy of `full`, on the training device) into the text-cls
/// run directory `dir`, where `pruned.safetensors` keeps it as it was before re-fine-tuning.
fn refine(
    full: &Run,
    pruned: Classifier,
    task: &ClassificationTask,
    config: &PruneConfig,
    dir: &Path,
    control: RunControl,
) -> Result<()> {
    let mut spec = full.spec.clone();
    spec.encoder = pruned.encoder.sized_config(&full.spec.encoder);
    write_json(dir.join("model.json"), &spec, true)?;
    full.tokenizer.save(dir.join("tokenizer.json"), false)?;
    let kept = serde_json::json!({
        "heads": pruned.encoder.layer_heads(),
        "neurons": pruned.encoder.layer_intermediate_sizes(),
    });
    save_parameters(&pruned, &dir.join("pruned.safetensors"))?;
    let fine_tune = &config.fine_tune;
    let mut trainer_config =
        fine_tune_trainer(fine_tune, config.refine_epochs, task.batches_per_epoch());
    trainer_config.halt_after = control.halt_after;
    let trainer = Trainer::new(trainer_config, dir);
    let optimizer = text_cls::optimizer(fine_tune);
    let experiment = serde_json::json!({"prune": config, "model": spec, "kept": kept});
    trainer.write_config(&optimizer, &experiment, control.resume)?;
    let outcome = trainer.fit(pruned, optimizer.init(), task, control.resume)?;
    halted(&outcome.stop, dir)?;
    outcome.best()?;
    Ok(())
}

/// [`MlPruneError::Halted`] for a trainer that stopped at `halt_after`.
pub(crate) fn halted(stop: &StopReason, dir: &Path) -> Result<()> {
    if *stop == StopReason::Halted {
        return Err(MlPruneError::Halted {
            dir: dir.to_path_buf(),
        });
    }
    Ok(())
}

/// The trainer settings of every fine-tuning pass after the first (re-fine-tuning, L0 gate
/// training, width-adaptive distillation): `epochs` epochs of `batches` batches with text-cls's
/// linear warm-up and decay, dev accuracy selecting the checkpoint.
pub(crate) fn fine_tune_trainer(
    fine_tune: &TrainConfig,
    epochs: usize,
    batches: usize,
) -> TrainerConfig {
    let steps = batches * epochs;
    TrainerConfig {
        epochs,
        schedule: LrSchedule::Linear {
            warmup: (steps as f64 * fine_tune.warmup) as usize,
            total: steps,
        },
        metric: "accuracy".into(),
        higher_is_better: true,
        seed: fine_tune.seed,
        ..TrainerConfig::default()
    }
}

/// Fine-tunes the full (unpruned) model on the training data into `dir`, selected on dev.
pub(crate) fn fine_tune_full(
    fine_tune: &TrainConfig,
    data: &PruneData,
    dir: &Path,
    resume: bool,
) -> Result<()> {
    let origin = serde_json::json!({"train": data.train.len(), "dev": data.dev.len()});
    text_cls::train(fine_tune, &data.train, &data.dev, dir, &origin, resume)?;
    Ok(())
}

/// Deletes a finished stage's optimizer checkpoints (they only serve `--resume`); `best/`
/// (what `Run::load` reads) and `last/` stay.
pub(crate) fn remove_checkpoints(dir: &Path) -> Result<()> {
    Ok(burnlp_core::train::remove_dir_whole(
        RunDir::new(dir).checkpoints().root(),
    )?)
}

/// Class logits of `model` with unit masks on its encoder (the classifier's forward pass
/// through `forward_masked`).
pub fn masked_logits(model: &Classifier, input: BertInput, masks: &BertMasks) -> Tensor<2> {
    model.forward_masked(input, masks)
}

/// Taylor importance `Σ_b |∂L_b/∂ξ|` over the first `examples` training examples (batches of
/// the task's size, no dropout), head scores ℓ2-normalised per layer.
///
/// `model` must live on an autodiff device.
pub fn importance_scores(
    model: &Classifier,
    task: &ClassificationTask,
    examples: usize,
) -> UnitScores {
    let frozen = model.clone().freeze();
    let device = frozen.devices()[0].clone();
    let n = examples.min(task.train.ids.len());
    let indices: Vec<usize> = (0..n).collect();
    let batches: Vec<Vec<usize>> = indices
        .chunks(task.batch_size.max(1))
        .map(<[usize]>::to_vec)
        .collect();
    let importance = taylor_importance(&frozen.encoder, batches, |masks, batch| {
        let input = batch_input(&task.train, &batch, task.pad_id, &device);
        let logits = masked_logits(&frozen, input, masks);
        batch_cross_entropy(logits, &task.train, &batch, &device)
    });
    importance.sum_of_abs().normalize_heads_per_layer()
}

/// The mean cross-entropy of `logits` against the gold labels of `batch` in `set`.
pub(crate) fn batch_cross_entropy(
    logits: Tensor<2>,
    set: &EncodedSet,
    batch: &[usize],
    device: &Device,
) -> Tensor<1> {
    let [_, labels] = logits.dims();
    let gold: Vec<i64> = batch.iter().map(|&i| set.labels[i] as i64).collect();
    let targets = Tensor::<1, Int>::from_data(TensorData::new(gold, [batch.len()]), device)
        .one_hot(labels)
        .float();
    cross_entropy_with_logits(logits, targets)
}

/// Uniform random scores in [0, 1) for every unit, from `seed`.
pub fn random_scores(model: &Classifier, seed: u64) -> UnitScores {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x9e37_79b9);
    let mut draw = |sizes: Vec<usize>| -> Vec<Vec<f32>> {
        sizes
            .into_iter()
            .map(|n| (0..n).map(|_| rng.random::<f32>()).collect())
            .collect()
    };
    UnitScores {
        heads: draw(model.encoder.layer_heads()),
        neurons: draw(model.encoder.layer_intermediate_sizes()),
    }
}

/// Units kept at sparsity `s`: the best `round((1 − s)·N)` heads and neurons over all layers
/// (only heads or only neurons pruned for [`Units::Heads`] / [`Units::Ffn`]); each layer lists
/// its units in their original order, so an unpruned layer is unchanged.
pub fn select(scores: &UnitScores, s: f64, units: Units) -> UnitSelection {
    let total = |rows: &[Vec<f32>]| rows.iter().map(Vec::len).sum::<usize>();
    let keep = |n: usize, pruned: bool| {
        if pruned {
            ((1.0 - s) * n as f64).round() as usize
        } else {
            n
        }
    };
    let heads = keep(total(&scores.heads), units != Units::Ffn);
    let neurons = keep(total(&scores.neurons), units != Units::Heads);
    let mut selection = scores.top_global(heads, neurons);
    for row in selection
        .heads
        .iter_mut()
        .chain(selection.neurons.iter_mut())
    {
        row.sort_unstable();
    }
    selection
}

/// The scores as JSON (`{"heads": [[…]], "neurons": [[…]]}`).
fn scores_json(scores: &UnitScores) -> serde_json::Value {
    serde_json::json!({"heads": scores.heads, "neurons": scores.neurons})
}
