//! Semantic role labelling as PseudoAMR (ATP's `generate_amrized_srl.py`).
//!
//! # Input: SRL columns
//!
//! The CoNLL-2005/2012 layout with an ID column: sentences separated by blank lines,
//! `# key = value` comments before the words (`sent_id` gives the graph id, `text` the
//! `# ::snt`; without `text` the words joined by spaces are used), one word per line with
//! whitespace-separated columns
//!
//! ```text
//! ID  FORM  PRED  ARG_1 … ARG_k
//! ```
//!
//! - ID counts 1, 2, … within the sentence;
//! - PRED is the predicate's sense (`eat.01`, `eat-01`) or lemma on predicate rows and `-` (or
//!   `_`) elsewhere;
//! - there is one argument column per predicate row, the j-th column belonging to the j-th
//!   predicate in sentence order, and every row has 3 + k columns;
//! - an argument column is either BIO (`B-ARG0`, `I-ARG0`, `O`, as ATP's CoNLL-2012 data) or
//!   CoNLL-2005 brackets (`(A0*`, `*`, `*)`, `(V*)`) — a column with a `*` is read as brackets.
//!   CoNLL-2005 labels are renamed to the CoNLL-2012 ones (`A0` → `ARG0`, `AM-TMP` →
//!   `ARGM-TMP`, `R-A1` → `R-ARG1`, `C-A1` → `C-ARG1`, `AA` → `ARGA`);
//! - each argument column has exactly one `V` span, the predicate.
//!
//! ```text
//! # sent_id = cat-1
//! 1 The   -       B-ARG0  O
//! 2 cat   -       I-ARG0  O
//! 3 wants want.01 B-V     O
//! 4 to    -       B-ARG1  O
//! 5 eat   eat.01  I-ARG1  B-V
//! 6 fish  -       I-ARG1  B-ARG1
//! ```
//!
//! # Input: ATP's line format
//!
//! [`parse_srl_lines`] reads the CoNLL-2012 data as ATP's `generate_amrized_srl.py` does: one
//! line per predicate, `[predicate index] words ||| BIO tags`
//! (`3 The cat ate fish ||| B-ARG0 I-ARG0 B-V B-ARG1`), the optional leading index being
//! dropped; consecutive lines with the same words are one sentence. There is no PRED column:
//! a frame's sense is its `V` words.
//!
//! # Output
//!
//! As ATP's `generate_amrized_srl.py`: a root `and` with `:op1 … :opN` to the predicates, one
//! node per frame (or `multi-sentence` with `:snt1 …`, [`SrlRoot`]); a predicate's concept is
//! its `V` span (or its sense with [`SrlOptions::frames`]); its arguments follow sorted by
//! label (stably), each a node whose concept is the argument's words. Variables are ATP's `a0`,
//! `a1`, … in the order the graph is written. Concepts join words with `_` (a Penman concept is
//! one symbol; ATP writes the words separated by spaces, which Penman readers do not accept).
//! With [`SrlVariant::Reentrant`] an argument span (start, end) is one node however many
//! predicates take it as an argument, so shared arguments become re-entrancies:
//!
//! ```text
//! (a0 / and
//!       :op1 (a1 / wants
//!             :ARG0 (a2 / The_cat)
//!             :ARG1 (a3 / to_eat_fish))
//!       :op2 (a4 / eat
//!             :ARG0 a2
//!             :ARG1 (a5 / fish)))
//! ```

mod read;

use std::collections::HashMap;

use super::{PseudoGraph, concept_symbol};
use crate::penman::Amr;
pub use read::{parse_srl, parse_srl_lines};

/// One sentence with its predicate-argument structures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrlSentence {
    /// `# sent_id = …` (or `<file stem>.<n>`).
    pub id: String,
    /// `# text = …`.
    pub text: Option<String>,
    /// 1-based line of the sentence's first line.
    pub line: usize,
    /// The words.
    pub words: Vec<String>,
    /// One frame per predicate, in sentence order.
    pub frames: Vec<SrlFrame>,
}

/// A predicate and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrlFrame {
    /// The predicate row (0-based word index).
    pub predicate: usize,
    /// The PRED column (`eat.01`).
    pub sense: String,
    /// The labelled spans of the frame's column in sentence order, the `V` span included.
    pub arguments: Vec<SrlArgument>,
}

/// A labelled span of words `start..end` (0-based, end exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrlArgument {
    /// The label (`ARG0`, `ARGM-TMP`, `V`, …).
    pub role: String,
    /// First word.
    pub start: usize,
    /// One past the last word.
    pub end: usize,
}

impl SrlFrame {
    /// The `V` span (the reader guarantees exactly one).
    pub fn verb(&self) -> Option<&SrlArgument> {
        self.arguments.iter().find(|a| a.role == "V")
    }
}

impl SrlSentence {
    /// The `# text` comment, or the words joined by spaces.
    pub fn sentence_text(&self) -> String {
        self.text.clone().unwrap_or_else(|| self.words.join(" "))
    }
}

/// The root that connects the predicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SrlRoot {
    /// `and` with `:op1 … :opN` (ATP's default).
    And,
    /// `multi-sentence` with `:snt1 … :sntN`.
    MultiSentence,
}

/// The SRL variants of ATP's configs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SrlVariant {
    /// Arguments as full spans, one node per argument (`srl_trival_linerization`).
    Plain,
    /// Arguments reduced to their head word (the predicate they contain, else
    /// [`argument_head`]; `srl_arg_reduction`).
    Reduced,
    /// Full spans, identical argument spans of different predicates shared as one re-entrant
    /// node (`srl_reen_and_plain`, the released ATP-SRL model).
    Reentrant,
    /// Head words, shared as re-entrancies; an argument whose head is another predicate's
    /// verb points to that predicate's node.
    ReducedReentrant,
}

impl SrlVariant {
    /// All variants with their CLI names.
    pub const ALL: [(SrlVariant, &'static str); 4] = [
        (SrlVariant::Plain, "plain"),
        (SrlVariant::Reduced, "reduced"),
        (SrlVariant::Reentrant, "reentrant"),
        (SrlVariant::ReducedReentrant, "reduced-reentrant"),
    ];

    /// The variant named `name` (`plain`, `reduced`, `reentrant`, `reduced-reentrant`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(v, _)| *v)
    }

    /// The conversion options of the variant (root `and`, predicates as their `V` words).
    pub fn options(self) -> SrlOptions {
        SrlOptions {
            reduce_arguments: matches!(self, SrlVariant::Reduced | SrlVariant::ReducedReentrant),
            reentrancy: matches!(self, SrlVariant::Reentrant | SrlVariant::ReducedReentrant),
            root: SrlRoot::And,
            frames: false,
        }
    }
}

/// How SRL structures become a graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SrlOptions {
    /// Arguments are their head word instead of the whole span (see [`argument_head`]).
    pub reduce_arguments: bool,
    /// One node per distinct argument span (re-entrancies: an argument span shared by several
    /// predicates is one node) instead of one per argument. With `reduce_arguments`, an
    /// argument reduced to another predicate's `V` span is that predicate's node.
    pub reentrancy: bool,
    /// The root concept and its roles.
    pub root: SrlRoot,
    /// Predicates are their sense from the PRED column with `.` written `-` (`eat.01` →
    /// `eat-01`, as AMR frames) instead of their `V` words.
    pub frames: bool,
}

/// The options of [`SrlVariant::Reentrant`], the released ATP-SRL setting.
impl Default for SrlOptions {
    fn default() -> Self {
        SrlVariant::Reentrant.options()
    }
}

/// Words that end the head-bearing part of an argument span when they occur after its first
/// word: prepositions, complementisers, relative pronouns and punctuation.
const HEAD_BOUNDARIES: &[&str] = &[
    "of", "in", "on", "at", "for", "with", "by", "from", "to", "into", "about", "as", "than",
    "that", "which", "who", "whom", "whose", "where", "when", "while", "because", "if", "although",
    "since", "after", "before", "like", "through", "over", "under", "between", "during", "without",
    "against", ",", ";", ":", "--", "-LRB-", "(", "\"",
];

/// The head word of the span `start..end`: the last word before the first preposition,
/// complementiser, relative pronoun or punctuation mark that follows the first word (English
/// phrases are head-final before their post-modifiers): `the cat on the mat` → `cat`,
/// `to eat fish` → `fish`, `that he left` → `left`, `in the morning` → `morning`.
///
/// ATP reduces arguments with a syntactic analysis that its release does not include; this
/// rule needs no parser (a deviation, see the README). [`srl_to_amr`] applies it only to spans
/// that contain no other predicate: a span containing predicates is reduced to the leftmost
/// one's `V` span (`to eat fish` → `eat` when `eat` is a predicate), as clauses are headed by
/// their verb.
///
/// # Panics
/// If `start..end` is empty or not a range of `words`.
pub fn argument_head(words: &[String], start: usize, end: usize) -> usize {
    assert!(
        start < end && end <= words.len(),
        "invalid span {start}..{end}"
    );
    let cut = (start + 1..end)
        .find(|&i| HEAD_BOUNDARIES.contains(&words[i].to_lowercase().as_str()))
        .unwrap_or(end);
    cut - 1
}

/// The PseudoAMR graph of a sentence's SRL structures (see the module documentation). A
/// sentence without predicates is the root alone; a frame without a `V` span (which the readers
/// never produce) is left out.
pub fn srl_to_amr(sentence: &SrlSentence, options: &SrlOptions) -> Amr {
    let words = &sentence.words;
    let span_concept = |start: usize, end: usize| {
        let symbols: Vec<String> = words[start..end]
            .iter()
            .map(|w| concept_symbol(w))
            .collect();
        symbols.join("_")
    };
    let mut graph = PseudoGraph::default();
    let (root_concept, op) = match options.root {
        SrlRoot::And => ("and", "op"),
        SrlRoot::MultiSentence => ("multi-sentence", "snt"),
    };
    let root = graph.add_node(root_concept.into());
    let mut verbs: Vec<(usize, usize)> = sentence
        .frames
        .iter()
        .filter_map(SrlFrame::verb)
        .map(|v| (v.start, v.end))
        .collect();
    verbs.sort_unstable();
    // One node per frame, as ATP's script; the first predicate node of each `V` span is the
    // target of arguments reduced to that span.
    let mut predicate_of_span: HashMap<(usize, usize), usize> = HashMap::new();
    let mut predicates = Vec::new();
    for frame in &sentence.frames {
        let Some(verb) = frame.verb() else { continue };
        let concept = if options.frames {
            concept_symbol(&frame.sense.replace('.', "-"))
        } else {
            span_concept(verb.start, verb.end)
        };
        let node = graph.add_node(concept);
        predicate_of_span
            .entry((verb.start, verb.end))
            .or_insert(node);
        predicates.push((frame, node));
    }
    // Argument nodes by span, shared across predicates with `reentrancy`.
    let mut argument_of_span: HashMap<(usize, usize), usize> = HashMap::new();
    for (i, (frame, node)) in predicates.iter().enumerate() {
        graph.add_edge(root, format!("{op}{}", i + 1), *node);
        let mut arguments: Vec<&SrlArgument> =
            frame.arguments.iter().filter(|a| a.role != "V").collect();
        arguments.sort_by(|a, b| a.role.cmp(&b.role));
        let own = frame.verb().map(|v| (v.start, v.end));
        for argument in arguments {
            let (start, end) = if options.reduce_arguments {
                let inner = verbs.iter().copied().find(|&(s, e)| {
                    argument.start <= s && e <= argument.end && Some((s, e)) != own
                });
                inner.unwrap_or_else(|| {
                    let head = argument_head(words, argument.start, argument.end);
                    (head, head + 1)
                })
            } else {
                (argument.start, argument.end)
            };
            let linked = if options.reentrancy && options.reduce_arguments {
                predicate_of_span.get(&(start, end)).copied()
            } else {
                None
            };
            let target = match linked.or_else(|| argument_of_span.get(&(start, end)).copied()) {
                Some(n) if options.reentrancy => n,
                _ => {
                    let n = graph.add_node(span_concept(start, end));
                    argument_of_span.entry((start, end)).or_insert(n);
                    n
                }
            };
            graph.add_edge(*node, concept_symbol(&argument.role), target);
        }
    }
    graph.into_amr_numbered(root, &sentence.id, &sentence.sentence_text())
}

/// CoNLL-2005 labels as CoNLL-2012 ones (`A0` → `ARG0`, `AM-LOC` → `ARGM-LOC`, `R-A0` →
/// `R-ARG0`); other labels unchanged.
fn normalize_label(label: &str) -> String {
    for prefix in ["R-", "C-"] {
        if let Some(rest) = label.strip_prefix(prefix) {
            return format!("{prefix}{}", normalize_label(rest));
        }
    }
    if let Some(rest) = label.strip_prefix("AM-") {
        return format!("ARGM-{rest}");
    }
    match label.strip_prefix('A') {
        Some(rest)
            if rest == "A" || (!rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit())) =>
        {
            format!("ARG{rest}")
        }
        _ => label.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn head_rule() {
        let w = words("the cat on the mat that he left to eat fish in the morning");
        assert_eq!(w[argument_head(&w, 0, 5)], "cat");
        assert_eq!(w[argument_head(&w, 5, 8)], "left");
        assert_eq!(w[argument_head(&w, 8, 11)], "fish");
        assert_eq!(w[argument_head(&w, 11, 14)], "morning");
        assert_eq!(argument_head(&w, 3, 4), 3);
    }

    #[test]
    fn conll2005_labels() {
        assert_eq!(normalize_label("A0"), "ARG0");
        assert_eq!(normalize_label("AM-TMP"), "ARGM-TMP");
        assert_eq!(normalize_label("R-A1"), "R-ARG1");
        assert_eq!(normalize_label("C-AM-LOC"), "C-ARGM-LOC");
        assert_eq!(normalize_label("AA"), "ARGA");
        assert_eq!(normalize_label("ARG1"), "ARG1");
        assert_eq!(normalize_label("V"), "V");
    }
}
