//! Typed directed graphs on `petgraph`, and the schema that names their types.

use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use serde::{Deserialize, Serialize};

use super::GraphError;

/// Names of the node types and relations of a family of graphs; a name's id is its position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphSchema {
    node_types: Vec<String>,
    relations: Vec<String>,
}

impl GraphSchema {
    /// A schema with these node type and relation names (ids `0..`), each name unique.
    pub fn new<N, R>(
        node_types: impl IntoIterator<Item = N>,
        relations: impl IntoIterator<Item = R>,
    ) -> Result<Self, GraphError>
    where
        N: Into<String>,
        R: Into<String>,
    {
        let node_types = unique_names(node_types, "node type")?;
        let relations = unique_names(relations, "relation")?;
        Ok(Self {
            node_types,
            relations,
        })
    }

    /// Number of node types.
    pub fn num_node_types(&self) -> usize {
        self.node_types.len()
    }

    /// Number of relations.
    pub fn num_relations(&self) -> usize {
        self.relations.len()
    }

    /// The id of the node type called `name`.
    pub fn node_type(&self, name: &str) -> Result<usize, GraphError> {
        lookup(&self.node_types, name, "node type")
    }

    /// The id of the relation called `name`.
    pub fn relation(&self, name: &str) -> Result<usize, GraphError> {
        lookup(&self.relations, name, "relation")
    }

    /// The name of node type `id`.
    pub fn node_type_name(&self, id: usize) -> Option<&str> {
        self.node_types.get(id).map(String::as_str)
    }

    /// The name of relation `id`.
    pub fn relation_name(&self, id: usize) -> Option<&str> {
        self.relations.get(id).map(String::as_str)
    }

    /// An empty graph with this schema's node types and relations.
    pub fn graph(&self) -> HeteroGraph {
        HeteroGraph::new(self.num_node_types(), self.num_relations())
    }
}

fn unique_names<S: Into<String>>(
    names: impl IntoIterator<Item = S>,
    kind: &'static str,
) -> Result<Vec<String>, GraphError> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        let name = name.into();
        if out.contains(&name) {
            return Err(GraphError::DuplicateName { kind, name });
        }
        out.push(name);
    }
    Ok(out)
}

fn lookup(names: &[String], name: &str, kind: &'static str) -> Result<usize, GraphError> {
    names
        .iter()
        .position(|n| n == name)
        .ok_or_else(|| GraphError::UnknownName {
            kind,
            name: name.to_string(),
            known: names.join(", "),
        })
}

/// A directed graph whose nodes carry a node type id and whose edges carry a relation id.
///
/// Node `i` of the graph is row `i` of its node features; an edge `src → dst` of relation `r`
/// sends a message from `src` to `dst` in the graph layers. Self-edges and repeated edges are
/// allowed and each counts as one in-neighbour.
#[derive(Debug, Clone)]
pub struct HeteroGraph {
    graph: DiGraph<usize, usize>,
    num_node_types: usize,
    num_relations: usize,
}

impl HeteroGraph {
    /// An empty graph with `num_node_types` node types and `num_relations` relations.
    pub fn new(num_node_types: usize, num_relations: usize) -> Self {
        Self {
            graph: DiGraph::new(),
            num_node_types,
            num_relations,
        }
    }

    /// Wraps a `petgraph` graph whose node weights are node type ids and whose edge weights are
    /// relation ids, checking that every id is in range.
    pub fn from_petgraph(
        graph: DiGraph<usize, usize>,
        num_node_types: usize,
        num_relations: usize,
    ) -> Result<Self, GraphError> {
        if let Some(&node_type) = graph.node_weights().find(|&&t| t >= num_node_types) {
            return Err(GraphError::UnknownNodeType {
                node_type,
                num_node_types,
            });
        }
        if let Some(&relation) = graph.edge_weights().find(|&&r| r >= num_relations) {
            return Err(GraphError::UnknownRelation {
                relation,
                num_relations,
            });
        }
        Ok(Self {
            graph,
            num_node_types,
            num_relations,
        })
    }

    /// Adds a node of type `node_type`; nodes are numbered `0, 1, …` in insertion order.
    pub fn add_node(&mut self, node_type: usize) -> Result<NodeIndex, GraphError> {
        if node_type >= self.num_node_types {
            return Err(GraphError::UnknownNodeType {
                node_type,
                num_node_types: self.num_node_types,
            });
        }
        Ok(self.graph.add_node(node_type))
    }

    /// Adds an edge `src → dst` of relation `relation`.
    pub fn add_edge(
        &mut self,
        src: NodeIndex,
        dst: NodeIndex,
        relation: usize,
    ) -> Result<EdgeIndex, GraphError> {
        if relation >= self.num_relations {
            return Err(GraphError::UnknownRelation {
                relation,
                num_relations: self.num_relations,
            });
        }
        for node in [src, dst] {
            if node.index() >= self.graph.node_count() {
                return Err(GraphError::UnknownNode {
                    node: node.index(),
                    num_nodes: self.graph.node_count(),
                });
            }
        }
        Ok(self.graph.add_edge(src, dst, relation))
    }

    /// Number of nodes.
    pub fn num_nodes(&self) -> usize {
        self.graph.node_count()
    }

    /// Number of edges.
    pub fn num_edges(&self) -> usize {
        self.graph.edge_count()
    }

    /// Number of node types.
    pub fn num_node_types(&self) -> usize {
        self.num_node_types
    }

    /// Number of relations.
    pub fn num_relations(&self) -> usize {
        self.num_relations
    }

    /// The type of `node`, if it is in the graph.
    pub fn node_type(&self, node: NodeIndex) -> Option<usize> {
        self.graph.node_weight(node).copied()
    }

    /// The underlying `petgraph` graph, for its algorithms.
    pub fn graph(&self) -> &DiGraph<usize, usize> {
        &self.graph
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_map_to_ids_and_bad_names_are_errors() {
        let schema = GraphSchema::new(["mention", "entity"], ["intra", "inter", "coref"]).unwrap();
        assert_eq!(schema.node_type("entity"), Ok(1));
        assert_eq!(schema.relation("coref"), Ok(2));
        assert_eq!(schema.relation_name(1), Some("inter"));
        assert_eq!(schema.node_type_name(2), None);
        assert!(matches!(
            schema.relation("sentence"),
            Err(GraphError::UnknownName {
                kind: "relation",
                ..
            })
        ));
        assert_eq!(
            GraphSchema::new(["a", "b", "a"], ["r"]),
            Err(GraphError::DuplicateName {
                kind: "node type",
                name: "a".into()
            })
        );
        let graph = schema.graph();
        assert_eq!((graph.num_node_types(), graph.num_relations()), (2, 3));
    }

    #[test]
    fn ids_and_endpoints_are_checked() {
        let mut graph = HeteroGraph::new(2, 1);
        let a = graph.add_node(0).unwrap();
        let b = graph.add_node(1).unwrap();
        assert_eq!(
            graph.add_node(2),
            Err(GraphError::UnknownNodeType {
                node_type: 2,
                num_node_types: 2
            })
        );
        assert!(graph.add_edge(a, b, 0).is_ok());
        assert!(graph.add_edge(b, b, 0).is_ok());
        assert_eq!(
            graph.add_edge(a, b, 1),
            Err(GraphError::UnknownRelation {
                relation: 1,
                num_relations: 1
            })
        );
        assert_eq!(
            graph.add_edge(a, NodeIndex::new(5), 0),
            Err(GraphError::UnknownNode {
                node: 5,
                num_nodes: 2
            })
        );
        assert_eq!((graph.num_nodes(), graph.num_edges()), (2, 2));
        assert_eq!(graph.node_type(b), Some(1));

        let mut raw = DiGraph::new();
        let x = raw.add_node(0);
        raw.add_edge(x, x, 3);
        assert!(matches!(
            HeteroGraph::from_petgraph(raw.clone(), 1, 3),
            Err(GraphError::UnknownRelation { relation: 3, .. })
        ));
        assert_eq!(
            HeteroGraph::from_petgraph(raw, 1, 4).unwrap().num_edges(),
            1
        );
    }
}
