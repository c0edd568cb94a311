//! Expansion of the paper's own simple macros: `\newcommand`, `\renewcommand` (of a macro the
//! paper defined), `\providecommand`, `\DeclareRobustCommand` and `\def`/`\gdef`/`\edef`/`\xdef`
//! with undelimited parameters `#1…#9` (and a default for an optional first argument).
//!
//! Expansion runs once over the whole inlined document in reading order, so a macro defined in a
//! figure or an `\input` file applies from there on. Definitions are removed from the text;
//! `\newenvironment` definitions are removed without being applied. Commands the extractor reads
//! (`\caption`, `\includegraphics`, …) are never redefined. Expansion stops at a nesting depth
//! of [`MAX_DEPTH`] (so `\def\a{\a}` terminates) and when the text grows past a limit.

use std::collections::HashMap;

use crate::latex::scan::{argument, command_at, group, next_command, optional, skip_star, skip_ws};

/// Deepest nesting of macro expansions.
pub const MAX_DEPTH: usize = 24;

/// Commands the extractor parses, which a paper's definition must not replace.
const PROTECTED: &[&str] = &[
    "begin",
    "end",
    "caption",
    "captionof",
    "label",
    "includegraphics",
    "subfloat",
    "subfigure",
    "subcaption",
    "subcaptionbox",
    "graphicspath",
    "input",
    "include",
    "title",
    "ref",
    "cite",
    "newcommand",
    "renewcommand",
    "def",
];

/// One macro: its parameter count, the default of an optional first parameter, its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Macro {
    /// Number of parameters (0–9).
    pub params: usize,
    /// Default of the optional first parameter (`\newcommand{\x}[2][d]{…}`).
    pub default: Option<String>,
    /// The replacement text with `#1…#9`.
    pub body: String,
}

/// The macros defined so far, by name (without the backslash).
#[derive(Debug, Clone, Default)]
pub struct MacroTable {
    macros: HashMap<String, Macro>,
}

impl MacroTable {
    /// The macro called `name`.
    pub fn get(&self, name: &str) -> Option<&Macro> {
        self.macros.get(name)
    }

    /// Defines or replaces `name` (ignored for a protected command).
    pub fn define(&mut self, name: &str, m: Macro) {
        if !PROTECTED.contains(&name) {
            self.macros.insert(name.to_string(), m);
        }
    }

    /// The number of macros.
    pub fn len(&self) -> usize {
        self.macros.len()
    }

    /// Whether no macro is defined.
    pub fn is_empty(&self) -> bool {
        self.macros.is_empty()
    }

    /// Expands `text`, applying and removing the definitions in it.
    pub fn expand(&mut self, text: &str) -> String {
        let limit = text.len().saturating_mul(8).max(1 << 20);
        let mut out = String::with_capacity(text.len());
        self.expand_into(text, 0, limit, &mut out);
        out
    }

    fn expand_into(&mut self, text: &str, depth: usize, limit: usize, out: &mut String) {
        let mut pos = 0;
        while let Some(p) = next_command(text, pos) {
            out.push_str(&text[pos..p]);
            let (cmd, after) = command_at(text, p);
            if let Some(end) = self.definition(cmd, text, after) {
                pos = end;
                continue;
            }
            let expandable = depth < MAX_DEPTH && out.len() < limit;
            match self.macros.get(cmd).filter(|_| expandable).cloned() {
                Some(m) => {
                    let (body, end) = substitute(&m, text, after);
                    self.expand_into(&body, depth + 1, limit, out);
                    // A control word swallows the spaces after it.
                    let word = cmd.starts_with(|c: char| c.is_ascii_alphabetic() || c == '@');
                    pos = if m.params == 0 && word {
                        skip_spaces_only(text, end)
                    } else {
                        end
                    };
                }
                None => {
                    out.push_str(&text[p..after]);
                    pos = after;
                }
            }
        }
        out.push_str(&text[pos..]);
    }

    /// Parses a definition command at `after`; records it and returns the offset after it, or
    /// `None` if `cmd` is not a definition or it cannot be read.
    fn definition(&mut self, cmd: &str, text: &str, after: usize) -> Option<usize> {
        match cmd {
            "newcommand" | "renewcommand" | "providecommand" | "DeclareRobustCommand" => {
                let (name, m, end) = parse_newcommand(text, after)?;
                let exists = self.macros.contains_key(&name);
                let apply = match cmd {
                    "renewcommand" => exists,
                    "providecommand" => !exists,
                    _ => true,
                };
                if apply {
                    self.define(&name, m);
                }
                Some(end)
            }
            "def" | "gdef" | "edef" | "xdef" => {
                let (name, m, end) = parse_def(text, after)?;
                if let Some(m) = m {
                    self.define(&name, m);
                }
                Some(end)
            }
            "newenvironment" | "renewenvironment" => skip_newenvironment(text, after),
            _ => None,
        }
    }
}

fn skip_spaces_only(text: &str, pos: usize) -> usize {
    let bytes = text.as_bytes();
    let mut p = pos;
    while p < bytes.len() && matches!(bytes[p], b' ' | b'\t') {
        p += 1;
    }
    p
}

/// The name of a macro being defined: `{\name}` or `\name`.
fn defined_name(text: &str, pos: usize) -> Option<(String, usize)> {
    if let Ok(Some((inner, end))) = group(text, pos) {
        let inner = inner.trim();
        let name = inner.strip_prefix('\\')?;
        return Some((name.to_string(), end));
    }
    let p = skip_ws(text, pos);
    if text.as_bytes().get(p) != Some(&b'\\') {
        return None;
    }
    let (name, end) = command_at(text, p);
    Some((name.to_string(), end))
}

/// `\newcommand*{\name}[n][default]{body}`.
fn parse_newcommand(text: &str, after: usize) -> Option<(String, Macro, usize)> {
    let (_, pos) = skip_star(text, after);
    let (name, pos) = defined_name(text, pos)?;
    let (params, pos) = match optional(text, pos).ok()? {
        Some((n, end)) => (n.trim().parse::<usize>().ok().filter(|&n| n <= 9)?, end),
        None => (0, pos),
    };
    let (default, pos) = match optional(text, pos).ok()? {
        Some((d, end)) if params > 0 => (Some(d.to_string()), end),
        _ => (None, pos),
    };
    let (body, end) = group(text, pos).ok()??;
    let m = Macro {
        params,
        default,
        body: body.to_string(),
    };
    Some((name, m, end))
}

/// `\def\name#1#2{body}`; a definition with delimited parameters is consumed but not recorded.
fn parse_def(text: &str, after: usize) -> Option<(String, Option<Macro>, usize)> {
    let p = skip_ws(text, after);
    if text.as_bytes().get(p) != Some(&b'\\') {
        return None;
    }
    let (name, pos) = command_at(text, p);
    let brace = pos + text[pos..].find('{')?;
    let spec: String = text[pos..brace]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let (body, end) = group(text, brace).ok()??;
    let params = spec.len() / 2;
    let simple = spec.is_ascii()
        && spec.len().is_multiple_of(2)
        && params <= 9
        && (1..=params).all(|i| spec[2 * (i - 1)..2 * i] == format!("#{i}"));
    let m = simple.then(|| Macro {
        params,
        default: None,
        body: body.to_string(),
    });
    Some((name.to_string(), m, end))
}

/// `\newenvironment{name}[n][default]{begin}{end}`: the offset after it.
fn skip_newenvironment(text: &str, after: usize) -> Option<usize> {
    let (_, pos) = skip_star(text, after);
    let (_, mut pos) = group(text, pos).ok()??;
    for _ in 0..2 {
        if let Ok(Some((_, end))) = optional(text, pos) {
            pos = end;
        }
    }
    let (_, pos) = group(text, pos).ok()??;
    let (_, end) = group(text, pos).ok()??;
    Some(end)
}

/// The body of `m` with its arguments read from `text` at `pos` substituted, and the offset
/// after the arguments. A missing argument is empty.
fn substitute(m: &Macro, text: &str, pos: usize) -> (String, usize) {
    let mut args: Vec<String> = Vec::with_capacity(m.params);
    let mut pos = pos;
    for i in 0..m.params {
        if i == 0
            && let Some(default) = &m.default
        {
            match optional(text, pos) {
                Ok(Some((a, end))) => {
                    args.push(a.to_string());
                    pos = end;
                }
                _ => args.push(default.clone()),
            }
            continue;
        }
        match argument(text, pos) {
            Ok(Some((a, end))) => {
                args.push(a.to_string());
                pos = end;
            }
            _ => args.push(String::new()),
        }
    }
    (fill(&m.body, &args), pos)
}

/// Replaces `#1…#9` with the arguments and `##` with `#`.
fn fill(body: &str, args: &[String]) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '#' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('#') => {
                chars.next();
                out.push('#');
            }
            Some(d @ '1'..='9') => {
                chars.next();
                let i = d as usize - '1' as usize;
                out.push_str(args.get(i).map_or("", String::as_str));
            }
            _ => out.push('#'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(text: &str) -> String {
        MacroTable::default().expand(text)
    }

    #[test]
    fn simple_macros_expand_and_definitions_vanish() {
        assert_eq!(
            expand("\\newcommand{\\kepler}{\\project{Kepler}}\\kepler data"),
            "\\project{Kepler}data"
        );
        assert_eq!(
            expand("\\def\\sd{stardate}use \\sd\\ here"),
            "use stardate\\ here"
        );
        assert_eq!(
            expand("\\newcommand{\\pic}[1]{\\includegraphics{dir/#1}}\\pic{a} \\pic b"),
            "\\includegraphics{dir/a} \\includegraphics{dir/b}"
        );
        assert_eq!(
            expand("\\newcommand\\x[2][d]{<#1|#2>}\\x{a}\\x[o]{b}"),
            "<d|a><o|b>"
        );
    }

    #[test]
    fn protected_recursive_and_delimited_definitions() {
        assert_eq!(expand("\\def\\caption{x}\\caption{y}"), "\\caption{y}");
        assert_eq!(expand("\\def\\a{\\a}\\a").matches("\\a").count(), 1);
        assert_eq!(expand("\\def\\p#1.{#1}\\p x."), "\\p x.");
        assert_eq!(expand("\\def\\q€#{x}\\q"), "\\q");
        assert_eq!(expand("\\renewcommand{\\section}{S}\\section"), "\\section");
        assert_eq!(
            expand("\\newenvironment{e}{\\begin{figure}}{\\end{figure}}z"),
            "z"
        );
    }
}
