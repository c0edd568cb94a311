//! The `text-cls` binary end to end: train on synthetic data, evaluate, predict, resume.

fn text_cls(args: &[&str]) -> std::process::Output {
    burnlp_cli_tests::run("text-cls", args).output
}

fn write_tsv(path: &std::path::Path, rows: &[(&str, &str)]) {
    let mut text = String::from("sentence\tlabel\n");
    for (sentence, label) in rows {
        text.push_str(&format!("{sentence}\t{label}\n"));
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn train_eval_predict_on_synthetic_negation() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let run_str = run.to_str().unwrap();
    let out = text_cls(&[
        "train",
        "--synthetic",
        "1600",
        "--epochs",
        "3",
        "--lr",
        "2e-3",
        "--max-length",
        "32",
        "--out",
        run_str,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in [
        "model.json",
        "tokenizer.json",
        "best/model.safetensors",
        "metrics.jsonl",
    ] {
        assert!(run.join(file).exists(), "{file} missing");
    }

    // Sentences of the generator's grammar, some of which the training sample lacks.
    let data = dir.path().join("dev.tsv");
    write_tsv(
        &data,
        &[
            ("the concert was not great", "negative"),
            ("the concert was really great", "positive"),
            ("our trip was never boring", "positive"),
            ("our trip was very boring", "negative"),
            ("this book was not bad overall", "positive"),
            ("this book was truly awful", "negative"),
        ],
    );
    let data_str = data.to_str().unwrap();
    let out = text_cls(&["eval", "--model", run_str, "--data", data_str, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metrics: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        metrics["accuracy"].as_f64().unwrap() >= 5.0 / 6.0,
        "{metrics}"
    );

    let predictions = dir.path().join("pred.jsonl");
    let out = text_cls(&[
        "predict",
        "--model",
        run_str,
        "--input",
        data_str,
        "--out",
        predictions.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = std::fs::read_to_string(&predictions).unwrap();
    assert_eq!(lines.lines().count(), 6);
    let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert!(first["probabilities"]["negative"].as_f64().is_some());
}

#[test]
fn bad_input_names_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("bad.tsv");
    std::fs::write(&data, "text\tgold\nfine\t1\n").unwrap();
    let out = text_cls(&[
        "train",
        "--train",
        data.to_str().unwrap(),
        "--dev",
        data.to_str().unwrap(),
        "--out",
        dir.path().join("run").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no column `sentence`") && stderr.contains("bad.tsv"),
        "{stderr}"
    );
}
