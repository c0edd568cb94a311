//! Low-rank adaptation of linear layers.
//!
//! Hu et al., "LoRA: Low-Rank Adaptation of Large Language Models", ICLR 2022
//! (<https://arxiv.org/abs/2106.09685>): a frozen weight `W` plus a trainable low-rank update,
//! `y = x W + (α / r) · x A B` with `A ∈ R^{d_in×r}` (random) and `B ∈ R^{r×d_out}` (zero), so a
//! fresh adapter leaves the output unchanged; [`LoraLinear::merged`] folds the update into `W`.
//! Freezing the base is the trainer's job (freeze every path but `*.lora_a` / `*.lora_b`).

use burn::module::{Module, Param};
use burn::nn::{Initializer, Linear};
use burn::tensor::module::linear;
use burn::tensor::{Device, Tensor};

/// A linear layer with an optional LoRA adapter; without one it is exactly its base layer.
#[derive(Module, Debug)]
pub struct LoraLinear {
    /// The base layer, weight `[d_in, d_out]`.
    pub base: Linear,
    /// Down projection `A` `[d_in, rank]`.
    pub lora_a: Option<Param<Tensor<2>>>,
    /// Up projection `B` `[rank, d_out]`, zero at initialisation.
    pub lora_b: Option<Param<Tensor<2>>>,
    /// Scale `α / rank` of the update.
    pub scaling: f64,
}

impl LoraLinear {
    /// Wraps a linear layer without an adapter.
    pub fn new(base: Linear) -> Self {
        Self {
            base,
            lora_a: None,
            lora_b: None,
            scaling: 1.0,
        }
    }

    /// Adds a fresh adapter of `rank` with scale `alpha / rank`: `A` uniform with PEFT's
    /// Kaiming bound `1/√d_in`, `B` zero (replacing any earlier adapter).
    pub fn with_adapter(mut self, rank: usize, alpha: f64, device: &Device) -> Self {
        let [d_in, d_out] = self.base.weight.lazy_shape().dims();
        let bound = 1.0 / (d_in as f64).sqrt();
        self.lora_a = Some(
            Initializer::Uniform {
                min: -bound,
                max: bound,
            }
            .init([d_in, rank], device),
        );
        self.lora_b = Some(Initializer::Zeros.init([rank, d_out], device));
        self.scaling = alpha / rank as f64;
        self
    }

    /// Applies the layer and its adapter.
    ///
    /// # Shapes
    /// - `input`: `[..., d_in]`; output: `[..., d_out]`
    pub fn forward<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        let out = self.base.forward(input.clone());
        match (&self.lora_a, &self.lora_b) {
            (Some(a), Some(b)) => {
                let low = linear(input, a.val(), None);
                out + linear(low, b.val(), None) * self.scaling
            }
            _ => out,
        }
    }

    /// The base layer with the adapter folded in: `W + (α / r) A B`.
    pub fn merged(&self) -> Linear {
        let weight = match (&self.lora_a, &self.lora_b) {
            (Some(a), Some(b)) => self.base.weight.val() + a.val().matmul(b.val()) * self.scaling,
            _ => self.base.weight.val(),
        };
        Linear {
            weight: Param::from_tensor(weight),
            bias: self.base.bias.clone(),
        }
    }

    /// Number of adapter parameters (`rank · (d_in + d_out)`, zero without an adapter).
    pub fn adapter_len(&self) -> usize {
        [&self.lora_a, &self.lora_b]
            .into_iter()
            .flatten()
            .map(|p| p.lazy_shape().num_elements())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::LinearConfig;

    fn close(a: Tensor<2>, b: Tensor<2>) -> f32 {
        (a - b).abs().max().into_scalar::<f32>()
    }

    #[test]
    fn fresh_adapter_is_identity_and_merge_matches_forward() {
        let device = crate::device::cpu();
        let base = LinearConfig::new(6, 5).init(&device);
        let x = Tensor::<2>::random(
            [3, 6],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        let plain = base.forward(x.clone());
        let mut lora = LoraLinear::new(base).with_adapter(2, 4.0, &device);
        assert_eq!(lora.adapter_len(), 2 * (6 + 5));
        assert_eq!(close(lora.forward(x.clone()), plain.clone()), 0.0);
        lora.lora_b = Some(Param::from_tensor(Tensor::random(
            [2, 5],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        )));
        let adapted = lora.forward(x.clone());
        assert!(close(adapted.clone(), plain) > 1e-3);
        assert!(close(lora.merged().forward(x), adapted) < 1e-5);
    }
}
