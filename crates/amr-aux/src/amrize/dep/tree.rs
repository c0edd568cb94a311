//! ATP's bracketed dependency trees: building, printing, reading back, and their files.

use std::fmt;
use std::path::Path;

use super::super::{Problem, PseudoGraph, RecordError, concept_symbol, metadata_value};
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
