//! The inputs of parsing and training: AMR corpora with located errors, the auxiliary
//! PseudoAMR corpora, and the sentences to parse (plain lines or an AMR file's `# ::snt`).

use std::path::{Path, PathBuf};

use super::{Example, ParserError, Result, Task, examples_from_amrs};
use crate::amrize::{is_dep_sequence_text, parse_dep_sequences};
use crate::penman::{Amr, parse_amrs};

/// Reads and parses an AMR file; a Penman error names the file ([`ParserError::Malformed`]).
pub fn read_corpus(path: &Path) -> Result<Vec<Amr>> {
    let text = read_text(path)?;
    parse_amrs(&text).map_err(|source| ParserError::Malformed {
        path: path.to_path_buf(),
        source,
    })
}

/// The auxiliary corpora of `paths`, the i-th tagged `Aux(i + 1)`, each cut to its first
/// `limit` examples (0: all).
///
/// A corpus is an AMR (Penman) file, whose targets are SPRING linearisations with pointers, or
/// a file of ATP's bracketed dependency trees (`amr-aux amrize --from conllu`, see
/// [`crate::amrize::is_dep_sequence_text`]), whose targets are the trees' token sequences
/// without variables or pointers, as ATP trains on them.
pub fn load_aux(paths: &[PathBuf], limit: usize) -> Result<Vec<Vec<Example>>> {
    paths
        .iter()
        .enumerate()
        .map(|(i, path)| {
            let task = Task::Aux(i + 1);
            let text = read_text(path)?;
            let mut corpus = if is_dep_sequence_text(&text) {
                parse_dep_sequences(&text, path)?
                    .into_iter()
                    .map(|s| Example {
                        target: s.tree.tokens(),
                        graph: s.to_amr(),
                        sentence: s.sentence,
                        task,
                    })
                    .collect()
            } else {
                let amrs = parse_amrs(&text).map_err(|source| ParserError::Malformed {
                    path: path.to_path_buf(),
                    source,
                })?;
                examples_from_amrs(&amrs, task, path)?
            };
            if limit > 0 {
                corpus.truncate(limit);
            }
            Ok(corpus)
        })
        .collect()
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| {
        ParserError::Amr(crate::Error::Io {
            path: path.to_path_buf(),
            source,
        })
    })
}

/// The sentences to parse and the ids to give their graphs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseInput {
    /// The file read.
    pub path: PathBuf,
    /// The sentences, in file order.
    pub sentences: Vec<String>,
    /// For each sentence, the `# ::id` of its graph (AMR inputs only).
    pub ids: Vec<Option<String>>,
}

impl ParseInput {
    /// Reads an input file: an AMR file's `# ::snt` lines (a file with a line starting with
    /// `(` or `# ::` is read as AMR and must parse as one), or one sentence per line (blank
    /// lines skipped).
    ///
    /// # Errors
    /// [`ParserError::Malformed`] or [`ParserError::MissingSentence`] for a bad AMR file,
    /// [`ParserError::NoSentences`] for a file without a sentence.
    pub fn read(path: &Path) -> Result<Self> {
        let text = read_text(path)?;
        let looks_like_amr = text.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with('(') || l.starts_with("# ::")
        });
        let (sentences, ids) = if looks_like_amr {
            let amrs = parse_amrs(&text).map_err(|source| ParserError::Malformed {
                path: path.to_path_buf(),
                source,
            })?;
            let examples = examples_from_amrs(&amrs, Task::Amr, path)?;
            let ids = amrs.iter().map(|a| a.id().map(str::to_string)).collect();
            (examples.into_iter().map(|e| e.sentence).collect(), ids)
        } else {
            let sentences: Vec<String> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            let ids = vec![None; sentences.len()];
            (sentences, ids)
        };
        if sentences.is_empty() {
            return Err(ParserError::NoSentences {
                path: path.to_path_buf(),
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            sentences,
            ids,
        })
    }

    /// The gold graphs of these sentences: an AMR file with one graph per sentence.
    ///
    /// # Errors
    /// [`ParserError::GoldCount`] when the counts differ, or the errors of [`read_corpus`].
    pub fn read_gold(&self, gold: &Path) -> Result<Vec<Amr>> {
        let graphs = read_corpus(gold)?;
        if graphs.len() != self.sentences.len() {
            return Err(ParserError::GoldCount {
                gold: gold.to_path_buf(),
                graphs: graphs.len(),
                input: self.path.clone(),
                sentences: self.sentences.len(),
            });
        }
        Ok(graphs)
    }

    /// Gives parsed graphs (one per sentence, in order) their `# ::id` (when the input had
    /// one) and `# ::snt` metadata.
    pub fn annotate(&self, graphs: &mut [Amr]) {
        for ((graph, sentence), id) in graphs.iter_mut().zip(&self.sentences).zip(&self.ids) {
            if let Some(id) = id {
                graph.metadata.push(("id".into(), id.clone()));
            }
            graph.metadata.push(("snt".into(), sentence.clone()));
        }
    }
}
