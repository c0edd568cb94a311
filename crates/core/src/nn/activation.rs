//! Activations with a fast CPU kernel.
//!
//! [`log_softmax`] over the last dimension (core's seq2seq loss and beam search scores, the
//! pointer head) runs core's Flex kernel for float32 CPU tensors, with its own backward
//! pass ([`crate::device::kernels::LogSoftmaxBackend`]); every other case is burn's
//! `activation::log_softmax`.

use burn::backend::Dispatch;
use burn::tensor::{DType, Tensor, activation};

use crate::device::{self, kernels::LogSoftmaxBackend};

/// `log_softmax` of `x` along `dim`, differentiable; the same function as burn's.
pub fn log_softmax<const D: usize>(x: Tensor<D>, dim: usize) -> Tensor<D> {
    if dim + 1 != D || x.dtype() != DType::F32 || !device::is_host(&x.device()) {
        return activation::log_softmax(x, dim);
    }
    Tensor::from_dispatch(<Dispatch as LogSoftmaxBackend>::log_softmax_last(
        x.into_dispatch(),
    ))
}
