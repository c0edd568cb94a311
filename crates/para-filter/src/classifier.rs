//! The cross-lingual classifier scorer (spec §4, reconstructed): text-cls's sentence-pair
//! classifier on a multilingual encoder (multilingual-e5-small in the paper's setting, `tiny`
//! for tests), fine-tuned to tell clean pairs (label `clean`) from synthetic negatives made
//! with the noise types of [`crate::noise`] (random re-pairing, truncation, word drop and
//! shuffle, a copied source, a wrong language, disagreeing numbers, fragments). A pair's score
//! is the classifier's probability of `clean`; an [`Ensemble`] averages several runs.
//!
//! Hygiene: the clean pairs are split into training and dev parts first (seeded), and each
//! part's negatives are made from that part only, so no dev pair (clean or corrupted) is built
//! from a training sentence.

use std::collections::HashSet;
use std::path::Path;

use burnlp_core::burn::tensor::Device;
use burnlp_core::cli::{self, EncoderArgs};
use burnlp_core::data::check_disjoint;
use burnlp_core::train::BestEval;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use text_cls::{Example, Run, TrainConfig};

use crate::corpus::Pair;
use crate::error::{ParaFilterError, Result};
use crate::noise::{NoiseConfig, NoiseKind, inject};
use crate::score::BatchScorer;

/// The label of a clean pair.
pub const CLEAN: &str = "clean";
/// The label of a synthetic negative.
pub const NOISY: &str = "noisy";

/// How the scorer is trained: the classifier's fine-tuning settings and how its data is made.
#[derive(clap::Args, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorerTrainConfig {
    /// Fine-tuning of the classifier (encoder, epochs, learning rates, seed, …).
    #[command(flatten)]
    pub fine_tune: TrainConfig,
    /// Synthetic negatives per clean pair.
    #[arg(long, default_value_t = 1.0, value_parser = cli::positive_f64)]
    pub negatives: f64,
    /// Fraction of the clean pairs held out (with their own negatives) to select the model.
    #[arg(long, default_value_t = 0.1, value_parser = cli::fraction)]
    pub dev_fraction: f64,
    /// Noise types of the negatives (repeatable; default: all, without wrong-language when no
    /// third-language sentences are given).
    #[arg(long = "negative-kind", value_enum)]
    pub kinds: Vec<NoiseKind>,
}

impl Default for ScorerTrainConfig {
    fn default() -> Self {
        Self {
            fine_tune: TrainConfig::default(),
            negatives: 1.0,
            dev_fraction: 0.1,
            kinds: Vec::new(),
        }
    }
}

/// The classifier's training and dev examples, made from clean pairs.
#[derive(Debug, Clone)]
pub struct ScorerData {
    /// Training examples (clean and negatives, shuffled).
    pub train: Vec<Example>,
    /// Dev examples (clean and negatives from the held-out clean pairs).
    pub dev: Vec<Example>,
}

fn example(pair: &Pair, label: &str) -> Example {
    Example::new(pair.en.clone(), Some(pair.xx.clone()), label)
}

/// `clean` as positives plus `ratio` negatives per pair, corrupted by `kinds` in turn.
fn with_negatives(
    clean: &[Pair],
    other: &[String],
    kinds: &[NoiseKind],
    ratio: f64,
    seed: u64,
) -> Result<Vec<Example>> {
    let wanted = (clean.len() as f64 * ratio).round() as usize;
    let originals: HashSet<&Pair> = clean.iter().collect();
    let mut examples: Vec<Example> = clean.iter().map(|p| example(p, CLEAN)).collect();
    let mut made = 0;
    let mut round = 0u64;
    while made < wanted {
        let config = NoiseConfig {
            rate: 1.0,
            kinds: kinds.to_vec(),
            seed: seed.wrapping_add(round),
        };
        for (pair, label) in inject(clean, other, &config)?.iter().take(wanted - made) {
            // A corruption that left the pair unchanged (e.g. shuffling one word) is no negative.
            if label.is_some() && !originals.contains(pair) {
                examples.push(example(pair, NOISY));
            }
            made += 1;
        }
        round += 1;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    examples.shuffle(&mut rng);
    Ok(examples)
}

/// Splits `clean` into training and dev parts (seeded) and adds each part's negatives.
/// `other` holds third-language sentences for wrong-language negatives.
pub fn scorer_data(
    clean: &[Pair],
    other: &[String],
    config: &ScorerTrainConfig,
) -> Result<ScorerData> {
    let seed = config.fine_tune.seed;
    let mut order: Vec<usize> = (0..clean.len()).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    let n_dev = ((clean.len() as f64) * config.dev_fraction).round() as usize;
    if n_dev < 2 || clean.len() - n_dev < 2 {
        return Err(ParaFilterError::invalid(
            "scorer training data",
            format!(
                "{} clean pairs with dev fraction {} leave {n_dev} dev pairs; both parts need at least 2",
                clean.len(),
                config.dev_fraction
            ),
        ));
    }
    let (dev_idx, train_idx) = order.split_at(n_dev);
    let pick = |idx: &[usize]| idx.iter().map(|&i| clean[i].clone()).collect::<Vec<_>>();
    let (train_clean, dev_clean) = (pick(train_idx), pick(dev_idx));
    let english = |pairs: &[Pair]| pairs.iter().map(|p| p.en.clone()).collect::<Vec<_>>();
    check_disjoint(
        "scorer train/dev clean pairs",
        &english(&train_clean),
        &english(&dev_clean),
    )?;
    let kinds: Vec<NoiseKind> = if config.kinds.is_empty() {
        NoiseKind::ALL
            .into_iter()
            .filter(|k| *k != NoiseKind::WrongLanguage || !other.is_empty())
            .collect()
    } else {
        config.kinds.clone()
    };
    // Third-language sentences are split too, so no dev negative reuses a training one.
    let cut = other.len() * train_clean.len() / clean.len();
    Ok(ScorerData {
        train: with_negatives(&train_clean, &other[..cut], &kinds, config.negatives, seed)?,
        dev: with_negatives(
            &dev_clean,
            &other[cut..],
            &kinds,
            config.negatives,
            seed ^ 0x5eed,
        )?,
    })
}

/// Trains the classifier scorer on `clean` pairs into the run directory `out` (text-cls's
/// layout); returns the best dev evaluation (selected on dev accuracy unless `--metric` says
/// otherwise).
pub fn train_scorer(
    clean: &[Pair],
    other: &[String],
    config: &ScorerTrainConfig,
    out: &Path,
    resume: bool,
) -> Result<BestEval> {
    let data = scorer_data(clean, other, config)?;
    tracing::info!(
        train = data.train.len(),
        dev = data.dev.len(),
        "scorer training data"
    );
    let origin = serde_json::json!({
        "clean_pairs": clean.len(),
        "train_examples": data.train.len(),
        "dev_examples": data.dev.len(),
        "negatives": config.negatives,
        "dev_fraction": config.dev_fraction,
        "kinds": config.kinds,
    });
    Ok(text_cls::train(
        &config.fine_tune,
        &data.train,
        &data.dev,
        out,
        &origin,
        resume,
    )?)
}

/// Trains a scorer with text-cls's default settings (`encoder`, or a tiny random BERT without
/// one) into a fresh run directory `run` (an earlier run there is removed), then deletes its
/// checkpoints (model plus optimizer moments; `best/` is kept): the runs of the measurements
/// and of the miniature shared task.
pub fn train_fresh_scorer(
    clean: &[Pair],
    other: &[String],
    encoder: Option<&str>,
    epochs: usize,
    seed: u64,
    run: &Path,
) -> Result<BestEval> {
    if run.exists() {
        std::fs::remove_dir_all(run).map_err(|source| ParaFilterError::Write {
            path: run.to_path_buf(),
            source,
        })?;
    }
    let config = ScorerTrainConfig {
        fine_tune: TrainConfig {
            encoder: EncoderArgs::from(encoder.unwrap_or(EncoderArgs::TINY)),
            epochs,
            seed,
            ..TrainConfig::default()
        },
        ..ScorerTrainConfig::default()
    };
    let best = train_scorer(clean, other, &config, run, false)?;
    let _ = std::fs::remove_dir_all(run.join("checkpoints"));
    Ok(best)
}

/// A trained classifier run as a [`BatchScorer`]: the probability that a pair is clean.
pub struct ClassifierScorer {
    run: Run,
    clean: usize,
}

impl ClassifierScorer {
    /// Loads the best model of a run directory written by [`train_scorer`].
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let run = Run::load(dir, device)?;
        let clean = run
            .spec
            .labels
            .iter()
            .position(|l| l == CLEAN)
            .ok_or_else(|| {
                ParaFilterError::invalid(
                    format!("scorer run `{}`", dir.display()),
                    format!("its labels {:?} have no `{CLEAN}`", run.spec.labels),
                )
            })?;
        Ok(Self { run, clean })
    }
}

impl BatchScorer for ClassifierScorer {
    fn score_batch(&self, pairs: &[Pair]) -> Result<Vec<f64>> {
        let examples: Vec<Example> = pairs.iter().map(|p| example(p, CLEAN)).collect();
        let predictions = self.run.predict(&examples, "the corpus batch")?;
        let label = &self.run.spec.labels[self.clean];
        Ok(predictions
            .iter()
            .map(|p| f64::from(p.probabilities[label]))
            .collect())
    }
}

/// The average of several scorers (spec §6.3): classifier runs with different seeds, and
/// optionally Model 1 and the margin score. Members on different scales are z-normalised first,
/// with each member's mean and standard deviation measured once on a calibration sample (e.g.
/// the first lines of the corpus), so a streamed corpus is scored with fixed statistics.
pub struct Ensemble {
    members: Vec<Box<dyn BatchScorer>>,
    /// Per member `(mean, standard deviation)`, when z-normalising.
    stats: Option<Vec<(f64, f64)>>,
}

impl Ensemble {
    /// The plain mean of at least one scorer on a common scale (e.g. classifier probabilities).
    pub fn new(members: Vec<Box<dyn BatchScorer>>) -> Result<Self> {
        if members.is_empty() {
            return Err(ParaFilterError::invalid("ensemble", "no member scorers"));
        }
        Ok(Self {
            members,
            stats: None,
        })
    }

    /// The mean of z-normalised members, their statistics measured on `calibration` (at least
    /// two pairs). A member that gives every calibration pair the same score keeps σ = 1.
    pub fn z_normalised(members: Vec<Box<dyn BatchScorer>>, calibration: &[Pair]) -> Result<Self> {
        if calibration.len() < 2 {
            return Err(ParaFilterError::invalid(
                "ensemble calibration",
                format!("{} pairs; at least 2 are needed", calibration.len()),
            ));
        }
        let mut ensemble = Self::new(members)?;
        let mut stats = Vec::with_capacity(ensemble.members.len());
        for member in &ensemble.members {
            let scores = member.score_batch(calibration)?;
            let n = scores.len() as f64;
            let mean = scores.iter().sum::<f64>() / n;
            let var = scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n;
            let std = if var > 0.0 { var.sqrt() } else { 1.0 };
            stats.push((mean, std));
        }
        ensemble.stats = Some(stats);
        Ok(ensemble)
    }

    /// Each member's calibration `(mean, standard deviation)`, when z-normalising.
    pub fn statistics(&self) -> Option<&[(f64, f64)]> {
        self.stats.as_deref()
    }
}

impl BatchScorer for Ensemble {
    fn score_batch(&self, pairs: &[Pair]) -> Result<Vec<f64>> {
        let mut sum = vec![0.0; pairs.len()];
        for (m, member) in self.members.iter().enumerate() {
            let (mean, std) = self.stats.as_ref().map_or((0.0, 1.0), |s| s[m]);
            for (s, x) in sum.iter_mut().zip(member.score_batch(pairs)?) {
                *s += (x - mean) / std;
            }
        }
        let n = self.members.len() as f64;
        Ok(sum.into_iter().map(|s| s / n).collect())
    }
}

/// The [`Ensemble::z_normalised`] combination of scores already computed: the mean of the
/// members' z-scores, each member's mean and standard deviation taken on its first
/// `calibration` scores (σ = 1 for a constant member).
pub fn z_mean(members: &[&[f64]], calibration: usize) -> Vec<f64> {
    let n = members.first().map_or(0, |m| m.len());
    let mut out = vec![0.0; n];
    for member in members {
        let head = &member[..calibration.min(member.len())];
        let count = head.len().max(1) as f64;
        let mean = head.iter().sum::<f64>() / count;
        let var = head.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / count;
        let std = if var > 0.0 { var.sqrt() } else { 1.0 };
        for (o, x) in out.iter_mut().zip(member.iter()) {
            *o += (x - mean) / std / members.len() as f64;
        }
    }
    out
}
