//! Mask semantics through this crate's public API: what each strategy updates, the masks it
//! keeps, and runs that reload.

use std::path::Path;

use burnlp_core::burn::tensor::Device;
use burnlp_core::train::params::{NamedTensors, from_safetensors};
use burnlp_core::train::{MODEL_FILE, RunDir};
use subnet_tune::masks::{density, load_masks, report};
use subnet_tune::strategy::mask_file;
use subnet_tune::{Strategy, StrategyConfig, SubnetConfig, train};
use text_cls::{Example, Run, synthetic};

fn config(strategy: Strategy, epochs: usize) -> SubnetConfig {
    SubnetConfig {
        strategy: StrategyConfig {
            strategy,
            ..StrategyConfig::default()
        },
        fine_tune: text_cls::TrainConfig {
            epochs,
            batch_size: 16,
            lr: 2e-3,
            encoder_lr: 2e-3,
            weight_decay: 0.0,
            max_length: 24,
            seed: 5,
            ..text_cls::TrainConfig::default()
        },
    }
}

fn tensors(path: &Path) -> NamedTensors {
    from_safetensors(&std::fs::read(path).unwrap(), path).unwrap()
}

/// The model of the earliest checkpoint of a run.
fn first_checkpoint(run: &Path) -> NamedTensors {
    let dir = RunDir::new(run).checkpoints();
    let mut steps: Vec<_> = std::fs::read_dir(dir.root())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    steps.sort();
    assert!(
        steps.len() >= 2,
        "expected two checkpoints, found {steps:?}"
    );
    tensors(&steps[0].join(MODEL_FILE))
}

#[test]
fn child_d_updates_only_its_sub_network() {
    let dir = tempfile::tempdir().unwrap();
    let splits = synthetic::splits(160, 40, 0, 5);
    let config = config(Strategy::ChildD, 2);
    train(
        &config,
        &splits.train,
        &splits.dev,
        dir.path(),
        &serde_json::Value::Null,
        false,
    )
    .unwrap();
    let masks = load_masks(dir.path()).unwrap();
    let mask = &masks["all"];
    // The top p_D = 0.3 of the encoder layers' entries; embeddings and head have no mask.
    let overall = density(mask).overall;
    assert!((overall - 0.3).abs() < 0.01, "density {overall}");
    assert!(mask.iter().all(|(path, _)| path.contains("layers.")));
    assert!(mask.iter().any(|(path, _)| path.contains("layers.1.")));

    // Between the epoch-1 checkpoint and the end, with no weight decay, an entry outside the
    // sub-network never moves (its Adam moments stay 0); entries inside it, and unmasked
    // tensors, do.
    let before = first_checkpoint(dir.path());
    let after = tensors(&RunDir::new(dir.path()).last_model());
    let (mut frozen, mut moved_inside) = (0usize, 0usize);
    for (path, bits) in mask.iter() {
        let (a, b) = (&before[path].1, &after[path].1);
        for (i, keep) in bits.iter().enumerate() {
            if keep {
                moved_inside += usize::from(a[i] != b[i]);
            } else {
                assert_eq!(a[i], b[i], "{path}[{i}] is outside the mask but moved");
                frozen += 1;
            }
        }
    }
    assert!(
        frozen > 0 && moved_inside > frozen / 10,
        "{frozen} frozen, {moved_inside} moved"
    );
    let head = after.keys().find(|k| k.starts_with("head.")).unwrap();
    assert_ne!(
        before[head].1, after[head].1,
        "the unmasked head must train"
    );
}

fn grouped(examples: &[Example]) -> Vec<Example> {
    examples
        .iter()
        .enumerate()
        .map(|(i, e)| e.clone().with_group(if i % 2 == 0 { "aa" } else { "bb" }))
        .collect()
}

#[test]
fn s4_detects_one_sub_network_per_language() {
    let dir = tempfile::tempdir().unwrap();
    let splits = synthetic::splits(160, 40, 0, 6);
    let config = config(Strategy::S4, 1);
    let train_set = grouped(&splits.train);
    train(
        &config,
        &train_set,
        &splits.dev,
        dir.path(),
        &serde_json::Value::Null,
        false,
    )
    .unwrap();
    assert!(mask_file(dir.path(), Some("aa")).is_file());
    let masks = load_masks(dir.path()).unwrap();
    assert_eq!(masks.keys().collect::<Vec<_>>(), ["aa", "bb"]);
    // Different data, different Fisher information: the sub-networks overlap, but not fully.
    let jaccard = masks["aa"].jaccard(&masks["bb"]);
    assert!(jaccard > 0.1 && jaccard < 0.95, "overlap {jaccard}");
    let text = report(&masks);
    assert!(
        text.contains("overlap") && text.contains("layer 00"),
        "{text}"
    );

    // Without languages S4-Tuning has nothing to detect: a clear error, not a silent vanilla run.
    let error = train(
        &config,
        &splits.train,
        &splits.dev,
        &dir.path().join("ungrouped"),
        &serde_json::Value::Null,
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("needs languages"), "{error}");
}

#[test]
fn every_strategy_trains_and_reloads() {
    let splits = synthetic::splits(1200, 150, 300, 7);
    for strategy in [Strategy::ChildF, Strategy::BiDrop] {
        let dir = tempfile::tempdir().unwrap();
        let config = config(strategy, 3);
        let best = train(
            &config,
            &splits.train,
            &splits.dev,
            dir.path(),
            &serde_json::Value::Null,
            false,
        )
        .unwrap();
        assert!(best.value > 0.5, "{} dev {}", strategy.name(), best.value);
        let run = Run::load(dir.path(), &Device::default()).unwrap();
        let accuracy = run.evaluate(&splits.test, "test").unwrap()["accuracy"];
        assert!(accuracy > 0.5, "{} test {accuracy}", strategy.name());
        let recorded: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("config.json")).unwrap())
                .unwrap();
        let settings = &recorded["experiment"]["subnetwork"];
        assert_eq!(settings["strategy"], strategy.name(), "{recorded}");
        // Per-step masks are not kept: `masks` explains why.
        let error = load_masks(dir.path()).unwrap_err().to_string();
        assert!(error.contains("only child-d and s4"), "{error}");
    }
}
