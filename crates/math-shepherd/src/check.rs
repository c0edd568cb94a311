//! Checking answer extraction on a benchmark file: does each gold solution's extracted answer
//! equal the record's gold answer?

use std::path::Path;

use burnlp_core::data::read_jsonl;
use serde::{Deserialize, Serialize};

use crate::answer::{AnswerFormat, answers_equal, extract_answer, parse_number};
use crate::error::Result;

#[derive(Deserialize)]
struct Gsm8kRecord {
    answer: String,
}

#[derive(Deserialize)]
struct MathRecord {
    solution: String,
    answer: String,
}

/// A record whose extracted answer differs from its gold answer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Mismatch {
    /// 0-based record index in the file.
    pub index: usize,
    /// The answer extracted from the solution (`None`: nothing extractable).
    pub extracted: Option<String>,
    /// The gold answer.
    pub gold: String,
}

/// Result of [`check_answers`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AnswerReport {
    /// Records read.
    pub total: usize,
    /// Records whose extracted answer equals the gold answer.
    pub matched: usize,
    /// `matched / total`.
    pub share: f64,
    /// GSM8K only: records whose whole `answer` field (`####` line included) extracts to the
    /// gold answer — a parsing check of the marker, not of extraction from reasoning.
    pub marker_matched: Option<usize>,
    /// The records that do not match.
    pub mismatches: Vec<Mismatch>,
}

/// Extracts the answer of every gold solution in a GSM8K (`question`, `answer` with `#### X`)
/// or MATH (`problem`, `solution`, `answer`) JSON-lines file and compares it with the gold
/// answer.
///
/// For GSM8K the gold answer is the text after `####` and the extracted one comes from the
/// solution body **without** its `####` line (the last number of the reasoning, as a generated
/// solution without the marker is read), so a mismatch is a real extraction failure or a
/// solution whose last number is not its answer. `marker_matched` counts extraction from the
/// whole field, `####` included, which only checks the marker parsing and number
/// normalisation (it compares the gold with itself).
pub fn check_answers(path: &Path, format: AnswerFormat) -> Result<AnswerReport> {
    let pairs: Vec<(Option<String>, String, Option<bool>)> = match format {
        AnswerFormat::Gsm8k => read_jsonl::<Gsm8kRecord>(path)?
            .into_iter()
            .map(|r| {
                let (body, gold) = r.answer.rsplit_once("####").unwrap_or((&r.answer, ""));
                let gold = gold.trim().to_owned();
                let marker_ok = extract_answer(&r.answer, AnswerFormat::Gsm8k)
                    .is_some_and(|a| answers_equal(&a, &gold, format));
                (extract_answer(body, format), gold, Some(marker_ok))
            })
            .collect(),
        AnswerFormat::Math => read_jsonl::<MathRecord>(path)?
            .into_iter()
            .map(|r| (extract_answer(&r.solution, format), r.answer, None))
            .collect(),
    };
    let total = pairs.len();
    if total == 0 {
        return Err(crate::error::Error::Line {
            path: path.to_path_buf(),
            line: 1,
            message: "no records (an empty file)".into(),
        });
    }
    if format == AnswerFormat::Gsm8k {
        // A GSM8K gold answer is a number after `####`; anything else is a malformed record.
        for (index, (_, gold, _)) in pairs.iter().enumerate() {
            if parse_number(gold).is_none() {
                return Err(crate::error::Error::Record {
                    path: path.to_path_buf(),
                    record: index,
                    message: format!("the gold answer after `####` is `{gold}`, not a number"),
                });
            }
        }
    }
    let mut mismatches = Vec::new();
    let mut marker_matched = None;
    for (index, (extracted, gold, marker_ok)) in pairs.into_iter().enumerate() {
        if let Some(ok) = marker_ok {
            *marker_matched.get_or_insert(0) += usize::from(ok);
        }
        let ok = extracted
            .as_deref()
            .is_some_and(|a| !gold.is_empty() && answers_equal(a, &gold, format));
        if !ok {
            mismatches.push(Mismatch {
                index,
                extracted,
                gold,
            });
        }
    }
    let matched = total - mismatches.len();
    Ok(AnswerReport {
        total,
        matched,
        share: if total == 0 {
            0.0
        } else {
            matched as f64 / total as f64
        },
        marker_matched,
        mismatches,
    })
}
