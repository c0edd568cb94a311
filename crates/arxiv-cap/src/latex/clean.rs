//! Caption text from LaTeX: references, citations and labels removed, formatting commands
//! replaced by their text, inline math kept as written, white space folded.

use crate::latex::scan::{close_brace, command_at, group, optional, skip_star};

/// Commands removed together with their arguments.
const DROPPED_WITH_ARGUMENT: &[&str] = &[
    "label",
    "ref",
    "eqref",
    "autoref",
    "cref",
    "Cref",
    "pageref",
    "nameref",
    "vref",
    "footnote",
    "footnotemark",
    "hspace",
    "vspace",
    "phantom",
    "hphantom",
    "vphantom",
    "color",
    "index",
    "figurelabel",
];

/// Commands whose first argument is dropped and whose second is kept.
const KEEP_SECOND: &[&str] = &["textcolor", "href", "colorbox"];

/// Commands replaced by a space.
const SPACES: &[&str] = &[
    "\\",
    ",",
    ";",
    ":",
    " ",
    "quad",
    "qquad",
    "newline",
    "linebreak",
    "par",
    "enspace",
    "thinspace",
];

/// Cleans a caption: `\label`, `\ref`-like and `\cite`-like commands are removed with their
/// arguments; `$…$`, `$$…$$`, `\(…\)` and `\[…\]` are kept as written; other commands keep the
/// text of their first `{…}` argument (`\emph{x}` → `x`) or vanish (`\small`); braces, `~` and
/// runs of white space become single spaces; ``` `` ``` and `''` become `"`.
pub fn clean_caption(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    clean_into(text, &mut out);
    fold_whitespace(&out)
}

fn clean_into(text: &str, out: &mut String) {
    let bytes = text.as_bytes();
    let mut pos = 0;
    while pos < bytes.len() {
        match bytes[pos] {
            b'$' => pos = copy_math(text, pos, out),
            b'\\' => pos = command(text, pos, out),
            b'{' | b'}' => pos += 1,
            b'~' => {
                out.push(' ');
                pos += 1;
            }
            b'`' if bytes.get(pos + 1) == Some(&b'`') => {
                out.push('"');
                pos += 2;
            }
            b'\'' if bytes.get(pos + 1) == Some(&b'\'') => {
                out.push('"');
                pos += 2;
            }
            _ => {
                let len = text[pos..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&text[pos..pos + len]);
                pos += len;
            }
        }
    }
}

/// Copies `$…$` or `$$…$$` starting at `pos`; returns the offset after it (an unclosed `$` is
/// copied to the end).
fn copy_math(text: &str, pos: usize, out: &mut String) -> usize {
    let bytes = text.as_bytes();
    let delimiter = if bytes.get(pos + 1) == Some(&b'$') {
        2
    } else {
        1
    };
    let mut p = pos + delimiter;
    while p < bytes.len() {
        match bytes[p] {
            b'\\' => p += 2,
            b'$' => {
                let end = (p + delimiter).min(bytes.len());
                out.push_str(&text[pos..end]);
                return end;
            }
            _ => p += 1,
        }
    }
    out.push_str(&text[pos..]);
    text.len()
}

/// Handles the control sequence at `pos`; returns the offset after what it consumed.
fn command(text: &str, pos: usize, out: &mut String) -> usize {
    let (name, after) = command_at(text, pos);
    match name {
        "(" | "[" => {
            let close = if name == "(" { "\\)" } else { "\\]" };
            let end = text[after..]
                .find(close)
                .map_or(text.len(), |i| after + i + 2);
            out.push_str(&text[pos..end]);
            end
        }
        "%" | "&" | "_" | "#" | "$" | "{" | "}" => {
            out.push_str(name);
            after
        }
        n if SPACES.contains(&n) => {
            out.push(' ');
            if n == "\\" {
                return optional(text, after)
                    .ok()
                    .flatten()
                    .map_or(after, |(_, e)| e);
            }
            after
        }
        n if DROPPED_WITH_ARGUMENT.contains(&n) || is_citation(n) => skip_arguments(text, after),
        n if KEEP_SECOND.contains(&n) => {
            let first = group(text, after).ok().flatten().map_or(after, |(_, e)| e);
            keep_first_group(text, first, out)
        }
        _ => keep_first_group(text, after, out),
    }
}

fn is_citation(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("cite") || matches!(name, "parencite" | "textcite" | "autocite" | "nocite")
}

/// Skips a `*`, up to two `[…]` and one `{…}` after a command.
fn skip_arguments(text: &str, after: usize) -> usize {
    let (_, mut pos) = skip_star(text, after);
    for _ in 0..2 {
        match optional(text, pos) {
            Ok(Some((_, end))) => pos = end,
            _ => break,
        }
    }
    group(text, pos).ok().flatten().map_or(pos, |(_, end)| end)
}

/// Cleans the `{…}` group right after a command (no white space in between) into `out`;
/// without one, the command simply vanishes.
fn keep_first_group(text: &str, after: usize, out: &mut String) -> usize {
    if text.as_bytes().get(after) != Some(&b'{') {
        return after;
    }
    match close_brace(text, after) {
        Ok(close) => {
            clean_into(&text[after + 1..close], out);
            close + 1
        }
        Err(_) => after + 1,
    }
}

/// Folds runs of white space into single spaces and trims; a space before `.`, `,`, `;` or `:`
/// left by a removed command is dropped.
pub fn fold_whitespace(text: &str) -> String {
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(folded.len());
    let mut chars = folded.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ' ' && matches!(chars.peek(), Some('.' | ',' | ';' | ':')) {
            continue;
        }
        out.push(c);
    }
    out
}

/// A caption's words (white-space separated, after cleaning), for the length filter.
pub fn word_count(caption: &str) -> usize {
    caption.split_whitespace().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specs_example() {
        assert_eq!(
            clean_caption("Loss {\\em vs.} steps.\\label{f1}"),
            "Loss vs. steps."
        );
    }

    #[test]
    fn references_citations_and_math() {
        assert_eq!(
            clean_caption("Error of $\\hat{y}_{t}$ (see Fig.~\\ref{a}) \\citep[e.g.][]{b,c}."),
            "Error of $\\hat{y}_{t}$ (see Fig. )."
        );
        assert_eq!(
            clean_caption("\\textbf{(Top)} 50\\% of \\emph{all}\n\truns \\\\ here"),
            "(Top) 50% of all runs here"
        );
        assert_eq!(clean_caption("a \\textcolor{red}{b} \\small c"), "a b c");
        assert_eq!(
            clean_caption("``quoted'' \\(x\\) and \\[y\\]"),
            "\"quoted\" \\(x\\) and \\[y\\]"
        );
    }
}
