//! PseudoAMR ("AMRization", ATP §3): auxiliary-task annotations turned into AMR-like graphs so
//! that a seq2seq AMR parser can be trained on them first.
//!
//! Two sources, each with the variants of ATP's data and configs:
//!
//! - dependency trees in CoNLL-U ([`dep`]): not graphs but ATP's bracketed token sequences
//!   ([`DepTree`], [`DepSequence`]) under a dummy `ROOT` reached by `:root`,
//!   `( ROOT :root ( eat :nsubj cat … ) )`: a word with dependents is `( word :rel dependent … )`,
//!   a word without is the bare word, and there are no variables. Variants ([`DepVariant`]):
//!   `plain`, `lemma`, `pruned` (lemmas, `det` and `punct` removed: ATP's
//!   `conll15_no_pointer_without_det_punct/*.lemmatized.rr` data). [`DepTree::to_amr`] gives
//!   the same tree as a Penman graph with variables (ATP's pointer style);
//! - semantic role labelling in a CoNLL-style column format ([`srl`]): the predicates hang from
//!   an `and` root by `:opN` (or `multi-sentence` by `:sntN`), each with its arguments by their
//!   role labels, sorted by label (ATP's `generate_amrized_srl.py`). Variants
//!   ([`SrlVariant`]): `plain` (`srl_trival_linerization`), `reduced` (`srl_arg_reduction`:
//!   arguments reduced to their head word), `reentrant` (`srl_reen_and_plain`: identical spans
//!   share one node, the released ATP-SRL setting) and `reduced-reentrant`.
//!
//! Every SRL graph (and every dependency tree turned into Penman) is a valid [`Amr`]: words
//! become Penman symbols (see [`concept_symbol`]),
//! variables are named as in the AMR releases (first letter of the concept, then a counter),
//! and nodes and edges are in the order in which [`crate::penman::parse_amrs`] reads back the
//! written graph, so parse(write(graph)) == graph.

pub mod dep;
pub mod srl;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use dep::{
    DepOptions, DepSentence, DepSequence, DepTree, DepVariant, DepWord, MultiwordToken, dep_to_amr,
    dep_to_sequence, dep_to_tree, dep_token, is_dep_sequence_text, parse_conllu,
    parse_dep_sequences, write_dep_sequences,
};
pub use srl::{
    SrlArgument, SrlFrame, SrlOptions, SrlRoot, SrlSentence, SrlVariant, argument_head, parse_srl,
    parse_srl_lines, srl_to_amr,
};

use crate::penman::{Amr, Edge, Instance, Target};

/// A malformed record (sentence) of an input file: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RecordError {
    /// The input file (as given to the parser).
    pub path: PathBuf,
    /// 1-based line of the problem.
    pub line: usize,
    /// The sentence's id (`# sent_id = …`), when it has one.
    pub sentence: Option<String>,
    /// What is wrong.
    pub problem: Problem,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.path.display(), self.line)?;
        if let Some(id) = &self.sentence {
            write!(f, "sentence `{id}`: ")?;
        }
        write!(f, "{}", self.problem)
    }
}

/// The problems a CoNLL-U or SRL record can have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// A token line with the wrong number of columns.
    #[error("expected {expected} columns, found {found}")]
    ColumnCount {
        /// Columns required.
        expected: usize,
        /// Columns found.
        found: usize,
    },
    /// An ID that is not a number, a range `a-b` or an empty node `a.b`.
    #[error("invalid token id `{0}`")]
    BadId(String),
    /// Word IDs must count 1, 2, 3, … within a sentence.
    #[error("word id {found} out of sequence (expected {expected})")]
    IdSequence {
        /// The next ID in sequence.
        expected: usize,
        /// The ID found.
        found: usize,
    },
    /// A HEAD that is not a number.
    #[error("invalid head `{0}`")]
    BadHead(String),
    /// A HEAD that names no word of the sentence.
    #[error("head {head} of word {word} out of range (the sentence has {words} words)")]
    HeadOutOfRange {
        /// The word (1-based).
        word: usize,
        /// Its head.
        head: usize,
        /// Words in the sentence.
        words: usize,
    },
    /// The HEAD column does not form a tree: following heads from this word never reaches 0.
    #[error("word {0} is on a head cycle (the dependencies do not form a tree)")]
    Cycle(usize),
    /// A required field is empty or `_`.
    #[error("empty {0} field")]
    EmptyField(&'static str),
    /// A sentence without words (comments only).
    #[error("sentence has no words")]
    NoWords,
    /// An SRL tag that is neither BIO (`B-X`, `I-X`, `O`) nor bracketed (`(X*`, `*`, `*)`).
    #[error("invalid tag `{tag}` in argument column {column}")]
    BadTag {
        /// The tag.
        tag: String,
        /// 1-based argument column (= predicate number).
        column: usize,
    },
    /// `I-X` that does not continue an `X` span, `*)` with no open span, or a span opened
    /// inside another.
    #[error("tag `{tag}` in argument column {column} does not continue or close a span")]
    BrokenSpan {
        /// The tag.
        tag: String,
        /// 1-based argument column.
        column: usize,
    },
    /// A bracketed span still open at the end of the sentence.
    #[error("span `{label}` in argument column {column} is not closed")]
    UnclosedSpan {
        /// The span's label.
        label: String,
        /// 1-based argument column.
        column: usize,
    },
    /// The number of argument columns differs from the number of predicates.
    #[error("{predicates} predicates but {columns} argument columns")]
    PredicateCount {
        /// Rows with a predicate sense.
        predicates: usize,
        /// Argument columns.
        columns: usize,
    },
    /// A line of ATP's SRL line format without `|||`.
    #[error("expected `words ||| tags`")]
    NoSeparator,
    /// A line of a bracketed-tree file that is not one tree.
    #[error("malformed bracketed tree: {0}")]
    BadTree(String),
    /// A predicate whose column does not have exactly one `V` span.
    #[error("argument column {column} has {found} `V` spans (expected 1)")]
    VerbSpans {
        /// 1-based argument column.
        column: usize,
        /// `V` spans found.
        found: usize,
    },
}

/// Errors of the PseudoAMR readers.
#[derive(Debug, thiserror::Error)]
pub enum AmrizeError {
    /// The input could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A malformed record.
    #[error(transparent)]
    Record(#[from] RecordError),
}

/// PseudoAMR outputs of a file (Penman graphs for SRL, [`DepSequence`]s for dependency
/// trees), and what the conversion left out.
#[derive(Debug, Clone)]
pub struct Amrized<G = Amr> {
    /// One output per valid sentence, in file order.
    pub graphs: Vec<G>,
    /// The malformed sentences that were skipped (only when skipping was asked for).
    pub skipped: Vec<RecordError>,
    /// CoNLL-U multiword-token lines (`3-4`): not nodes, their words are.
    pub multiword_tokens: usize,
    /// CoNLL-U empty nodes (`8.1`): not part of the basic tree, left out.
    pub empty_nodes: usize,
}

impl<G> Default for Amrized<G> {
    fn default() -> Self {
        Self {
            graphs: Vec::new(),
            skipped: Vec::new(),
            multiword_tokens: 0,
            empty_nodes: 0,
        }
    }
}

/// The size of a PseudoAMR output.
pub trait PseudoSize {
    /// Nodes (words of a tree, the dummy root included).
    fn node_count(&self) -> usize;
    /// Edges (relations).
    fn edge_count(&self) -> usize;
}

impl PseudoSize for Amr {
    fn node_count(&self) -> usize {
        self.instances.len()
    }

    fn edge_count(&self) -> usize {
        self.edges.len()
    }
}

impl PseudoSize for DepSequence {
    fn node_count(&self) -> usize {
        self.tree.words()
    }

    fn edge_count(&self) -> usize {
        self.tree.relations()
    }
}

impl<G: PseudoSize> Amrized<G> {
    /// Nodes of all outputs.
    pub fn nodes(&self) -> usize {
        self.graphs.iter().map(PseudoSize::node_count).sum()
    }

    /// Edges of all outputs.
    pub fn edges(&self) -> usize {
        self.graphs.iter().map(PseudoSize::edge_count).sum()
    }
}

/// Keeps the valid records, or fails on the first invalid one unless `skip_invalid`.
fn split_records<T>(
    records: Vec<Result<T, RecordError>>,
    skip_invalid: bool,
) -> Result<(Vec<T>, Vec<RecordError>), RecordError> {
    let mut ok = Vec::new();
    let mut skipped = Vec::new();
    for record in records {
        match record {
            Ok(r) => ok.push(r),
            Err(e) if skip_invalid => skipped.push(e),
            Err(e) => return Err(e),
        }
    }
    Ok((ok, skipped))
}

/// Converts CoNLL-U text (`path` names it in errors and default ids) to ATP's bracketed
/// dependency trees ([`DepSequence`]; [`DepSequence::to_amr`] gives Penman graphs).
///
/// # Errors
/// The first malformed sentence, unless `skip_invalid`, which lists them in
/// [`Amrized::skipped`] instead.
pub fn amrize_conllu(
    text: &str,
    path: &Path,
    options: &DepOptions,
    skip_invalid: bool,
) -> Result<Amrized<DepSequence>, RecordError> {
    let (sentences, skipped) = split_records(parse_conllu(text, path), skip_invalid)?;
    let mut out = Amrized {
        skipped,
        ..Amrized::default()
    };
    for sentence in &sentences {
        out.multiword_tokens += sentence.multiword.len();
        out.empty_nodes += sentence.empty_nodes;
        let graph = dep_to_sequence(sentence, options).map_err(|problem| RecordError {
            path: path.to_path_buf(),
            line: sentence.line,
            sentence: sentence.id.clone(),
            problem,
        })?;
        out.graphs.push(graph);
    }
    Ok(out)
}

/// Converts SRL text (see [`srl`]: the column format, or ATP's `words ||| tags` line format
/// when `lines`) to PseudoAMR graphs.
///
/// # Errors
/// The first malformed sentence, unless `skip_invalid`, which lists them in
/// [`Amrized::skipped`] instead.
pub fn amrize_srl(
    text: &str,
    path: &Path,
    options: &SrlOptions,
    lines: bool,
    skip_invalid: bool,
) -> Result<Amrized, RecordError> {
    let records = if lines {
        parse_srl_lines(text, path)
    } else {
        parse_srl(text, path)
    };
    let (sentences, skipped) = split_records(records, skip_invalid)?;
    Ok(Amrized {
        graphs: sentences.iter().map(|s| srl_to_amr(s, options)).collect(),
        skipped,
        ..Amrized::default()
    })
}

/// Reads a file for the PseudoAMR readers.
///
/// # Errors
/// [`AmrizeError::Io`] naming the file.
pub fn read_input(path: &Path) -> Result<String, AmrizeError> {
    std::fs::read_to_string(path).map_err(|source| AmrizeError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// A word (or any label) as a Penman symbol that the reader reads back unchanged.
///
/// Whitespace becomes `_`; `(`, `)` become `-LRB-`, `-RRB-` (Penn Treebank style); `"` becomes
/// `-QUOT-`, `/` becomes `-SLASH-`; a leading `:` (which would start a role) becomes `-COLON-`;
/// an empty string becomes `-EMPTY-`. Other characters are kept (`3:30`, `don't`, `e-mail`).
pub fn concept_symbol(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for (i, c) in word.chars().enumerate() {
        match c {
            c if c.is_whitespace() => out.push('_'),
            '(' => out.push_str("-LRB-"),
            ')' => out.push_str("-RRB-"),
            '"' => out.push_str("-QUOT-"),
            '/' => out.push_str("-SLASH-"),
            ':' if i == 0 => out.push_str("-COLON-"),
            c => out.push(c),
        }
    }
    if out.is_empty() {
        out.push_str("-EMPTY-");
    }
    out
}

/// The sentences of a column format (CoNLL-U, SRL columns): blocks of non-blank lines separated
/// by blank lines, each line with its 1-based line number. Comments separated from their words
/// by a blank line still belong to them; comment lines followed by no word line are dropped.
pub(crate) fn sentence_blocks(text: &str) -> Vec<Vec<(usize, &str)>> {
    let mut out = Vec::new();
    let mut block: Vec<(usize, &str)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            if block.iter().any(|(_, l)| !l.starts_with('#')) {
                out.push(std::mem::take(&mut block));
            }
        } else {
            block.push((i + 1, line));
        }
    }
    if block.iter().any(|(_, l)| !l.starts_with('#')) {
        out.push(block);
    }
    out
}

/// The name a sentence without `# sent_id` is given: `<file stem>.<n>`.
pub(crate) fn file_stem(path: &std::path::Path) -> String {
    path.file_stem().map_or_else(
        || "sentence".to_string(),
        |s| s.to_string_lossy().into_owned(),
    )
}

/// A metadata value the Penman reader reads back unchanged: one line, no `::` (which separates
/// metadata fields), no surrounding whitespace.
fn metadata_value(value: &str) -> String {
    let mut v: String = value
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    while v.contains("::") {
        v = v.replace("::", ": :");
    }
    v.trim().to_string()
}

/// A graph under construction: concepts and ordered out-edges by node index.
#[derive(Debug, Default)]
struct PseudoGraph {
    concepts: Vec<String>,
    children: Vec<Vec<(String, usize)>>,
}

impl PseudoGraph {
    fn add_node(&mut self, concept: String) -> usize {
        self.concepts.push(concept);
        self.children.push(Vec::new());
        self.concepts.len() - 1
    }

    fn add_edge(&mut self, source: usize, role: String, target: usize) {
        self.children[source].push((role, target));
    }

    /// The graph as an [`Amr`] rooted at `top`, nodes and edges in depth-first pre-order (the
    /// order the Penman reader produces), with `# ::id` and `# ::snt` metadata; variables are
    /// named by the concept's first letter (`w`, `w2`, …; `x` when not a letter).
    fn into_amr(self, top: usize, id: &str, sentence: &str) -> Amr {
        self.build_amr(top, id, sentence, false)
    }

    /// As [`Self::into_amr`], with ATP's variables `a0`, `a1`, … in depth-first pre-order
    /// (the order in which `generate_amrized_srl.py` creates its nodes).
    fn into_amr_numbered(self, top: usize, id: &str, sentence: &str) -> Amr {
        self.build_amr(top, id, sentence, true)
    }

    fn build_amr(self, top: usize, id: &str, sentence: &str, numbered: bool) -> Amr {
        let mut amr = Amr {
            metadata: vec![
                ("id".to_string(), metadata_value(id)),
                ("snt".to_string(), metadata_value(sentence)),
            ],
            top: String::new(),
            instances: Vec::new(),
            edges: Vec::new(),
        };
        let mut names: Vec<Option<String>> = vec![None; self.concepts.len()];
        let mut counts: HashMap<char, usize> = HashMap::new();
        self.visit(top, &mut names, &mut counts, numbered, &mut amr);
        amr.top = names[top].clone().expect("the top is visited first");
        amr
    }

    fn visit(
        &self,
        node: usize,
        names: &mut [Option<String>],
        counts: &mut HashMap<char, usize>,
        numbered: bool,
        amr: &mut Amr,
    ) {
        let concept = &self.concepts[node];
        let name = if numbered {
            format!("a{}", amr.instances.len())
        } else {
            let letter = concept
                .chars()
                .next()
                .filter(char::is_ascii_alphabetic)
                .map_or('x', |c| c.to_ascii_lowercase());
            let count = counts.entry(letter).or_insert(0);
            *count += 1;
            if *count == 1 {
                letter.to_string()
            } else {
                format!("{letter}{count}")
            }
        };
        amr.instances.push(Instance {
            variable: name.clone(),
            concept: Some(concept.clone()),
        });
        names[node] = Some(name.clone());
        for (role, child) in &self.children[node] {
            if let Some(existing) = &names[*child] {
                amr.edges.push(Edge {
                    source: name.clone(),
                    role: role.clone(),
                    target: Target::Reference(existing.clone()),
                });
            } else {
                let at = amr.edges.len();
                amr.edges.push(Edge {
                    source: name.clone(),
                    role: role.clone(),
                    target: Target::Reference(String::new()),
                });
                self.visit(*child, names, counts, numbered, amr);
                let child_name = names[*child].clone().expect("just visited");
                amr.edges[at].target = Target::Node(child_name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::penman::parse_amrs;

    #[test]
    fn symbols_survive_the_penman_reader() {
        for word in [
            "(",
            ")",
            "\"",
            "/",
            ":",
            ":)",
            "b/c",
            "3:30",
            "http://x.org/a?b=c",
            "a b",
            "",
        ] {
            let symbol = concept_symbol(word);
            let text = format!("(x / {symbol} :mod (y / {symbol}))");
            let amr = &parse_amrs(&text).unwrap()[0];
            assert_eq!(amr.concept("x"), Some(symbol.as_str()), "{word:?}");
            assert_eq!(amr.concept("y"), Some(symbol.as_str()), "{word:?}");
        }
        assert_eq!(concept_symbol(":)"), "-COLON--RRB-");
        assert_eq!(concept_symbol("b/c"), "b-SLASH-c");
        assert_eq!(concept_symbol("3:30"), "3:30");
    }

    #[test]
    fn variables_are_named_by_letter_and_reentrancies_are_references() {
        let mut g = PseudoGraph::default();
        let a = g.add_node("and".into());
        let b = g.add_node("buy".into());
        let c = g.add_node("boy".into());
        let d = g.add_node("3".into());
        g.add_edge(a, "op1".into(), b);
        g.add_edge(b, "ARG0".into(), c);
        g.add_edge(a, "op2".into(), c);
        g.add_edge(c, "quant".into(), d);
        let amr = g.into_amr(a, "x::1", "a\nb");
        assert_eq!(
            amr.to_penman(None),
            "(a / and :op1 (b / buy :ARG0 (b2 / boy :quant (x / 3))) :op2 b2)"
        );
        assert_eq!(amr.metadata[0].1, "x: :1");
        assert_eq!(amr.metadata[1].1, "a b");
        let back = &parse_amrs(&amr.to_string()).unwrap()[0];
        assert_eq!(*back, amr);
    }
}
