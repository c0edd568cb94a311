//! Bad input is an error naming the file, the setting or the problem, never a panic.

use ml_prune::prune::sparsity;
use ml_prune::{LatencyConfig, PruneConfig, PruneData, Task};
use text_cls::Example;

#[test]
fn sparsity_must_be_inside_zero_one() {
    assert_eq!(sparsity("0.3"), Ok(0.3));
    for bad in ["0", "1", "1.5", "-0.1", "half"] {
        assert!(sparsity(bad).is_err(), "{bad} accepted");
    }
    let config = PruneConfig {
        sparsity: vec![0.2, 1.0],
        ..PruneConfig::default()
    };
    let error = config.validate().unwrap_err().to_string();
    assert!(
        error.contains("--sparsity") && error.contains("(0, 1)"),
        "{error}"
    );
    let empty = PruneConfig {
        sparsity: vec![],
        ..PruneConfig::default()
    };
    assert!(empty.validate().is_err());
}

#[test]
fn a_missing_or_malformed_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.tsv");
    let error = Task::Xnli.read(&missing).unwrap_err().to_string();
    assert!(error.contains("absent.tsv"), "{error}");

    let bad = dir.path().join("xnli.tsv");
    std::fs::write(&bad, "a\tb\tentailment\nonly two\tcolumns\n").unwrap();
    let error = Task::Xnli.read(&bad).unwrap_err().to_string();
    assert!(error.contains("xnli.tsv") && error.contains('2'), "{error}");

    let header_only = dir.path().join("pawsx.tsv");
    std::fs::write(&header_only, "id\tsentence1\tsentence2\tlabel\n").unwrap();
    let error = Task::Pawsx.read(&header_only).unwrap_err().to_string();
    assert!(error.contains("no examples"), "{error}");

    let wrong_columns = dir.path().join("rte.tsv");
    std::fs::write(&wrong_columns, "premise\thypothesis\tlabel\na\tb\t1\n").unwrap();
    let error = Task::Rte.read(&wrong_columns).unwrap_err().to_string();
    assert!(error.contains("sentence1"), "{error}");
}

#[test]
fn a_missing_model_is_named() {
    let _rng = crate::device_rng();
    let device = burnlp_core::device::cpu();
    let error = ml_prune::profile("/nonexistent/model-dir", &LatencyConfig::default(), &device)
        .unwrap_err()
        .to_string();
    assert!(error.contains("/nonexistent/model-dir"), "{error}");
}

#[test]
fn dev_items_seen_in_training_are_rejected_before_training() {
    let _rng = crate::device_rng();
    let dir = tempfile::tempdir().unwrap();
    let example = |t: &str| Example::new(t, Some("b".into()), "0");
    let data = PruneData {
        train: vec![example("x"), example("y")],
        dev: vec![example("y")],
        test: None,
    };
    let error = ml_prune::prune(&PruneConfig::default(), &data, dir.path())
        .unwrap_err()
        .to_string();
    assert!(error.contains("train/dev"), "{error}");
    assert!(!dir.path().join("full").exists());
}

#[test]
fn language_tagged_paths_parse_and_tag_examples() {
    let _rng = crate::device_rng();
    use ml_prune::LangPath;
    let tagged: LangPath = "de=data/xnli.de.tsv".parse().unwrap();
    assert_eq!(tagged.lang.as_deref(), Some("de"));
    assert_eq!(tagged.path, std::path::PathBuf::from("data/xnli.de.tsv"));
    let plain: LangPath = "data/a=b.tsv".parse().unwrap();
    assert_eq!(
        plain.lang, None,
        "a path with `/` before `=` is no language"
    );
    assert!("de=".parse::<LangPath>().is_err());
    assert!("".parse::<LangPath>().is_err());

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("de.tsv");
    std::fs::write(&file, "a\tb\tentailment\nc\td\tneutral\n").unwrap();
    let files = [
        LangPath {
            lang: Some("de".into()),
            path: file.clone(),
        },
        LangPath {
            lang: None,
            path: file,
        },
    ];
    let examples = Task::Xnli.read_all(&files).unwrap();
    let groups: Vec<Option<&str>> = examples.iter().map(|e| e.group.as_deref()).collect();
    assert_eq!(groups, vec![Some("de"), Some("de"), None, None]);
}
