//! The CoNLL-U reader: sentences, words, multiword tokens, located errors.

use std::path::Path;

use super::super::{Problem, RecordError, file_stem, sentence_blocks};
use super::{DepSentence, DepWord, MultiwordToken, validate_tree};

/// Parses CoNLL-U text into one result per sentence, in file order; `path` names the input in
/// errors, and a sentence without `# sent_id` gets the id `<file stem>.<n>` (n from 1).
///
/// A malformed sentence gives a [`RecordError`] at the first problem; the following sentences
/// are still read. Comment lines not followed by any word line (at the end of the file) are
/// ignored.
pub fn parse_conllu(text: &str, path: &Path) -> Vec<Result<DepSentence, RecordError>> {
    let stem = file_stem(path);
    sentence_blocks(text)
        .iter()
        .enumerate()
        .map(|(n, block)| parse_sentence(block, path, &stem, n + 1))
        .collect()
}

/// Reads one sentence block (comment and word lines with their line numbers).
fn parse_sentence(
    lines: &[(usize, &str)],
    path: &Path,
    stem: &str,
    index: usize,
) -> Result<DepSentence, RecordError> {
    let mut sentence = DepSentence {
        id: None,
        text: None,
        line: lines[0].0,
        words: Vec::new(),
        multiword: Vec::new(),
        empty_nodes: 0,
    };
    for (_, line) in lines {
        if let Some((key, value)) = line.strip_prefix('#').and_then(|c| c.split_once('=')) {
            match key.trim() {
                "sent_id" => sentence.id = Some(value.trim().to_string()),
                "text" => sentence.text = Some(value.trim().to_string()),
                _ => {}
            }
        }
    }
    let error = |line: usize, id: &Option<String>, problem| RecordError {
        path: path.to_path_buf(),
        line,
        sentence: id.clone(),
        problem,
    };
    let mut head_lines = Vec::new();
    for &(line_no, line) in lines {
        if line.starts_with('#') {
            continue;
        }
        match read_line(&mut sentence, line) {
            Ok(true) => head_lines.push(line_no),
            Ok(false) => {}
            Err(problem) => return Err(error(line_no, &sentence.id, problem)),
        }
    }
    if sentence.words.is_empty() {
        return Err(error(sentence.line, &sentence.id, Problem::NoWords));
    }
    if let Err(problem) = validate_tree(&sentence.words) {
        let word = match problem {
            Problem::HeadOutOfRange { word, .. } | Problem::Cycle(word) => word,
            _ => 1,
        };
        return Err(error(head_lines[word - 1], &sentence.id, problem));
    }
    if sentence.id.is_none() {
        sentence.id = Some(format!("{stem}.{index}"));
    }
    Ok(sentence)
}

/// Reads one word line (10 tab-separated columns) into `sentence`: a word (true), or a
/// multiword-token range or an empty node (false).
fn read_line(sentence: &mut DepSentence, line: &str) -> Result<bool, Problem> {
    let cols: Vec<&str> = line.split('\t').collect();
    if cols.len() != 10 {
        return Err(Problem::ColumnCount {
            expected: 10,
            found: cols.len(),
        });
    }
    let space_after = !cols[9].split('|').any(|f| f == "SpaceAfter=No");
    let bad_id = || Problem::BadId(cols[0].to_string());
    if let Some((first, last)) = cols[0].split_once('-') {
        let (Ok(first), Ok(last)) = (first.parse::<usize>(), last.parse::<usize>()) else {
            return Err(bad_id());
        };
        if first == 0 || last < first {
            return Err(bad_id());
        }
        sentence.multiword.push(MultiwordToken {
            first,
            last,
            form: cols[1].to_string(),
            space_after,
        });
        return Ok(false);
    }
    if let Some((word, sub)) = cols[0].split_once('.') {
        if word.parse::<usize>().is_err() || sub.parse::<usize>().is_err() {
            return Err(bad_id());
        }
        sentence.empty_nodes += 1;
        return Ok(false);
    }
    let Ok(id) = cols[0].parse::<usize>() else {
        return Err(bad_id());
    };
    let expected = sentence.words.len() + 1;
    if id != expected {
        return Err(Problem::IdSequence {
            expected,
            found: id,
        });
    }
    for (col, name) in [(1, "FORM"), (7, "DEPREL")] {
        if cols[col].is_empty() || (col == 7 && cols[col] == "_") {
            return Err(Problem::EmptyField(name));
        }
    }
    let Ok(head) = cols[6].parse::<usize>() else {
        return Err(Problem::BadHead(cols[6].to_string()));
    };
    sentence.words.push(DepWord {
        form: cols[1].to_string(),
        lemma: cols[2].to_string(),
        head,
        deprel: cols[7].to_string(),
        space_after,
    });
    Ok(true)
}
