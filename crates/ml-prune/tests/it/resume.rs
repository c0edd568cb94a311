//! `--resume`: pruning and Dynamic Sparsification runs halted inside their training stages
//! (as a killed run would stop) and resumed, again and again, end with the files of an
//! uninterrupted run, byte for byte apart from the timings (latencies, examples per second)
//! and the run directory's own path; other settings in the same directory are refused.

use std::path::{Path, PathBuf};

use ml_prune::dynamic::{DynamicConfig, dynamic_with};
use ml_prune::{
    LatencyConfig, Method, MlPruneError, PROGRESS, PruneConfig, PruneData, RunControl, prune_with,
};
use text_cls::{TrainConfig, synthetic};

/// A small pruning setting on the synthetic task (the default `tiny` encoder).
fn setting() -> (PruneConfig, PruneData) {
    let splits = synthetic::splits(240, 60, 60, 5);
    let config = PruneConfig {
        fine_tune: TrainConfig {
            epochs: 2,
            lr: 2e-3,
            max_length: 24,
            seed: 7,
            ..TrainConfig::default()
        },
        sparsity: vec![0.25, 0.5],
        importance_examples: 64,
        refine_epochs: 1,
        latency: LatencyConfig {
            batch: 2,
            seq: 8,
            runs: 1,
            warmup: 0,
        },
        ..PruneConfig::default()
    };
    let data = PruneData {
        train: splits.train,
        dev: splits.dev,
        test: Some(splits.test),
    };
    (config, data)
}

/// Calls `run` halting after `halt_after` steps and resuming until it finishes; the number
/// of halts.
fn until_finished(mut run: impl FnMut(RunControl) -> Result<(), MlPruneError>) -> usize {
    let mut control = RunControl {
        resume: false,
        halt_after: Some(3),
    };
    for halts in 0..100 {
        match run(control) {
            Ok(()) => return halts,
            Err(MlPruneError::Halted { .. }) => control.resume = true,
            Err(e) => panic!("the run failed: {e}"),
        }
    }
    panic!("the run did not finish after 100 resumes");
}

/// Every file under `dir` (relative paths, sorted), hidden names (temporary files) left out.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().unwrap().to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// A JSON value without its timing fields (at any depth).
fn without_timings(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.remove("latency");
            map.remove("examples_per_sec");
            map.values_mut().for_each(without_timings);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(without_timings),
        _ => {}
    }
}

/// Asserts that the two run directories hold the same files with the same bytes (JSON files
/// without their timings, `got`'s path spelt as `reference`'s).
fn assert_same_files(reference: &Path, got: &Path) {
    let names = files(reference);
    assert_eq!(names, files(got), "the runs hold different files");
    assert!(names.len() > 20, "only {} files", names.len());
    for name in &names {
        let a = std::fs::read(reference.join(name)).unwrap();
        let b = std::fs::read(got.join(name)).unwrap();
        let file = name.to_string_lossy();
        if file.ends_with(".json") || file.ends_with(".jsonl") {
            let b = String::from_utf8(b)
                .unwrap()
                .replace(&got.display().to_string(), &reference.display().to_string());
            let parse = |text: &str| -> Vec<serde_json::Value> {
                text.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| l.to_string())
                    .collect::<Vec<_>>()
                    .into_iter()
                    .map(|l| serde_json::from_str(&l))
                    .collect::<Result<_, _>>()
                    .unwrap_or_else(|_| vec![serde_json::from_str(text).unwrap()])
            };
            let (mut x, mut y) = (parse(&String::from_utf8(a).unwrap()), parse(&b));
            x.iter_mut().for_each(without_timings);
            y.iter_mut().for_each(without_timings);
            assert_eq!(x, y, "{file} differs");
        } else {
            assert!(a == b, "{file} differs");
        }
    }
}

#[test]
fn a_halted_pruning_run_resumes_to_the_uninterrupted_files() {
    let _rng = crate::device_rng();
    let dir = tempfile::tempdir().unwrap();
    let (config, data) = setting();
    let reference = dir.path().join("reference");
    let uninterrupted = prune_with(&config, &data, &reference, RunControl::default()).unwrap();
    assert!(reference.join(PROGRESS).is_file());
    assert!(!reference.join("s0.25/checkpoints").exists());

    let resumed = dir.path().join("resumed");
    let halts = until_finished(|control| prune_with(&config, &data, &resumed, control).map(|_| ()));
    // Two re-fine-tunings of 8 steps each, halted every 3 steps.
    assert!(halts >= 4, "halted only {halts} times");
    assert_same_files(&reference, &resumed);

    // Resuming a finished run changes nothing and reports the same models.
    let again = prune_with(
        &config,
        &data,
        &resumed,
        RunControl {
            resume: true,
            halt_after: None,
        },
    )
    .unwrap();
    assert_eq!(again.models.len(), uninterrupted.models.len());
    for (a, b) in again.models.iter().zip(&uninterrupted.models) {
        assert_eq!((a.dev, a.test, &a.heads), (b.dev, b.test, &b.heads));
    }
    assert_same_files(&reference, &resumed);

    // A stage recorded as finished is not trained again: its checkpoints gone, its files kept
    // even when the later stage's directory is removed (that stage is redone identically).
    std::fs::remove_dir_all(resumed.join("s0.50")).unwrap();
    let mut progress: serde_json::Value =
        serde_json::from_slice(&std::fs::read(resumed.join(PROGRESS)).unwrap()).unwrap();
    progress["models"].as_array_mut().unwrap().truncate(2);
    std::fs::write(
        resumed.join(PROGRESS),
        serde_json::to_vec_pretty(&progress).unwrap(),
    )
    .unwrap();
    prune_with(
        &config,
        &data,
        &resumed,
        RunControl {
            resume: true,
            halt_after: None,
        },
    )
    .unwrap();
    assert_same_files(&reference, &resumed);
}

#[test]
fn a_halted_l0_pruning_run_resumes_to_the_uninterrupted_files() {
    let _rng = crate::device_rng();
    let dir = tempfile::tempdir().unwrap();
    let (mut config, data) = setting();
    config.method = Method::L0;
    config.sparsity = vec![0.5];
    let reference = dir.path().join("reference");
    prune_with(&config, &data, &reference, RunControl::default()).unwrap();
    let resumed = dir.path().join("resumed");
    // Halts in the gate training (8 steps) and in the re-fine-tuning (8 steps).
    let halts = until_finished(|control| prune_with(&config, &data, &resumed, control).map(|_| ()));
    assert!(halts >= 4, "halted only {halts} times");
    assert_same_files(&reference, &resumed);
}

#[test]
fn resuming_with_other_settings_is_refused() {
    let _rng = crate::device_rng();
    let dir = tempfile::tempdir().unwrap();
    let (mut config, data) = setting();
    config.sparsity = vec![0.5];
    let control = RunControl {
        resume: false,
        halt_after: Some(2),
    };
    let out = dir.path().join("run");
    assert!(matches!(
        prune_with(&config, &data, &out, control),
        Err(MlPruneError::Halted { .. })
    ));
    config.sparsity = vec![0.25];
    let error = prune_with(
        &config,
        &data,
        &out,
        RunControl {
            resume: true,
            halt_after: None,
        },
    )
    .unwrap_err();
    assert!(matches!(error, MlPruneError::Mismatch { .. }), "{error}");
    assert!(error.to_string().contains("prune.json"), "{error}");
}

#[test]
fn a_halted_dynamic_run_resumes_to_the_uninterrupted_files() {
    let _rng = crate::device_rng();
    let dir = tempfile::tempdir().unwrap();
    let (prune_config, data) = setting();
    let config = DynamicConfig {
        fine_tune: prune_config.fine_tune,
        importance_examples: 64,
        dynamic_epochs: 1,
        latency: prune_config.latency,
        ..DynamicConfig::default()
    };
    let reference = dir.path().join("reference");
    dynamic_with(&config, &data, &reference, RunControl::default()).unwrap();
    let resumed = dir.path().join("resumed");
    let halts =
        until_finished(|control| dynamic_with(&config, &data, &resumed, control).map(|_| ()));
    assert!(halts >= 2, "halted only {halts} times");
    assert_same_files(&reference, &resumed);
}
