//! Child-Tuning_F: a fresh Bernoulli(p) gradient mask every optimizer step.

use std::borrow::Cow;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{BitMask, MaskProvider, ParamMasks};
use crate::train::optim::pattern_matches;
use crate::train::{GradStore, TrainError};

/// Child-Tuning_F's task-free mask: every entry kept with probability `p`, independently per
/// entry, tensor and optimizer step, and kept gradients rescaled by `1/p` so the expected
/// gradient is unchanged (`ChildTuningAdamW`, mode `ChildTuning-F`).
///
/// The mask of a tensor is a function of `(seed, step, path)` only (a SplitMix64 stream on the
/// host), so it does not depend on the backend, the other tensors, or whether the run was
/// resumed; with gradient accumulation one mask covers all micro-batches of the step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bernoulli {
    /// Probability of keeping an entry (`reserve_p`), in `(0, 1]`.
    pub p: f64,
    /// Seed of the draws.
    pub seed: u64,
    /// Masked parameters: paths matching any pattern ([`pattern_matches`]); empty masks every
    /// parameter (Child-Tuning_F, embeddings and classifier included).
    pub patterns: Vec<String>,
    /// Multiply kept gradients by `1/p` (the reference does).
    pub rescale: bool,
}

impl Bernoulli {
    /// Keep probability `p`, every parameter masked, gradients rescaled.
    ///
    /// # Panics
    /// When `p` is not in `(0, 1]`.
    pub fn new(p: f64, seed: u64) -> Self {
        assert!(p > 0.0 && p <= 1.0, "keep probability {p} outside (0, 1]");
        Self {
            p,
            seed,
            patterns: Vec::new(),
            rescale: true,
        }
    }

    /// Masks only parameters matching `patterns`.
    pub fn with_patterns(mut self, patterns: &[&str]) -> Self {
        self.patterns = patterns.iter().map(|p| p.to_string()).collect();
        self
    }

    /// Whether the parameter at `path` is masked.
    pub fn masks_path(&self, path: &str) -> bool {
        self.patterns.is_empty() || self.patterns.iter().any(|p| pattern_matches(p, path))
    }

    /// The mask of the `len`-entry parameter at `path` for optimizer step `step`.
    pub fn mask(&self, step: usize, path: &str, len: usize) -> BitMask {
        let base = mix(mix(self.seed ^ fnv1a(path.as_bytes())) ^ step as u64);
        let words = (0..len.div_ceil(64))
            .into_par_iter()
            .map(|w| {
                let mut state = mix(base ^ (w as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
                (0..64).fold(0u64, |word, bit| {
                    state = state.wrapping_add(GOLDEN);
                    // 53 uniform bits → [0, 1).
                    let u = (mix(state) >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
                    word | (u64::from(u < self.p) << bit)
                })
            })
            .collect();
        BitMask::from_words(len, words)
    }
}

impl MaskProvider for Bernoulli {
    fn masks(
        &self,
        step: usize,
        _group: Option<&str>,
        passes: &[GradStore],
    ) -> Result<Cow<'_, ParamMasks>, TrainError> {
        let scale = if self.rescale { 1.0 / self.p } else { 1.0 };
        let mut masks = ParamMasks::new().with_scale(scale);
        if let Some(grads) = passes.first() {
            for path in grads.paths().filter(|p| self.masks_path(p)) {
                let len = grads.get(path).expect("listed").dims()[0];
                masks.insert(path, self.mask(step, path, len));
            }
        }
        Ok(Cow::Owned(masks))
    }
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a: a stable hash of a parameter path.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_depend_on_seed_step_and_path_only() {
        let bernoulli = Bernoulli::new(0.3, 7);
        let a = bernoulli.mask(5, "layers.0.w", 1000);
        assert_eq!(a, Bernoulli::new(0.3, 7).mask(5, "layers.0.w", 1000));
        assert_ne!(a, bernoulli.mask(6, "layers.0.w", 1000));
        assert_ne!(a, bernoulli.mask(5, "layers.1.w", 1000));
        assert_ne!(a, Bernoulli::new(0.3, 8).mask(5, "layers.0.w", 1000));
        let kept = a.count_ones() as f64 / 1000.0;
        assert!((kept - 0.3).abs() < 0.05, "kept {kept}");
        assert_eq!(Bernoulli::new(1.0, 0).mask(0, "w", 70).count_ones(), 70);
    }
}
