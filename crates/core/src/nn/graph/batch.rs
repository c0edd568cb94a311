//! A batch of graphs as tensors, built once and shared by every layer.

use std::ops::Range;

use burn::tensor::{Device, Int, Tensor, TensorData};
use petgraph::visit::EdgeRef;

use super::scatter::{scatter_sum, segment_max};
use super::{GraphError, HeteroGraph};

/// Graphs batched block-diagonally: the nodes of graph `g` are rows
/// `node_offsets[g]..node_offsets[g + 1]` of the node features, and edges never cross graphs.
///
/// Holds, as tensors on one device, everything the layers need: the source, destination and
/// relation of every edge, the index `dst · R + relation` that sorts messages into
/// (node, relation) slots, the right normalisation `1 / max(in-degree, 1)` of every slot and the
/// symmetric normalisation of every edge (degrees counted per relation); plus the node types and
/// the graph of every node for embeddings and readouts.
#[derive(Debug, Clone)]
pub struct GraphBatch {
    num_node_types: usize,
    num_relations: usize,
    node_offsets: Vec<usize>,
    in_degree: Vec<usize>,
    out_degree: Vec<usize>,
    node_types: Tensor<1, Int>,
    node_graph: Tensor<1, Int>,
    graph_norm: Tensor<2>,
    src: Tensor<1, Int>,
    dst: Tensor<1, Int>,
    relation: Tensor<1, Int>,
    dst_relation: Tensor<1, Int>,
    relation_norm: Tensor<2>,
    symmetric_norm: Tensor<2>,
}

impl GraphBatch {
    /// Batches `graphs`, which must share their numbers of node types and relations, on
    /// `device`.
    pub fn new<'a>(
        graphs: impl IntoIterator<Item = &'a HeteroGraph>,
        device: &Device,
    ) -> Result<Self, GraphError> {
        let graphs: Vec<&HeteroGraph> = graphs.into_iter().collect();
        let first = graphs.first().ok_or(GraphError::EmptyBatch)?;
        let (num_node_types, num_relations) = (first.num_node_types(), first.num_relations());
        let mut node_offsets = vec![0];
        let (mut node_types, mut node_graph) = (Vec::new(), Vec::new());
        let (mut src, mut dst, mut relation) = (Vec::new(), Vec::new(), Vec::new());
        for (g, graph) in graphs.iter().enumerate() {
            if (graph.num_node_types(), graph.num_relations()) != (num_node_types, num_relations) {
                return Err(GraphError::SchemaMismatch {
                    graph: g,
                    node_types: num_node_types,
                    relations: num_relations,
                    found_node_types: graph.num_node_types(),
                    found_relations: graph.num_relations(),
                });
            }
            let offset = node_offsets[g];
            let graph = graph.graph();
            node_types.extend(graph.node_weights().map(|&t| t as i64));
            node_graph.extend(std::iter::repeat_n(g as i64, graph.node_count()));
            for edge in graph.edge_references() {
                src.push((offset + edge.source().index()) as i64);
                dst.push((offset + edge.target().index()) as i64);
                relation.push(*edge.weight() as i64);
            }
            node_offsets.push(offset + graph.node_count());
        }
        let num_nodes = node_types.len();
        let mut in_degree = vec![0; num_nodes * num_relations];
        let mut out_degree = vec![0; num_nodes * num_relations];
        let dst_relation: Vec<i64> = dst
            .iter()
            .zip(&relation)
            .map(|(&d, &r)| d * num_relations as i64 + r)
            .collect();
        for &slot in &dst_relation {
            in_degree[slot as usize] += 1;
        }
        let src_relation: Vec<usize> = src
            .iter()
            .zip(&relation)
            .map(|(&s, &r)| s as usize * num_relations + r as usize)
            .collect();
        for &slot in &src_relation {
            out_degree[slot] += 1;
        }
        let relation_norm: Vec<f32> = in_degree.iter().map(|&d| 1.0 / d.max(1) as f32).collect();
        // DGL's `norm="both"`: `max(d, 1)^(-1/2)` of the source's out-degree and of the
        // destination's in-degree, both in f32, multiplied per edge.
        let inv_sqrt = |d: usize| (d.max(1) as f32).powf(-0.5);
        let symmetric_norm: Vec<f32> = src_relation
            .iter()
            .zip(&dst_relation)
            .map(|(&s, &d)| inv_sqrt(out_degree[s]) * inv_sqrt(in_degree[d as usize]))
            .collect();
        let graph_norm: Vec<f32> = node_offsets
            .windows(2)
            .map(|w| 1.0 / (w[1] - w[0]).max(1) as f32)
            .collect();
        let ints = |values: Vec<i64>| {
            let n = values.len();
            Tensor::<1, Int>::from_data(TensorData::new(values, [n]), device)
        };
        let column = |values: Vec<f32>| {
            let n = values.len();
            Tensor::<2>::from_data(TensorData::new(values, [n, 1]), device)
        };
        Ok(Self {
            num_node_types,
            num_relations,
            node_offsets,
            in_degree,
            out_degree,
            node_types: ints(node_types),
            node_graph: ints(node_graph),
            graph_norm: column(graph_norm),
            src: ints(src),
            dst: ints(dst),
            relation: ints(relation),
            dst_relation: ints(dst_relation),
            relation_norm: column(relation_norm),
            symmetric_norm: column(symmetric_norm),
        })
    }

    /// Number of graphs.
    pub fn num_graphs(&self) -> usize {
        self.node_offsets.len() - 1
    }

    /// Number of nodes of all graphs together.
    pub fn num_nodes(&self) -> usize {
        *self.node_offsets.last().expect("at least one graph")
    }

    /// Number of edges of all graphs together.
    pub fn num_edges(&self) -> usize {
        self.src.dims()[0]
    }

    /// Number of node types.
    pub fn num_node_types(&self) -> usize {
        self.num_node_types
    }

    /// Number of relations `R`.
    pub fn num_relations(&self) -> usize {
        self.num_relations
    }

    /// Where each graph's nodes start, and the total number of nodes at the end
    /// (`num_graphs + 1` entries).
    pub fn node_offsets(&self) -> &[usize] {
        &self.node_offsets
    }

    /// The batch rows of graph `graph`'s nodes.
    pub fn nodes_of(&self, graph: usize) -> Range<usize> {
        self.node_offsets[graph]..self.node_offsets[graph + 1]
    }

    /// Number of in-edges of `node` (a batch row) with relation `relation`.
    pub fn in_degree(&self, node: usize, relation: usize) -> usize {
        assert!(
            relation < self.num_relations,
            "relation {relation} out of range"
        );
        self.in_degree[node * self.num_relations + relation]
    }

    /// Number of out-edges of `node` (a batch row) with relation `relation`.
    pub fn out_degree(&self, node: usize, relation: usize) -> usize {
        assert!(
            relation < self.num_relations,
            "relation {relation} out of range"
        );
        self.out_degree[node * self.num_relations + relation]
    }

    /// Type of every node, `[num_nodes]`.
    pub fn node_types(&self) -> Tensor<1, Int> {
        self.node_types.clone()
    }

    /// Graph of every node, `[num_nodes]`.
    pub fn node_graph(&self) -> Tensor<1, Int> {
        self.node_graph.clone()
    }

    /// Source node of every edge, `[num_edges]`.
    pub fn src(&self) -> Tensor<1, Int> {
        self.src.clone()
    }

    /// Destination node of every edge, `[num_edges]`.
    pub fn dst(&self) -> Tensor<1, Int> {
        self.dst.clone()
    }

    /// Relation of every edge, `[num_edges]`.
    pub fn relation(&self) -> Tensor<1, Int> {
        self.relation.clone()
    }

    /// The (node, relation) slot every edge delivers to, `dst · R + relation`, `[num_edges]`.
    pub fn dst_relation(&self) -> Tensor<1, Int> {
        self.dst_relation.clone()
    }

    /// `1 / max(in-degree, 1)` of every (node, relation) slot, `[num_nodes · R, 1]` (row
    /// `node · R + relation`): DGL's right normalisation, 0-safe for nodes without in-edges.
    pub fn relation_norm(&self) -> Tensor<2> {
        self.relation_norm.clone()
    }

    /// `max(out-degree(src), 1)^(-1/2) · max(in-degree(dst), 1)^(-1/2)` of every edge
    /// `src → dst`, degrees counted within the edge's relation, `[num_edges, 1]`: DGL's
    /// symmetric normalisation (`GraphConv(norm="both")`, `D_out^(-1/2) A D_in^(-1/2)`).
    pub fn symmetric_norm(&self) -> Tensor<2> {
        self.symmetric_norm.clone()
    }

    /// The rows of `nodes` of each graph, in batch order.
    ///
    /// # Shapes
    /// - `nodes`: `[num_nodes, d]`
    /// - output: one `[nodes of graph g, d]` per graph
    pub fn split(&self, nodes: Tensor<2>) -> Vec<Tensor<2>> {
        (0..self.num_graphs())
            .map(|g| nodes.clone().slice(self.nodes_of(g)))
            .collect()
    }

    /// Mean of each graph's node rows (0 for a graph without nodes).
    ///
    /// # Shapes
    /// - `nodes`: `[num_nodes, d]`
    /// - output: `[num_graphs, d]`
    pub fn mean_readout(&self, nodes: Tensor<2>) -> Tensor<2> {
        self.check_rows(&nodes);
        scatter_sum(nodes, self.node_graph(), self.num_graphs()) * self.graph_norm.clone()
    }

    /// Element-wise maximum of each graph's node rows (0 for a graph without nodes).
    ///
    /// # Shapes
    /// - `nodes`: `[num_nodes, d]`
    /// - output: `[num_graphs, d]`
    pub fn max_readout(&self, nodes: Tensor<2>) -> Tensor<2> {
        self.check_rows(&nodes);
        segment_max(nodes, self.node_graph(), self.num_graphs())
    }

    /// Panics unless `nodes` has one row per node of the batch.
    pub(super) fn check_rows(&self, nodes: &Tensor<2>) {
        assert_eq!(
            nodes.dims()[0],
            self.num_nodes(),
            "node features have {} rows but the batch has {} nodes",
            nodes.dims()[0],
            self.num_nodes()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device;
    use petgraph::graph::NodeIndex;

    fn ints(tensor: Tensor<1, Int>) -> Vec<i64> {
        tensor
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .unwrap()
    }

    #[test]
    fn offsets_edges_and_degrees_are_block_diagonal() {
        let mut a = HeteroGraph::new(2, 2);
        let (a0, a1) = (a.add_node(0).unwrap(), a.add_node(1).unwrap());
        a.add_edge(a0, a1, 1).unwrap();
        a.add_edge(a0, a1, 1).unwrap();
        let mut b = HeteroGraph::new(2, 2);
        let nodes: Vec<NodeIndex> = (0..3).map(|i| b.add_node(i % 2).unwrap()).collect();
        b.add_edge(nodes[2], nodes[0], 0).unwrap();
        b.add_edge(nodes[1], nodes[1], 1).unwrap();
        let batch = GraphBatch::new([&a, &b], &device::cpu()).unwrap();
        assert_eq!(batch.node_offsets(), &[0, 2, 5]);
        assert_eq!((batch.num_nodes(), batch.num_edges()), (5, 4));
        assert_eq!(ints(batch.node_types()), vec![0, 1, 0, 1, 0]);
        assert_eq!(ints(batch.node_graph()), vec![0, 0, 1, 1, 1]);
        assert_eq!(ints(batch.src()), vec![0, 0, 4, 3]);
        assert_eq!(ints(batch.dst()), vec![1, 1, 2, 3]);
        assert_eq!(ints(batch.dst_relation()), vec![3, 3, 4, 7]);
        assert_eq!(batch.in_degree(1, 1), 2);
        assert_eq!(batch.in_degree(1, 0), 0);
        assert_eq!(batch.in_degree(2, 0), 1);
        let norm: Vec<f32> = batch
            .relation_norm()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(norm[3], 0.5);
        assert_eq!(norm[2], 1.0);
        // Edges 0 → 1 (twice, relation 1), 4 → 2 (relation 0), 3 → 3 (relation 1).
        assert_eq!(batch.out_degree(0, 1), 2);
        assert_eq!(batch.out_degree(0, 0), 0);
        assert_eq!(batch.out_degree(3, 1), 1);
        let symmetric: Vec<f32> = batch
            .symmetric_norm()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        // 1/√2 · 1/√2 for the repeated edge, 1 for the others.
        assert!((symmetric[0] - 0.5).abs() < 1e-7, "{symmetric:?}");
        assert_eq!(&symmetric[2..], &[1.0, 1.0]);
    }

    #[test]
    fn mismatched_or_empty_batches_are_errors() {
        let device = device::cpu();
        assert_eq!(
            GraphBatch::new([], &device).unwrap_err(),
            GraphError::EmptyBatch
        );
        let (a, b) = (HeteroGraph::new(2, 2), HeteroGraph::new(2, 3));
        assert!(matches!(
            GraphBatch::new([&a, &b], &device),
            Err(GraphError::SchemaMismatch { graph: 1, .. })
        ));
    }
}
