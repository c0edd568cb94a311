//! The `docre-gain` binary end to end: generate → split → train → predict → eval, and errors.

use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_docre-gain"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn ok(args: &[&str]) -> String {
    let output = run(args);
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

#[test]
fn train_predict_eval_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let all = path(d, "all.json");
    ok(&["generate", "--docs", "30", "--seed", "5", "--out", &all]);
    let (train, dev) = (path(d, "train.json"), path(d, "dev.json"));
    ok(&[
        "split",
        "--input",
        &all,
        "--dev-docs",
        "6",
        "--train-out",
        &train,
        "--dev-out",
        &dev,
    ]);
    let run_dir = path(d, "run");
    ok(&[
        "train",
        "--train",
        &train,
        "--dev",
        &dev,
        "--encoder",
        "tiny",
        "--out",
        &run_dir,
        "--epochs",
        "2",
        "--batch-size",
        "4",
        "--tiny-hidden",
        "16",
        "--tiny-layers",
        "1",
        "--embedding-dim",
        "4",
        "--dropout",
        "0.1",
    ]);
    for file in [
        "model.json",
        "tokenizer.json",
        "config.json",
        "metrics.jsonl",
        "best/model.safetensors",
        "best/state.json",
    ] {
        assert!(d.join("run").join(file).exists(), "missing {file}");
    }
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("run/best/state.json")).unwrap())
            .unwrap();
    let best = &state["best"]["metrics"];
    let theta = best["theta"].as_f64().unwrap();

    // Every candidate with a score: `eval` sweeps θ and finds the training run's dev F1.
    let scored = path(d, "scored.json");
    ok(&[
        "predict", "--model", &run_dir, "--input", &dev, "--out", &scored, "--all",
    ]);
    let report: serde_json::Value = serde_json::from_str(&ok(&[
        "eval",
        "--gold",
        &dev,
        "--pred",
        &scored,
        "--train-facts",
        &train,
        "--json",
    ]))
    .unwrap();
    assert!((report["best_f1"].as_f64().unwrap() - best["f1"].as_f64().unwrap()).abs() < 1e-6);
    assert!((report["theta"].as_f64().unwrap() - theta).abs() < 1e-6);

    // With the dev θ: the submission is the sweep's best cut-off.
    let submission = path(d, "result.json");
    ok(&[
        "predict",
        "--model",
        &run_dir,
        "--input",
        &dev,
        "--out",
        &submission,
    ]);
    let predictions: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&submission).unwrap()).unwrap();
    assert!(
        predictions
            .iter()
            .all(|p| p["score"].as_f64().unwrap() >= theta)
    );
    for key in ["title", "h_idx", "t_idx", "r"] {
        assert!(predictions.iter().all(|p| p.get(key).is_some()), "{key}");
    }
    let report: serde_json::Value = serde_json::from_str(&ok(&[
        "eval",
        "--gold",
        &dev,
        "--pred",
        &submission,
        "--json",
    ]))
    .unwrap();
    assert!((report["f1"].as_f64().unwrap() - best["f1"].as_f64().unwrap()).abs() < 1e-6);
}

#[test]
fn bad_inputs_are_named_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bad = path(d, "bad.json");
    std::fs::write(
        &bad,
        r#"[{"title": "Broken", "sents": [["A", "b"]], "vertexSet": [[{"name": "A", "sent_id": 0, "pos": [0, 3], "type": "PER"}]], "labels": []}]"#,
    )
    .unwrap();
    let output = run(&[
        "train",
        "--train",
        &bad,
        "--dev",
        &bad,
        "--out",
        &path(d, "run"),
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.json") && stderr.contains("Broken"),
        "{stderr}"
    );

    let output = run(&[
        "predict",
        "--model",
        &path(d, "nowhere"),
        "--input",
        &bad,
        "--out",
        &path(d, "p.json"),
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("not a docre-gain run directory"),
        "{stderr}"
    );

    let all = path(d, "all.json");
    ok(&["generate", "--docs", "3", "--out", &all]);
    let output = run(&[
        "split",
        "--input",
        &all,
        "--dev-docs",
        "3",
        "--train-out",
        &path(d, "a"),
        "--dev-out",
        &path(d, "b"),
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--dev-docs 3") && stderr.contains("must be between 1 and 2"),
        "{stderr}"
    );
}

#[test]
fn experiment_writes_report_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("data")).unwrap();
    ok(&[
        "generate",
        "--docs",
        "16",
        "--seed",
        "3",
        "--out",
        &path(d, "data/dev_sample.json"),
    ]);
    let report = path(d, "results/docre-gain.md");
    ok(&[
        "experiment",
        "--data",
        &path(d, "data"),
        "--encoder",
        "tiny",
        "--out",
        &path(d, "run"),
        "--report",
        &report,
        "--epochs",
        "1",
        "--lstm-epochs",
        "2",
        "--dev-docs",
        "4",
        "--test-docs",
        "4",
        "--batch-size",
        "4",
        "--tiny-hidden",
        "16",
        "--word-dim",
        "8",
        "--lstm-hidden",
        "8",
        "--embedding-dim",
        "4",
        "--seed",
        "7",
    ]);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("results/docre-gain.json")).unwrap())
            .unwrap();
    assert_eq!(json["train"]["documents"], 8);
    assert_eq!(json["dev"]["documents"], 4);
    assert_eq!(json["test"]["documents"], 4);
    assert_eq!(json["seed"], 7);
    assert!(json["threads"].as_u64().unwrap() >= 1);
    assert!(json["wall_s"].as_f64().unwrap() > 0.0);
    assert_eq!(json["paper_dev"][1]["f1"].as_f64(), Some(0.6122));
    let results = json["results"].as_array().unwrap();
    let variants: Vec<&str> = results
        .iter()
        .map(|r| r["variant"].as_str().unwrap())
        .collect();
    assert_eq!(variants, ["gain-bert", "gain-bilstm"]);
    assert_eq!(results[0]["epochs"], 1);
    assert_eq!(results[1]["epochs"], 2);
    assert_eq!(results[1]["steps"], 4);
    let test_gold = json["test"]["facts"].as_u64().unwrap();
    assert!(test_gold > 0);
    for r in results {
        for key in [
            "precision",
            "recall",
            "f1",
            "ign_f1",
            "theta",
            "dev_f1",
            "oracle_f1",
            "oracle_theta",
            "oracle_ign_f1",
            "auc",
            "ign_auc",
        ] {
            let v = r[key].as_f64().unwrap_or_else(|| panic!("{key}: {r}"));
            assert!((0.0..=1.0).contains(&v), "{key} = {v}");
        }
        // The submission at the dev θ is one cut-off of the test sweep: at most its best.
        assert!(r["f1"].as_f64().unwrap() <= r["oracle_f1"].as_f64().unwrap() + 1e-6);
        let run = d.join("run").join(r["variant"].as_str().unwrap());
        for file in ["result.json", "scored.json", "best/state.json"] {
            assert!(run.join(file).exists(), "missing {file}");
        }
        // The recall is the correct count over the test facts.
        let recall = r["correct"].as_f64().unwrap() / test_gold as f64;
        assert!((r["recall"].as_f64().unwrap() - recall).abs() < 1e-9);
    }
    let markdown = std::fs::read_to_string(&report).unwrap();
    for needle in [
        "## Data",
        "## Settings",
        "## Results on the test portion",
        "## What these numbers mean",
        "| gain-bert | `tiny` | 1 |",
        "| gain-bilstm | `lstm` | 2 |",
        "| GAIN-BERT-base | 61.22 | 59.14 |",
        "| train | 8 |",
        "| dev | 4 |",
        "| test | 4 |",
        "experiment --data",
        "](docre-gain.svg)",
    ] {
        assert!(
            markdown.contains(needle),
            "missing {needle:?} in\n{markdown}"
        );
    }
    let r = &results[0];
    assert!(markdown.contains(&format!(
        "| gain-bert | {} | {:.4} | {} | {} | {} |",
        pct(r["dev_f1"].as_f64().unwrap()),
        r["theta"].as_f64().unwrap(),
        pct(r["precision"].as_f64().unwrap()),
        pct(r["recall"].as_f64().unwrap()),
        pct(r["f1"].as_f64().unwrap()),
    )));
    let svg = std::fs::read_to_string(d.join("results/docre-gain.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("gain-bilstm at the dev θ"));
    // The report may not be named like the files written beside it.
    let output = run(&[
        "experiment",
        "--data",
        &path(d, "data"),
        "--encoder",
        "tiny",
        "--out",
        &path(d, "run"),
        "--report",
        &path(d, "r.svg"),
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("is the markdown report"));
}

fn pct(v: f64) -> String {
    format!("{:.2}", 100.0 * v)
}

#[test]
fn demo_takes_the_shared_flags_and_a_seed() {
    let help = ok(&["demo", "--help"]);
    for flag in ["--json", "--out", "--seed"] {
        assert!(help.contains(flag), "{flag} missing from\n{help}");
    }
    let output = run(&["train", "--synthetic", "0", "--out", "x"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--synthetic"));
}
