//! The strict reader: exactly the sequences [`linearize`](super::linearize) writes.

use std::collections::HashSet;

use super::{Draft, DraftTarget, LinearizeError, Tok, classify, finish};
use crate::penman::{Amr, Constant};

/// Reads a sequence written by [`linearize`](super::linearize).
///
/// # Errors
/// A [`LinearizeError`] for anything outside the grammar: a missing or extra parenthesis, a role
/// without a target, a pointer defined twice or never defined, an unclosed `<lit>`.
pub fn delinearize(tokens: &[String]) -> Result<Amr, LinearizeError> {
    if tokens.is_empty() {
        return Err(LinearizeError::Empty);
    }
    let mut reader = Reader {
        tokens,
        toks: tokens.iter().map(|t| classify(t)).collect(),
        i: 0,
        draft: Draft::default(),
        defined: HashSet::new(),
        stack: Vec::new(),
    };
    loop {
        reader.node_head()?;
        // Roles of the open nodes until a nested node starts or the root closes.
        loop {
            match reader.toks.get(reader.i).copied() {
                Some(Tok::Close) => {
                    reader.i += 1;
                    reader.stack.pop();
                    if reader.stack.is_empty() {
                        return reader.end_of_graph();
                    }
                }
                Some(Tok::Role(role)) => {
                    reader.i += 1;
                    if reader.role_target(role)? {
                        break;
                    }
                }
                Some(_) => return Err(reader.unexpected(reader.i, "a role or `)`")),
                None => return Err(end("a role or `)`")),
            }
        }
    }
}

fn end(expected: &'static str) -> LinearizeError {
    LinearizeError::UnexpectedEnd { expected }
}

/// The state of [`delinearize`]: the position and the graph read so far.
struct Reader<'a> {
    tokens: &'a [String],
    toks: Vec<Tok<'a>>,
    /// The next token.
    i: usize,
    draft: Draft,
    defined: HashSet<usize>,
    /// The open nodes.
    stack: Vec<usize>,
}

impl Reader<'_> {
    fn unexpected(&self, position: usize, expected: &'static str) -> LinearizeError {
        LinearizeError::Unexpected {
            position,
            expected,
            found: self.tokens[position].clone(),
        }
    }

    /// Reads `( <pointer:N> [concept]` and opens the node.
    fn node_head(&mut self) -> Result<(), LinearizeError> {
        let i = self.i;
        match self.toks.get(i) {
            Some(Tok::Open) => {}
            Some(_) => return Err(self.unexpected(i, "`(`")),
            None => return Err(end("`(`")),
        }
        let id = match self.toks.get(i + 1) {
            Some(Tok::Pointer(n)) => *n,
            Some(_) => return Err(self.unexpected(i + 1, "a pointer")),
            None => return Err(end("a pointer")),
        };
        if !self.defined.insert(id) {
            return Err(LinearizeError::DuplicatePointer {
                position: i + 1,
                pointer: id,
            });
        }
        self.i += 2;
        let concept = match self.toks.get(self.i) {
            Some(Tok::Symbol(s)) => {
                self.i += 1;
                Some((*s).to_string())
            }
            _ => None,
        };
        self.draft.nodes.push((id, concept));
        self.stack.push(id);
        Ok(())
    }

    /// Reads the target of `role` (just read) in the innermost open node; true when the target
    /// is a nested node, whose `(` is then the next token.
    fn role_target(&mut self, role: &str) -> Result<bool, LinearizeError> {
        let source = *self.stack.last().expect("inside a node");
        let role = role.to_string();
        let target = match self.toks.get(self.i) {
            Some(Tok::Open) => {
                return match self.toks.get(self.i + 1) {
                    Some(Tok::Pointer(child)) => {
                        self.draft
                            .edges
                            .push((source, role, DraftTarget::Node(*child)));
                        Ok(true)
                    }
                    Some(_) => Err(self.unexpected(self.i + 1, "a pointer")),
                    None => Err(end("a pointer")),
                };
            }
            Some(Tok::Pointer(n)) => {
                self.i += 1;
                DraftTarget::Reference(*n)
            }
            Some(Tok::Symbol(s)) => {
                self.i += 1;
                DraftTarget::Constant(Constant {
                    value: (*s).to_string(),
                    quoted: false,
                })
            }
            Some(Tok::LitOpen) => DraftTarget::Constant(self.quoted()?),
            Some(_) => return Err(self.unexpected(self.i, "a role target")),
            None => return Err(end("a role target")),
        };
        self.draft.edges.push((source, role, target));
        Ok(false)
    }

    /// Reads `<lit> words… </lit>` starting at `<lit>`.
    fn quoted(&mut self) -> Result<Constant, LinearizeError> {
        self.i += 1;
        let mut words = Vec::new();
        loop {
            match self.toks.get(self.i) {
                Some(Tok::LitClose) => break,
                Some(_) => words.push(self.tokens[self.i].as_str()),
                None => return Err(end("`</lit>`")),
            }
            self.i += 1;
        }
        self.i += 1;
        Ok(Constant {
            value: words.join(" "),
            quoted: true,
        })
    }

    /// The graph once its root is closed; nothing may follow.
    fn end_of_graph(self) -> Result<Amr, LinearizeError> {
        if self.i < self.toks.len() {
            return Err(LinearizeError::Trailing {
                position: self.i,
                found: self.tokens[self.i].clone(),
            });
        }
        finish(self.draft)
    }
}
