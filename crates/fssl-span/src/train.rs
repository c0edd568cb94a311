//! Episodic training glue for the core trainer: batches of episodes, the mean episode loss,
//! and dev F1 under the chosen definition.

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::Tensor;
use burnlp_core::data::{epoch_seed, shuffled_indices};
use burnlp_core::train::{Metrics, TrainTask};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::data::Episode;
use crate::encode::EncodedEpisode;
use crate::eval::{EpisodeModel, predict_episodes, report};

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
