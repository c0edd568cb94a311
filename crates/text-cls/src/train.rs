//! Fine-tuning: the training configuration, the [`TrainTask`] and [`train`].

use std::path::Path;

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::loss::cross_entropy_with_logits;
use burnlp_core::burn::tensor::{Int, Tensor, TensorData};
use burnlp_core::cli::{self, DeviceArgs, EncoderArgs};
use burnlp_core::nn::encoder::{load_encoder, tiny_encoder};
use burnlp_core::tokenize::Tokenizer;
use burnlp_core::train::subnet::MaskProvider;
use burnlp_core::train::{
    AdamWConfig, AdamWStyle, BestEval, LrSchedule, Metrics, ParamGroup, TrainTask, Trainer,
    TrainerConfig,
};
use serde::{Deserialize, Serialize};

use crate::data::Example;
use crate::error::TextClsError;
use crate::eval::{score, score_regression};
use crate::model::{
    Classifier, ClassifierSpec, EncodedSet, Head, Pooling, batch_input, encode, probabilities,
};

/// Everything that decides a training run besides its data (stored in `RUN/config.json`).
#[derive(clap::Args, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The encoder.
    #[command(flatten)]
    pub encoder: EncoderArgs,
    /// Passes over the training data.
    #[arg(long, default_value_t = 3, value_parser = cli::positive)]
    pub epochs: usize,
    /// Examples per batch.
    #[arg(long, default_value_t = 32, value_parser = cli::positive)]
    pub batch_size: usize,
    /// Learning rate of the head (and of a `tiny` encoder).
    #[arg(long, default_value_t = 1e-3, value_parser = cli::positive_f64)]
    pub lr: f64,
    /// Learning rate of a pretrained encoder.
    #[arg(long, default_value_t = 3e-5, value_parser = cli::positive_f64)]
    pub encoder_lr: f64,
    /// Weight decay (not applied to biases and layer norms).
    #[arg(long, default_value_t = 0.01, value_parser = cli::non_negative_f64)]
    pub weight_decay: f64,
    /// Fraction of steps used for linear warm-up.
    #[arg(long, default_value_t = 0.1, value_parser = cli::fraction)]
    pub warmup: f64,
    /// Maximum tokens per example (longer ones are truncated).
    #[arg(long, default_value_t = 128, value_parser = cli::positive)]
    pub max_length: usize,
    /// Pooling of the sequence representation.
    #[arg(long, value_enum, default_value_t = Pooling::Cls)]
    pub pooling: Pooling,
    /// Classification (labels) or regression (numeric scores, e.g. STS-B).
    #[arg(long, value_enum, default_value_t = Head::Classification)]
    #[serde(default)]
    pub head: Head,
    /// Dev metric that selects the best model: `accuracy`, `macro_f1`, `f1` (of the second
    /// label), `mcc` (Matthews), or for regression `pearson`, `spearman`, `corr` (their mean).
    /// Default: accuracy, or corr for regression.
    #[arg(long, value_parser = parse_metric)]
    #[serde(default)]
    pub metric: Option<String>,
    /// Which AdamW update: torch (`torch.optim.AdamW`) or transformers (Hugging Face's,
    /// as Child-Tuning's optimizer).
    #[arg(long, value_parser = parse_style, default_value = "torch")]
    #[serde(default)]
    pub adam: AdamWStyle,
    /// Dropout before the output layer.
    #[arg(long, default_value_t = 0.1, value_parser = cli::fraction)]
    pub dropout: f64,
    /// Evaluate every N steps (default: every epoch).
    #[arg(long, value_parser = cli::positive)]
    pub eval_every: Option<usize>,
    /// Seed of initialisation, batch order and dropout.
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
            encoder: EncoderArgs::default(),
            epochs: 3,
            batch_size: 32,
            lr: 1e-3,
            encoder_lr: 3e-5,
            weight_decay: 0.01,
            warmup: 0.1,
            max_length: 128,
            pooling: Pooling::Cls,
            head: Head::Classification,
            metric: None,
            adam: AdamWStyle::Torch,
            dropout: 0.1,
            eval_every: None,
            seed: 42,
            device: DeviceArgs::default(),
        }
    }
}

/// Dev metrics a run can be selected on.
pub const METRICS: [&str; 7] = [
    "accuracy", "macro_f1", "f1", "mcc", "pearson", "spearman", "corr",
];

fn parse_metric(value: &str) -> Result<String, String> {
    if METRICS.contains(&value) {
        Ok(value.to_string())
    } else {
        Err(format!(
            "unknown metric `{value}` (one of {})",
            METRICS.join(", ")
        ))
    }
}

fn parse_style(value: &str) -> Result<AdamWStyle, String> {
    match value {
        "torch" => Ok(AdamWStyle::Torch),
        "transformers" => Ok(AdamWStyle::Transformers),
        _ => Err(format!(
            "unknown AdamW style `{value}` (torch or transformers)"
        )),
    }
}

impl TrainConfig {
    /// The dev metric that selects the best model.
    pub fn selection_metric(&self) -> &str {
        match (&self.metric, self.head) {
            (Some(metric), _) => metric,
            (None, Head::Classification) => "accuracy",
            (None, Head::Regression) => "corr",
        }
    }
}

/// Builds the mask provider of a sub-network strategy from the freshly initialised model and
/// the training task (a Fisher pass needs both), before training starts.
pub type MaskBuilder<'a> = Box<
    dyn FnOnce(
            &Classifier,
            &ClassificationTask,
        ) -> Result<Box<dyn MaskProvider + Send + Sync>, TextClsError>
        + 'a,
>;

/// A sub-network strategy for [`train_with`]: where the masks come from, and its settings for
/// the experiment part of `RUN/config.json`.
pub struct Subnetwork<'a> {
    /// Builds the mask provider.
    pub masks: MaskBuilder<'a>,
    /// The strategy's settings.
    pub settings: serde_json::Value,
}

/// Fine-tunes a classifier on `train`, selects the best model on `dev` (accuracy) and writes
/// the run directory `out` (`model.json`, `tokenizer.json`, checkpoints, `best/`, metrics).
/// Returns the best dev evaluation. `origin` names the data in `config.json`.
pub fn train(
    config: &TrainConfig,
    train: &[Example],
    dev: &[Example],
    out: &Path,
    origin: &serde_json::Value,
    resume: bool,
) -> Result<BestEval, TextClsError> {
    train_with(config, train, dev, out, origin, resume, None)
}

/// [`train`] that updates only a sub-network: every optimizer step's gradient is masked by
/// the provider `subnetwork` builds (Child-Tuning, Bi-Drop, S4-Tuning; see
/// `burnlp_core::train::subnet`). Examples with a [`Example::group`] are batched per group.
pub fn train_with(
    config: &TrainConfig,
    train: &[Example],
    dev: &[Example],
    out: &Path,
    origin: &serde_json::Value,
    resume: bool,
    subnetwork: Option<Subnetwork<'_>>,
) -> Result<BestEval, TextClsError> {
    for (set, what) in [(train, "the training data"), (dev, "the dev data")] {
        if set.is_empty() {
            return Err(TextClsError::Empty { what: what.into() });
        }
    }
    let device = config.device.training()?;
    device.seed(config.seed);
    let (tokenizer, spec, model) = build_model(config, train, &device)?;
    burnlp_core::data::write_json(out.join("model.json"), &spec, true)?;
    tokenizer.save(out.join("tokenizer.json"), false)?;

    let task = ClassificationTask {
        train: encode(&tokenizer, &spec, train, "training data")?,
        dev: encode(&tokenizer, &spec, dev, "dev data")?,
        batch_size: config.batch_size,
        pad_id: tokenizer.special_tokens().pad.unwrap_or(0),
        head: spec.head,
    };
    let steps = task.batches_per_epoch() * config.epochs;
    let mut trainer = Trainer::new(
        TrainerConfig {
            epochs: config.epochs,
            schedule: LrSchedule::Linear {
                warmup: (steps as f64 * config.warmup) as usize,
                total: steps,
            },
            eval_every: config.eval_every,
            metric: config.selection_metric().into(),
            higher_is_better: true,
            seed: config.seed,
            ..TrainerConfig::default()
        },
        out,
    );
    let optimizer = optimizer(config);
    let mut experiment = serde_json::json!({"data": origin, "config": config, "model": spec});
    if let Some(subnetwork) = subnetwork {
        trainer = trainer.with_mask_provider((subnetwork.masks)(&model, &task)?);
        experiment["subnetwork"] = subnetwork.settings;
    }
    trainer.write_config(&optimizer, &experiment, resume)?;
    let outcome = trainer.fit(model, optimizer.init(), &task, resume)?;
    Ok(outcome.best()?.clone())
}

/// AdamW with no decay on biases and norms, and the encoder's own rate when pretrained: the
/// optimizer of every text-cls run (public for crates that continue training a classifier,
/// e.g. after pruning it).
pub fn optimizer(config: &TrainConfig) -> AdamWConfig {
    let optimizer = AdamWConfig::new(config.lr)
        .with_style(config.adam)
        .with_weight_decay(config.weight_decay)
        .with_group(
            ParamGroup::new("no-decay", &["*.bias", "*norm*", "*.beta", "*.gamma"])
                .with_weight_decay(0.0),
        );
    match config.encoder.pretrained() {
        Some(_) => optimizer
            .with_group(ParamGroup::new("encoder", &["encoder"]).with_lr(config.encoder_lr)),
        None => optimizer,
    }
}

/// The tokenizer, the model's specification and the model: a pretrained encoder with a fresh
/// head, or a `tiny` random encoder with a WordPiece vocabulary learned from `train`.
fn build_model(
    config: &TrainConfig,
    train: &[Example],
    device: &burnlp_core::burn::tensor::Device,
) -> Result<(Tokenizer, ClassifierSpec, Classifier), TextClsError> {
    let mut labels: Vec<String> = match config.head {
        Head::Classification => train.iter().map(|e| e.label.clone()).collect(),
        Head::Regression => Vec::new(),
    };
    labels.sort();
    labels.dedup();
    let spec = |encoder| ClassifierSpec {
        encoder,
        labels: labels.clone(),
        head: config.head,
        pooling: config.pooling,
        dropout: config.dropout,
        max_length: config.max_length,
    };
    if let Some(reference) = config.encoder.pretrained() {
        let loaded = load_encoder(reference, device).map_err(|source| TextClsError::Encoder {
            reference: reference.to_string(),
            source: Box::new(source),
        })?;
        tracing::info!(
            tensors = loaded.report.loaded.len(),
            path = %loaded.location.path().display(),
            "loaded the encoder"
        );
        let tokenizer = loaded.tokenizer.with_max_length(Some(config.max_length))?;
        let spec = spec(loaded.config);
        let model = spec.init_with(loaded.model, device);
        return Ok((tokenizer, spec, model));
    }
    let texts: Vec<String> = train
        .iter()
        .flat_map(|e| std::iter::once(e.text.clone()).chain(e.pair.clone()))
        .collect();
    let (tokenizer, encoder) = tiny_encoder(texts, config.max_length)?;
    let spec = spec(encoder);
    let model = spec.init(device);
    Ok((tokenizer, spec, model))
}

/// The training task: batches of a training set (never mixing groups), cross-entropy loss (or
/// mean squared error for regression), dev metrics.
pub struct ClassificationTask {
    /// Training data.
    pub train: EncodedSet,
    /// Development data.
    pub dev: EncodedSet,
    /// Examples per batch.
    pub batch_size: usize,
    /// Padding id.
    pub pad_id: u32,
    /// Classification or regression.
    pub head: Head,
}

impl ClassificationTask {
    /// The training examples of each group, in order (one entry for ungrouped data).
    fn groups(&self) -> Vec<Vec<usize>> {
        let mut groups: std::collections::BTreeMap<Option<&str>, Vec<usize>> = Default::default();
        for (i, group) in self.train.groups.iter().enumerate() {
            groups.entry(group.as_deref()).or_default().push(i);
        }
        groups.into_values().collect()
    }

    /// Number of batches in an epoch.
    pub fn batches_per_epoch(&self) -> usize {
        self.groups()
            .iter()
            .map(|g| g.len().div_ceil(self.batch_size))
            .sum()
    }
}

impl TrainTask<Classifier> for ClassificationTask {
    type Batch = Vec<usize>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Vec<usize>> {
        let groups = self.groups();
        let epoch_seed = burnlp_core::data::epoch_seed(seed, epoch as u64);
        let mut batches: Vec<Vec<usize>> = Vec::new();
        for members in &groups {
            let lengths: Vec<usize> = members.iter().map(|&i| self.train.ids[i].len()).collect();
            let local = burnlp_core::data::bucket_batches(
                &lengths,
                burnlp_core::data::BatchLimit::examples(self.batch_size),
                Some(epoch_seed),
            )
            .expect("non-empty batch limit");
            batches.extend(
                local
                    .into_iter()
                    .map(|b| b.into_iter().map(|j| members[j]).collect()),
            );
        }
        if groups.len() > 1 {
            // Interleave the groups' batches in a seeded order.
            use rand::SeedableRng;
            use rand::seq::SliceRandom;
            batches.shuffle(&mut rand::rngs::StdRng::seed_from_u64(epoch_seed ^ 0x5eed));
        }
        batches
    }

    fn loss(&self, model: &Classifier, batch: &Vec<usize>) -> Tensor<1> {
        let device = model.devices()[0].clone();
        let logits = model.forward(batch_input(&self.train, batch, self.pad_id, &device));
        if self.head == Head::Regression {
            let gold: Vec<f32> = batch.iter().map(|&i| self.train.targets[i]).collect();
            let gold = Tensor::<1>::from_data(TensorData::new(gold, [batch.len()]), &device);
            let predicted = logits.reshape([batch.len()]);
            return (predicted - gold).square().mean();
        }
        let [_, labels] = logits.dims();
        let gold: Vec<i64> = batch.iter().map(|&i| self.train.labels[i] as i64).collect();
        let targets = Tensor::<1, Int>::from_data(TensorData::new(gold, [batch.len()]), &device)
            .one_hot(labels)
            .float();
        cross_entropy_with_logits(logits, targets)
    }

    fn evaluate(&self, model: &Classifier) -> Metrics {
        let outputs = probabilities(model, &self.dev, 64, self.pad_id);
        match self.head {
            Head::Classification => score(&outputs, &self.dev.labels),
            Head::Regression => score_regression(&outputs, &self.dev.targets),
        }
    }

    fn batch_len(&self, batch: &Vec<usize>) -> usize {
        batch.len()
    }

    fn group(&self, batch: &Vec<usize>) -> Option<String> {
        batch.first().and_then(|&i| self.train.groups[i].clone())
    }
}
