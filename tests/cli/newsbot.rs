//! The `newsbot` binary end to end: help, a bad table named in the error, write → check on a
//! table written here, the chain's files, and the checker on the shared task.

use burnlp_cli_tests::{run, shared};

#[test]
fn every_subcommand_builds_its_help() {
    for sub in [
        "write",
        "check",
        "eval-check",
        "summarize",
        "train-summarizer",
        "speak",
        "translate",
        "run",
        "serve",
        "browser-check",
        "translation-experiment",
        "experiment",
        "demo",
    ] {
        let help = run("newsbot", &[sub, "--help"]).success();
        assert!(help.contains("Usage"), "{sub} --help:\n{help}");
    }
    let help = run("newsbot", &["write", "--help"]).success();
    for flag in ["--table", "--lang", "--seed", "--templates", "--game"] {
        assert!(help.contains(flag), "write --help lacks {flag}:\n{help}");
    }
}

const SOCCER: &str = r#"{"type": "soccer_match", "date": "2020-05-01", "home": "红队", "away": "蓝队", "home_score": 2, "away_score": 1,
 "events": [{"minute": 12, "kind": "goal", "team": "红队", "player": "张三"},
            {"minute": 55, "kind": "goal", "team": "蓝队", "player": "李四"},
            {"minute": 80, "kind": "goal", "team": "红队", "player": "张三"}]}"#;

#[test]
fn a_bad_table_is_an_error_naming_the_file_and_cell() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("bad.json");
    std::fs::write(
        &table,
        SOCCER.replace("\"minute\": 55", "\"minute\": \"late\""),
    )
    .unwrap();
    let stderr = run("newsbot", &["write", "--table", table.to_str().unwrap()]).failure();
    assert!(
        stderr.contains("bad.json") && stderr.contains("events[1].minute"),
        "{stderr}"
    );
    let stderr = run("newsbot", &["write", "--table", "/nonexistent/t.json"]).failure();
    assert!(stderr.contains("/nonexistent/t.json"), "{stderr}");
    let stderr = run(
        "newsbot",
        &["run", "--table", "x", "--out", "y", "--k", "0"],
    )
    .failure();
    assert!(stderr.contains("--k"), "{stderr}");
    let stderr = run("newsbot", &["serve", "--addr", "0.0.0.0:0"]).failure();
    assert!(stderr.contains("--public"), "{stderr}");
}

#[test]
fn write_is_seeded_and_keeps_provenance() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("match.json");
    std::fs::write(&table, SOCCER).unwrap();
    let t = table.to_str().unwrap();
    let a = run(
        "newsbot",
        &["write", "--table", t, "--lang", "zh", "--seed", "4"],
    )
    .success();
    let b = run(
        "newsbot",
        &["write", "--table", t, "--lang", "zh", "--seed", "4"],
    )
    .success();
    assert_eq!(a, b);
    assert!(a.starts_with("# ") && a.contains("张三"), "{a}");
    let json = run(
        "newsbot",
        &["write", "--table", t, "--lang", "en", "--json"],
    )
    .success();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["lang"], "en");
    assert!(
        v["title"]["cells"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "home_score")
    );
}

#[test]
fn the_chain_and_the_checker_run_on_a_shared_game() {
    let Some(path) = shared("datasets/data2text/rotowire/sample_orig_rotowire.json") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    run(
        "newsbot",
        &[
            "run",
            "--table",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .success();
    for f in ["article.md", "summary.md", "index.html"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    // No translator was given, so there is no translation; translate says what it needs.
    assert!(!out.join("translation.md").exists());
    let stderr = run("newsbot", &["translate", "--table", path.to_str().unwrap()]).failure();
    assert!(
        stderr.contains("--model") && stderr.contains("--endpoint"),
        "{stderr}"
    );
    let text = dir.path().join("report.txt");
    std::fs::write(
        &text,
        "The Orlando Magic defeated the Atlanta Hawks 95-88. Paul Millsap scored 30 points.",
    )
    .unwrap();
    let report = run(
        "newsbot",
        &[
            "check",
            "--table",
            path.to_str().unwrap(),
            "--text",
            text.to_str().unwrap(),
        ],
    )
    .success();
    assert!(
        report.contains("WORD `defeated`") && report.contains("NUMBER `30`"),
        "{report}"
    );
}

#[test]
fn the_checker_scores_the_shared_task() {
    let Some(dir) = shared("datasets/data2text/rotowire/accuracy_shared_task") else {
        return;
    };
    let out = run("newsbot", &["eval-check", "--task", dir.to_str().unwrap()]).success();
    assert!(
        out.contains("| NUMBER |") && out.contains("60 games"),
        "{out}"
    );
}
