//! The library's training API: `train` → `TrainedRun::load` → `predict` on held-out documents,
//! the demo's splits, the training flags' validation and typed errors.

use burnlp_core::data::check_disjoint;
use burnlp_core::device::cpu;
use clap::Parser;
use docre_gain::demo::{self, document_text};
use docre_gain::{
    EvalOptions, GainError, Threshold, TrainConfig, TrainFacts, TrainedRun, evaluate, relation_ids,
    split_documents, synthetic,
};

/// A small BiLSTM run (the demo's architecture, fewer documents and epochs).
fn small_config() -> TrainConfig {
    TrainConfig {
        epochs: 2,
        batch_size: 8,
        embedding_dim: 4,
        lstm_hidden: 16,
        tiny_hidden: 16,
        ..demo::demo_config(5)
    }
}

#[test]
fn trained_run_predicts_held_out_documents_at_the_dev_threshold() {
    let (train_docs, dev_docs) = (synthetic::generate(40, 5), synthetic::generate(10, 6));
    let test_docs = synthetic::generate(10, 7);
    let dir = tempfile::tempdir().unwrap();
    let config = small_config();
    let origin = serde_json::json!({"synthetic": [40, 10]});
    let best = docre_gain::train(
        &config,
        &train_docs,
        &dev_docs,
        synthetic::relation_ids(),
        dir.path(),
        &origin,
        false,
    )
    .unwrap();
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(stored["experiment"]["data"], origin);
    let round_trip: TrainConfig =
        serde_json::from_value(stored["experiment"]["config"].clone()).unwrap();
    assert_eq!(round_trip, config);

    let run = TrainedRun::load(dir.path(), &cpu()).unwrap();
    assert_eq!(run.dev_theta(), best.metrics["theta"]);
    assert_eq!(run.config().relations, synthetic::relation_ids());
    let at_theta = run.predict(&test_docs, "test", Threshold::Dev, 4).unwrap();
    let every = run.predict(&test_docs, "test", Threshold::All, 4).unwrap();
    // Every candidate is scored and kept: each ordered entity pair × each relation. (An
    // earlier version cut the list at 50 × facts + 1000, i.e. 1,000 on unlabelled input, which
    // capped recall and understated the AUC.)
    let pairs: usize = test_docs
        .iter()
        .map(|d| d.vertex_set.len() * (d.vertex_set.len() - 1))
        .sum();
    let total = pairs * run.config().relations.len();
    assert!(
        total > 1000,
        "the test needs more candidates than the old cut: {total}"
    );
    assert_eq!(every.len(), total);
    // Both lists are sorted by score, so the thresholded one is a prefix of the full one.
    assert!(!at_theta.is_empty());
    assert_eq!(every[..at_theta.len()], at_theta[..]);
    // The compact sweep (the training loop's path) equals the scorer's sweep over the same list.
    let gold_sweep = evaluate(
        &test_docs,
        &every,
        &EvalOptions {
            train_facts: Some(&TrainFacts::from_documents(&train_docs)),
            ..EvalOptions::default()
        },
    )
    .unwrap()
    .sweep
    .unwrap();
    let scored = run.score(&test_docs, "test", Threshold::All, 4).unwrap();
    let compact = docre_gain::eval::sweep_scored(
        &test_docs,
        scored.iter(),
        Some(&TrainFacts::from_documents(&train_docs)),
    )
    .unwrap();
    assert_eq!(compact, gold_sweep);
    let file = dir.path().join("all.json");
    assert_eq!(scored.write_json(&file, None).unwrap(), total);
    let read = docre_gain::read_predictions(&file).unwrap();
    assert_eq!(read, every);
    assert!(at_theta.iter().all(|p| p.score.unwrap() >= run.dev_theta()));
    let facts = TrainFacts::from_documents(&train_docs);
    let options = EvalOptions {
        train_facts: Some(&facts),
        ..EvalOptions::default()
    };
    let report = evaluate(&test_docs, &at_theta, &options).unwrap();
    assert!((0.0..=1.0).contains(&report.f1), "{}", report.f1);
    assert!(report.ign_f1.is_some());
    // The same documents with the dev θ applied by hand keep the same candidates.
    let given = run
        .predict(&test_docs, "test", Threshold::Given(run.dev_theta()), 4)
        .unwrap();
    assert_eq!(given, at_theta);
}

#[test]
fn demo_splits_are_disjoint_and_deterministic() {
    let splits = demo::splits(42);
    let (train, dev, test) = demo::DEMO_SIZES;
    assert_eq!(
        (splits.train.len(), splits.dev.len(), splits.test.len()),
        (train, dev, test)
    );
    let texts = |docs: &[docre_gain::Document]| docs.iter().map(document_text).collect::<Vec<_>>();
    let seen: Vec<String> = texts(&splits.train)
        .into_iter()
        .chain(texts(&splits.dev))
        .collect();
    let sizes = check_disjoint("demo", &seen, &texts(&splits.test)).unwrap();
    assert_eq!(sizes.eval, test);
    assert_eq!(demo::splits(42).test, splits.test);
    // A document is its own overlap.
    assert!(check_disjoint("demo", &seen, &texts(&splits.train[..1])).is_err());
}

#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    config: TrainConfig,
}

#[test]
fn training_flags_default_to_the_config_and_reject_bad_numbers() {
    let flags = Flags::try_parse_from(["x"]).unwrap();
    assert_eq!(flags.config, TrainConfig::default());
    let flags = Flags::try_parse_from(["x", "--encoder", "lstm", "--select-ign"]).unwrap();
    assert_eq!(flags.config.selection_metric(), "ign_f1");
    for bad in [
        ["--epochs", "0"],
        ["--batch-size", "0"],
        ["--lr", "0"],
        ["--dropout", "1.5"],
        ["--weight-decay", "-1"],
    ] {
        let error = Flags::try_parse_from(["x", bad[0], bad[1]]);
        assert!(error.is_err(), "{bad:?} accepted");
    }
}

#[test]
fn errors_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    let missing = TrainedRun::load(&dir.path().join("nowhere"), &cpu()).unwrap_err();
    assert!(matches!(missing, GainError::NotARun { .. }), "{missing}");
    assert!(
        missing
            .to_string()
            .contains("not a docre-gain run directory")
    );

    let docs = synthetic::generate(3, 1);
    let empty = docre_gain::train(
        &small_config(),
        &docs,
        &[],
        synthetic::relation_ids(),
        dir.path(),
        &serde_json::Value::Null,
        false,
    )
    .unwrap_err();
    assert!(matches!(empty, GainError::Empty { .. }), "{empty}");

    let split = split_documents(&docs, 3, "three.json").unwrap_err();
    assert_eq!(
        split.to_string(),
        "a dev portion of 3 documents must be between 1 and 2 (three.json has 3 documents)"
    );
    let (train, dev) = split_documents(&docs, 1, "three.json").unwrap();
    assert_eq!((train.len(), dev.len()), (2, 1));

    let mut unlabelled = docs.clone();
    unlabelled.iter_mut().for_each(|d| d.labels.clear());
    assert!(matches!(
        relation_ids(None, &unlabelled),
        Err(GainError::NoRelations)
    ));
    assert_eq!(
        relation_ids(None, &docs).unwrap(),
        // P-numbers in numeric order.
        {
            let mut ids: Vec<String> = docs
                .iter()
                .flat_map(|d| d.labels.iter().map(|l| l.r.clone()))
                .collect();
            ids.sort_by_key(|r| r[1..].parse::<u32>().unwrap());
            ids.dedup();
            ids
        }
    );
    let report = docre_gain::experiment::check_report_path(std::path::Path::new("r.json"));
    assert!(matches!(report, Err(GainError::ReportPath { .. })));
}
