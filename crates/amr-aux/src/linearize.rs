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

use std::collections::{HashMap, HashSet};

use crate::penman::{Amr, Constant, Edge, Instance, Target};

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

/// Reads a sequence written by [`linearize`].
///
/// # Errors
/// A [`LinearizeError`] for anything outside the grammar: a missing or extra parenthesis, a role
/// without a target, a pointer defined twice or never defined, an unclosed `<lit>`.
pub fn delinearize(tokens: &[String]) -> Result<Amr, LinearizeError> {
    let toks: Vec<Tok> = tokens.iter().map(|t| classify(t)).collect();
    let unexpected = |position: usize, expected: &'static str| LinearizeError::Unexpected {
        position,
        expected,
        found: tokens[position].clone(),
    };
    let end = |expected: &'static str| LinearizeError::UnexpectedEnd { expected };
    if toks.is_empty() {
        return Err(LinearizeError::Empty);
    }
    let mut draft = Draft::default();
    let mut defined: HashSet<usize> = HashSet::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut i = 0;
    // Parses `( <pointer:N> [concept]` at `i`, with the edge from the parent if any.
    loop {
        // A node starts at `i`.
        match toks.get(i) {
            Some(Tok::Open) => {}
            Some(_) => return Err(unexpected(i, "`(`")),
            None => return Err(end("`(`")),
        }
        let id = match toks.get(i + 1) {
            Some(Tok::Pointer(n)) => *n,
            Some(_) => return Err(unexpected(i + 1, "a pointer")),
            None => return Err(end("a pointer")),
        };
        if !defined.insert(id) {
            return Err(LinearizeError::DuplicatePointer {
                position: i + 1,
                pointer: id,
            });
        }
        i += 2;
        let concept = match toks.get(i) {
            Some(Tok::Symbol(s)) => {
                i += 1;
                Some((*s).to_string())
            }
            _ => None,
        };
        draft.nodes.push((id, concept));
        stack.push(id);
        // Roles of the open nodes until a nested node starts or the root closes.
        loop {
            match toks.get(i) {
                Some(Tok::Close) => {
                    i += 1;
                    stack.pop();
                    if stack.is_empty() {
                        if i < toks.len() {
                            return Err(LinearizeError::Trailing {
                                position: i,
                                found: tokens[i].clone(),
                            });
                        }
                        return finish(draft);
                    }
                }
                Some(Tok::Role(role)) => {
                    let source = *stack.last().expect("inside a node");
                    let role = (*role).to_string();
                    i += 1;
                    match toks.get(i) {
                        Some(Tok::Open) => {
                            let Some(Tok::Pointer(child)) = toks.get(i + 1) else {
                                return match toks.get(i + 1) {
                                    Some(_) => Err(unexpected(i + 1, "a pointer")),
                                    None => Err(end("a pointer")),
                                };
                            };
                            draft.edges.push((source, role, DraftTarget::Node(*child)));
                            break;
                        }
                        Some(Tok::Pointer(n)) => {
                            draft.edges.push((source, role, DraftTarget::Reference(*n)));
                            i += 1;
                        }
                        Some(Tok::Symbol(s)) => {
                            let constant = Constant {
                                value: (*s).to_string(),
                                quoted: false,
                            };
                            draft
                                .edges
                                .push((source, role, DraftTarget::Constant(constant)));
                            i += 1;
                        }
                        Some(Tok::LitOpen) => {
                            i += 1;
                            let mut words = Vec::new();
                            loop {
                                match toks.get(i) {
                                    Some(Tok::LitClose) => break,
                                    Some(_) => words.push(tokens[i].as_str()),
                                    None => return Err(end("`</lit>`")),
                                }
                                i += 1;
                            }
                            i += 1;
                            let constant = Constant {
                                value: words.join(" "),
                                quoted: true,
                            };
                            draft
                                .edges
                                .push((source, role, DraftTarget::Constant(constant)));
                        }
                        Some(_) => return Err(unexpected(i, "a role target")),
                        None => return Err(end("a role target")),
                    }
                }
                Some(_) => return Err(unexpected(i, "a role or `)`")),
                None => return Err(end("a role or `)`")),
            }
        }
    }
}

/// Reads any token sequence into a valid graph, repairing what [`delinearize`] rejects (see the
/// module documentation for the repairs). Never fails and never panics; the graph has at least
/// one node, every node has a concept, and its Penman form parses back to the same graph.
pub fn delinearize_lenient(tokens: &[String]) -> Amr {
    let toks: Vec<Tok> = tokens.iter().map(|t| classify(t)).collect();
    let mut fresh = 0;
    let mut new_id = || {
        fresh += 1;
        fresh - 1
    };
    // Pointer number -> node id, and the pointers whose node is defined.
    let mut ids: HashMap<usize, usize> = HashMap::new();
    let mut draft = Draft::default();
    let mut defined: HashSet<usize> = HashSet::new();
    let mut root: Option<usize> = None;
    let mut stack: Vec<usize> = Vec::new();
    let mut role: Option<String> = None;
    // The node whose pointer/concept may still follow: (index in `draft.nodes`, pointer seen).
    let mut head: Option<(usize, bool)> = None;
    let mut i = 0;
    while i < toks.len() {
        let tok = &toks[i];
        i += 1;
        // Head of a node just opened: a pointer, then a concept.
        if let Some((index, has_pointer)) = head {
            match tok {
                Tok::Pointer(n) if !has_pointer => {
                    if defined.insert(*n) {
                        let old = draft.nodes[index].0;
                        define(&mut draft, &mut ids, index, *n);
                        let new = draft.nodes[index].0;
                        for open in &mut stack {
                            if *open == old {
                                *open = new;
                            }
                        }
                        if root == Some(old) {
                            root = Some(new);
                        }
                    }
                    head = Some((index, true));
                    continue;
                }
                Tok::Symbol(s) => {
                    draft.nodes[index].1 = clean_concept(s);
                    head = None;
                    continue;
                }
                _ => head = None,
            }
        }
        match tok {
            Tok::Open => {
                let id = new_id();
                draft.nodes.push((id, None));
                head = Some((draft.nodes.len() - 1, false));
                match (stack.last(), role.take()) {
                    (Some(&parent), Some(r)) => {
                        draft.edges.push((parent, r, DraftTarget::Node(id)))
                    }
                    (None, _) if root.is_none() => root = Some(id),
                    // A node with no role: parsed, then dropped as unreachable.
                    _ => {}
                }
                stack.push(id);
            }
            Tok::Close => {
                role = None;
                stack.pop();
            }
            Tok::Role(r) => {
                let r: String = r.chars().filter(|&c| !breaks_role(c)).collect();
                if r.is_empty() {
                    continue;
                }
                if stack.is_empty() {
                    match root {
                        Some(id) => stack.push(id),
                        None => {
                            let id = new_id();
                            draft.nodes.push((id, None));
                            root = Some(id);
                            stack.push(id);
                        }
                    }
                }
                role = Some(r);
            }
            Tok::Pointer(n) => match (stack.last(), role.take()) {
                (Some(&source), Some(r)) => {
                    let target = *ids.entry(*n).or_insert_with(&mut new_id);
                    draft
                        .edges
                        .push((source, r, DraftTarget::Reference(target)));
                }
                (None, _) if root.is_none() => {
                    // A graph that starts without `(`.
                    let id = new_id();
                    draft.nodes.push((id, None));
                    root = Some(id);
                    stack.push(id);
                    // Read the pointer again as the head of this node.
                    head = Some((draft.nodes.len() - 1, false));
                    i -= 1;
                }
                _ => {}
            },
            Tok::Symbol(s) => match (stack.last(), role.take()) {
                (Some(&source), Some(r)) => {
                    let quoted = s.chars().any(breaks_symbol);
                    let constant = Constant {
                        value: if quoted {
                            lit_value(&[s])
                        } else {
                            (*s).to_string()
                        },
                        quoted,
                    };
                    draft
                        .edges
                        .push((source, r, DraftTarget::Constant(constant)));
                }
                (None, _) if root.is_none() => {
                    let id = new_id();
                    draft.nodes.push((id, clean_concept(s)));
                    root = Some(id);
                    stack.push(id);
                }
                _ => {}
            },
            Tok::LitOpen => {
                let mut words = Vec::new();
                while let Some(Tok::Symbol(_) | Tok::Special) = toks.get(i) {
                    if let Tok::Symbol(s) = toks[i] {
                        words.push(s);
                    }
                    i += 1;
                }
                if let Some(Tok::LitClose) = toks.get(i) {
                    i += 1;
                }
                if let (Some(&source), Some(r)) = (stack.last(), role.take()) {
                    let constant = Constant {
                        value: lit_value(&words),
                        quoted: true,
                    };
                    draft
                        .edges
                        .push((source, r, DraftTarget::Constant(constant)));
                }
            }
            Tok::LitClose | Tok::Special => {}
        }
    }
    let Some(root) = root else {
        return Amr {
            metadata: Vec::new(),
            top: "a".into(),
            instances: vec![Instance {
                variable: "a".into(),
                concept: Some(EMPTY_CONCEPT.into()),
            }],
            edges: Vec::new(),
        };
    };
    repair(&mut draft, root);
    let graph = finish(draft).expect("a repaired draft is valid");
    // Reading it back puts nodes and roles in written (depth-first) order.
    delinearize(&linearize(&graph)).expect("a repaired graph linearises validly")
}

/// Characters that end a Penman symbol (concept or bare constant).
fn breaks_symbol(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"' | '/' | ':')
}

/// Characters that end a Penman role.
fn breaks_role(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"')
}

/// A concept token without the characters Penman cannot hold in a symbol (`None` if nothing
/// usable is left).
fn clean_concept(token: &str) -> Option<String> {
    let concept: String = token.chars().filter(|&c| !breaks_symbol(c)).collect();
    matches!(classify(&concept), Tok::Symbol(_)).then_some(concept)
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

/// Makes the node at `index` the definition of pointer `n`: it takes the id that earlier
/// references to `n` use (its own incoming edge is renamed), or `n` takes its id.
fn define(draft: &mut Draft, ids: &mut HashMap<usize, usize>, index: usize, n: usize) {
    let old = draft.nodes[index].0;
    let Some(&id) = ids.get(&n) else {
        ids.insert(n, old);
        return;
    };
    draft.nodes[index].0 = id;
    for (source, _, target) in &mut draft.edges {
        if *source == old {
            *source = id;
        }
        if let DraftTarget::Node(t) = target
            && *t == old
        {
            *t = id;
        }
    }
}

/// Makes every referenced node reachable through node edges from `root` (defining undefined
/// pointers as [`FALLBACK_CONCEPT`] nodes), then drops what is still unreachable and moves the
/// root to the front.
fn repair(draft: &mut Draft, root: usize) {
    loop {
        let reachable = reachable(draft, root);
        let candidate = draft.edges.iter().position(|(source, _, target)| {
            matches!(target, DraftTarget::Reference(t) if !reachable.contains(t))
                && reachable.contains(source)
        });
        let Some(index) = candidate else {
            break;
        };
        let DraftTarget::Reference(target) = draft.edges[index].2 else {
            unreachable!("candidate is a reference");
        };
        if !draft.nodes.iter().any(|(id, _)| *id == target) {
            draft.nodes.push((target, None));
        }
        // Keep one parent per node: other node edges into it become references.
        for (_, _, t) in &mut draft.edges {
            if matches!(t, DraftTarget::Node(n) if *n == target) {
                *t = DraftTarget::Reference(target);
            }
        }
        draft.edges[index].2 = DraftTarget::Node(target);
    }
    let reachable = reachable(draft, root);
    draft.nodes.retain(|(id, _)| reachable.contains(id));
    draft.edges.retain(|(source, _, target)| {
        reachable.contains(source)
            && match target {
                DraftTarget::Node(t) | DraftTarget::Reference(t) => reachable.contains(t),
                DraftTarget::Constant(_) => true,
            }
    });
    for (_, concept) in &mut draft.nodes {
        concept.get_or_insert_with(|| FALLBACK_CONCEPT.into());
    }
    let root_index = draft
        .nodes
        .iter()
        .position(|(id, _)| *id == root)
        .expect("the root is reachable");
    let root_node = draft.nodes.remove(root_index);
    draft.nodes.insert(0, root_node);
}

fn reachable(draft: &Draft, root: usize) -> HashSet<usize> {
    let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
    for (source, _, target) in &draft.edges {
        if let DraftTarget::Node(t) = target {
            children.entry(*source).or_default().push(*t);
        }
    }
    let mut seen = HashSet::from([root]);
    let mut todo = vec![root];
    while let Some(n) = todo.pop() {
        for &c in children.get(&n).into_iter().flatten() {
            if seen.insert(c) {
                todo.push(c);
            }
        }
    }
    seen
}

/// Names the variables and builds the graph; the first node is the root. Checks that every
/// reference names a defined node (always true after [`repair`]).
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
