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
//! must form a tree. Any violation is a [`RecordError`] naming the file, line and sentence.
//!
//! # Output
//!
//! ATP's bracketed dependency tree under a dummy root,
//! `( ROOT :root ( introduced :nsubj ( members :amod Influential … ) ) )`, with variables so that
//! it is a valid AMR:
//!
//! ```text
//! (r / ROOT
//!       :root (c / come
//!             :obl (a / AP :case (f / from) :det (t / the))
//!             :nsubj (s / story :det (t2 / this))
//!             :punct (x / -COLON-)))
//! ```
//!
//! Each word's dependents are in sentence order; relation subtypes are written with `_`
//! (`nsubj:pass` → `:nsubj_pass`, since `:` cannot appear inside a Penman role for most
//! tools), or dropped with [`DepOptions::strip_subtypes`].

use std::path::Path;

use super::{Problem, PseudoGraph, RecordError, concept_symbol};
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
fn validate_tree(words: &[DepWord]) -> Result<(), Problem> {
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

/// The PseudoAMR graph of a dependency tree (see the module documentation).
///
/// # Errors
/// [`Problem::HeadOutOfRange`] or [`Problem::Cycle`] if the heads do not form a tree (never for
/// a sentence from [`parse_conllu`]), [`Problem::NoWords`] for an empty sentence.
pub fn dep_to_amr(sentence: &DepSentence, options: &DepOptions) -> Result<Amr, Problem> {
    let words = &sentence.words;
    if words.is_empty() {
        return Err(Problem::NoWords);
    }
    validate_tree(words)?;
    let dropped: Vec<bool> = words
        .iter()
        .map(|w| w.head != 0 && options.drop.iter().any(|d| d == universal(&w.deprel)))
        .collect();
    let mut graph = PseudoGraph::default();
    let root = graph.add_node("ROOT".into());
    // Node of word i + 1 (None when dropped).
    let nodes: Vec<Option<usize>> = words
        .iter()
        .zip(&dropped)
        .map(|(w, &d)| {
            (!d).then(|| {
                let word = if options.lemma && w.lemma != "_" && !w.lemma.is_empty() {
                    &w.lemma
                } else {
                    &w.form
                };
                graph.add_node(concept_symbol(word))
            })
        })
        .collect();
    for (i, w) in words.iter().enumerate() {
        let Some(node) = nodes[i] else { continue };
        let mut head = w.head;
        while head != 0 && dropped[head - 1] {
            head = words[head - 1].head;
        }
        let parent = if head == 0 {
            root
        } else {
            nodes[head - 1].expect("kept ancestor")
        };
        let role = if options.strip_subtypes {
            universal(&w.deprel).to_string()
        } else {
            w.deprel.replace(':', "_")
        };
        graph.add_edge(parent, concept_symbol(&role), node);
    }
    let id = sentence.id.clone().unwrap_or_default();
    Ok(graph.into_amr(root, &id, &sentence.sentence_text()))
}

/// Parses CoNLL-U text into one result per sentence, in file order; `path` names the input in
/// errors, and a sentence without `# sent_id` gets the id `<file stem>.<n>` (n from 1).
///
/// A malformed sentence gives a [`RecordError`] at the first problem; the following sentences
/// are still read. Comment lines not followed by any word line (at the end of the file) are
/// ignored.
pub fn parse_conllu(text: &str, path: &Path) -> Vec<Result<DepSentence, RecordError>> {
    let stem = path.file_stem().map_or_else(
        || "sentence".to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    let mut out = Vec::new();
    let mut block: Vec<(usize, &str)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            // Comments separated from their words by a blank line still belong to them.
            if block.iter().any(|(_, l)| !l.starts_with('#')) {
                out.push(parse_sentence(&block, path, &stem, out.len() + 1));
                block.clear();
            }
        } else {
            block.push((i + 1, line));
        }
    }
    if block.iter().any(|(_, l)| !l.starts_with('#')) {
        out.push(parse_sentence(&block, path, &stem, out.len() + 1));
    }
    out
}

/// Reads one sentence block (comment and word lines with their line numbers).
fn parse_sentence(
    lines: &[(usize, &str)],
    path: &Path,
    stem: &str,
    index: usize,
) -> Result<DepSentence, RecordError> {
    let mut sentence = DepSentence {
        id: None,
        text: None,
        line: lines[0].0,
        words: Vec::new(),
        multiword: Vec::new(),
        empty_nodes: 0,
    };
    for (_, line) in lines {
        if let Some((key, value)) = line.strip_prefix('#').and_then(|c| c.split_once('=')) {
            match key.trim() {
                "sent_id" => sentence.id = Some(value.trim().to_string()),
                "text" => sentence.text = Some(value.trim().to_string()),
                _ => {}
            }
        }
    }
    let error = |line: usize, id: &Option<String>, problem| RecordError {
        path: path.to_path_buf(),
        line,
        sentence: id.clone(),
        problem,
    };
    let mut head_lines = Vec::new();
    for &(line_no, line) in lines {
        if line.starts_with('#') {
            continue;
        }
        match read_line(&mut sentence, line) {
            Ok(true) => head_lines.push(line_no),
            Ok(false) => {}
            Err(problem) => return Err(error(line_no, &sentence.id, problem)),
        }
    }
    if sentence.words.is_empty() {
        return Err(error(sentence.line, &sentence.id, Problem::NoWords));
    }
    if let Err(problem) = validate_tree(&sentence.words) {
        let word = match problem {
            Problem::HeadOutOfRange { word, .. } | Problem::Cycle(word) => word,
            _ => 1,
        };
        return Err(error(head_lines[word - 1], &sentence.id, problem));
    }
    if sentence.id.is_none() {
        sentence.id = Some(format!("{stem}.{index}"));
    }
    Ok(sentence)
}

/// Reads one word line (10 tab-separated columns) into `sentence`: a word (true), or a
/// multiword-token range or an empty node (false).
fn read_line(sentence: &mut DepSentence, line: &str) -> Result<bool, Problem> {
    let cols: Vec<&str> = line.split('\t').collect();
    if cols.len() != 10 {
        return Err(Problem::ColumnCount {
            expected: 10,
            found: cols.len(),
        });
    }
    let space_after = !cols[9].split('|').any(|f| f == "SpaceAfter=No");
    let bad_id = || Problem::BadId(cols[0].to_string());
    if let Some((first, last)) = cols[0].split_once('-') {
        let (Ok(first), Ok(last)) = (first.parse::<usize>(), last.parse::<usize>()) else {
            return Err(bad_id());
        };
        if first == 0 || last < first {
            return Err(bad_id());
        }
        sentence.multiword.push(MultiwordToken {
            first,
            last,
            form: cols[1].to_string(),
            space_after,
        });
        return Ok(false);
    }
    if let Some((word, sub)) = cols[0].split_once('.') {
        if word.parse::<usize>().is_err() || sub.parse::<usize>().is_err() {
            return Err(bad_id());
        }
        sentence.empty_nodes += 1;
        return Ok(false);
    }
    let Ok(id) = cols[0].parse::<usize>() else {
        return Err(bad_id());
    };
    let expected = sentence.words.len() + 1;
    if id != expected {
        return Err(Problem::IdSequence {
            expected,
            found: id,
        });
    }
    for (col, name) in [(1, "FORM"), (7, "DEPREL")] {
        if cols[col].is_empty() || (col == 7 && cols[col] == "_") {
            return Err(Problem::EmptyField(name));
        }
    }
    let Ok(head) = cols[6].parse::<usize>() else {
        return Err(Problem::BadHead(cols[6].to_string()));
    };
    sentence.words.push(DepWord {
        form: cols[1].to_string(),
        lemma: cols[2].to_string(),
        head,
        deprel: cols[7].to_string(),
        space_after,
    });
    Ok(true)
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
