//! The results suite's three-way split (train / dev / test in file order, checked disjoint)
//! and a fast run of the whole experiment on a generated sample: the report states the split
//! sizes, the scores come from the test portion and the precision–recall curve is drawn.

use std::collections::HashSet;
use std::path::Path;

use burnlp_core::cli::DeviceArgs;
use docre_gain::demo::document_text;
use docre_gain::experiment::{SampleSplit, markdown, split_sample};
use docre_gain::{Document, ExperimentConfig, GainError, load_documents, synthetic};

/// `n` generated documents written to `dir/dev_sample.json` and read back as the experiment
/// reads its sample.
fn sample_file(dir: &Path, n: usize, seed: u64) -> (std::path::PathBuf, Vec<Document>) {
    let path = dir.join("dev_sample.json");
    burnlp_core::data::write_json(&path, &synthetic::generate(n, seed), false).unwrap();
    let (docs, _) = load_documents(&path, None).unwrap();
    (path, docs)
}

fn titles(docs: &[Document]) -> Vec<&str> {
    docs.iter().map(|d| d.title.as_str()).collect()
}

fn texts(docs: &[Document]) -> HashSet<String> {
    docs.iter().map(document_text).collect()
}

#[test]
fn the_sample_is_split_three_ways_in_file_order_and_disjoint() {
    let dir = tempfile::tempdir().unwrap();
    let (_, docs) = sample_file(dir.path(), 20, 11);
    let SampleSplit { train, dev, test } = split_sample(&docs, 3, 5, "sample").unwrap();
    assert_eq!((train.len(), dev.len(), test.len()), (12, 3, 5));
    assert_eq!(titles(train), titles(&docs[..12]));
    assert_eq!(titles(dev), titles(&docs[12..15]));
    assert_eq!(titles(test), titles(&docs[15..]));
    let (train, dev, test) = (texts(train), texts(dev), texts(test));
    assert_eq!(train.len() + dev.len() + test.len(), 20);
    assert!(train.is_disjoint(&dev) && train.is_disjoint(&test) && dev.is_disjoint(&test));
}

#[test]
fn a_held_out_document_that_is_also_seen_fails_the_split() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut docs) = sample_file(dir.path(), 12, 12);
    // The last (test) document repeats a training document under another title, with its
    // words in other case and spacing.
    let mut copy = docs[2].clone();
    copy.title = "another title".into();
    copy.sents[0][0] = copy.sents[0][0].to_uppercase();
    docs[11] = copy;
    match split_sample(&docs, 2, 3, "sample") {
        Err(GainError::Overlap(e)) => {
            assert!(e.split.contains("train+dev/test"), "{e}");
            assert_eq!((e.count, e.first_index), (1, 2));
        }
        other => panic!("expected an overlap error, got {other:?}"),
    }
    // A dev document that is a training document fails too.
    let (_, mut docs) = sample_file(dir.path(), 12, 12);
    docs[8] = docs[0].clone();
    match split_sample(&docs, 2, 3, "sample") {
        Err(GainError::Overlap(e)) => assert!(e.split.contains("train/dev"), "{e}"),
        other => panic!("expected an overlap error, got {other:?}"),
    }
}

#[test]
fn every_portion_must_be_non_empty() {
    let dir = tempfile::tempdir().unwrap();
    let (_, docs) = sample_file(dir.path(), 10, 13);
    for (dev, test, what) in [
        (0, 3, "the dev documents"),
        (3, 0, "the test documents"),
        (4, 6, "the training documents"),
        (9, 9, "the training documents"),
    ] {
        match split_sample(&docs, dev, test, "sample.json") {
            Err(GainError::Empty { what: message }) => {
                assert!(message.starts_with(what), "{dev}/{test}: {message}");
                assert!(message.contains("sample.json"), "{message}");
            }
            other => panic!("{dev}/{test}: expected Empty, got {other:?}"),
        }
    }
    assert!(split_sample(&docs, 4, 5, "sample.json").is_ok());
}

#[test]
fn the_experiment_reports_on_the_test_portion_and_states_the_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let (sample, docs) = sample_file(dir.path(), 20, 14);
    let out = dir.path().join("run");
    let config = ExperimentConfig {
        data: sample.clone(),
        encoder: "tiny".into(),
        out: out.clone(),
        epochs: 1,
        lstm_epochs: 2,
        dev_docs: 3,
        test_docs: 5,
        seed: 3,
        batch_size: 4,
        lr: 1e-3,
        encoder_lr: 1e-3,
        dropout: 0.1,
        embedding_dim: 4,
        word_dim: 8,
        lstm_hidden: 8,
        tiny_hidden: 16,
        device: DeviceArgs::default(),
        command: "docre-gain experiment (test)".into(),
    };
    let summary = docre_gain::run_experiment(&config).unwrap();
    let sizes = |p: &docre_gain::experiment::Portion| p.documents;
    assert_eq!(
        (
            sizes(&summary.train),
            sizes(&summary.dev),
            sizes(&summary.test)
        ),
        (12, 3, 5)
    );
    assert_eq!(summary.seed, 3);
    // The portions written beside the runs are the file's documents in order, and disjoint.
    let read = |name: &str| load_documents(&out.join(name), None).unwrap().0;
    let (train, dev, test) = (read("train.json"), read("dev.json"), read("test.json"));
    assert_eq!(titles(&test), titles(&docs[15..]));
    assert_eq!(titles(&dev), titles(&docs[12..15]));
    assert_eq!(titles(&train), titles(&docs[..12]));
    assert!(texts(&train).is_disjoint(&texts(&test)) && texts(&dev).is_disjoint(&texts(&test)));

    let test_facts: usize = test
        .iter()
        .map(|d| {
            d.labels
                .iter()
                .map(|l| (l.r.as_str(), l.h, l.t))
                .collect::<HashSet<_>>()
                .len()
        })
        .sum();
    assert_eq!(summary.test.facts, test_facts);
    for r in &summary.results {
        // Scored on the test portion: recall is the correct count over the test facts, and
        // the submission at the dev θ is never better than the oracle θ's.
        assert!((r.recall - r.correct as f64 / test_facts as f64).abs() < 1e-9);
        let oracle = r.oracle_f1.unwrap();
        assert!(r.f1 <= oracle + 1e-6, "{} > {oracle}", r.f1);
        assert!((0.0..=1.0).contains(&r.dev_f1) && (0.0..=1.0).contains(&r.theta));
        // The curve: recall never falls, every point is a fraction, its best F1 is the
        // sweep's, and it ends with every candidate kept.
        assert!(!r.curve.is_empty() && r.curve.len() <= docre_gain::experiment::CURVE_POINTS);
        assert!(r.curve.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(
            r.curve
                .iter()
                .all(|&(x, y)| (0.0..=1.0).contains(&x) && (0.0..=1.0).contains(&y))
        );
        let best = r
            .curve
            .iter()
            .map(|&(rec, p)| {
                if rec + p > 0.0 {
                    2.0 * p * rec / (p + rec)
                } else {
                    0.0
                }
            })
            .fold(0.0, f64::max);
        assert!((best - oracle).abs() < 1e-6, "{best} vs {oracle}");
        let (_, last_p) = *r.curve.last().unwrap();
        let all_correct = last_p * r.candidates as f64;
        assert!((all_correct - all_correct.round()).abs() < 1e-6);
        let run = out.join(r.variant);
        for file in ["result.json", "scored.json", "best/state.json"] {
            assert!(run.join(file).exists(), "missing {file}");
        }
    }

    let report = markdown(&summary, "docre-gain.svg");
    for needle in [
        "the first 12 documents for training, the next 3 for dev",
        "the last 5 for test",
        "| train | 12 |",
        "| dev | 3 |",
        "| test | 5 |",
        "Seed 3 for both variants",
        "seed 3;",
        "## Results on the test portion",
        "oracle θ",
        "![Precision–recall curves on the test portion](docre-gain.svg)",
        "Earlier versions of this report",
    ] {
        assert!(report.contains(needle), "missing {needle:?} in\n{report}");
    }
    let files = docre_gain::write_report(&summary, &dir.path().join("out/report.md")).unwrap();
    let svg = std::fs::read_to_string(&files.svg).unwrap();
    // One curve and one dev-θ point per variant.
    assert_eq!(svg.matches("<polyline").count(), 4);
    assert_eq!(svg.matches("<circle").count(), 2);
    assert!(
        std::fs::read_to_string(&files.markdown)
            .unwrap()
            .contains("](report.svg)")
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&files.json).unwrap()).unwrap();
    assert_eq!(json["test"]["documents"], 5);
    assert_eq!(json["paper_test"][1]["f1"].as_f64(), Some(0.6124));
    assert!(json["results"][0].get("curve").is_none());
}
