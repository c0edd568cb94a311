//! Choosing the next token from logits: greedy, or sampling with temperature, top-k and top-p.
//!
//! The filters follow Hugging Face's logits warpers, applied in the same order: temperature,
//! then top-k (ties with the k-th value are kept), then top-p (the smallest set of most likely
//! tokens whose probability reaches `top_p`, at least one token). Sampling draws from a
//! [`StdRng`] seeded with [`SeedableRng::seed_from_u64`], so a seed fixes the output.

use burn::config::Config;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// How the next token is chosen.
#[derive(Config, Debug, PartialEq)]
pub struct SamplingConfig {
    /// Sample from the filtered distribution; `false` takes the most likely token (greedy) and
    /// ignores the other fields.
    #[config(default = false)]
    pub do_sample: bool,
    /// Logits are divided by this before filtering; must be positive.
    #[config(default = 1.0)]
    pub temperature: f64,
    /// Keep only the `top_k` most likely tokens; 0 keeps all.
    #[config(default = 0)]
    pub top_k: usize,
    /// Keep the smallest set of most likely tokens whose probability reaches `top_p`; in
    /// `(0, 1]`, 1 keeps all.
    #[config(default = 1.0)]
    pub top_p: f64,
}

/// Sampling settings outside their range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SamplingError {
    /// `temperature` is not a positive number.
    #[error("temperature must be positive, got {0}")]
    Temperature(f64),
    /// `top_p` is outside `(0, 1]`.
    #[error("top_p must be in (0, 1], got {0}")]
    TopP(f64),
}

impl SamplingConfig {
    /// Checks the ranges of `temperature` and `top_p` (only used when sampling).
    pub fn validate(&self) -> Result<(), SamplingError> {
        if self.do_sample {
            if !(self.temperature > 0.0 && self.temperature.is_finite()) {
                return Err(SamplingError::Temperature(self.temperature));
            }
            if !(self.top_p > 0.0 && self.top_p <= 1.0) {
                return Err(SamplingError::TopP(self.top_p));
            }
        }
        Ok(())
    }

    /// The distribution sampling draws from: softmax of the temperature-scaled logits restricted
    /// to the top-k and top-p tokens, renormalised (zero elsewhere).
    pub fn distribution(&self, logits: &[f32]) -> Vec<f64> {
        let scaled: Vec<f64> = logits
            .iter()
            .map(|&l| l as f64 / self.temperature)
            .collect();
        let mut order: Vec<usize> = (0..scaled.len()).collect();
        order.sort_by(|&a, &b| scaled[b].total_cmp(&scaled[a]));
        let mut keep = order.len();
        if self.top_k > 0 && self.top_k < keep {
            let threshold = scaled[order[self.top_k - 1]];
            keep = order
                .iter()
                .take_while(|&&i| scaled[i] >= threshold)
                .count();
        }
        let max = scaled[order[0]];
        let weights: Vec<f64> = order[..keep]
            .iter()
            .map(|&i| (scaled[i] - max).exp())
            .collect();
        let total: f64 = weights.iter().sum();
        if self.top_p < 1.0 {
            let mut cumulative = 0.0;
            for (rank, weight) in weights.iter().enumerate() {
                cumulative += weight / total;
                if cumulative >= self.top_p {
                    keep = rank + 1;
                    break;
                }
            }
        }
        let kept_total: f64 = weights[..keep].iter().sum();
        let mut probs = vec![0.0; scaled.len()];
        for (&i, weight) in order[..keep].iter().zip(&weights) {
            probs[i] = weight / kept_total;
        }
        probs
    }
}

/// Index of the largest logit (the first one on ties), as `argmax` does.
///
/// # Panics
/// When `logits` is empty.
pub fn argmax(logits: &[f32]) -> u32 {
    assert!(!logits.is_empty(), "argmax of an empty logit vector");
    let mut best = 0;
    for (i, &value) in logits.iter().enumerate() {
        if value > logits[best] {
            best = i;
        }
    }
    best as u32
}

/// `log_softmax(logits)[token]`, computed in `f64`.
pub fn log_prob(logits: &[f32], token: u32) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let log_sum = logits
        .iter()
        .map(|&l| (l as f64 - max).exp())
        .sum::<f64>()
        .ln();
    (logits[token as usize] as f64 - max - log_sum) as f32
}

/// Picks tokens from logits with a fixed configuration and a seeded random stream.
#[derive(Debug, Clone)]
pub struct Sampler {
    config: SamplingConfig,
    rng: StdRng,
}

impl Sampler {
    /// A sampler whose random stream is `StdRng::seed_from_u64(seed)`.
    pub fn new(config: SamplingConfig, seed: u64) -> Result<Self, SamplingError> {
        config.validate()?;
        Ok(Self {
            config,
            rng: StdRng::seed_from_u64(seed),
        })
    }

    /// The next token: [`argmax`] when not sampling, else a draw from
    /// [`SamplingConfig::distribution`].
    pub fn sample(&mut self, logits: &[f32]) -> u32 {
        if !self.config.do_sample {
            return argmax(logits);
        }
        let probs = self.config.distribution(logits);
        let draw: f64 = self.rng.random();
        let mut cumulative = 0.0;
        let mut last_kept = 0;
        for (i, &p) in probs.iter().enumerate() {
            if p > 0.0 {
                cumulative += p;
                last_kept = i;
                if draw < cumulative {
                    return i as u32;
                }
            }
        }
        // Rounding left the cumulative sum just below the draw.
        last_kept as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Logits of the distribution [0.15, 0.5, 0.05, 0.3].
    fn logits() -> Vec<f32> {
        [0.15f32, 0.5, 0.05, 0.3].iter().map(|p| p.ln()).collect()
    }

    fn sampling() -> SamplingConfig {
        SamplingConfig::new().with_do_sample(true)
    }

    fn assert_close(got: &[f64], want: &[f64]) {
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{got:?} != {want:?}");
        }
    }

    #[test]
    fn top_p_keeps_the_minimal_nucleus() {
        // Sorted: 0.5 (token 1), 0.3 (token 3), 0.15 (token 0), 0.05 (token 2).
        let probs = sampling().with_top_p(0.7).distribution(&logits());
        assert_close(&probs, &[0.0, 0.625, 0.0, 0.375]);
        let probs = sampling().with_top_p(0.85).distribution(&logits());
        assert_close(&probs, &[0.15 / 0.95, 0.5 / 0.95, 0.0, 0.3 / 0.95]);
        let probs = sampling().with_top_p(0.4).distribution(&logits());
        assert_close(&probs, &[0.0, 1.0, 0.0, 0.0]);
        let probs = sampling().distribution(&logits());
        assert_close(&probs, &[0.15, 0.5, 0.05, 0.3]);
    }

    #[test]
    fn temperature_and_top_k() {
        let probs = sampling().with_top_k(2).distribution(&logits());
        assert_close(&probs, &[0.0, 0.625, 0.0, 0.375]);
        // Temperature 0.5 squares the probabilities before renormalising.
        let probs = sampling().with_temperature(0.5).distribution(&logits());
        let squares = [0.0225, 0.25, 0.0025, 0.09];
        let total: f64 = squares.iter().sum();
        assert_close(&probs, &squares.map(|s| s / total));
        // Ties with the k-th value are kept, as Hugging Face's top-k does.
        let tied = sampling().with_top_k(1).distribution(&[1.0, 3.0, 3.0]);
        assert_close(&tied, &[0.0, 0.5, 0.5]);
    }

    #[test]
    fn draws_follow_the_distribution_and_the_seed() {
        let config = sampling().with_top_p(0.85);
        let mut sampler = Sampler::new(config.clone(), 7).unwrap();
        let mut counts = [0usize; 4];
        let draws: Vec<u32> = (0..20_000).map(|_| sampler.sample(&logits())).collect();
        for &token in &draws {
            counts[token as usize] += 1;
        }
        assert_eq!(counts[2], 0, "token outside the nucleus drawn");
        for (count, p) in counts
            .iter()
            .zip([0.15 / 0.95, 0.5 / 0.95, 0.0, 0.3 / 0.95])
        {
            let freq = *count as f64 / draws.len() as f64;
            assert!((freq - p).abs() < 0.015, "frequency {freq} vs {p}");
        }
        let mut again = Sampler::new(config.clone(), 7).unwrap();
        let replay: Vec<u32> = (0..draws.len()).map(|_| again.sample(&logits())).collect();
        assert_eq!(draws, replay);
        let mut other = Sampler::new(config, 8).unwrap();
        let different: Vec<u32> = (0..100).map(|_| other.sample(&logits())).collect();
        assert_ne!(&draws[..100], &different[..]);
    }

    #[test]
    fn greedy_and_log_probs() {
        let mut greedy = Sampler::new(SamplingConfig::new(), 0).unwrap();
        assert_eq!(greedy.sample(&logits()), 1);
        assert_eq!(argmax(&[2.0, 5.0, 5.0]), 1, "first maximum wins");
        assert!((log_prob(&logits(), 3) - 0.3f32.ln()).abs() < 1e-6);
    }

    #[test]
    fn bad_settings_are_errors() {
        assert_eq!(
            sampling().with_temperature(0.0).validate(),
            Err(SamplingError::Temperature(0.0))
        );
        assert_eq!(
            Sampler::new(sampling().with_top_p(1.5), 0).unwrap_err(),
            SamplingError::TopP(1.5)
        );
        assert!(
            SamplingConfig::new()
                .with_temperature(0.0)
                .validate()
                .is_ok(),
            "greedy ignores temperature"
        );
    }
}
