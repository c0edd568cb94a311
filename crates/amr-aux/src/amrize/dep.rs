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

use std::fmt;
use std::path::Path;

use super::{Problem, PseudoGraph, RecordError, concept_symbol, metadata_value};
use crate::penman::Amr;

/// A dependency tree in ATP's bracketed form: a word and its dependents in sentence order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepTree {
    /// The word as one token ([`dep_token`]); `ROOT` for the dummy root.
    pub word: String,
    /// `(relation, dependent)` in sentence order, the relation without its `:` (`nsubj`).
    pub dependents: Vec<(String, DepTree)>,
}

impl DepTree {
    /// A word without dependents.
    pub fn leaf(word: impl Into<String>) -> Self {
        Self {
            word: word.into(),
            dependents: Vec::new(),
        }
    }

    /// ATP's token sequence: `(`, the word, `:rel` and dependent for each dependent, `)` for a
    /// word with dependents; the bare word otherwise.
    pub fn tokens(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.push_tokens(&mut out);
        out
    }

    fn push_tokens(&self, out: &mut Vec<String>) {
        if self.dependents.is_empty() {
            out.push(self.word.clone());
            return;
        }
        out.push("(".into());
        out.push(self.word.clone());
        for (relation, dependent) in &self.dependents {
            out.push(format!(":{relation}"));
            dependent.push_tokens(out);
        }
        out.push(")".into());
    }

    /// Reads a token sequence as [`Self::tokens`] writes it.
    ///
    /// # Errors
    /// What is wrong, e.g. `expected a relation, found `x``, when the tokens are not one tree.
    pub fn from_tokens<S: AsRef<str>>(tokens: &[S]) -> Result<Self, String> {
        let tokens: Vec<&str> = tokens.iter().map(AsRef::as_ref).collect();
        let mut at = 0;
        let tree = read_tree(&tokens, &mut at)?;
        if at != tokens.len() {
            return Err(format!("unexpected `{}` after the tree", tokens[at]));
        }
        Ok(tree)
    }

    /// Words in the tree (the dummy root included).
    pub fn words(&self) -> usize {
        1 + self
            .dependents
            .iter()
            .map(|(_, d)| d.words())
            .sum::<usize>()
    }

    /// Relations in the tree (one per word but the root).
    pub fn relations(&self) -> usize {
        self.words() - 1
    }

    /// The tree as a Penman graph with one variable per word (the pointer style), with
    /// `# ::id` and `# ::snt` metadata; words and relations become Penman symbols
    /// ([`concept_symbol`]).
    pub fn to_amr(&self, id: &str, sentence: &str) -> Amr {
        let mut graph = PseudoGraph::default();
        let root = self.add_to(&mut graph);
        graph.into_amr(root, id, sentence)
    }

    fn add_to(&self, graph: &mut PseudoGraph) -> usize {
        let node = graph.add_node(concept_symbol(&self.word));
        for (relation, dependent) in &self.dependents {
            let child = dependent.add_to(graph);
            graph.add_edge(node, concept_symbol(relation), child);
        }
        node
    }
}

/// The token sequence joined by single spaces.
impl fmt::Display for DepTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.tokens().join(" "))
    }
}

/// Reads one tree at `tokens[*at]`. Only `(` and `)` are reserved: a token is read as a word
/// or a relation by its position, so a word may start with `:` (`:)`).
fn read_tree(tokens: &[&str], at: &mut usize) -> Result<DepTree, String> {
    let token = |at: usize| tokens.get(at).copied();
    match token(*at) {
        None => Err("unexpected end of the sequence".into()),
        Some(")") => Err("unexpected `)`".into()),
        Some("(") => {
            *at += 1;
            let word = match token(*at) {
                Some(w) if w != "(" && w != ")" => w.to_string(),
                other => return Err(format!("expected a word after `(`, found {other:?}")),
            };
            *at += 1;
            let mut dependents = Vec::new();
            loop {
                match token(*at) {
                    Some(")") => {
                        *at += 1;
                        break;
                    }
                    Some(r) if r.starts_with(':') && r.len() > 1 => {
                        *at += 1;
                        let dependent = read_tree(tokens, at)?;
                        dependents.push((r[1..].to_string(), dependent));
                    }
                    Some(t) => return Err(format!("expected a relation or `)`, found `{t}`")),
                    None => return Err("unclosed `(`".into()),
                }
            }
            if dependents.is_empty() {
                return Err(format!("`( {word} )` has no dependents"));
            }
            Ok(DepTree { word, dependents })
        }
        Some(word) => {
            *at += 1;
            Ok(DepTree::leaf(word))
        }
    }
}

/// A word as one token of a bracketed tree: whitespace becomes `_`, `(` and `)` become `-LRB-`
/// and `-RRB-` (Penn Treebank style), an empty word `-EMPTY-`; other characters are kept (a
/// word may start with `:`, the reader tells words from relations by their position).
pub fn dep_token(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        match c {
            c if c.is_whitespace() => out.push('_'),
            '(' => out.push_str("-LRB-"),
            ')' => out.push_str("-RRB-"),
            c => out.push(c),
        }
    }
    if out.is_empty() {
        out.push_str("-EMPTY-");
    }
    out
}

/// The bracketed tree of one sentence, with its id and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepSequence {
    /// The sentence id (`# sent_id`, or `<file stem>.<n>`).
    pub id: String,
    /// The sentence text.
    pub sentence: String,
    /// The tree under the dummy `ROOT`.
    pub tree: DepTree,
}

impl DepSequence {
    /// The tree as a Penman graph with variables ([`DepTree::to_amr`]).
    pub fn to_amr(&self) -> Amr {
        self.tree.to_amr(&self.id, &self.sentence)
    }
}

/// A file of bracketed trees: for each, `# ::id ID`, `# ::snt TEXT`, the token sequence on one
/// line and a blank line.
pub fn write_dep_sequences(sequences: &[DepSequence]) -> String {
    let mut out = String::new();
    for s in sequences {
        out.push_str(&format!(
            "# ::id {}\n# ::snt {}\n{}\n\n",
            metadata_value(&s.id),
            metadata_value(&s.sentence),
            s.tree
        ));
    }
    out
}

/// Whether `text` is a file of bracketed trees (its first line that is neither blank nor a
/// comment starts with `( ROOT `), not a Penman file.
pub fn is_dep_sequence_text(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| l.starts_with("( ROOT "))
}

/// Reads a file written by [`write_dep_sequences`] (`path` names it in errors): blocks of
/// `# ::id`, `# ::snt` and one token line, separated by blank lines.
///
/// # Errors
/// The first malformed block: [`Problem::BadTree`] at its sequence line (or at its first line
/// when it has no sequence or more than one).
pub fn parse_dep_sequences(text: &str, path: &Path) -> Result<Vec<DepSequence>, RecordError> {
    let mut out = Vec::new();
    let mut block: Vec<(usize, &str)> = Vec::new();
    let lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
    for (n, line) in lines.chain(std::iter::once((0, ""))) {
        if !line.is_empty() {
            block.push((n, line));
            continue;
        }
        if block.is_empty() {
            continue;
        }
        let mut id = None;
        let mut sentence = String::new();
        let mut body = Vec::new();
        for &(n, l) in &block {
            if let Some(v) = l.strip_prefix("# ::id") {
                id = Some(v.trim().to_string());
            } else if let Some(v) = l.strip_prefix("# ::snt") {
                sentence = v.trim().to_string();
            } else if !l.starts_with('#') {
                body.push((n, l));
            }
        }
        let id = id.unwrap_or_else(|| format!("#{}", out.len() + 1));
        let error = |line: usize, problem: String| RecordError {
            path: path.to_path_buf(),
            line,
            sentence: Some(id.clone()),
            problem: Problem::BadTree(problem),
        };
        let [(line, sequence)] = body[..] else {
            let found = body.len();
            return Err(error(
                block[0].0,
                format!("{found} sequence lines (expected 1)"),
            ));
        };
        let tokens: Vec<&str> = sequence.split_whitespace().collect();
        let tree = DepTree::from_tokens(&tokens).map_err(|p| error(line, p))?;
        out.push(DepSequence { id, sentence, tree });
        block.clear();
    }
    Ok(out)
}

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
