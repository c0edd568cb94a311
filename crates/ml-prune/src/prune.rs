//! Pruning a fine-tuned classifier's encoder to several sparsities (spec §4, shared setting).
//!
//! 1. Fine-tune with text-cls ([`text_cls::train`]) into `OUT/full/`.
//! 2. Score every head and FFN neuron: first-order Taylor importance `Σ_b |∂L_b/∂ξ|` with
//!    core's [`taylor_importance`], head scores ℓ2-normalised per layer (Michel et al. 2019),
//!    or seeded uniform random scores (the control).
//! 3. For each sparsity `s`, keep the best `(1 − s)` of all heads and of all neurons, compared
//!    over every layer (global selection), and slice them out with `Bert::select_units`: a
//!    dense, smaller encoder. Since every head (every neuron) has the same number of
//!    parameters, this removes the fraction `s` of the attention (feed-forward) parameters.
//! 4. Re-fine-tune the pruned classifier briefly (core's [`Trainer`] on text-cls's
//!    [`ClassificationTask`], head kept), select its best epoch on dev, and write it as a
//!    text-cls run directory `OUT/s0.30/` (`Run::load` reads it) plus `OUT/s0.30/encoder/`, a
//!    Hugging Face directory with per-layer sizes and the tokenizer (`load_encoder` reads it).

use std::path::{Path, PathBuf};

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::loss::cross_entropy_with_logits;
use burnlp_core::burn::tensor::{Device, Int, Tensor, TensorData};
use burnlp_core::data::{check_disjoint, write_json};
use burnlp_core::nn::bert::{BertInput, BertMasks};
use burnlp_core::nn::prune::{UnitScores, UnitSelection, taylor_importance};
use burnlp_core::train::{
    LrSchedule, RunDir, TrainTask, Trainer, TrainerConfig, load_parameters, save_parameters,
};
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use text_cls::model::batch_input;
use text_cls::{
    ClassificationTask, Classifier, EncodedSet, Example, Head, Run, TrainConfig, encode,
};

use crate::data::example_key;
use crate::error::{MlPruneError, Result};
use crate::profile::{Latency, LatencyConfig, Params, latency};

/// How units are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// First-order Taylor importance of the head and neuron masks (Michel et al. 2019).
    Importance,
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

/// Where the masks are estimated (spec §4.3); only the shared setting is implemented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Setting {
    /// One mask for all languages, from the training data.
    Shared,
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
    /// Training examples the importance scores are accumulated over.
    #[arg(long, default_value_t = 512, value_parser = burnlp_core::cli::positive)]
    pub importance_examples: usize,
    /// Re-fine-tuning epochs after pruning.
    #[arg(long, default_value_t = 1, value_parser = burnlp_core::cli::positive)]
    pub refine_epochs: usize,
    /// The latency measurement of every model.
    #[command(flatten)]
    pub latency: LatencyConfig,
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
        ] {
            if value == 0 {
                return Err(MlPruneError::invalid(flag, "must be at least 1"));
            }
        }
        Ok(())
    }
}

/// Training, dev and optional test examples.
#[derive(Debug, Clone, Default)]
pub struct PruneData {
    /// Fine-tuning (and importance) examples.
    pub train: Vec<Example>,
    /// Model-selection examples.
    pub dev: Vec<Example>,
    /// Report examples, if any.
    pub test: Option<Vec<Example>>,
}

/// One model of a pruning run: the fine-tuned full model (sparsity 0) or a pruned one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrunedModel {
    /// Target sparsity (0 for the full model).
    pub sparsity: f64,
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
    /// Encoder latency per batch.
    pub latency: Latency,
}

/// The outcome of [`prune`] (`OUT/summary.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PruneReport {
    /// The scoring method.
    pub method: Method,
    /// The pruned units.
    pub units: Units,
    /// The full model first, then one entry per sparsity.
    pub models: Vec<PrunedModel>,
}

/// Fine-tunes, scores, prunes to every sparsity, re-fine-tunes and evaluates; writes the run
/// directories under `out` (see the module documentation).
pub fn prune(config: &PruneConfig, data: &PruneData, out: &Path) -> Result<PruneReport> {
    config.validate()?;
    let keys = |set: &[Example]| set.iter().map(example_key).collect::<Vec<_>>();
    check_disjoint("ml-prune train/dev", &keys(&data.train), &keys(&data.dev))?;
    if let Some(test) = &data.test {
        let seen: Vec<String> = keys(&data.train)
            .into_iter()
            .chain(keys(&data.dev))
            .collect();
        check_disjoint("ml-prune train+dev/test", &seen, &keys(test))?;
    }
    write_json(out.join("prune.json"), config, true)?;
    let full_dir = out.join("full");
    let origin = serde_json::json!({"train": data.train.len(), "dev": data.dev.len()});
    let fine_tune = &config.fine_tune;
    text_cls::train(fine_tune, &data.train, &data.dev, &full_dir, &origin, false)?;

    let inference = fine_tune.device.inference()?;
    let training = fine_tune.device.training()?;
    // Surgery works on plain tensors; importance needs the autodiff device.
    let full = Run::load(&full_dir, &inference)?;
    let set =
        |examples: &[Example], what: &str| encode(&full.tokenizer, &full.spec, examples, what);
    let task = ClassificationTask {
        train: set(&data.train, "training data")?,
        dev: set(&data.dev, "dev data")?,
        batch_size: fine_tune.batch_size,
        pad_id: full.tokenizer.special_tokens().pad.unwrap_or(0),
        head: Head::Classification,
    };
    let scores = match config.method {
        Method::Importance => {
            let tracked = Run::load(&full_dir, &training)?;
            importance_scores(&tracked.model, &task, config.importance_examples)
        }
        Method::Random => random_scores(&full.model, fine_tune.seed),
    };
    write_json(out.join("scores.json"), &scores_json(&scores), true)?;

    let mut models = vec![evaluated(&full_dir, 0.0, None, data, config, &inference)?];
    for &s in &config.sparsity {
        let selection = select(&scores, s, config.units);
        let dir = out.join(format!("s{s:.2}"));
        let pruned = pruned_classifier(&full.model, &selection);
        let dev_pruned = task.evaluate(&pruned)["accuracy"];
        refine(&full, pruned, &task, config, &dir, &training)?;
        models.push(evaluated(
            &dir,
            s,
            Some(dev_pruned),
            data,
            config,
            &inference,
        )?);
    }
    let report = PruneReport {
        method: config.method,
        units: config.units,
        models,
    };
    write_json(out.join("summary.json"), &report, true)?;
    Ok(report)
}

/// Loads a run directory on the inference device, evaluates it, times its encoder and, for a
/// pruned model, writes its encoder as a Hugging Face directory.
fn evaluated(
    dir: &Path,
    sparsity: f64,
    dev_pruned: Option<f64>,
    data: &PruneData,
    config: &PruneConfig,
    device: &Device,
) -> Result<PrunedModel> {
    let run = Run::load(dir, device)?;
    let dev = run.evaluate(&data.dev, "dev data")?["accuracy"];
    let test = match &data.test {
        Some(test) => Some(run.evaluate(test, "test data")?["accuracy"]),
        None => None,
    };
    let encoder = &run.model.encoder;
    if sparsity > 0.0 {
        let encoder_dir = dir.join("encoder");
        encoder.save_pretrained(&encoder_dir, &run.spec.encoder)?;
        run.tokenizer
            .save(encoder_dir.join("tokenizer.json"), false)?;
    }
    tracing::info!(sparsity, dev, "evaluated");
    Ok(PrunedModel {
        sparsity,
        dir: dir.to_path_buf(),
        heads: encoder.layer_heads(),
        neurons: encoder.layer_intermediate_sizes(),
        params: encoder.parameter_count().into(),
        dev_pruned: dev_pruned.unwrap_or(dev),
        dev,
        test,
        latency: latency(encoder, &config.latency, device),
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

/// Re-fine-tunes `pruned` (a pruned copy of `full`, on a plain device) into the text-cls run
/// directory `dir`, where `pruned.safetensors` keeps it as it was before re-fine-tuning.
fn refine(
    full: &Run,
    pruned: Classifier,
    task: &ClassificationTask,
    config: &PruneConfig,
    dir: &Path,
    training: &Device,
) -> Result<()> {
    let mut spec = full.spec.clone();
    spec.encoder = pruned.encoder.sized_config(&full.spec.encoder);
    write_json(dir.join("model.json"), &spec, true)?;
    full.tokenizer.save(dir.join("tokenizer.json"), false)?;
    let kept = serde_json::json!({
        "heads": pruned.encoder.layer_heads(),
        "neurons": pruned.encoder.layer_intermediate_sizes(),
    });
    // Through a parameter file onto the training device, as text-cls's `Run::load` does.
    let path = dir.join("pruned.safetensors");
    save_parameters(&pruned, &path)?;
    let model = load_parameters(spec.init(training), &path)?;
    let fine_tune = &config.fine_tune;
    let steps = task.batches_per_epoch() * config.refine_epochs;
    let trainer = Trainer::new(
        TrainerConfig {
            epochs: config.refine_epochs,
            schedule: LrSchedule::Linear {
                warmup: (steps as f64 * fine_tune.warmup) as usize,
                total: steps,
            },
            metric: "accuracy".into(),
            higher_is_better: true,
            seed: fine_tune.seed,
            ..TrainerConfig::default()
        },
        dir,
    );
    let optimizer = text_cls::optimizer(fine_tune);
    let experiment = serde_json::json!({"prune": config, "model": spec, "kept": kept});
    trainer.write_config(&optimizer, &experiment, false)?;
    trainer.fit(model, optimizer.init(), task, false)?.best()?;
    // The optimizer checkpoints only serve `--resume`, which a pruning run does not offer;
    // `best/` (what `Run::load` reads) and `last/` stay.
    let checkpoints = RunDir::new(dir).checkpoints().root().to_path_buf();
    if checkpoints.exists() {
        std::fs::remove_dir_all(&checkpoints).map_err(|source| MlPruneError::Io {
            path: checkpoints.clone(),
            source,
        })?;
    }
    Ok(())
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
        cross_entropy(logits, &task.train, &batch, &device)
    });
    importance.sum_of_abs().normalize_heads_per_layer()
}

fn cross_entropy(
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
