//! Episodic training: the run's [`TrainConfig`], the [`EpisodeTask`] for core's trainer
//! (batches of episodes, the mean episode loss, dev F1 under the chosen definition) and
//! [`train()`], which builds the model and optimizer and fits it in a run directory.

use std::path::Path;

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::{Device, Tensor};
use burnlp_core::cli::{self, DeviceArgs, EncoderArgs};
use burnlp_core::data::{epoch_seed, shuffled_indices};
use burnlp_core::nn::bert::{Bert, BertConfig};
use burnlp_core::nn::encoder::{PretrainedEncoder, load_encoder};
use burnlp_core::tokenize::{Tokenizer, WordPieceTrainingConfig};
use burnlp_core::train::{
    AdamWConfig, BestEval, LrSchedule, Metrics, ParamGroup, TrainTask, Trainer, TrainerConfig,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::data::{Episode, Scheme};
use crate::encode::{EncodedEpisode, encode_episodes, encode_episodes_for};
use crate::error::{FsslError, Result};
use crate::eval::{EpisodeModel, predict_episodes, report};
use crate::model::{Architecture, EsdConfig};
use crate::run::{MODEL_CONFIG_FILE, TOKENIZER_FILE};

/// Which F1 selects the model and is reported as `f1`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum F1Kind {
    /// Few-NERD: micro F1 over all query sentences of all episodes.
    Micro,
    /// SNIPS: mean of per-episode F1.
    Episode,
}

/// Metrics of a report: `precision`, `recall`, `f1` (of `kind`), plus both F1s.
pub fn metrics_of(report: &crate::eval::Report, kind: F1Kind) -> Metrics {
    let main = match kind {
        F1Kind::Micro => report.micro,
        F1Kind::Episode => report.episode_mean,
    };
    Metrics::from([
        ("precision".to_string(), main.precision),
        ("recall".to_string(), main.recall),
        ("f1".to_string(), main.f1),
        ("micro_f1".to_string(), report.micro.f1),
        ("episode_f1".to_string(), report.episode_mean.f1),
        ("episodes".to_string(), report.episodes as f64),
    ])
}

/// Training episodes, dev episodes and the batching settings.
pub struct EpisodeTask {
    /// Encoded training episodes.
    pub train: Vec<EncodedEpisode>,
    /// Dev episodes.
    pub dev: Vec<Episode>,
    /// Their encodings.
    pub dev_encoded: Vec<EncodedEpisode>,
    /// Episodes per batch.
    pub batch_episodes: usize,
    /// Maximum O spans kept per training sentence.
    pub max_o_spans: usize,
    /// F1 used for model selection.
    pub f1: F1Kind,
}

/// A batch: episode indices and the seed of their O-span down-sampling.
#[derive(Debug, Clone)]
pub struct EpisodeBatch {
    /// Indices into the training episodes.
    pub episodes: Vec<usize>,
    /// Down-sampling seed.
    pub seed: u64,
}

impl<M: Module + EpisodeModel> TrainTask<M> for EpisodeTask {
    type Batch = EpisodeBatch;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<EpisodeBatch> {
        let order = shuffled_indices(self.train.len(), seed, epoch as u64);
        let seed = epoch_seed(seed, epoch as u64);
        order
            .chunks(self.batch_episodes.max(1))
            .enumerate()
            .map(|(i, chunk)| EpisodeBatch {
                episodes: chunk.to_vec(),
                seed: seed.wrapping_add(i as u64),
            })
            .collect()
    }

    fn loss(&self, model: &M, batch: &EpisodeBatch) -> Tensor<1> {
        let mut rng = StdRng::seed_from_u64(batch.seed);
        let losses: Vec<Tensor<1>> = batch
            .episodes
            .iter()
            .map(|&i| model.episode_loss(&self.train[i].downsample(self.max_o_spans, &mut rng)))
            .collect();
        let n = losses.len() as f64;
        Tensor::cat(losses, 0).sum() / n
    }

    fn evaluate(&self, model: &M) -> Metrics {
        metrics_of(
            &report(&predict_episodes(model, &self.dev, &self.dev_encoded)),
            self.f1,
        )
    }

    fn batch_len(&self, batch: &EpisodeBatch) -> usize {
        batch.episodes.len()
    }
}

/// Everything that decides a training run besides its data (stored in `RUN/config.json`).
#[derive(clap::Args, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The encoder.
    #[command(flatten)]
    pub encoder: EncoderArgs,
    /// Model: ESD or the token-level prototypical baseline.
    #[arg(long, value_enum, default_value_t = Architecture::Esd)]
    pub architecture: Architecture,
    /// Passes over the training episodes.
    #[arg(long, default_value_t = 1, value_parser = cli::positive)]
    pub epochs: usize,
    /// Stop after this many optimizer steps.
    #[arg(long, value_parser = cli::positive)]
    pub max_steps: Option<usize>,
    /// Episodes per batch.
    #[arg(long, default_value_t = 1, value_parser = cli::positive)]
    pub batch_episodes: usize,
    /// Batches accumulated per optimizer step.
    #[arg(long, default_value_t = 2, value_parser = cli::positive)]
    pub grad_accum: usize,
    /// Learning rate of the non-encoder parameters (and of a `tiny` encoder).
    #[arg(long, default_value_t = 5e-4, value_parser = cli::positive_f64)]
    pub lr: f64,
    /// Learning rate of a pretrained encoder (2e-5 Few-NERD, 5e-5 SNIPS).
    #[arg(long, default_value_t = 2e-5, value_parser = cli::positive_f64)]
    pub encoder_lr: f64,
    /// Linear warm-up steps.
    #[arg(long, default_value_t = 1000)]
    pub warmup_steps: usize,
    /// Length of the linear schedule (the reference code hard-codes 50000).
    #[arg(long, default_value_t = 50_000, value_parser = cli::positive)]
    pub schedule_steps: usize,
    /// Evaluate every N optimizer steps (default: every epoch).
    #[arg(long, value_parser = cli::positive)]
    pub eval_every: Option<usize>,
    /// Stop after this many evaluations without improvement.
    #[arg(long, default_value_t = 6)]
    pub patience: usize,
    /// O spans kept per training sentence.
    #[arg(long, default_value_t = 1000)]
    pub max_o_spans: usize,
    /// Split each training episode's query set into chunks of this many sentences, each
    /// trained with the full support set (`eposide_tasks`; the reference uses 20 for 10-way
    /// 5~10-shot Few-NERD).
    #[arg(long, value_parser = cli::positive)]
    #[serde(default)]
    pub query_chunk: Option<usize>,
    /// Span vector size D.
    #[arg(long, default_value_t = 100, value_parser = cli::positive)]
    pub hidden: usize,
    /// Maximum subwords per sentence.
    #[arg(long, default_value_t = 128, value_parser = cli::positive)]
    pub max_length: usize,
    /// Reproduce the reference code's off-by-one ISA span mask (parity runs).
    #[arg(long)]
    pub reference_mask: bool,
    /// F1 for model selection (default: micro for IO episodes, per-episode for BIO).
    #[arg(long, value_enum)]
    pub f1: Option<F1Kind>,
    /// Seed of initialisation, batch order and dropout.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where training runs (not part of the run's identity).
    #[command(flatten)]
    #[serde(skip)]
    pub device: DeviceArgs,
}

impl Default for TrainConfig {
    /// The command line's defaults (the paper's settings, a `tiny` encoder, the CPU).
    fn default() -> Self {
        Self {
            encoder: EncoderArgs::default(),
            architecture: Architecture::Esd,
            epochs: 1,
            max_steps: None,
            batch_episodes: 1,
            grad_accum: 2,
            lr: 5e-4,
            encoder_lr: 2e-5,
            warmup_steps: 1000,
            schedule_steps: 50_000,
            eval_every: None,
            patience: 6,
            max_o_spans: 1000,
            query_chunk: None,
            hidden: 100,
            max_length: 128,
            reference_mask: false,
            f1: None,
            seed: 1,
            device: DeviceArgs::default(),
        }
    }
}

impl TrainConfig {
    /// The short CPU runs of the demo and the experiment: `steps` optimizer steps of one
    /// episode, 10 % warm-up, two evaluations, a 64-wide span space, micro F1.
    pub fn small(architecture: Architecture, steps: usize, seed: u64) -> Self {
        Self {
            architecture,
            epochs: 100,
            max_steps: Some(steps),
            grad_accum: 1,
            lr: 1e-3,
            encoder_lr: 5e-5,
            warmup_steps: steps / 10,
            schedule_steps: steps,
            eval_every: Some((steps / 2).max(1)),
            hidden: 64,
            max_length: 64,
            f1: Some(F1Kind::Micro),
            seed,
            ..Self::default()
        }
    }

    fn trainer_config(&self) -> TrainerConfig {
        TrainerConfig {
            epochs: self.epochs,
            max_steps: self.max_steps,
            grad_accum: self.grad_accum,
            schedule: LrSchedule::Linear {
                warmup: self.warmup_steps,
                total: self.schedule_steps,
            },
            eval_every: self.eval_every,
            metric: "f1".into(),
            higher_is_better: true,
            patience: Some(self.patience),
            seed: self.seed,
            ..TrainerConfig::default()
        }
    }

    /// AdamW without weight decay; a pretrained encoder has its own rate and decays its
    /// weights (not biases and norms) by 0.01.
    fn optimizer(&self) -> AdamWConfig {
        let optimizer = AdamWConfig::new(self.lr).with_weight_decay(0.0);
        if self.encoder.pretrained().is_none() {
            return optimizer;
        }
        optimizer
            .with_group(
                ParamGroup::new("encoder", &["encoder"])
                    .with_lr(self.encoder_lr)
                    .with_weight_decay(0.01),
            )
            .with_group(
                ParamGroup::new("encoder-no-decay", &["encoder.*bias", "encoder.*norm*"])
                    .with_weight_decay(0.0),
            )
    }

    /// The model configuration on an encoder configuration.
    fn model_config(&self, encoder: BertConfig) -> EsdConfig {
        EsdConfig::new(encoder)
            .with_hidden(self.hidden)
            .with_max_length(self.max_length)
            .with_architecture(self.architecture)
            .with_reference_mask(self.reference_mask)
    }
}

/// The F1 a set of episodes is selected and reported with by default: micro for IO episodes
/// (Few-NERD), the per-episode mean for BIO episodes (SNIPS).
///
/// # Panics
/// If `episodes` is empty.
pub fn default_f1(episodes: &[Episode]) -> F1Kind {
    match episodes[0].scheme {
        Scheme::Io => F1Kind::Micro,
        Scheme::Bio => F1Kind::Episode,
    }
}

/// Training episodes with their query sets cut into chunks of `chunk` sentences, each chunk
/// an episode with the full support set (the reference's `eposide_tasks` for 10-way 5~10-shot
/// Few-NERD training); `None` keeps the episodes as they are.
pub fn split_queries(episodes: &[Episode], chunk: Option<usize>) -> Vec<Episode> {
    let Some(chunk) = chunk.filter(|&c| c > 0) else {
        return episodes.to_vec();
    };
    episodes
        .iter()
        .flat_map(|e| {
            e.query.chunks(chunk).map(|query| Episode {
                query: query.to_vec(),
                ..e.clone()
            })
        })
        .collect()
}

/// Fails with [`FsslError::NoEpisodes`] when `episodes` is empty.
pub(crate) fn non_empty(episodes: &[Episode], what: &str) -> Result<()> {
    if episodes.is_empty() {
        return Err(FsslError::NoEpisodes { what: what.into() });
    }
    Ok(())
}

/// Trains ESD (or the prototypical baseline) on `train`, keeps the best model on `dev` and
/// writes the run directory `out` (`model.json`, `tokenizer.json`, `config.json`, metrics,
/// checkpoints, `best/`). `origin` names the data in `config.json`; with `resume` the newest
/// checkpoint is continued. Returns the best dev evaluation.
pub fn train(
    config: &TrainConfig,
    train: &[Episode],
    dev: &[Episode],
    out: &Path,
    origin: &serde_json::Value,
    resume: bool,
) -> Result<BestEval> {
    non_empty(train, "the training episodes")?;
    non_empty(dev, "the dev episodes")?;
    let device = config.device.training()?;
    device.seed(config.seed);
    let (tokenizer, encoder) = tokenizer_and_encoder(config, train, &device)?;
    let tokenizer = tokenizer.with_max_length(Some(config.max_length))?;
    let encoder_config = match &encoder {
        Some((_, config)) => config.clone(),
        None => BertConfig::new(tokenizer.vocab_size(), 64, 2, 4, 128)
            .with_max_position_embeddings(config.max_length.max(8)),
    };
    let model_config = config.model_config(encoder_config);
    burnlp_core::data::write_json(out.join(MODEL_CONFIG_FILE), &model_config, true)?;
    tokenizer.save(out.join(TOKENIZER_FILE), false)?;

    let f1 = config.f1.unwrap_or_else(|| default_f1(dev));
    let task = EpisodeTask {
        train: encode_episodes_for(
            &tokenizer,
            &split_queries(train, config.query_chunk),
            model_config.max_span_words,
            "training",
            true,
        )?,
        dev: dev.to_vec(),
        dev_encoded: encode_episodes(&tokenizer, dev, model_config.max_span_words, "dev")?,
        batch_episodes: config.batch_episodes,
        max_o_spans: config.max_o_spans,
        f1,
    };
    let optimizer = config.optimizer();
    let trainer = Trainer::new(config.trainer_config(), out);
    let experiment = serde_json::json!({
        "data": origin, "config": config, "f1": f1, "model": model_config,
    });
    trainer.write_config(&optimizer, &experiment, resume)?;
    let encoder = encoder.map(|(model, _)| model);
    let best = match config.architecture {
        Architecture::Esd => {
            let model = match encoder {
                Some(e) => model_config.init_with(e, &device),
                None => model_config.init(&device),
            };
            trainer
                .fit(model, optimizer.init(), &task, resume)?
                .best()?
                .clone()
        }
        Architecture::Proto => {
            let model = match encoder {
                Some(e) => model_config.init_proto_with(e),
                None => model_config.init_proto(&device),
            };
            trainer
                .fit(model, optimizer.init(), &task, resume)?
                .best()?
                .clone()
        }
    };
    tracing::info!(f1 = best.value, step = best.step, run = %out.display(), "best dev model");
    Ok(best)
}

/// The pretrained encoder and its tokenizer, or for `tiny` a WordPiece vocabulary (3000
/// entries) learned from the training sentences and no encoder.
fn tokenizer_and_encoder(
    config: &TrainConfig,
    train: &[Episode],
    device: &Device,
) -> Result<(Tokenizer, Option<(Bert, BertConfig)>)> {
    if let Some(reference) = config.encoder.pretrained() {
        let PretrainedEncoder {
            model,
            config,
            tokenizer,
            ..
        } = load_encoder(reference, device).map_err(|source| FsslError::Encoder {
            reference: reference.to_string(),
            source: Box::new(source),
        })?;
        return Ok((tokenizer, Some((model, config))));
    }
    let texts: Vec<String> = train
        .iter()
        .flat_map(|e| e.support.iter().chain(&e.query))
        .map(|s| s.words.join(" "))
        .collect();
    let wordpiece = WordPieceTrainingConfig {
        vocab_size: 3000,
        min_frequency: 1,
        ..Default::default()
    };
    Ok((Tokenizer::train_wordpiece(texts, &wordpiece)?, None))
}
