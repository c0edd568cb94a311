//! Development proxies (spec §7): ROC-AUC of noise detection per noise type, and precision /
//! recall of mined pairs against the known alignment of synthetic document pairs.

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::error::{ParaFilterError, Result};
use crate::mine::MinedPair;
use crate::noise::{Label, NoiseKind};

/// ROC-AUC (scikit-learn's `roc_auc_score` semantics) lives in core's metrics.
pub use burnlp_core::metrics::classification::roc_auc;

/// ROC-AUC of clean-vs-noisy detection, overall and per noise type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoiseReport {
    /// Clean lines against all noisy lines.
    pub overall: f64,
    /// Clean lines against the lines of each type present.
    pub per_kind: BTreeMap<String, f64>,
    /// Clean lines.
    pub clean: usize,
    /// Noisy lines.
    pub noisy: usize,
}

/// Evaluates scores (higher = cleaner) against the labels of a noised corpus.
pub fn noise_report(scores: &[f64], labels: &[Label]) -> Result<NoiseReport> {
    if scores.len() != labels.len() {
        return Err(ParaFilterError::invalid(
            "noise evaluation",
            format!("{} scores for {} labels", scores.len(), labels.len()),
        ));
    }
    let clean: Vec<bool> = labels.iter().map(Option::is_none).collect();
    let overall = roc_auc(scores, &clean)?;
    let mut per_kind = BTreeMap::new();
    for kind in NoiseKind::ALL {
        if !labels.contains(&Some(kind)) {
            continue;
        }
        let (s, p): (Vec<f64>, Vec<bool>) = scores
            .iter()
            .zip(labels)
            .filter(|(_, l)| l.is_none() || **l == Some(kind))
            .map(|(s, l)| (*s, l.is_none()))
            .unzip();
        per_kind.insert(kind.name().to_string(), roc_auc(&s, &p)?);
    }
    let n_clean = clean.iter().filter(|c| **c).count();
    Ok(NoiseReport {
        overall,
        per_kind,
        clean: n_clean,
        noisy: labels.len() - n_clean,
    })
}

/// A gold or predicted alignment link: document and sentence ranges.
pub type Link = (usize, Range<usize>, Range<usize>);

/// Precision and recall of mined pairs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MiningScores {
    /// Correct mined links / mined links.
    pub precision: f64,
    /// Correct mined links / gold links.
    pub recall: f64,
    /// Mined links.
    pub mined: usize,
    /// Gold links.
    pub gold: usize,
    /// Correct mined links.
    pub correct: usize,
}

impl MiningScores {
    /// Harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        if self.precision + self.recall == 0.0 {
            0.0
        } else {
            2.0 * self.precision * self.recall / (self.precision + self.recall)
        }
    }
}

/// Exact-match precision and recall of mined beads against gold links.
pub fn mining_scores(mined: &[MinedPair], gold: &[Link]) -> MiningScores {
    let gold_set: HashSet<(usize, usize, usize, usize, usize)> = gold
        .iter()
        .map(|(d, e, x)| (*d, e.start, e.end, x.start, x.end))
        .collect();
    let correct = mined
        .iter()
        .filter(|m| {
            gold_set.contains(&(
                m.doc,
                m.bead.en.start,
                m.bead.en.end,
                m.bead.xx.start,
                m.bead.xx.end,
            ))
        })
        .count();
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    MiningScores {
        precision: ratio(correct, mined.len()),
        recall: ratio(correct, gold.len()),
        mined: mined.len(),
        gold: gold.len(),
        correct,
    }
}
