//! Graph encoders against dense adjacency-matrix references: R-GCN (with and without bases,
//! right or symmetric normalisation) and GAT give the same outputs and the same gradients,
//! batching changes nothing, and nodes without in-edges never produce NaN; the symmetric
//! normalisation also against a hand-computed example.

use burnlp_core::burn::module::Param;
use burnlp_core::burn::nn::activation::ActivationConfig;
use burnlp_core::burn::tensor::activation::leaky_relu;
use burnlp_core::burn::tensor::{Device, Distribution, Gradients, Tensor, TensorData};
use burnlp_core::device;
use burnlp_core::nn::graph::{
    Gat, GatConfig, GcnNorm, GraphBatch, HeadMerge, HeteroGraph, Rgcn, RgcnConfig, RgcnStackConfig,
};
use petgraph::graph::NodeIndex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const TOLERANCE: f32 = 1e-5;

/// A random graph with `n` nodes and `r` relations that has every awkward case: the last node is
/// isolated, the one before it only sends, node 0 has a self-edge, nodes 1 → 2 a repeated edge of
/// relation 0, and every relation has edges.
fn random_graph(seed: u64, n: usize, r: usize, edges: usize) -> HeteroGraph {
    assert!(n >= 4);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut graph = HeteroGraph::new(3, r);
    let nodes: Vec<NodeIndex> = (0..n)
        .map(|_| graph.add_node(rng.random_range(0..3)).unwrap())
        .collect();
    let receivers = n - 2;
    graph.add_edge(nodes[0], nodes[0], r - 1).unwrap();
    graph.add_edge(nodes[1], nodes[2], 0).unwrap();
    graph.add_edge(nodes[1], nodes[2], 0).unwrap();
    for i in 0..edges {
        let src = rng.random_range(0..n - 1);
        let dst = rng.random_range(0..receivers);
        let relation = if i < r { i } else { rng.random_range(0..r) };
        graph.add_edge(nodes[src], nodes[dst], relation).unwrap();
    }
    graph
}

/// `counts[r, i, j]`: number of edges `j → i` of relation `r`.
fn dense_counts(graph: &HeteroGraph, device: &Device) -> Tensor<3> {
    let (n, r) = (graph.num_nodes(), graph.num_relations());
    let mut counts = vec![0f32; r * n * n];
    for edge in graph.graph().raw_edges() {
        let (j, i) = (edge.source().index(), edge.target().index());
        counts[(edge.weight * n + i) * n + j] += 1.0;
    }
    Tensor::from_data(TensorData::new(counts, [r, n, n]), device)
}

fn random(shape: [usize; 2], seed: u64, device: &Device) -> Tensor<2> {
    device.seed(seed);
    Tensor::random(shape, Distribution::Uniform(-1.0, 1.0), device)
}

fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap()
}

/// Largest absolute difference of two equally long slices (also used by `kernels`).
pub(super) fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn assert_close(what: &str, a: Vec<f32>, b: Vec<f32>) -> f32 {
    assert!(
        a.iter().chain(&b).all(|v| v.is_finite()),
        "{what}: not finite"
    );
    let diff = max_diff(&a, &b);
    assert!(diff <= TOLERANCE, "{what}: max difference {diff}");
    diff
}

fn grad<const D: usize>(tensor: &Tensor<D>, grads: &Gradients) -> Vec<f32> {
    values(
        tensor
            .grad(grads)
            .expect("the tensor took part in the loss"),
    )
}

/// A parameter tensor of any rank, for its gradient.
enum ParamRef {
    D1(Tensor<1>),
    D2(Tensor<2>),
    D3(Tensor<3>),
}

impl ParamRef {
    fn grad(&self, grads: &Gradients) -> Vec<f32> {
        match self {
            ParamRef::D1(t) => grad(t, grads),
            ParamRef::D2(t) => grad(t, grads),
            ParamRef::D3(t) => grad(t, grads),
        }
    }
}

impl From<&Param<Tensor<1>>> for ParamRef {
    fn from(param: &Param<Tensor<1>>) -> Self {
        ParamRef::D1(param.val())
    }
}

impl From<&Param<Tensor<2>>> for ParamRef {
    fn from(param: &Param<Tensor<2>>) -> Self {
        ParamRef::D2(param.val())
    }
}

impl From<&Param<Tensor<3>>> for ParamRef {
    fn from(param: &Param<Tensor<3>>) -> Self {
        ParamRef::D3(param.val())
    }
}

/// Runs `sparse` and `dense` on the same inputs, compares outputs and the gradients of
/// `Σ out · P` with respect to the inputs and every parameter in `params`.
fn check_against_dense(
    name: &str,
    features: Tensor<2>,
    sparse: impl Fn(Tensor<2>) -> Tensor<2>,
    dense: impl Fn(Tensor<2>) -> Tensor<2>,
    params: &[(&str, ParamRef)],
) {
    let out_sparse = sparse(features.clone());
    let out_dense = dense(features.clone());
    let projection = random(out_sparse.dims(), 99, &features.device());
    let diff = assert_close(
        &format!("{name} output"),
        values(out_sparse.clone()),
        values(out_dense.clone()),
    );
    let grads_sparse = (out_sparse * projection.clone()).sum().backward();
    let grads_dense = (out_dense * projection).sum().backward();
    let mut grad_diff = assert_close(
        &format!("{name} d/d input"),
        grad(&features, &grads_sparse),
        grad(&features, &grads_dense),
    );
    for (param, tensor) in params {
        let g = tensor.grad(&grads_sparse);
        assert!(
            g.iter().any(|&v| v != 0.0),
            "{name}: {param} has no gradient"
        );
        grad_diff = grad_diff.max(assert_close(
            &format!("{name} d/d {param}"),
            g,
            tensor.grad(&grads_dense),
        ));
    }
    eprintln!("{name}: max output difference {diff:e}, max gradient difference {grad_diff:e}");
}

/// `Σ_r N_r A_r H W_r + H W_0 + b` with dense normalised adjacency matrices: `D_in⁻¹ A_r` for the
/// right normalisation, `D_in^(-1/2) A_r D_out^(-1/2)` for the symmetric one (with `A_r[i, j]`
/// counting edges `j → i`).
fn dense_rgcn(layer: &Rgcn, counts: &Tensor<3>, nodes: Tensor<2>, weights: Tensor<3>) -> Tensor<2> {
    let in_degree = counts.clone().sum_dim(2).clamp_min(1.0); // [R, n, 1]
    let adjacency = match layer.norm {
        GcnNorm::Right => counts.clone() / in_degree, // [R, n, n]
        GcnNorm::Both => {
            let out_degree = counts.clone().sum_dim(1).clamp_min(1.0); // [R, 1, n]
            counts.clone() / in_degree.sqrt() / out_degree.sqrt()
        }
    };
    let aggregated = adjacency.matmul(nodes.clone().unsqueeze_dim(0)); // [R, n, d_in]
    let mut out = aggregated.matmul(weights).sum_dim(0).squeeze_dim::<2>(0); // [n, d_out]
    if let Some(loop_weight) = &layer.loop_weight {
        out = out + nodes.matmul(loop_weight.val());
    }
    if let Some(bias) = &layer.bias {
        out = out + bias.val().unsqueeze_dim(0);
    }
    layer.activation.forward(out)
}

/// Sets every bias to random values, so that the tests see it.
fn random_bias(bias: &mut Option<Param<Tensor<1>>>, seed: u64, device: &Device) {
    if let Some(b) = bias {
        let d = b.dims()[0];
        *b = Param::from_tensor(random([1, d], seed, device).reshape([d]).require_grad());
    }
}

#[test]
fn rgcn_matches_dense_reference() {
    let device = device::cpu().autodiff();
    let graph = random_graph(1, 12, 3, 30);
    let batch = GraphBatch::new([&graph], &device).unwrap();
    let counts = dense_counts(&graph, &device);
    device.seed(3);
    let mut layer = RgcnConfig::new(5, 4, 3)
        .with_activation(ActivationConfig::Tanh)
        .init(&device);
    random_bias(&mut layer.bias, 4, &device);
    let features = random([12, 5], 5, &device).require_grad();
    check_against_dense(
        "rgcn",
        features,
        |h| layer.forward(h, &batch),
        |h| dense_rgcn(&layer, &counts, h, layer.weight.val()),
        &[
            ("weight", (&layer.weight).into()),
            ("loop_weight", layer.loop_weight.as_ref().unwrap().into()),
            ("bias", layer.bias.as_ref().unwrap().into()),
        ],
    );
}

#[test]
fn rgcn_symmetric_norm_matches_dense_reference() {
    let device = device::cpu().autodiff();
    let graph = random_graph(4, 11, 3, 32);
    let batch = GraphBatch::new([&graph], &device).unwrap();
    let counts = dense_counts(&graph, &device);
    device.seed(8);
    let config = RgcnConfig::new(5, 4, 3)
        .with_activation(ActivationConfig::Tanh)
        .with_norm(GcnNorm::Both);
    let mut layer = config.init(&device);
    random_bias(&mut layer.bias, 9, &device);
    let features = random([11, 5], 10, &device).require_grad();
    check_against_dense(
        "rgcn, symmetric norm",
        features,
        |h| layer.forward(h, &batch),
        |h| dense_rgcn(&layer, &counts, h, layer.weight.val()),
        &[
            ("weight", (&layer.weight).into()),
            ("loop_weight", layer.loop_weight.as_ref().unwrap().into()),
            ("bias", layer.bias.as_ref().unwrap().into()),
        ],
    );
}

/// DGL's `GraphConv(norm="both")` per relation on a graph small enough to work out by hand.
#[test]
fn symmetric_norm_matches_hand_computed_example() {
    let device = device::cpu();
    // Relation 0: 0 → 1, 0 → 2, 1 → 2, 2 → 2; relation 1: 2 → 0; node 3 is isolated.
    let mut graph = HeteroGraph::new(1, 2);
    let nodes: Vec<NodeIndex> = (0..4).map(|_| graph.add_node(0).unwrap()).collect();
    for (src, dst, relation) in [(0, 1, 0), (0, 2, 0), (1, 2, 0), (2, 2, 0), (2, 0, 1)] {
        graph.add_edge(nodes[src], nodes[dst], relation).unwrap();
    }
    let batch = GraphBatch::new([&graph], &device).unwrap();
    // Out-degrees within relation 0: node 0 → 2, nodes 1 and 2 → 1; in-degrees: node 1 → 1,
    // node 2 → 3. Node 2's edge of relation 1 does not count in relation 0.
    assert_eq!(batch.out_degree(0, 0), 2);
    assert_eq!(batch.out_degree(2, 0), 1);
    assert_eq!(batch.out_degree(2, 1), 1);
    let features =
        Tensor::<2>::from_floats([[1.0, 0.0], [2.0, 1.0], [4.0, -1.0], [5.0, 5.0]], &device);
    // W_0 = I, W_1 = 2I; no self-loop weight, no bias.
    let weights = Tensor::<3>::from_floats(
        [[[1.0, 0.0], [0.0, 1.0]], [[2.0, 0.0], [0.0, 2.0]]],
        &device,
    );
    let layer = |norm| {
        let mut layer = RgcnConfig::new(2, 2, 2)
            .with_self_loop(false)
            .with_bias(false)
            .with_norm(norm)
            .init(&device);
        layer.weight = Param::from_tensor(weights.clone());
        layer
    };
    let (s2, s3, s6) = (2f32.sqrt(), 3f32.sqrt(), 6f32.sqrt());
    let both = values(layer(GcnNorm::Both).forward(features.clone(), &batch));
    let expected_both = [
        // Node 0: relation 1 from node 2 (degrees 1 and 1), times 2.
        8.0,
        -2.0,
        // Node 1: h0 / (√2 · √1).
        1.0 / s2,
        0.0,
        // Node 2: h0 / (√2 · √3) + h1 / (√1 · √3) + h2 / (√1 · √3).
        1.0 / s6 + 2.0 / s3 + 4.0 / s3,
        1.0 / s3 - 1.0 / s3,
        // Node 3: no in-edges.
        0.0,
        0.0,
    ];
    assert_close("norm=both", both, expected_both.to_vec());
    let right = values(layer(GcnNorm::Right).forward(features, &batch));
    let expected_right = [8.0, -2.0, 1.0, 0.0, 7.0 / 3.0, 0.0, 0.0, 0.0];
    assert_close("norm=right", right, expected_right.to_vec());
    // Right normalisation stays the default.
    assert_eq!(RgcnConfig::new(2, 2, 2).norm, GcnNorm::Right);
}

#[test]
fn rgcn_with_bases_matches_dense_reference() {
    let device = device::cpu().autodiff();
    let graph = random_graph(2, 10, 4, 28);
    let batch = GraphBatch::new([&graph], &device).unwrap();
    let counts = dense_counts(&graph, &device);
    device.seed(6);
    let layer = RgcnConfig::new(6, 3, 4)
        .with_num_bases(Some(2))
        .with_self_loop(false)
        .with_bias(false)
        .init(&device);
    let coefficients = layer.coefficients.as_ref().expect("2 bases < 4 relations");
    assert_eq!(layer.weight.dims(), [2, 6, 3]);
    // W_r = Σ_b a_rb V_b, written out independently of the layer.
    let combined = (coefficients.val().reshape([4, 2, 1, 1]) * layer.weight.val().unsqueeze_dim(0))
        .sum_dim(1)
        .reshape([4, 6, 3]);
    let features = random([10, 6], 7, &device).require_grad();
    check_against_dense(
        "rgcn with bases",
        features,
        |h| layer.forward(h, &batch),
        |h| dense_rgcn(&layer, &counts, h, combined.clone()),
        &[
            ("bases", (&layer.weight).into()),
            ("coefficients", coefficients.into()),
        ],
    );
    // As many bases as relations means full matrices, as in DGL.
    let full = RgcnConfig::new(6, 3, 4)
        .with_num_bases(Some(4))
        .init(&device);
    assert!(full.coefficients.is_none());
    assert_eq!(full.weight.dims(), [4, 6, 3]);
}

/// Dense GAT: logits for every (relation, head, destination, source), masked by the edge counts
/// so that a repeated edge weighs as many softmax terms.
fn dense_gat(layer: &Gat, counts: &Tensor<3>, nodes: Tensor<2>) -> Tensor<2> {
    let [r, n, _] = counts.dims();
    let (k, f) = (layer.num_heads, layer.d_head);
    let z = nodes
        .matmul(layer.projection.weight.val())
        .reshape([n, k, f]);
    // [n, k, 1]
    let score = |a: &Param<Tensor<2>>| (z.clone() * a.val().unsqueeze_dim(0)).sum_dim(2);
    let src = score(&layer.attention_src)
        .reshape([1, n, k])
        .swap_dims(1, 2); // [1, k, n(j)]
    let dst = score(&layer.attention_dst)
        .reshape([1, n, k])
        .swap_dims(1, 2); // [1, k, n(i)]
    // [r, k, i, j]
    let mut logits = (dst.unsqueeze_dim::<4>(3) + src.unsqueeze_dim::<4>(2)).repeat_dim(0, r);
    if let Some(c) = &layer.relation_logits {
        logits = logits + c.val().reshape([r, k, 1, 1]);
    }
    let logits = leaky_relu(logits, layer.negative_slope);
    let weight = counts.clone().unsqueeze_dim::<4>(1); // [r, 1, i, j]
    let masked = logits.mask_fill(weight.clone().equal_elem(0.0).repeat_dim(1, k), -1e30);
    let max = masked.clone().max_dim(3).max_dim(0); // [1, k, i, 1]
    let p = (masked - max).exp() * weight; // [r, k, i, j]
    let total = p.clone().sum_dim(3).sum_dim(0); // [1, k, i, 1]
    let alpha = (p / total.clamp_min(1e-30)).sum_dim(0).squeeze_dim::<3>(0); // [k, i, j]
    let heads = alpha.matmul(z.swap_dims(0, 1)).swap_dims(0, 1); // [n, k, f]
    let mut out = match layer.merge {
        HeadMerge::Concat => heads.reshape([n, k * f]),
        HeadMerge::Mean => heads.mean_dim(1).reshape([n, f]),
    };
    if let Some(bias) = &layer.bias {
        out = out + bias.val().unsqueeze_dim(0);
    }
    layer.activation.forward(out)
}

fn gat_params(layer: &Gat) -> Vec<(&'static str, ParamRef)> {
    let mut params: Vec<(&'static str, ParamRef)> = vec![
        ("projection", (&layer.projection.weight).into()),
        ("attention_src", (&layer.attention_src).into()),
        ("attention_dst", (&layer.attention_dst).into()),
    ];
    if let Some(c) = &layer.relation_logits {
        params.push(("relation_logits", c.into()));
    }
    if let Some(b) = &layer.bias {
        params.push(("bias", b.into()));
    }
    params
}

#[test]
fn gat_matches_dense_reference() {
    let device = device::cpu().autodiff();
    let graph = random_graph(3, 12, 3, 32);
    let batch = GraphBatch::new([&graph], &device).unwrap();
    let counts = dense_counts(&graph, &device);
    let features = random([12, 5], 8, &device).require_grad();

    device.seed(9);
    let mut concat = GatConfig::new(5, 3, 2)
        .with_num_relations(Some(3))
        .with_activation(ActivationConfig::Tanh)
        .init(&device);
    random_bias(&mut concat.bias, 10, &device);
    check_against_dense(
        "gat concat + edge types",
        features.clone(),
        |h| concat.forward(h, &batch),
        |h| dense_gat(&concat, &counts, h),
        &gat_params(&concat),
    );

    let mut mean = GatConfig::new(5, 4, 3)
        .with_merge(HeadMerge::Mean)
        .init(&device);
    random_bias(&mut mean.bias, 11, &device);
    assert_eq!(mean.forward(features.clone(), &batch).dims(), [12, 4]);
    check_against_dense(
        "gat mean",
        features,
        |h| mean.forward(h, &batch),
        |h| dense_gat(&mean, &counts, h),
        &gat_params(&mean),
    );
}

#[test]
fn gat_attention_sums_to_one_over_each_nodes_in_edges() {
    let device = device::cpu();
    let graph = random_graph(4, 9, 2, 20);
    let batch = GraphBatch::new([&graph], &device).unwrap();
    device.seed(12);
    let layer = GatConfig::new(4, 2, 3).init(&device);
    let alpha = values(layer.attention(random([9, 4], 13, &device), &batch));
    let dst = batch
        .dst()
        .into_data()
        .convert::<i64>()
        .try_to_vec::<i64>()
        .unwrap();
    let mut totals = [[0f32; 3]; 9];
    for (e, &d) in dst.iter().enumerate() {
        for k in 0..3 {
            assert!(alpha[e * 3 + k] > 0.0);
            totals[d as usize][k] += alpha[e * 3 + k];
        }
    }
    for (node, total) in totals.iter().enumerate() {
        let has_in_edges = dst.contains(&(node as i64));
        for &t in total {
            let expected = if has_in_edges { 1.0 } else { 0.0 };
            assert!((t - expected).abs() < 1e-5, "node {node}: {t}");
        }
    }
}

#[test]
fn a_batch_gives_each_graph_its_own_outputs() {
    let device = device::cpu();
    let graphs = [
        random_graph(5, 7, 3, 12),
        random_graph(6, 11, 3, 25),
        random_graph(7, 4, 3, 5),
    ];
    let batch = GraphBatch::new(&graphs, &device).unwrap();
    assert_eq!(batch.node_offsets(), &[0, 7, 18, 22]);
    device.seed(14);
    let stack = RgcnStackConfig::new(
        RgcnConfig::new(5, 6, 3)
            .with_num_bases(Some(2))
            .with_activation(ActivationConfig::Relu),
        2,
    )
    .init(&device);
    let gat = GatConfig::new(6, 3, 2)
        .with_num_relations(Some(3))
        .init(&device);
    let features = random([22, 5], 15, &device);
    let encode = |h: Tensor<2>, batch: &GraphBatch| gat.forward(stack.forward(h, batch), batch);

    let together = encode(features.clone(), &batch);
    let layers = stack.forward_layers(features.clone(), &batch);
    assert_eq!(layers.len(), 2);
    assert_close(
        "forward = last of forward_layers",
        values(stack.forward(features.clone(), &batch)),
        values(layers[1].clone()),
    );
    let means = values(batch.mean_readout(together.clone()));
    let maxima = values(batch.max_readout(together.clone()));
    let d = 6;
    for (g, (graph, rows)) in graphs.iter().zip(batch.split(together)).enumerate() {
        let alone = GraphBatch::new([graph], &device).unwrap();
        let own_features = features.clone().slice(batch.nodes_of(g));
        let own = encode(own_features, &alone);
        assert_close(
            &format!("graph {g} nodes"),
            values(rows),
            values(own.clone()),
        );
        assert_close(
            &format!("graph {g} mean"),
            means[g * d..(g + 1) * d].to_vec(),
            values(own.clone().mean_dim(0)),
        );
        assert_close(
            &format!("graph {g} max"),
            maxima[g * d..(g + 1) * d].to_vec(),
            values(own.max_dim(0)),
        );
    }
}

#[test]
fn nodes_without_in_edges_get_no_messages_and_no_nan() {
    let device = device::cpu().autodiff();
    // Node 0 → 1 (relation 0) only: node 0 and node 2 have no in-edges; node 1 has none of
    // relation 1.
    let mut graph = HeteroGraph::new(1, 2);
    let nodes: Vec<NodeIndex> = (0..3).map(|_| graph.add_node(0).unwrap()).collect();
    graph.add_edge(nodes[0], nodes[1], 0).unwrap();
    let edgeless = {
        let mut g = HeteroGraph::new(1, 2);
        g.add_node(0).unwrap();
        g
    };
    let batch = GraphBatch::new([&graph, &edgeless], &device).unwrap();
    assert_eq!(batch.in_degree(1, 1), 0);
    device.seed(16);
    let mut rgcn = RgcnConfig::new(3, 4, 2).init(&device);
    random_bias(&mut rgcn.bias, 17, &device);
    let mut gat = GatConfig::new(3, 2, 2)
        .with_num_relations(Some(2))
        .init(&device);
    random_bias(&mut gat.bias, 18, &device);
    let features = random([4, 3], 19, &device).require_grad();

    let out = rgcn.forward(features.clone(), &batch);
    let self_only = features
        .clone()
        .matmul(rgcn.loop_weight.as_ref().unwrap().val())
        + rgcn.bias.as_ref().unwrap().val().unsqueeze_dim(0);
    for node in [0, 2, 3] {
        assert_close(
            &format!("rgcn node {node}"),
            values(out.clone().slice(node..node + 1)),
            values(self_only.clone().slice(node..node + 1)),
        );
    }
    let attended = gat.forward(features.clone(), &batch);
    let bias = values(gat.bias.as_ref().unwrap().val());
    for node in [0, 2, 3] {
        assert_close(
            &format!("gat node {node}"),
            values(attended.clone().slice(node..node + 1)),
            bias.clone(),
        );
    }
    let grads = (out.sum() + attended.sum()).backward();
    let g = grad(&features, &grads);
    assert!(g.iter().all(|v| v.is_finite()), "{g:?}");

    // A batch without any edge at all.
    let only_nodes = GraphBatch::new([&edgeless, &edgeless], &device).unwrap();
    let h = random([2, 3], 20, &device);
    assert!(
        values(rgcn.forward(h.clone(), &only_nodes))
            .iter()
            .all(|v| v.is_finite())
    );
    assert_eq!(gat.attention(h.clone(), &only_nodes).dims(), [0, 2]);
    assert_close(
        "gat without edges",
        values(gat.forward(h, &only_nodes)),
        [bias.clone(), bias].concat(),
    );
}
