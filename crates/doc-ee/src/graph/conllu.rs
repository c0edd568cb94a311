//! Sentence graphs from dependency trees in CoNLL-U (any parser's output): one node per word
//! (the root word first, then the others in order), one edge pair per dependency, with the UD
//! relation mapped onto the 13 AMR edge types ([`ud_edge_type`]).
//!
//! The file holds the sentences of every example in order; the first sentence of an example
//! carries a `# doc_key = …` comment and the following sentences belong to it until the next
//! one. Multiword-token lines and empty nodes are skipped (syntactic words count); every
//! sentence must have as many words as the example's sentence.
//!
//! The file is read into [`DocTrees`] first ([`read_conllu_trees`]) and the graphs are built
//! from those ([`trees_to_graphs`]), the path the project's own parser takes too
//! ([`super::parse`]).

use std::path::Path;

use burnlp_core::data::read_conll;

use super::{DocGraphs, DocTrees, SentenceGraph, edge_type};
use crate::data::Example;
use crate::error::{DocEeError, Result};

/// The edge type of a UD relation (its subtype decides first):
///
/// | UD relation | type |
/// |---|---|
/// | `nsubj`, `csubj`, `*:agent` | 7 (ARG0) |
/// | `obj`, `nsubj:pass`, `csubj:pass`, `ccomp`, `xcomp` | 8 (ARG1) |
/// | `iobj` | 9 (ARG2) |
/// | `obl:tmod`, `nmod:tmod`, `obl:npmod` | 1 (time) |
/// | `nmod:poss` | 2 (poss) |
/// | `amod`, `advmod`, `nummod`, `det`, `nmod`, `acl`, `advcl` | 3 (mod) |
/// | `case`, `mark` | 4 (prep-*) |
/// | `conj`, `compound`, `flat`, `fixed` | 5 (op#) |
/// | `parataxis` | 6 (snt) |
/// | `obl` | 0 (location) |
/// | anything else | 12 |
pub fn ud_edge_type(deprel: &str) -> usize {
    match deprel {
        "nsubj:pass" | "csubj:pass" => return 8,
        "obl:tmod" | "nmod:tmod" | "obl:npmod" => return 1,
        "nmod:poss" => return 2,
        _ if deprel.ends_with(":agent") => return 7,
        _ => {}
    }
    match deprel.split(':').next().unwrap_or(deprel) {
        "nsubj" | "csubj" => 7,
        "obj" | "ccomp" | "xcomp" => 8,
        "iobj" => 9,
        "amod" | "advmod" | "nummod" | "det" | "nmod" | "acl" | "advcl" => 3,
        "case" | "mark" => 4,
        "conj" | "compound" | "flat" | "fixed" => 5,
        "parataxis" => 6,
        "obl" => 0,
        other => edge_type(other),
    }
}

/// Reads the dependency trees of a CoNLL-U file, by `doc_key` (see the module docs).
pub fn read_conllu_trees(path: &Path) -> Result<DocTrees> {
    let sentences = read_conll(path, 10)?;
    let mut out = DocTrees::new();
    let mut current: Option<String> = None;
    for sentence in &sentences {
        let problem = |p: String| DocEeError::line(path, sentence.line, p);
        if let Some(key) = sentence.metadata("doc_key") {
            if out.contains_key(key) {
                return Err(problem(format!("doc_key `{key}` appears twice")));
            }
            out.insert(key.to_string(), Vec::new());
            current = Some(key.to_string());
        }
        let Some(key) = current.as_ref() else {
            return Err(problem(
                "a sentence before the first `# doc_key = …` comment".into(),
            ));
        };
        let words: Vec<&Vec<String>> = sentence.conllu_words().collect();
        let mut heads = Vec::with_capacity(words.len());
        for (i, row) in words.iter().enumerate() {
            let head: usize = row[6].parse().map_err(|_| {
                problem(format!("word {}: HEAD `{}` is not a number", i + 1, row[6]))
            })?;
            if head > words.len() {
                return Err(problem(format!(
                    "word {}: HEAD {head} outside the sentence",
                    i + 1
                )));
            }
            heads.push((head, row[7].clone()));
        }
        out.get_mut(key).expect("inserted above").push(heads);
    }
    Ok(out)
}

/// Reads the dependency graphs of `examples` from a CoNLL-U file.
pub fn read_conllu_graphs(path: &Path, examples: &[Example]) -> Result<DocGraphs> {
    let trees = read_conllu_trees(path)?;
    trees_to_graphs(&trees, examples, &path.display().to_string())
}

/// The sentence graphs of dependency trees ([`dependency_graph`] per sentence), checking that
/// every parsed sentence of an example has as many words as the example's sentence (`origin`
/// names the trees' source in errors). Trees of documents that are not among `examples` are
/// converted too; a missing example is left to [`super::load_graphs`]'s check.
pub fn trees_to_graphs(trees: &DocTrees, examples: &[Example], origin: &str) -> Result<DocGraphs> {
    for ex in examples {
        if let Some(sentences) = trees.get(&ex.doc_key) {
            for (i, (t, s)) in sentences.iter().zip(&ex.sentences).enumerate() {
                let n = t.len().max(1);
                if n != s.len() && !(s.is_empty() && n == 1) {
                    return Err(DocEeError::invalid(
                        origin,
                        format!(
                            "`{}` sentence {i}: {n} words in the parse, {} in the data",
                            ex.doc_key,
                            s.len()
                        ),
                    ));
                }
            }
        }
    }
    trees
        .iter()
        .map(|(key, sentences)| {
            let graphs = sentences
                .iter()
                .enumerate()
                .map(|(i, tree)| {
                    dependency_graph(tree).map_err(|p| {
                        DocEeError::invalid(origin, format!("`{key}` sentence {i}: {p}"))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((key.clone(), graphs))
        })
        .collect()
}

/// The graph of a tree given as `(head, deprel)` per word (heads 1-based, 0 = root).
pub fn dependency_graph(heads: &[(usize, String)]) -> std::result::Result<SentenceGraph, String> {
    if heads.is_empty() {
        return Ok(SentenceGraph::fallback());
    }
    let root = heads.iter().position(|(h, _)| *h == 0).unwrap_or(0);
    let mut order = vec![root];
    order.extend((0..heads.len()).filter(|&w| w != root));
    let mut node_of = vec![0; heads.len()];
    for (node, &word) in order.iter().enumerate() {
        node_of[word] = node;
    }
    let mut graph = SentenceGraph {
        nodes: order.iter().map(|&w| (w, w)).collect(),
        edges: Vec::new(),
    };
    for (word, (head, deprel)) in heads.iter().enumerate() {
        if *head == 0 {
            continue;
        }
        graph.add_both(node_of[head - 1], node_of[word], ud_edge_type(deprel));
    }
    Ok(graph)
}
