//! Hand-written CPU kernels for operations that the Flex backend runs slowly, as a burn backend
//! extension with their own backward pass.
//!
//! Model code calls the backend-agnostic wrappers [`crate::nn::scores::tanh_scores`] and
//! [`crate::nn::activation::log_softmax`]; they route float32 tensors on the CPU (with or
//! without autodiff) here and every other case to generic tensor operations, which are also
//! what the parity tests compare with.
//!
//! - [`TanhScoreBackend::tanh_scores`]: `out[b, i, j] = Σ_d tanh(q[b, i, d] · s[b, j, d])`, the
//!   additive matching score of ESD's span prototypes (INSA) and of `fast_att`. The generic
//!   composition materialises the `[b, n, m, d]` product and runs Flex's scalar `tanh` over it;
//!   the kernel streams over `d` with a vectorisable `tanh` and two threads.
//! - [`LogSoftmaxBackend::log_softmax_last`]: `log_softmax` over the last dimension (core's
//!   seq2seq loss and beam search, the pointer head). Burn composes it from max, exp, sum and
//!   log, each a pass over `[tokens, vocabulary]` with Flex's scalar (libm) `exp`; the kernel
//!   makes one pass per row with a vectorisable `exp`, and its backward pass is
//!   `g − softmax · Σ g` from the saved output.

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Flex, backend_extension};
use burn::tensor::TensorData;
use rayon::prelude::*;

/// The additive matching score, with a hand-written Flex kernel.
#[backend_extension(Flex, Autodiff)]
pub trait TanhScoreBackend: Backend {
    /// `out[b, i, j] = Σ_d tanh(q[b, i, d] · s[b, j, d])` for `q: [b, n, d]`, `s: [b, m, d]`.
    fn tanh_scores(q: FloatTensor<Self>, s: FloatTensor<Self>) -> FloatTensor<Self>;

    /// The gradients of [`Self::tanh_scores`] with respect to `q` and `s` for the output
    /// gradient `grad: [b, n, m]`.
    fn tanh_scores_backward(
        q: FloatTensor<Self>,
        s: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

/// `log_softmax` over the last dimension, with a hand-written Flex kernel.
#[backend_extension(Flex, Autodiff)]
pub trait LogSoftmaxBackend: Backend {
    /// `log_softmax` over the last dimension.
    fn log_softmax_last(x: FloatTensor<Self>) -> FloatTensor<Self>;

    /// The gradient of [`Self::log_softmax_last`] from its output `out` and the output
    /// gradient `grad`: `grad − exp(out) · Σ_last grad`.
    fn log_softmax_last_backward(
        out: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

/// Contents and shape of a float32 Flex tensor.
fn host(tensor: FlexTensor) -> (Vec<f32>, Vec<usize>) {
    let data = tensor.into_data();
    let dims = data.shape().to_vec();
    let values = data
        .try_into_vec::<f32>()
        .expect("the wrapper routes only float32 tensors to the Flex kernel");
    (values, dims)
}

impl LogSoftmaxBackend for Flex {
    fn log_softmax_last(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let (mut values, dims) = host(x);
        log_softmax_rows(&mut values, dims.last().copied().unwrap_or(1));
        FlexTensor::from_data(TensorData::new(values, dims))
    }

    fn log_softmax_last_backward(
        out: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let (out, dims) = host(out);
        let (mut grad, _) = host(grad);
        log_softmax_backward_rows(&out, &mut grad, dims.last().copied().unwrap_or(1));
        FlexTensor::from_data(TensorData::new(grad, dims))
    }
}

#[derive(Debug)]
struct LogSoftmaxLast;

impl<B: Backend + LogSoftmaxBackend> Backward<B, 1> for LogSoftmaxLast {
    type State = FloatTensor<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<B>(&ops.node);
        let [parent] = ops.parents;
        if let Some(node) = parent {
            grads.register::<B>(node.id, B::log_softmax_last_backward(ops.state, grad));
        }
    }
}

impl<B: Backend + LogSoftmaxBackend, C: CheckpointStrategy> LogSoftmaxBackend for Autodiff<B, C> {
    fn log_softmax_last(x: FloatTensor<Self>) -> FloatTensor<Self> {
        match LogSoftmaxLast
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let out = B::log_softmax_last(x.into_primitive());
                prep.finish(out.clone(), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::log_softmax_last(x.into_primitive())),
        }
    }

    fn log_softmax_last_backward(
        out: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        // Second derivatives are not tracked: the output is a constant.
        FloatTensor::<Self>::new(B::log_softmax_last_backward(
            out.into_primitive(),
            grad.into_primitive(),
        ))
    }
}

/// [`fast_exp`] for any argument, clamped to `[−87, 88]`: below −87 (where `exp` leaves the normal
/// float32 range) it gives `exp(−87)` ≈ 1.6e-38 instead of a denormal or zero, above 88 `exp(88)`
/// instead of infinity. Relative error about 1e-7 inside the range.
#[inline(always)]
fn fast_exp_wide(y: f32) -> f32 {
    fast_exp(y.clamp(-87.0, 88.0))
}

/// `log_softmax` of each row of `values` (rows of `n`) in place.
pub fn log_softmax_rows(values: &mut [f32], n: usize) {
    if n == 0 {
        return;
    }
    values.par_chunks_mut(n).for_each(|row| {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut acc = [0f32; LANES];
        let mut chunks = row.chunks_exact(LANES);
        for chunk in &mut chunks {
            for l in 0..LANES {
                acc[l] += fast_exp_wide(chunk[l] - max);
            }
        }
        let mut sum: f32 = acc.iter().sum();
        for &x in chunks.remainder() {
            sum += fast_exp_wide(x - max);
        }
        let shift = max + sum.ln();
        for x in row.iter_mut() {
            *x -= shift;
        }
    });
}

/// The backward pass of [`log_softmax_rows`] in place on `grad`: `grad − exp(out) · Σ grad`.
pub fn log_softmax_backward_rows(out: &[f32], grad: &mut [f32], n: usize) {
    if n == 0 {
        return;
    }
    grad.par_chunks_mut(n)
        .zip(out.par_chunks(n))
        .for_each(|(g, o)| {
            // In f64: thousands of float32 terms summed in order lose about 1e-7 per term.
            let total = g.iter().map(|&v| f64::from(v)).sum::<f64>() as f32;
            for (g, &o) in g.iter_mut().zip(o) {
                *g -= fast_exp_wide(o) * total;
            }
        });
}

/// `[b, rows, d]` contents of a float32 Flex tensor.
fn host3(tensor: FlexTensor) -> (Vec<f32>, [usize; 3]) {
    let (values, dims) = host(tensor);
    let dims: [usize; 3] = dims
        .try_into()
        .expect("tanh_scores kernels take rank-3 tensors");
    (values, dims)
}

fn flex3(values: Vec<f32>, dims: [usize; 3]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, dims))
}

impl TanhScoreBackend for Flex {
    fn tanh_scores(q: FloatTensor<Self>, s: FloatTensor<Self>) -> FloatTensor<Self> {
        let (q, [b, n, d]) = host3(q);
        let (s, [_, m, _]) = host3(s);
        flex3(scores_host(&q, &s, b, n, m, d), [b, n, m])
    }

    fn tanh_scores_backward(
        q: FloatTensor<Self>,
        s: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (q, [b, n, d]) = host3(q);
        let (s, [_, m, _]) = host3(s);
        let (g, _) = host3(grad);
        let (gq, gs) = scores_backward_host(&q, &s, &g, b, n, m, d);
        (flex3(gq, [b, n, d]), flex3(gs, [b, m, d]))
    }
}

#[derive(Debug)]
struct TanhScores;

impl<B: Backend + TanhScoreBackend> Backward<B, 2> for TanhScores {
    type State = (NodeId, NodeId);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let (q, s) = ops.state;
        let q: FloatTensor<B> = checkpointer.retrieve_node_output(q);
        let s: FloatTensor<B> = checkpointer.retrieve_node_output(s);
        let grad = grads.consume::<B>(&ops.node);
        let (gq, gs) = B::tanh_scores_backward(q, s, grad);
        let [q_parent, s_parent] = ops.parents;
        if let Some(node) = q_parent {
            grads.register::<B>(node.id, gq);
        }
        if let Some(node) = s_parent {
            grads.register::<B>(node.id, gs);
        }
    }
}

impl<B: Backend + TanhScoreBackend, C: CheckpointStrategy> TanhScoreBackend for Autodiff<B, C> {
    fn tanh_scores(q: FloatTensor<Self>, s: FloatTensor<Self>) -> FloatTensor<Self> {
        match TanhScores
            .prepare::<C>([q.node(), s.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let state = (prep.checkpoint(&q), prep.checkpoint(&s));
                let out = B::tanh_scores(q.into_primitive(), s.into_primitive());
                prep.finish(state, out)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::tanh_scores(q.into_primitive(), s.into_primitive()))
            }
        }
    }

    fn tanh_scores_backward(
        q: FloatTensor<Self>,
        s: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        // Second derivatives are not tracked: the outputs are constants.
        let (gq, gs) = B::tanh_scores_backward(
            q.into_primitive(),
            s.into_primitive(),
            grad.into_primitive(),
        );
        (FloatTensor::<Self>::new(gq), FloatTensor::<Self>::new(gs))
    }
}

/// `tanh` in float32 without a library call, so loops over it vectorise: `(e − 1) / (e + 1)`
/// with `e = exp(2x)`, the argument clamped to ±9 (where `tanh` is 1 within float32 precision).
/// Absolute error below 2.5e-7 over the float32 range (tested against `f32::tanh`).
#[inline(always)]
pub fn fast_tanh(x: f32) -> f32 {
    let e = fast_exp(2.0 * x.clamp(-9.0, 9.0));
    (e - 1.0) / (e + 1.0)
}

/// `exp` for `−87 ≤ y ≤ 88` (where `2^k` stays a normal float32): `y = k ln 2 + r` with `|r| ≤ ln 2 / 2` (ln 2 split in
/// two parts, Cody–Waite), a degree-7 Taylor polynomial for `exp(r)` and `2^k` from the exponent
/// bits. Relative error about 1e-7.
#[inline(always)]
fn fast_exp(y: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5 · 2^23 rounds to the nearest integer without a call.
    const ROUND: f32 = 12_582_912.0;
    let k = (y * LOG2E + ROUND) - ROUND;
    let r = (y - k * LN2_HI) - k * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    let scale = f32::from_bits(((k as i32 + 127) as u32) << 23);
    p * scale
}

/// Lanes of the inner loops: eight independent accumulators let the compiler keep the
/// reduction in vector registers (a single float accumulator must stay sequential).
const LANES: usize = 8;

/// `Σ_k tanh(a[k] · b[k])`.
#[inline(always)]
fn tanh_dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let mut a_chunks = a.chunks_exact(LANES);
    let mut b_chunks = b.chunks_exact(LANES);
    for (x, y) in (&mut a_chunks).zip(&mut b_chunks) {
        for l in 0..LANES {
            acc[l] += fast_tanh(x[l] * y[l]);
        }
    }
    let mut total: f32 = acc.iter().sum();
    for (x, y) in a_chunks.remainder().iter().zip(b_chunks.remainder()) {
        total += fast_tanh(x * y);
    }
    total
}

/// Forward kernel on host slices (`q: [b, n, d]`, `s: [b, m, d]`, row-major) → `[b, n, m]`.
pub fn scores_host(q: &[f32], s: &[f32], b: usize, n: usize, m: usize, d: usize) -> Vec<f32> {
    let mut out = vec![0f32; b * n * m];
    if d == 0 {
        return out;
    }
    out.par_chunks_mut(m.max(1))
        .enumerate()
        .for_each(|(row, out_row)| {
            let batch = row / n.max(1);
            let q_row = &q[row * d..(row + 1) * d];
            let s_batch = &s[batch * m * d..(batch + 1) * m * d];
            for (j, value) in out_row.iter_mut().enumerate() {
                *value = tanh_dot(q_row, &s_batch[j * d..(j + 1) * d]);
            }
        });
    out
}

/// Backward kernel on host slices: `(∂/∂q, ∂/∂s)` of `Σ g · tanh_scores(q, s)`, where
/// `∂/∂q[i, k] = Σ_j g[i, j] s[j, k] (1 − t²)` and `∂/∂s[j, k] = Σ_i g[i, j] q[i, k] (1 − t²)`
/// with `t = tanh(q[i, k] s[j, k])`. Each thread handles a block of query rows and keeps its own
/// `∂/∂s` buffer for the batch; the buffers are summed at the end.
pub fn scores_backward_host(
    q: &[f32],
    s: &[f32],
    g: &[f32],
    b: usize,
    n: usize,
    m: usize,
    d: usize,
) -> (Vec<f32>, Vec<f32>) {
    let mut gq = vec![0f32; b * n * d];
    let mut gs = vec![0f32; b * m * d];
    if d == 0 || n == 0 || m == 0 {
        return (gq, gs);
    }
    // Rows of one batch item per block, so each block's ∂/∂s buffer covers one batch item.
    let block = n.div_ceil(rayon::current_num_threads().max(1) * 2).max(1);
    let mut jobs: Vec<(usize, usize, &mut [f32])> = Vec::new();
    for (batch, gq_batch) in gq.chunks_mut(n * d).enumerate() {
        for (index, gq_block) in gq_batch.chunks_mut(block * d).enumerate() {
            jobs.push((batch, index * block, gq_block));
        }
    }
    let partials: Vec<(usize, Vec<f32>)> = jobs
        .into_par_iter()
        .map(|(batch, first, gq_block)| {
            let mut gs_local = vec![0f32; m * d];
            let s_batch = &s[batch * m * d..(batch + 1) * m * d];
            for (offset, gq_row) in gq_block.chunks_mut(d).enumerate() {
                let i = first + offset;
                let row = batch * n + i;
                let q_row = &q[row * d..(row + 1) * d];
                let g_row = &g[row * m..(row + 1) * m];
                for (j, &weight) in g_row.iter().enumerate() {
                    if weight == 0.0 {
                        continue;
                    }
                    let s_row = &s_batch[j * d..(j + 1) * d];
                    let gs_row = &mut gs_local[j * d..(j + 1) * d];
                    for ((gq_k, gs_k), (&q_k, &s_k)) in gq_row
                        .iter_mut()
                        .zip(gs_row.iter_mut())
                        .zip(q_row.iter().zip(s_row))
                    {
                        let t = fast_tanh(q_k * s_k);
                        let common = weight * (1.0 - t * t);
                        *gq_k += common * s_k;
                        *gs_k += common * q_k;
                    }
                }
            }
            (batch, gs_local)
        })
        .collect();
    for (batch, partial) in partials {
        for (total, value) in gs[batch * m * d..(batch + 1) * m * d]
            .iter_mut()
            .zip(partial)
        {
            *total += value;
        }
    }
    (gq, gs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_tanh_matches_the_library_tanh() {
        let mut worst = 0f32;
        let mut x = -12.0f32;
        while x <= 12.0 {
            worst = worst.max((fast_tanh(x) - x.tanh()).abs());
            x += 1.0 / 4096.0;
        }
        for x in [0.0f32, 1e-30, -1e-30, 1e-8, f32::MAX, f32::MIN, 9.0, -9.0] {
            worst = worst.max((fast_tanh(x) - x.tanh()).abs());
        }
        assert!(worst < 2.5e-7, "max |fast_tanh − tanh| = {worst}");
        assert_eq!(fast_tanh(0.0), 0.0);
    }
}
