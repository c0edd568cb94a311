//! Reading AMR files: metadata comments, AMR bank captions and headers, and the Penman graphs.

use crate::hash::FxHashSet;

use super::{Amr, Constant, Edge, Instance, PenmanError, PenmanErrorKind, Target};

/// Splits a caption line of the AMR bank releases, `1. Chapter 1 . (lpp_1943.1)`, into the
/// sentence and the id.
fn caption(line: &str) -> Option<(&str, &str)> {
    let digits = line.find(|c: char| !c.is_ascii_digit())?;
    let rest = line[digits..].strip_prefix('.')?;
    if digits == 0 || !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let (sentence, id) = rest.strip_suffix(')')?.rsplit_once('(')?;
    if id.is_empty() || id.contains(char::is_whitespace) || id.contains(')') {
        return None;
    }
    Some((sentence.trim(), id))
}

/// Parses every graph of an AMR file.
///
/// # Errors
/// A [`PenmanError`] naming the first malformed graph and the line and column of the problem.
pub fn parse_amrs(text: &str) -> Result<Vec<Amr>, PenmanError> {
    let mut amrs = Vec::new();
    let mut metadata: Vec<(String, String)> = Vec::new();
    let mut seen_graph_or_caption = false;
    let mut offset = 0;
    let mut line_no = 0;
    while offset < text.len() {
        let line_end = text[offset..]
            .find('\n')
            .map_or(text.len(), |i| offset + i + 1);
        let line = text[offset..line_end].trim();
        line_no += 1;
        if line.is_empty() {
            offset = line_end;
        } else if let Some(comment) = line.strip_prefix('#') {
            parse_metadata(comment, &mut metadata);
            offset = line_end;
        } else if line.starts_with('(') {
            let start = offset
                + text[offset..line_end]
                    .find('(')
                    .expect("line starts with (");
            let label = graph_label(&metadata, amrs.len());
            let mut parser = Parser {
                text,
                pos: start,
                line: line_no,
                line_start: offset,
                label,
            };
            let graph = parser.parse_graph(std::mem::take(&mut metadata))?;
            parser.expect_line_end()?;
            amrs.push(graph);
            line_no = parser.line;
            offset = parser.pos;
            // `parser.pos` is at the start of the next line (or the end of the input).
            line_no -= 1;
            seen_graph_or_caption = true;
        } else if let Some((sentence, id)) = caption(line) {
            metadata.push(("id".into(), id.to_string()));
            metadata.push(("snt".into(), sentence.to_string()));
            seen_graph_or_caption = true;
            offset = line_end;
        } else if !seen_graph_or_caption && !starts_graph_inside(line) {
            // The prose header of an AMR bank release.
            offset = line_end;
        } else {
            let column = text[offset..]
                .find(|c: char| !c.is_whitespace())
                .unwrap_or(0);
            return Err(PenmanError {
                graph: graph_label(&metadata, amrs.len()),
                line: line_no,
                column: text[offset..offset + column].chars().count() + 1,
                kind: PenmanErrorKind::Unexpected {
                    expected: "`(`, a comment or a blank line",
                    found: format!("`{}`", line.chars().take(20).collect::<String>()),
                },
            });
        }
    }
    Ok(amrs)
}

/// Whether a line of prose holds the start of a graph (`junk (a / alpha)`): an opening
/// parenthesis followed by a variable and `/`. Such a line is an error, not a header.
fn starts_graph_inside(line: &str) -> bool {
    line.match_indices('(').any(|(i, _)| {
        let rest = line[i + 1..].trim_start();
        let var_end = rest
            .find(|c: char| c.is_whitespace() || c == '/' || c == '(' || c == ')')
            .unwrap_or(rest.len());
        var_end > 0 && rest[var_end..].trim_start().starts_with('/')
    })
}

fn graph_label(metadata: &[(String, String)], index: usize) -> String {
    match metadata.iter().find(|(k, _)| k == "id") {
        Some((_, id)) => format!("graph `{id}`"),
        None => format!("graph #{}", index + 1),
    }
}

/// Splits `::key value ::key2 value2` into pairs; other comments are ignored.
fn parse_metadata(comment: &str, metadata: &mut Vec<(String, String)>) {
    let comment = comment.trim();
    if !comment.starts_with("::") {
        return;
    }
    for field in comment.split("::").skip(1) {
        let field = field.trim();
        if field.is_empty() {
            continue;
        }
        let (key, value) = field.split_once(char::is_whitespace).unwrap_or((field, ""));
        metadata.push((key.to_string(), value.trim().to_string()));
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Slash,
    Role(String),
    Quoted(String),
    Symbol(String),
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Open => "`(`".into(),
            Token::Close => "`)`".into(),
            Token::Slash => "`/`".into(),
            Token::Role(r) => format!("role `:{r}`"),
            Token::Quoted(s) => format!("string \"{s}\""),
            Token::Symbol(s) => format!("`{s}`"),
        }
    }
}

/// A symbol target whose kind (constant or re-entrancy) is known only at the end of the graph.
enum Pending {
    Target(Target),
    Symbol(String),
}

/// A graph while it is read.
#[derive(Default)]
struct GraphState {
    instances: Vec<Instance>,
    defined: FxHashSet<String>,
    /// `(source, role, target)` in written order.
    edges: Vec<(String, String, Pending)>,
    /// Variables of the open nodes.
    stack: Vec<String>,
    /// The role waiting for its target.
    role: Option<String>,
}

impl GraphState {
    /// Gives the waiting role its (non-node) target, in the innermost open node.
    fn push_target(&mut self, target: Pending) {
        let role = self.role.take().expect("role is set");
        let source = self.stack.last().expect("inside a node").clone();
        self.edges.push((source, role, target));
    }

    /// The graph, with each bare symbol resolved: a re-entrancy if it names a variable of the
    /// graph, a constant otherwise.
    fn finish(self, metadata: Vec<(String, String)>) -> Amr {
        let defined = self.defined;
        let edges = self
            .edges
            .into_iter()
            .map(|(source, role, target)| {
                let target = match target {
                    Pending::Target(t) => t,
                    Pending::Symbol(s) if defined.contains(&s) => Target::Reference(s),
                    Pending::Symbol(s) => Target::Constant(Constant {
                        value: s,
                        quoted: false,
                    }),
                };
                Edge {
                    source,
                    role,
                    target,
                }
            })
            .collect();
        Amr {
            metadata,
            top: self.instances[0].variable.clone(),
            instances: self.instances,
            edges,
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    line_start: usize,
    label: String,
}

impl Parser<'_> {
    fn error_at(
        &self,
        pos: usize,
        line: usize,
        line_start: usize,
        kind: PenmanErrorKind,
    ) -> PenmanError {
        PenmanError {
            graph: self.label.clone(),
            line,
            column: self.text[line_start..pos].chars().count() + 1,
            kind,
        }
    }

    fn skip_whitespace(&mut self) {
        while let Some(c) = self.text[self.pos..].chars().next() {
            if !c.is_whitespace() {
                break;
            }
            self.pos += c.len_utf8();
            if c == '\n' {
                self.line += 1;
                self.line_start = self.pos;
            }
        }
    }

    /// The next token with its position (byte offset, line, line start); `None` at the end.
    fn next_token(&mut self) -> Result<Option<(Token, usize, usize, usize)>, PenmanError> {
        self.skip_whitespace();
        let (start, line, line_start) = (self.pos, self.line, self.line_start);
        let rest = &self.text[self.pos..];
        let Some(c) = rest.chars().next() else {
            return Ok(None);
        };
        let token = match c {
            '(' => {
                self.pos += 1;
                Token::Open
            }
            ')' => {
                self.pos += 1;
                Token::Close
            }
            '/' => {
                self.pos += 1;
                Token::Slash
            }
            '"' => self.quoted()?,
            _ => {
                let is_role = c == ':';
                let body = if is_role { &rest[1..] } else { rest };
                let end = body
                    .find(|c: char| {
                        c.is_whitespace() || matches!(c, '(' | ')' | '"') || (!is_role && c == '/')
                    })
                    .unwrap_or(body.len());
                let word = body[..end].to_string();
                self.pos += end + usize::from(is_role);
                if is_role {
                    Token::Role(word)
                } else {
                    Token::Symbol(word)
                }
            }
        };
        Ok(Some((token, start, line, line_start)))
    }

    /// A quoted string starting at `pos` (escapes resolved, newlines kept).
    fn quoted(&mut self) -> Result<Token, PenmanError> {
        let (start, line, line_start) = (self.pos, self.line, self.line_start);
        let unterminated =
            |p: &Self| p.error_at(start, line, line_start, PenmanErrorKind::UnterminatedString);
        let mut value = String::new();
        let text = self.text;
        let mut chars = text[start..].char_indices().skip(1);
        loop {
            let Some((i, c)) = chars.next() else {
                return Err(unterminated(self));
            };
            match c {
                '"' => {
                    self.pos = start + i + 1;
                    return Ok(Token::Quoted(value));
                }
                '\\' => match chars.next() {
                    Some((_, escaped)) => value.push(escaped),
                    None => return Err(unterminated(self)),
                },
                '\n' => {
                    value.push(c);
                    self.line += 1;
                    self.line_start = start + i + 1;
                }
                _ => value.push(c),
            }
        }
    }

    fn expect_token(
        &mut self,
        expected: &'static str,
    ) -> Result<(Token, usize, usize, usize), PenmanError> {
        match self.next_token()? {
            Some(t) => Ok(t),
            None => Err(self.error_at(
                self.pos,
                self.line,
                self.line_start,
                PenmanErrorKind::UnexpectedEnd { expected },
            )),
        }
    }

    fn unexpected(
        &self,
        (token, pos, line, line_start): (Token, usize, usize, usize),
        expected: &'static str,
    ) -> PenmanError {
        self.error_at(
            pos,
            line,
            line_start,
            PenmanErrorKind::Unexpected {
                expected,
                found: token.describe(),
            },
        )
    }

    /// Parses one graph starting at `(`; leaves `pos` right after its closing parenthesis.
    fn parse_graph(&mut self, metadata: Vec<(String, String)>) -> Result<Amr, PenmanError> {
        let mut graph = GraphState::default();
        self.open_node(&mut graph)?;
        loop {
            let token = if graph.role.is_some() {
                self.expect_token("a role target")?
            } else {
                self.expect_token("a role or `)`")?
            };
            match (&graph.role, token.0.clone()) {
                (None, Token::Role(r)) => graph.role = Some(r),
                (None, Token::Close) => {
                    graph.stack.pop();
                    if graph.stack.is_empty() {
                        break;
                    }
                }
                (None, _) => return Err(self.unexpected(token, "a role or `)`")),
                (Some(_), Token::Open) => {
                    // Re-read the `(` as the start of a nested node.
                    (self.pos, self.line, self.line_start) = (token.1, token.2, token.3);
                    self.open_node(&mut graph)?;
                }
                (Some(_), Token::Quoted(value)) => {
                    let constant = Constant {
                        value,
                        quoted: true,
                    };
                    graph.push_target(Pending::Target(Target::Constant(constant)));
                }
                (Some(_), Token::Symbol(symbol)) => graph.push_target(Pending::Symbol(symbol)),
                (Some(_), _) => return Err(self.unexpected(token, "a role target")),
            }
        }
        Ok(graph.finish(metadata))
    }

    /// Parses `( VARIABLE [ / CONCEPT ]` and opens the node, as the target of the waiting role
    /// when there is one.
    fn open_node(&mut self, graph: &mut GraphState) -> Result<(), PenmanError> {
        let token = self.expect_token("`(`")?;
        if token.0 != Token::Open {
            return Err(self.unexpected(token, "`(`"));
        }
        let var_token = self.expect_token("a variable")?;
        let Token::Symbol(variable) = var_token.0.clone() else {
            return Err(self.unexpected(var_token, "a variable"));
        };
        if !graph.defined.insert(variable.clone()) {
            return Err(self.error_at(
                var_token.1,
                var_token.2,
                var_token.3,
                PenmanErrorKind::DuplicateVariable(variable),
            ));
        }
        let save = (self.pos, self.line, self.line_start);
        let concept = match self.next_token()? {
            Some((Token::Slash, ..)) => {
                let token = self.expect_token("a concept")?;
                match token.0 {
                    Token::Symbol(c) => Some(c),
                    _ => return Err(self.unexpected(token, "a concept")),
                }
            }
            _ => {
                (self.pos, self.line, self.line_start) = save;
                None
            }
        };
        if let (Some(parent), Some(r)) = (graph.stack.last(), graph.role.take()) {
            graph.edges.push((
                parent.clone(),
                r,
                Pending::Target(Target::Node(variable.clone())),
            ));
        }
        graph.instances.push(Instance {
            variable: variable.clone(),
            concept,
        });
        graph.stack.push(variable);
        Ok(())
    }

    /// Requires the rest of the current line to be blank and moves to the next line.
    fn expect_line_end(&mut self) -> Result<(), PenmanError> {
        let line_end = self.text[self.pos..]
            .find('\n')
            .map_or(self.text.len(), |i| self.pos + i + 1);
        let rest = self.text[self.pos..line_end].trim();
        if !rest.is_empty() {
            let skip = self.text[self.pos..].len() - self.text[self.pos..].trim_start().len();
            return Err(self.error_at(
                self.pos + skip,
                self.line,
                self.line_start,
                PenmanErrorKind::TrailingText(rest.chars().take(20).collect()),
            ));
        }
        self.pos = line_end;
        self.line += 1;
        self.line_start = line_end;
        Ok(())
    }
}
