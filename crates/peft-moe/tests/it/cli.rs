//! The `peft-moe` binary: the official-log pipeline, the model pipeline on synthetic data and
//! error cases.

use std::path::Path;
use std::process::{Command, Output};

fn peft_moe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_peft-moe"))
        .args(args)
        .output()
        .expect("runs")
}

fn ok(args: &[&str]) -> String {
    let out = peft_moe(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(args: &[&str], needle: &str) {
    let out = peft_moe(args);
    assert!(!out.status.success(), "{args:?} should fail");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(needle), "{args:?}: `{needle}` not in {err}");
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn official_logs_to_expert_config() {
    let esft = burnlp_core::require_shared!("datasets/esft/intent");
    let logs = esft.join("expert_scores");
    let logs = logs.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let stats = dir.path().join("stats");
    let out = ok(&[
        "route-stats",
        "--from-logs",
        logs,
        "--out",
        stats.to_str().unwrap(),
    ]);
    assert_eq!(
        out.lines().count(),
        3,
        "one concentration row per logged layer"
    );
    let ours = json(&stats.join("summary.json"));
    let official = json(&esft.join("expert_scores/summary.json"));
    for layer in ["1", "13", "26"] {
        assert_eq!(ours["token_scores"][layer], official["token_scores"][layer]);
        assert_eq!(ours["gate_scores"][layer], official["gate_scores"][layer]);
    }
    assert!(
        std::fs::read_to_string(stats.join("heatmap_token_scores.svg"))
            .unwrap()
            .starts_with("<svg")
    );
    let cfg = dir.path().join("experts.json");
    ok(&[
        "select",
        "--stats",
        logs,
        "--score",
        "token",
        "--p",
        "0.2",
        "--out",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(json(&cfg), json(&esft.join("expert_config.json")));
}

#[test]
fn synthetic_model_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    ok(&["data", "--out", &p("data"), "--train", "64", "--test", "8"]);
    let train = ok(&[
        "train",
        "--init",
        "tiny",
        "--data",
        &p("data/rev.train.jsonl"),
        &p("data/add.train.jsonl"),
        "--dev",
        &p("data/rev.test.jsonl"),
        "--steps",
        "3",
        "--batch-size",
        "8",
        "--out",
        &p("pre"),
    ]);
    let row: serde_json::Value = serde_json::from_str(train.trim()).unwrap();
    assert_eq!(row["method"], "fft");
    assert_eq!(row["trainable_params"], row["total_params"]);
    // Resuming a finished run keeps its model; resuming with other settings is refused.
    let weights = || std::fs::read(dir.path().join("pre/model/model.safetensors")).unwrap();
    let before = weights();
    let pre = [
        "train",
        "--init",
        "tiny",
        "--data",
        &p("data/rev.train.jsonl"),
        &p("data/add.train.jsonl"),
        "--dev",
        &p("data/rev.test.jsonl"),
        "--steps",
        "3",
        "--batch-size",
        "8",
        "--out",
        &p("pre"),
        "--resume",
    ];
    ok(&pre);
    assert!(before == weights(), "resuming a finished run changed it");
    fails(&[&pre[..], &["--lr", "0.5"]].concat(), "another run");
    fails(&[&pre[..], &["--lr", "nan"]].concat(), "--lr");
    fails(&[&pre[..], &["--steps", "0"]].concat(), "--steps");
    let model = p("pre/model");
    let eval = ok(&[
        "eval",
        "--model",
        &model,
        "--data",
        &p("data/rev.test.jsonl"),
    ]);
    assert!(eval.contains("\"exact_match\""));
    ok(&[
        "route-stats",
        "--model",
        &model,
        "--data",
        &p("data/rev.train.jsonl"),
        "--tokens",
        "200",
        "--out",
        &p("stats"),
    ]);
    let summary = json(&dir.path().join("stats/summary.json"));
    for layer in ["1", "2", "3"] {
        let total: f64 = summary["token_scores"][layer]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_f64().unwrap())
            .sum();
        assert!((total - 1.0).abs() < 2e-3, "layer {layer}: {total}");
    }
    ok(&[
        "select",
        "--stats",
        &p("stats"),
        "--score",
        "gate",
        "--p",
        "0.1",
        "--out",
        &p("e.json"),
    ]);
    let esft = ok(&[
        "train",
        "--model",
        &model,
        "--method",
        "esft",
        "--experts",
        &p("e.json"),
        "--data",
        &p("data/rev.train.jsonl"),
        "--dev",
        &p("data/rev.test.jsonl"),
        "--steps",
        "2",
        "--batch-size",
        "8",
        "--out",
        &p("esft"),
    ]);
    let row: serde_json::Value = serde_json::from_str(esft.trim()).unwrap();
    assert_eq!(
        json(&dir.path().join("esft/expert_cfg.json")),
        json(&dir.path().join("e.json"))
    );
    let trainable = row["trainable_params"].as_u64().unwrap();
    assert!(trainable > 0 && trainable < row["total_params"].as_u64().unwrap() / 10);
}

#[test]
fn errors_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    fails(
        &["route-stats", "--from-logs", &p(""), "--out", &p("s")],
        "no expert_weights_",
    );
    std::fs::write(dir.path().join("expert_weights_3.txt"), "1\t2\n").unwrap();
    fails(
        &["route-stats", "--from-logs", &p(""), "--out", &p("s")],
        "line 1",
    );
    fails(
        &["route-stats", "--out", &p("s")],
        "--from-logs DIR or --model",
    );
    fails(
        &["select", "--stats", &p("none"), "--out", &p("e.json")],
        "summary.json",
    );
    fails(
        &[
            "select",
            "--stats",
            &p("stats"),
            "--p",
            "1.5",
            "--out",
            &p("e.json"),
        ],
        "--p must be in",
    );
    fails(
        &[
            "select",
            "--stats",
            ".",
            "--score",
            "both",
            "--out",
            &p("e.json"),
        ],
        "unknown score",
    );
    std::fs::write(
        dir.path().join("t.jsonl"),
        "{\"task\":\"x\",\"prompt\":\"x:1=\",\"answer\":\"1\"}\n",
    )
    .unwrap();
    fails(
        &[
            "train",
            "--init",
            "tiny",
            "--method",
            "esft",
            "--data",
            &p("t.jsonl"),
            "--dev",
            &p("t.jsonl"),
            "--out",
            &p("r"),
        ],
        "--experts",
    );
    fails(
        &[
            "train",
            "--init",
            "tiny",
            "--method",
            "dora",
            "--data",
            &p("t.jsonl"),
            "--dev",
            &p("t.jsonl"),
            "--out",
            &p("r"),
        ],
        "unknown --method",
    );
    std::fs::write(
        dir.path().join("bad.jsonl"),
        "{\"task\":\"x\",\"prompt\":\"X\",\"answer\":\"1\"}\n",
    )
    .unwrap();
    fails(
        &[
            "train",
            "--init",
            "tiny",
            "--data",
            &p("bad.jsonl"),
            "--dev",
            &p("t.jsonl"),
            "--out",
            &p("r"),
        ],
        "bad.jsonl: record 1",
    );
    fails(
        &["eval", "--model", &p("nomodel"), "--data", &p("t.jsonl")],
        "config.json",
    );
}
