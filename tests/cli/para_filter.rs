//! The `para-filter` binary end to end: help, a malformed corpus line, a round trip
//! noise → score → eval-noise → select on a small corpus written here, the classifier scorer
//! (train-scorer → score with an ensemble of two runs), and the miniature shared task's
//! preparation and report on Multi30k.

use burnlp_cli_tests::{run, shared};

#[test]
fn every_subcommand_builds_its_help() {
    for sub in [
        "align",
        "mine",
        "score",
        "select",
        "noise",
        "eval-noise",
        "experiment",
        "train-scorer",
        "shared-task",
        "demo",
    ] {
        let help = run("para-filter", &[sub, "--help"]).success();
        assert!(help.contains("Usage"), "{sub} --help:\n{help}");
    }
    let help = run("para-filter", &["mine", "--help"]).success();
    for flag in [
        "--mine-iterations",
        "--iterations",
        "--skip-penalty",
        "--pieces",
    ] {
        assert!(help.contains(flag), "mine --help lacks {flag}:\n{help}");
    }
}

#[test]
fn help_lists_the_subcommands_and_flags() {
    let help = run("para-filter", &["score", "--help"]).success();
    for flag in [
        "--scorer",
        "--clean",
        "--rerank-penalty",
        "--encoder",
        "--device",
    ] {
        assert!(help.contains(flag), "score --help lacks {flag}:\n{help}");
    }
}

#[test]
fn a_malformed_corpus_line_is_an_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus.tsv");
    std::fs::write(&corpus, "A cat .\tEine Katze .\nno tab on this line\n").unwrap();
    let scores = dir.path().join("scores.txt");
    let stderr = run(
        "para-filter",
        &[
            "score",
            "--scorer",
            "rules",
            "--xx-lang",
            "deu",
            "--input",
            corpus.to_str().unwrap(),
            "--out",
            scores.to_str().unwrap(),
        ],
    )
    .failure();
    assert!(
        stderr.contains("corpus.tsv") && stderr.contains("line 2") && stderr.contains("no tab"),
        "{stderr}"
    );
    assert!(!scores.exists(), "no partial score file may be left");
}

#[test]
fn noise_score_evaluate_and_select_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let nouns = [
        ("dog", "Hund"),
        ("cat", "Katze"),
        ("house", "Haus"),
        ("tree", "Baum"),
    ];
    let verbs = [("sees", "sieht"), ("finds", "findet"), ("paints", "malt")];
    let mut lines = String::new();
    for (a, (na, da)) in nouns.iter().enumerate() {
        for (vb, dv) in &verbs {
            for (nb, db) in nouns.iter().skip(a + 1) {
                lines.push_str(&format!(
                    "The {na} {vb} the {nb} .\tDer {da} {dv} den {db} .\n"
                ));
            }
        }
    }
    std::fs::write(path("clean.tsv"), &lines).unwrap();
    run(
        "para-filter",
        &[
            "noise",
            "--input",
            &path("clean.tsv"),
            "--rate",
            "0.5",
            "--kind",
            "misaligned",
            "--kind",
            "untranslated",
            "--out",
            &path("noised.tsv.gz"),
            "--labels",
            &path("labels.txt"),
        ],
    )
    .success();
    // Logged at info level into a pipe: plain text, no colour codes.
    let scored = std::process::Command::new(burnlp_cli_tests::binary("para-filter"))
        .env("RUST_LOG", "info")
        .args([
            "score",
            "--scorer",
            "ibm1",
            "--clean",
            &path("clean.tsv"),
            "--rerank-penalty",
            "5",
            "--xx-lang",
            "deu",
            "--input",
            &path("noised.tsv.gz"),
            "--out",
            &path("scores.txt"),
        ])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&scored.stderr);
    assert!(scored.status.success(), "{log}");
    assert!(log.contains("scored corpus"), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a log file: {log:?}"
    );
    let report = run(
        "para-filter",
        &[
            "eval-noise",
            "--scores",
            &path("scores.txt"),
            "--labels",
            &path("labels.txt"),
            "--json",
        ],
    )
    .success();
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert!(
        report["per_kind"]["untranslated"].as_f64().unwrap() > 0.9,
        "{report}"
    );
    run(
        "para-filter",
        &[
            "select",
            "--input",
            &path("noised.tsv.gz"),
            "--scores",
            &path("scores.txt"),
            "--budget",
            "30",
            "--out",
            &path("selected.tsv"),
        ],
    )
    .success();
    let selected = std::fs::read_to_string(path("selected.tsv")).unwrap();
    let words: usize = selected
        .lines()
        .map(|l| l.split('\t').next().unwrap().split(' ').count())
        .sum();
    assert!((30..=36).contains(&words), "{words} words:\n{selected}");
}

#[test]
fn classifier_runs_train_score_and_ensemble() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (en, de) = (
        ["cat", "dog", "bird", "horse", "fish", "cow"],
        ["Katze", "Hund", "Vogel", "Pferd", "Fisch", "Kuh"],
    );
    let mut lines = String::new();
    for (i, a) in en.iter().enumerate() {
        for (j, b) in en.iter().enumerate().filter(|(j, _)| *j != i) {
            lines.push_str(&format!(
                "the {a} sees the {b} .\tdie {} sieht die {} .\n",
                de[i], de[j]
            ));
        }
    }
    std::fs::write(path("clean.tsv"), &lines).unwrap();
    for seed in ["1", "2"] {
        let done = run(
            "para-filter",
            &[
                "train-scorer",
                "--clean",
                &path("clean.tsv"),
                "--epochs",
                "1",
                "--seed",
                seed,
                "--dev-fraction",
                "0.2",
                "--out",
                &path(&format!("run{seed}")),
            ],
        );
        done.success();
        assert!(
            done.stderr().contains("best dev accuracy"),
            "{}",
            done.stderr()
        );
    }
    run(
        "para-filter",
        &[
            "score",
            "--scorer",
            "classifier",
            "--run",
            &path("run1"),
            "--run",
            &path("run2"),
            "--input",
            &path("clean.tsv"),
            "--out",
            &path("scores.txt"),
        ],
    )
    .success();
    let scores = std::fs::read_to_string(path("scores.txt")).unwrap();
    assert_eq!(scores.lines().count(), 30);
    assert!(
        scores
            .lines()
            .all(|l| (0.0..=1.0).contains(&l.parse::<f64>().unwrap()))
    );
    let stderr = run(
        "para-filter",
        &[
            "score",
            "--scorer",
            "classifier",
            "--input",
            &path("clean.tsv"),
            "--out",
            &path("x.txt"),
        ],
    )
    .failure();
    assert!(stderr.contains("needs --run"), "{stderr}");
    let stderr = run(
        "para-filter",
        &[
            "score",
            "--scorer",
            "rules",
            "--scorer",
            "ibm1",
            "--input",
            &path("clean.tsv"),
            "--out",
            &path("x.txt"),
        ],
    )
    .failure();
    assert!(stderr.contains("cannot be combined"), "{stderr}");
}

#[test]
fn shared_task_prepares_conditions_and_reports() {
    if shared("datasets/multi30k/train.en").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let work = work.to_str().unwrap();
    run(
        "para-filter",
        &[
            "shared-task",
            "prepare",
            "--work",
            work,
            "--clean",
            "600",
            "--corpus",
            "300",
            "--classifier-pairs",
            "200",
            "--classifier-seeds",
            "1",
        ],
    )
    .success();
    let conditions = std::fs::read_to_string(dir.path().join("work/conditions.txt")).unwrap();
    let names: Vec<&str> = conditions.lines().collect();
    assert_eq!(
        names,
        [
            "none",
            "random",
            "oracle",
            "ibm1-rules",
            "classifier",
            "ensemble-rules"
        ]
    );
    let oracle: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("work/oracle/selection.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(oracle["clean_fraction"].as_f64(), Some(1.0));
    let de = std::fs::read_to_string(dir.path().join("work/oracle/train.de")).unwrap();
    let en = std::fs::read_to_string(dir.path().join("work/oracle/train.en")).unwrap();
    assert_eq!(de.lines().count(), en.lines().count());
    assert_eq!(de.lines().count() as u64, oracle["lines"].as_u64().unwrap());
    std::fs::write(
        dir.path().join("work/oracle/bleu.json"),
        r#"{"bleu": 12.5}"#,
    )
    .unwrap();
    let out = dir.path().join("report.md");
    let report = run(
        "para-filter",
        &[
            "shared-task",
            "report",
            "--work",
            work,
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .success();
    assert!(
        report.contains("| 12.50 |") && report.contains("not run"),
        "{report}"
    );
}
