//! Heterogeneous graphs, batching, and the graph encoders of GAIN, GIT, TSAR and KID.
//!
//! Document-level models encode a document as a graph with typed nodes (mentions, entities,
//! sentences, AMR concepts) and typed directed edges. This module provides:
//!
//! - [`GraphSchema`] and [`HeteroGraph`]: node types and relations (edge types) as small integer
//!   ids, optionally named, on a `petgraph` directed graph;
//! - [`GraphBatch`]: a batch of graphs turned into tensors once (block-diagonal: the nodes of
//!   all graphs are numbered consecutively), with the edge index lists, per-relation degree
//!   normalisations and per-graph readouts that every layer reuses;
//! - [`Rgcn`] and [`RgcnStack`]: the relational GCN of Schlichtkrull et al. (2018) as DGL's
//!   `RelGraphConv` computes it, with right (`D_in^{-1}`) or symmetric
//!   (`D_out^{-1/2} A D_in^{-1/2}`, Kipf & Welling's GCN) normalisation ([`GcnNorm`]);
//! - [`Gat`]: the multi-head graph attention layer of Veličković et al. (2018), with optional
//!   edge-type logits;
//! - [`scatter`]: segment sum, max and softmax over index tensors.
//!
//! Message passing is a gather of source rows ([`Tensor::select`](burn::tensor::Tensor::select))
//! and a scatter-add into destination rows (`select_assign` with `IndexingUpdateOp::Add`), so
//! it runs on every burn backend and never builds a dense adjacency matrix. On GPU backends a
//! scatter-add with repeated indices may sum in a different order from run to run, so results
//! can differ in the last bits between runs; on the CPU they are deterministic.

pub mod batch;
pub mod gat;
pub mod hetero;
pub mod rgcn;
pub mod scatter;

pub use batch::GraphBatch;
pub use gat::{Gat, GatConfig, HeadMerge};
pub use hetero::{GraphSchema, HeteroGraph};
pub use rgcn::{GcnNorm, Rgcn, RgcnConfig, RgcnStack, RgcnStackConfig};

/// Invalid graphs, schemas and batches.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// A node type id outside the graph's node types.
    #[error("node type {node_type} is out of range (the graph has {num_node_types} node types)")]
    UnknownNodeType {
        /// The id.
        node_type: usize,
        /// Number of node types.
        num_node_types: usize,
    },
    /// A relation id outside the graph's relations.
    #[error("relation {relation} is out of range (the graph has {num_relations} relations)")]
    UnknownRelation {
        /// The id.
        relation: usize,
        /// Number of relations.
        num_relations: usize,
    },
    /// An edge endpoint that is not a node of the graph.
    #[error("node {node} is not in the graph (it has {num_nodes} nodes)")]
    UnknownNode {
        /// The node index.
        node: usize,
        /// Number of nodes.
        num_nodes: usize,
    },
    /// A name that the schema does not define.
    #[error("unknown {kind} `{name}` (known: {known})")]
    UnknownName {
        /// `node type` or `relation`.
        kind: &'static str,
        /// The name.
        name: String,
        /// The names the schema defines.
        known: String,
    },
    /// A name given twice in a schema.
    #[error("{kind} `{name}` is defined twice")]
    DuplicateName {
        /// `node type` or `relation`.
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// A graph whose numbers of node types and relations differ from the first graph of a batch.
    #[error(
        "graph {graph} of the batch has {found_node_types} node types and {found_relations} \
         relations, the first graph {node_types} and {relations}"
    )]
    SchemaMismatch {
        /// Position of the graph in the batch.
        graph: usize,
        /// Node types of the first graph.
        node_types: usize,
        /// Relations of the first graph.
        relations: usize,
        /// Node types of this graph.
        found_node_types: usize,
        /// Relations of this graph.
        found_relations: usize,
    },
    /// A batch without graphs.
    #[error("a graph batch needs at least one graph")]
    EmptyBatch,
}
