//! SPRING's DFS linearisation with pointer tokens (Bevilacqua et al., AAAI 2021), as ATP uses it:
//! an AMR graph becomes the token sequence that the seq2seq parser generates, and back.
//!
//! ```text
//! (w / want-01 :ARG0 (b / boy) :ARG1 (g / go-02 :ARG0 b :ARG1 (c / city :name (n / name :op1 "Paris"))))
//! ( <pointer:0> want-01 :ARG0 ( <pointer:1> boy ) :ARG1 ( <pointer:2> go-02 :ARG0 <pointer:1>
//!   :ARG1 ( <pointer:3> city :name ( <pointer:4> name :op1 <lit> Paris </lit> ) ) ) )
//! ```
//!
//! Conventions (SPRING with `penman_linearization` and `use_pointer_tokens`):
//! - every node is `(` `<pointer:N>` concept, its roles, `)`; the `/` is not written, and a node
//!   written without a concept (`(x)`) is `( <pointer:N> )`;
//! - variables are numbered `<pointer:0>`, `<pointer:1>`, … by first appearance in the sequence
//!   (depth-first, roles in written order); a re-entrancy is the bare pointer token;
//! - roles keep their written form, inverse roles included (`:ARG0-of`);
//! - a quoted string is `<lit>`, its whitespace-separated words, `</lit>`; other constants
//!   (numbers, `-`, `+`, `imperative`) are bare tokens;
//! - `:wiki` roles are kept by [`linearize`]; SPRING removes them before training (BLINK adds
//!   them back after parsing), which [`remove_wiki`] does.
//!
//! Restoration gives variables AMR-style names (first letter of the concept, then a counter:
//! `w`, `b`, `b2`). [`delinearize`] accepts exactly what [`linearize`] writes; a quoted string
//! comes back with its whitespace runs collapsed to single spaces and trimmed, and one holding
//! the word `</lit>` cannot be read back (neither occurs in the Little Prince corpus, on which
//! the round trip is lossless). [`delinearize_lenient`] restores a valid graph from any model output,
//! with these repairs (SPRING's exact heuristics are not published):
//! - tokens outside the grammar (`<s>`, `<stop>`, a concept or string with no role) are skipped,
//!   a role without a target is dropped, an unclosed `<lit>` ends at the next structural token;
//! - open nodes are closed at the end, closers with no open node are dropped, and a role after
//!   the root was closed goes back into the root;
//! - a node without a pointer gets a fresh variable, a node without a concept gets
//!   [`FALLBACK_CONCEPT`], a pointer defined twice gets a fresh variable the second time;
//! - a pointer that is referenced but never defined becomes a [`FALLBACK_CONCEPT`] node at its
//!   first reference (a detached subtree that is referenced is attached there the same way);
//!   nodes that are not reachable from the root are dropped with their roles;
//! - an input with no node gives the single node `(a / amr-empty)` ([`EMPTY_CONCEPT`]).

mod lenient;
mod strict;

use std::collections::{HashMap, HashSet};

use crate::penman::{Amr, Constant, Edge, Instance, Target};
pub use lenient::delinearize_lenient;
pub use strict::delinearize;

/// Opens a node.
pub const OPEN: &str = "(";
/// Closes a node.
pub const CLOSE: &str = ")";
/// Starts a quoted string.
pub const LIT_OPEN: &str = "<lit>";
/// Ends a quoted string.
pub const LIT_CLOSE: &str = "</lit>";
/// The concept [`delinearize_lenient`] gives to a node whose concept is missing.
pub const FALLBACK_CONCEPT: &str = "thing";
/// The concept of the single node [`delinearize_lenient`] returns for an input with no node.
pub const EMPTY_CONCEPT: &str = "amr-empty";

/// The pointer token of variable number `n`: `<pointer:n>`.
pub fn pointer_token(n: usize) -> String {
    format!("<pointer:{n}>")
}

/// The number of a pointer token (`<pointer:3>` gives 3), `None` for any other token.
pub fn parse_pointer(token: &str) -> Option<usize> {
    token
        .strip_prefix("<pointer:")?
        .strip_suffix('>')?
        .parse()
        .ok()
}

/// A sequence that [`delinearize`] cannot read; `position` is the 0-based token index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinearizeError {
    /// The sequence has no token.
    #[error("empty token sequence")]
    Empty,
    /// A token that the grammar does not allow here.
    #[error("token {position}: expected {expected}, found `{found}`")]
    Unexpected {
        /// Index of the token.
        position: usize,
        /// What the grammar allows.
        expected: &'static str,
        /// The token.
        found: String,
    },
    /// The sequence ended inside the graph.
    #[error("unexpected end of the sequence, expected {expected}")]
    UnexpectedEnd {
        /// What the grammar allows.
        expected: &'static str,
    },
    /// A pointer that opens two nodes.
    #[error("token {position}: <pointer:{pointer}> is defined twice")]
    DuplicatePointer {
        /// Index of the second definition.
        position: usize,
        /// The pointer number.
        pointer: usize,
    },
    /// A re-entrancy to a pointer that no node defines.
    #[error("<pointer:{0}> is referenced but never defined")]
    UndefinedPointer(usize),
    /// Tokens after the root node is closed.
    #[error("token {position}: `{found}` after the end of the graph")]
    Trailing {
        /// Index of the first extra token.
        position: usize,
        /// The token.
        found: String,
    },
}

/// Removes every `:wiki` role, as SPRING's preprocessing does before linearising.
pub fn remove_wiki(amr: &Amr) -> Amr {
    let mut out = amr.clone();
    out.edges.retain(|e| e.role != "wiki");
    out
}

/// The token sequence of a graph (see the module documentation for the conventions).
///
/// Nodes are written as [`Amr::to_penman`] writes them: a node that no [`Target::Node`] edge
/// reaches from [`Amr::top`] is left out.
pub fn linearize(amr: &Amr) -> Vec<String> {
    let mut children: HashMap<&str, Vec<&Edge>> = HashMap::new();
    for edge in &amr.edges {
        children.entry(edge.source.as_str()).or_default().push(edge);
    }
    let concepts: HashMap<&str, Option<&str>> = amr
        .instances
        .iter()
        .map(|i| (i.variable.as_str(), i.concept.as_deref()))
        .collect();
    let mut writer = Writer {
        children,
        concepts,
        pointers: HashMap::new(),
        tokens: Vec::new(),
    };
    writer.node(&amr.top);
    writer.tokens
}

struct Writer<'a> {
    children: HashMap<&'a str, Vec<&'a Edge>>,
    concepts: HashMap<&'a str, Option<&'a str>>,
    pointers: HashMap<&'a str, usize>,
    tokens: Vec<String>,
}

impl<'a> Writer<'a> {
    fn pointer(&mut self, variable: &'a str) {
        let next = self.pointers.len();
        let n = *self.pointers.entry(variable).or_insert(next);
        self.tokens.push(pointer_token(n));
    }

    fn node(&mut self, variable: &'a str) {
        self.tokens.push(OPEN.into());
        self.pointer(variable);
        if let Some(Some(concept)) = self.concepts.get(variable) {
            self.tokens.push((*concept).to_string());
        }
        for edge in self.children.get(variable).cloned().into_iter().flatten() {
            self.tokens.push(format!(":{}", edge.role));
            match &edge.target {
                Target::Node(v) => self.node(v),
                Target::Reference(v) => self.pointer(v),
                Target::Constant(c) if c.quoted => {
                    self.tokens.push(LIT_OPEN.into());
                    self.tokens
                        .extend(c.value.split_whitespace().map(str::to_string));
                    self.tokens.push(LIT_CLOSE.into());
                }
                Target::Constant(c) => self.tokens.push(c.value.clone()),
            }
        }
        self.tokens.push(CLOSE.into());
    }
}

/// A token classified for reading.
#[derive(Clone, Copy)]
enum Tok<'a> {
    Open,
    Close,
    Pointer(usize),
    Role(&'a str),
    LitOpen,
    LitClose,
    /// A concept or a bare constant.
    Symbol(&'a str),
    /// Any other `<…>` special token (`<s>`, `<stop>`, …).
    Special,
}

fn classify(token: &str) -> Tok<'_> {
    match token {
        OPEN => Tok::Open,
        CLOSE => Tok::Close,
        LIT_OPEN => Tok::LitOpen,
        LIT_CLOSE => Tok::LitClose,
        _ => {
            if let Some(n) = parse_pointer(token) {
                Tok::Pointer(n)
            } else if let Some(role) = token.strip_prefix(':').filter(|r| !r.is_empty()) {
                Tok::Role(role)
            } else if token.is_empty()
                || (token.len() > 2 && token.starts_with('<') && token.ends_with('>'))
            {
                Tok::Special
            } else {
                Tok::Symbol(token)
            }
        }
    }
}

/// A graph under construction, with variables numbered as pointers (or fresh numbers above them).
#[derive(Default)]
struct Draft {
    /// `(id, concept)` in definition order.
    nodes: Vec<(usize, Option<String>)>,
    /// `(source id, role, target)`.
    edges: Vec<(usize, String, DraftTarget)>,
}

#[derive(Clone)]
enum DraftTarget {
    Node(usize),
    Reference(usize),
    Constant(Constant),
}

/// The value of a string from its words, without `</lit>` (which would end it when linearised).
fn lit_value(words: &[&str]) -> String {
    let words: Vec<&str> = words
        .iter()
        .flat_map(|w| w.split_whitespace())
        .filter(|w| *w != LIT_CLOSE)
        .collect();
    words.join(" ")
}

/// Names the variables and builds the graph; the first node is the root. Checks that every
/// reference names a defined node (always true after the lenient reader's repairs).
fn finish(draft: Draft) -> Result<Amr, LinearizeError> {
    let defined: HashSet<usize> = draft.nodes.iter().map(|(id, _)| *id).collect();
    for (_, _, target) in &draft.edges {
        if let DraftTarget::Reference(t) = target
            && !defined.contains(t)
        {
            return Err(LinearizeError::UndefinedPointer(*t));
        }
    }
    // Variable names must not read as a bare constant of the same graph.
    let mut taken: HashSet<String> = draft
        .edges
        .iter()
        .filter_map(|(_, _, t)| match t {
            DraftTarget::Constant(c) if !c.quoted => Some(c.value.clone()),
            _ => None,
        })
        .collect();
    let mut names: HashMap<usize, String> = HashMap::new();
    for (id, concept) in &draft.nodes {
        let initial = concept
            .as_deref()
            .and_then(|c| c.chars().next())
            .filter(char::is_ascii_alphabetic)
            .map_or('x', |c| c.to_ascii_lowercase());
        let mut name = initial.to_string();
        let mut k = 2;
        while taken.contains(&name) {
            name = format!("{initial}{k}");
            k += 1;
        }
        taken.insert(name.clone());
        names.insert(*id, name);
    }
    let instances = draft
        .nodes
        .iter()
        .map(|(id, concept)| Instance {
            variable: names[id].clone(),
            concept: concept.clone(),
        })
        .collect();
    let edges = draft
        .edges
        .into_iter()
        .map(|(source, role, target)| Edge {
            source: names[&source].clone(),
            role,
            target: match target {
                DraftTarget::Node(t) => Target::Node(names[&t].clone()),
                DraftTarget::Reference(t) => Target::Reference(names[&t].clone()),
                DraftTarget::Constant(c) => Target::Constant(c),
            },
        })
        .collect();
    Ok(Amr {
        metadata: Vec::new(),
        top: names[&draft.nodes[0].0].clone(),
        instances,
        edges,
    })
}
