//! GAIN's best-threshold sweep over scored candidates (`test()` of GAIN's `code/test.py`), with
//! NumPy's `float32` rounding.

use super::ThresholdSweep;

/// One scored prediction and how it was judged.
pub(super) struct Candidate {
    pub(super) score: f64,
    pub(super) correct: bool,
    pub(super) in_train: bool,
}

/// F1 curve as GAIN computes it with `float32` arrays.
fn f1_curve(precision: &[f32], recall: &[f32]) -> Vec<f32> {
    recall
        .iter()
        .zip(precision)
        .map(|(&r, &p)| 2.0 * r * p / (r + p + 1e-20))
        .collect()
}

/// NumPy's `argmax` (first maximum) and the maximum.
fn argmax(values: &[f32]) -> (usize, f32) {
    let mut best = (0, values[0]);
    for (i, &v) in values.iter().enumerate().skip(1) {
        if v > best.1 {
            best = (i, v);
        }
    }
    best
}

/// Trapezoidal area under (x, y) for non-decreasing x; 0 with fewer than two points.
fn trapezoid(x: &[f32], y: &[f32]) -> f64 {
    x.windows(2)
        .zip(y.windows(2))
        .map(|(x, y)| {
            (f64::from(x[1]) - f64::from(x[0])) * (f64::from(y[1]) + f64::from(y[0])) / 2.0
        })
        .sum()
}

/// GAIN's sweep over scored candidates against `gold` facts (see the module documentation
/// of [`crate::eval`]).
pub(super) fn threshold_sweep(
    mut candidates: Vec<Candidate>,
    gold: usize,
    with_ign: bool,
) -> ThresholdSweep {
    // Python's `sort(key=score, reverse=True)` is stable: ties keep the submission order.
    candidates.sort_by(|a, b| {
        b.score
            .partial_cmp(&a.score)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let f32_ratio = |num: usize, den: usize| (num as f64 / den as f64) as f32;

    let (mut precision, mut recall) = (Vec::new(), Vec::new());
    let mut correct = 0;
    for (i, c) in candidates.iter().enumerate() {
        correct += usize::from(c.correct);
        precision.push(f32_ratio(correct, i + 1));
        recall.push(f32_ratio(correct, gold));
    }
    let f1 = f1_curve(&precision, &recall);
    let (best, best_f1) = argmax(&f1);
    let theta = candidates[best].score;

    let ign = with_ign.then(|| {
        let mut ign_precision = Vec::new();
        let (mut correct, mut in_train) = (0, 0);
        for (i, c) in candidates.iter().enumerate() {
            correct += usize::from(c.correct);
            in_train += usize::from(c.correct && c.in_train);
            ign_precision.push(if in_train == correct {
                0.0
            } else {
                f32_ratio(correct - in_train, i + 1 - in_train)
            });
        }
        let ign_f1 = f1_curve(&ign_precision, &recall);
        let at = candidates
            .iter()
            .rposition(|c| c.score > theta)
            .unwrap_or(0);
        (
            f64::from(argmax(&ign_f1).1),
            f64::from(ign_f1[at]),
            trapezoid(&recall, &ign_precision),
        )
    });

    ThresholdSweep {
        theta,
        cutoff: best + 1,
        f1: f64::from(best_f1),
        precision: f64::from(precision[best]),
        recall: f64::from(recall[best]),
        auc: trapezoid(&recall, &precision),
        ign_f1: ign.map(|v| v.0),
        ign_f1_at_theta: ign.map(|v| v.1),
        ign_auc: ign.map(|v| v.2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[0.1, 0.4, 0.2, 0.4]), (1, 0.4));
    }

    #[test]
    fn trapezoid_of_a_line() {
        assert_eq!(trapezoid(&[0.0, 0.5, 1.0], &[1.0, 1.0, 0.0]), 0.75);
        assert_eq!(trapezoid(&[0.5], &[1.0]), 0.0);
    }
}
