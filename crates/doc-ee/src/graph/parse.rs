//! Dependency trees from the project's own parser: amr-aux's `depparse` (Dozat & Manning, "Deep
//! Biaffine Attention for Neural Dependency Parsing", ICLR 2017), loaded from the run directory
//! of an `amr-aux depparse train` run.
//!
//! The trees serve twice (spec D.3 / D.8):
//! - as sentence graphs (`--graphs parse:RUN`): the trees are the same [`DocTrees`] a CoNLL-U
//!   file is read into, and become graphs through [`super::conllu::trees_to_graphs`];
//! - as head words for head F1 (`--parser RUN`): [`trees_to_heads`] turns them into the
//!   `--heads` convention (0-based example tokens, a root pointing to itself), walked by the
//!   scorer's rule.
//!
//! [`trees_to_conllu`] writes the trees as CoNLL-U with amr-aux's writer, so a parse can be
//! kept and passed back as `conllu:FILE`.

use std::collections::HashMap;
use std::path::Path;

use amr_aux::depparse::{InputSentence, Run, write_parses};
use burnlp_core::device::Device;

use super::{DocTrees, Tree};
use crate::data::Example;
use crate::error::{DocEeError, Result};
use crate::score::Heads;

/// Sentences per parser batch.
pub const PARSE_BATCH: usize = 32;

/// Parses every sentence of `examples` with the parser of the run directory `run` on `device`.
/// An empty sentence gets an empty tree (a one-node graph, as a CoNLL-U source gives it). A
/// sentence the parser cannot take (too long for its encoder) is an error naming the example
/// and the sentence.
pub fn parse_examples(run: &Path, examples: &[Example], device: &Device) -> Result<DocTrees> {
    let parser = Run::load(run, device).map_err(|source| DocEeError::Parser {
        run: run.to_path_buf(),
        source: Box::new(source),
    })?;
    // Every non-empty sentence, numbered from 1 so that the parser's error names it.
    let mut place = Vec::new();
    let mut sentences = Vec::new();
    for (e, ex) in examples.iter().enumerate() {
        for (s, words) in ex.sentences.iter().enumerate() {
            if !words.is_empty() {
                place.push((e, s));
                sentences.push((sentences.len() + 1, words.clone()));
            }
        }
    }
    tracing::info!(
        "parsing {} sentences of {} examples with {}",
        sentences.len(),
        examples.len(),
        run.display()
    );
    let parses = parser
        .parse(&sentences, run, PARSE_BATCH)
        .map_err(|source| match source {
            amr_aux::depparse::DepparseError::Input { line, problem, .. } => {
                let (e, s) = place[line - 1];
                DocEeError::invalid(
                    format!("parsing with {}", run.display()),
                    format!("`{}` sentence {s}: {problem}", examples[e].doc_key),
                )
            }
            source => DocEeError::Parser {
                run: run.to_path_buf(),
                source: Box::new(source),
            },
        })?;
    let mut trees = DocTrees::new();
    for ex in examples {
        let empty = ex.sentences.iter().map(|_| Tree::new()).collect();
        if trees.insert(ex.doc_key.clone(), empty).is_some() {
            return Err(DocEeError::invalid(
                format!("parsing with {}", run.display()),
                format!("doc_key `{}` appears twice", ex.doc_key),
            ));
        }
    }
    for (&(e, s), (heads, labels)) in place.iter().zip(parses) {
        let tree = heads.into_iter().zip(labels).collect();
        trees.get_mut(&examples[e].doc_key).expect("inserted above")[s] = tree;
    }
    Ok(trees)
}

/// The trees of `examples` as one 0-based head per token of each example (the `--heads`
/// convention: a sentence's root points to itself). Every example must have one tree per
/// sentence with one head per word.
pub fn trees_to_heads(trees: &DocTrees, examples: &[Example]) -> Result<Heads> {
    let mut out = HashMap::new();
    for ex in examples {
        let problem = |p: String| DocEeError::invalid(format!("the parse of `{}`", ex.doc_key), p);
        let Some(sentences) = trees.get(&ex.doc_key) else {
            return Err(problem("no parse".into()));
        };
        if sentences.len() != ex.sentences.len() {
            return Err(problem(format!(
                "{} parsed sentences for {} sentences",
                sentences.len(),
                ex.sentences.len()
            )));
        }
        let mut heads = Vec::with_capacity(ex.len());
        for (i, (tree, words)) in sentences.iter().zip(&ex.sentences).enumerate() {
            if tree.len() != words.len() {
                return Err(problem(format!(
                    "sentence {i}: {} words in the parse, {} in the data",
                    tree.len(),
                    words.len()
                )));
            }
            let offset = heads.len();
            for (w, (head, _)) in tree.iter().enumerate() {
                heads.push(match *head {
                    0 => offset + w,
                    h if h <= tree.len() => offset + h - 1,
                    h => {
                        return Err(problem(format!(
                            "sentence {i} word {}: head {h} outside the sentence",
                            w + 1
                        )));
                    }
                });
            }
        }
        out.insert(ex.doc_key.clone(), heads);
    }
    Ok(Heads(out))
}

/// The trees of `examples` as CoNLL-U (amr-aux's writer): the sentences of each example in
/// order, the first with a `# doc_key = …` comment, as [`super::conllu`] reads them. An empty
/// sentence has no CoNLL-U form and is an error.
pub fn trees_to_conllu(trees: &DocTrees, examples: &[Example]) -> Result<String> {
    let mut sentences = Vec::new();
    let mut parses = Vec::new();
    for ex in examples {
        let problem = |p: String| DocEeError::invalid(format!("the parse of `{}`", ex.doc_key), p);
        let tree_list = trees
            .get(&ex.doc_key)
            .ok_or_else(|| problem("no parse".into()))?;
        for (i, (tree, words)) in tree_list.iter().zip(&ex.sentences).enumerate() {
            if words.is_empty() || tree.len() != words.len() {
                return Err(problem(format!(
                    "sentence {i}: {} words, {} in the parse (CoNLL-U needs a word per head)",
                    words.len(),
                    tree.len()
                )));
            }
            let comments = if i == 0 {
                vec![format!("doc_key = {}", ex.doc_key)]
            } else {
                Vec::new()
            };
            let rows = words
                .iter()
                .enumerate()
                .map(|(w, form)| {
                    let mut row = vec!["_".to_string(); 10];
                    row[0] = (w + 1).to_string();
                    row[1] = form.clone();
                    row
                })
                .collect();
            sentences.push(InputSentence {
                line: sentences.len() + 1,
                comments,
                rows,
            });
            parses.push(tree.iter().cloned().unzip());
        }
    }
    Ok(write_parses(&sentences, &parses))
}
