//! Dependency heads for head F1.
//!
//! The reference parses the whitespace-joined example with spaCy `en_core_web_sm` and, from a
//! span's first token, follows `.head` while it stays inside the span. Here the heads are
//! pluggable ([`HeadSource`]): a `--heads` file (JSON Lines `{"doc_key", "heads": [h_0, …]}`,
//! one 0-based head per token of each example, a root pointing to itself — the official spaCy
//! heads can be exported to it), the trees of the project's own dependency parser converted to
//! that convention (`--parser RUN`, [`crate::graph::parse::trees_to_heads`]), or, without
//! either, the span's last token (English noun phrases are mostly head-final).
//!
//! A span that is not inside its example (a WikiEvents gold argument outside its window) keeps
//! its first token: the reference's walk also stops there for spans before the window (Python's
//! negative indexing) and crashes on spans after it.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::data::{Example, read_json_lines};
use crate::error::{DocEeError, Result};

/// One head index per token of each example, by `doc_key`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Heads(pub HashMap<String, Vec<usize>>);

/// Where head words come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadSource {
    /// Dependency heads of every example (a `--heads` file or the parser's trees).
    Given(Heads),
    /// The span's last token (the fallback without a parse).
    LastToken,
}

#[derive(Deserialize)]
struct HeadsLine {
    doc_key: String,
    heads: Vec<usize>,
}

/// Reads a heads file and checks it against the gold examples: every line names a gold
/// example, has one head per token and points inside the example; every gold example has a line.
pub fn read_heads(path: &Path, gold: &[Example]) -> Result<Heads> {
    let lengths: HashMap<&str, usize> =
        gold.iter().map(|e| (e.doc_key.as_str(), e.len())).collect();
    let mut out = HashMap::new();
    for (line, record) in read_json_lines::<HeadsLine>(path)? {
        let problem = |p: String| DocEeError::line(path, line, p);
        let Some(&n) = lengths.get(record.doc_key.as_str()) else {
            return Err(problem(format!("unknown doc_key `{}`", record.doc_key)));
        };
        if record.heads.len() != n {
            return Err(problem(format!(
                "{} heads for the {n} tokens of `{}`",
                record.heads.len(),
                record.doc_key
            )));
        }
        if let Some((i, h)) = record.heads.iter().enumerate().find(|(_, h)| **h >= n) {
            return Err(problem(format!(
                "token {i} has head {h}, outside the {n} tokens"
            )));
        }
        if out.insert(record.doc_key.clone(), record.heads).is_some() {
            return Err(problem(format!(
                "doc_key `{}` appears twice",
                record.doc_key
            )));
        }
    }
    if let Some(missing) = gold.iter().find(|e| !out.contains_key(&e.doc_key)) {
        return Err(DocEeError::invalid(
            path.display().to_string(),
            format!("no heads for gold example `{}`", missing.doc_key),
        ));
    }
    Ok(Heads(out))
}

/// The head word of `span` in `heads`: from the first token, follow heads while they stay inside
/// the span; a cycle inside the span is an error.
pub fn walk(heads: &[usize], (start, end): (usize, usize)) -> std::result::Result<usize, String> {
    let mut current = start;
    for _ in 0..=end - start {
        let head = heads[current];
        if head < start || head > end || head == current {
            return Ok(current);
        }
        current = head;
    }
    Err(format!("the heads of span [{start}, {end}] form a cycle"))
}

impl HeadSource {
    /// The head token of `span` in `example`.
    pub fn head(&self, example: &Example, (start, end): (i64, i64)) -> Result<i64> {
        if !example.contains(start, end) {
            return Ok(start);
        }
        let span = (start as usize, end as usize);
        match self {
            HeadSource::LastToken => Ok(end),
            HeadSource::Given(Heads(map)) => {
                let heads = map.get(&example.doc_key).ok_or_else(|| {
                    DocEeError::invalid("the heads", format!("no heads for `{}`", example.doc_key))
                })?;
                walk(heads, span).map(|h| h as i64).map_err(|p| {
                    DocEeError::invalid(format!("the heads of `{}`", example.doc_key), p)
                })
            }
        }
    }
}
