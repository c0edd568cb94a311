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
fn gsm8k_gold_answers_are_extracted() {
    for file in ["gsm8k/test_sample.jsonl", "gsm8k/train.jsonl"] {
        let report = check_answers(&shared!(file), AnswerFormat::Gsm8k).unwrap();
        assert!(report.total >= 300, "{file}: {}", report.total);
        assert_eq!(
            report.matched,
            report.total,
            "{file}: {:?}",
            &report.mismatches[..3.min(report.mismatches.len())]
        );
        // Without the `####` line the last number of the body is the answer in 97% of cases.
        let body = report.body_matched.unwrap() as f64 / report.total as f64;
        assert!(body > 0.95, "{file}: body share {body}");
    }
}

#[test]
fn math500_boxed_answers_are_extracted() {
    let report = check_answers(&shared!("math500/test_sample.jsonl"), AnswerFormat::Math).unwrap();
    assert_eq!(report.total, 250);
    assert_eq!(report.matched, 250, "{:?}", report.mismatches);
    assert_eq!(report.body_matched, None);
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
