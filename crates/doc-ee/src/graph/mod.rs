//! Sentence graphs for TSAR's AMR-guided interaction (spec D.3, the reference's
//! `amr2dglgraph.py`).
//!
//! Every sentence of an example has a [`SentenceGraph`]: nodes with a word span inside the
//! sentence (node 0 is the root) and typed directed edges, each present in both directions with
//! the same type. AMR roles map to 13 edge types ([`edge_type`]); `ARGn-of` roles are reversed
//! into `ARGn` first ([`normalise_role`]). A sentence without a graph gets one node over its
//! first word and no edge, as the reference does for a sentence its parser could not handle.
//!
//! Sources ([`GraphSource`]): AMR files with alignments ([`amr`], read with amr-aux's Penman
//! reader), dependency trees in CoNLL-U ([`conllu`]) or parsed on the fly by the project's own
//! dependency parser ([`parse`], amr-aux's `depparse`). [`ExampleGraph`] turns the sentence
//! graphs of an example into the *local* graph (sentence graphs side by side) and the *global*
//! graph (the same plus type-6 edges between every ordered pair of sentence roots), over node
//! spans in subword positions.

pub mod amr;
pub mod conllu;
pub mod parse;

use std::collections::HashMap;
use std::path::PathBuf;

use burnlp_core::device::Device;
use burnlp_core::nn::graph::HeteroGraph;
use petgraph::graph::NodeIndex;
use serde::{Deserialize, Serialize};

use crate::data::Example;
use crate::error::{DocEeError, Result};

/// Number of edge types.
pub const NUM_EDGE_TYPES: usize = 13;
/// The type of `snt*` roles and of the edges between sentence roots.
pub const SNT_EDGE: usize = 6;

/// The edge type of a (normalised) AMR role, as `get_amr_edge_idx` maps it:
///
/// | id | roles |
/// |---|---|
/// | 0 | location, localtion-of (sic), destination, path |
/// | 1 | year, time, duration, decade, weekday |
/// | 2 | instrument, manner, poss, topic, medium |
/// | 3 | mod |
/// | 4 | prep-* |
/// | 5 | op# (`op` followed by anything ending in a digit) |
/// | 6 | snt* |
/// | 7–11 | ARG0–ARG4 |
/// | 12 | everything else |
pub fn edge_type(role: &str) -> usize {
    match role {
        "location" | "localtion-of" | "destination" | "path" => 0,
        "year" | "time" | "duration" | "decade" | "weekday" => 1,
        "instrument" | "manner" | "poss" | "topic" | "medium" => 2,
        "mod" => 3,
        "ARG0" => 7,
        "ARG1" => 8,
        "ARG2" => 9,
        "ARG3" => 10,
        "ARG4" => 11,
        _ if role.starts_with("prep-") => 4,
        _ if role.starts_with("op") && role.ends_with(|c: char| c.is_ascii_digit()) => 5,
        _ if role.starts_with("snt") => 6,
        _ => 12,
    }
}

/// A role without its leading `:` and alignment (`:ARG0~e.3` → `ARG0`), and `ARGn-of`
/// normalised to `ARGn` with the direction reversed (the reference keeps the first four
/// characters of such a role). Returns the role and whether the edge is reversed.
pub fn normalise_role(role: &str) -> (String, bool) {
    let role = role.trim_start_matches(':');
    let role = role.split('~').next().unwrap_or(role);
    if role.starts_with("ARG") && role.ends_with("-of") {
        (role.chars().take(4).collect(), true)
    } else {
        (role.to_string(), false)
    }
}

/// The graph of one sentence: node word spans (inclusive, relative to the sentence; node 0 is
/// the root) and directed typed edges `(src, dst, type)`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentenceGraph {
    /// Word span of every node.
    pub nodes: Vec<(usize, usize)>,
    /// Edges, each in both directions.
    pub edges: Vec<(usize, usize, usize)>,
}

impl SentenceGraph {
    /// One node over the first word, no edge (a sentence without a parse).
    pub fn fallback() -> Self {
        Self {
            nodes: vec![(0, 0)],
            edges: Vec::new(),
        }
    }

    /// Adds the edge `a → b` of `kind` and its reverse.
    pub fn add_both(&mut self, a: usize, b: usize, kind: usize) {
        self.edges.push((a, b, kind));
        self.edges.push((b, a, kind));
    }
}

/// Where the graphs of `--graphs` come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GraphSource {
    /// No graph: the interaction module is skipped (the "no AMR" ablation).
    None,
    /// A directory with one Penman file `{doc_key}.amr` per example, one graph per sentence in
    /// order, aligned with ISI `~e.N` tags or JAMR / IBM `# ::node` lines.
    Amr(PathBuf),
    /// A CoNLL-U file: the sentences of each example in order, the first one with a
    /// `# doc_key = …` comment.
    Conllu(PathBuf),
    /// The run directory of an `amr-aux depparse train` run: every sentence is parsed with it
    /// and its trees become graphs as a CoNLL-U file's do.
    Parse(PathBuf),
}

impl std::str::FromStr for GraphSource {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s == "none" {
            return Ok(GraphSource::None);
        }
        if let Some(dir) = s.strip_prefix("amr:") {
            return Ok(GraphSource::Amr(PathBuf::from(dir)));
        }
        if let Some(file) = s.strip_prefix("conllu:") {
            return Ok(GraphSource::Conllu(PathBuf::from(file)));
        }
        if let Some(run) = s.strip_prefix("parse:") {
            return Ok(GraphSource::Parse(PathBuf::from(run)));
        }
        if s == "parse" {
            return Err("`parse` needs the parser's run directory: parse:RUN (a run of `amr-aux depparse train`)".into());
        }
        Err(format!(
            "`{s}`: expected none, amr:DIR, conllu:FILE or parse:RUN"
        ))
    }
}

impl std::fmt::Display for GraphSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GraphSource::None => f.write_str("none"),
            GraphSource::Amr(dir) => write!(f, "amr:{}", dir.display()),
            GraphSource::Conllu(file) => write!(f, "conllu:{}", file.display()),
            GraphSource::Parse(run) => write!(f, "parse:{}", run.display()),
        }
    }
}

/// The sentence graphs of every example, by `doc_key`.
pub type DocGraphs = HashMap<String, Vec<SentenceGraph>>;

/// A dependency tree: `(head, deprel)` per word, heads 1-based with 0 for the root (CoNLL-U's
/// HEAD and DEPREL columns).
pub type Tree = Vec<(usize, String)>;

/// The dependency tree of every sentence of every example, by `doc_key`.
pub type DocTrees = HashMap<String, Vec<Tree>>;

/// Loads the graphs of `examples` from `source` (`None` for [`GraphSource::None`]), checking
/// that every example has one graph per sentence whose spans lie inside the sentence.
/// [`GraphSource::Parse`] runs the parser on `device`.
pub fn load_graphs(
    source: &GraphSource,
    examples: &[Example],
    device: &Device,
) -> Result<Option<DocGraphs>> {
    let graphs = match source {
        GraphSource::None => return Ok(None),
        GraphSource::Amr(dir) => amr::read_amr_dir(dir, examples)?,
        GraphSource::Conllu(file) => conllu::read_conllu_graphs(file, examples)?,
        GraphSource::Parse(run) => {
            let trees = parse::parse_examples(run, examples, device)?;
            conllu::trees_to_graphs(&trees, examples, &source.to_string())?
        }
    };
    for ex in examples {
        let Some(sentences) = graphs.get(&ex.doc_key) else {
            return Err(DocEeError::invalid(
                source.to_string(),
                format!("no graphs for example `{}`", ex.doc_key),
            ));
        };
        check_graphs(ex, sentences).map_err(|p| DocEeError::invalid(source.to_string(), p))?;
    }
    Ok(Some(graphs))
}

/// Checks that `graphs` has one graph per sentence of `ex` with spans inside the sentences.
pub fn check_graphs(ex: &Example, graphs: &[SentenceGraph]) -> std::result::Result<(), String> {
    if graphs.len() != ex.sentences.len() {
        return Err(format!(
            "example `{}` has {} sentences but {} graphs",
            ex.doc_key,
            ex.sentences.len(),
            graphs.len()
        ));
    }
    for (i, (g, s)) in graphs.iter().zip(&ex.sentences).enumerate() {
        if let Some((a, b)) = g.nodes.iter().find(|(a, b)| a > b || *b >= s.len().max(1)) {
            return Err(format!(
                "example `{}` sentence {i}: node span [{a}, {b}] outside its {} words",
                ex.doc_key,
                s.len()
            ));
        }
        if let Some(e) = g
            .edges
            .iter()
            .find(|(a, b, t)| *a >= g.nodes.len() || *b >= g.nodes.len() || *t >= NUM_EDGE_TYPES)
        {
            return Err(format!(
                "example `{}` sentence {i}: bad edge {e:?}",
                ex.doc_key
            ));
        }
    }
    Ok(())
}

/// The graphs of one example over subword positions.
#[derive(Debug, Clone)]
pub struct ExampleGraph {
    /// Inclusive subword span of every node (all sentences, in order).
    pub node_spans: Vec<(usize, usize)>,
    /// Sentence graphs side by side.
    pub local: HeteroGraph,
    /// The same plus type-6 edges between every ordered pair of sentence roots.
    pub global: HeteroGraph,
}

impl ExampleGraph {
    /// Builds the graphs of an example from its sentence graphs, mapping word spans to subword
    /// spans with `word_subwords` (per document word, inclusive; `None` for words cut by the
    /// length limit). A node over a cut word covers the whole input (`0..=input_len - 1`), as
    /// the reference clips it.
    pub fn new(
        sentences: &[SentenceGraph],
        sentence_lengths: &[usize],
        word_subwords: &[Option<(usize, usize)>],
        input_len: usize,
    ) -> Result<Self> {
        let mut node_spans = Vec::new();
        let mut local = HeteroGraph::new(1, NUM_EDGE_TYPES);
        let mut roots = Vec::new();
        let mut first_word = 0;
        for (graph, &len) in sentences.iter().zip(sentence_lengths) {
            let offset = node_spans.len();
            roots.push(offset);
            for &(a, b) in &graph.nodes {
                let span = match (
                    word_subwords.get(first_word + a).copied().flatten(),
                    word_subwords.get(first_word + b).copied().flatten(),
                ) {
                    (Some((s, _)), Some((_, e))) => (s, e),
                    _ => (0, input_len - 1),
                };
                node_spans.push(span);
                local.add_node(0)?;
            }
            for &(a, b, t) in &graph.edges {
                local.add_edge(NodeIndex::new(offset + a), NodeIndex::new(offset + b), t)?;
            }
            first_word += len;
        }
        let mut global = local.clone();
        for &i in &roots {
            for &j in &roots {
                if i != j {
                    global.add_edge(NodeIndex::new(i), NodeIndex::new(j), SNT_EDGE)?;
                }
            }
        }
        Ok(Self {
            node_spans,
            local,
            global,
        })
    }
}
