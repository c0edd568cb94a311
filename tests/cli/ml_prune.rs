//! The `ml-prune` binary end to end: help of every subcommand, a sparsity or width outside its
//! range rejected at parse time, missing files and models named.

use burnlp_cli_tests::run;

#[test]
fn every_subcommand_builds_its_help() {
    for sub in ["prune", "dynamic", "eval", "plot", "profile", "demo"] {
        let help = run("ml-prune", &[sub, "--help"]).success();
        assert!(help.contains("Usage"), "{sub} --help:\n{help}");
    }
    let help = run("ml-prune", &["prune", "--help"]).success();
    for flag in [
        "--task",
        "--method",
        "--setting",
        "--units",
        "--sparsity",
        "--refine-epochs",
        "--encoder",
        "--latency-runs",
        "--l0-lambda",
        "--l0-epochs",
    ] {
        assert!(help.contains(flag), "prune --help lacks {flag}:\n{help}");
    }
    let help = run("ml-prune", &["prune", "--help"]).success();
    for value in ["importance", "taylor", "l0", "random", "per-language"] {
        assert!(help.contains(value), "prune --help lacks {value}:\n{help}");
    }
    let help = run("ml-prune", &["dynamic", "--help"]).success();
    for flag in [
        "--widths",
        "--widths-per-step",
        "--dynamic-epochs",
        "--temperature",
    ] {
        assert!(help.contains(flag), "dynamic --help lacks {flag}:\n{help}");
    }
}

#[test]
fn a_width_outside_zero_one_is_a_usage_error_and_a_missing_run_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let stderr = run(
        "ml-prune",
        &[
            "eval",
            "--model",
            &path("run"),
            "--task",
            "xnli",
            "--width",
            "1.5",
        ],
    )
    .failure();
    assert!(
        stderr.contains("--width") && stderr.contains("(0, 1]"),
        "{stderr}"
    );
    let stderr = run(
        "ml-prune",
        &["eval", "--model", &path("no-run"), "--task", "xnli"],
    )
    .failure();
    assert!(stderr.contains("no-run"), "{stderr}");
    let stderr = run(
        "ml-prune",
        &["plot", "--runs", &path("no-run"), "--out", &path("p.svg")],
    )
    .failure();
    assert!(stderr.contains("no-run"), "{stderr}");
}

#[test]
fn a_sparsity_outside_zero_one_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let stderr = run(
        "ml-prune",
        &[
            "prune",
            "--task",
            "xnli",
            "--train",
            &path("train.tsv"),
            "--dev",
            &path("dev.tsv"),
            "--out",
            &path("run"),
            "--sparsity",
            "0.3,1.5",
        ],
    )
    .failure();
    assert!(
        stderr.contains("--sparsity") && stderr.contains("(0, 1)"),
        "{stderr}"
    );
}

#[test]
fn a_missing_training_file_and_model_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let stderr = run(
        "ml-prune",
        &[
            "prune",
            "--task",
            "xnli",
            "--train",
            &path("absent-train.tsv"),
            "--dev",
            &path("dev.tsv"),
            "--out",
            &path("run"),
        ],
    )
    .failure();
    assert!(stderr.contains("absent-train.tsv"), "{stderr}");
    let stderr = run("ml-prune", &["profile", "--model", &path("no-model")]).failure();
    assert!(stderr.contains("no-model"), "{stderr}");
}
