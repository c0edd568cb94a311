//! Child-Tuning_D's Fisher information (`ChildTuningD.calculate_fisher`), also S4-Tuning's
//! per-language sub-network detector.

use std::collections::BTreeMap;

use burn::module::Module;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::{ParamMasks, Threshold, top_fraction};
use crate::train::optim::pattern_matches;
use crate::train::params::{GradStore, named_shapes};
use crate::train::step::{first_device, step_seed};
use crate::train::{TrainError, TrainTask};

/// Settings of [`fisher_information`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FisherOptions {
    /// Scored (and so masked) parameters: paths matching any pattern ([`pattern_matches`]).
    /// Default `*layers.*`, the encoder layers: Child-Tuning_D scores Hugging Face names
    /// containing `layer` (`encoder.layer.N…`; `LayerNorm` does not match), so the embeddings,
    /// pooler and classifier get no mask and are always trained. Core's encoders name their
    /// layers `layers.N`; a plain `*layer*` would also catch `embeddings.layer_norm`.
    pub patterns: Vec<String>,
    /// Clip each tensor's gradient to this L2 norm before squaring (the reference calls
    /// `clip_grad_norm_` per tensor with `max_grad_norm`, 1.0 by default).
    pub clip_norm: Option<f64>,
    /// Seed of the dropout draws: the device generator is reseeded from `(seed, batch index)`
    /// before every batch.
    pub seed: u64,
}

impl Default for FisherOptions {
    fn default() -> Self {
        Self {
            patterns: vec!["*layers.*".into()],
            clip_norm: Some(1.0),
            seed: 42,
        }
    }
}

/// Diagonal Fisher information per scored parameter, flattened and keyed by path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FisherScores {
    scores: BTreeMap<String, Vec<f32>>,
}

impl FisherScores {
    /// Scores computed elsewhere.
    pub fn from_scores(scores: BTreeMap<String, Vec<f32>>) -> Self {
        Self { scores }
    }

    /// The scores of one parameter.
    pub fn get(&self, path: &str) -> Option<&[f32]> {
        self.scores.get(path).map(Vec::as_slice)
    }

    /// `(path, scores)` in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[f32])> {
        self.scores.iter().map(|(p, s)| (p.as_str(), s.as_slice()))
    }

    /// The global threshold `polar = percentile(all scores, (1 - keep)·100)`.
    ///
    /// # Panics
    /// When there are no scores or `keep` is outside `[0, 1]`.
    pub fn threshold(&self, keep: f64) -> f32 {
        assert!(
            (0.0..=1.0).contains(&keep),
            "keep fraction {keep} outside [0, 1]"
        );
        let all: Vec<f32> = self.scores.values().flatten().copied().collect();
        super::percentile(&all, (1.0 - keep) * 100.0)
    }

    /// Child-Tuning_D's mask `M = (F ≥ polar)` with one global threshold: the top `keep`
    /// fraction of the scored entries, every entry tied at the threshold kept. No rescaling.
    pub fn mask(&self, keep: f64) -> ParamMasks {
        self.mask_with(keep, Threshold::Global)
    }

    /// [`FisherScores::mask`] with a choice of global or per-tensor threshold.
    pub fn mask_with(&self, keep: f64, threshold: Threshold) -> ParamMasks {
        top_fraction(&self.scores, keep, threshold)
    }
}

/// The empirical diagonal Fisher information as Child-Tuning_D's code computes it: for every
/// batch (model in training mode, so dropout is on), backward the task loss, clip each scored
/// tensor's gradient to `clip_norm` on its own, and add `grad² / N` (`N` = number of batches).
///
/// This is the batch-level estimate that produced the paper's numbers; pass one-example
/// batches for the paper's per-example definition `(1/|D|) Σ_j (∂ log p(y_j|x_j) / ∂w)²`.
/// Parameters that match a pattern but get no gradient score 0. For S4-Tuning call it once per
/// language with that language's batches. The model is not changed.
pub fn fisher_information<M, T>(
    model: &M,
    task: &T,
    batches: &[T::Batch],
    options: &FisherOptions,
) -> Result<FisherScores, TrainError>
where
    M: Module,
    T: TrainTask<M>,
{
    let device = first_device(model);
    let inner = device.clone().inner();
    let scored = |path: &str| options.patterns.iter().any(|p| pattern_matches(p, path));
    let mut sums: BTreeMap<String, Tensor<1>> = named_shapes(model)
        .into_iter()
        .filter(|(path, _)| scored(path))
        .map(|(path, shape)| {
            (
                path,
                Tensor::zeros([shape.iter().product::<usize>()], &inner),
            )
        })
        .collect();
    let n = batches.len() as f64;
    for (index, batch) in batches.iter().enumerate() {
        device.seed(step_seed(options.seed, index));
        let loss = task.loss(model, batch);
        let value = loss.clone().into_scalar::<f64>();
        if !value.is_finite() {
            return Err(TrainError::NonFiniteLoss {
                step: 0,
                epoch: 0,
                batch: index,
                value,
                last_checkpoint: None,
            });
        }
        let mut grads = GradStore::collect(model, &loss.backward());
        for (path, sum) in sums.iter_mut() {
            let Some(mut grad) = grads.remove(path) else {
                continue;
            };
            if let Some(max_norm) = options.clip_norm {
                // torch.nn.utils.clip_grad_norm_ on this tensor alone.
                let norm = grad.clone().square().sum().into_scalar::<f64>().sqrt();
                let coefficient = max_norm / (norm + 1e-6);
                if coefficient < 1.0 {
                    grad = grad.mul_scalar(coefficient);
                }
            }
            *sum = sum.clone() + grad.square().div_scalar(n);
        }
    }
    let scores = sums
        .into_iter()
        .map(|(path, sum)| {
            let values = sum
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("float scores");
            (path, values)
        })
        .collect();
    Ok(FisherScores { scores })
}
