//! Sentence graphs from AMR files with token alignments, read with amr-aux's Penman reader.
//!
//! Two alignment styles:
//!
//! - **JAMR / IBM metadata** (what the reference's transition parser writes):
//!   `# ::node<TAB>id<TAB>concept<TAB>start-end` (end exclusive), `# ::root<TAB>id<TAB>concept`
//!   and `# ::edge<TAB>src-concept<TAB>role<TAB>dst-concept<TAB>src-id<TAB>dst-id`. Nodes
//!   without a `start-end` span are dropped with their edges; the root comes first, then the
//!   other nodes in the order of their lines. A graph without a `# ::root` line gets the
//!   one-node fallback, as in the reference.
//! - **ISI tags** in the graph (`(k / kill-01~e.2 :ARG0~e.1 (p / person~e.0))`): a variable
//!   node spans the tokens of its concept's tags (`~e.3,4` → words 3–4); constants are not
//!   nodes. The top node comes first if it is aligned, then the others in order of definition.
//!
//! Tags after a quoted constant (`"Obama"~e.5`), which the Penman reader does not take, are
//! removed before parsing (constants are not nodes, so nothing is lost).

use std::collections::HashMap;
use std::path::Path;

use amr_aux::{Amr, Target, parse_amrs};

use super::{DocGraphs, SentenceGraph, edge_type, normalise_role};
use crate::data::Example;
use crate::error::{DocEeError, Result};

/// Reads `DIR/{doc_key}.amr` for every example: one graph per sentence, in order.
pub fn read_amr_dir(dir: &Path, examples: &[Example]) -> Result<DocGraphs> {
    let mut out = DocGraphs::new();
    for ex in examples {
        let path = dir.join(format!("{}.amr", ex.doc_key));
        let text = std::fs::read_to_string(&path).map_err(|source| DocEeError::Read {
            path: path.clone(),
            source,
        })?;
        let amrs = parse_aligned(&text).map_err(|source| DocEeError::Amr {
            path: path.clone(),
            source,
        })?;
        if amrs.len() != ex.sentences.len() {
            return Err(DocEeError::invalid(
                path.display().to_string(),
                format!(
                    "{} graphs for the {} sentences of `{}`",
                    amrs.len(),
                    ex.sentences.len(),
                    ex.doc_key
                ),
            ));
        }
        let graphs = amrs
            .iter()
            .zip(&ex.sentences)
            .enumerate()
            .map(|(i, (amr, words))| {
                sentence_graph(amr, words.len()).map_err(|p| {
                    DocEeError::invalid(path.display().to_string(), format!("graph {}: {p}", i + 1))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.insert(ex.doc_key.clone(), graphs);
    }
    Ok(out)
}

/// Parses Penman text whose quoted constants may carry ISI alignment tags.
pub fn parse_aligned(text: &str) -> std::result::Result<Vec<Amr>, amr_aux::Error> {
    let tags = regex::Regex::new(r#""~(?:e\.)?[0-9]+(?:,[0-9]+)*"#).expect("a valid pattern");
    Ok(parse_amrs(&tags.replace_all(text, "\""))?)
}

/// The graph of one sentence of `words` words (see the [module docs](self)).
pub fn sentence_graph(amr: &Amr, words: usize) -> std::result::Result<SentenceGraph, String> {
    let graph = if amr.metadata.iter().any(|(k, _)| k == "node") {
        metadata_graph(amr)?
    } else {
        tagged_graph(amr)?
    };
    if let Some((a, b)) = graph.nodes.iter().find(|(_, b)| *b >= words) {
        return Err(format!(
            "a node is aligned to words {a}–{b}, the sentence has {words}"
        ));
    }
    Ok(if graph.nodes.is_empty() {
        SentenceGraph::fallback()
    } else {
        graph
    })
}

/// Nodes and edges from `# ::node`, `# ::root` and `# ::edge` lines.
fn metadata_graph(amr: &Amr) -> std::result::Result<SentenceGraph, String> {
    let mut spans: Vec<(String, (usize, usize))> = Vec::new();
    let mut root = None;
    for (key, value) in &amr.metadata {
        let fields: Vec<&str> = value.split('\t').collect();
        match key.as_str() {
            "node" => {
                if fields.len() != 3 {
                    continue;
                }
                let Some((a, b)) = fields[2].split_once('-') else {
                    continue;
                };
                let (Ok(a), Ok(b)) = (a.trim().parse::<usize>(), b.trim().parse::<usize>()) else {
                    continue;
                };
                if b <= a {
                    return Err(format!("node `{}` has the empty span {a}-{b}", fields[0]));
                }
                let id = fields[0].trim().to_string();
                match spans.iter_mut().find(|(i, _)| *i == id) {
                    Some(slot) => slot.1 = (a, b - 1),
                    None => spans.push((id, (a, b - 1))),
                }
            }
            "root" => root = fields.first().map(|r| r.trim().to_string()),
            _ => {}
        }
    }
    let Some(root) = root else {
        return Ok(SentenceGraph::fallback());
    };
    let mut order: Vec<&(String, (usize, usize))> = Vec::new();
    order.extend(spans.iter().filter(|(id, _)| *id == root));
    order.extend(spans.iter().filter(|(id, _)| *id != root));
    let index: HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (id.as_str(), i))
        .collect();
    let mut graph = SentenceGraph {
        nodes: order.iter().map(|(_, span)| *span).collect(),
        edges: Vec::new(),
    };
    for (key, value) in &amr.metadata {
        if key != "edge" {
            continue;
        }
        let fields: Vec<&str> = value.split('\t').map(str::trim).collect();
        if fields.len() < 5 {
            return Err(format!(
                "edge line `{value}` has {} fields, expected 5",
                fields.len()
            ));
        }
        let (Some(&a), Some(&b)) = (index.get(fields[3]), index.get(fields[4])) else {
            continue;
        };
        let (role, reversed) = normalise_role(fields[1]);
        let (src, dst) = if reversed { (b, a) } else { (a, b) };
        graph.add_both(src, dst, edge_type(&role));
    }
    Ok(graph)
}

/// The word span of ISI tags at the end of a symbol (`kill-01~e.2,3` → 2–3).
fn tag_span(symbol: &str) -> Option<(usize, usize)> {
    let (_, tags) = symbol.split_once('~')?;
    let tags = tags.strip_prefix("e.").unwrap_or(tags);
    let words: Vec<usize> = tags.split(',').filter_map(|t| t.parse().ok()).collect();
    Some((*words.iter().min()?, *words.iter().max()?))
}

/// Nodes and edges from ISI tags on concepts.
fn tagged_graph(amr: &Amr) -> std::result::Result<SentenceGraph, String> {
    let aligned: Vec<(&str, (usize, usize))> = amr
        .instances
        .iter()
        .filter_map(|i| Some((i.variable.as_str(), tag_span(i.concept.as_deref()?)?)))
        .collect();
    let mut order: Vec<&(&str, (usize, usize))> = Vec::new();
    order.extend(aligned.iter().filter(|(v, _)| *v == amr.top));
    order.extend(aligned.iter().filter(|(v, _)| *v != amr.top));
    let index: HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, (v, _))| (*v, i))
        .collect();
    let mut graph = SentenceGraph {
        nodes: order.iter().map(|(_, span)| *span).collect(),
        edges: Vec::new(),
    };
    for edge in &amr.edges {
        let target = match &edge.target {
            Target::Node(v) | Target::Reference(v) => v.split('~').next().unwrap_or(v),
            Target::Constant(_) => continue,
        };
        let (Some(&a), Some(&b)) = (index.get(edge.source.as_str()), index.get(target)) else {
            continue;
        };
        let (role, reversed) = normalise_role(&edge.role);
        let (src, dst) = if reversed { (b, a) } else { (a, b) };
        graph.add_both(src, dst, edge_type(&role));
    }
    Ok(graph)
}
