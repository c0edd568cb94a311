//! Bi-Drop's in-batch sub-net selection from the gradients of `k` dropout sub-nets.
//!
//! Tong et al., "Bi-Drop: Enhancing Fine-tuning Generalization via Synchronous sub-net
//! Estimation and Optimization", Findings of EMNLP 2023 (<https://arxiv.org/abs/2305.14760>).
//! No reference code was found; the selection rule is the reconstruction of the shared
//! subnet-tune spec (Part B.2), with its ablations as settings.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{MaskProvider, ParamMasks, Threshold, top_fraction};
use crate::train::optim::pattern_matches;
use crate::train::{GradStore, TrainError};

/// How an entry's score combines its importance and its stability across the sub-nets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SubnetScore {
    /// Importance only: `|ḡ|`.
    Magnitude,
    /// Stability only.
    Stability,
    /// Importance times stability.
    #[default]
    Product,
}

/// How agreement between the `k` sub-nets' gradients of an entry is measured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stability {
    /// `|ḡ| / (std_j g⁽ʲ⁾ + ε)` (population standard deviation over the passes).
    #[default]
    InverseStd,
    /// `|#positive − #negative| / k`.
    SignAgreement,
}

/// Bi-Drop's mask: each step's batches go through the model `passes` times with independent
/// dropout masks; per entry, with `ḡ` the mean of the passes' gradients, the score is
/// importance `|ḡ|` times stability; the top `keep` fraction of the scored entries is updated
/// with `ḡ ⊙ M` (no rescaling). The mask comes from the very batches it is applied to
/// (synchronous, unlike Child-Tuning_D's one-off Fisher mask).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DropoutSubnets {
    /// Forward/backward passes per step (`k`, at least 2).
    pub passes: usize,
    /// Fraction of the scored entries updated (`ρ`).
    pub keep: f64,
    /// Scored (masked) parameters: paths matching any pattern; the rest are trained fully.
    /// Default `*layers.*`, the encoder layers, as in Child-Tuning_D ([`super::FisherOptions`]).
    pub patterns: Vec<String>,
    /// Importance, stability or both.
    pub score: SubnetScore,
    /// The stability factor.
    pub stability: Stability,
    /// One threshold over all scored tensors or one per tensor.
    pub threshold: Threshold,
    /// `ε` of [`Stability::InverseStd`].
    pub eps: f64,
}

impl DropoutSubnets {
    /// `passes` sub-nets, keep fraction `keep`, the default score (`|ḡ|² / (std + 1e-8)`) with a
    /// global threshold over the encoder layers (`*layers.*`).
    ///
    /// # Panics
    /// When `passes < 2` or `keep` is outside `[0, 1]`.
    pub fn new(passes: usize, keep: f64) -> Self {
        assert!(
            passes >= 2,
            "Bi-Drop needs at least two sub-nets, got {passes}"
        );
        assert!(
            (0.0..=1.0).contains(&keep),
            "keep fraction {keep} outside [0, 1]"
        );
        Self {
            passes,
            keep,
            patterns: vec!["*layers.*".into()],
            score: SubnetScore::default(),
            stability: Stability::default(),
            threshold: Threshold::default(),
            eps: 1e-8,
        }
    }

    /// Scores only parameters matching `patterns`.
    pub fn with_patterns(mut self, patterns: &[&str]) -> Self {
        self.patterns = patterns.iter().map(|p| p.to_string()).collect();
        self
    }

    /// The selection score of every entry of every scored parameter, from the passes'
    /// gradients (a parameter missing from a pass counts as a zero gradient there).
    pub fn scores(&self, passes: &[GradStore]) -> BTreeMap<String, Vec<f32>> {
        let Some(first) = passes.first() else {
            return BTreeMap::new();
        };
        let k = passes.len() as f64;
        let mut out = BTreeMap::new();
        for path in first.paths() {
            if !self.patterns.iter().any(|p| pattern_matches(p, path)) {
                continue;
            }
            let grads: Vec<Vec<f32>> = passes
                .iter()
                .map(|pass| pass.get(path).map(host_values).unwrap_or_default())
                .collect();
            let n = grads[0].len();
            let value = |j: usize, i: usize| f64::from(grads[j].get(i).copied().unwrap_or(0.0));
            let scores = (0..n)
                .map(|i| {
                    let mean = (0..passes.len()).map(|j| value(j, i)).sum::<f64>() / k;
                    let importance = mean.abs();
                    let stability = match self.stability {
                        Stability::InverseStd => {
                            let var = (0..passes.len())
                                .map(|j| (value(j, i) - mean).powi(2))
                                .sum::<f64>()
                                / k;
                            importance / (var.sqrt() + self.eps)
                        }
                        Stability::SignAgreement => {
                            let sign = (0..passes.len())
                                .map(|j| value(j, i).signum() * f64::from(value(j, i) != 0.0))
                                .sum::<f64>();
                            sign.abs() / k
                        }
                    };
                    let score = match self.score {
                        SubnetScore::Magnitude => importance,
                        SubnetScore::Stability => stability,
                        SubnetScore::Product => importance * stability,
                    };
                    score as f32
                })
                .collect();
            out.insert(path.to_string(), scores);
        }
        out
    }
}

impl MaskProvider for DropoutSubnets {
    fn passes(&self) -> usize {
        self.passes
    }

    fn masks(
        &self,
        _step: usize,
        _group: Option<&str>,
        passes: &[GradStore],
    ) -> Result<Cow<'_, ParamMasks>, TrainError> {
        Ok(Cow::Owned(top_fraction(
            &self.scores(passes),
            self.keep,
            self.threshold,
        )))
    }
}

fn host_values(tensor: &burn::tensor::Tensor<1>) -> Vec<f32> {
    tensor
        .clone()
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("float gradient")
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Tensor, TensorData};

    use super::*;

    fn store(values: &[f32]) -> GradStore {
        let mut grads = GradStore::default();
        let device = crate::device::cpu();
        let tensor = Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), &device);
        grads.insert("layers.0.w".into(), tensor);
        grads.insert("head.w".into(), tensor_of(&[1.0], &device));
        grads
    }

    fn tensor_of(values: &[f32], device: &burn::tensor::Device) -> Tensor<1> {
        Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
    }

    #[test]
    fn keeps_large_agreeing_entries() {
        // Entry 0: large and consistent; 1: large but the sub-nets disagree in sign;
        // 2: consistent but tiny; 3: zero. (Identical gradients would have zero spread and
        // an unbounded stability; dropout sub-nets never give exactly that.)
        let passes = [
            store(&[1.0, 2.0, 0.01, 0.0]),
            store(&[1.2, -2.0, 0.012, 0.0]),
        ];
        let subnets = DropoutSubnets::new(2, 0.25);
        let scores = subnets.scores(&passes);
        assert_eq!(scores.len(), 1, "only `*layers.*` parameters are scored");
        let s = &scores["layers.0.w"];
        assert!(s[0] > s[2] && s[2] > s[1] && s[1] == 0.0, "{s:?}");
        let masks = subnets.masks(0, None, &passes).unwrap();
        let kept: Vec<bool> = masks.get("layers.0.w").unwrap().iter().collect();
        assert_eq!(kept, [true, false, false, false]);
        assert_eq!(masks.scale(), 1.0);

        let signs = DropoutSubnets {
            stability: Stability::SignAgreement,
            score: SubnetScore::Stability,
            ..DropoutSubnets::new(2, 0.5)
        };
        assert_eq!(
            signs.scores(&passes)["layers.0.w"],
            vec![1.0, 0.0, 1.0, 0.0]
        );
        let magnitude = DropoutSubnets {
            score: SubnetScore::Magnitude,
            ..DropoutSubnets::new(2, 0.5)
        };
        let s = &magnitude.scores(&passes)["layers.0.w"];
        assert!((s[0] - 1.1).abs() < 1e-6 && s[1] == 0.0 && (s[2] - 0.011).abs() < 1e-6);
    }
}
