//! First-order Taylor importance of attention heads and feed-forward neurons.
//!
//! Michel, Levy and Neubig, "Are Sixteen Heads Really Better than One?", NeurIPS 2019
//! (<https://arxiv.org/abs/1905.10650>): with a mask `ξ` multiplying each unit's output and
//! held at 1, the importance of unit `h` is the size of `∂L/∂ξ_h`. Because the mask multiplies
//! the unit's output `o_h`, `∂L/∂ξ_h = Σ_positions (∂L/∂o_h) · o_h`: gradient × activation, the
//! first-order Taylor estimate of the loss change when the unit is removed.

use burn::tensor::{Device, Gradients, Tensor};

use super::UnitScores;
use crate::nn::bert::{Bert, BertMasks};

/// Mask gradients of the heads and neurons of an encoder, accumulated over batches.
///
/// Each recorded batch `b` adds its gradient `g_b = ∂L_b/∂ξ`. Two reductions are kept:
/// [`abs_of_sum`](Self::abs_of_sum) `|Σ_b g_b|` (Michel et al.'s `|Σ_x ∂L(x)/∂ξ_h|` over the
/// batch set) and [`sum_of_abs`](Self::sum_of_abs) `Σ_b |g_b|` (what their code accumulates,
/// `E_x |∂L(x)/∂ξ_h|` when every batch is one example).
#[derive(Debug, Clone)]
pub struct TaylorImportance {
    heads: Vec<usize>,
    neurons: Vec<usize>,
    signed: UnitScores,
    absolute: UnitScores,
    batches: usize,
}

impl TaylorImportance {
    /// An empty accumulator for an encoder's heads and neurons.
    pub fn new(encoder: &Bert) -> Self {
        let heads = encoder.layer_heads();
        let neurons = encoder.layer_intermediate_sizes();
        let zeros = UnitScores::zeros(&heads, &neurons);
        Self {
            heads,
            neurons,
            signed: zeros.clone(),
            absolute: zeros,
            batches: 0,
        }
    }

    /// Head and neuron masks of ones that require a gradient, `[layers, max heads]` and
    /// `[layers, max neurons]`, to pass to [`Bert::forward_masked`] for one batch (add an
    /// attention mask with [`BertMasks::with_attention`] if the task uses one).
    ///
    /// # Panics
    /// When `device` is not an autodiff device.
    pub fn probe(&self, device: &Device) -> BertMasks {
        assert!(
            device.is_autodiff(),
            "importance scores need gradients: use an autodiff device"
        );
        let layers = self.heads.len();
        let max = |sizes: &[usize]| sizes.iter().copied().max().unwrap_or(0);
        BertMasks::default()
            .with_heads(Tensor::ones([layers, max(&self.heads)], device).require_grad())
            .with_neurons(Tensor::ones([layers, max(&self.neurons)], device).require_grad())
    }

    /// Adds one batch: the gradients of its loss with respect to `probe`'s masks.
    pub fn record(&mut self, probe: &BertMasks, grads: &Gradients) {
        let gradient = |mask: &Option<Tensor<2>>| -> Option<Vec<f32>> {
            let grad = mask.as_ref()?.grad(grads)?;
            grad.into_data().convert::<f32>().try_to_vec::<f32>().ok()
        };
        for (grad, width, signed, absolute) in [
            (
                gradient(&probe.heads),
                self.heads.iter().copied().max().unwrap_or(0),
                &mut self.signed.heads,
                &mut self.absolute.heads,
            ),
            (
                gradient(&probe.neurons),
                self.neurons.iter().copied().max().unwrap_or(0),
                &mut self.signed.neurons,
                &mut self.absolute.neurons,
            ),
        ] {
            let Some(grad) = grad else { continue };
            for (layer, (signed, absolute)) in signed.iter_mut().zip(absolute).enumerate() {
                let row = &grad[layer * width..layer * width + signed.len()];
                for ((s, a), &g) in signed.iter_mut().zip(absolute.iter_mut()).zip(row) {
                    *s += g;
                    *a += g.abs();
                }
            }
        }
        self.batches += 1;
    }

    /// `|Σ_b ∂L_b/∂ξ|` per unit.
    pub fn abs_of_sum(&self) -> UnitScores {
        self.signed.map(f32::abs)
    }

    /// `Σ_b |∂L_b/∂ξ|` per unit.
    pub fn sum_of_abs(&self) -> UnitScores {
        self.absolute.clone()
    }

    /// The signed sum `Σ_b ∂L_b/∂ξ` per unit.
    pub fn signed_sum(&self) -> UnitScores {
        self.signed.clone()
    }

    /// Number of batches recorded.
    pub fn batches(&self) -> usize {
        self.batches
    }
}

/// Accumulates Taylor importance over `batches`: for each, `loss(masks, batch)` runs the task
/// model with `masks` passed to the encoder's [`Bert::forward_masked`] and returns the scalar
/// loss, which is differentiated with respect to the masks.
///
/// `encoder` gives the shapes and the (autodiff) device. Run it on a model without dropout
/// (`Module::freeze` also stops weight gradients, which importance does not need).
pub fn taylor_importance<T>(
    encoder: &Bert,
    batches: impl IntoIterator<Item = T>,
    mut loss: impl FnMut(&BertMasks, T) -> Tensor<1>,
) -> TaylorImportance {
    let device = encoder.embeddings.word_embeddings.weight.lazy_device();
    let mut importance = TaylorImportance::new(encoder);
    for batch in batches {
        let probe = importance.probe(&device);
        let grads = loss(&probe, batch).backward();
        importance.record(&probe, &grads);
    }
    importance
}
