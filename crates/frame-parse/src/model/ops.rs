//! Small tensor helpers of the model: index tensors, row picks, weighted NLL, host argmax,
//! and the star graphs of the FSG.

use burnlp_core::burn::tensor::activation::log_softmax;
use burnlp_core::burn::tensor::{Device, Int, Tensor, TensorData};
use burnlp_core::nn::graph::{GraphBatch, HeteroGraph};

pub(super) fn ints1(values: Vec<i64>, device: &Device) -> Tensor<1, Int> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), device)
}

pub(super) fn floats2(values: Vec<f32>, shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// Rows `index[b]` of `x[b]`: `[B, n, D]` → `[B, D]`.
pub(super) fn pick(x: &Tensor<3>, index: &[usize]) -> Tensor<2> {
    let [b, n, d] = x.dims();
    let flat: Vec<i64> = index
        .iter()
        .enumerate()
        .map(|(i, &t)| (i * n + t.min(n - 1)) as i64)
        .collect();
    x.clone()
        .reshape([b * n, d])
        .select(0, ints1(flat, &x.device()))
}

/// `Σ_b w_b · −log softmax(logits_b)[target_b]`.
pub(super) fn nll(logits: Tensor<2>, targets: &[usize], weights: &[f32]) -> Tensor<1> {
    let device = logits.device();
    let b = targets.len();
    let t = Tensor::<2, Int>::from_data(
        TensorData::new(
            targets.iter().map(|&t| t as i64).collect::<Vec<_>>(),
            [b, 1],
        ),
        &device,
    );
    let w = floats2(weights.to_vec(), [b, 1], &device);
    (log_softmax(logits, 1).gather(1, t) * w).sum().neg()
}

/// Argmax of every row (ties to the lowest index).
pub(super) fn argmax_rows(scores: Tensor<2>) -> Vec<usize> {
    let [b, c] = scores.dims();
    let values = scores
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32 scores");
    (0..b)
        .map(|i| {
            let row = &values[i * c..(i + 1) * c];
            let mut best = 0;
            for (j, v) in row.iter().enumerate() {
                if *v > row[best] {
                    best = j;
                }
            }
            best
        })
        .collect()
}

/// Star graphs (node 0 linked to nodes `1..size`, every node with a self-loop), `count` times.
pub(super) fn star_batch(count: usize, size: usize, device: &Device) -> GraphBatch {
    let mut graph = HeteroGraph::new(1, 1);
    let nodes: Vec<_> = (0..size)
        .map(|_| graph.add_node(0).expect("node type 0 exists"))
        .collect();
    for (j, &node) in nodes.iter().enumerate() {
        graph.add_edge(node, node, 0).expect("relation 0 exists");
        if j > 0 {
            graph
                .add_edge(nodes[0], node, 0)
                .expect("relation 0 exists");
            graph
                .add_edge(node, nodes[0], 0)
                .expect("relation 0 exists");
        }
    }
    GraphBatch::new(std::iter::repeat_n(&graph, count), device).expect("a non-empty batch")
}
