//! Exact re-implementations of standard NLP metrics.
//!
//! Every metric here is plain Rust over slices and strings (no tensors) and reproduces a
//! reference implementation bit for bit where that is feasible:
//!
//! * [`classification`]: accuracy, precision/recall/F1 (micro, macro, weighted), ROC-AUC and the
//!   Matthews correlation coefficient with scikit-learn semantics.
//! * [`correlation`]: Pearson and Spearman (average ranks for ties) with SciPy semantics.
//! * [`retrieval`]: Tatoeba parallel-sentence retrieval accuracy in both directions, by cosine
//!   or by LASER's ratio margin over `k` nearest neighbours.
//! * [`seqeval`]: entity-level span F1 with `seqeval`'s default (lenient) and strict modes.
//! * [`bleu`]: corpus and sentence BLEU identical to sacreBLEU 2.x (`13a`, `intl`, `zh`, `none`
//!   tokenizers; all smoothing methods; any maximum n-gram order, e.g. BLEU-2).
//! * [`cider`]: CIDEr-D identical to `pycocoevalcap`'s `Cider` scorer.
//! * [`chrf`]: chrF and chrF++ identical to sacreBLEU's `CHRF`.
//! * [`rouge`]: ROUGE-L, ROUGE-Lsum and ROUGE-N identical to Google's `rouge-score` package
//!   (without stemming).
//! * [`calibration`]: expected calibration error, reliability-diagram bins and an SVG renderer.
//!
//! Bad input (mismatched lengths, empty input, invalid tags, out-of-range probabilities, NaN) is
//! reported through [`MetricsError`]; no function here panics on data.

pub mod bleu;
pub mod calibration;
pub mod chrf;
pub mod cider;
pub mod classification;
pub mod correlation;
pub mod error;
mod pycompat;
pub mod retrieval;
pub mod rouge;
pub mod seqeval;

pub use error::{MetricsError, Result};

/// Mean and sample standard deviation (divisor `n − 1`; 0 for a single value) of the scores of
/// several seeds; `None` for no values, so each report says what an empty cell shows.
pub fn mean_std(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return Some((mean, 0.0));
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Some((mean, var.sqrt()))
}

#[cfg(test)]
mod mean_std_tests {
    #[test]
    fn sample_standard_deviation_and_the_edge_cases() {
        let (mean, std) = super::mean_std(&[0.2, 0.4, 0.9]).unwrap();
        assert!((mean - 0.5).abs() < 1e-12);
        // Σ(v − 0.5)² = 0.09 + 0.01 + 0.16 = 0.26, / 2 → 0.13.
        assert!((std - 0.13f64.sqrt()).abs() < 1e-12);
        assert_eq!(super::mean_std(&[0.3]), Some((0.3, 0.0)));
        assert_eq!(super::mean_std(&[]), None);
    }
}
