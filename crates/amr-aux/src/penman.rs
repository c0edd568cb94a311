//! Penman notation: the AMR graph types, a reader for AMR files and a writer.
//!
//! An AMR file holds graphs separated by blank lines, each preceded by comment lines; comments of
//! the form `# ::key value ::key2 value2` are metadata. The reader also accepts the layout of the
//! public AMR bank releases (e.g. The Little Prince v1.6): a caption line
//! `N. sentence (id)` before a graph gives its `id` and `snt`, and prose lines before the first
//! graph (the release header) are skipped.
//!
//! Grammar (Penman, as in the AMR guidelines):
//!
//! ```text
//! node     := "(" VARIABLE [ "/" CONCEPT ] { ROLE target } ")"
//! target   := node | VARIABLE | constant
//! constant := "\"quoted string\"" | symbol        (numbers, -, +, imperative, …)
//! ROLE     := ":" label                           (an inverse role ends in "-of")
//! ```
//!
//! A bare symbol target that names a variable defined anywhere in the same graph is a
//! re-entrancy ([`Target::Reference`]); any other bare symbol is a constant. Quoted strings may
//! contain `\"` and `\\` escapes. Alignment markers (`~e.N`) are not interpreted: they stay part of
//! the symbol they are attached to.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use crate::hash::FxHashSet;

/// One AMR graph, kept in the order in which it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amr {
    /// Metadata pairs in file order (`# ::id x` gives `("id", "x")`).
    pub metadata: Vec<(String, String)>,
    /// The variable of the outermost node (the root).
    pub top: String,
    /// The nodes in the order of their definitions (`(v / concept`), i.e. depth-first pre-order.
    pub instances: Vec<Instance>,
    /// The roles in the order in which they are written, each from the node it is written in.
    pub edges: Vec<Edge>,
}

/// A node: a variable and its concept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// The variable (e.g. `w`, `b2`).
    pub variable: String,
    /// The concept (e.g. `want-01`); `None` for a node written without `/`, as in `(x)`.
    pub concept: Option<String>,
}

/// A role as written: `source :role target`, with `source` the node it is written in.
///
/// An inverse role keeps its written form: `(p :ARG0-of (c / …))` is stored as
/// `Edge { source: "p", role: "ARG0-of", target: Node("c") }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// The variable of the node the role is written in.
    pub source: String,
    /// The role label without the leading `:` (e.g. `ARG0`, `ARG1-of`, `op1`).
    pub role: String,
    /// What the role points to.
    pub target: Target,
}

/// The target of a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A node defined (written in parentheses) at this role.
    Node(String),
    /// A re-entrancy: a variable defined elsewhere in the graph.
    Reference(String),
    /// A constant.
    Constant(Constant),
}

/// A constant value: a quoted string or a bare symbol (number, `-`, `+`, `imperative`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constant {
    /// The value, without quotes and with escapes resolved.
    pub value: String,
    /// Whether it was written in double quotes.
    pub quoted: bool,
}

impl Target {
    /// The variable this target points to (`None` for a constant).
    pub fn variable(&self) -> Option<&str> {
        match self {
            Target::Node(v) | Target::Reference(v) => Some(v),
            Target::Constant(_) => None,
        }
    }
}

impl Amr {
    /// The value of the first metadata entry named `key`.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The graph's `id` metadata.
    pub fn id(&self) -> Option<&str> {
        self.meta("id")
    }

    /// The concept of a variable (`None` if the variable is unknown or has no concept).
    pub fn concept(&self, variable: &str) -> Option<&str> {
        self.instances
            .iter()
            .find(|i| i.variable == variable)
            .and_then(|i| i.concept.as_deref())
    }

    /// The graph in Penman notation without metadata. `indent: Some(n)` puts every role on its
    /// own line, indented by `n` spaces per nesting level (the AMR releases use 6); `None` writes
    /// the graph on one line.
    ///
    /// Nodes are written where their [`Target::Node`] edge is; a node that no such edge reaches
    /// from [`Amr::top`] is not written.
    pub fn to_penman(&self, indent: Option<usize>) -> String {
        let mut children: HashMap<&str, Vec<&Edge>> = HashMap::new();
        for edge in &self.edges {
            children.entry(edge.source.as_str()).or_default().push(edge);
        }
        let concepts: HashMap<&str, Option<&str>> = self
            .instances
            .iter()
            .map(|i| (i.variable.as_str(), i.concept.as_deref()))
            .collect();
        let mut out = String::new();
        write_node(&self.top, 0, indent, &children, &concepts, &mut out);
        out
    }
}

fn write_node(
    variable: &str,
    depth: usize,
    indent: Option<usize>,
    children: &HashMap<&str, Vec<&Edge>>,
    concepts: &HashMap<&str, Option<&str>>,
    out: &mut String,
) {
    out.push('(');
    out.push_str(variable);
    if let Some(Some(concept)) = concepts.get(variable) {
        out.push_str(" / ");
        out.push_str(concept);
    }
    for edge in children.get(variable).into_iter().flatten() {
        match indent {
            Some(n) => {
                out.push('\n');
                out.extend(std::iter::repeat_n(' ', n * (depth + 1)));
            }
            None => out.push(' '),
        }
        out.push(':');
        out.push_str(&edge.role);
        out.push(' ');
        match &edge.target {
            Target::Node(v) => write_node(v, depth + 1, indent, children, concepts, out),
            Target::Reference(v) => out.push_str(v),
            Target::Constant(c) => write_constant(c, out),
        }
    }
    out.push(')');
}

fn write_constant(constant: &Constant, out: &mut String) {
    if !constant.quoted {
        out.push_str(&constant.value);
        return;
    }
    out.push('"');
    for c in constant.value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// Metadata as comment lines (one `# ::key value` line per entry), then the graph indented by 6.
impl fmt::Display for Amr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (key, value) in &self.metadata {
            if value.is_empty() {
                writeln!(f, "# ::{key}")?;
            } else {
                writeln!(f, "# ::{key} {value}")?;
            }
        }
        f.write_str(&self.to_penman(Some(6)))
    }
}

/// Writes graphs as an AMR file: each graph with its metadata, separated by blank lines.
pub fn write_amrs(amrs: &[Amr]) -> String {
    let mut out = String::new();
    for amr in amrs {
        out.push_str(&amr.to_string());
        out.push_str("\n\n");
    }
    out
}

/// A malformed graph: which graph, where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{graph}, line {line}:{column}: {kind}")]
pub struct PenmanError {
    /// The graph's `id` metadata, or `graph #N` (1-based) when it has none.
    pub graph: String,
    /// 1-based line in the input.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What is wrong.
    pub kind: PenmanErrorKind,
}

/// The kinds of Penman syntax errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PenmanErrorKind {
    /// A token that the grammar does not allow here.
    #[error("expected {expected}, found {found}")]
    Unexpected {
        /// What the grammar allows.
        expected: &'static str,
        /// What was found.
        found: String,
    },
    /// The input ended inside a graph.
    #[error("unexpected end of input, expected {expected}")]
    UnexpectedEnd {
        /// What the grammar allows.
        expected: &'static str,
    },
    /// A quoted string without its closing quote.
    #[error("unterminated string")]
    UnterminatedString,
    /// A variable introduced twice with `(v / …)`.
    #[error("variable `{0}` is defined twice")]
    DuplicateVariable(String),
    /// Text after the closing parenthesis of a graph, on the same line.
    #[error("text after the end of the graph: {0}")]
    TrailingText(String),
}

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
        } else if !seen_graph_or_caption {
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

/// Reads and parses an AMR file.
///
/// # Errors
/// [`crate::Error::Io`] if the file cannot be read, [`crate::Error::Penman`] if it is malformed.
pub fn read_amr_file(path: &Path) -> crate::Result<Vec<Amr>> {
    let text = std::fs::read_to_string(path).map_err(|source| crate::Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(parse_amrs(&text)?)
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
            '"' => {
                let mut value = String::new();
                let mut chars = rest.char_indices().skip(1);
                loop {
                    let Some((i, c)) = chars.next() else {
                        return Err(self.error_at(
                            start,
                            line,
                            line_start,
                            PenmanErrorKind::UnterminatedString,
                        ));
                    };
                    match c {
                        '"' => {
                            self.pos += i + 1;
                            break;
                        }
                        '\\' => match chars.next() {
                            Some((_, escaped)) => value.push(escaped),
                            None => {
                                return Err(self.error_at(
                                    start,
                                    line,
                                    line_start,
                                    PenmanErrorKind::UnterminatedString,
                                ));
                            }
                        },
                        '\n' => {
                            value.push(c);
                            self.line += 1;
                            self.line_start = self.pos + i + 1;
                        }
                        _ => value.push(c),
                    }
                }
                Token::Quoted(value)
            }
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
        let mut instances: Vec<Instance> = Vec::new();
        let mut defined: FxHashSet<String> = FxHashSet::default();
        let mut edges: Vec<(String, String, Pending)> = Vec::new();
        // Variables of the open nodes, and the role waiting for its target.
        let mut stack: Vec<String> = Vec::new();
        let mut role: Option<String> = None;
        let mut expecting_open = true;
        loop {
            if expecting_open {
                let token = self.expect_token("`(`")?;
                if token.0 != Token::Open {
                    return Err(self.unexpected(token, "`(`"));
                }
                expecting_open = false;
                let var_token = self.expect_token("a variable")?;
                let Token::Symbol(variable) = var_token.0.clone() else {
                    return Err(self.unexpected(var_token, "a variable"));
                };
                if !defined.insert(variable.clone()) {
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
                if let (Some(parent), Some(r)) = (stack.last(), role.take()) {
                    edges.push((
                        parent.clone(),
                        r,
                        Pending::Target(Target::Node(variable.clone())),
                    ));
                }
                instances.push(Instance {
                    variable: variable.clone(),
                    concept,
                });
                stack.push(variable);
                continue;
            }
            let token = if role.is_some() {
                self.expect_token("a role target")?
            } else {
                self.expect_token("a role or `)`")?
            };
            match (&role, token.0.clone()) {
                (None, Token::Role(r)) => role = Some(r),
                (None, Token::Close) => {
                    stack.pop();
                    if stack.is_empty() {
                        break;
                    }
                }
                (None, _) => return Err(self.unexpected(token, "a role or `)`")),
                (Some(_), Token::Open) => {
                    // Re-read the `(` as the start of a nested node.
                    (self.pos, self.line, self.line_start) = (token.1, token.2, token.3);
                    expecting_open = true;
                }
                (Some(_), Token::Quoted(value)) => {
                    let r = role.take().expect("role is set");
                    let source = stack.last().expect("inside a node").clone();
                    let constant = Constant {
                        value,
                        quoted: true,
                    };
                    edges.push((source, r, Pending::Target(Target::Constant(constant))));
                }
                (Some(_), Token::Symbol(symbol)) => {
                    let r = role.take().expect("role is set");
                    let source = stack.last().expect("inside a node").clone();
                    edges.push((source, r, Pending::Symbol(symbol)));
                }
                (Some(_), _) => return Err(self.unexpected(token, "a role target")),
            }
        }
        let edges = edges
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
        Ok(Amr {
            metadata,
            top: instances[0].variable.clone(),
            instances,
            edges,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    const BOY: &str = "# ::id toy_0001 ::date 2024\n# ::snt The boy wants to go.\n\
        (w / want-01\n   :ARG0 (b / boy)\n   :ARG1 (g / go-02\n            :ARG0 b))\n";

    #[test]
    fn parses_metadata_nodes_and_reentrancy() {
        let amrs = parse_amrs(BOY).unwrap();
        assert_eq!(amrs.len(), 1);
        let amr = &amrs[0];
        assert_eq!(amr.id(), Some("toy_0001"));
        assert_eq!(amr.meta("date"), Some("2024"));
        assert_eq!(amr.meta("snt"), Some("The boy wants to go."));
        assert_eq!(amr.top, "w");
        let vars: Vec<_> = amr.instances.iter().map(|i| i.variable.as_str()).collect();
        assert_eq!(vars, ["w", "b", "g"]);
        assert_eq!(amr.concept("g"), Some("go-02"));
        assert_eq!(amr.edges.len(), 3);
        assert_eq!(amr.edges[2].source, "g");
        assert_eq!(amr.edges[2].target, Target::Reference("b".into()));
        assert_eq!(amr.edges[1].target, Target::Node("g".into()));
    }

    #[test]
    fn constants_quotes_escapes_and_inverse_roles() {
        let text = r#"(c / city :wiki - :name (n / name :op1 "New \"York\"" :op2 "a\\b")
            :ARG0-of (s / say-01 :quant 2.5) :mod x)"#;
        let amr = &parse_amrs(text).unwrap()[0];
        let constant = |i: usize| match &amr.edges[i].target {
            Target::Constant(c) => c.clone(),
            other => panic!("edge {i} is {other:?}"),
        };
        assert_eq!(
            constant(0),
            Constant {
                value: "-".into(),
                quoted: false
            }
        );
        assert_eq!(
            constant(2),
            Constant {
                value: "New \"York\"".into(),
                quoted: true
            }
        );
        assert_eq!(constant(3).value, "a\\b");
        assert_eq!(amr.edges[4].role, "ARG0-of");
        assert_eq!(constant(5).value, "2.5");
        // `x` names no variable, so it is a constant.
        assert_eq!(
            constant(6),
            Constant {
                value: "x".into(),
                quoted: false
            }
        );
        let written = amr.to_penman(None);
        assert_eq!(parse_amrs(&written).unwrap()[0], *amr);
    }

    #[test]
    fn forward_references_and_nodes_without_concepts() {
        let amr = &parse_amrs("(a / x :ARG0 b :ARG1 (b / y :mod (c)))").unwrap()[0];
        assert_eq!(amr.edges[0].target, Target::Reference("b".into()));
        assert_eq!(
            amr.instances[2],
            Instance {
                variable: "c".into(),
                concept: None
            }
        );
        assert_eq!(
            amr.to_penman(None),
            "(a / x :ARG0 b :ARG1 (b / y :mod (c)))"
        );
    }

    #[test]
    fn writes_standard_indentation() {
        let amr = &parse_amrs(BOY).unwrap()[0];
        let expected = "# ::id toy_0001\n# ::date 2024\n# ::snt The boy wants to go.\n\
            (w / want-01\n      :ARG0 (b / boy)\n      :ARG1 (g / go-02\n            :ARG0 b))";
        assert_eq!(amr.to_string(), expected);
        assert_eq!(parse_amrs(&amr.to_string()).unwrap()[0], *amr);
    }

    #[test]
    fn amr_bank_captions_and_header() {
        let text = "AMRs (Abstract Meaning Representations) for a book\nVersion 1\n\n\
            1. Chapter 1 . (lpp_1943.1)\n\n(c / chapter\n  :mod 1)\n\n\
            2. Hello (there) . (lpp_1943.2)\n\n(h / hello)\n";
        let amrs = parse_amrs(text).unwrap();
        assert_eq!(amrs.len(), 2);
        assert_eq!(amrs[0].id(), Some("lpp_1943.1"));
        assert_eq!(amrs[0].meta("snt"), Some("Chapter 1 ."));
        assert_eq!(amrs[1].meta("snt"), Some("Hello (there) ."));
    }

    fn error(text: &str) -> PenmanError {
        parse_amrs(text).unwrap_err()
    }

    #[test]
    fn errors_name_graph_line_and_column() {
        let e = error("# ::id g1\n(a / b)\n\n# ::id g2\n(a / b\n   :ARG0 (c / d)\n   :ARG1 )\n");
        assert_eq!((e.graph.as_str(), e.line, e.column), ("graph `g2`", 7, 10));
        assert!(matches!(
            e.kind,
            PenmanErrorKind::Unexpected {
                expected: "a role target",
                ..
            }
        ));
        assert_eq!(
            e.to_string(),
            "graph `g2`, line 7:10: expected a role target, found `)`"
        );

        let e = error("(a / b)\n\n(a / b :ARG0 (a / c))");
        assert_eq!((e.graph.as_str(), e.line, e.column), ("graph #2", 3, 15));
        assert_eq!(e.kind, PenmanErrorKind::DuplicateVariable("a".into()));

        let e = error("(a / b\n  :op1 \"unterminated)\n");
        assert_eq!(
            (e.line, e.column, e.kind),
            (2, 8, PenmanErrorKind::UnterminatedString)
        );

        let e = error("(a / b :ARG0 (c / d)");
        assert!(
            matches!(e.kind, PenmanErrorKind::UnexpectedEnd { .. }),
            "{e}"
        );

        let e = error("(a / b)) x");
        assert_eq!((e.line, e.column), (1, 8));
        assert!(matches!(e.kind, PenmanErrorKind::TrailingText(_)));

        let e = error("(a / b)\n\nhello world\n");
        assert_eq!((e.graph.as_str(), e.line, e.column), ("graph #2", 3, 1));

        let e = error("(a / (b))");
        assert!(matches!(
            e.kind,
            PenmanErrorKind::Unexpected {
                expected: "a concept",
                ..
            }
        ));
    }
}
