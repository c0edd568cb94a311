//! Iterative mining of sentence pairs from document pairs (spec §5.4): train Model 1 on the
//! clean data, align every document pair, keep the aligned pairs scoring at least
//! `min_score`, add those scoring at least `add_threshold` to the lexical training data,
//! retrain and re-align; stop after `iterations` rounds or when the number of mined pairs
//! changes by less than `min_change`.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::align::{AlignConfig, Bead, align};
use crate::corpus::Pair;
use crate::documents::DocumentPair;
use crate::error::Result;
use crate::ibm1::{Encoded, Ibm1Config, Ibm1Model};

/// Settings of the mining loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
pub struct MineConfig {
    /// Lexical model.
    #[command(flatten)]
    pub ibm1: Ibm1Config,
    /// Aligner penalties.
    #[command(flatten)]
    pub align: AlignConfig,
    /// Aligned pairs scoring below this are not output.
    #[arg(long, default_value_t = -11.0, allow_negative_numbers = true)]
    pub min_score: f64,
    /// Mined pairs scoring at least this are added to the lexical training data.
    #[arg(long, default_value_t = -7.0, allow_negative_numbers = true)]
    pub add_threshold: f64,
    /// Mining rounds at most (1 = align once, no retraining).
    #[arg(id = "mine_iterations", long = "mine-iterations", default_value_t = 3, value_parser = burnlp_core::cli::positive)]
    pub iterations: usize,
    /// Stop when the number of mined pairs changes by less than this fraction.
    #[arg(long, default_value_t = 0.01)]
    pub min_change: f64,
}

impl Default for MineConfig {
    fn default() -> Self {
        Self {
            ibm1: Ibm1Config::default(),
            align: AlignConfig::default(),
            min_score: -11.0,
            add_threshold: -7.0,
            iterations: 3,
            min_change: 0.01,
        }
    }
}

/// A mined pair: its document, bead and text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinedPair {
    /// Index of the document pair.
    pub doc: usize,
    /// The bead (sentence ranges, score).
    pub bead: Bead,
    /// The aligned text (sentences of a side joined by a space).
    pub pair: Pair,
}

/// Statistics of one mining round.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RoundStats {
    /// Pairs in the lexical training data of the round.
    pub training_pairs: usize,
    /// Pairs mined (score ≥ `min_score`).
    pub mined: usize,
    /// Of those, pairs scoring at least `add_threshold`.
    pub confident: usize,
}

/// The result of mining.
#[derive(Debug, Clone)]
pub struct MineOutcome {
    /// The pairs of the last round, by document then position.
    pub mined: Vec<MinedPair>,
    /// One entry per round.
    pub rounds: Vec<RoundStats>,
    /// The lexical model of the last round.
    pub model: Ibm1Model,
}

/// Aligns one document pair with a model; returns its aligning beads scoring ≥ `min_score`.
pub fn align_document(model: &Ibm1Model, doc: &DocumentPair, config: &MineConfig) -> Vec<Bead> {
    let en: Vec<Encoded> = doc.en.iter().map(|s| model.encode_en(s)).collect();
    let xx: Vec<Encoded> = doc.xx.iter().map(|s| model.encode_xx(s)).collect();
    let join = |side: &[Encoded], r: std::ops::Range<usize>| -> Encoded {
        side[r]
            .iter()
            .fold(Encoded::default(), |acc, e| acc.concat(e))
    };
    let beads = align(en.len(), xx.len(), &config.align, |e, x| {
        let (a, b) = (join(&en, e), join(&xx, x));
        model.score_encoded(&a, &b).total()
    });
    beads
        .into_iter()
        .filter(|b| b.kind.is_alignment() && b.score >= config.min_score)
        .collect()
}

fn mine_round(model: &Ibm1Model, docs: &[DocumentPair], config: &MineConfig) -> Vec<MinedPair> {
    docs.par_iter()
        .enumerate()
        .flat_map_iter(|(d, doc)| {
            align_document(model, doc, config)
                .into_iter()
                .map(move |bead| MinedPair {
                    doc: d,
                    pair: Pair::new(
                        doc.en[bead.en.clone()].join(" "),
                        doc.xx[bead.xx.clone()].join(" "),
                    ),
                    bead,
                })
        })
        .collect()
}

/// Runs the iterative mining loop.
pub fn mine(clean: &[Pair], docs: &[DocumentPair], config: &MineConfig) -> Result<MineOutcome> {
    let mut model = Ibm1Model::train(clean, &config.ibm1)?;
    let mut rounds = Vec::new();
    let mut training_pairs = clean.len();
    loop {
        let mined = mine_round(&model, docs, config);
        let confident: Vec<Pair> = mined
            .iter()
            .filter(|m| m.bead.score >= config.add_threshold)
            .map(|m| m.pair.clone())
            .collect();
        let previous = rounds.last().map(|r: &RoundStats| r.mined);
        rounds.push(RoundStats {
            training_pairs,
            mined: mined.len(),
            confident: confident.len(),
        });
        tracing::info!(
            round = rounds.len(),
            mined = mined.len(),
            confident = confident.len(),
            "mining round"
        );
        let change = previous.map(|p| (mined.len() as f64 - p as f64).abs() / p.max(1) as f64);
        if rounds.len() >= config.iterations || change.is_some_and(|c| c < config.min_change) {
            return Ok(MineOutcome {
                mined,
                rounds,
                model,
            });
        }
        let mut data = clean.to_vec();
        data.extend(confident);
        training_pairs = data.len();
        model = Ibm1Model::train(&data, &config.ibm1)?;
    }
}

/// Thresholds estimated on clean data (see [`calibrate`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Median score of held-out true pairs.
    pub true_median: f64,
    /// Median score of held-out mismatched pairs.
    pub random_median: f64,
}

impl Calibration {
    /// The settings with `min_score` at the midpoint of the two medians, the skip penalty at
    /// half of it (so a 1-1 bead beats two skips exactly when it reaches `min_score`) and
    /// `add_threshold` at the true-pair median.
    pub fn apply(&self, config: &MineConfig) -> MineConfig {
        let tau = (self.true_median + self.random_median) / 2.0;
        let mut out = config.clone();
        out.min_score = tau;
        out.align.skip_penalty = tau / 2.0;
        out.add_threshold = self.true_median;
        out
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Estimates score levels on clean data: trains on all but every `holdout`-th pair, scores the
/// held-out pairs and the same pairs re-paired with their neighbour.
pub fn calibrate(clean: &[Pair], config: &Ibm1Config, holdout: usize) -> Result<Calibration> {
    let holdout = holdout.max(2);
    let (train, held): (Vec<_>, Vec<_>) = clean
        .iter()
        .enumerate()
        .partition(|(i, _)| i % holdout != 0);
    let train: Vec<Pair> = train.into_iter().map(|(_, p)| p.clone()).collect();
    let held: Vec<&Pair> = held.into_iter().map(|(_, p)| p).collect();
    if held.len() < 2 {
        return Err(crate::error::ParaFilterError::invalid(
            "calibration",
            "needs more clean pairs",
        ));
    }
    let model = Ibm1Model::train(&train, config)?;
    let true_scores = held.iter().map(|p| model.score(p).total()).collect();
    let random_scores = (0..held.len())
        .map(|i| {
            let other = held[(i + 1) % held.len()];
            model
                .score(&Pair::new(held[i].en.clone(), other.xx.clone()))
                .total()
        })
        .collect();
    Ok(Calibration {
        true_median: median(true_scores),
        random_median: median(random_scores),
    })
}
