//! The `amr-aux` command line: smatch, penman check/format and demo.

use std::process::Command;

fn amr_aux() -> Command {
    Command::new(env!("CARGO_BIN_EXE_amr-aux"))
}

fn json_output(command: &mut Command) -> serde_json::Value {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn smatch_json_reports_fractions_and_counts() {
    let row = json_output(
        amr_aux()
            .args(["smatch", "--json", "--per-pair", "--seed", "5"])
            .args([
                "--gold".as_ref(),
                shared!("smatch_test_input2.txt").as_os_str(),
                "--pred".as_ref(),
                shared!("smatch_test_input1.txt").as_os_str(),
            ]),
    );
    assert_eq!(
        (row["matched"].as_u64(), row["test_triples"].as_u64()),
        (Some(25), Some(30))
    );
    assert_eq!(row["gold_triples"].as_u64(), Some(29));
    assert!((row["precision"].as_f64().unwrap() - 25.0 / 30.0).abs() < 1e-12);
    assert!((row["recall"].as_f64().unwrap() - 25.0 / 29.0).abs() < 1e-12);
    assert!((row["f1"].as_f64().unwrap() - 50.0 / 59.0).abs() < 1e-12);
    assert_eq!(row["per_pair"].as_array().unwrap().len(), 3);
    assert_eq!(row["per_pair"][1]["matched"].as_u64(), Some(4));

    let row = json_output(amr_aux().args(["smatch", "--json", "--fine"]).args([
        "--gold".as_ref(),
        shared!("smatch_test_input2.txt").as_os_str(),
        "--pred".as_ref(),
        shared!("smatch_test_input1.txt").as_os_str(),
    ]));
    let fine = row["fine"].as_object().unwrap();
    assert_eq!(fine.len(), 9);
    assert_eq!(fine["Smatch"]["f1"], row["f1"]);
    // The third pair differs only in the case and quoting of a name: identical concepts.
    assert_eq!(fine["Named Ent."]["matched"].as_u64(), Some(2));
    assert!(fine["Unlabeled"]["f1"].as_f64() >= row["f1"].as_f64());
}

#[test]
fn smatch_text_output_and_count_mismatch() {
    let output = amr_aux()
        .args(["smatch", "--gold"])
        .arg(shared!("smatch_test_input2.txt"))
        .arg("--pred")
        .arg(shared!("smatch_test_input1.txt"))
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("F-score: 0.8475"));

    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.txt");
    std::fs::write(&one, "(a / b)\n").unwrap();
    let output = amr_aux()
        .args(["smatch", "--gold"])
        .arg(shared!("smatch_test_input2.txt"))
        .arg("--pred")
        .arg(&one)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the test file has 1 graphs but the gold file has 3"),
        "{stderr}"
    );
}

#[test]
fn penman_check_counts_graphs_and_locates_errors() {
    let row = json_output(
        amr_aux()
            .args(["penman", "check", "--json"])
            .arg(shared!("little_prince_v1.6.txt")),
    );
    assert_eq!(row["graphs"].as_u64(), Some(1562));
    assert_eq!(row["ok"].as_bool(), Some(true));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.txt");
    std::fs::write(
        &bad,
        "# ::id x1\n(a / b)\n\n# ::id x2\n(a / b\n  :ARG0 (c / d)\n",
    )
    .unwrap();
    let output = amr_aux()
        .args(["penman", "check", "--json"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let row: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(row["graph"].as_str(), Some("graph `x2`"));
    assert_eq!(
        (row["line"].as_u64(), row["column"].as_u64()),
        (Some(7), Some(1))
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("graph `x2`, line 7:1: unexpected end of input"),
        "{stderr}"
    );
}

#[test]
fn penman_format_round_trips() {
    let output = amr_aux()
        .args(["penman", "format"])
        .arg(shared!("smatch_test_input1.txt"))
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let original = amr_aux::read_amr_file(&shared!("smatch_test_input1.txt")).unwrap();
    assert_eq!(amr_aux::parse_amrs(&text).unwrap(), original);
    assert!(text.contains("(w / want-01\n      :ARG0 (b / boy)\n      :ARG1 (b2 / believe-01\n            :ARG0 (g / girl)"));
}

#[test]
fn demo_reaches_its_target_and_writes_results() {
    let dir = tempfile::tempdir().unwrap();
    let row = json_output(
        amr_aux()
            .args(["demo", "--json", "--smatch-only", "--out"])
            .arg(dir.path()),
    );
    assert_eq!(row["task"].as_str(), Some("amr-aux"));
    assert_eq!(row["metric"].as_str(), Some("smatch_f1"));
    assert!((row["score"].as_f64().unwrap() - 94.0 / 110.0).abs() < 1e-12);
    assert_eq!(row["score"], row["target"]);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("smatch.json")).unwrap())
            .unwrap();
    assert_eq!(saved["proven_optimal"].as_u64(), Some(4));
}

#[test]
fn help_describes_the_commands() {
    let output = amr_aux().arg("--help").output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for command in ["smatch", "penman", "demo"] {
        assert!(help.contains(command), "{help}");
    }
    let output = amr_aux().args(["smatch", "--help"]).output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(
        help.contains("--restarts") && help.contains("--exact-budget"),
        "{help}"
    );
}

#[test]
fn empty_or_prose_files_fail_instead_of_scoring_zero() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.txt");
    let prose = dir.path().join("prose.txt");
    std::fs::write(&empty, "").unwrap();
    std::fs::write(&prose, "This is prose.\nMore prose.\n").unwrap();
    for (gold, pred) in [(&empty, &empty), (&prose, &prose)] {
        let output = amr_aux()
            .args(["smatch", "--gold"])
            .arg(gold)
            .arg("--pred")
            .arg(pred)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert!(stderr.contains("no AMR graph"), "{stderr}");
    }
    let output = amr_aux()
        .args(["penman", "check"])
        .arg(&prose)
        .output()
        .unwrap();
    assert!(!output.status.success());
}
