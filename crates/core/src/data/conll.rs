//! CoNLL-style column files: CoNLL-2003 NER, CoNLL-U, FrameNet CoNLL and the like.

use std::path::Path;

use super::io::LineReader;
use super::{DataError, Result};

/// One sentence of a CoNLL file: its comment lines and its token rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConllSentence {
    /// 1-based line number of the sentence's first line (comment or token) in the file.
    pub line: usize,
    /// Index of the `-DOCSTART-` document the sentence belongs to (0 for the first document);
    /// `None` when no `-DOCSTART-` line precedes it.
    pub document: Option<usize>,
    /// Comment lines before the first token, without the leading `#` and surrounding
    /// whitespace (CoNLL-U metadata such as `text = ...`).
    pub comments: Vec<String>,
    /// Token rows, each split into columns.
    pub rows: Vec<Vec<String>>,
}

impl ConllSentence {
    /// Number of token rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no token rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Column `index` of every row, or `None` if some row is shorter.
    pub fn column(&self, index: usize) -> Option<Vec<&str>> {
        self.rows
            .iter()
            .map(|row| row.get(index).map(String::as_str))
            .collect()
    }

    /// Value of a `key = value` comment (CoNLL-U `sent_id`, `text`, ...).
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.comments.iter().find_map(|comment| {
            let (k, v) = comment.split_once('=')?;
            (k.trim() == key).then(|| v.trim())
        })
    }

    /// CoNLL-U syntactic words: rows whose ID is neither a multiword range (`1-2`) nor an
    /// empty node (`8.1`).
    pub fn conllu_words(&self) -> impl Iterator<Item = &Vec<String>> {
        self.rows.iter().filter(|row| {
            row.first()
                .is_some_and(|id| !id.contains('-') && !id.contains('.'))
        })
    }
}

/// Reads a CoNLL-style file into sentences.
///
/// * Sentences are separated by blank (or whitespace-only) lines.
/// * Token lines are split on tabs if they contain a tab (CoNLL-U, where a form may contain a
///   space), otherwise on runs of whitespace (CoNLL-2003); each must have at least
///   `min_columns` columns.
/// * Lines whose first column is `-DOCSTART-` are skipped; they end the current sentence and
///   start a new document ([`ConllSentence::document`]).
/// * Lines starting with `#` before a sentence's first token are kept as
///   [`ConllSentence::comments`] (also across blank lines, up to the next token; comments at
///   the end of the file are dropped); inside a sentence they are token rows (a `#` token).
///
/// Errors name the file and line.
pub fn read_conll(path: impl AsRef<Path>, min_columns: usize) -> Result<Vec<ConllSentence>> {
    let path = path.as_ref();
    let mut reader = LineReader::open(path)?;
    let mut sentences = Vec::new();
    let mut current = ConllSentence::default();
    let mut document: Option<usize> = None;
    let mut finish = |current: &mut ConllSentence, document: Option<usize>| {
        if !current.rows.is_empty() {
            let mut done = std::mem::take(current);
            done.document = document;
            sentences.push(done);
        }
    };
    while let Some((line_no, line)) = reader.next_line()? {
        if line.trim().is_empty() {
            finish(&mut current, document);
            continue;
        }
        if line.split_whitespace().next() == Some("-DOCSTART-") {
            finish(&mut current, document);
            document = Some(document.map_or(0, |d| d + 1));
            continue;
        }
        if current.rows.is_empty() && line.starts_with('#') {
            if current.comments.is_empty() {
                current.line = line_no;
            }
            current.comments.push(line[1..].trim().to_owned());
            continue;
        }
        let row: Vec<String> = if line.contains('\t') {
            line.split('\t').map(str::to_owned).collect()
        } else {
            line.split_whitespace().map(str::to_owned).collect()
        };
        if row.len() < min_columns {
            return Err(DataError::TooFewColumns {
                path: path.to_owned(),
                line: line_no,
                min: min_columns,
                found: row.len(),
            });
        }
        if current.rows.is_empty() && current.comments.is_empty() {
            current.line = line_no;
        }
        current.rows.push(row);
    }
    finish(&mut current, document);
    Ok(sentences)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentence(comments: &[&str], rows: &[&[&str]]) -> ConllSentence {
        ConllSentence {
            line: 1,
            document: None,
            comments: comments.iter().map(|c| (*c).to_owned()).collect(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|c| (*c).to_owned()).collect())
                .collect(),
        }
    }

    #[test]
    fn metadata_and_columns() {
        let s = sentence(
            &["sent_id = a-1", "text = It's", "no equals sign"],
            &[&["1-2", "It's"], &["1", "It"], &["2", "'s"], &["2.1", "x"]],
        );
        assert_eq!(s.metadata("sent_id"), Some("a-1"));
        assert_eq!(s.metadata("text"), Some("It's"));
        assert_eq!(s.metadata("missing"), None);
        let words: Vec<&str> = s.conllu_words().map(|r| r[1].as_str()).collect();
        assert_eq!(words, ["It", "'s"]);
        assert_eq!(s.column(0).unwrap(), ["1-2", "1", "2", "2.1"]);
        assert_eq!(s.column(2), None);
        assert_eq!(s.len(), 4);
    }
}
