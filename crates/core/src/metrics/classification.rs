//! Accuracy, precision/recall/F1, the Matthews correlation and ROC-AUC over label sequences,
//! with scikit-learn semantics.
//!
//! The averaging rules follow `sklearn.metrics.precision_recall_fscore_support` with
//! `zero_division=0`:
//!
//! * micro: pool the true-positive, predicted and gold counts of all labels, then divide;
//! * macro: unweighted mean of the per-label scores over the labels present in gold or
//!   prediction (or over an explicit label list);
//! * weighted: mean of the per-label scores weighted by gold support.
//!
//! F1 is computed from counts as `2·tp / (n_pred + n_gold)`, as scikit-learn ≥ 1.3 does, and
//! means are taken with NumPy's summation order so results agree bit for bit.

use std::collections::BTreeMap;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use super::error::{MetricsError, Result, check_same_len};
use super::pycompat::{numpy_mean, numpy_weighted_mean};

/// Precision, recall and F1, each in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Prf {
    /// Fraction of predictions that are correct.
    pub precision: f64,
    /// Fraction of gold items that are found.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
}

impl Prf {
    /// Scores from counts: `tp` correct predictions out of `n_pred` predictions and `n_gold`
    /// gold items. A zero denominator gives 0 (scikit-learn's `zero_division=0`).
    pub fn from_counts(tp: usize, n_pred: usize, n_gold: usize) -> Self {
        let div = |num: f64, den: f64| if den == 0.0 { 0.0 } else { num / den };
        Self {
            precision: div(tp as f64, n_pred as f64),
            recall: div(tp as f64, n_gold as f64),
            f1: div(2.0 * tp as f64, n_gold as f64 + n_pred as f64),
        }
    }
}

/// How per-label scores are combined into one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Average {
    /// Pool the counts of all labels, then compute the scores.
    #[default]
    Micro,
    /// Unweighted mean of the per-label scores.
    Macro,
    /// Mean of the per-label scores weighted by gold support.
    Weighted,
}

/// Confusion counts of one label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LabelCounts {
    /// Positions where gold and prediction are both this label.
    pub tp: usize,
    /// Positions predicted as this label.
    pub n_pred: usize,
    /// Positions whose gold label is this label (the support).
    pub n_gold: usize,
}

impl LabelCounts {
    /// Precision, recall and F1 of this label.
    pub fn prf(&self) -> Prf {
        Prf::from_counts(self.tp, self.n_pred, self.n_gold)
    }
}

fn check_inputs<L>(gold: &[L], pred: &[L]) -> Result<()> {
    check_same_len("predictions vs gold labels", gold.len(), pred.len())?;
    if gold.is_empty() {
        return Err(MetricsError::EmptyInput("no labels"));
    }
    Ok(())
}

/// Fraction of positions where `pred` equals `gold`.
pub fn accuracy<L: PartialEq>(gold: &[L], pred: &[L]) -> Result<f64> {
    check_inputs(gold, pred)?;
    let correct = gold.iter().zip(pred).filter(|(g, p)| g == p).count();
    Ok(correct as f64 / gold.len() as f64)
}

/// Per-label counts for every label that occurs in `gold` or `pred`, in sorted label order.
pub fn label_counts<L>(gold: &[L], pred: &[L]) -> Result<BTreeMap<L, LabelCounts>>
where
    L: Eq + Hash + Ord + Clone,
{
    check_same_len("predictions vs gold labels", gold.len(), pred.len())?;
    let mut counts: BTreeMap<L, LabelCounts> = BTreeMap::new();
    for (g, p) in gold.iter().zip(pred) {
        counts.entry(g.clone()).or_default().n_gold += 1;
        let c = counts.entry(p.clone()).or_default();
        c.n_pred += 1;
        if g == p {
            c.tp += 1;
        }
    }
    Ok(counts)
}

/// Combines per-label counts into one score (the labels are given in the order scikit-learn
/// would use, which only matters for the last bits of macro/weighted means).
pub fn average_counts(counts: &[LabelCounts], average: Average) -> Prf {
    match average {
        Average::Micro => {
            let (tp, n_pred, n_gold) = counts.iter().fold((0, 0, 0), |acc, c| {
                (acc.0 + c.tp, acc.1 + c.n_pred, acc.2 + c.n_gold)
            });
            Prf::from_counts(tp, n_pred, n_gold)
        }
        Average::Macro | Average::Weighted => {
            let prfs: Vec<Prf> = counts.iter().map(LabelCounts::prf).collect();
            let p: Vec<f64> = prfs.iter().map(|x| x.precision).collect();
            let r: Vec<f64> = prfs.iter().map(|x| x.recall).collect();
            let f: Vec<f64> = prfs.iter().map(|x| x.f1).collect();
            let mean = |v: &[f64]| -> f64 {
                if average == Average::Macro {
                    numpy_mean(v).unwrap_or(0.0)
                } else {
                    let w: Vec<f64> = counts.iter().map(|c| c.n_gold as f64).collect();
                    numpy_weighted_mean(v, &w).unwrap_or(0.0)
                }
            };
            Prf {
                precision: mean(&p),
                recall: mean(&r),
                f1: mean(&f),
            }
        }
    }
}

/// Precision, recall and F1 over all labels present in `gold` or `pred`.
///
/// For single-label multi-class data, the micro average equals the accuracy.
pub fn precision_recall_f1<L>(gold: &[L], pred: &[L], average: Average) -> Result<Prf>
where
    L: Eq + Hash + Ord + Clone,
{
    check_inputs(gold, pred)?;
    let counts: Vec<LabelCounts> = label_counts(gold, pred)?.into_values().collect();
    Ok(average_counts(&counts, average))
}

/// Precision, recall and F1 restricted to `labels` (scikit-learn's `labels=` argument).
///
/// Labels absent from both sequences still count (with zero scores) in the macro average;
/// positions whose labels are not listed only matter through the listed labels' counts. This
/// is the usual way to leave out a negative class such as `"O"` or `"no_relation"`.
pub fn precision_recall_f1_for_labels<L>(
    gold: &[L],
    pred: &[L],
    labels: &[L],
    average: Average,
) -> Result<Prf>
where
    L: Eq + Hash + Ord + Clone,
{
    check_inputs(gold, pred)?;
    if labels.is_empty() {
        return Err(MetricsError::EmptyInput("no labels selected"));
    }
    let all = label_counts(gold, pred)?;
    let counts: Vec<LabelCounts> = labels
        .iter()
        .map(|l| all.get(l).copied().unwrap_or_default())
        .collect();
    Ok(average_counts(&counts, average))
}

/// Matthews correlation coefficient of single-label (binary or multi-class) predictions, as
/// `sklearn.metrics.matthews_corrcoef`.
///
/// With the confusion matrix `C` over the labels present in `gold` or `pred`, `t_k` and `p_k`
/// the gold and predicted counts of label `k`, `c = trace(C)` and `s` the number of items:
/// `MCC = (c·s − Σ t_k p_k) / √((s² − Σ p_k²)(s² − Σ t_k²))`, in `[-1, 1]`. When the
/// denominator is 0 (all gold or all predicted labels are one class) the score is 0, as
/// scikit-learn returns. The counts are exact in `f64`, so the result agrees bit for bit.
///
/// ```
/// use burnlp_core::metrics::classification::matthews_corrcoef;
/// let mcc = matthews_corrcoef(&[1, 1, 1, 0], &[1, 0, 1, 1]).unwrap();
/// assert!((mcc - -1.0 / 3.0).abs() < 1e-15);
/// assert_eq!(matthews_corrcoef(&["a", "a"], &["a", "b"]).unwrap(), 0.0);
/// ```
pub fn matthews_corrcoef<L>(gold: &[L], pred: &[L]) -> Result<f64>
where
    L: Eq + Hash + Ord + Clone,
{
    check_inputs(gold, pred)?;
    let counts = label_counts(gold, pred)?;
    let n_correct = counts.values().map(|c| c.tp as f64).sum::<f64>();
    let n_samples = gold.len() as f64;
    let (mut t_dot_p, mut p_dot_p, mut t_dot_t) = (0.0, 0.0, 0.0);
    for c in counts.values() {
        let (t, p) = (c.n_gold as f64, c.n_pred as f64);
        t_dot_p += t * p;
        p_dot_p += p * p;
        t_dot_t += t * t;
    }
    let cov_ytyp = n_correct * n_samples - t_dot_p;
    let cov_ypyp = n_samples * n_samples - p_dot_p;
    let cov_ytyt = n_samples * n_samples - t_dot_t;
    let denominator = cov_ypyp * cov_ytyt;
    Ok(if denominator == 0.0 {
        0.0
    } else {
        cov_ytyp / denominator.sqrt()
    })
}

/// Area under the ROC curve of `scores` separating the `positive` items (expected to score
/// higher) from the rest: the probability that a random positive outscores a random negative,
/// ties counting one half (the Mann–Whitney U statistic with mid-ranks, as scikit-learn's
/// `roc_auc_score` for binary labels).
///
/// Errors on different lengths, a NaN score, or an input without both classes.
pub fn roc_auc(scores: &[f64], positive: &[bool]) -> Result<f64> {
    check_same_len("scores vs labels", scores.len(), positive.len())?;
    if let Some(index) = scores.iter().position(|s| s.is_nan()) {
        return Err(MetricsError::InvalidValue {
            index,
            value: f64::NAN,
            reason: "a score is NaN",
        });
    }
    let n_pos = positive.iter().filter(|p| **p).count();
    let n_neg = positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return Err(MetricsError::InvalidParameter {
            name: "labels",
            reason: format!("ROC-AUC needs both classes ({n_pos} positive, {n_neg} negative)"),
        });
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let first = scores[order[start]];
        let end = start
            + order[start..]
                .iter()
                .take_while(|&&i| scores[i] == first)
                .count();
        // Mid-rank (1-based) of the tie group.
        let mid = (start + 1 + end) as f64 / 2.0;
        rank_sum += mid * order[start..end].iter().filter(|&&i| positive[i]).count() as f64;
        start = end;
    }
    let u = rank_sum - (n_pos * (n_pos + 1)) as f64 / 2.0;
    Ok(u / (n_pos as f64 * n_neg as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_counts_matches() {
        assert_eq!(accuracy(&[1, 2, 3, 4], &[1, 2, 0, 0]).unwrap(), 0.5);
        assert!(matches!(
            accuracy(&[1, 2], &[1]),
            Err(MetricsError::LengthMismatch {
                expected: 2,
                found: 1,
                ..
            })
        ));
        assert_eq!(
            accuracy::<u8>(&[], &[]),
            Err(MetricsError::EmptyInput("no labels"))
        );
    }

    #[test]
    fn from_counts_zero_division() {
        let p = Prf::from_counts(0, 0, 3);
        assert_eq!((p.precision, p.recall, p.f1), (0.0, 0.0, 0.0));
        let p = Prf::from_counts(2, 4, 2);
        assert_eq!((p.precision, p.recall), (0.5, 1.0));
        assert!((p.f1 - 2.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn matthews_extremes_and_one_class() {
        assert_eq!(
            matthews_corrcoef(&[0, 1, 1, 0], &[0, 1, 1, 0]).unwrap(),
            1.0
        );
        assert_eq!(
            matthews_corrcoef(&[0, 1, 1, 0], &[1, 0, 0, 1]).unwrap(),
            -1.0
        );
        // One class in gold and prediction, or a constant prediction: the denominator is 0.
        assert_eq!(matthews_corrcoef(&[2, 2, 2], &[2, 2, 2]).unwrap(), 0.0);
        assert_eq!(matthews_corrcoef(&[0, 1, 2], &[1, 1, 1]).unwrap(), 0.0);
        assert_eq!(
            matthews_corrcoef::<u8>(&[], &[]),
            Err(MetricsError::EmptyInput("no labels"))
        );
        assert!(matches!(
            matthews_corrcoef(&[1, 2], &[1]),
            Err(MetricsError::LengthMismatch { .. })
        ));
    }

    #[test]
    fn sklearn_example() {
        // sklearn docs: y_true = [0, 1, 2, 0, 1, 2], y_pred = [0, 2, 1, 0, 0, 1]
        let g = [0, 1, 2, 0, 1, 2];
        let p = [0, 2, 1, 0, 0, 1];
        let macro_ = precision_recall_f1(&g, &p, Average::Macro).unwrap();
        assert!((macro_.precision - 0.2222222222222222).abs() < 1e-15);
        assert!((macro_.recall - 0.3333333333333333).abs() < 1e-15);
        assert!((macro_.f1 - 0.26666666666666666).abs() < 1e-15);
        let micro = precision_recall_f1(&g, &p, Average::Micro).unwrap();
        assert!((micro.f1 - 0.3333333333333333).abs() < 1e-15);
        let w = precision_recall_f1(&g, &p, Average::Weighted).unwrap();
        assert!((w.f1 - 0.26666666666666666).abs() < 1e-15);
    }

    #[test]
    fn label_subset() {
        let g = ["O", "A", "B", "O"];
        let p = ["A", "A", "O", "O"];
        let micro = precision_recall_f1_for_labels(&g, &p, &["A", "B"], Average::Micro).unwrap();
        assert_eq!(micro.precision, 0.5);
        assert_eq!(micro.recall, 0.5);
        // "C" never occurs but still counts in the macro mean.
        let m = precision_recall_f1_for_labels(&g, &p, &["A", "C"], Average::Macro).unwrap();
        assert_eq!(m.recall, 0.5);
    }
}
