//! Learning-rate schedules as multipliers of the base learning rate.

use serde::{Deserialize, Serialize};

/// A learning-rate schedule; [`LrSchedule::factor`] gives the multiplier for an optimizer step.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LrSchedule {
    /// Always 1.
    Constant,
    /// Linear warm-up from 0 to 1 over `warmup` steps, then linear decay to 0 at `total`
    /// (Hugging Face's `get_linear_schedule_with_warmup`).
    Linear {
        /// Warm-up steps.
        warmup: usize,
        /// Total steps.
        total: usize,
    },
    /// Linear warm-up, then half-cosine decay to 0 at `total` (`get_cosine_schedule_with_warmup`).
    Cosine {
        /// Warm-up steps.
        warmup: usize,
        /// Total steps.
        total: usize,
    },
    /// Linear warm-up, then decay with the inverse square root of the step, equal to 1 at the
    /// end of warm-up (fairseq's `inverse_sqrt`, the Transformer schedule).
    InverseSqrt {
        /// Warm-up steps.
        warmup: usize,
    },
}

impl LrSchedule {
    /// The multiplier for optimizer step `step` (counted from 0).
    pub fn factor(&self, step: usize) -> f64 {
        let s = step as f64;
        let warm = |warmup: usize| {
            if warmup > 0 && step < warmup {
                Some(s / warmup as f64)
            } else {
                None
            }
        };
        match *self {
            LrSchedule::Constant => 1.0,
            LrSchedule::Linear { warmup, total } => warm(warmup).unwrap_or_else(|| {
                let span = total.saturating_sub(warmup).max(1) as f64;
                ((total as f64 - s) / span).max(0.0)
            }),
            LrSchedule::Cosine { warmup, total } => warm(warmup).unwrap_or_else(|| {
                let span = total.saturating_sub(warmup).max(1) as f64;
                let progress = ((s - warmup as f64) / span).min(1.0);
                0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
            }),
            LrSchedule::InverseSqrt { warmup } => {
                // fairseq: lr = base * min(step / warmup, sqrt(warmup / step)) with step from 1.
                let t = (step + 1) as f64;
                if warmup == 0 {
                    1.0 / t.sqrt()
                } else {
                    (t / warmup as f64).min((warmup as f64 / t).sqrt())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_matches_transformers() {
        let s = LrSchedule::Linear {
            warmup: 10,
            total: 110,
        };
        assert_eq!(s.factor(0), 0.0);
        assert_eq!(s.factor(5), 0.5);
        assert_eq!(s.factor(10), 1.0);
        assert_eq!(s.factor(60), 0.5);
        assert_eq!(s.factor(110), 0.0);
        assert_eq!(s.factor(500), 0.0);
    }

    #[test]
    fn cosine_halves_midway() {
        let s = LrSchedule::Cosine {
            warmup: 0,
            total: 100,
        };
        assert!((s.factor(50) - 0.5).abs() < 1e-12);
        assert!((s.factor(0) - 1.0).abs() < 1e-12);
        assert!(s.factor(100).abs() < 1e-12);
    }

    #[test]
    fn inverse_sqrt_peaks_at_warmup() {
        let s = LrSchedule::InverseSqrt { warmup: 4 };
        assert_eq!(s.factor(3), 1.0);
        assert_eq!(s.factor(1), 0.5);
        assert!((s.factor(15) - 0.5).abs() < 1e-12);
    }
}
