//! The data of document-level event argument extraction: one [`Example`] per event trigger.
//!
//! - [`rams`]: RAMS 1.0 JSON Lines (one document, one trigger per line);
//! - [`wikievents`]: WikiEvents documents, their coreference file, and TSAR's `transfer`
//!   conversion to one windowed example per event mention;
//! - [`ontology`]: the event types with their roles (`meta.json`) and TSAR's label ids.
//!
//! Every reader error names the file, the line and the problem.

pub mod ontology;
pub mod rams;
pub mod wikievents;

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{DocEeError, Result};

pub use ontology::Ontology;
pub use rams::read_rams;
pub use wikievents::{WikiDocument, read_coref, read_wikievents, transfer};

/// An argument link: an inclusive token span of the example and its role.
///
/// Spans are signed because a WikiEvents argument may lie outside its event's window (before
/// it, so negative, or after it); such a gold argument cannot be predicted but still counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Link {
    /// First token (inclusive).
    pub start: i64,
    /// Last token (inclusive).
    pub end: i64,
    /// The role as written in the data (`evt089arg01victim`, `Victim`).
    pub role: String,
}

/// One event trigger with its context: a RAMS document or a WikiEvents window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// `doc_key` (RAMS) or `{doc_id}-{i}` (a WikiEvents window of event mention `i`).
    pub doc_key: String,
    /// Tokenised sentences.
    pub sentences: Vec<Vec<String>>,
    /// Trigger span (inclusive token indices of the example).
    pub trigger: (usize, usize),
    /// Event type (`life.die.n/a`, `Life.Die.Unspecified`).
    pub event_type: String,
    /// Gold argument links.
    pub links: Vec<Link>,
    /// Coreference clusters restricted to the example (WikiEvents): in-window spans, in the
    /// order of the coreference file; empty for RAMS.
    pub coref: Vec<Vec<(i64, i64)>>,
    /// Token offset of the example in its source document (0 for RAMS).
    pub offset: usize,
}

impl Example {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.sentences.iter().map(Vec::len).sum()
    }

    /// Whether the example has no token.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All tokens in order.
    pub fn tokens(&self) -> Vec<&str> {
        self.sentences
            .iter()
            .flatten()
            .map(String::as_str)
            .collect()
    }

    /// The sentence of every token.
    pub fn sentence_of_tokens(&self) -> Vec<usize> {
        self.sentences
            .iter()
            .enumerate()
            .flat_map(|(i, s)| std::iter::repeat_n(i, s.len()))
            .collect()
    }

    /// The tokens joined by spaces (the key of the train/evaluation overlap check).
    pub fn text(&self) -> String {
        self.tokens().join(" ")
    }

    /// Whether an inclusive span lies inside the example.
    pub fn contains(&self, start: i64, end: i64) -> bool {
        start >= 0 && start <= end && end < self.len() as i64
    }

    /// The example in the TSAR / RAMS JSON Lines layout (`transfer-{split}.jsonl`).
    pub fn to_json(&self) -> serde_json::Value {
        let (tb, te) = self.trigger;
        let links: Vec<serde_json::Value> = self
            .links
            .iter()
            .map(|l| serde_json::json!([[tb, te], [l.start, l.end], l.role]))
            .collect();
        let mut value = serde_json::json!({
            "doc_key": self.doc_key,
            "sentences": self.sentences,
            "evt_triggers": [[tb, te, [[self.event_type, 1.0]]]],
            "gold_evt_links": links,
        });
        if !self.coref.is_empty() {
            value["coref"] = serde_json::json!(self.coref);
            value["offset"] = serde_json::json!(self.offset);
        }
        value
    }
}

/// Reads a JSON Lines file record by record, keeping every record's 1-based line number
/// (blank lines are skipped); a malformed line is an error naming it.
pub fn read_json_lines<T: DeserializeOwned>(path: &Path) -> Result<Vec<(usize, T)>> {
    let text = std::fs::read_to_string(path).map_err(|source| DocEeError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let record = serde_json::from_str(line)
            .map_err(|e| DocEeError::line(path, index + 1, format!("{e}")))?;
        out.push((index + 1, record));
    }
    if out.is_empty() {
        // Every file this crate reads (documents, predictions, heads, coreference) has records.
        return Err(DocEeError::line(
            path,
            1,
            "the file holds no records".to_owned(),
        ));
    }
    Ok(out)
}

/// Splits JSON Lines documents into the first `first` lines and the rest, moving every later
/// document with the same text (`sentences`, or WikiEvents `tokens`) into the first part: RAMS
/// repeats a passage for each of its triggers, and a passage must not be on both sides.
pub fn split_documents<'a>(lines: &[&'a str], first: usize) -> (Vec<&'a str>, Vec<&'a str>) {
    let key = |line: &str| -> String {
        serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .and_then(|v| {
                v.get("sentences")
                    .or_else(|| v.get("tokens"))
                    .map(|t| t.to_string())
            })
            .unwrap_or_else(|| line.to_string())
    };
    let first_keys: std::collections::HashSet<String> =
        lines.iter().take(first).map(|l| key(l)).collect();
    let (mut head, mut rest) = (Vec::new(), Vec::new());
    for (i, line) in lines.iter().enumerate() {
        if i < first || first_keys.contains(&key(line)) {
            head.push(*line);
        } else {
            rest.push(*line);
        }
    }
    (head, rest)
}

/// Writes examples as JSON Lines in the TSAR layout.
pub fn write_examples(path: &Path, examples: &[Example]) -> Result<()> {
    let values: Vec<serde_json::Value> = examples.iter().map(Example::to_json).collect();
    burnlp_core::data::write_jsonl(path, &values)?;
    Ok(())
}
