//! fairseq's parameter initialisers for the Transformer.
//!
//! fairseq's `Embedding` helper draws `N(0, dim^-0.5)` and zeroes the padding row; its `Linear`
//! helper draws Xavier-uniform weights and zeroes the bias.

use burn::module::Param;
use burn::nn::{Embedding, EmbeddingConfig, Initializer, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

/// An embedding table `N(0, dim^-0.5)` whose row `padding_idx` is zero.
pub(super) fn padded_embedding(
    rows: usize,
    dim: usize,
    padding_idx: usize,
    device: &Device,
) -> Embedding {
    let mut embedding = EmbeddingConfig::new(rows, dim)
        .with_initializer(Initializer::Normal {
            mean: 0.0,
            std: (dim as f64).powf(-0.5),
        })
        .init(device);
    let weight = embedding.weight.val().slice_assign(
        [padding_idx..padding_idx + 1, 0..dim],
        Tensor::zeros([1, dim], device),
    );
    // Detached so that it is a leaf again on an autodiff device.
    embedding.weight = Param::from_tensor(weight.detach());
    embedding
}

/// A linear layer with Xavier-uniform weights (with `gain`) and a zero bias.
pub(super) fn xavier_linear(d_in: usize, d_out: usize, gain: f64, device: &Device) -> Linear {
    let mut linear = LinearConfig::new(d_in, d_out)
        .with_initializer(Initializer::XavierUniform { gain })
        .init(device);
    linear.bias = Some(Param::from_tensor(Tensor::zeros([d_out], device)));
    linear
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_row_is_zero_and_trainable() {
        let device = crate::device::cpu().autodiff();
        let embedding = padded_embedding(5, 4, 1, &device);
        let table = embedding.weight.val();
        let pad_row = table.clone().slice([1..2, 0..4]).abs().sum();
        assert_eq!(pad_row.into_scalar::<f32>(), 0.0);
        let others = table.slice([2..5, 0..4]).abs().sum().into_scalar::<f32>();
        assert!(others > 0.0);
        assert!(embedding.weight.is_require_grad());
    }
}
