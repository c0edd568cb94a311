//! Segment reductions over an index tensor: sum, max and softmax.
//!
//! Row `i` of `values` belongs to segment `index[i]` (a destination node, a graph); segments are
//! `0..num_segments` and may be empty. Every function is built on `select` (gather) and
//! `select_assign` (scatter) along dimension 0, which every burn backend implements, and is
//! differentiable with respect to `values`. Indices must lie in `0..num_segments`; backends do
//! not all check this.

use burn::tensor::{IndexingUpdateOp, Int, Tensor};

/// Sums the rows of each segment: `out[s] = Σ_{i: index[i] = s} values[i]`; empty segments are 0.
///
/// # Shapes
/// - `values`: `[rows, …]`
/// - `index`: `[rows]`
/// - output: `[num_segments, …]`
pub fn scatter_sum<const D: usize>(
    values: Tensor<D>,
    index: Tensor<1, Int>,
    num_segments: usize,
) -> Tensor<D> {
    let mut shape = values.dims();
    shape[0] = num_segments;
    Tensor::zeros(shape, &values.device()).select_assign(0, index, values, IndexingUpdateOp::Add)
}

/// Element-wise maximum over the rows of each segment, as a constant (no gradient).
///
/// Empty segments are `-∞`.
fn segment_max_constant(
    values: Tensor<2>,
    index: Tensor<1, Int>,
    num_segments: usize,
) -> Tensor<2> {
    let [_, columns] = values.dims();
    Tensor::full([num_segments, columns], f32::NEG_INFINITY, &values.device()).select_assign(
        0,
        index,
        values.detach(),
        IndexingUpdateOp::Max,
    )
}

/// Element-wise maximum over the rows of each segment; empty segments are 0.
///
/// The gradient of a maximum goes to the rows that attain it, shared equally between ties.
///
/// # Shapes
/// - `values`: `[rows, columns]`
/// - `index`: `[rows]`
/// - output: `[num_segments, columns]`
pub fn segment_max(values: Tensor<2>, index: Tensor<1, Int>, num_segments: usize) -> Tensor<2> {
    let max = segment_max_constant(values.clone(), index.clone(), num_segments);
    // [rows, columns]: 1 where a row attains its segment's maximum.
    let attains = values.clone().equal(max.select(0, index.clone())).float();
    let ties = scatter_sum(attains.clone(), index.clone(), num_segments);
    scatter_sum(values * attains, index, num_segments) / ties.clamp_min(1.0)
}

/// Softmax over the rows of each segment, per column: `out[i] = exp(x[i]) / Σ_{j ∈ seg(i)}
/// exp(x[j])`, computed stably by subtracting the segment maximum.
///
/// Used for attention over the in-edges of each destination node; a node without in-edges
/// simply has no rows, so nothing is divided by zero.
///
/// # Shapes
/// - `logits`: `[rows, columns]`
/// - `index`: `[rows]`
/// - output: `[rows, columns]`
pub fn segment_softmax(logits: Tensor<2>, index: Tensor<1, Int>, num_segments: usize) -> Tensor<2> {
    // The shift cancels in the softmax, so it needs no gradient.
    let max = segment_max_constant(logits.clone(), index.clone(), num_segments);
    let exp = (logits - max.select(0, index.clone())).exp();
    let total = scatter_sum(exp.clone(), index.clone(), num_segments);
    exp / total.select(0, index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device;
    use burn::tensor::TensorData;

    fn rows(values: Vec<f32>, columns: usize) -> Tensor<2> {
        let n = values.len() / columns;
        Tensor::from_data(TensorData::new(values, [n, columns]), &device::cpu())
    }

    fn index(values: Vec<i64>) -> Tensor<1, Int> {
        let n = values.len();
        Tensor::from_data(TensorData::new(values, [n]), &device::cpu())
    }

    fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
        tensor.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn sums_and_maxima_per_segment_with_empty_segments() {
        let x = rows(vec![1.0, -1.0, 2.0, -5.0, 3.0, 4.0, -2.0, 0.5], 2);
        let seg = index(vec![2, 0, 2, 2]);
        assert_eq!(
            values(scatter_sum(x.clone(), seg.clone(), 4)),
            vec![2.0, -5.0, 0.0, 0.0, 2.0, 3.5, 0.0, 0.0]
        );
        assert_eq!(
            values(segment_max(x, seg, 4)),
            vec![2.0, -5.0, 0.0, 0.0, 3.0, 4.0, 0.0, 0.0]
        );
    }

    #[test]
    fn segment_max_shares_the_gradient_between_ties() {
        let device = device::cpu().autodiff();
        let x = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 1.0, 0.0], [3, 1]), &device)
            .require_grad();
        let seg = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 0, 0], [3]), &device);
        let grads = segment_max(x.clone(), seg, 1).sum().backward();
        assert_eq!(values(x.grad(&grads).unwrap()), vec![0.5, 0.5, 0.0]);
    }

    #[test]
    fn softmax_normalises_each_segment_and_survives_large_logits() {
        let x = rows(vec![1000.0, 0.0, 1001.0, 0.0, -3.0, 7.0], 2);
        let seg = index(vec![1, 1, 3]);
        let out = values(segment_softmax(x, seg, 4));
        let e = (1.0f32).exp();
        let expected = [1.0 / (1.0 + e), 0.5, e / (1.0 + e), 0.5, 1.0, 1.0];
        for (got, want) in out.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{out:?}");
        }
    }
}
