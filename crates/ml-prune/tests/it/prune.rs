//! A whole pruning run on a small random encoder fine-tuned on text-cls's synthetic task:
//! every sparsity yields a checkpoint that reloads (as a text-cls run and as a Hugging Face
//! encoder), has the expected unit counts, is smaller and not slower; the model learns.

use burnlp_core::cli::EncoderArgs;
use burnlp_core::nn::encoder::load_encoder;
use ml_prune::demo::write_random_encoder;
use ml_prune::profile::latency;
use ml_prune::{LatencyConfig, Method, PruneConfig, PruneData, prune};
use text_cls::{Run, TrainConfig, synthetic};

fn run(
    method: Method,
    train: usize,
    epochs: usize,
) -> (tempfile::TempDir, ml_prune::PruneReport, PruneData) {
    let dir = tempfile::tempdir().unwrap();
    let splits = synthetic::splits(train, 100, 100, 3);
    let encoder = dir.path().join("encoder");
    write_random_encoder(
        &encoder,
        splits.train.iter().map(|e| e.text.clone()).collect(),
        32,
    )
    .unwrap();
    let config = PruneConfig {
        fine_tune: TrainConfig {
            encoder: EncoderArgs::from(encoder.to_str().unwrap()),
            epochs,
            lr: 2e-3,
            encoder_lr: 1e-3,
            max_length: 32,
            seed: 3,
            ..TrainConfig::default()
        },
        method,
        sparsity: vec![0.25, 0.5, 0.75],
        importance_examples: 64,
        refine_epochs: 1,
        latency: LatencyConfig {
            batch: 8,
            seq: 32,
            runs: 9,
            warmup: 2,
        },
        ..PruneConfig::default()
    };
    let data = PruneData {
        train: splits.train,
        dev: splits.dev,
        test: Some(splits.test),
    };
    let report = prune(&config, &data, &dir.path().join("run")).unwrap();
    (dir, report, data)
}

#[test]
fn every_sparsity_reloads_smaller_and_not_slower_and_the_model_learns() {
    let (_dir, report, data) = run(Method::Importance, 1200, 3);
    assert_eq!(report.models.len(), 4);
    let full = &report.models[0];
    // Learning: the full model solves the held-out negation sentences.
    assert!(full.dev >= 0.85, "full dev accuracy {}", full.dev);
    assert!(
        full.test.unwrap() >= 0.85,
        "full test accuracy {:?}",
        full.test
    );
    assert_eq!(full.heads, vec![4, 4]);
    let device = burnlp_core::device::cpu();
    let mut previous = full;
    let mut encoders = vec![Run::load(&full.dir, &device).unwrap().model.encoder];
    for model in &report.models[1..] {
        let s = model.sparsity;
        // 8 heads and 1024 neurons in all, each pruned to round((1 − s)·N).
        let kept = |n: usize| ((1.0 - s) * n as f64).round() as usize;
        assert_eq!(model.heads.iter().sum::<usize>(), kept(8), "sparsity {s}");
        assert_eq!(
            model.neurons.iter().sum::<usize>(),
            kept(1024),
            "sparsity {s}"
        );
        assert!(model.params.total < previous.params.total, "sparsity {s}");
        assert_eq!(model.params.embeddings, full.params.embeddings);
        // Reloads as a text-cls run with the same accuracy…
        let reloaded = Run::load(&model.dir, &device).unwrap();
        assert_eq!(reloaded.model.encoder.layer_heads(), model.heads);
        let dev = reloaded.evaluate(&data.dev, "dev").unwrap()["accuracy"];
        assert!((dev - model.dev).abs() < 1e-9, "{dev} vs {}", model.dev);
        // …and as a Hugging Face encoder with its per-layer sizes.
        let encoder = load_encoder(model.dir.join("encoder").to_str().unwrap(), &device).unwrap();
        assert_eq!(encoder.model.layer_heads(), model.heads);
        assert_eq!(encoder.model.layer_intermediate_sizes(), model.neurons);
        assert_eq!(
            ml_prune::Params::from(encoder.model.parameter_count()),
            model.params
        );
        encoders.push(encoder.model);
        previous = model;
    }
    // Not slower than the full model: the fastest of interleaved runs (the machine may be
    // busy), with a small allowance for noise; the biggest cut clearly faster.
    let settings = LatencyConfig {
        batch: 8,
        seq: 32,
        runs: 7,
        warmup: 1,
    };
    let mut fastest = vec![f64::INFINITY; encoders.len()];
    for _ in 0..3 {
        for (best, encoder) in fastest.iter_mut().zip(&encoders) {
            *best = best.min(latency(encoder, &settings, &device).min_ms);
        }
    }
    for (model, ms) in report.models.iter().zip(&fastest).skip(1) {
        assert!(
            *ms <= fastest[0] * 1.10,
            "sparsity {}: {ms} ms vs full {} ms",
            model.sparsity,
            fastest[0]
        );
    }
    assert!(fastest[3] < fastest[0], "{fastest:?}");
}

#[test]
fn random_scores_prune_to_the_same_sizes() {
    let (dir, report, _) = run(Method::Random, 300, 1);
    let summary: ml_prune::PruneReport = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("run/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary, report);
    assert_eq!(report.method, Method::Random);
    let heads: Vec<usize> = report.models.iter().map(|m| m.heads.iter().sum()).collect();
    assert_eq!(heads, vec![8, 6, 4, 2]);
}
