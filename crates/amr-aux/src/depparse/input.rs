//! Sentences to parse and their parses as CoNLL-U.
//!
//! A `.conllu` / `.conll` file is read with core's CoNLL reader (ten columns per line; HEAD and
//! DEPREL may be `_`); its comments and columns are written back with HEAD and DEPREL replaced
//! (DEPS becomes `_`, since the enhanced graph is not predicted). Any other file is raw text:
//! one sentence per line, words separated by whitespace; each becomes a sentence
//! `# sent_id = <file stem>.<line>` with its `# text`.

use std::fmt::Write as _;
use std::path::Path;

use burnlp_core::data::read_conll;

use super::{DepparseError, Result};

/// A sentence to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSentence {
    /// 1-based line of its first line in the input.
    pub line: usize,
    /// Comment lines without the leading `#`.
    pub comments: Vec<String>,
    /// The ten CoNLL-U columns of every line (multiword tokens and empty nodes included).
    pub rows: Vec<Vec<String>>,
}

impl InputSentence {
    /// Whether a row is a syntactic word (not `3-4` nor `8.1`).
    fn is_word(row: &[String]) -> bool {
        !row[0].contains('-') && !row[0].contains('.')
    }

    /// The word forms.
    pub fn words(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter(|r| Self::is_word(r))
            .map(|r| r[1].clone())
            .collect()
    }
}

/// Whether `path` names a CoNLL-U file (by its extension).
pub fn is_conllu(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("conllu") || e.eq_ignore_ascii_case("conll"))
}

/// Reads the sentences of a CoNLL-U or raw-text file (see the module docs). A line with other
/// than ten columns, word IDs out of sequence, or a file without sentences is an error naming
/// the file and line; blank lines of a raw-text file separate nothing and are skipped.
pub fn read_parse_input(path: &Path) -> Result<Vec<InputSentence>> {
    let input_error = |line, problem: String| DepparseError::Input {
        path: path.to_path_buf(),
        line,
        problem,
    };
    let sentences = if is_conllu(path) {
        let mut out = Vec::new();
        for s in read_conll(path, 10)? {
            let first_row_line = s.line + s.comments.len();
            let mut next = 1;
            for (i, row) in s.rows.iter().enumerate() {
                let line = first_row_line + i;
                if row.len() != 10 {
                    return Err(input_error(
                        line,
                        format!("expected 10 columns, found {}", row.len()),
                    ));
                }
                if InputSentence::is_word(row) {
                    if row[0] != next.to_string() {
                        return Err(input_error(
                            line,
                            format!("word id `{}` out of sequence (expected {next})", row[0]),
                        ));
                    }
                    next += 1;
                }
            }
            if next == 1 {
                return Err(input_error(s.line, "sentence has no words".into()));
            }
            out.push(InputSentence {
                line: s.line,
                comments: s.comments,
                rows: s.rows,
            });
        }
        out
    } else {
        let text =
            std::fs::read_to_string(path).map_err(|source| burnlp_core::data::DataError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        let stem = path
            .file_stem()
            .map_or_else(|| "input".into(), |s| s.to_string_lossy().into_owned());
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.is_empty() {
                continue;
            }
            let rows = words
                .iter()
                .enumerate()
                .map(|(j, w)| {
                    let mut row = vec!["_".to_string(); 10];
                    row[0] = (j + 1).to_string();
                    row[1] = (*w).to_string();
                    row
                })
                .collect();
            out.push(InputSentence {
                line: i + 1,
                comments: vec![
                    format!("sent_id = {stem}.{}", i + 1),
                    format!("text = {}", words.join(" ")),
                ],
                rows,
            });
        }
        out
    };
    if sentences.is_empty() {
        return Err(input_error(1, "no sentences".into()));
    }
    Ok(sentences)
}

/// CoNLL-U text of `sentences` with the predicted `(heads, labels)` of their words.
///
/// Panics if a parse does not have one head and label per word.
pub fn write_parses(sentences: &[InputSentence], parses: &[(Vec<usize>, Vec<String>)]) -> String {
    let mut out = String::new();
    for (sentence, (heads, labels)) in sentences.iter().zip(parses) {
        for comment in &sentence.comments {
            let _ = writeln!(out, "# {comment}");
        }
        let mut word = 0;
        for row in &sentence.rows {
            let mut row = row.clone();
            if InputSentence::is_word(&row) {
                row[6] = heads[word].to_string();
                row[7] = labels[word].clone();
                row[8] = "_".into();
                word += 1;
            }
            out.push_str(&row.join("\t"));
            out.push('\n');
        }
        assert_eq!(word, heads.len(), "one head per word");
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_text_round_trips_to_conllu_that_the_reader_accepts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("raw.txt");
        std::fs::write(&path, "The dog  barks .\n\nHi\n").unwrap();
        let sentences = read_parse_input(&path).unwrap();
        assert_eq!(sentences.len(), 2);
        assert_eq!(sentences[0].words(), ["The", "dog", "barks", "."]);
        assert_eq!(sentences[1].comments[0], "sent_id = raw.3");
        let parses = vec![
            (
                vec![2, 3, 0, 3],
                vec!["det".into(), "nsubj".into(), "root".into(), "punct".into()],
            ),
            (vec![0], vec!["root".into()]),
        ];
        let text = write_parses(&sentences, &parses);
        let out = dir.path().join("out.conllu");
        std::fs::write(&out, &text).unwrap();
        let back = super::super::read_treebank(&out).unwrap();
        assert_eq!(back[0].words[1].head, 3);
        assert_eq!(back[0].words[3].deprel, "punct");
        assert_eq!(back[1].id.as_deref(), Some("raw.3"));
        // Re-reading the CoNLL-U output as parse input keeps its words.
        assert_eq!(
            read_parse_input(&out).unwrap()[0].words(),
            sentences[0].words()
        );
    }

    #[test]
    fn malformed_conllu_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.conllu");
        std::fs::write(
            &path,
            "# sent_id = a\n1\tA\t_\t_\t_\t_\t_\t_\t_\t_\n3\tB\t_\t_\t_\t_\t_\t_\t_\t_\n",
        )
        .unwrap();
        let err = read_parse_input(&path).unwrap_err().to_string();
        assert!(
            err.ends_with("bad.conllu:3: word id `3` out of sequence (expected 2)"),
            "{err}"
        );
        std::fs::write(&path, "1\tA\t_\n").unwrap();
        let err = read_parse_input(&path).unwrap_err().to_string();
        assert!(err.contains("bad.conllu") && err.contains('1'), "{err}");
        std::fs::write(&path, "\n").unwrap();
        let err = read_parse_input(&path).unwrap_err().to_string();
        assert!(err.ends_with("bad.conllu:1: no sentences"), "{err}");
    }
}
