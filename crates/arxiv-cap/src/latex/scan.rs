//! Character-level LaTeX scanning: comments, control sequences, balanced groups.
//!
//! All positions are byte offsets into a `&str`; every delimiter looked for is ASCII, so
//! offsets returned here always lie on character boundaries.

/// Removes `%` comments up to (not including) the line end, keeping `\%`; CRLF and lone CR
/// become LF first.
pub fn strip_comments(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&line[..comment_start(line).unwrap_or(line.len())]);
    }
    out
}

/// The offset of the first `%` of `line` that starts a comment (not preceded by an odd number
/// of backslashes).
fn comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut backslashes = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'%' && backslashes % 2 == 0 {
            return Some(i);
        }
        backslashes = if b == b'\\' { backslashes + 1 } else { 0 };
    }
    None
}

/// Whether `c` may appear in a control word (letters, and `@` as in package code).
fn is_word_char(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'@'
}

/// The control sequence whose backslash is at `pos`: its name (a control word, or a single
/// control symbol; empty at the end of the text) and the offset after it.
pub fn command_at(text: &str, pos: usize) -> (&str, usize) {
    let bytes = text.as_bytes();
    let start = pos + 1;
    if start >= bytes.len() {
        return ("", start.min(bytes.len()));
    }
    if !is_word_char(bytes[start]) {
        let len = text[start..].chars().next().map_or(1, char::len_utf8);
        return (&text[start..start + len], start + len);
    }
    let mut end = start;
    while end < bytes.len() && is_word_char(bytes[end]) {
        end += 1;
    }
    (&text[start..end], end)
}

/// The offset of the next backslash at or after `pos` that starts a control sequence.
pub fn next_command(text: &str, pos: usize) -> Option<usize> {
    text.get(pos..)?.find('\\').map(|i| pos + i)
}

/// Skips spaces, tabs and newlines.
pub fn skip_ws(text: &str, pos: usize) -> usize {
    let bytes = text.as_bytes();
    let mut p = pos;
    while p < bytes.len() && matches!(bytes[p], b' ' | b'\t' | b'\n' | b'\r') {
        p += 1;
    }
    p
}

/// Skips a `*` (after optional spaces) if there is one; returns whether there was.
pub fn skip_star(text: &str, pos: usize) -> (bool, usize) {
    let p = skip_ws(text, pos);
    if text.as_bytes().get(p) == Some(&b'*') {
        (true, p + 1)
    } else {
        (false, pos)
    }
}

/// A group or bracket whose closing delimiter never comes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unbalanced {
    /// Offset of the opening delimiter.
    pub open: usize,
    /// The delimiter (`{` or `[`).
    pub delimiter: char,
}

/// The offset of the `}` closing the `{` at `open` (escaped braces `\{`, `\}` do not count).
pub fn close_brace(text: &str, open: usize) -> Result<usize, Unbalanced> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut p = open;
    while p < bytes.len() {
        match bytes[p] {
            b'\\' => p += 1,
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Ok(p);
                }
            }
            _ => {}
        }
        p += 1;
    }
    Err(Unbalanced {
        open,
        delimiter: '{',
    })
}

/// The `{…}` group after optional white space at `pos`: its content and the offset after `}`.
/// `Ok(None)` if the next character is not `{`.
pub fn group(text: &str, pos: usize) -> Result<Option<(&str, usize)>, Unbalanced> {
    let p = skip_ws(text, pos);
    if text.as_bytes().get(p) != Some(&b'{') {
        return Ok(None);
    }
    let close = close_brace(text, p)?;
    Ok(Some((&text[p + 1..close], close + 1)))
}

/// Longest environment name [`env_name`] reads.
pub const MAX_ENV_NAME: usize = 64;

/// The environment name in `{…}` after optional white space at `pos` (as after `\begin`):
/// its trimmed text and the offset after `}`. `None` when there is no `{`, or no `}` within
/// [`MAX_ENV_NAME`] bytes before another `{` or `\` — so an unclosed brace costs a short look,
/// not a scan to the end of the document.
pub fn env_name(text: &str, pos: usize) -> Option<(&str, usize)> {
    let p = skip_ws(text, pos);
    let bytes = text.as_bytes();
    if bytes.get(p) != Some(&b'{') {
        return None;
    }
    let window = &bytes[p + 1..bytes.len().min(p + 1 + MAX_ENV_NAME)];
    let close = window
        .iter()
        .position(|&b| matches!(b, b'}' | b'{' | b'\\'))?;
    (window[close] == b'}').then(|| (text[p + 1..p + 1 + close].trim(), p + 2 + close))
}

/// The `[…]` optional argument after optional white space at `pos` (brackets inside braces do
/// not count): its content and the offset after `]`. `Ok(None)` if the next character is not
/// `[`.
pub fn optional(text: &str, pos: usize) -> Result<Option<(&str, usize)>, Unbalanced> {
    let p = skip_ws(text, pos);
    let bytes = text.as_bytes();
    if bytes.get(p) != Some(&b'[') {
        return Ok(None);
    }
    let mut q = p + 1;
    while q < bytes.len() {
        match bytes[q] {
            b'\\' => q += 1,
            b'{' => q = close_brace(text, q)?,
            b']' => return Ok(Some((&text[p + 1..q], q + 1))),
            _ => {}
        }
        q += 1;
    }
    Err(Unbalanced {
        open: p,
        delimiter: '[',
    })
}

/// A macro argument: a `{…}` group, or else the next single token (a control sequence or one
/// character), as TeX reads an undelimited argument. `None` at the end of the text.
pub fn argument(text: &str, pos: usize) -> Result<Option<(&str, usize)>, Unbalanced> {
    if let Some(found) = group(text, pos)? {
        return Ok(Some(found));
    }
    let p = skip_ws(text, pos);
    match text[p..].chars().next() {
        None | Some('}') => Ok(None),
        Some('\\') => {
            let (_, end) = command_at(text, p);
            Ok(Some((&text[p..end], end)))
        }
        Some(c) => Ok(Some((&text[p..p + c.len_utf8()], p + c.len_utf8()))),
    }
}

/// The 1-based line of offset `pos`.
pub fn line_of(text: &str, pos: usize) -> usize {
    text.as_bytes()[..pos.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The environment region `\begin{name}…\end{name}` whose `\begin` ends at `after_begin`
/// (just past `{name}`): the content's end offset and the offset after `\end{name}`. Nested
/// environments of the same name are counted. `None` if it is never closed.
pub fn environment_end(text: &str, name: &str, after_begin: usize) -> Option<(usize, usize)> {
    let mut depth = 1usize;
    let mut pos = after_begin;
    while let Some(p) = next_command(text, pos) {
        let (cmd, after) = command_at(text, p);
        pos = after;
        if cmd != "begin" && cmd != "end" {
            continue;
        }
        let Ok(Some((env, end))) = group(text, after) else {
            continue;
        };
        if env.trim() != name {
            continue;
        }
        if cmd == "begin" {
            depth += 1;
        } else {
            depth -= 1;
            if depth == 0 {
                return Some((p, end));
            }
        }
        pos = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_respect_escaped_percent() {
        assert_eq!(
            strip_comments("50\\% done % note\nnext"),
            "50\\% done \nnext"
        );
        assert_eq!(strip_comments("a\\\\% comment\r\nb"), "a\\\\\nb");
        assert_eq!(strip_comments("%all\n"), "\n");
    }

    #[test]
    fn groups_nest_and_ignore_escaped_braces() {
        let text = r"\caption{a {b \{ c} d}rest";
        let (content, end) = group(text, 8).unwrap().unwrap();
        assert_eq!(content, r"a {b \{ c} d");
        assert_eq!(&text[end..], "rest");
        assert!(group("{open", 0).is_err());
        assert_eq!(group("x", 0).unwrap(), None);
    }

    #[test]
    fn optional_arguments_skip_brackets_in_braces() {
        let (content, _) = optional(" [a{]}b]{x}", 0).unwrap().unwrap();
        assert_eq!(content, "a{]}b");
    }

    #[test]
    fn commands_and_environments() {
        assert_eq!(command_at(r"\input{x}", 0), ("input", 6));
        assert_eq!(command_at(r"\%x", 0), ("%", 2));
        let text = r"\begin{figure}a\begin{figure}b\end{figure}c\end{figure}d";
        let (content_end, after) = environment_end(text, "figure", 14).unwrap();
        assert_eq!(&text[14..content_end], r"a\begin{figure}b\end{figure}c");
        assert_eq!(&text[after..], "d");
    }
}
