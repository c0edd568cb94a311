//! A trained run directory: [`Run::load`] rebuilds the best model with its tokenizer and
//! configuration, [`Run::evaluate`] scores episodes and [`Run::predict`] labels their query
//! sentences.

use std::path::Path;

use burnlp_core::burn::tensor::{Device, Tensor};
use burnlp_core::tokenize::Tokenizer;
use burnlp_core::train::{Metrics, RunDir, load_parameters};
use serde::Serialize;

use crate::data::{Entity, Episode, entities_to_tags, read_episodes};
use crate::encode::{EncodedEpisode, encode_episodes};
use crate::error::{FsslError, Result};
use crate::eval::{EpisodeModel, EpisodePrediction, predict_episodes, report};
use crate::model::{Architecture, Esd, EsdConfig, ProtoNet};
use crate::train::{F1Kind, default_f1, metrics_of, non_empty};

/// The model configuration in a run directory (this crate's file, next to core's layout).
pub const MODEL_CONFIG_FILE: &str = "model.json";
/// The tokenizer in a run directory.
pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// Reads episodes (Few-NERD `.jsonl` or SNIPS few-shot `.json`); an empty file is an error.
pub fn load_episodes(path: &Path) -> Result<Vec<Episode>> {
    let episodes = read_episodes(path)?;
    non_empty(&episodes, &path.display().to_string())?;
    Ok(episodes)
}

/// A trained model of either architecture.
#[derive(Debug)]
pub enum Trained {
    /// ESD.
    Esd(Box<Esd>),
    /// The token-level prototypical baseline.
    Proto(Box<ProtoNet>),
}

impl EpisodeModel for Trained {
    fn episode_loss(&self, episode: &EncodedEpisode) -> Tensor<1> {
        match self {
            Trained::Esd(m) => m.episode_loss(episode),
            Trained::Proto(m) => m.episode_loss(episode),
        }
    }

    fn predict(&self, encoded: &EncodedEpisode, episode: &Episode) -> Vec<Vec<Entity>> {
        match self {
            Trained::Esd(m) => m.predict(encoded, episode),
            Trained::Proto(m) => m.predict(encoded, episode),
        }
    }
}

/// One labelled query sentence (a line of `predict`'s output).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryPrediction {
    /// 0-based episode.
    pub episode: usize,
    /// 0-based query sentence of the episode.
    pub sentence: usize,
    /// Its words.
    pub words: Vec<String>,
    /// The gold tags.
    pub gold: Vec<String>,
    /// The predicted tags, in the episode's scheme.
    pub predicted: Vec<String>,
}

/// The best model of a run directory with its tokenizer and configuration.
#[derive(Debug)]
pub struct Run {
    /// The model.
    pub model: Trained,
    /// Its tokenizer (truncating at the configured maximum length).
    pub tokenizer: Tokenizer,
    /// Its configuration (`model.json`).
    pub config: EsdConfig,
}

impl Run {
    /// Loads the best model of the run directory `dir` onto `device`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let path = dir.join(MODEL_CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| FsslError::NotARun {
            dir: dir.to_path_buf(),
            source,
        })?;
        let config: EsdConfig = serde_json::from_str(&text)
            .map_err(|source| FsslError::ModelConfig { path, source })?;
        let tokenizer = Tokenizer::from_file(dir.join(TOKENIZER_FILE))?
            .with_max_length(Some(config.max_length))?;
        let weights = RunDir::new(dir).best_model();
        let model = match config.architecture {
            Architecture::Esd => {
                Trained::Esd(Box::new(load_parameters(config.init(device), &weights)?))
            }
            Architecture::Proto => Trained::Proto(Box::new(load_parameters(
                config.init_proto(device),
                &weights,
            )?)),
        };
        Ok(Self {
            model,
            tokenizer,
            config,
        })
    }

    fn predictions(&self, episodes: &[Episode], what: &str) -> Result<Vec<EpisodePrediction>> {
        let encoded = encode_episodes(&self.tokenizer, episodes, self.config.max_span_words, what)?;
        Ok(predict_episodes(&self.model, episodes, &encoded))
    }

    /// Precision, recall and `f1` under `f1` (default: [`default_f1`]), plus both F1s and the
    /// number of episodes; `what` names the episodes in errors.
    pub fn evaluate(
        &self,
        episodes: &[Episode],
        f1: Option<F1Kind>,
        what: &str,
    ) -> Result<Metrics> {
        non_empty(episodes, what)?;
        let kind = f1.unwrap_or_else(|| default_f1(episodes));
        Ok(metrics_of(
            &report(&self.predictions(episodes, what)?),
            kind,
        ))
    }

    /// The predicted tags of every query sentence, with its words and gold tags.
    pub fn predict(&self, episodes: &[Episode], what: &str) -> Result<Vec<QueryPrediction>> {
        let predictions = self.predictions(episodes, what)?;
        let mut records = Vec::new();
        for (i, (episode, prediction)) in episodes.iter().zip(&predictions).enumerate() {
            for (j, (sentence, entities)) in
                episode.query.iter().zip(&prediction.predicted).enumerate()
            {
                records.push(QueryPrediction {
                    episode: i,
                    sentence: j,
                    words: sentence.words.clone(),
                    gold: sentence.tags.clone(),
                    predicted: entities_to_tags(sentence.words.len(), entities, episode.scheme),
                });
            }
        }
        Ok(records)
    }
}
