//! The frame knowledge graph (FKG, §3.1, KID's `rel_graph_construct.py`).
//!
//! Nodes: the frames (ids `0..F`), every FE of those frames (`F..F+R`), and one dummy FE (the
//! stop symbol, last). Five relations, each symmetrised (both directions, each edge once) and
//! normalised `D^{-1/2} A D^{-1/2}` by core's R-GCN with [`GcnNorm::Both`]:
//!
//! 1. `frame_fe`: a frame and each of its FEs;
//! 2. `frame_frame`: every relation of `frRelation.xml`, all relation types merged (quirk 3);
//! 3. `inter_fe`: the FE-to-FE mappings of those relations;
//! 4. `intra_fe`: inside a frame, FE A and FE B when B's name is a word of A's definition;
//! 5. `self_loop`: every node to itself.
//!
//! FE nodes are embedded by FE **name** ([`FrameGraph::fe_name_ids`]), so same-named FEs of
//! different frames start from the same vector (quirk 2).
//!
//! [`GcnNorm::Both`]: burnlp_core::nn::graph::GcnNorm::Both

use std::collections::{BTreeSet, HashMap, HashSet};

use burnlp_core::burn::tensor::{Device, Int, Tensor, TensorData};
use burnlp_core::nn::graph::{GraphBatch, HeteroGraph};

use crate::error::Result;
use crate::lexicon::{CoreType, Lexicon, normalise_fe_name};

/// The relation names, in id order.
pub const RELATIONS: [&str; 5] = [
    "frame_fe",
    "frame_frame",
    "inter_fe",
    "intra_fe",
    "self_loop",
];

/// Name of the dummy (stop) FE.
pub const STOP: &str = "<stop>";

/// An FE node.
#[derive(Debug, Clone, PartialEq)]
pub struct FeNode {
    /// Index of its frame in [`FrameGraph::frames`].
    pub frame: usize,
    /// Its name (XML spelling).
    pub name: String,
    /// Its core type.
    pub core_type: CoreType,
}

/// The frame knowledge graph over a set of frames of a lexicon.
#[derive(Debug, Clone)]
pub struct FrameGraph {
    /// Frame names (node `i` is frame `i`).
    pub frames: Vec<String>,
    /// FE nodes (node `F + j` is FE `j`); the dummy FE is node `F + fes.len()`.
    pub fes: Vec<FeNode>,
    /// FEs of each frame (indices into `fes`).
    pub frame_fes: Vec<Vec<usize>>,
    /// Name id of every FE, then of the dummy (the last id).
    pub fe_name_ids: Vec<usize>,
    /// Distinct FE names by id (the dummy's last).
    pub fe_names: Vec<String>,
    /// The graph (node type 0 = frame, 1 = FE).
    pub graph: HeteroGraph,
    /// Undirected edge count of each relation (self-loops counted once).
    pub edge_counts: [usize; 5],
    frame_ids: HashMap<String, usize>,
    fe_ids: HashMap<(usize, String), usize>,
}

fn words(text: &str) -> HashSet<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .filter(|w| !w.is_empty())
        .collect()
}

impl FrameGraph {
    /// The graph over the frames named in `keep` (all frames of the lexicon with `None`), in
    /// lexicon order; relations to frames outside the set are left out.
    pub fn build(lexicon: &Lexicon, keep: Option<&BTreeSet<String>>) -> Result<Self> {
        let chosen: Vec<usize> = (0..lexicon.frames.len())
            .filter(|&i| keep.is_none_or(|k| k.contains(&lexicon.frames[i].name)))
            .collect();
        let frames: Vec<String> = chosen
            .iter()
            .map(|&i| lexicon.frames[i].name.clone())
            .collect();
        let frame_ids: HashMap<String, usize> = frames
            .iter()
            .enumerate()
            .map(|(i, f)| (f.clone(), i))
            .collect();
        let mut fes = Vec::new();
        let mut frame_fes = vec![Vec::new(); frames.len()];
        let mut fe_ids = HashMap::new();
        let mut fe_by_xml_id: HashMap<u32, usize> = HashMap::new();
        let mut name_ids: HashMap<String, usize> = HashMap::new();
        let mut fe_names = Vec::new();
        let mut fe_name_ids = Vec::new();
        for (f, &i) in chosen.iter().enumerate() {
            for fe in &lexicon.frames[i].fes {
                let j = fes.len();
                fes.push(FeNode {
                    frame: f,
                    name: fe.name.clone(),
                    core_type: fe.core_type,
                });
                frame_fes[f].push(j);
                fe_ids.insert((f, normalise_fe_name(&fe.name)), j);
                fe_by_xml_id.insert(fe.id, j);
                let next = name_ids.len();
                let id = *name_ids.entry(fe.name.clone()).or_insert_with(|| {
                    fe_names.push(fe.name.clone());
                    next
                });
                fe_name_ids.push(id);
            }
        }
        fe_name_ids.push(fe_names.len());
        fe_names.push(STOP.to_string());
        let (nf, nfe) = (frames.len(), fes.len());
        let num_nodes = nf + nfe + 1;
        let mut edges: [BTreeSet<(usize, usize)>; 5] = Default::default();
        let mut add = |r: usize, a: usize, b: usize| {
            edges[r].insert((a.min(b), a.max(b)));
        };
        for (f, list) in frame_fes.iter().enumerate() {
            for &j in list {
                add(0, f, nf + j);
            }
        }
        for relation in &lexicon.relations {
            let frame = |id: u32| {
                lexicon
                    .frame_by_id(id)
                    .and_then(|i| frame_ids.get(&lexicon.frames[i].name).copied())
            };
            if let (Some(a), Some(b)) = (frame(relation.sub_id), frame(relation.sup_id)) {
                add(1, a, b);
                for fe in &relation.fe_relations {
                    if let (Some(x), Some(y)) =
                        (fe_by_xml_id.get(&fe.sub_id), fe_by_xml_id.get(&fe.sup_id))
                    {
                        add(2, nf + x, nf + y);
                    }
                }
            }
        }
        for (f, &i) in chosen.iter().enumerate() {
            let frame = &lexicon.frames[i];
            for (a, fe_a) in frame.fes.iter().enumerate() {
                let vocabulary = words(&fe_a.definition);
                for (b, fe_b) in frame.fes.iter().enumerate() {
                    if a != b && vocabulary.contains(fe_b.name.as_str()) {
                        add(3, nf + frame_fes[f][a], nf + frame_fes[f][b]);
                    }
                }
            }
        }
        for n in 0..num_nodes {
            add(4, n, n);
        }
        let mut graph = HeteroGraph::new(2, RELATIONS.len());
        let mut nodes = Vec::with_capacity(num_nodes);
        for n in 0..num_nodes {
            nodes.push(graph.add_node(usize::from(n >= nf))?);
        }
        for (r, set) in edges.iter().enumerate() {
            for &(a, b) in set {
                graph.add_edge(nodes[a], nodes[b], r)?;
                if a != b {
                    graph.add_edge(nodes[b], nodes[a], r)?;
                }
            }
        }
        let edge_counts = [0, 1, 2, 3, 4].map(|r| edges[r].len());
        Ok(Self {
            frames,
            fes,
            frame_fes,
            fe_name_ids,
            fe_names,
            graph,
            edge_counts,
            frame_ids,
            fe_ids,
        })
    }

    /// Number of frames `F`.
    pub fn num_frames(&self) -> usize {
        self.frames.len()
    }

    /// Number of FE nodes including the dummy (`R + 1`).
    pub fn num_fe_nodes(&self) -> usize {
        self.fes.len() + 1
    }

    /// The dummy FE's index among the FE nodes.
    pub fn stop(&self) -> usize {
        self.fes.len()
    }

    /// The index of frame `name`.
    pub fn frame(&self, name: &str) -> Option<usize> {
        self.frame_ids.get(name).copied()
    }

    /// The FE node index of `name` in frame `frame` (`_` accepted for `-`).
    pub fn fe(&self, frame: usize, name: &str) -> Option<usize> {
        self.fe_ids.get(&(frame, normalise_fe_name(name))).copied()
    }

    /// The tensors the model needs, on `device`.
    pub fn tensors(&self, device: &Device) -> Result<GraphTensors> {
        let ids: Vec<i64> = self.fe_name_ids.iter().map(|&i| i as i64).collect();
        let n = ids.len();
        Ok(GraphTensors {
            batch: GraphBatch::new([&self.graph], device)?,
            fe_names: Tensor::from_data(TensorData::new(ids, [n]), device),
            num_frames: self.frames.len(),
        })
    }
}

/// The FKG as tensors: the graph batch and the name id of every FE node.
#[derive(Debug, Clone)]
pub struct GraphTensors {
    /// The graph.
    pub batch: GraphBatch,
    /// Name ids of the FE nodes (dummy last) `[R + 1]`.
    pub fe_names: Tensor<1, Int>,
    /// Number of frame nodes.
    pub num_frames: usize,
}
