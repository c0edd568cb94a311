//! Document pairs for mining, in this crate's own format (the WMT20 document files were not
//! available): JSON Lines, one document pair per line,
//!
//! ```json
//! {"id": "doc-1", "en": ["First sentence.", "Second one."], "xx": "ប្រយោគទីមួយ។ ប្រយោគទីពីរ។"}
//! ```
//!
//! where each side is either a list of sentences or one text that [`split_sentences`] cuts
//! (after `.`, `!`, `?` followed by a space, and after the Khmer `។`, the Arabic-script `؟`
//! and the CJK `。！？` anywhere).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Result;

/// One side of a document: sentences, or a text to split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Side {
    /// Already split sentences.
    Sentences(Vec<String>),
    /// A text to split into sentences.
    Text(String),
}

impl Side {
    /// The sentences of the side.
    pub fn sentences(&self) -> Vec<String> {
        match self {
            Self::Sentences(s) => s
                .iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            Self::Text(t) => split_sentences(t),
        }
    }
}

/// A document pair record as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentRecord {
    /// The pair's identifier.
    pub id: String,
    /// English side.
    pub en: Side,
    /// Other-language side.
    pub xx: Side,
}

/// A document pair with both sides split into sentences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentPair {
    /// The pair's identifier.
    pub id: String,
    /// English sentences.
    pub en: Vec<String>,
    /// Other-language sentences.
    pub xx: Vec<String>,
}

impl From<DocumentRecord> for DocumentPair {
    fn from(record: DocumentRecord) -> Self {
        Self {
            en: record.en.sentences(),
            xx: record.xx.sentences(),
            id: record.id,
        }
    }
}

/// Reads a document-pair file; a malformed record is an error naming file, line and column.
pub fn read_documents(path: impl AsRef<Path>) -> Result<Vec<DocumentPair>> {
    let records = burnlp_core::data::JsonLines::<DocumentRecord>::open(path)?;
    records
        .map(|r| r.map(DocumentPair::from).map_err(Into::into))
        .collect()
}

/// Writes document pairs (sentences as lists).
pub fn write_documents(path: impl AsRef<Path>, docs: &[DocumentPair]) -> Result<()> {
    Ok(burnlp_core::data::write_jsonl(path, docs)?)
}

/// Splits a text into sentences (see the module docs); empty pieces are dropped.
pub fn split_sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        current.push(c);
        let ends = match c {
            '។' | '؟' | '。' | '！' | '？' => true,
            '.' | '!' | '?' => chars.peek().is_none_or(|n| n.is_whitespace()),
            _ => false,
        };
        if ends {
            let sentence = current.trim();
            if !sentence.is_empty() {
                out.push(sentence.to_string());
            }
            current.clear();
        }
    }
    let rest = current.trim();
    if !rest.is_empty() {
        out.push(rest.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_latin_khmer_and_keeps_decimals() {
        assert_eq!(
            split_sentences("It costs 3.5 dollars. Yes!  ok"),
            ["It costs 3.5 dollars.", "Yes!", "ok"]
        );
        assert_eq!(split_sentences("ក។ខ។"), ["ក។", "ខ។"]);
    }
}
