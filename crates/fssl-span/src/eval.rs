//! Prediction (conflict resolution for ESD, per-word decoding for the baseline) and the two
//! F1 definitions of spec §8: Few-NERD micro F1 over all query sentences of all episodes, and
//! SNIPS mean per-episode F1.

use std::collections::BTreeSet;

use burnlp_core::burn::tensor::Tensor;
use burnlp_core::burn::tensor::activation::softmax;
use serde::Serialize;

use crate::data::{Entity, Episode};
use crate::encode::EncodedEpisode;
use crate::model::{Esd, ProtoNet};
use crate::spans::{BeamConfig, Candidate, resolve_conflicts};

/// Entity counts of one or more sentences.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Predicted entities that match a gold one exactly (start, end, type).
    pub correct: usize,
    /// Predicted entities.
    pub predicted: usize,
    /// Gold entities.
    pub gold: usize,
}

impl Counts {
    /// Counts of one sentence's predicted and gold entity sets.
    pub fn of(gold: &[Entity], predicted: &[Entity]) -> Self {
        let gold: BTreeSet<&Entity> = gold.iter().collect();
        let predicted: BTreeSet<&Entity> = predicted.iter().collect();
        Self {
            correct: predicted.intersection(&gold).count(),
            predicted: predicted.len(),
            gold: gold.len(),
        }
    }

    /// Adds another count.
    pub fn add(&mut self, other: Counts) {
        self.correct += other.correct;
        self.predicted += other.predicted;
        self.gold += other.gold;
    }

    /// Precision, recall and F1 (each 0 when undefined, as `seqeval` with `zero_division=0`).
    pub fn prf(&self) -> Prf {
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let precision = ratio(self.correct, self.predicted);
        let recall = ratio(self.correct, self.gold);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Prf {
            precision,
            recall,
            f1,
        }
    }
}

/// Precision, recall and F1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Prf {
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
}

/// Few-NERD "All f1": counts summed over every query sentence of every episode.
pub fn micro(episodes: &[Counts]) -> Prf {
    let mut total = Counts::default();
    for c in episodes {
        total.add(*c);
    }
    total.prf()
}

/// SNIPS "Batch f1": the mean over episodes of each episode's precision, recall and F1.
pub fn episode_mean(episodes: &[Counts]) -> Prf {
    let n = episodes.len().max(1) as f64;
    let mut out = Prf::default();
    for c in episodes {
        let p = c.prf();
        out.precision += p.precision / n;
        out.recall += p.recall / n;
        out.f1 += p.f1 / n;
    }
    out
}

/// Predicted and gold entities of an episode's query sentences, and their counts.
#[derive(Debug, Clone)]
pub struct EpisodePrediction {
    /// Predicted entities per query sentence.
    pub predicted: Vec<Vec<Entity>>,
    /// Counts summed over the episode's query sentences.
    pub counts: Counts,
}

/// A model that labels the query sentences of an episode.
pub trait EpisodeModel {
    /// The mean training loss of an episode.
    fn episode_loss(&self, episode: &EncodedEpisode) -> Tensor<1>;
    /// Predicted entities of each query sentence.
    fn predict(&self, encoded: &EncodedEpisode, episode: &Episode) -> Vec<Vec<Entity>>;
}

fn host(logits: Tensor<2>) -> (Vec<f32>, usize) {
    let classes = logits.dims()[1];
    let probs = softmax(logits, 1)
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32 data");
    (probs, classes)
}

fn argmax(row: &[f32]) -> (usize, f32) {
    row.iter()
        .copied()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, p)| {
            if p > best.1 { (i, p) } else { best }
        })
}

/// ESD's decoding: spans whose argmax is not O, resolved by [`resolve_conflicts`].
pub fn decode_spans(
    probs: &[f32],
    classes: usize,
    encoded: &EncodedEpisode,
    types: &[String],
    beam: &BeamConfig,
) -> Vec<Vec<Entity>> {
    let mut offset = 0;
    let mut out = Vec::with_capacity(encoded.query.len());
    for sentence in &encoded.query {
        let mut candidates = Vec::new();
        for (j, &(start, end)) in sentence.spans.iter().enumerate() {
            let row = &probs[(offset + j) * classes..(offset + j + 1) * classes];
            let (class, score) = argmax(row);
            if class != 0 {
                candidates.push(Candidate {
                    start,
                    end,
                    class,
                    score,
                });
            }
        }
        offset += sentence.spans.len();
        out.push(
            resolve_conflicts(&candidates, beam)
                .into_iter()
                .map(|c| Entity {
                    start: c.start,
                    end: c.end,
                    label: types[c.class - 1].clone(),
                })
                .collect(),
        );
    }
    out
}

impl EpisodeModel for Esd {
    fn episode_loss(&self, episode: &EncodedEpisode) -> Tensor<1> {
        self.loss(episode)
    }

    fn predict(&self, encoded: &EncodedEpisode, episode: &Episode) -> Vec<Vec<Entity>> {
        if encoded.query_spans() == 0 {
            return vec![Vec::new(); encoded.query.len()];
        }
        let (probs, classes) = host(self.forward(encoded));
        decode_spans(
            &probs,
            classes,
            encoded,
            &episode.types,
            &BeamConfig::default(),
        )
    }
}

impl EpisodeModel for ProtoNet {
    fn episode_loss(&self, episode: &EncodedEpisode) -> Tensor<1> {
        self.loss(episode)
    }

    fn predict(&self, encoded: &EncodedEpisode, episode: &Episode) -> Vec<Vec<Entity>> {
        let (probs, classes) = host(self.forward(encoded));
        let mut offset = 0;
        let mut out = Vec::new();
        for sentence in &encoded.query {
            let words = sentence.first_subwords.len();
            let classes_of: Vec<usize> = (0..words)
                .map(|w| argmax(&probs[(offset + w) * classes..(offset + w + 1) * classes]).0)
                .collect();
            offset += words;
            let mut entities = Vec::new();
            let mut w = 0;
            while w < words {
                let c = classes_of[w];
                let mut e = w;
                while e + 1 < words && classes_of[e + 1] == c {
                    e += 1;
                }
                if c != 0 {
                    entities.push(Entity {
                        start: w,
                        end: e,
                        label: episode.types[c - 1].clone(),
                    });
                }
                w = e + 1;
            }
            out.push(entities);
        }
        out
    }
}

/// Predicts every episode and counts its entities against the gold query tags.
pub fn predict_episodes<M: EpisodeModel>(
    model: &M,
    episodes: &[Episode],
    encoded: &[EncodedEpisode],
) -> Vec<EpisodePrediction> {
    episodes
        .iter()
        .zip(encoded)
        .map(|(episode, enc)| {
            let predicted = model.predict(enc, episode);
            let mut counts = Counts::default();
            for (sentence, pred) in episode.query.iter().zip(&predicted) {
                counts.add(Counts::of(&sentence.entities(episode.scheme), pred));
            }
            EpisodePrediction { predicted, counts }
        })
        .collect()
}

/// Both F1 definitions of a set of predicted episodes.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Report {
    /// Few-NERD micro scores.
    pub micro: Prf,
    /// SNIPS per-episode mean scores.
    pub episode_mean: Prf,
    /// Number of episodes.
    pub episodes: usize,
}

/// Scores predicted episodes both ways.
pub fn report(predictions: &[EpisodePrediction]) -> Report {
    let counts: Vec<Counts> = predictions.iter().map(|p| p.counts).collect();
    Report {
        micro: micro(&counts),
        episode_mean: episode_mean(&counts),
        episodes: counts.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micro_and_episode_mean_differ_on_unequal_episodes() {
        let big = Counts {
            correct: 9,
            predicted: 10,
            gold: 10,
        };
        let small = Counts {
            correct: 0,
            predicted: 1,
            gold: 1,
        };
        let m = micro(&[big, small]);
        let e = episode_mean(&[big, small]);
        assert!((m.f1 - 9.0 / 11.0).abs() < 1e-12);
        assert!((e.f1 - 0.45).abs() < 1e-12);
    }

    #[test]
    fn counts_match_exact_spans_and_types() {
        let e = |s, t, l: &str| Entity {
            start: s,
            end: t,
            label: l.into(),
        };
        let c = Counts::of(
            &[e(0, 1, "a"), e(3, 3, "b")],
            &[e(0, 1, "a"), e(3, 3, "a"), e(5, 5, "b")],
        );
        assert_eq!((c.correct, c.predicted, c.gold), (1, 3, 2));
    }
}
