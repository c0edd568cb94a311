//! text-cls integration tests: learning on unseen sentences, run-directory round trips, errors.

use std::path::Path;

use burnlp_core::burn::tensor::Device;
use text_cls::{
    Columns, Example, Head, Run, TextClsError, TrainConfig, read_tsv, synthetic, train,
};

fn quick_config() -> TrainConfig {
    TrainConfig {
        epochs: 3,
        lr: 2e-3,
        encoder_lr: 2e-3,
        max_length: 24,
        seed: 3,
        ..TrainConfig::default()
    }
}

fn columns() -> Columns {
    Columns {
        text: "sentence".into(),
        pair: None,
        label: "label".into(),
    }
}

#[test]
fn learns_negation_on_unseen_sentences_and_reloads_identically() {
    let dir = tempfile::tempdir().unwrap();
    let splits = synthetic::splits(1200, 150, 300, 3);
    let best = train(
        &quick_config(),
        &splits.train,
        &splits.dev,
        dir.path(),
        &serde_json::Value::Null,
        false,
    )
    .unwrap();
    assert!(best.value > 0.5, "dev accuracy {}", best.value);
    let run = Run::load(dir.path(), &Device::default()).unwrap();
    let test = run.evaluate(&splits.test, "test").unwrap();
    // A bag of words sits at chance (0.5) on this task; the encoder must relate the negator.
    assert!(
        test["accuracy"] > 0.75,
        "test accuracy {}",
        test["accuracy"]
    );
    let predictions = run.predict(&splits.test[..20], "test").unwrap();
    let again = Run::load(dir.path(), &Device::default())
        .unwrap()
        .predict(&splits.test[..20], "test")
        .unwrap();
    for (a, b) in predictions.iter().zip(&again) {
        assert_eq!(a.label, b.label);
        assert_eq!(a.probabilities, b.probabilities);
        let total: f32 = a.probabilities.values().sum();
        assert!((total - 1.0).abs() < 1e-4);
    }
}

#[test]
fn same_seed_gives_the_same_run() {
    // Two runs in one process: the tokenizer learner, initialisation and batch order must all
    // be functions of the seed (this failed while WordPiece training broke ties by hash order).
    let splits = synthetic::splits(200, 40, 0, 9);
    let config = TrainConfig {
        epochs: 1,
        ..quick_config()
    };
    let run = |dir: &Path| {
        train(
            &config,
            &splits.train,
            &splits.dev,
            dir,
            &serde_json::Value::Null,
            false,
        )
        .unwrap()
    };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (ra, rb) = (run(a.path()), run(b.path()));
    let tok = |d: &Path| std::fs::read_to_string(d.join("tokenizer.json")).unwrap();
    assert_eq!(tok(a.path()), tok(b.path()), "tokenizers differ");
    assert_eq!(ra, rb);
    let weights =
        |d: &Path| std::fs::read(burnlp_core::train::RunDir::new(d).best_model()).unwrap();
    assert_eq!(weights(a.path()), weights(b.path()));
}

#[test]
fn unknown_label_and_empty_data_are_errors_naming_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let splits = synthetic::splits(100, 20, 0, 1);
    let empty = train(
        &quick_config(),
        &[],
        &splits.dev,
        dir.path(),
        &serde_json::Value::Null,
        false,
    );
    assert!(
        matches!(empty, Err(TextClsError::Empty { .. })),
        "{empty:?}"
    );

    let tsv = dir.path().join("dev.tsv");
    std::fs::write(
        &tsv,
        "sentence\tlabel\nthe film was good\tpositive\nit was odd\tmixed\n",
    )
    .unwrap();
    let dev = read_tsv(&tsv, &columns()).unwrap();
    let error = train(
        &quick_config(),
        &splits.train,
        &dev,
        &dir.path().join("run"),
        &serde_json::Value::Null,
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("record 2") && error.contains("`mixed`"),
        "{error}"
    );
}

#[test]
fn loading_a_directory_that_is_no_run_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let error = Run::load(dir.path(), &Device::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("model.json") && error.contains("not a text-cls run"),
        "{error}"
    );
}

#[test]
fn regression_head_learns_scores_and_rejects_non_numbers() {
    // STS-B-style: the score is the sentiment as a number (positive 4.0, negative 1.0), so a
    // model that learned negation correlates with gold on unseen sentences.
    let splits = synthetic::splits(1200, 150, 300, 4);
    let scored = |set: &[Example]| -> Vec<Example> {
        set.iter()
            .map(|e| Example {
                label: if e.label == "positive" { "4.0" } else { "1.0" }.into(),
                ..e.clone()
            })
            .collect()
    };
    let config = TrainConfig {
        head: Head::Regression,
        ..quick_config()
    };
    assert_eq!(config.selection_metric(), "corr");
    let dir = tempfile::tempdir().unwrap();
    let best = train(
        &config,
        &scored(&splits.train),
        &scored(&splits.dev),
        dir.path(),
        &serde_json::Value::Null,
        false,
    )
    .unwrap();
    assert!(best.value > 0.3, "dev corr {}", best.value);
    let run = Run::load(dir.path(), &Device::default()).unwrap();
    assert_eq!(run.spec.head, Head::Regression);
    let test = run.evaluate(&scored(&splits.test), "test").unwrap();
    assert!(test["pearson"] > 0.5, "{test:?}");
    let predictions = run.predict(&scored(&splits.test[..3]), "test").unwrap();
    assert!(predictions[0].label.parse::<f32>().is_ok());
    assert!(predictions[0].probabilities.is_empty());

    let mut bad = scored(&splits.dev);
    bad[2].label = "high".into();
    let error = run.evaluate(&bad, "dev.tsv").unwrap_err().to_string();
    assert!(
        error.contains("record 3") && error.contains("`high`"),
        "{error}"
    );
}
