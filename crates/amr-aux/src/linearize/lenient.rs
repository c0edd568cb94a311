//! The lenient reader: a valid graph from any token sequence, with the repairs listed in the
//! module documentation.

use std::collections::{HashMap, HashSet};

use super::{
    Draft, DraftTarget, EMPTY_CONCEPT, FALLBACK_CONCEPT, Tok, classify, delinearize, finish,
    linearize, lit_value,
};
use crate::penman::{Amr, Constant, Instance};

/// Reads any token sequence into a valid graph, repairing what [`delinearize`] rejects (see the
/// module documentation for the repairs). Never fails and never panics; the graph has at least
/// one node, every node has a concept, and its Penman form parses back to the same graph.
pub fn delinearize_lenient(tokens: &[String]) -> Amr {
    let mut reader = Reader {
        toks: tokens.iter().map(|t| classify(t)).collect(),
        i: 0,
        fresh: 0,
        ids: HashMap::new(),
        draft: Draft::default(),
        defined: HashSet::new(),
        root: None,
        stack: Vec::new(),
        role: None,
        head: None,
    };
    while reader.i < reader.toks.len() {
        let tok = reader.toks[reader.i];
        reader.i += 1;
        if reader.head_token(tok) {
            continue;
        }
        match tok {
            Tok::Open => reader.open(),
            Tok::Close => {
                reader.role = None;
                reader.stack.pop();
            }
            Tok::Role(r) => reader.role(r),
            Tok::Pointer(n) => reader.pointer(n),
            Tok::Symbol(s) => reader.symbol(s),
            Tok::LitOpen => reader.quoted(),
            Tok::LitClose | Tok::Special => {}
        }
    }
    reader.into_graph()
}

/// The state of [`delinearize_lenient`].
struct Reader<'a> {
    toks: Vec<Tok<'a>>,
    /// The next token.
    i: usize,
    /// The next fresh node id.
    fresh: usize,
    /// Pointer number -> node id.
    ids: HashMap<usize, usize>,
    draft: Draft,
    /// The pointers whose node is defined.
    defined: HashSet<usize>,
    root: Option<usize>,
    /// The open nodes.
    stack: Vec<usize>,
    /// The role waiting for its target.
    role: Option<String>,
    /// The node whose pointer/concept may still follow: (index in `draft.nodes`, pointer seen).
    head: Option<(usize, bool)>,
}

impl Reader<'_> {
    fn new_id(&mut self) -> usize {
        self.fresh += 1;
        self.fresh - 1
    }

    /// A new root node, opened.
    fn new_root(&mut self, concept: Option<String>) {
        let id = self.new_id();
        self.draft.nodes.push((id, concept));
        self.root = Some(id);
        self.stack.push(id);
    }

    /// Reads `tok` as the head of the node just opened (a pointer, then a concept) if it is
    /// one; returns whether it was.
    fn head_token(&mut self, tok: Tok<'_>) -> bool {
        let Some((index, has_pointer)) = self.head else {
            return false;
        };
        match tok {
            Tok::Pointer(n) if !has_pointer => {
                if self.defined.insert(n) {
                    let old = self.draft.nodes[index].0;
                    define(&mut self.draft, &mut self.ids, index, n);
                    let new = self.draft.nodes[index].0;
                    for open in &mut self.stack {
                        if *open == old {
                            *open = new;
                        }
                    }
                    if self.root == Some(old) {
                        self.root = Some(new);
                    }
                }
                self.head = Some((index, true));
                true
            }
            Tok::Symbol(s) => {
                self.draft.nodes[index].1 = clean_concept(s);
                self.head = None;
                true
            }
            _ => {
                self.head = None;
                false
            }
        }
    }

    fn open(&mut self) {
        let id = self.new_id();
        self.draft.nodes.push((id, None));
        self.head = Some((self.draft.nodes.len() - 1, false));
        match (self.stack.last(), self.role.take()) {
            (Some(&parent), Some(r)) => self.draft.edges.push((parent, r, DraftTarget::Node(id))),
            (None, _) if self.root.is_none() => self.root = Some(id),
            // A node with no role: parsed, then dropped as unreachable.
            _ => {}
        }
        self.stack.push(id);
    }

    /// A role; after the root was closed it goes back into the root.
    fn role(&mut self, role: &str) {
        let role: String = role.chars().filter(|&c| !breaks_role(c)).collect();
        if role.is_empty() {
            return;
        }
        if self.stack.is_empty() {
            match self.root {
                Some(id) => self.stack.push(id),
                None => self.new_root(None),
            }
        }
        self.role = Some(role);
    }

    /// A pointer outside a node's head: a re-entrancy, or the head of a root opened without `(`.
    fn pointer(&mut self, n: usize) {
        match (self.stack.last().copied(), self.role.take()) {
            (Some(source), Some(r)) => {
                let target = match self.ids.get(&n) {
                    Some(&id) => id,
                    None => {
                        let id = self.new_id();
                        self.ids.insert(n, id);
                        id
                    }
                };
                self.draft
                    .edges
                    .push((source, r, DraftTarget::Reference(target)));
            }
            (None, _) if self.root.is_none() => {
                // A graph that starts without `(`: read the pointer again as the head of a new
                // root node.
                self.new_root(None);
                self.head = Some((self.draft.nodes.len() - 1, false));
                self.i -= 1;
            }
            _ => {}
        }
    }

    /// A symbol outside a node's head: a constant, or the concept of a root opened without `(`.
    fn symbol(&mut self, s: &str) {
        match (self.stack.last().copied(), self.role.take()) {
            (Some(source), Some(r)) => {
                let quoted = s.chars().any(breaks_symbol);
                let constant = Constant {
                    value: if quoted {
                        lit_value(&[s])
                    } else {
                        s.to_string()
                    },
                    quoted,
                };
                self.draft
                    .edges
                    .push((source, r, DraftTarget::Constant(constant)));
            }
            (None, _) if self.root.is_none() => self.new_root(clean_concept(s)),
            _ => {}
        }
    }

    /// A string after `<lit>`: its words up to `</lit>` or the next structural token.
    fn quoted(&mut self) {
        let mut words = Vec::new();
        while let Some(Tok::Symbol(_) | Tok::Special) = self.toks.get(self.i) {
            if let Tok::Symbol(s) = self.toks[self.i] {
                words.push(s);
            }
            self.i += 1;
        }
        if let Some(Tok::LitClose) = self.toks.get(self.i) {
            self.i += 1;
        }
        if let (Some(&source), Some(r)) = (self.stack.last(), self.role.take()) {
            let constant = Constant {
                value: lit_value(&words),
                quoted: true,
            };
            self.draft
                .edges
                .push((source, r, DraftTarget::Constant(constant)));
        }
    }

    /// The repaired graph, in written (depth-first) order; `(a / amr-empty)` without a node.
    fn into_graph(mut self) -> Amr {
        let Some(root) = self.root else {
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
        repair(&mut self.draft, root);
        let graph = finish(self.draft).expect("a repaired draft is valid");
        // Reading it back puts nodes and roles in written (depth-first) order.
        delinearize(&linearize(&graph)).expect("a repaired graph linearises validly")
    }
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
