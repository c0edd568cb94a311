//! The library's training and run-directory API: typed errors before any work is done.

use fssl_span::data::Episode;
use fssl_span::{FsslError, Run, TrainConfig, train};

#[test]
fn empty_episode_sets_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let some: Vec<Episode> = fssl_span::demo::splits(1).unwrap().dev;
    let origin = serde_json::Value::Null;
    let config = TrainConfig::default();
    let err = train(&config, &some, &[], dir.path(), &origin, false).unwrap_err();
    assert!(
        matches!(&err, FsslError::NoEpisodes { what } if what == "the dev episodes"),
        "{err}"
    );
    let err = train(&config, &[], &some, dir.path(), &origin, false).unwrap_err();
    assert!(matches!(err, FsslError::NoEpisodes { .. }), "{err}");
}

#[test]
fn loading_a_directory_without_a_run_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let device = burnlp_core::device::cpu();
    let err = Run::load(dir.path(), &device).unwrap_err();
    assert!(matches!(err, FsslError::NotARun { .. }), "{err}");
    assert!(err.to_string().contains("is not a fssl-span run directory"));
}

#[test]
fn a_loaded_run_scores_dev_as_training_selected_it() {
    let dir = tempfile::tempdir().unwrap();
    let splits = fssl_span::demo::splits(3).unwrap();
    let (train_set, dev) = (&splits.train[..4], &splits.dev[..3]);
    let config = TrainConfig {
        hidden: 16,
        ..TrainConfig::small(fssl_span::model::Architecture::Esd, 4, 3)
    };
    let origin = serde_json::json!({"test": true});
    let best = train(&config, train_set, dev, dir.path(), &origin, false).unwrap();
    let run = Run::load(dir.path(), &burnlp_core::device::cpu()).unwrap();
    let metrics = run.evaluate(dev, config.f1, "dev").unwrap();
    assert!(
        (metrics["f1"] - best.value).abs() < 1e-9,
        "{metrics:?} vs {best:?}"
    );
    let predictions = run.predict(dev, "dev").unwrap();
    assert_eq!(
        predictions.len(),
        dev.iter().map(|e| e.query.len()).sum::<usize>()
    );
    // Resuming with other data is refused: the origin is part of the run's identity.
    let other = serde_json::json!({"test": false});
    let err = train(&config, train_set, dev, dir.path(), &other, true).unwrap_err();
    assert!(err.to_string().contains("belongs to another run"), "{err}");
}
