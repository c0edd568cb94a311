//! Dynamic Sparsification: the width sampling follows the sandwich rule, and on a small
//! encoder the width-adaptive model at width 0.5 (and 0.25) is compared with the fine-tuned
//! model rewired and cut to the same width without retraining.

use burnlp_core::cli::EncoderArgs;
use ml_prune::demo::write_random_encoder;
use ml_prune::dynamic::{DynamicConfig, DynamicTask, dynamic};
use ml_prune::{LatencyConfig, PruneData};
use text_cls::{TrainConfig, synthetic};

use crate::common::tiny_task;

#[test]
fn each_step_trains_the_largest_and_smallest_width_and_a_seeded_sample() {
    let _rng = crate::device_rng();
    let task = tiny_task(8, 1);
    let dynamic = DynamicTask {
        task: &task,
        teacher: vec![],
        widths: vec![1.0, 0.75, 0.5, 0.25],
        per_step: 3,
        temperature: 1.0,
        seed: 9,
    };
    let mut middles = std::collections::BTreeSet::new();
    for start in 0..20 {
        let batch: Vec<usize> = (start..start + 4).collect();
        let widths = dynamic.step_widths(&batch);
        assert_eq!(widths.len(), 3);
        assert_eq!(&widths[..2], &[1.0, 0.25]);
        assert_eq!(widths, dynamic.step_widths(&batch), "deterministic");
        middles.insert((widths[2] * 100.0) as u32);
    }
    assert_eq!(middles.into_iter().collect::<Vec<_>>(), vec![50, 75]);
    let all = DynamicTask {
        per_step: 4,
        ..dynamic
    };
    assert_eq!(all.step_widths(&[0]), vec![1.0, 0.75, 0.5, 0.25]);
}

#[test]
fn width_adaptive_training_against_cutting_the_fine_tuned_model() {
    let _rng = crate::device_rng();
    let dir = tempfile::tempdir().unwrap();
    let splits = synthetic::splits(1200, 100, 200, 5);
    let encoder = dir.path().join("encoder");
    write_random_encoder(
        &encoder,
        splits.train.iter().map(|e| e.text.clone()).collect(),
        32,
    )
    .unwrap();
    let config = DynamicConfig {
        fine_tune: TrainConfig {
            encoder: EncoderArgs::from(encoder.to_str().unwrap()),
            epochs: 3,
            lr: 2e-3,
            encoder_lr: 1e-3,
            max_length: 32,
            seed: 5,
            ..TrainConfig::default()
        },
        widths: vec![0.25, 0.5, 1.0],
        dynamic_epochs: 2,
        importance_examples: 64,
        latency: LatencyConfig {
            batch: 8,
            seq: 32,
            runs: 5,
            warmup: 1,
        },
        ..DynamicConfig::default()
    };
    let data = PruneData {
        train: splits.train,
        dev: splits.dev,
        test: Some(splits.test.clone()),
    };
    let out = dir.path().join("run");
    let report = dynamic(&config, &data, &out).unwrap();
    let test = |m: &ml_prune::PrunedModel| m.test.unwrap();
    let teacher = &report.models[0];
    let full = report.full_width.as_ref().unwrap();
    let at = |models: &[ml_prune::PrunedModel], w: f64| {
        models
            .iter()
            .find(|m| (m.sparsity - (1.0 - w)).abs() < 1e-9)
            .cloned()
            .unwrap()
    };
    let (dyn_half, cut_half) = (at(&report.models, 0.5), at(&report.cut, 0.5));
    let (dyn_quarter, cut_quarter) = (at(&report.models, 0.25), at(&report.cut, 0.25));
    let loss = |m: &ml_prune::PrunedModel| m.test_loss.unwrap();
    eprintln!(
        "test accuracy / loss: teacher {:.3} / {:.4}, dynamic w1 {:.3} / {:.4}, w0.5 {:.3} / {:.4}, \
         w0.25 {:.3} / {:.4}; cut w0.5 {:.3} / {:.4}, w0.25 {:.3} / {:.4}",
        test(teacher),
        loss(teacher),
        test(full),
        loss(full),
        test(&dyn_half),
        loss(&dyn_half),
        test(&dyn_quarter),
        loss(&dyn_quarter),
        test(&cut_half),
        loss(&cut_half),
        test(&cut_quarter),
        loss(&cut_quarter)
    );
    assert!(test(teacher) >= 0.85, "teacher {}", test(teacher));
    assert!(test(full) >= 0.85, "dynamic at full width {}", test(full));
    // One model, sliced: half the heads per layer.
    assert_eq!(dyn_half.heads, vec![2, 2]);
    assert_eq!(dyn_quarter.neurons, vec![128, 128]);
    assert!(dyn_quarter.params.total < dyn_half.params.total);
    // At a reduced width the width-adaptive model is at least as accurate as the cut one and
    // fits the held-out labels better (lower test cross-entropy: accuracy saturates on this
    // easy task).
    for (w, dynamic, cut) in [
        (0.5, &dyn_half, &cut_half),
        (0.25, &dyn_quarter, &cut_quarter),
    ] {
        assert!(
            test(dynamic) >= test(cut) && loss(dynamic) < loss(cut),
            "width {w}: dynamic {:.3} / {:.4} vs cut {:.3} / {:.4}",
            test(dynamic),
            loss(dynamic),
            test(cut),
            loss(cut)
        );
    }
    // `eval --width 0.5` on the dynamic run gives the same model and accuracy.
    let device = burnlp_core::device::cpu();
    let evaluated = ml_prune::eval::eval(
        &out.join("dynamic"),
        Some(&splits.test),
        Some(0.5),
        &config.latency,
        &device,
    )
    .unwrap();
    assert_eq!(evaluated.heads, vec![2, 2]);
    assert!((evaluated.accuracy.unwrap() - test(&dyn_half)).abs() < 1e-9);
    assert_eq!(evaluated.params, dyn_half.params);
    // The summary plots.
    let table =
        ml_prune::plot::plot(std::slice::from_ref(&out), &dir.path().join("dyn.svg")).unwrap();
    assert!(table.contains("dynamic: cut, not retrained"), "{table}");
}
