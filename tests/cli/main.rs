//! Every burnlp command-line tool run as a user runs it: `--help`, a small round trip through
//! real files, and bad input answered by an error that names the problem (never a panic).
//!
//! One test binary for the whole workspace (it links no burn, only runs the binaries), in the
//! assert_cmd style: run, then assert on status, stdout, stderr and the files written.

mod arxiv_cap;
mod doc_ee;
mod frame_parse;
mod malformed;
mod ml_prune;
mod newsbot;
mod para_filter;
mod subnet_tune;
mod text_cls;

use burnlp_cli_tests::{run, shared};

/// Every binary of the workspace with the subcommands its `--help` must list.
const TOOLS: &[(&str, &[&str])] = &[
    ("text-cls", &["train", "eval", "predict", "demo"]),
    (
        "fssl-span",
        &["episodes", "train", "eval", "predict", "demo", "experiment"],
    ),
    (
        "docre-gain",
        &[
            "train", "predict", "eval", "check", "split", "generate", "demo",
        ],
    ),
    (
        "amr-aux",
        &["smatch", "penman", "train", "parse", "experiment", "demo"],
    ),
    (
        "mls-nmt",
        &["prepare", "train", "translate", "bleu", "calibrate", "demo"],
    ),
    (
        "math-shepherd",
        &[
            "answers",
            "sample",
            "annotate",
            "train-prm",
            "train-orm",
            "verify",
            "ppo",
            "demo",
        ],
    ),
    (
        "peft-moe",
        &["route-stats", "select", "data", "train", "eval", "demo"],
    ),
    (
        "subnet-tune",
        &[
            "train",
            "eval",
            "predict",
            "masks",
            "experiment",
            "tatoeba",
            "demo",
        ],
    ),
    (
        "arxiv-cap",
        &["extract", "stats", "tasks", "eval", "experiment", "demo"],
    ),
    (
        "para-filter",
        &[
            "align",
            "mine",
            "train-scorer",
            "score",
            "select",
            "noise",
            "eval-noise",
            "shared-task",
            "demo",
        ],
    ),
    (
        "doc-ee",
        &[
            "score",
            "convert",
            "split",
            "train",
            "predict",
            "eval",
            "validate",
            "convert-duee",
            "synth",
            "train-dee",
            "predict-dee",
            "eval-dee",
            "demo",
        ],
    ),
    (
        "frame-parse",
        &[
            "lexicon",
            "score",
            "train",
            "predict",
            "eval",
            "experiment",
            "demo",
        ],
    ),
    (
        "ml-prune",
        &["prune", "dynamic", "eval", "plot", "profile", "demo"],
    ),
    (
        "newsbot",
        &[
            "write",
            "check",
            "eval-check",
            "summarize",
            "train-summarizer",
            "speak",
            "run",
            "experiment",
            "demo",
        ],
    ),
    ("synth-tasks", &["demo"]),
    ("burnlp-models", &["inspect", "generate", "embed", "demo"]),
];

#[test]
fn every_tool_explains_itself() {
    for (tool, subcommands) in TOOLS {
        let help = run(tool, &["--help"]).success();
        for sub in *subcommands {
            assert!(help.contains(sub), "{tool} --help lacks `{sub}`:\n{help}");
        }
        let version = run(tool, &["--version"]).success();
        assert!(version.starts_with(tool), "{tool} --version: {version}");
        // Every demo takes the shared `--json` / `--out` group.
        let demo = run(tool, &["demo", "--help"]).success();
        assert!(
            demo.contains("--json") && demo.contains("--out"),
            "{tool} demo --help:\n{demo}"
        );
    }
}

#[test]
fn unknown_subcommands_and_bad_numbers_are_usage_errors() {
    for (tool, _) in TOOLS {
        let stderr = run(tool, &["no-such-command"]).failure();
        assert!(stderr.contains("no-such-command"), "{tool}: {stderr}");
    }
    // Numeric flags are checked when parsed, naming the flag.
    let stderr = run(
        "text-cls",
        &[
            "train",
            "--synthetic",
            "10",
            "--out",
            "x",
            "--batch-size",
            "0",
        ],
    )
    .failure();
    assert!(
        stderr.contains("--batch-size") && stderr.contains("at least 1"),
        "{stderr}"
    );
    let stderr = run(
        "text-cls",
        &[
            "train",
            "--synthetic",
            "10",
            "--out",
            "x",
            "--dropout",
            "1.5",
        ],
    )
    .failure();
    assert!(
        stderr.contains("--dropout") && stderr.contains("[0, 1]"),
        "{stderr}"
    );
    let stderr = run(
        "text-cls",
        &["eval", "--model", "m", "--data", "d", "--device", "tpu"],
    )
    .failure();
    assert!(stderr.contains("--device"), "{stderr}");
}

#[test]
fn missing_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.json");
    let missing = missing.to_str().unwrap();
    for (tool, args) in [
        ("docre-gain", vec!["check", "--data", missing]),
        (
            "amr-aux",
            vec!["smatch", "--gold", missing, "--pred", missing],
        ),
        ("mls-nmt", vec!["bleu", "--ref", missing, "--hyp", missing]),
        (
            "math-shepherd",
            vec!["answers", "--format", "gsm8k", missing],
        ),
        ("burnlp-models", vec!["inspect", missing]),
    ] {
        let stderr = run(tool, &args).failure();
        assert!(stderr.contains("absent.json"), "{tool} {args:?}: {stderr}");
    }
}

#[test]
fn docre_gain_generates_checks_splits_and_scores_documents() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    run(
        "docre-gain",
        &[
            "generate",
            "--docs",
            "12",
            "--seed",
            "3",
            "--out",
            &path("all.json"),
        ],
    )
    .success();
    let check = run(
        "docre-gain",
        &["check", "--data", &path("all.json"), "--json"],
    )
    .success();
    let counts: serde_json::Value = serde_json::from_str(check.trim()).unwrap();
    assert_eq!(counts["documents"], 12, "{counts}");
    run(
        "docre-gain",
        &[
            "split",
            "--input",
            &path("all.json"),
            "--dev-docs",
            "4",
            "--train-out",
            &path("train.json"),
            "--dev-out",
            &path("dev.json"),
        ],
    )
    .success();
    // Gold labels as predictions score F1 = 1 with the official scorer.
    let dev: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path("dev.json")).unwrap()).unwrap();
    assert_eq!(dev.len(), 4);
    let predictions: Vec<serde_json::Value> = dev
        .iter()
        .flat_map(|doc| {
            doc["labels"].as_array().unwrap().iter().map(|l| {
                serde_json::json!({"title": doc["title"], "h_idx": l["h"], "t_idx": l["t"], "r": l["r"]})
            })
        })
        .collect();
    std::fs::write(
        path("pred.json"),
        serde_json::to_string(&predictions).unwrap(),
    )
    .unwrap();
    let report = run(
        "docre-gain",
        &[
            "eval",
            "--gold",
            &path("dev.json"),
            "--pred",
            &path("pred.json"),
            "--json",
        ],
    )
    .success();
    let report: serde_json::Value = serde_json::from_str(report.trim()).unwrap();
    assert_eq!(report["f1"].as_f64(), Some(1.0), "{report}");
    // A malformed prediction file is located.
    std::fs::write(path("bad.json"), "[{\"title\": 3}]").unwrap();
    let stderr = run(
        "docre-gain",
        &[
            "eval",
            "--gold",
            &path("dev.json"),
            "--pred",
            &path("bad.json"),
        ],
    )
    .failure();
    assert!(stderr.contains("bad.json"), "{stderr}");
}

#[test]
fn amr_aux_scores_the_smatch_reference_pair() {
    let (Some(a), Some(b)) = (
        shared("datasets/amr/smatch_test_input1.txt"),
        shared("datasets/amr/smatch_test_input2.txt"),
    ) else {
        return;
    };
    let out = run(
        "amr-aux",
        &[
            "smatch",
            "--gold",
            b.to_str().unwrap(),
            "--pred",
            a.to_str().unwrap(),
            "--json",
        ],
    )
    .success();
    let score: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let f1 = score["f1"].as_f64().unwrap();
    assert!(f1 > 0.0 && f1 <= 1.0, "{score}");
    // Malformed Penman: the error names the file and where the graph breaks.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.amr");
    std::fs::write(&bad, "(w / want-01 :ARG0 (b / boy)\n").unwrap();
    let stderr = run(
        "amr-aux",
        &[
            "smatch",
            "--gold",
            bad.to_str().unwrap(),
            "--pred",
            bad.to_str().unwrap(),
        ],
    )
    .failure();
    assert!(stderr.contains("bad.amr"), "{stderr}");
}

#[test]
fn mls_nmt_bleu_matches_sacrebleu_on_a_known_pair() {
    let dir = tempfile::tempdir().unwrap();
    let (hyp, reference) = (dir.path().join("hyp"), dir.path().join("ref"));
    std::fs::write(&hyp, "the cat sat on the mat\n").unwrap();
    std::fs::write(&reference, "the cat sat on the mat\n").unwrap();
    let out = run(
        "mls-nmt",
        &[
            "bleu",
            "--ref",
            reference.to_str().unwrap(),
            "--hyp",
            hyp.to_str().unwrap(),
            "--json",
        ],
    )
    .success();
    let bleu: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    // sacreBLEU computes exp(mean(log 100)) = 100.00000000000004 here too.
    assert!(
        (bleu["bleu"].as_f64().unwrap() - 100.0).abs() < 1e-9,
        "{bleu}"
    );
    std::fs::write(&hyp, "the cat\nextra line\n").unwrap();
    let stderr = run(
        "mls-nmt",
        &[
            "bleu",
            "--ref",
            reference.to_str().unwrap(),
            "--hyp",
            hyp.to_str().unwrap(),
        ],
    )
    .failure();
    assert!(
        stderr.contains("2") && stderr.contains("1"),
        "line counts: {stderr}"
    );
}

#[test]
fn math_shepherd_extracts_gsm8k_answers() {
    let Some(sample) = shared("datasets/gsm8k/test_sample.jsonl") else {
        return;
    };
    let out = run(
        "math-shepherd",
        &[
            "answers",
            "--format",
            "gsm8k",
            sample.to_str().unwrap(),
            "--json",
        ],
    )
    .success();
    let report: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    // Extracted from the reasoning without the `####` line: 295/300; the marker itself: 300/300.
    assert_eq!(report["matched"], 295, "{report}");
    assert_eq!(report["marker_matched"], report["total"], "{report}");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"question\": \"1+1?\"}\nnot json\n").unwrap();
    let stderr = run(
        "math-shepherd",
        &["answers", "--format", "gsm8k", bad.to_str().unwrap()],
    )
    .failure();
    assert!(
        stderr.contains("bad.jsonl") && stderr.contains("line"),
        "{stderr}"
    );
}

#[test]
fn peft_moe_writes_task_files_it_can_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    run(
        "peft-moe",
        &["data", "--out", out, "--train", "20", "--test", "5"],
    )
    .success();
    let files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        files.iter().any(|f| f.ends_with(".train.jsonl")),
        "{files:?}"
    );
    let train = files.iter().find(|f| f.ends_with(".train.jsonl")).unwrap();
    let text = std::fs::read_to_string(dir.path().join(train)).unwrap();
    assert_eq!(text.lines().count(), 20);
}

#[test]
fn burnlp_models_inspects_the_smollm2_gguf() {
    let Some(gguf) = shared("models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf") else {
        return;
    };
    let out = run("burnlp-models", &["inspect", gguf.to_str().unwrap()]).success();
    assert!(out.to_lowercase().contains("llama"), "{out}");
    assert!(out.contains("576") || out.contains("hidden"), "{out}");
}
