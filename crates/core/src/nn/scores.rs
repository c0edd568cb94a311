//! Pairwise score functions between two sets of vectors.
//!
//! [`tanh_scores`] is the additive matching score `Σ_d tanh(q_d · s_d)` of ESD's span
//! prototypes (Wang et al. 2022, INSA and PSA). On the CPU it runs a hand-written kernel with its
//! own backward pass ([`crate::device::kernels`]); elsewhere it is [`tanh_scores_generic`].

use burn::backend::Dispatch;
use burn::tensor::{DType, Tensor};

use crate::device::{self, kernels::TanhScoreBackend};

/// `out[b, i, j] = Σ_d tanh(q[b, i, d] · s[b, j, d])`, differentiable.
///
/// # Shapes
/// - `q`: `[batch, n, d]`, `s`: `[batch, m, d]`
/// - output: `[batch, n, m]`
///
/// # Panics
/// When the batch sizes or the vector sizes differ.
pub fn tanh_scores(q: Tensor<3>, s: Tensor<3>) -> Tensor<3> {
    let [batch, _, d] = q.dims();
    let [s_batch, _, s_d] = s.dims();
    assert_eq!(
        (batch, d),
        (s_batch, s_d),
        "tanh_scores: q and s differ in batch or size"
    );
    let host_f32 =
        device::is_host(&q.device()) && q.dtype() == DType::F32 && s.dtype() == DType::F32;
    if !host_f32 {
        return tanh_scores_generic(q, s);
    }
    Tensor::from_dispatch(<Dispatch as TanhScoreBackend>::tanh_scores(
        q.into_dispatch(),
        s.into_dispatch(),
    ))
}

/// [`tanh_scores`] composed from generic tensor operations (materialises `[batch, n, m, d]`):
/// the path for every device but the CPU, and the reference the kernel is tested against.
pub fn tanh_scores_generic(q: Tensor<3>, s: Tensor<3>) -> Tensor<3> {
    let [batch, n, _] = q.dims();
    let m = s.dims()[1];
    (q.unsqueeze_dim::<4>(2) * s.unsqueeze_dim::<4>(1))
        .tanh()
        .sum_dim(3)
        .reshape([batch, n, m])
}
