//! Expected calibration error (ECE) and reliability diagrams.
//!
//! Predictions are binned by confidence into `n_bins` equal-width bins; bin `b` holds the
//! confidences in `[b/n, (b+1)/n)`, and the last bin also holds 1.0 (the convention of
//! `torchmetrics`' binary/multiclass calibration error). Then
//!
//! `ECE = Σ_b |B_b|/N · |acc(B_b) − conf(B_b)|`
//!
//! where `acc` is the fraction of correct predictions and `conf` the mean confidence in the
//! bin (Guo et al., 2017, "On Calibration of Modern Neural Networks").
//!
//! ```
//! use burnlp_core::metrics::calibration::expected_calibration_error;
//! let ece = expected_calibration_error(&[0.9, 0.8, 0.3], &[true, false, false], 10).unwrap();
//! assert!((ece - (0.1 + 0.8 + 0.3) / 3.0).abs() < 1e-12);
//! ```

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::error::{MetricsError, Result, check_same_len};

/// The default number of bins.
pub const DEFAULT_BINS: usize = 10;

/// One confidence bin of a reliability diagram.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Lower edge of the bin.
    pub lower: f64,
    /// Upper edge of the bin.
    pub upper: f64,
    /// Number of predictions in the bin.
    pub count: usize,
    /// Mean confidence of the predictions in the bin (0 if empty).
    pub mean_confidence: f64,
    /// Fraction of correct predictions in the bin (0 if empty).
    pub accuracy: f64,
}

/// Per-bin statistics and the resulting calibration errors.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Calibration {
    /// The bins, from low to high confidence.
    pub bins: Vec<CalibrationBin>,
    /// Total number of predictions.
    pub n: usize,
    /// Expected calibration error in `[0, 1]`.
    pub ece: f64,
    /// Maximum calibration error: the largest `|acc − conf|` over non-empty bins.
    pub mce: f64,
    /// Overall accuracy.
    pub accuracy: f64,
    /// Overall mean confidence.
    pub mean_confidence: f64,
}

/// Bins `confidences` (each in `[0, 1]`) with their correctness and computes ECE and MCE.
///
/// Errors if the lengths differ, the input is empty, `n_bins` is 0 or a confidence is not a
/// number in `[0, 1]`.
pub fn calibration(confidences: &[f64], correct: &[bool], n_bins: usize) -> Result<Calibration> {
    check_same_len(
        "correctness vs confidences",
        confidences.len(),
        correct.len(),
    )?;
    if confidences.is_empty() {
        return Err(MetricsError::EmptyInput("no predictions"));
    }
    if n_bins == 0 {
        return Err(MetricsError::InvalidParameter {
            name: "n_bins",
            reason: "must be at least 1".into(),
        });
    }
    if let Some((index, &value)) = confidences
        .iter()
        .enumerate()
        .find(|(_, c)| !(0.0..=1.0).contains(*c))
    {
        return Err(MetricsError::InvalidValue {
            index,
            value,
            reason: "confidence must be in [0, 1]",
        });
    }
    let edges: Vec<f64> = (0..=n_bins).map(|i| i as f64 / n_bins as f64).collect();
    let mut count = vec![0usize; n_bins];
    let mut conf_sum = vec![0.0f64; n_bins];
    let mut correct_count = vec![0usize; n_bins];
    for (&c, &ok) in confidences.iter().zip(correct) {
        // Number of inner edges <= c, i.e. the bin [edge_b, edge_{b+1}) holding c.
        let b = edges[1..n_bins].partition_point(|&e| e <= c);
        count[b] += 1;
        conf_sum[b] += c;
        correct_count[b] += usize::from(ok);
    }
    let n = confidences.len();
    let mut ece = 0.0;
    let mut mce = 0.0f64;
    let bins: Vec<CalibrationBin> = (0..n_bins)
        .map(|b| {
            let (mean_confidence, accuracy) = if count[b] == 0 {
                (0.0, 0.0)
            } else {
                let k = count[b] as f64;
                (conf_sum[b] / k, correct_count[b] as f64 / k)
            };
            if count[b] > 0 {
                let gap = (accuracy - mean_confidence).abs();
                ece += count[b] as f64 / n as f64 * gap;
                mce = mce.max(gap);
            }
            CalibrationBin {
                lower: edges[b],
                upper: edges[b + 1],
                count: count[b],
                mean_confidence,
                accuracy,
            }
        })
        .collect();
    Ok(Calibration {
        bins,
        n,
        ece,
        mce,
        accuracy: correct.iter().filter(|&&c| c).count() as f64 / n as f64,
        mean_confidence: confidences.iter().sum::<f64>() / n as f64,
    })
}

/// Expected calibration error with `n_bins` equal-width bins (see [`calibration`]).
pub fn expected_calibration_error(
    confidences: &[f64],
    correct: &[bool],
    n_bins: usize,
) -> Result<f64> {
    Ok(calibration(confidences, correct, n_bins)?.ece)
}

/// Confidence (top probability) and correctness of each row of class probabilities against
/// the gold class indices. Ties go to the lowest class index, as `argmax` does.
///
/// Errors if the lengths differ, a row is empty or a gold index is out of range.
pub fn confidences_from_probs<P: AsRef<[f64]>>(
    probs: &[P],
    gold: &[usize],
) -> Result<(Vec<f64>, Vec<bool>)> {
    check_same_len("gold labels vs probability rows", probs.len(), gold.len())?;
    let mut conf = Vec::with_capacity(probs.len());
    let mut correct = Vec::with_capacity(probs.len());
    for (i, (row, &g)) in probs.iter().zip(gold).enumerate() {
        let row = row.as_ref();
        if g >= row.len() {
            return Err(MetricsError::InvalidValue {
                index: i,
                value: g as f64,
                reason: "gold class index out of range of the probability row",
            });
        }
        let mut best = 0;
        for (k, &p) in row.iter().enumerate() {
            if p > row[best] {
                best = k;
            }
        }
        conf.push(row[best]);
        correct.push(best == g);
    }
    Ok((conf, correct))
}

/// Renders a reliability diagram as a self-contained SVG document.
///
/// Bars show each bin's accuracy, a red overlay the gap to its mean confidence, the dashed
/// diagonal perfect calibration; the title shows the ECE. `title` is XML-escaped.
pub fn reliability_diagram_svg(cal: &Calibration, title: &str) -> String {
    const W: f64 = 360.0;
    const H: f64 = 360.0;
    const LEFT: f64 = 50.0;
    const TOP: f64 = 40.0;
    const PLOT: f64 = 280.0;
    let x = |v: f64| LEFT + v * PLOT;
    let y = |v: f64| TOP + (1.0 - v) * PLOT;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="20" text-anchor="middle" font-size="13">{} (ECE = {:.4})</text>"#,
        W / 2.0,
        xml_escape(title),
        cal.ece
    );
    // Grid and tick labels.
    for i in 0..=5 {
        let v = i as f64 / 5.0;
        let _ = writeln!(
            s,
            r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#ddd"/>"##,
            x(0.0),
            y(v),
            x(1.0),
            y(v)
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{v:.1}</text>"#,
            x(0.0) - 5.0,
            y(v) + 4.0
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{v:.1}</text>"#,
            x(v),
            y(0.0) + 15.0
        );
    }
    for b in &cal.bins {
        if b.count == 0 {
            continue;
        }
        let bx = x(b.lower);
        let bw = (b.upper - b.lower) * PLOT;
        let _ = writeln!(
            s,
            r##"<rect x="{bx:.1}" y="{:.1}" width="{bw:.1}" height="{:.1}" fill="#4a7bd0" stroke="#223"><title>[{:.2}, {:.2}): n = {}, acc = {:.3}, conf = {:.3}</title></rect>"##,
            y(b.accuracy),
            b.accuracy * PLOT,
            b.lower,
            b.upper,
            b.count,
            b.accuracy,
            b.mean_confidence
        );
        let (lo, hi) = if b.accuracy < b.mean_confidence {
            (b.accuracy, b.mean_confidence)
        } else {
            (b.mean_confidence, b.accuracy)
        };
        let _ = writeln!(
            s,
            r##"<rect x="{bx:.1}" y="{:.1}" width="{bw:.1}" height="{:.1}" fill="#e04040" fill-opacity="0.35"/>"##,
            y(hi),
            (hi - lo) * PLOT
        );
    }
    let _ = writeln!(
        s,
        r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#444" stroke-dasharray="4 3"/>"##,
        x(0.0),
        y(0.0),
        x(1.0),
        y(1.0)
    );
    let _ = writeln!(
        s,
        r#"<rect x="{LEFT}" y="{TOP}" width="{PLOT}" height="{PLOT}" fill="none" stroke="black"/>"#
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">confidence</text>"#,
        x(0.5),
        H - 8.0
    );
    let _ = writeln!(
        s,
        r#"<text x="14" y="{:.1}" text-anchor="middle" transform="rotate(-90 14 {:.1})">accuracy</text>"#,
        y(0.5),
        y(0.5)
    );
    s.push_str("</svg>\n");
    s
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_ece() {
        // Bins (10): 0.05 -> 0, 0.15 -> 1, 0.95 and 1.0 -> 9, 0.9 -> 9 (edge goes up).
        let conf = [0.05, 0.15, 0.95, 1.0, 0.9];
        let ok = [false, true, true, true, false];
        let cal = calibration(&conf, &ok, 10).unwrap();
        assert_eq!(cal.bins[0].count, 1);
        assert_eq!(cal.bins[1].count, 1);
        assert_eq!(cal.bins[9].count, 3);
        let b9_conf = (0.95 + 1.0 + 0.9) / 3.0;
        let expected = (0.05 + 0.85 + 3.0 * (b9_conf - 2.0 / 3.0f64).abs()) / 5.0;
        assert!(
            (cal.ece - expected).abs() < 1e-12,
            "{} vs {expected}",
            cal.ece
        );
        assert!((cal.mce - 0.85).abs() < 1e-12);
        assert_eq!(cal.accuracy, 0.6);
    }

    #[test]
    fn perfectly_calibrated_single_bin() {
        let cal = calibration(&[0.5, 0.5], &[true, false], 1).unwrap();
        assert_eq!(cal.ece, 0.0);
    }

    #[test]
    fn bad_inputs() {
        assert!(matches!(
            calibration(&[0.5, 1.5], &[true, true], 10),
            Err(MetricsError::InvalidValue { index: 1, .. })
        ));
        assert!(calibration(&[f64::NAN], &[true], 10).is_err());
        assert!(calibration(&[0.5], &[true, false], 10).is_err());
        assert!(calibration(&[0.5], &[true], 0).is_err());
        assert!(calibration(&[], &[], 10).is_err());
    }

    #[test]
    fn from_probs() {
        let (c, ok) = confidences_from_probs(&[vec![0.2, 0.8], vec![0.5, 0.5]], &[1, 1]).unwrap();
        assert_eq!(c, vec![0.8, 0.5]);
        assert_eq!(ok, vec![true, false]);
        assert!(confidences_from_probs(&[vec![1.0]], &[3]).is_err());
    }

    #[test]
    fn svg_is_well_formed() {
        let cal = calibration(&[0.1, 0.7, 0.75, 0.95], &[false, true, false, true], 10).unwrap();
        let svg = reliability_diagram_svg(&cal, "dev <set>");
        assert!(svg.starts_with("<svg "));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("dev &lt;set&gt;"));
        // One accuracy bar and one gap overlay per non-empty bin.
        assert_eq!(svg.matches("fill=\"#4a7bd0\"").count(), 3);
        assert_eq!(svg.matches("<rect").count(), 1 + 3 * 2 + 1);
    }
}
