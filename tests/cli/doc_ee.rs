//! The `doc-ee` binary end to end: help, the scorer's JSON on a hand-written RAMS pair, a bad
//! prediction line named in the error, and split → train → predict → score on a slice of the
//! shared RAMS dev file.

use burnlp_cli_tests::{run, shared};

#[test]
fn every_subcommand_builds_its_help() {
    for sub in [
        "score", "convert", "split", "train", "predict", "eval", "demo",
    ] {
        let help = run("doc-ee", &[sub, "--help"]).success();
        assert!(help.contains("Usage"), "{sub} --help:\n{help}");
    }
    let help = run("doc-ee", &["score", "--help"]).success();
    for flag in [
        "--dataset",
        "--gold",
        "--pred",
        "--heads",
        "--parser",
        "--coref",
        "--window",
        "--json",
    ] {
        assert!(help.contains(flag), "score --help lacks {flag}:\n{help}");
    }
    let help = run("doc-ee", &["train", "--help"]).success();
    for flag in [
        "--graphs",
        "--encoder",
        "--gold-spans-at-eval",
        "--no-local-stream",
        "--meta",
    ] {
        assert!(help.contains(flag), "train --help lacks {flag}:\n{help}");
    }
}

const GOLD: &str = r#"{"doc_key": "d1", "sentences": [["Rebels", "shelled", "the", "base", "."]], "evt_triggers": [[1, 1, [["conflict.attack.n/a", 1.0]]]], "gold_evt_links": [[[1, 1], [0, 0], "evt004arg01attacker"], [[1, 1], [2, 3], "evt004arg02target"]]}"#;

#[test]
fn score_prints_the_issue_json_shape() {
    let dir = tempfile::tempdir().unwrap();
    let gold = dir.path().join("gold.jsonlines");
    std::fs::write(&gold, format!("{GOLD}\n")).unwrap();
    let pred = dir.path().join("pred.jsonlines");
    // One right (attacker), one wrong role on the right span (target as attacker).
    std::fs::write(
        &pred,
        "{\"doc_key\": \"d1\", \"predictions\": [[[1, 1], [0, 0, \"attacker\", 1.0], [2, 3, \"attacker\", 1.0]]]}\n",
    )
    .unwrap();
    let out = run(
        "doc-ee",
        &[
            "score",
            "--dataset",
            "rams",
            "--gold",
            gold.to_str().unwrap(),
            "--pred",
            pred.to_str().unwrap(),
            "--json",
        ],
    )
    .success();
    let value: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(value["arg_c"]["span"]["tp"], 1);
    assert_eq!(value["arg_c"]["span"]["p"], 0.5);
    assert_eq!(value["arg_c"]["span"]["r"], 0.5);
    assert_eq!(value["arg_i"]["span"]["f1"], 1.0);
    assert!(
        value["arg_c"].get("coref").is_none(),
        "RAMS has no coref variant: {value}"
    );
    // Last-token heads: base (3) for both spans of the wrong-role prediction.
    assert_eq!(value["arg_c"]["head"]["tp"], 1);

    std::fs::write(&pred, "{\"doc_key\": \"d1\", \"predictions\": [[[1, 1]]]}\n{\"doc_key\": \"nope\", \"predictions\": []}\n").unwrap();
    let err = run(
        "doc-ee",
        &[
            "score",
            "--dataset",
            "rams",
            "--gold",
            gold.to_str().unwrap(),
            "--pred",
            pred.to_str().unwrap(),
        ],
    )
    .failure();
    assert!(
        err.contains("line 2") && err.contains("unknown doc_key"),
        "{err}"
    );
}

#[test]
fn split_train_predict_and_score_a_slice_of_rams_dev() {
    let Some(rams) = shared("datasets/rams/dev.jsonlines") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    run(
        "doc-ee",
        &[
            "split",
            "--input",
            rams.to_str().unwrap(),
            "--first",
            "8",
            "--out-first",
            &p("head.jsonl"),
            "--out-rest",
            &p("rest.jsonl"),
        ],
    )
    .success();
    run(
        "doc-ee",
        &[
            "split",
            "--input",
            &p("head.jsonl"),
            "--first",
            "6",
            "--out-first",
            &p("train.jsonl"),
            "--out-rest",
            &p("dev.jsonl"),
        ],
    )
    .success();
    run(
        "doc-ee",
        &[
            "train",
            "--dataset",
            "rams",
            "--train",
            &p("train.jsonl"),
            "--dev",
            &p("dev.jsonl"),
            "--out",
            &p("run"),
            "--epochs",
            "1",
            "--batch-size",
            "2",
            "--tiny-hidden",
            "16",
            "--tiny-layers",
            "1",
            "--gcn-layers",
            "1",
            "--event-dim",
            "8",
            "--max-len",
            "256",
        ],
    )
    .success();
    run(
        "doc-ee",
        &[
            "predict",
            "--dataset",
            "rams",
            "--model",
            &p("run"),
            "--input",
            &p("dev.jsonl"),
            "--out",
            &p("pred.jsonl"),
        ],
    )
    .success();
    let out = run(
        "doc-ee",
        &[
            "score",
            "--dataset",
            "rams",
            "--gold",
            &p("dev.jsonl"),
            "--pred",
            &p("pred.jsonl"),
            "--json",
        ],
    )
    .success();
    let value: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(
        value["arg_c"]["span"]["gold"].as_u64().unwrap() > 0,
        "{value}"
    );
}
