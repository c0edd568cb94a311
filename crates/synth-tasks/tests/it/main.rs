//! synth-tasks integration tests: the graph task's labelling rule on hand-made graphs and the
//! classifier's output shape on a generated batch.

use burnlp_core::nn::graph::{GraphBatch, HeteroGraph};
use synth_tasks::graph::{GraphClassifier, NUM_NODE_TYPES, NUM_RELATIONS, a_reaches_b, generate};

/// Node types: 0 = A, 1 = B, 2 = other.
fn graph(types: &[usize], edges: &[(usize, usize, usize)]) -> HeteroGraph {
    let mut g = HeteroGraph::new(NUM_NODE_TYPES, NUM_RELATIONS);
    let nodes: Vec<_> = types.iter().map(|&t| g.add_node(t).unwrap()).collect();
    for &(s, d, r) in edges {
        g.add_edge(nodes[s], nodes[d], r).unwrap();
    }
    g
}

#[test]
fn a_reaches_b_within_two_relation_zero_hops_only() {
    // A → B directly, and A → other → B, by relation 0.
    assert!(a_reaches_b(&graph(&[0, 1], &[(0, 1, 0)])));
    assert!(a_reaches_b(&graph(&[0, 2, 1], &[(0, 1, 0), (1, 2, 0)])));
    // Three hops, a relation-1 edge on the way, or the wrong direction: no.
    assert!(!a_reaches_b(&graph(
        &[0, 2, 2, 1],
        &[(0, 1, 0), (1, 2, 0), (2, 3, 0)]
    )));
    assert!(!a_reaches_b(&graph(&[0, 2, 1], &[(0, 1, 0), (1, 2, 1)])));
    assert!(!a_reaches_b(&graph(&[1, 0], &[(0, 1, 0)])));
}

#[test]
fn classifier_scores_every_graph_of_a_batch() {
    let examples = generate(6, 3).unwrap();
    let device = burnlp_core::device::cpu();
    let batch = GraphBatch::new(examples.iter().map(|e| &e.graph), &device).unwrap();
    let logits = GraphClassifier::new(16, 2, &device).forward(&batch);
    assert_eq!(logits.dims(), [6, 2]);
    let values = logits.into_data().try_to_vec::<f32>().unwrap();
    assert!(values.iter().all(|v| v.is_finite()));
}
