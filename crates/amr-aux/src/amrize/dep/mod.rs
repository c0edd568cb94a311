//! Dependency trees (CoNLL-U) as PseudoAMR.
//!
//! # Input: CoNLL-U
//!
//! Sentences separated by blank lines; `# key = value` comments before the words
//! (`sent_id` gives the graph id, `text` the `# ::snt`); ten tab-separated columns per line
//! (ID, FORM, LEMMA, UPOS, XPOS, FEATS, HEAD, DEPREL, DEPS, MISC). Word IDs count 1, 2, …;
//! multiword-token lines (`3-4 don't`) are kept for the sentence text but are not nodes (their
//! words are); empty nodes (`8.1`) belong to the enhanced graph only and are left out; both
//! are counted ([`super::Amrized`]). HEAD must be a word of the sentence or 0, and the heads
//! must form a tree. Any violation is a [`RecordError`](super::RecordError) naming the file,
//! line and sentence.
//!
//! # Output: ATP's bracketed trees
//!
//! ATP's DP targets (§4 "DP → PseudoAMR", the `tokenize_dp` comment of its code) are not
//! Penman graphs but bracketed token sequences without variables or pointers, under a dummy
//! `ROOT`:
//!
//! ```text
//! ( ROOT :root ( introduced :nsubj ( members :amod Influential :prep ( of :pobj ( Ways … ) ) ) :dobj ( … ) :punct . ) )
//! ```
//!
//! A word with dependents is `( word :rel dependent … )`, a word without dependents is the bare
//! word; dependents are in sentence order. [`dep_to_tree`] builds this [`DepTree`],
//! [`DepTree::tokens`] gives the token sequence and [`write_dep_sequences`] /
//! [`parse_dep_sequences`] write and read files of them (`# ::id`, `# ::snt`, then the sequence
//! on one line). A word is one token: whitespace becomes `_` and `(`, `)` become `-LRB-`,
//! `-RRB-` ([`dep_token`]); relation subtypes are written with `_` (`nsubj:pass` →
//! `:nsubj_pass`) or dropped with [`DepOptions::strip_subtypes`].
//!
//! The same tree as a Penman graph with variables ([`DepTree::to_amr`], [`dep_to_amr`]) is the
//! pointer style of ATP's `dp_pretrain_with_pointer` config:
//!
//! ```text
//! (r / ROOT
//!       :root (c / come
//!             :obl (a / AP :case (f / from) :det (t / the))
//!             :nsubj (s / story :det (t2 / this))
//!             :punct (x / -COLON-)))
//! ```

mod conllu;
mod tree;

pub use conllu::parse_conllu;
pub use tree::{
    DepSequence, DepTree, dep_token, is_dep_sequence_text, parse_dep_sequences, write_dep_sequences,
};

use super::Problem;
use crate::penman::Amr;

/// One sentence of a CoNLL-U file (its basic dependency tree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepSentence {
    /// `# sent_id = …`.
    pub id: Option<String>,
    /// `# text = …`.
    pub text: Option<String>,
    /// 1-based line of the sentence's first line (comment or word).
    pub line: usize,
    /// The syntactic words, word `i + 1` at index `i`.
    pub words: Vec<DepWord>,
    /// The multiword-token lines (`3-4 don't`).
    pub multiword: Vec<MultiwordToken>,
    /// Empty-node lines (`8.1`), left out of the tree.
    pub empty_nodes: usize,
}

/// A syntactic word: the columns the conversion uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepWord {
    /// FORM.
    pub form: String,
    /// LEMMA (`_` when unannotated).
    pub lemma: String,
    /// HEAD: 0 for the root, else the 1-based index of the head word.
    pub head: usize,
    /// DEPREL, e.g. `nsubj:pass`.
    pub deprel: String,
    /// Whether MISC lacks `SpaceAfter=No`.
    pub space_after: bool,
}

/// A multiword token: the words `first..=last` written as `form`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiwordToken {
    /// First word (1-based).
    pub first: usize,
    /// Last word (1-based, inclusive).
    pub last: usize,
    /// The surface form.
    pub form: String,
    /// Whether MISC lacks `SpaceAfter=No`.
    pub space_after: bool,
}

impl DepSentence {
    /// The `# text` comment, or the text rebuilt from the tokens (multiword tokens by their
    /// surface form, `SpaceAfter=No` respected).
    pub fn sentence_text(&self) -> String {
        if let Some(text) = &self.text {
            return text.clone();
        }
        let mut out = String::new();
        let mut i = 1;
        while i <= self.words.len() {
            let (form, space, next) = match self.multiword.iter().find(|m| m.first == i) {
                Some(m) => (&m.form, m.space_after, m.last + 1),
                None => {
                    let w = &self.words[i - 1];
                    (&w.form, w.space_after, i + 1)
                }
            };
            out.push_str(form);
            if space && next <= self.words.len() {
                out.push(' ');
            }
            i = next;
        }
        out
    }
}

/// The dependency variants of ATP's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepVariant {
    /// Word forms, every relation (the tree as in the spec's example).
    Plain,
    /// Lemmas instead of forms (ATP's `*.lemmatized` data).
    Lemma,
    /// Lemmas, `det` and `punct` dependents removed (ATP's
    /// `conll15_no_pointer_without_det_punct/*.lemmatized.rr`, used by its DP configs).
    Pruned,
}

impl DepVariant {
    /// All variants with their CLI names.
    pub const ALL: [(DepVariant, &'static str); 3] = [
        (DepVariant::Plain, "plain"),
        (DepVariant::Lemma, "lemma"),
        (DepVariant::Pruned, "pruned"),
    ];

    /// The variant named `name` (`plain`, `lemma`, `pruned`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(v, _)| *v)
    }

    /// The conversion options of the variant (subtypes kept).
    pub fn options(self) -> DepOptions {
        DepOptions {
            lemma: self != DepVariant::Plain,
            drop: if self == DepVariant::Pruned {
                vec!["det".into(), "punct".into()]
            } else {
                Vec::new()
            },
            strip_subtypes: false,
        }
    }
}

/// How a dependency tree becomes a graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepOptions {
    /// Concepts are lemmas (a word whose lemma is `_` keeps its form).
    pub lemma: bool,
    /// Relations whose dependents are removed (compared without subtype: `det` also removes
    /// `det:predet`); the root is never removed, and the dependents of a removed word are
    /// attached to its nearest kept ancestor with their own relations.
    pub drop: Vec<String>,
    /// Roles without the relation subtype (`nsubj:pass` → `:nsubj`).
    pub strip_subtypes: bool,
}

/// The options of [`DepVariant::Pruned`], ATP's DP setting.
impl Default for DepOptions {
    fn default() -> Self {
        DepVariant::Pruned.options()
    }
}

fn universal(deprel: &str) -> &str {
    deprel.split(':').next().unwrap_or(deprel)
}

/// Checks that the heads are in range and form a tree (every word reaches 0).
pub(super) fn validate_tree(words: &[DepWord]) -> Result<(), Problem> {
    let n = words.len();
    for (i, w) in words.iter().enumerate() {
        if w.head > n {
            return Err(Problem::HeadOutOfRange {
                word: i + 1,
                head: w.head,
                words: n,
            });
        }
    }
    // 0 = unknown, 1 = on the current path, 2 = reaches the root.
    let mut state = vec![0u8; n + 1];
    state[0] = 2;
    for start in 1..=n {
        let mut path = Vec::new();
        let mut at = start;
        while state[at] == 0 {
            state[at] = 1;
            path.push(at);
            at = words[at - 1].head;
        }
        if state[at] == 1 {
            return Err(Problem::Cycle(at));
        }
        for p in path {
            state[p] = 2;
        }
    }
    Ok(())
}

/// ATP's bracketed tree of a dependency tree under the dummy `ROOT` (see the module
/// documentation), with the words and relations that `options` ask for.
///
/// # Errors
/// [`Problem::HeadOutOfRange`] or [`Problem::Cycle`] if the heads do not form a tree (never for
/// a sentence from [`parse_conllu`]), [`Problem::NoWords`] for an empty sentence.
pub fn dep_to_tree(sentence: &DepSentence, options: &DepOptions) -> Result<DepTree, Problem> {
    let words = &sentence.words;
    if words.is_empty() {
        return Err(Problem::NoWords);
    }
    validate_tree(words)?;
    let dropped: Vec<bool> = words
        .iter()
        .map(|w| w.head != 0 && options.drop.iter().any(|d| d == universal(&w.deprel)))
        .collect();
    // The kept dependents of each word (index 0: ROOT, i: word i), in sentence order.
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); words.len() + 1];
    for (i, w) in words.iter().enumerate() {
        if dropped[i] {
            continue;
        }
        let mut head = w.head;
        while head != 0 && dropped[head - 1] {
            head = words[head - 1].head;
        }
        dependents[head].push(i + 1);
    }
    let token = |w: &DepWord| {
        let word = if options.lemma && w.lemma != "_" && !w.lemma.is_empty() {
            &w.lemma
        } else {
            &w.form
        };
        dep_token(word)
    };
    let relation = |w: &DepWord| {
        if options.strip_subtypes {
            universal(&w.deprel).to_string()
        } else {
            w.deprel.replace(':', "_")
        }
    };
    fn build(
        node: usize,
        word: String,
        dependents: &[Vec<usize>],
        words: &[DepWord],
        token: &dyn Fn(&DepWord) -> String,
        relation: &dyn Fn(&DepWord) -> String,
    ) -> DepTree {
        let children = dependents[node]
            .iter()
            .map(|&d| {
                let w = &words[d - 1];
                let child = build(d, token(w), dependents, words, token, relation);
                (relation(w), child)
            })
            .collect();
        DepTree {
            word,
            dependents: children,
        }
    }
    Ok(build(
        0,
        "ROOT".into(),
        &dependents,
        words,
        &token,
        &relation,
    ))
}

/// The sentence's [`DepSequence`]: its id, text and [`dep_to_tree`].
///
/// # Errors
/// As [`dep_to_tree`].
pub fn dep_to_sequence(
    sentence: &DepSentence,
    options: &DepOptions,
) -> Result<DepSequence, Problem> {
    Ok(DepSequence {
        id: sentence.id.clone().unwrap_or_default(),
        sentence: sentence.sentence_text(),
        tree: dep_to_tree(sentence, options)?,
    })
}

/// The tree of [`dep_to_tree`] as a Penman graph with variables (ATP's pointer style, see
/// [`DepTree::to_amr`]).
///
/// # Errors
/// As [`dep_to_tree`].
pub fn dep_to_amr(sentence: &DepSentence, options: &DepOptions) -> Result<Amr, Problem> {
    Ok(dep_to_sequence(sentence, options)?.to_amr())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(form: &str, head: usize, deprel: &str) -> DepWord {
        DepWord {
            form: form.into(),
            lemma: form.to_lowercase(),
            head,
            deprel: deprel.into(),
            space_after: true,
        }
    }

    #[test]
    fn tree_validation() {
        assert_eq!(validate_tree(&[word("a", 0, "root")]), Ok(()));
        assert_eq!(
            validate_tree(&[word("a", 0, "root"), word("b", 3, "x"), word("c", 2, "x")]),
            Err(Problem::Cycle(2))
        );
        assert_eq!(
            validate_tree(&[word("a", 2, "root")]),
            Err(Problem::HeadOutOfRange {
                word: 1,
                head: 2,
                words: 1
            })
        );
        assert_eq!(
            validate_tree(&[word("a", 1, "root")]),
            Err(Problem::Cycle(1))
        );
    }

    #[test]
    fn pruning_reattaches_dependents_of_removed_words() {
        // "Hi , Bob" with "Bob" (wrongly) under the comma.
        let sentence = DepSentence {
            id: Some("t".into()),
            text: None,
            line: 1,
            words: vec![
                word("Hi", 0, "root"),
                word(",", 1, "punct"),
                word("Bob", 2, "vocative"),
            ],
            multiword: Vec::new(),
            empty_nodes: 0,
        };
        let amr = dep_to_amr(&sentence, &DepVariant::Pruned.options()).unwrap();
        assert_eq!(
            amr.to_penman(None),
            "(r / ROOT :root (h / hi :vocative (b / bob)))"
        );
        assert_eq!(amr.meta("snt"), Some("Hi , Bob"));
    }

    #[test]
    fn text_is_rebuilt_from_tokens() {
        let mut sentence = DepSentence {
            id: None,
            text: None,
            line: 1,
            words: vec![
                word("do", 0, "root"),
                word("n't", 1, "advmod"),
                word("!", 1, "punct"),
            ],
            multiword: vec![MultiwordToken {
                first: 1,
                last: 2,
                form: "don't".into(),
                space_after: false,
            }],
            empty_nodes: 0,
        };
        assert_eq!(sentence.sentence_text(), "don't!");
        sentence.multiword.clear();
        assert_eq!(sentence.sentence_text(), "do n't !");
    }
}
