//! Tests of `docre-gain`: the official scorer on hand-computed edge cases (fixtures in
//! `tests/fixtures/`, gold = the embedded sample), parity with the Python re-implementation
//! `datasets/scripts/docred/official_eval.py` on `../shared/datasets/docred/dev_sample.json`
//! (fixtures in `tests/fixtures/golden/`), and the CLI (validation is in `validation.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;

use docre_gain::{
    EvalError, EvalOptions, EvalReport, Prediction, Relations, TrainFacts, evaluate,
    read_documents, read_predictions, sample_documents,
};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn preds(name: &str) -> Vec<Prediction> {
    read_predictions(fixture(name)).unwrap()
}

fn train_facts() -> TrainFacts {
    TrainFacts::from_documents(&read_documents(fixture("train.json")).unwrap())
}

#[track_caller]
fn close(actual: f64, expected: f64, tol: f64) {
    assert!(
        (actual - expected).abs() <= tol,
        "{actual} != {expected} (tolerance {tol})"
    );
}

/// Gold = the embedded sample: 16 facts over 3 documents, one evidence sentence each.
fn score(name: &str, options: &EvalOptions<'_>) -> EvalReport {
    evaluate(&sample_documents(), &preds(name), options).unwrap()
}

mod edge_cases {
    use super::*;

    #[test]
    fn gold_predictions_score_one() {
        let gold = sample_documents();
        let perfect: Vec<Prediction> = gold
            .iter()
            .flat_map(|d| {
                d.labels.iter().map(|l| Prediction {
                    title: d.title.clone(),
                    h_idx: l.h,
                    t_idx: l.t,
                    r: l.r.clone(),
                    evidence: Some(l.evidence.clone()),
                    score: None,
                })
            })
            .collect();
        let report = evaluate(&gold, &perfect, &EvalOptions::default()).unwrap();
        assert_eq!(
            (report.precision, report.recall, report.f1),
            (1.0, 1.0, 1.0)
        );
        assert_eq!(report.evidence.unwrap().f1, 1.0);
        assert_eq!((report.ign_f1, report.sweep), (None, None));
        assert_eq!(report.relations.len(), 9);
    }

    #[test]
    fn duplicates_count_once_keeping_the_first() {
        // 6 records, 2 repeat LV(0,1,P17): 4 scored, all correct; R = 4/16.
        let report = score("pred_duplicates.json", &EvalOptions::default());
        let c = report.counts;
        assert_eq!(
            (c.submitted, c.duplicates, c.predictions, c.correct),
            (6, 2, 4, 4)
        );
        assert_eq!((report.precision, report.recall), (1.0, 0.25));
        close(report.f1, 0.4, 1e-12);
        // The first LV(0,1,P17) (evidence [0]) is kept: 4 of 4 predicted sentences are right.
        let e = report.evidence.unwrap();
        assert_eq!((c.predicted_evidence, c.correct_evidence), (4, 4));
        assert_eq!((e.precision, e.recall), (1.0, 0.25));
    }

    #[test]
    fn duplicates_kept_as_in_the_first_revision() {
        let options = EvalOptions {
            keep_duplicates: true,
            ..EvalOptions::default()
        };
        let report = score("pred_duplicates.json", &options);
        let c = report.counts;
        assert_eq!((c.duplicates, c.predictions, c.correct), (0, 6, 6));
        // P = 6/6, R = 6/16, F1 = 2·0.375/1.375.
        assert_eq!((report.precision, report.recall), (1.0, 0.375));
        close(report.f1, 6.0 / 11.0, 1e-12);
        // Evidence: {0}, {1}, none, {2}, {0}, {1} over gold {0}, {0}, {0}, {2}, {0}, {1}.
        assert_eq!((c.predicted_evidence, c.correct_evidence), (5, 4));
        let e = report.evidence.unwrap();
        close(e.precision, 0.8, 1e-12);
        close(e.f1, 2.0 * 0.8 * 0.25 / 1.05, 1e-12);
    }

    #[test]
    fn unknown_titles_stay_in_the_precision_denominator() {
        // 3 correct + "Nowhere" + "lake vellmar" (titles are case-sensitive).
        let report = score("pred_unknown_title.json", &EvalOptions::default());
        assert_eq!(report.counts.unknown_titles, 2);
        assert_eq!((report.precision, report.recall), (0.6, 0.1875));
        close(report.f1, 2.0 * 0.6 * 0.1875 / 0.7875, 1e-12);
        // Their evidence is not counted: P = 3/3, not 3/5.
        let e = report.evidence.unwrap();
        assert_eq!((report.counts.predicted_evidence, e.precision), (3, 1.0));
        close(e.f1, 2.0 * 0.1875 / 1.1875, 1e-12);
    }

    #[test]
    fn wrong_relation_or_direction_is_wrong() {
        let relations = Relations::from_rel_info(shared!("rel_info.json")).unwrap();
        let options = EvalOptions {
            relations: Some(&relations),
            ..EvalOptions::default()
        };
        let report = score("pred_wrong_relation.json", &options);
        assert_eq!(report.counts.correct, 2);
        assert_eq!((report.precision, report.recall), (0.4, 0.125));
        close(report.f1, 2.0 * 0.4 * 0.125 / 0.525, 1e-12);
        assert!(report.evidence.is_none());
        let rows: Vec<_> = report
            .relations
            .iter()
            .map(|r| (r.relation.as_str(), r.gold, r.predicted, r.correct))
            .collect();
        assert_eq!(
            rows,
            [
                ("P17", 5, 2, 0),
                ("P26", 2, 1, 1),
                ("P27", 1, 0, 0),
                ("P40", 0, 1, 0),
                ("P108", 1, 0, 0),
                ("P112", 1, 0, 0),
                ("P131", 2, 1, 1),
                ("P569", 1, 0, 0),
                ("P571", 2, 0, 0),
                ("P1376", 1, 0, 0),
            ]
        );
        let p131 = &report.relations[6];
        assert_eq!(
            p131.name.as_deref(),
            Some("located in the administrative territorial entity")
        );
        assert_eq!((p131.scores.precision, p131.scores.recall), (1.0, 0.5));
        close(p131.scores.f1, 2.0 / 3.0, 1e-12);
        assert_eq!(report.relations[3].name.as_deref(), Some("child"));
        let table = report.to_table();
        assert!(table.contains("P40       child"), "{table}");
    }

    #[test]
    fn partial_evidence() {
        // Predicted sets {0,1}, {}, {1,2} ([1,1,2] as a set), {0}, and {1} on a wrong fact:
        // 6 sentences, of which 2 are gold evidence of correct facts; 16 gold sentences.
        let report = score("pred_partial_evidence.json", &EvalOptions::default());
        assert_eq!((report.counts.correct, report.precision), (4, 0.8));
        let c = report.counts;
        assert_eq!(
            (c.gold_evidence, c.predicted_evidence, c.correct_evidence),
            (16, 6, 2)
        );
        let e = report.evidence.unwrap();
        close(e.precision, 1.0 / 3.0, 1e-12);
        assert_eq!(e.recall, 0.125);
        close(e.f1, 2.0 / 11.0, 1e-12);
    }

    #[test]
    fn ign_removes_correct_train_facts_only() {
        let train = train_facts();
        assert_eq!(train.len(), 3);
        assert!(train.contains("Castell", "Oren Lyle", "P26"));
        assert!(!train.contains("Oren Lyle", "Castell", "P26"));
        let options = EvalOptions {
            train_facts: Some(&train),
            ..EvalOptions::default()
        };
        // Correct: LV(2,1,P17), TA(1,2,P17) and MC(0,5,P26) (through the mention "Castell") are
        // training facts, MC(5,0,P26) and LV(0,1,P17) are not. Wrong: three, of which
        // LV(2,4,P17) = (Brennholt, Ardel, P17) is a training triple but stays in the
        // denominator because it is wrong.
        let report = score("pred_ign.json", &options);
        let c = report.counts;
        assert_eq!((c.predictions, c.correct, c.correct_in_train), (8, 5, 3));
        assert_eq!((report.precision, report.recall), (0.625, 0.3125));
        close(report.f1, 10.0 / 24.0, 1e-12);
        // Ign P = (5 − 3) / (8 − 3); recall unchanged.
        assert_eq!(report.ign_precision, Some(0.4));
        close(report.ign_f1.unwrap(), 2.0 * 0.4 * 0.3125 / 0.7125, 1e-12);
    }

    #[test]
    fn empty_submission_scores_zero() {
        let train = train_facts();
        let options = EvalOptions {
            train_facts: Some(&train),
            ..EvalOptions::default()
        };
        let report = score("pred_empty.json", &options);
        assert_eq!(
            (report.precision, report.recall, report.f1),
            (0.0, 0.0, 0.0)
        );
        assert_eq!(
            (report.ign_precision, report.ign_f1),
            (Some(0.0), Some(0.0))
        );
        assert_eq!((report.evidence, report.sweep), (None, None));
        assert_eq!((report.counts.predictions, report.counts.gold), (0, 16));
        assert_eq!(report.relations.iter().map(|r| r.gold).sum::<usize>(), 16);
    }

    #[test]
    fn all_correct_and_in_train_gives_zero_ign_precision() {
        let train = train_facts();
        let options = EvalOptions {
            train_facts: Some(&train),
            ..EvalOptions::default()
        };
        let only = &preds("pred_ign.json")[..1];
        let report = evaluate(&sample_documents(), only, &options).unwrap();
        assert_eq!(report.precision, 1.0);
        assert_eq!(
            (report.ign_precision, report.ign_f1),
            (Some(0.0), Some(0.0))
        );
    }

    #[test]
    fn threshold_sweep_ties_keep_submission_order() {
        // Scores 0.9 (correct), 0.5 and 0.5 (one correct and in train, one wrong), 0.3 (wrong),
        // given out of order. 16 gold facts.
        let train = train_facts();
        let options = EvalOptions {
            train_facts: Some(&train),
            ..EvalOptions::default()
        };
        // Correct one first among the ties: F1 = 2c / (n + 16) = 4/18 at the top 2.
        let a = score("pred_ties_correct_first.json", &options);
        let s = a.sweep.unwrap();
        assert_eq!((s.theta, s.cutoff), (0.5, 2));
        close(s.f1, 4.0 / 18.0, 1e-7);
        assert_eq!((s.precision, s.recall), (1.0, 0.125));
        close(s.auc, 0.0625, 1e-9);
        // Ign P: 1, 1/1, 1/2, 1/3 → best Ign F1 4/18 at the top 2; GAIN's "at θ" value is taken
        // at the last cut-off scoring strictly above θ = 0.5, the top 1: 2/17.
        close(s.ign_f1.unwrap(), 4.0 / 18.0, 1e-7);
        close(s.ign_f1_at_theta.unwrap(), 2.0 / 17.0, 1e-7);
        // The official scores ignore the scores: P = 2/4, R = 2/16.
        assert_eq!((a.precision, a.recall, a.f1), (0.5, 0.125, 0.2));

        // Wrong one first: the top 2 has F1 2/18, the top 3 4/19.
        let b = score("pred_ties_wrong_first.json", &options);
        let s = b.sweep.unwrap();
        assert_eq!((s.theta, s.cutoff), (0.5, 3));
        close(s.f1, 4.0 / 19.0, 1e-7);
        close(s.precision, 2.0 / 3.0, 1e-7);
        close(s.auc, 0.0625 * (0.5 + 2.0 / 3.0) / 2.0, 1e-7);
        // Ign P: 1, 1/2, 1/2, 1/3 → best 0.2 at the top 3.
        close(s.ign_f1.unwrap(), 0.2, 1e-7);
        close(s.ign_f1_at_theta.unwrap(), 2.0 / 17.0, 1e-7);
        close(s.ign_auc.unwrap(), 0.03125, 1e-9);
    }

    #[test]
    fn sweep_without_train_facts_has_no_ign() {
        let s = score("pred_ties_correct_first.json", &EvalOptions::default())
            .sweep
            .unwrap();
        assert_eq!((s.ign_f1, s.ign_f1_at_theta, s.ign_auc), (None, None, None));
    }

    #[test]
    fn errors() {
        let mut mixed = preds("pred_ties_wrong_first.json");
        mixed[2].score = None;
        let err = evaluate(&sample_documents(), &mixed, &EvalOptions::default()).unwrap_err();
        assert_eq!(
            err,
            EvalError::MixedScores {
                index: 2,
                with_score: 3
            }
        );

        let mut unlabelled = sample_documents();
        unlabelled.iter_mut().for_each(|d| d.labels.clear());
        let err = evaluate(&unlabelled, &mixed, &EvalOptions::default()).unwrap_err();
        assert_eq!(err, EvalError::NoGoldFacts);

        // Entity indices outside the document, and an entity paired with itself.
        let docs = sample_documents();
        let entities = docs[0].vertex_set.len();
        let mut bad = preds("pred_ties_wrong_first.json");
        bad[1].title = docs[0].title.clone();
        bad[1].t_idx = entities;
        let err = evaluate(&docs, &bad, &EvalOptions::default()).unwrap_err();
        assert_eq!(
            err,
            EvalError::EntityOutOfRange {
                index: 1,
                title: docs[0].title.clone(),
                field: "t_idx",
                entity: entities,
                entities
            }
        );
        assert!(err.to_string().contains("prediction 1"), "{err}");
        bad[1].t_idx = 0;
        bad[1].h_idx = 0;
        let err = evaluate(&docs, &bad, &EvalOptions::default()).unwrap_err();
        assert!(
            matches!(
                err,
                EvalError::SelfPair {
                    index: 1,
                    entity: 0,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn json_has_the_flat_keys() {
        let json = score("pred_wrong_relation.json", &EvalOptions::default()).to_json();
        for key in [
            "precision",
            "recall",
            "f1",
            "ign_f1",
            "theta",
            "evidence_f1",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        assert_eq!(json["theta"], Value::Null);
        assert_eq!(json["precision"], 0.4);
        assert_eq!(json["counts"]["correct"], 2);
        assert_eq!(json["relations"][0]["relation"], "P17");
    }
}

/// Parity with `official_eval.py golden`: every number to 1e-9 (AUC, which NumPy sums in
/// `float32`, to 1e-5).
mod golden {
    use super::*;

    fn check(name: &str) {
        let record: Value = serde_json::from_str(
            &std::fs::read_to_string(fixture(&format!("golden/{name}.json"))).unwrap(),
        )
        .unwrap();
        let dev = read_documents(shared!("dev_sample.json")).unwrap();
        let train_docs = record["train_docs"].as_u64().unwrap() as usize;
        let train = TrainFacts::from_documents(&dev[..train_docs]);
        let predictions: Vec<Prediction> =
            serde_json::from_value(record["predictions"].clone()).unwrap();
        for (mode, keep_duplicates) in [("dedupe", false), ("keep_duplicates", true)] {
            let options = EvalOptions {
                train_facts: Some(&train),
                keep_duplicates,
                ..EvalOptions::default()
            };
            let actual = evaluate(&dev, &predictions, &options).unwrap().to_json();
            compare(
                &actual,
                &record["expected"][mode],
                &format!("{name}/{mode}"),
            );
        }
    }

    pub(super) fn compare(actual: &Value, expected: &Value, context: &str) {
        for (key, want) in expected.as_object().unwrap() {
            let got = &actual[key];
            match key.as_str() {
                "counts" => {
                    for (count, n) in want.as_object().unwrap() {
                        assert_eq!(&got[count], n, "{context}: counts.{count}");
                    }
                }
                "relations" => {
                    let (got, want) = (got.as_array().unwrap(), want.as_array().unwrap());
                    assert_eq!(got.len(), want.len(), "{context}: relation rows");
                    for (g, w) in got.iter().zip(want) {
                        for field in ["relation", "gold", "predicted", "correct"] {
                            assert_eq!(g[field], w[field], "{context}: {} {field}", w["relation"]);
                        }
                        for field in ["precision", "recall", "f1"] {
                            let (g, w) = (g[field].as_f64().unwrap(), w[field].as_f64().unwrap());
                            assert!((g - w).abs() <= 1e-9, "{context}: {field} {g} != {w}");
                        }
                    }
                }
                _ if want.is_null() => assert!(got.is_null(), "{context}: {key} = {got}"),
                _ => {
                    let tol = if key.ends_with("auc") { 1e-5 } else { 1e-9 };
                    let (g, w) = (got.as_f64(), want.as_f64().unwrap());
                    let g = g.unwrap_or_else(|| panic!("{context}: {key} is {got}, expected {w}"));
                    assert!((g - w).abs() <= tol, "{context}: {key} {g} != {w}");
                }
            }
        }
    }

    #[test]
    fn gold_facts_dropped_with_partial_evidence() {
        check("dropped");
    }

    #[test]
    fn corrupted_duplicated_and_unknown_titles() {
        check("noisy");
    }

    #[test]
    fn scored_candidates_threshold_sweep() {
        check("scored");
    }
}

mod cli {
    use super::*;

    fn run(args: &[&str]) -> (bool, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_docre-gain"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    fn path(p: &Path) -> &str {
        p.to_str().unwrap()
    }

    #[test]
    fn eval_json_matches_the_python_reference() {
        let dir = tempfile::tempdir().unwrap();
        let record: Value =
            serde_json::from_str(&std::fs::read_to_string(fixture("golden/noisy.json")).unwrap())
                .unwrap();
        let pred = dir.path().join("result.json");
        std::fs::write(&pred, record["predictions"].to_string()).unwrap();
        let dev = read_documents(shared!("dev_sample.json")).unwrap();
        let train = dir.path().join("train.json");
        let n = record["train_docs"].as_u64().unwrap() as usize;
        std::fs::write(&train, serde_json::to_string(&dev[..n]).unwrap()).unwrap();
        let gold = shared!("dev_sample.json");
        let rel_info = shared!("rel_info.json");
        let (ok, stdout, stderr) = run(&[
            "eval",
            "--gold",
            path(&gold),
            "--pred",
            path(&pred),
            "--train-facts",
            path(&train),
            "--rel-info",
            path(&rel_info),
            "--json",
        ]);
        assert!(ok, "{stderr}");
        let actual: Value = serde_json::from_str(stdout.trim()).unwrap();
        golden::compare(&actual, &record["expected"]["dedupe"], "cli noisy");
        assert_eq!(actual["relations"][0]["name"], "country");
        assert!(
            stderr.contains("2 mentions repeat an earlier mention span"),
            "{stderr}"
        );
    }

    #[test]
    fn eval_report_has_the_relation_table() {
        let gold = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample.json");
        let (ok, stdout, stderr) = run(&[
            "eval",
            "--gold",
            path(&gold),
            "--pred",
            path(&fixture("pred_ties_wrong_first.json")),
            "--train-facts",
            path(&fixture("train.json")),
            "--rel-info",
            path(&shared!("rel_info.json")),
        ]);
        assert!(ok, "{stderr}");
        assert!(
            stdout.contains("RE        P 0.5000  R 0.1250  F1 0.2000"),
            "{stdout}"
        );
        assert!(
            stdout.contains("best threshold θ 0.500000 (top 3)"),
            "{stdout}"
        );
        assert!(stdout.contains("relation  name"), "{stdout}");
        assert!(stdout.contains("P17       country"), "{stdout}");
    }

    #[test]
    fn check_counts_and_reports_bad_documents() {
        let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample.json");
        let (ok, stdout, _) = run(&["check", "--data", path(&sample), "--json"]);
        assert!(ok);
        let v: Value = serde_json::from_str(stdout.trim()).unwrap();
        assert_eq!(
            (v["documents"].as_u64(), v["mentions"].as_u64()),
            (Some(3), Some(20))
        );

        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.json");
        let mut docs = sample_documents();
        docs[0].vertex_set[0][0].pos = [9, 11];
        std::fs::write(&bad, serde_json::to_string(&docs).unwrap()).unwrap();
        let (ok, _, stderr) = run(&["check", "--data", path(&bad)]);
        assert!(!ok);
        assert!(
            stderr.contains("document 0 (`Lake Vellmar`), vertexSet[0][0].pos"),
            "{stderr}"
        );
    }

    #[test]
    fn help() {
        for (command, flag) in [("eval", "--train-facts"), ("check", "--data")] {
            let (ok, stdout, _) = run(&[command, "--help"]);
            assert!(ok && stdout.contains(flag), "{stdout}");
        }
        let (ok, stdout, _) = run(&["--help"]);
        assert!(ok && stdout.contains("eval") && stdout.contains("check"));
    }
}
