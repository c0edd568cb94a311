//! Inference ECE exactly as InfECE computes it (Wang, Tu, Shi and Liu, "On the Inference
//! Calibration of Neural Machine Translation", ACL 2020, <https://arxiv.org/abs/2005.00963>;
//! code shuo-git/InfECE), the calibration measure of the MLS paper's Table 6.
//!
//! InfECE's `run.sh` labels every token of the beam-search output against the reference and
//! bins the tokens by their model probability:
//!
//! 1. tercom (`-s`, case sensitive) aligns the hypothesis with the reference, with block shifts
//!    ([`crate::ter`]);
//! 2. `parse_xml.py`: every token of the shifted hypothesis gets its edit label (`C` match,
//!    `S`, `I`), except that a token right after a reference-only edit (`D`) is labelled `D`;
//!    only `C` counts as correct;
//! 3. `shift_back.py` undoes the shifts, last first, moving tokens and labels; a shift whose
//!    destination lies inside the moved block is skipped;
//! 4. `filter_diff_tok.py` keeps position `j` only where the shifted-back token equals the
//!    hypothesis token (or contains `?`), pairing that label with the probability of
//!    hypothesis token `j`; other tokens are left out of the ECE;
//! 5. `calc_ece.py` (20 bins, its default, which `run.sh` uses): bin `i` holds the confidences
//!    in `[i·w, (i+1)·w)` with `w = 1.0 / bins` (the last bin closed), and
//!    `ECE = Σ_bins |Σ_{t ∈ bin} (correct_t − p_t)| / N`.
//!
//! Steps 2–4 are reproduced on token sequences (no XML or text files in between); the golden
//! test compares with `datasets/scripts/mls/infece_golden.py`, whose tercom port reproduces
//! real tercom 0.7.25 alignments.

use std::hash::Hash;

use burnlp_core::metrics::calibration::{Calibration, CalibrationBin};

use crate::error::{NmtError, Result};
use crate::ter::{EditOp, ter};

/// Number of bins of `calc_ece.py` (its default, used by `run.sh`).
pub const INFECE_BINS: usize = 20;

/// InfECE's label for every hypothesis token: `Some(correct)`, or `None` where
/// `filter_diff_tok.py` leaves the token out (its shift could not be undone).
pub fn token_labels<S: AsRef<str> + Eq + Hash>(
    hypothesis: &[S],
    reference: &[S],
) -> Vec<Option<bool>> {
    let alignment = ter(hypothesis, reference);
    // parse_xml.py: labels of the shifted hypothesis, in its order.
    let mut labels = Vec::with_capacity(hypothesis.len());
    let mut after_gap = false;
    for &op in &alignment.alignment {
        if op == EditOp::Deletion {
            after_gap = true;
            continue;
        }
        labels.push(op == EditOp::Match && !after_gap);
        after_gap = false;
    }
    // shift_back.py, on the original positions of the shifted tokens.
    let mut order = alignment.order;
    for shift in alignment.shifts.iter().rev() {
        let (start, end) = (shift.start as i64, shift.end as i64);
        let length = end - start + 1;
        let dest = if shift.newloc < start {
            shift.newloc
        } else if shift.newloc > end {
            shift.newloc - length
        } else {
            continue;
        };
        let len = order.len() as i64;
        let from = (dest + 1).clamp(0, len) as usize;
        let to = (dest + length + 1).clamp(0, len) as usize;
        let block_order: Vec<usize> = order.drain(from..to).collect();
        let block_labels: Vec<bool> = labels.drain(from..to).collect();
        let at = (start as usize).min(order.len());
        order.splice(at..at, block_order);
        labels.splice(at..at, block_labels);
    }
    // filter_diff_tok.py
    order
        .iter()
        .zip(labels)
        .zip(hypothesis)
        .map(|((&back, label), original)| {
            let back = hypothesis[back].as_ref();
            (back == original.as_ref() || back.contains('?')).then_some(label)
        })
        .collect()
}

/// The confidence bins and ECE of `calc_ece.py` / `calibration_utils.py` with `bins` bins
/// (bounds `i · (1.0 / bins)`, the last bin closed; `ECE = Σ_b |Σ_{t∈b} (correct − p)| / N`).
///
/// Errors if the lengths differ, the input is empty, `bins` is 0 or a confidence falls in no
/// bin (InfECE's assertion).
pub fn calibration(confidences: &[f64], correct: &[bool], bins: usize) -> Result<Calibration> {
    let invalid = |message: String| NmtError::InvalidArgument {
        name: "confidences",
        message,
    };
    if confidences.len() != correct.len() {
        return Err(invalid(format!(
            "{} confidences but {} labels",
            confidences.len(),
            correct.len()
        )));
    }
    if confidences.is_empty() || bins == 0 {
        return Err(invalid("no predictions or no bins".into()));
    }
    let width = 1.0 / bins as f64;
    let bounds = |i: usize| (i as f64 * width, (i + 1) as f64 * width);
    let mut count = vec![0usize; bins];
    let mut error = vec![0.0f64; bins];
    let mut conf_sum = vec![0.0f64; bins];
    let mut hits = vec![0usize; bins];
    for (index, (&p, &ok)) in confidences.iter().zip(correct).enumerate() {
        let bin = (0..bins)
            .find(|&i| {
                let (lower, upper) = bounds(i);
                p >= lower && (p < upper || (i == bins - 1 && p <= upper))
            })
            .ok_or_else(|| invalid(format!("confidence {p} (prediction {index}) is in no bin")))?;
        count[bin] += 1;
        error[bin] += f64::from(u8::from(ok)) - p;
        conf_sum[bin] += p;
        hits[bin] += usize::from(ok);
    }
    let n = confidences.len();
    let ece = error.iter().map(|e| e.abs()).sum::<f64>() / n as f64;
    let bins: Vec<CalibrationBin> = (0..bins)
        .map(|i| {
            let (lower, upper) = bounds(i);
            let k = count[i].max(1) as f64;
            CalibrationBin {
                lower,
                upper,
                count: count[i],
                mean_confidence: if count[i] == 0 { 0.0 } else { conf_sum[i] / k },
                accuracy: if count[i] == 0 {
                    0.0
                } else {
                    hits[i] as f64 / k
                },
            }
        })
        .collect();
    let mce = bins
        .iter()
        .filter(|b| b.count > 0)
        .map(|b| (b.accuracy - b.mean_confidence).abs())
        .fold(0.0, f64::max);
    Ok(Calibration {
        bins,
        n,
        ece,
        mce,
        accuracy: hits.iter().sum::<usize>() as f64 / n as f64,
        mean_confidence: confidences.iter().sum::<f64>() / n as f64,
    })
}
