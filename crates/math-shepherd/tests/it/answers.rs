//! Answer extraction on every record of the shared GSM8K and MATH-500 files, PRM800K
//! conversion of the shared record, and the `answers` CLI.

use std::process::Command;

use math_shepherd::AnswerFormat;
use math_shepherd::annotate::{labels_from_text, tagged_steps};
use math_shepherd::check_answers;
use math_shepherd::prm800k::convert_prm800k;

/// `shared/datasets/<path>`, or return from the test with a printed reason when absent.
macro_rules! shared {
    ($path:expr) => {
        burnlp_core::require_shared!(format!("datasets/{}", $path))
    };
}

#[test]
fn gsm8k_answers_are_extracted_from_the_reasoning() {
    // The extracted answer comes from the solution WITHOUT its `#### X` line, so the check is
    // not the gold compared with itself: it fails where the last number of the reasoning is
    // not the answer. Measured: 295/300 (test sample) and 7264/7473 (train).
    for (file, expected) in [
        ("gsm8k/test_sample.jsonl", 295),
        ("gsm8k/train.jsonl", 7264),
    ] {
        let report = check_answers(&shared!(file), AnswerFormat::Gsm8k).unwrap();
        assert!(report.total >= 300, "{file}: {}", report.total);
        assert_eq!(report.matched, expected, "{file}");
        assert_eq!(report.mismatches.len(), report.total - expected);
        for m in &report.mismatches {
            assert!(!m.gold.is_empty());
            if let Some(extracted) = &m.extracted {
                assert!(
                    !math_shepherd::answers_equal(extracted, &m.gold, AnswerFormat::Gsm8k),
                    "{m:?}"
                );
            }
        }
        // The `####` marker itself always parses.
        assert_eq!(report.marker_matched, Some(report.total), "{file}");
    }
    // By hand, record 0 of the test sample (Janet's ducks): "... 9 * 2 = $<<9*2=18>>18 every
    // day at the farmer's market." then "#### 18".
    let report = check_answers(&shared!("gsm8k/test_sample.jsonl"), AnswerFormat::Gsm8k).unwrap();
    assert!(report.mismatches.iter().all(|m| m.index != 0));
}

#[test]
fn gsm8k_extraction_can_fail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mini.jsonl");
    std::fs::write(
        &path,
        concat!(
            "{\"question\": \"q1\", \"answer\": \"3 + 4 = <<3+4=7>>7 apples, and 2 are red.\\n#### 7\"}\n",
            "{\"question\": \"q2\", \"answer\": \"She pays 1,000 + 234 = $1,234.\\n#### 1234\"}\n",
            "{\"question\": \"q3\", \"answer\": \"No number at all.\\n#### 5\"}\n",
        ),
    )
    .unwrap();
    let report = check_answers(&path, AnswerFormat::Gsm8k).unwrap();
    assert_eq!((report.total, report.matched), (3, 1));
    assert_eq!(report.mismatches[0].index, 0);
    assert_eq!(report.mismatches[0].extracted.as_deref(), Some("2"));
    assert_eq!(report.mismatches[1].index, 2);
    assert_eq!(report.mismatches[1].extracted, None);
    assert_eq!(report.marker_matched, Some(3));
}

#[test]
fn math500_boxed_answers_are_extracted() {
    let report = check_answers(&shared!("math500/test_sample.jsonl"), AnswerFormat::Math).unwrap();
    assert_eq!(report.total, 250);
    assert_eq!(report.matched, 250, "{:?}", report.mismatches);
    assert_eq!(report.marker_matched, None);
}

#[test]
fn bad_file_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    std::fs::write(
        &path,
        "{\"question\": \"q\", \"answer\": \"#### 1\"}\n{\"question\": 3}\n",
    )
    .unwrap();
    let message = check_answers(&path, AnswerFormat::Gsm8k)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("bad.jsonl") && message.contains("line 2"),
        "{message}"
    );
}

#[test]
fn prm800k_record_converts() {
    for file in [
        "prm800k/prm800k-phase2-train-example.jsonl",
        "prm800k/prm800k-phase2-train-example.oneline.jsonl",
    ] {
        let records = convert_prm800k(&shared!(file), true).unwrap();
        assert!(!records.is_empty());
        let first = &records[0];
        let labels = labels_from_text(&first.input, &first.label).unwrap();
        assert_eq!(labels.len(), first.hard.len());
        // The first record: 12 good pre-generated steps, then the error the labeler found.
        assert!(
            first
                .input
                .starts_with("A Senate committee has 5 Democrats")
        );
        assert_eq!(labels.last(), Some(&false));
        let question = first.input.split(" I notice").next().unwrap();
        let steps = tagged_steps(&first.input, question).unwrap();
        assert_eq!(steps.len(), labels.len());
        assert_eq!(
            steps[0],
            "I notice that there are three groups of people: Democrats, Republicans, and Independent."
        );
    }
    let pretty =
        convert_prm800k(&shared!("prm800k/prm800k-phase2-train-example.jsonl"), true).unwrap();
    let oneline = convert_prm800k(
        &shared!("prm800k/prm800k-phase2-train-example.oneline.jsonl"),
        true,
    )
    .unwrap();
    assert_eq!(pretty[0], oneline[0]);
}

#[test]
fn answers_cli_reports_json() {
    let output = Command::new(env!("CARGO_BIN_EXE_math-shepherd"))
        .args(["answers", "--format", "math", "--json"])
        .arg(shared!("math500/test_sample.jsonl"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["total"], 250);
    assert_eq!(report["matched"], 250);
    let missing = Command::new(env!("CARGO_BIN_EXE_math-shepherd"))
        .args(["answers", "--format", "gsm8k", "/nonexistent.jsonl"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nonexistent.jsonl"));
}

/// A GSM8K record whose gold answer is not a number, and an empty file, are errors naming the
/// file (they used to score 1/1 and 0/0 with exit 0).
#[test]
fn non_numeric_gold_answers_and_empty_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let words = dir.path().join("words.jsonl");
    std::fs::write(
        &words,
        "{\"question\":\"q\",\"answer\":\"2\\n#### 2\"}\n{\"question\":\"q\",\"answer\":\"x\\n#### five\"}\n",
    )
    .unwrap();
    let error = check_answers(&words, AnswerFormat::Gsm8k)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("words.jsonl record 1") && error.contains("`five`"),
        "{error}"
    );
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    for format in [AnswerFormat::Gsm8k, AnswerFormat::Math] {
        let error = check_answers(&empty, format).unwrap_err().to_string();
        assert!(
            error.contains("empty.jsonl") && error.contains("no records"),
            "{error}"
        );
    }
}
