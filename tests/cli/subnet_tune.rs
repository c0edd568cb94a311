//! The `subnet-tune` binary end to end: train with Child-Tuning_D on a small TSV, inspect its
//! masks, evaluate and predict; bad input named.

use burnlp_cli_tests::run;

/// A small sentiment TSV (SST-2's columns) in the pattern `the X was (not) good/bad`.
fn write_sst2(path: &std::path::Path, n: usize, offset: usize) {
    let nouns = [
        "film", "meal", "trip", "book", "show", "game", "song", "play",
    ];
    let mut text = String::from("sentence\tlabel\n");
    for i in offset..offset + n {
        let noun = nouns[i % nouns.len()];
        let good = (i / nouns.len()).is_multiple_of(2);
        let negated = !(i / (2 * nouns.len())).is_multiple_of(2);
        let word = if good { "good" } else { "bad" };
        let not = if negated { "not " } else { "" };
        let label = u8::from(good != negated);
        text.push_str(&format!("the {noun} {i} was {not}{word}\t{label}\n"));
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn train_masks_eval_predict_with_child_tuning_d() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    write_sst2(&dir.path().join("train.tsv"), 96, 0);
    write_sst2(&dir.path().join("dev.tsv"), 32, 96);
    let run_dir = path("run");
    let args = [
        "train",
        "--task",
        "sst2",
        "--train",
        &path("train.tsv"),
        "--dev",
        &path("dev.tsv"),
        "--strategy",
        "child-d",
        "--p-d",
        "0.2",
        "--epochs",
        "2",
        "--max-length",
        "16",
        "--out",
        &run_dir,
    ];
    run("subnet-tune", &args).success();
    let masks = run("subnet-tune", &["masks", "--run", &run_dir]).success();
    assert!(
        masks.contains("layer 00") && masks.contains("overall"),
        "{masks}"
    );
    let eval = run(
        "subnet-tune",
        &[
            "eval",
            "--model",
            &run_dir,
            "--task",
            "sst2",
            "--data",
            &path("dev.tsv"),
            "--json",
        ],
    )
    .success();
    let metrics: serde_json::Value = serde_json::from_str(&eval).unwrap();
    for metric in ["accuracy", "mcc", "f1"] {
        assert!(metrics["all"][metric].is_number(), "{metric}: {metrics}");
    }
    run(
        "subnet-tune",
        &[
            "predict",
            "--model",
            &run_dir,
            "--task",
            "sst2",
            "--input",
            &path("dev.tsv"),
            "--out",
            &path("pred.jsonl"),
        ],
    )
    .success();
    let predictions = std::fs::read_to_string(path("pred.jsonl")).unwrap();
    assert_eq!(predictions.lines().count(), 32);
}

#[test]
fn subnet_tune_bad_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.tsv");
    std::fs::write(&bad, "text\tgold\nfine\t1\n").unwrap();
    let bad = bad.to_str().unwrap();
    let out = dir.path().join("run");
    let stderr = run(
        "subnet-tune",
        &[
            "train",
            "--task",
            "sst2",
            "--train",
            bad,
            "--dev",
            bad,
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .failure();
    assert!(
        stderr.contains("no column `sentence`") && stderr.contains("bad.tsv"),
        "{stderr}"
    );
    let stderr = run(
        "subnet-tune",
        &[
            "train", "--task", "sst2", "--train", bad, "--dev", bad, "--out", "x", "--k", "1",
        ],
    )
    .failure();
    assert!(
        stderr.contains("--k") && stderr.contains("at least 2"),
        "{stderr}"
    );
}
