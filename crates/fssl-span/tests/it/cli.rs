//! CLI tests: episodes → train → eval → predict on tiny data, and error messages.

use std::path::Path;
use std::process::{Command, Output};

use fssl_span::data::{Scheme, entities};
use fssl_span::eval::{Counts, micro};

/// `shared/datasets/<path>`, or return from the test with a printed reason when absent.
macro_rules! shared {
    ($path:expr) => {
        burnlp_core::require_shared!(format!("datasets/{}", $path))
    };
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fssl-span"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn episodes_train_eval_predict() {
    let dir = tempfile::tempdir().unwrap();
    let train = dir.path().join("train.jsonl");
    let dev = dir.path().join("dev.jsonl");
    let conll = shared!("conll2003/sample.txt").display().to_string();
    for (out, episodes, seed) in [(&train, "6", "1"), (&dev, "3", "2")] {
        ok(&[
            "episodes",
            "--from",
            "conll",
            &conll,
            "--n-way",
            "3",
            "--k-shot",
            "1",
            "--episodes",
            episodes,
            "--out",
            p(out),
            "--seed",
            seed,
        ]);
    }
    assert_eq!(std::fs::read_to_string(&train).unwrap().lines().count(), 6);
    let run_dir = dir.path().join("run");
    ok(&[
        "train",
        "--train",
        p(&train),
        "--dev",
        p(&dev),
        "--encoder",
        "tiny",
        "--out",
        p(&run_dir),
        "--max-steps",
        "4",
        "--eval-every",
        "2",
        "--hidden",
        "16",
        "--warmup-steps",
        "1",
        "--schedule-steps",
        "4",
        "--grad-accum",
        "1",
    ]);
    for file in [
        "model.json",
        "tokenizer.json",
        "metrics.jsonl",
        "best/model.safetensors",
    ] {
        assert!(run_dir.join(file).exists(), "{file} missing");
    }
    let json = ok(&[
        "eval",
        "--model",
        p(&run_dir),
        "--episodes",
        p(&dev),
        "--json",
    ]);
    let metrics: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    let f1 = metrics["f1"].as_f64().unwrap();
    assert!(
        (0.0..=1.0).contains(&f1) && metrics["precision"].is_f64() && metrics["recall"].is_f64()
    );
    assert_eq!(metrics["episodes"].as_f64(), Some(3.0));

    let predictions = dir.path().join("pred.jsonl");
    ok(&[
        "predict",
        "--model",
        p(&run_dir),
        "--episodes",
        p(&dev),
        "--out",
        p(&predictions),
    ]);
    let episodes = fssl_span::data::read_fewnerd(&dev).unwrap();
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&predictions)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        episodes.iter().map(|e| e.query.len()).sum::<usize>()
    );
    // The written tags reproduce the F1 that `eval` reports (BIO episodes: per-episode mean
    // is the default, so compare the micro F1).
    let mut total = Counts::default();
    for line in &lines {
        let tags =
            |key: &str| -> Vec<String> { serde_json::from_value(line[key].clone()).unwrap() };
        let (gold, pred) = (tags("gold"), tags("predicted"));
        assert_eq!(gold.len(), pred.len());
        total.add(Counts::of(
            &entities(&gold, Scheme::Bio),
            &entities(&pred, Scheme::Bio),
        ));
    }
    let micro_f1 = micro(&[total]).f1;
    assert!((micro_f1 - metrics["micro_f1"].as_f64().unwrap()).abs() < 1e-9);
}

#[test]
fn prototypical_baseline_trains_and_evaluates() {
    let dir = tempfile::tempdir().unwrap();
    let episodes = dir.path().join("e.jsonl");
    let conll = shared!("conll2003/sample.txt").display().to_string();
    ok(&[
        "episodes",
        "--from",
        "conll",
        &conll,
        "--n-way",
        "2",
        "--k-shot",
        "1",
        "--episodes",
        "3",
        "--out",
        p(&episodes),
    ]);
    let run_dir = dir.path().join("proto");
    ok(&[
        "train",
        "--train",
        p(&episodes),
        "--dev",
        p(&episodes),
        "--out",
        p(&run_dir),
        "--architecture",
        "proto",
        "--max-steps",
        "2",
        "--grad-accum",
        "1",
        "--f1",
        "micro",
    ]);
    let json = ok(&[
        "eval",
        "--model",
        p(&run_dir),
        "--episodes",
        p(&episodes),
        "--json",
        "--f1",
        "micro",
    ]);
    let metrics: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(metrics["f1"], metrics["micro_f1"]);
}

#[test]
fn errors_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["eval", "--model", p(dir.path()), "--episodes", "x.jsonl"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is not a fssl-span run directory"),
        "{stderr}"
    );

    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"support\": {}}\n").unwrap();
    let out = run(&[
        "train",
        "--train",
        p(&bad),
        "--dev",
        p(&bad),
        "--out",
        p(&dir.path().join("r")),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("bad.jsonl") && stderr.contains("line 1"),
        "{stderr}"
    );

    let out = run(&[
        "episodes",
        "--from",
        "bio",
        p(dir.path()),
        "--out",
        p(&dir.path().join("e.jsonl")),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("seq.in"),
        "{stderr}"
    );
}

#[test]
fn ten_way_episodes_are_resampled_from_an_episode_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = shared!("fewnerd/inter_dev_5_1_sample.jsonl")
        .display()
        .to_string();
    let out = dir.path().join("10_5.jsonl");
    ok(&[
        "episodes",
        "--from",
        "episodes",
        &input,
        "--n-way",
        "10",
        "--k-shot",
        "5",
        "--episodes",
        "3",
        "--out",
        p(&out),
    ]);
    let episodes = fssl_span::data::read_fewnerd(&out).unwrap();
    assert_eq!(episodes.len(), 3);
    for e in &episodes {
        assert_eq!(e.types.len(), 10);
        for set in [&e.support, &e.query] {
            let mut mentions = std::collections::BTreeMap::<String, usize>::new();
            for s in set.iter() {
                for x in entities(&s.tags, Scheme::Io) {
                    *mentions.entry(x.label).or_default() += 1;
                }
            }
            assert_eq!(mentions.len(), 10, "{mentions:?}");
            assert!(
                mentions.values().all(|&n| (5..=10).contains(&n)),
                "{mentions:?}"
            );
        }
    }
}
