//! The `para-filter` binary end to end: help, a malformed corpus line, and a round trip
//! noise → score → eval-noise → select on a small corpus written here.

use burnlp_cli_tests::run;

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
    run(
        "para-filter",
        &[
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
        ],
    )
    .success();
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
