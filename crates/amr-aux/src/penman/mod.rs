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

mod parse;
mod write;

use std::path::Path;

pub use parse::parse_amrs;
pub use write::write_amrs;

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

/// Reads and parses an AMR file.
///
/// # Errors
/// [`crate::Error::Io`] if the file cannot be read, [`crate::Error::Penman`] if it is malformed,
/// [`crate::Error::NoGraphs`] if it holds no graph (empty, or prose only).
pub fn read_amr_file(path: &Path) -> crate::Result<Vec<Amr>> {
    let text = std::fs::read_to_string(path).map_err(|source| crate::Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let amrs = parse_amrs(&text)?;
    if amrs.is_empty() {
        return Err(crate::Error::NoGraphs {
            path: path.to_path_buf(),
            lines: text.lines().filter(|l| !l.trim().is_empty()).count(),
        });
    }
    Ok(amrs)
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
