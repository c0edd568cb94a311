//! Writing graphs in Penman notation: one graph ([`Amr::to_penman`], `Display`) or a file.

use std::collections::HashMap;
use std::fmt;

use super::{Amr, Constant, Edge, Target};

impl Amr {
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
