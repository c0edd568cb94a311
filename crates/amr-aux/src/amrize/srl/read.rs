//! Readers of the SRL inputs: the column format and ATP's line format.

use std::path::Path;

use super::{SrlArgument, SrlFrame, SrlSentence, normalize_label};
use crate::amrize::{Problem, RecordError, file_stem, sentence_blocks};

/// Parses SRL column text into one result per sentence, in file order; `path` names the input
/// in errors, and a sentence without `# sent_id` gets the id `<file stem>.<n>` (n from 1).
///
/// A malformed sentence gives a [`RecordError`] at the first problem; the following sentences
/// are still read. Comment lines not followed by any word line are ignored.
pub fn parse_srl(text: &str, path: &Path) -> Vec<Result<SrlSentence, RecordError>> {
    let stem = file_stem(path);
    sentence_blocks(text)
        .iter()
        .enumerate()
        .map(|(n, block)| parse_sentence(block, path, &stem, n + 1))
        .collect()
}

/// Parses ATP's line format (`[index] words ||| tags`, see the module documentation) into one
/// result per sentence; a sentence with a malformed line is one [`RecordError`] at that line.
/// Sentences get the ids `<file stem>.<n>` (n from 1).
pub fn parse_srl_lines(text: &str, path: &Path) -> Vec<Result<SrlSentence, RecordError>> {
    let stem = file_stem(path);
    let lines: Vec<FrameLine> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| read_frame_line(i + 1, line))
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        // Consecutive lines with the same words are one sentence.
        let mut j = i + 1;
        while j < lines.len() && !lines[i].words.is_empty() && lines[j].words == lines[i].words {
            j += 1;
        }
        let id = format!("{stem}.{}", out.len() + 1);
        let group = &lines[i..j];
        let frames: Result<Vec<SrlFrame>, RecordError> = group
            .iter()
            .map(|l| {
                l.frame.clone().map_err(|(line, problem)| RecordError {
                    path: path.to_path_buf(),
                    line,
                    sentence: Some(id.clone()),
                    problem,
                })
            })
            .collect();
        out.push(frames.map(|frames| SrlSentence {
            id,
            text: None,
            line: group[0].line,
            words: group[0].words.clone(),
            frames,
        }));
        i = j;
    }
    out
}

/// One non-blank line of ATP's line format.
struct FrameLine {
    line: usize,
    /// The sentence's words (empty when the line has no `|||`).
    words: Vec<String>,
    frame: Located<SrlFrame>,
}

/// Reads `[index] words ||| tags`: the words, and the frame of the tags' single `V` span.
fn read_frame_line(line_no: usize, line: &str) -> FrameLine {
    let Some((left, right)) = line.split_once("|||") else {
        return FrameLine {
            line: line_no,
            words: Vec::new(),
            frame: Err((line_no, Problem::NoSeparator)),
        };
    };
    let mut words: Vec<&str> = left.split_whitespace().collect();
    let tags: Vec<&str> = right.split_whitespace().collect();
    if words.len() == tags.len() + 1 && words[0].parse::<usize>().is_ok() {
        words.remove(0);
    }
    let words: Vec<String> = words.into_iter().map(str::to_string).collect();
    if words.len() != tags.len() || words.is_empty() {
        let problem = Problem::ColumnCount {
            expected: words.len(),
            found: tags.len(),
        };
        return FrameLine {
            line: line_no,
            words,
            frame: Err((line_no, problem)),
        };
    }
    let cells: Vec<(usize, &str)> = tags.iter().map(|t| (line_no, *t)).collect();
    let frame = read_bio(&cells, 1).and_then(|arguments| {
        let verbs: Vec<(usize, usize)> = arguments
            .iter()
            .filter(|a| a.role == "V")
            .map(|a| (a.start, a.end))
            .collect();
        match *verbs.as_slice() {
            [(start, end)] => Ok(SrlFrame {
                predicate: start,
                sense: words[start..end].join("_"),
                arguments,
            }),
            _ => Err((
                line_no,
                Problem::VerbSpans {
                    column: 1,
                    found: verbs.len(),
                },
            )),
        }
    });
    FrameLine {
        line: line_no,
        words,
        frame,
    }
}

/// A result whose error carries the line of the problem.
type Located<T> = Result<T, (usize, Problem)>;

/// A span being read from one argument column.
struct OpenSpan {
    role: String,
    start: usize,
}

/// Reads one sentence block (comment and word lines with their line numbers).
fn parse_sentence(
    lines: &[(usize, &str)],
    path: &Path,
    stem: &str,
    index: usize,
) -> Result<SrlSentence, RecordError> {
    let mut id = None;
    let mut text = None;
    for (_, line) in lines {
        if let Some((key, value)) = line.strip_prefix('#').and_then(|c| c.split_once('=')) {
            match key.trim() {
                "sent_id" => id = Some(value.trim().to_string()),
                "text" => text = Some(value.trim().to_string()),
                _ => {}
            }
        }
    }
    let error = |(line, problem): (usize, Problem)| RecordError {
        path: path.to_path_buf(),
        line,
        sentence: id.clone(),
        problem,
    };
    let rows: Vec<(usize, Vec<&str>)> = lines
        .iter()
        .filter(|(_, l)| !l.starts_with('#'))
        .map(|(n, l)| (*n, l.split_whitespace().collect()))
        .collect();
    let (words, predicates) = read_rows(&rows).map_err(error)?;
    let frames = read_frames(&rows, predicates).map_err(error)?;
    Ok(SrlSentence {
        id: id.clone().unwrap_or_else(|| format!("{stem}.{index}")),
        text,
        line: lines[0].0,
        words,
        frames,
    })
}

/// A predicate row: its word index, its PRED value and its line.
type Predicate = (usize, String, usize);

/// Checks the column count and the IDs of the word rows; returns the words and the predicate
/// rows, one per argument column.
fn read_rows(rows: &[(usize, Vec<&str>)]) -> Located<(Vec<String>, Vec<Predicate>)> {
    let columns = rows[0].1.len();
    for (line, row) in rows {
        if row.len() != columns || row.len() < 3 {
            let problem = Problem::ColumnCount {
                expected: columns.max(3),
                found: row.len(),
            };
            return Err((*line, problem));
        }
    }
    let mut words = Vec::new();
    let mut predicates = Vec::new();
    for (i, (line, row)) in rows.iter().enumerate() {
        if row[0].parse::<usize>().ok() != Some(i + 1) {
            let problem = match row[0].parse::<usize>() {
                Ok(found) => Problem::IdSequence {
                    expected: i + 1,
                    found,
                },
                Err(_) => Problem::BadId(row[0].to_string()),
            };
            return Err((*line, problem));
        }
        words.push(row[1].to_string());
        if row[2] != "-" && row[2] != "_" {
            predicates.push((i, row[2].to_string(), *line));
        }
    }
    let k = columns - 3;
    if predicates.len() != k {
        let problem = Problem::PredicateCount {
            predicates: predicates.len(),
            columns: k,
        };
        return Err((rows[0].0, problem));
    }
    Ok((words, predicates))
}

/// The frame of each predicate from its argument column (BIO, or brackets when a cell has a
/// `*`), with exactly one `V` span.
fn read_frames(rows: &[(usize, Vec<&str>)], predicates: Vec<Predicate>) -> Located<Vec<SrlFrame>> {
    let mut frames = Vec::new();
    for (j, (predicate, sense, predicate_line)) in predicates.into_iter().enumerate() {
        let column = j + 1;
        let cells: Vec<(usize, &str)> = rows.iter().map(|(l, r)| (*l, r[3 + j])).collect();
        let arguments = if cells.iter().any(|(_, c)| c.contains('*')) {
            read_brackets(&cells, column)?
        } else {
            read_bio(&cells, column)?
        };
        let verbs = arguments.iter().filter(|a| a.role == "V").count();
        if verbs != 1 {
            return Err((
                predicate_line,
                Problem::VerbSpans {
                    column,
                    found: verbs,
                },
            ));
        }
        frames.push(SrlFrame {
            predicate,
            sense,
            arguments,
        });
    }
    Ok(frames)
}

fn close(open: &mut Option<OpenSpan>, end: usize, out: &mut Vec<SrlArgument>) {
    if let Some(span) = open.take() {
        out.push(SrlArgument {
            role: span.role,
            start: span.start,
            end,
        });
    }
}

fn read_bio(cells: &[(usize, &str)], column: usize) -> Located<Vec<SrlArgument>> {
    let mut out = Vec::new();
    let mut open: Option<OpenSpan> = None;
    for (i, &(line, tag)) in cells.iter().enumerate() {
        if tag == "O" {
            close(&mut open, i, &mut out);
        } else if let Some(label) = tag.strip_prefix("B-").filter(|l| !l.is_empty()) {
            close(&mut open, i, &mut out);
            open = Some(OpenSpan {
                role: normalize_label(label),
                start: i,
            });
        } else if let Some(label) = tag.strip_prefix("I-").filter(|l| !l.is_empty()) {
            if open
                .as_ref()
                .is_none_or(|s| s.role != normalize_label(label))
            {
                let tag = tag.to_string();
                return Err((line, Problem::BrokenSpan { tag, column }));
            }
        } else {
            let tag = tag.to_string();
            return Err((line, Problem::BadTag { tag, column }));
        }
    }
    close(&mut open, cells.len(), &mut out);
    Ok(out)
}

fn read_brackets(cells: &[(usize, &str)], column: usize) -> Located<Vec<SrlArgument>> {
    let mut out = Vec::new();
    let mut open: Option<OpenSpan> = None;
    for (i, &(line, tag)) in cells.iter().enumerate() {
        let bad = || {
            let tag = tag.to_string();
            (line, Problem::BadTag { tag, column })
        };
        let broken = || {
            let tag = tag.to_string();
            (line, Problem::BrokenSpan { tag, column })
        };
        let (before, after) = tag.split_once('*').ok_or_else(bad)?;
        if let Some(label) = before.strip_prefix('(') {
            if label.is_empty() || label.contains(['(', ')', '*']) {
                return Err(bad());
            }
            if open.is_some() {
                return Err(broken());
            }
            open = Some(OpenSpan {
                role: normalize_label(label),
                start: i,
            });
        } else if !before.is_empty() {
            return Err(bad());
        }
        match after {
            "" => {}
            ")" => {
                if open.is_none() {
                    return Err(broken());
                }
                close(&mut open, i + 1, &mut out);
            }
            _ => return Err(bad()),
        }
    }
    if let Some(span) = open {
        let (line, _) = cells[span.start];
        return Err((
            line,
            Problem::UnclosedSpan {
                label: span.role,
                column,
            },
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bio_and_brackets_give_the_same_spans() {
        let cells = |tags: &[&'static str]| -> Vec<(usize, &'static str)> {
            tags.iter().enumerate().map(|(i, t)| (i + 1, *t)).collect()
        };
        let bio = read_bio(&cells(&["B-ARG0", "I-ARG0", "B-V", "O", "B-ARG1"]), 1).unwrap();
        let brackets = read_brackets(&cells(&["(A0*", "*)", "(V*)", "*", "(A1*)"]), 1).unwrap();
        assert_eq!(bio, brackets);
        assert_eq!(
            bio[0],
            SrlArgument {
                role: "ARG0".into(),
                start: 0,
                end: 2
            }
        );
        assert_eq!(bio.len(), 3);
        assert!(matches!(
            read_bio(&cells(&["O", "I-ARG0"]), 2),
            Err((2, Problem::BrokenSpan { column: 2, .. }))
        ));
        assert!(matches!(
            read_brackets(&cells(&["(A0*", "*"]), 1),
            Err((1, Problem::UnclosedSpan { .. }))
        ));
        assert!(matches!(
            read_brackets(&cells(&["*)"]), 1),
            Err((1, Problem::BrokenSpan { .. }))
        ));
        assert!(matches!(
            read_brackets(&cells(&["(A0"]), 1),
            Err((1, Problem::BadTag { .. }))
        ));
    }
}
