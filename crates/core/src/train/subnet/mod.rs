//! Sub-network training: gradient-mask providers for Child-Tuning, Bi-Drop and S4-Tuning.
//!
//! All three methods update only a sub-network of a pre-trained model by multiplying the
//! gradient with a 0/1 mask before AdamW's moment updates (a **gradient mask**, see
//! [`super::optim`]; ESFT's **freeze mask**, which also keeps the moments and the weight decay
//! away from masked entries, is a different thing). They differ in where the mask comes from:
//!
//! | method | provider | mask | when |
//! |---|---|---|---|
//! | Child-Tuning_F (Xu et al., EMNLP 2021, arXiv 2109.05687) | [`Bernoulli`] | `M ~ Bernoulli(p)` per entry, gradient rescaled by `1/p` | resampled every optimizer step from `(seed, step, path)` |
//! | Child-Tuning_D | [`FixedMasks`] from [`fisher_information`] | top `p` of the diagonal Fisher information over the encoder layers | computed once before training |
//! | S4-Tuning (Xu et al., ACL 2022) | [`FixedMasks::per_group`] | Child-Tuning_D's mask computed on each language's data | a batch of language `l` uses `M_l` ([`super::TrainTask::group`]) |
//! | Bi-Drop (Tong et al., Findings of EMNLP 2023, arXiv 2305.14760) | [`DropoutSubnets`] | top `ρ` of `importance · stability` of `k` dropout sub-nets' gradients | every step, from the step's own batches |
//!
//! The trainer asks its [`MaskProvider`] once per optimizer step and batch group: it runs
//! [`MaskProvider::passes`] forward/backward passes over the step's batches (Bi-Drop's `k`,
//! each with fresh dropout masks), averages them, and multiplies each group's share of the
//! gradient by that group's mask. Clipping sees the unmasked gradient, as in the reference
//! Child-Tuning code (Hugging Face's trainer clips, then `ChildTuningAdamW.step` masks).
//! Decoupled weight decay still shrinks every entry of a decay group, masked or not.
//!
//! Every provider is a pure function of its settings, the step and the step's gradients, so a
//! resumed run draws exactly the masks an uninterrupted one would. Masks are bit-packed
//! ([`BitMask`], one bit per entry) and their overlap is [`BitMask::jaccard`] /
//! [`ParamMasks::jaccard`] (S4-Tuning's commonality between languages).

mod bernoulli;
mod bidrop;
mod bits;
mod fisher;

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{GradStore, TrainError};

pub use bernoulli::Bernoulli;
pub use bidrop::{DropoutSubnets, Stability, SubnetScore};
pub use bits::{BitMask, ParamMasks};
pub use fisher::{FisherOptions, FisherScores, fisher_information};

/// Where the trainer gets each optimizer step's gradient masks.
pub trait MaskProvider {
    /// Forward/backward passes over each step's batches; the update uses their mean gradient
    /// (Bi-Drop's `k` dropout sub-nets). Each pass draws fresh dropout masks.
    fn passes(&self) -> usize {
        1
    }

    /// The masks for optimizer step `step` (counted from 0) and the step's batches of `group`
    /// ([`super::TrainTask::group`]; `None` for ungrouped batches).
    ///
    /// `passes` holds one gradient per pass (the group's micro-batch gradients summed and
    /// divided by the step's number of micro-batches; frozen parameters removed; not yet
    /// clipped). An empty [`ParamMasks`] restricts nothing.
    fn masks(
        &self,
        step: usize,
        group: Option<&str>,
        passes: &[GradStore],
    ) -> Result<Cow<'_, ParamMasks>, TrainError>;
}

impl<P: MaskProvider + ?Sized> MaskProvider for Box<P> {
    fn passes(&self) -> usize {
        (**self).passes()
    }

    fn masks(
        &self,
        step: usize,
        group: Option<&str>,
        passes: &[GradStore],
    ) -> Result<Cow<'_, ParamMasks>, TrainError> {
        (**self).masks(step, group, passes)
    }
}

/// Masks fixed for the whole run: one set for every batch (Child-Tuning_D), or one per batch
/// group (S4-Tuning: one per language), with an optional default for other groups.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FixedMasks {
    default: Option<ParamMasks>,
    groups: BTreeMap<String, ParamMasks>,
}

impl FixedMasks {
    /// The same masks for every batch.
    pub fn new(masks: ParamMasks) -> Self {
        Self {
            default: Some(masks),
            groups: BTreeMap::new(),
        }
    }

    /// One set of masks per group; a batch whose group has none is an error.
    pub fn per_group(groups: BTreeMap<String, ParamMasks>) -> Self {
        Self {
            default: None,
            groups,
        }
    }

    /// Adds or replaces the masks of one group.
    pub fn with_group(mut self, group: impl Into<String>, masks: ParamMasks) -> Self {
        self.groups.insert(group.into(), masks);
        self
    }

    /// The masks a batch of `group` uses: its group's, else the default.
    pub fn get(&self, group: Option<&str>) -> Option<&ParamMasks> {
        group
            .and_then(|g| self.groups.get(g))
            .or(self.default.as_ref())
    }

    /// The groups that have their own masks.
    pub fn groups(&self) -> impl Iterator<Item = (&str, &ParamMasks)> {
        self.groups.iter().map(|(g, m)| (g.as_str(), m))
    }

    /// Jaccard overlap `|M_a ∩ M_b| / |M_a ∪ M_b|` of every pair of groups `a < b`
    /// (S4-Tuning's shared versus language-specific parameters).
    pub fn overlaps(&self) -> Vec<(String, String, f64)> {
        let groups: Vec<_> = self.groups.iter().collect();
        let mut out = Vec::new();
        for (i, (a, ma)) in groups.iter().enumerate() {
            for (b, mb) in &groups[i + 1..] {
                out.push((a.to_string(), b.to_string(), ma.jaccard(mb)));
            }
        }
        out
    }
}

impl MaskProvider for FixedMasks {
    fn masks(
        &self,
        _step: usize,
        group: Option<&str>,
        _passes: &[GradStore],
    ) -> Result<Cow<'_, ParamMasks>, TrainError> {
        self.get(group)
            .map(Cow::Borrowed)
            .ok_or_else(|| TrainError::MissingMask {
                group: group.map(str::to_string),
                available: self.groups.keys().cloned().collect::<Vec<_>>().join(", "),
            })
    }
}

/// Where the keep-fraction threshold is taken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Threshold {
    /// One threshold over the scores of every scored tensor (Child-Tuning_D).
    #[default]
    Global,
    /// A threshold per tensor, so every tensor keeps the same fraction.
    PerTensor,
}

/// `np.percentile(values, q)` with numpy's default linear method, computed as numpy does for
/// a float32 array and a Python-float `q`: the index in f64, the interpolation in f32 (so the
/// threshold, and the masks compared against it, match the reference bit for bit).
///
/// # Panics
/// When `values` is empty or `q` is outside `[0, 100]`.
pub fn percentile(values: &[f32], q: f64) -> f32 {
    assert!(!values.is_empty(), "percentile of no values");
    assert!(
        (0.0..=100.0).contains(&q),
        "percentile {q} outside [0, 100]"
    );
    let n = values.len();
    let quantile = q / 100.0;
    // numpy's `_compute_virtual_index` for the linear method, term for term.
    let (alpha, beta) = (1.0, 1.0);
    let virtual_index = n as f64 * quantile + (alpha + quantile * (1.0 - alpha - beta)) - 1.0;
    let mut sorted = values.to_vec();
    let order = |a: &f32, b: &f32| a.total_cmp(b);
    if virtual_index >= (n - 1) as f64 {
        return *sorted.iter().max_by(|a, b| order(a, b)).expect("not empty");
    }
    if virtual_index < 0.0 {
        return *sorted.iter().min_by(|a, b| order(a, b)).expect("not empty");
    }
    let previous = virtual_index.floor();
    let gamma = virtual_index - previous;
    let previous = previous as usize;
    let (_, &mut below, above) = sorted.select_nth_unstable_by(previous, order);
    let next = *above
        .iter()
        .min_by(|a, b| order(a, b))
        .expect("index < n - 1");
    let difference = next - below;
    if gamma >= 0.5 {
        next - difference * (1.0 - gamma) as f32
    } else {
        below + difference * gamma as f32
    }
}

/// Keeps the entries whose score is at least the `(1 - keep)·100`-th percentile of the scores
/// (of all tensors, or of each tensor): the top `keep` fraction, ties at the threshold all kept.
///
/// # Panics
/// When `keep` is outside `[0, 1]`.
pub fn top_fraction(
    scores: &BTreeMap<String, Vec<f32>>,
    keep: f64,
    threshold: Threshold,
) -> ParamMasks {
    assert!(
        (0.0..=1.0).contains(&keep),
        "keep fraction {keep} outside [0, 1]"
    );
    let q = (1.0 - keep) * 100.0;
    let mask = |values: &[f32], polar: f32| BitMask::from_fn(values.len(), |i| values[i] >= polar);
    let mut masks = ParamMasks::new();
    match threshold {
        Threshold::Global => {
            let all: Vec<f32> = scores.values().flatten().copied().collect();
            if all.is_empty() {
                return masks;
            }
            let polar = percentile(&all, q);
            for (path, values) in scores {
                masks.insert(path.clone(), mask(values, polar));
            }
        }
        Threshold::PerTensor => {
            for (path, values) in scores.iter().filter(|(_, v)| !v.is_empty()) {
                masks.insert(path.clone(), mask(values, percentile(values, q)));
            }
        }
    }
    masks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(values: &[f32]) -> BTreeMap<String, Vec<f32>> {
        BTreeMap::from([("layer.w".to_string(), values.to_vec())])
    }

    #[test]
    fn percentile_rule_of_the_spec() {
        // F = [1, 2, 3, 4], p_D = 0.5: polar = 2.5, the mask keeps {3, 4}.
        assert_eq!(percentile(&[4.0, 1.0, 3.0, 2.0], 50.0), 2.5);
        let masks = top_fraction(&scores(&[1.0, 2.0, 3.0, 4.0]), 0.5, Threshold::Global);
        let kept: Vec<bool> = masks.get("layer.w").unwrap().iter().collect();
        assert_eq!(kept, [false, false, true, true]);
    }

    #[test]
    fn ties_at_the_threshold_are_all_kept() {
        // polar = the median 2; `F ≥ polar` keeps all three 2s, more than half.
        let masks = top_fraction(&scores(&[1.0, 2.0, 2.0, 2.0, 3.0]), 0.5, Threshold::Global);
        let kept: Vec<bool> = masks.get("layer.w").unwrap().iter().collect();
        assert_eq!(kept, [false, true, true, true, true]);
    }

    #[test]
    fn extremes_and_per_tensor_thresholds() {
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 0.0), 1.0);
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 100.0), 3.0);
        let two = BTreeMap::from([
            ("a".to_string(), vec![1.0, 2.0]),
            ("b".to_string(), vec![10.0, 20.0]),
        ]);
        let global = top_fraction(&two, 0.5, Threshold::Global);
        assert_eq!(global.get("a").unwrap().count_ones(), 0);
        assert_eq!(global.get("b").unwrap().count_ones(), 2);
        let per_tensor = top_fraction(&two, 0.5, Threshold::PerTensor);
        assert_eq!(
            per_tensor.get("a").unwrap().iter().collect::<Vec<_>>(),
            [false, true]
        );
        assert_eq!(
            per_tensor.get("b").unwrap().iter().collect::<Vec<_>>(),
            [false, true]
        );
    }

    #[test]
    fn fixed_masks_by_group() {
        let mut fr = ParamMasks::new();
        fr.insert("w", [true, true, false, false].into_iter().collect());
        let mut de = ParamMasks::new();
        de.insert("w", [false, true, true, false].into_iter().collect());
        let masks = FixedMasks::per_group(BTreeMap::from([
            ("fr".to_string(), fr.clone()),
            ("de".to_string(), de),
        ]));
        assert_eq!(masks.masks(0, Some("fr"), &[]).unwrap().as_ref(), &fr);
        let overlaps = masks.overlaps();
        assert_eq!(overlaps.len(), 1);
        assert_eq!(
            (overlaps[0].0.as_str(), overlaps[0].1.as_str()),
            ("de", "fr")
        );
        assert!((overlaps[0].2 - 1.0 / 3.0).abs() < 1e-12);
        let missing = masks.masks(0, Some("sw"), &[]).unwrap_err();
        assert!(
            matches!(missing, TrainError::MissingMask { .. }),
            "{missing}"
        );
        assert!(missing.to_string().contains("de, fr"), "{missing}");
        assert_eq!(
            FixedMasks::new(fr.clone())
                .masks(3, Some("sw"), &[])
                .unwrap()
                .as_ref(),
            &fr
        );
    }
}
