//! One text per paper: `\input`/`\include`/`\import` inlined (comments stripped file by file),
//! then `\iffalse … \fi` blocks and `comment` environments dropped.

use std::collections::{BTreeMap, HashMap};

use crate::error::{ArxivCapError, MissingInput, Result};
use crate::latex::scan::{command_at, environment_end, group, line_of, next_command, skip_ws};
use crate::source::{SourceTree, normalise, parent};

/// Deepest `\input` nesting followed.
pub const MAX_INPUT_DEPTH: usize = 32;

/// What to do with an `\input` whose file is not in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingInputs {
    /// Fail with [`ArxivCapError::MissingInput`] naming the file and line.
    Error,
    /// Record the error in [`Inlined::missing`] and go on without the file (real packages often
    /// `\input` generated files they do not ship).
    #[default]
    Skip,
}

/// The inlined document.
#[derive(Debug)]
pub struct Inlined {
    /// The text, comments stripped, inputs inlined.
    pub text: String,
    /// Every file read, in order of first inclusion (the main file first).
    pub files: Vec<String>,
    /// Missing inputs skipped under [`MissingInputs::Skip`].
    pub missing: Vec<ArxivCapError>,
}

struct Inliner<'a> {
    tree: &'a SourceTree,
    main_dir: String,
    policy: MissingInputs,
    stack: Vec<String>,
    files: Vec<String>,
    missing: Vec<ArxivCapError>,
}

/// Inlines every `\input{…}`, `\input file`, `\include{…}`, `\subfile{…}`, `\import{dir}{file}` and
/// `\subimport{dir}{file}` of `main`, recursively; names are resolved as TeX does, relative to
/// the main file's folder (`\subimport`: to the including file's), trying the name as written
/// and then with `.tex`. A cycle is always an error naming its files.
pub fn inline(tree: &SourceTree, main: &str, policy: MissingInputs) -> Result<Inlined> {
    let mut inliner = Inliner {
        tree,
        main_dir: parent(main).to_string(),
        policy,
        stack: Vec::new(),
        files: Vec::new(),
        missing: Vec::new(),
    };
    let mut text = String::new();
    inliner.file(main, &mut text)?;
    Ok(Inlined {
        text: remove_false_blocks(&text),
        files: inliner.files,
        missing: inliner.missing,
    })
}

impl Inliner<'_> {
    fn file(&mut self, path: &str, out: &mut String) -> Result<()> {
        if let Some(at) = self.stack.iter().position(|f| f == path) {
            let mut chain = self.stack[at..].to_vec();
            chain.push(path.to_string());
            return Err(ArxivCapError::InputCycle {
                source_name: self.tree.name.clone(),
                chain,
            });
        }
        if self.stack.len() >= MAX_INPUT_DEPTH {
            return Err(ArxivCapError::InputTooDeep {
                source_name: self.tree.name.clone(),
                file: path.to_string(),
                limit: MAX_INPUT_DEPTH,
            });
        }
        let text = super::scan::strip_comments(&self.tree.text(path).unwrap_or_default());
        if !self.files.iter().any(|f| f == path) {
            self.files.push(path.to_string());
        }
        self.stack.push(path.to_string());
        let result = self.body(path, &text, out);
        self.stack.pop();
        result
    }

    fn body(&mut self, path: &str, text: &str, out: &mut String) -> Result<()> {
        let mut pos = 0;
        while let Some(p) = next_command(text, pos) {
            let (cmd, after) = command_at(text, p);
            let Some((name, end, dir)) = input_argument(text, cmd, after) else {
                out.push_str(&text[pos..after]);
                pos = after;
                continue;
            };
            out.push_str(&text[pos..p]);
            pos = end;
            let base = match cmd {
                "subimport" => normalise(parent(path), &dir),
                "import" => normalise(&self.main_dir, &dir),
                _ => Some(self.main_dir.clone()),
            };
            let tried: Vec<String> = base.iter().flat_map(|b| candidates(b, &name)).collect();
            match tried.iter().find(|c| self.tree.contains(c)) {
                Some(found) => {
                    let found = found.clone();
                    out.push('\n');
                    self.file(&found, out)?;
                    out.push('\n');
                }
                None => {
                    let error = ArxivCapError::MissingInput(Box::new(MissingInput {
                        source_name: self.tree.name.clone(),
                        file: path.to_string(),
                        line: line_of(text, p),
                        command: cmd.to_string(),
                        name: name.clone(),
                        tried,
                    }));
                    match self.policy {
                        MissingInputs::Error => return Err(error),
                        MissingInputs::Skip => self.missing.push(error),
                    }
                }
            }
        }
        out.push_str(&text[pos..]);
        Ok(())
    }
}

/// The file name (and, for `\import`, the folder) of an input command, and the offset after
/// it; `None` if `cmd` is not one or its argument is malformed.
fn input_argument(text: &str, cmd: &str, after: usize) -> Option<(String, usize, String)> {
    match cmd {
        "input" | "include" | "subfile" => {
            if let Ok(Some((name, end))) = group(text, after) {
                return Some((name.trim().to_string(), end, String::new()));
            }
            if cmd != "input" {
                return None;
            }
            // TeX's primitive form: `\input file` ends at white space.
            let start = skip_ws(text, after);
            let len = text[start..]
                .find(|c: char| c.is_whitespace() || c == '\\' || c == '}' || c == '{')
                .unwrap_or(text.len() - start);
            (len > 0).then(|| {
                (
                    text[start..start + len].to_string(),
                    start + len,
                    String::new(),
                )
            })
        }
        "import" | "subimport" => {
            let (dir, mid) = group(text, after).ok()??;
            let (name, end) = group(text, mid).ok()??;
            Some((name.trim().to_string(), end, dir.trim().to_string()))
        }
        _ => None,
    }
}

/// The paths TeX tries for an input name: as written, then with `.tex`.
fn candidates(base: &str, name: &str) -> Vec<String> {
    let name = name.trim_matches('"');
    let mut out: Vec<String> = normalise(base, name).into_iter().collect();
    if !name.ends_with(".tex")
        && let Some(p) = normalise(base, &format!("{name}.tex"))
    {
        out.push(p);
    }
    out
}

/// Conditionals that are macros (etoolbox, ifthen), not TeX `\if…` primitives, and so have no
/// `\fi`.
const NOT_CONDITIONALS: &[&str] = &[
    "ifthenelse",
    "iftoggle",
    "ifbool",
    "ifboolexpr",
    "ifdef",
    "ifundef",
    "ifcsdef",
    "ifcsundef",
    "ifstrequal",
    "ifstrempty",
    "ifblank",
    "ifnumcomp",
    "ifdimcomp",
    "ifdefempty",
];

/// Drops `\iffalse … \fi` (keeping an `\else` branch), the `\else` branch of `\iftrue` and of
/// `\ifpdf` (pdflatex's branch is kept), and `\begin{comment} … \end{comment}`. A switch made
/// with `\newif\ifname` is followed in reading order (false until `\nametrue`) and its
/// conditionals are resolved the same way.
pub fn remove_false_blocks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Regions still ahead to drop (`\else … \fi` of a true branch, the `\fi` of a kept else
    // branch), by start offset.
    let mut dropped: BTreeMap<usize, usize> = BTreeMap::new();
    let mut switches: HashMap<String, bool> = HashMap::new();
    let mut pos = 0;
    while let Some(p) = next_command(text, pos) {
        let (cmd, after) = command_at(text, p);
        if let Some(end) = dropped.remove(&p) {
            out.push_str(&text[pos..p]);
            pos = end;
            continue;
        }
        if cmd == "newif" {
            if let Some(q) = next_command(text, after)
                && let Some(name) = command_at(text, q).0.strip_prefix("if")
            {
                switches.insert(name.to_string(), false);
            }
        } else if let Some((name, value)) = switch_setting(cmd)
            && let Some(v) = switches.get_mut(name)
        {
            *v = value;
        }
        let truth = match cmd {
            "iffalse" => Some(false),
            "iftrue" | "ifpdf" => Some(true),
            c => c.strip_prefix("if").and_then(|n| switches.get(n).copied()),
        };
        if let Some(truth) = truth.filter(|_| !preceded_by_newif(text, p)) {
            out.push_str(&text[pos..p]);
            let branches = matching_fi(text, after);
            pos = match (truth, branches.else_at) {
                (false, Some((_, e))) => {
                    dropped.insert(branches.fi, branches.end);
                    e
                }
                (false, None) => branches.end,
                (true, else_at) => {
                    dropped.insert(else_at.map_or(branches.fi, |(e, _)| e), branches.end);
                    after
                }
            };
        } else if cmd == "begin"
            && let Ok(Some((env, env_end))) = group(text, after)
            && env.trim() == "comment"
        {
            out.push_str(&text[pos..p]);
            pos = environment_end(text, "comment", env_end).map_or(text.len(), |(_, e)| e);
        } else {
            out.push_str(&text[pos..after]);
            pos = after;
        }
    }
    out.push_str(&text[pos..]);
    out
}

/// `\nametrue` / `\namefalse`: the switch's name and value.
fn switch_setting(cmd: &str) -> Option<(&str, bool)> {
    cmd.strip_suffix("true")
        .map(|n| (n, true))
        .or_else(|| cmd.strip_suffix("false").map(|n| (n, false)))
        .filter(|(n, _)| !n.is_empty())
}

/// Whether the command at `p` directly follows `\newif` (it is being defined, not tested).
fn preceded_by_newif(text: &str, p: usize) -> bool {
    text[..p].trim_end().ends_with("\\newif")
}

/// Where a conditional's parts are.
struct Branches {
    /// The depth-0 `\else`: its offset and the offset after it.
    else_at: Option<(usize, usize)>,
    /// The offset of the matching `\fi` (the end of the text if unmatched).
    fi: usize,
    /// The offset after the `\fi`.
    end: usize,
}

/// The parts of the conditional whose `\if…` ends at `from`.
fn matching_fi(text: &str, from: usize) -> Branches {
    let mut depth = 0usize;
    let mut else_at = None;
    let mut pos = from;
    while let Some(p) = next_command(text, pos) {
        let (cmd, after) = command_at(text, p);
        pos = after;
        match cmd {
            "newif" => {
                // `\newif\iffoo` defines a conditional; it does not open one.
                if let Some(q) = next_command(text, after) {
                    pos = command_at(text, q).1;
                }
            }
            "fi" if depth == 0 => {
                return Branches {
                    else_at,
                    fi: p,
                    end: after,
                };
            }
            "fi" => depth -= 1,
            "else" if depth == 0 && else_at.is_none() => else_at = Some((p, after)),
            c if c.starts_with("if") && !NOT_CONDITIONALS.contains(&c) => depth += 1,
            _ => {}
        }
    }
    Branches {
        else_at,
        fi: text.len(),
        end: text.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn false_blocks_are_dropped() {
        let text = "a\\iffalse b \\ifx c\\fi d\\fi e\\iffalse x\\else y\\fi z";
        assert_eq!(remove_false_blocks(text), "a e y z");
        let env = "p\\begin{comment}\\begin{figure}\\end{figure}\\end{comment}q";
        assert_eq!(remove_false_blocks(env), "pq");
        assert_eq!(
            remove_false_blocks("\\newif\\ifdraft x"),
            "\\newif\\ifdraft x"
        );
    }
}
