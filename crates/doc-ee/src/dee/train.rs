//! Training, prediction and evaluation of GIT and the baseline ([`super::model`]) on core's
//! trainer, on Doc2EDAG-format files.
//!
//! A run directory holds core's layout (`config.json`, `metrics.jsonl`, `checkpoints/`, `best/`,
//! `last/`) plus [`MODEL_FILE`] ([`DeeRunInfo`]: the model configuration, the data set and the
//! character table learned from the training documents). The best checkpoint is chosen on the
//! dev set's record-level micro F1 with predicted spans ([`super::metric`]).
//!
//! Scheduled sampling (B.1): in epoch `e` (0-based) a batch uses the gold entities with
//! probability `teacher_prob(e)` = 1 for `e < teacher_epochs`, then falling linearly by
//! `1 / decay_epochs` per epoch to `teacher_floor`; otherwise the CRF's decoded entities (gold
//! arguments that are not among them are unreachable and count as NULL in the field labels).
//!
//! IPGPF's pre-filling (C.5) is active in the first `prefill_epochs` epochs, with the ratio of
//! [`prefill_ratio`]; each batch draws its Bernoulli trials from a generator seeded by the
//! run's seed, the epoch and the batch, so a resumed run repeats them.

use std::path::Path;

use burnlp_core::burn::tensor::{Device, Tensor};
use burnlp_core::cli::{self, DeviceArgs};
use burnlp_core::data::{read_json_document, shuffled_batches, write_json};
use burnlp_core::train::{
    AdamWConfig, BestEval, LrSchedule, Metrics, RunDir, TrainTask, Trainer, TrainerConfig,
    load_parameters,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::format::{Check, Document, Record, bio_labels, validate};
use super::json::Json;
use super::metric::{DeeScores, score};
use super::model::input::{CharTable, PreparedDoc};
use super::model::ipgpf::{IpgpfSettings, Prefill, prefill_ratio};
use super::model::template::schema_templates;
use super::model::{DeeModel, DeeModelConfig, DeeModelKind};
use super::schema::DatasetSchema;
use crate::error::{DocEeError, Result};

/// The model description in a run directory.
pub const MODEL_FILE: &str = "dee-model.json";

/// Which model `train-dee` trains.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelChoice {
    /// GIT (graph + EDAG with the Tracker).
    Git,
    /// Per-type independent record filling.
    Baseline,
    /// IPGPF (templates filled by iterative parallel generation with pre-filling).
    Ipgpf,
}

/// Model sizes.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// The sizes of the flags (small enough for a CPU).
    Small,
    /// The paper's sizes: hidden 768, 8 encoder layers, 8 heads, FFN 1024, 4 layers in each
    /// decoder-side transformer (GIT's path memory; IPGPF's document context, generator and
    /// record decoder).
    Paper,
}

/// Everything that decides a training run besides its data (stored in `RUN/config.json`).
#[derive(clap::Args, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeeTrainConfig {
    /// The model.
    #[arg(long, value_enum, default_value = "git")]
    pub model: ModelChoice,
    /// Sizes: `small` uses the flags below, `paper` the paper's sizes.
    #[arg(long, value_enum, default_value = "small")]
    pub preset: Preset,
    /// Hidden size (a multiple of --heads).
    #[arg(long, default_value_t = 128, value_parser = cli::positive)]
    pub hidden: usize,
    /// Encoder layers.
    #[arg(long, default_value_t = 2, value_parser = cli::positive)]
    pub layers: usize,
    /// Attention heads.
    #[arg(long, default_value_t = 4, value_parser = cli::positive)]
    pub heads: usize,
    /// Feed-forward size.
    #[arg(long, default_value_t = 256, value_parser = cli::positive)]
    pub ff: usize,
    /// Layers of GIT's path-memory transformer (IPGPF: of its document-context transformer,
    /// generator and record decoder each).
    #[arg(long, default_value_t = 2, value_parser = cli::positive)]
    pub decoder_layers: usize,
    /// R-GCN layers.
    #[arg(long, default_value_t = 3, value_parser = cli::positive)]
    pub gcn_layers: usize,
    /// Graph relations: 4 (the paper's edge types) or 3 (both M-M kinds merged, the code).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(3..=4))]
    pub relations: u8,
    /// Leave the Tracker out (GIT's ablation).
    #[arg(long)]
    pub no_tracker: bool,
    /// IPGPF: records generated per event type (`max_gen_num`).
    #[arg(long, default_value_t = 10, value_parser = cli::positive)]
    pub max_gen: usize,
    /// IPGPF: leave pre-filling out (the ablation).
    #[arg(long)]
    pub no_prefill: bool,
    /// IPGPF: epochs with pre-filling (30 in the paper, of 100); the ratio falls linearly
    /// from 1.2 to 0 over them, clipped to [0, 1].
    #[arg(long, default_value_t = 30, value_parser = cli::positive)]
    pub prefill_epochs: usize,
    /// IPGPF: pre-fill a role only when the earlier record gave its gold span at least this
    /// probability.
    #[arg(long, default_value_t = 0.75, value_parser = cli::fraction)]
    pub prefill_threshold: f64,
    /// IPGPF: weight of the NULL class in the role-pointer loss (`neg_field_loss_scaling`).
    #[arg(long, default_value_t = 1.0, value_parser = cli::positive_f64)]
    pub null_weight: f64,
    /// IPGPF: weight of the draft class in the record classifier's loss.
    #[arg(long, default_value_t = 3.0, value_parser = cli::positive_f64)]
    pub draft_weight: f64,
    /// IPGPF: loss weights `NER,EVENT_TYPE,GENERATION` (three non-negative numbers, not all 0).
    #[arg(long, default_value = "0.1,0.4,0.5", value_parser = loss_weights)]
    pub loss_weights: [f64; 3],
    /// IPGPF: cross-entropy of already-softmaxed scores (the reference code's quirk) instead
    /// of CE on logits.
    #[arg(long)]
    pub double_softmax: bool,
    /// Passes over the training documents.
    #[arg(long, default_value_t = 20, value_parser = cli::positive)]
    pub epochs: usize,
    /// Stop after this many optimizer steps.
    #[arg(long, value_parser = cli::positive)]
    pub max_steps: Option<usize>,
    /// Documents per batch.
    #[arg(long, default_value_t = 4, value_parser = cli::positive)]
    pub batch_size: usize,
    /// Batches per optimizer step.
    #[arg(long, default_value_t = 1, value_parser = cli::positive)]
    pub grad_accum: usize,
    /// Learning rate (Adam; 1e-4 in the paper at its sizes).
    #[arg(long, default_value_t = 5e-4, value_parser = cli::positive_f64)]
    pub lr: f64,
    /// Weight decay.
    #[arg(long, default_value_t = 0.0, value_parser = cli::non_negative_f64)]
    pub weight_decay: f64,
    /// Dropout.
    #[arg(long, default_value_t = 0.1, value_parser = cli::fraction)]
    pub dropout: f64,
    /// Weight of the NER loss (`loss_lambda`).
    #[arg(long, default_value_t = 0.05, value_parser = cli::fraction)]
    pub loss_lambda: f64,
    /// Weight of negative field labels (`neg_field_loss_scaling`).
    #[arg(long, default_value_t = 3.0, value_parser = cli::positive_f64)]
    pub neg_field_weight: f64,
    /// Most sentences per document.
    #[arg(long, default_value_t = 64, value_parser = cli::positive)]
    pub max_sent_num: usize,
    /// Most characters per sentence.
    #[arg(long, default_value_t = 128, value_parser = cli::positive)]
    pub max_sent_len: usize,
    /// Epochs trained on gold entities only (`schedule_epoch_start`).
    #[arg(long, default_value_t = 10)]
    pub teacher_epochs: usize,
    /// Epochs over which the gold-entity probability falls to its floor.
    #[arg(long, default_value_t = 10, value_parser = cli::positive)]
    pub decay_epochs: usize,
    /// Lowest gold-entity probability.
    #[arg(long, default_value_t = 0.1, value_parser = cli::fraction)]
    pub teacher_floor: f64,
    /// Evaluate every N optimizer steps (default: every epoch).
    #[arg(long, value_parser = cli::positive)]
    pub eval_every: Option<usize>,
    /// Seed of initialisation, batch order, dropout and scheduled sampling.
    #[arg(long, default_value_t = 99)]
    pub seed: u64,
    /// Where training runs (not part of the run's identity).
    #[command(flatten)]
    #[serde(skip)]
    pub device: DeviceArgs,
}

/// Parses `--loss-weights`: three comma-separated non-negative numbers, not all zero.
fn loss_weights(s: &str) -> std::result::Result<[f64; 3], String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let [a, b, c] = parts[..] else {
        return Err(format!(
            "expected NER,EVENT,GENERATION (3 numbers), got `{s}`"
        ));
    };
    let mut out = [0.0; 3];
    for (slot, text) in out.iter_mut().zip([a, b, c]) {
        *slot = cli::non_negative_f64(text)?;
    }
    if out.iter().all(|&w| w == 0.0) {
        return Err("at least one loss weight must be positive".into());
    }
    Ok(out)
}

impl Default for DeeTrainConfig {
    fn default() -> Self {
        Self {
            model: ModelChoice::Git,
            preset: Preset::Small,
            hidden: 128,
            layers: 2,
            heads: 4,
            ff: 256,
            decoder_layers: 2,
            gcn_layers: 3,
            relations: 4,
            no_tracker: false,
            max_gen: 10,
            no_prefill: false,
            prefill_epochs: 30,
            prefill_threshold: 0.75,
            null_weight: 1.0,
            draft_weight: 3.0,
            double_softmax: false,
            loss_weights: [0.1, 0.4, 0.5],
            epochs: 20,
            max_steps: None,
            batch_size: 4,
            grad_accum: 1,
            lr: 5e-4,
            weight_decay: 0.0,
            dropout: 0.1,
            loss_lambda: 0.05,
            neg_field_weight: 3.0,
            max_sent_num: 64,
            max_sent_len: 128,
            teacher_epochs: 10,
            decay_epochs: 10,
            teacher_floor: 0.1,
            eval_every: None,
            seed: 99,
            device: DeviceArgs::default(),
        }
    }
}

impl DeeTrainConfig {
    /// The model configuration for `schema` and the character table `table` (IPGPF's
    /// templates are mapped through it).
    pub fn model_config(
        &self,
        schema: &DatasetSchema,
        table: &CharTable,
    ) -> Result<DeeModelConfig> {
        let kind = match self.model {
            ModelChoice::Git => DeeModelKind::Git,
            ModelChoice::Baseline => DeeModelKind::Baseline,
            ModelChoice::Ipgpf => DeeModelKind::Ipgpf,
        };
        let templates = match kind {
            DeeModelKind::Ipgpf => schema_templates(schema, table)?,
            _ => Vec::new(),
        };
        let config = DeeModelConfig::new(
            kind,
            table.len(),
            schema.ner_labels().len(),
            schema.events.iter().map(|e| e.roles.len()).collect(),
        )
        .with_hidden(self.hidden)
        .with_encoder_layers(self.layers)
        .with_heads(self.heads)
        .with_ff(self.ff)
        .with_decoder_layers(self.decoder_layers)
        .with_gcn_layers(self.gcn_layers)
        .with_relations(usize::from(self.relations))
        .with_tracker(!self.no_tracker)
        .with_dropout(self.dropout)
        .with_max_sent_num(self.max_sent_num)
        .with_max_sent_len(self.max_sent_len)
        .with_loss_lambda(self.loss_lambda)
        .with_neg_field_weight(self.neg_field_weight)
        .with_templates(templates)
        .with_ipgpf(
            IpgpfSettings::new()
                .with_max_gen(self.max_gen)
                .with_double_softmax(self.double_softmax)
                .with_null_weight(self.null_weight)
                .with_draft_weight(self.draft_weight)
                .with_prefill_threshold(self.prefill_threshold)
                .with_loss_weights(self.loss_weights),
        );
        Ok(match self.preset {
            Preset::Small => config,
            Preset::Paper => config.paper(),
        })
    }

    /// IPGPF's pre-filling ratio in `epoch` (0 with `--no-prefill` or for the other models).
    pub fn prefill_ratio(&self, epoch: usize) -> f64 {
        if self.model != ModelChoice::Ipgpf || self.no_prefill {
            return 0.0;
        }
        prefill_ratio(epoch, self.prefill_epochs)
    }

    /// The probability of training on gold entities in `epoch` (0-based).
    pub fn teacher_prob(&self, epoch: usize) -> f64 {
        if epoch < self.teacher_epochs {
            return 1.0;
        }
        let done = (epoch - self.teacher_epochs + 1) as f64 / self.decay_epochs as f64;
        (1.0 - done).max(self.teacher_floor)
    }

    fn trainer(&self, train_docs: usize) -> TrainerConfig {
        let per_epoch = train_docs
            .div_ceil(self.batch_size)
            .div_ceil(self.grad_accum);
        let total = (per_epoch * self.epochs).max(1);
        let total = self.max_steps.map_or(total, |m| m.min(total));
        TrainerConfig {
            epochs: self.epochs,
            max_steps: self.max_steps,
            grad_accum: self.grad_accum,
            clip_norm: Some(5.0),
            schedule: LrSchedule::Linear { warmup: 0, total },
            eval_every: self.eval_every,
            metric: "f1".into(),
            higher_is_better: true,
            seed: self.seed,
            ..TrainerConfig::default()
        }
    }
}

/// `dee-model.json`: what a trained run needs besides its weights.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeeRunInfo {
    /// The model.
    pub model: DeeModelConfig,
    /// The data set's name (`ChFinAnn` or `DuEE-fin`).
    pub dataset: String,
    /// The character table.
    pub chars: CharTable,
}

impl DeeRunInfo {
    /// Reads `dee-model.json`; descriptions written before IPGPF existed (without the model's
    /// `templates` and `ipgpf` fields) get the defaults of those fields.
    pub fn read(path: &Path) -> Result<Self> {
        let mut value: serde_json::Value = read_json_document(path)?;
        if let Some(model) = value.get_mut("model").and_then(|m| m.as_object_mut()) {
            model
                .entry("templates")
                .or_insert_with(|| serde_json::json!([]));
            if !model.contains_key("ipgpf") {
                let defaults = serde_json::to_value(IpgpfSettings::new())
                    .map_err(|e| DocEeError::invalid("IPGPF defaults", e.to_string()))?;
                model.insert("ipgpf".into(), defaults);
            }
        }
        serde_json::from_value(value)
            .map_err(|e| DocEeError::invalid(format!("`{}`", path.display()), e.to_string()))
    }
}

/// Prepares validated gold documents (BIO labels from their annotations).
pub fn prepare_gold(
    path: &Path,
    docs: &[Document],
    schema: &DatasetSchema,
    table: &CharTable,
    config: &DeeModelConfig,
) -> Result<Vec<PreparedDoc>> {
    validate(path, docs, schema, Check::Gold)?;
    docs.iter()
        .enumerate()
        .map(|(i, doc)| {
            let labels = bio_labels(path, doc, schema)?;
            Ok(PreparedDoc::new(
                i,
                doc,
                Some(&labels),
                schema,
                table,
                config.max_sent_num,
                config.max_sent_len,
            ))
        })
        .collect()
}

/// The training task for core's trainer.
pub struct DeeTask<'a> {
    /// Prepared training documents.
    pub train: Vec<PreparedDoc>,
    /// Prepared dev documents.
    pub dev: Vec<PreparedDoc>,
    /// Dev documents (gold, for the metric).
    pub dev_docs: Vec<Document>,
    /// The event schema.
    pub schema: &'a DatasetSchema,
    /// The settings (batch size, scheduled sampling, seed).
    pub config: DeeTrainConfig,
}

impl TrainTask<DeeModel> for DeeTask<'_> {
    type Batch = (usize, Vec<usize>);

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<(usize, Vec<usize>)> {
        shuffled_batches(self.train.len(), self.config.batch_size, seed, epoch as u64)
            .into_iter()
            .map(|b| (epoch, b))
            .collect()
    }

    fn loss(&self, model: &DeeModel, batch: &(usize, Vec<usize>)) -> Tensor<1> {
        let (epoch, docs) = batch;
        let p = self.config.teacher_prob(*epoch);
        let first = docs.first().copied().unwrap_or(0) as u64;
        let mut rng = StdRng::seed_from_u64(
            self.config
                .seed
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add((*epoch as u64) << 32)
                .wrapping_add(first),
        );
        let gold = p >= 1.0 || rng.random::<f64>() < p;
        let ratio = self.config.prefill_ratio(*epoch);
        let losses: Vec<Tensor<1>> = docs
            .iter()
            .map(|&i| {
                let mut prefill = Prefill {
                    ratio,
                    rng: &mut rng,
                };
                model.loss_with(&self.train[i], gold, (ratio > 0.0).then_some(&mut prefill))
            })
            .collect();
        Tensor::cat(losses, 0).mean()
    }

    fn evaluate(&self, model: &DeeModel) -> Metrics {
        let pred = predict_prepared(model, &self.dev, &self.dev_docs, self.schema);
        let (scores, _) = score(self.schema, &self.dev_docs, &pred);
        metrics_of(&scores)
    }

    fn batch_len(&self, batch: &(usize, Vec<usize>)) -> usize {
        batch.1.len()
    }
}

/// The dev metrics: record-level micro F1 (`f1`, the selection metric), P, R, and micro F1 on
/// single- and multi-event documents.
pub fn metrics_of(scores: &DeeScores) -> Metrics {
    let mut m = Metrics::new();
    m.insert("f1".into(), scores.micro.f1);
    m.insert("precision".into(), scores.micro.p);
    m.insert("recall".into(), scores.micro.r);
    m.insert("single_f1".into(), scores.single.micro.f1);
    m.insert("multi_f1".into(), scores.multi.micro.f1);
    m
}

/// `docs` with their records replaced by the model's predictions (`prepared[i]` is
/// `docs[prepared[i].index]`).
pub fn predict_prepared(
    model: &DeeModel,
    prepared: &[PreparedDoc],
    docs: &[Document],
    schema: &DatasetSchema,
) -> Vec<Document> {
    prepared
        .iter()
        .map(|p| {
            let mut doc = docs[p.index].clone();
            doc.records = model
                .predict(p)
                .into_iter()
                .enumerate()
                .map(|(i, (t, args))| {
                    let event = &schema.events[t];
                    Record {
                        guid: Json::from(i),
                        event_type: event.name.to_string(),
                        args: event
                            .roles
                            .iter()
                            .zip(args)
                            .map(|(r, a)| (r.to_string(), a))
                            .collect(),
                    }
                })
                .collect();
            doc
        })
        .collect()
}

/// Trains on `train_docs` (read from `train_path`), selects on `dev_docs`, writes the run
/// directory `out`; returns the best dev evaluation.
#[allow(clippy::too_many_arguments)]
pub fn train(
    config: &DeeTrainConfig,
    schema: &'static DatasetSchema,
    train_path: &Path,
    train_docs: &[Document],
    dev_path: &Path,
    dev_docs: &[Document],
    out: &Path,
    origin: &serde_json::Value,
    resume: bool,
) -> Result<BestEval> {
    if train_docs.is_empty() || dev_docs.is_empty() {
        return Err(DocEeError::invalid(
            "the data",
            "training and dev documents must not be empty",
        ));
    }
    let table = CharTable::learn(train_docs);
    let model_config = config.model_config(schema, &table)?;
    if !model_config.hidden.is_multiple_of(model_config.heads) {
        return Err(DocEeError::invalid(
            "--hidden",
            format!(
                "{} is not a multiple of --heads {}",
                model_config.hidden, model_config.heads
            ),
        ));
    }
    std::fs::create_dir_all(out).map_err(|source| DocEeError::Read {
        path: out.to_path_buf(),
        source,
    })?;
    let task = DeeTask {
        train: prepare_gold(train_path, train_docs, schema, &table, &model_config)?,
        dev: prepare_gold(dev_path, dev_docs, schema, &table, &model_config)?,
        dev_docs: dev_docs.to_vec(),
        schema,
        config: config.clone(),
    };
    let info = DeeRunInfo {
        model: model_config.clone(),
        dataset: schema.name.to_string(),
        chars: table,
    };
    write_json(out.join(MODEL_FILE), &info, true)?;
    let device = config.device.training()?;
    device.seed(config.seed);
    let model = model_config.init(&device);
    let trainer = Trainer::new(config.trainer(train_docs.len()), out);
    let optimizer = AdamWConfig::new(config.lr).with_weight_decay(config.weight_decay);
    let experiment = serde_json::json!({"data": origin, "config": config, "model": info});
    trainer.write_config(&optimizer, &experiment, resume)?;
    let outcome = trainer.fit(model, optimizer.init(), &task, resume)?;
    Ok(outcome.best()?.clone())
}

/// The best model of a run directory with its settings.
#[derive(Debug)]
pub struct DeeRun {
    model: DeeModel,
    info: DeeRunInfo,
}

impl DeeRun {
    /// Loads the best checkpoint of the run in `dir` onto `device`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let info = DeeRunInfo::read(&dir.join(MODEL_FILE))?;
        let model = load_parameters(info.model.init(device), &RunDir::new(dir).best_model())?;
        Ok(Self { model, info })
    }

    /// A freshly initialised (untrained) model with a run's settings (the floor a trained run
    /// is compared with).
    pub fn untrained(info: DeeRunInfo, device: &Device) -> Self {
        Self {
            model: info.model.init(device),
            info,
        }
    }

    /// The run's settings.
    pub fn info(&self) -> &DeeRunInfo {
        &self.info
    }

    /// `docs` with their records replaced by predictions (sentences beyond the run's limits
    /// are cut off; records of gold input are ignored). `path` names the input in errors.
    pub fn predict(
        &self,
        path: &Path,
        docs: &[Document],
        schema: &DatasetSchema,
    ) -> Result<Vec<Document>> {
        validate(path, docs, schema, Check::Records)?;
        let prepared: Vec<PreparedDoc> = docs
            .iter()
            .enumerate()
            .map(|(i, doc)| {
                PreparedDoc::new(
                    i,
                    doc,
                    None,
                    schema,
                    &self.info.chars,
                    self.info.model.max_sent_num,
                    self.info.model.max_sent_len,
                )
            })
            .collect();
        Ok(predict_prepared(&self.model, &prepared, docs, schema))
    }
}
