//! A whole pruning run on a small random encoder fine-tuned on text-cls's synthetic task:
//! every sparsity yields a checkpoint that reloads (as a text-cls run and as a Hugging Face
//! encoder), has the expected unit counts, is smaller and not slower; the model learns.

use burnlp_core::cli::EncoderArgs;
use burnlp_core::nn::encoder::load_encoder;
use ml_prune::demo::write_random_encoder;
use ml_prune::profile::latency;
use ml_prune::{LatencyConfig, Method, PruneConfig, PruneData, Setting, prune};
use text_cls::{Run, TrainConfig, synthetic};

fn run(
    method: Method,
    train: usize,
    epochs: usize,
) -> (tempfile::TempDir, ml_prune::PruneReport, PruneData) {
    run_with(method, train, epochs, |config| config, |data| data)
}

/// A pruning run on the synthetic task with `train` training sentences, the configuration and
/// data adjusted by `adjust` and `relabel`.
pub fn run_with(
    method: Method,
    train: usize,
    epochs: usize,
    adjust: impl FnOnce(PruneConfig) -> PruneConfig,
    relabel: impl FnOnce(PruneData) -> PruneData,
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
    let data = relabel(PruneData {
        train: splits.train,
        dev: splits.dev,
        test: Some(splits.test),
    });
    let report = prune(&adjust(config), &data, &dir.path().join("run")).unwrap();
    (dir, report, data)
}

#[test]
fn every_sparsity_reloads_smaller_and_not_slower_and_the_model_learns() {
    let _rng = crate::device_rng();
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
        // `ml-prune eval` measures the same accuracy and sizes.
        let evaluated = ml_prune::eval::eval(
            &model.dir,
            data.test.as_deref(),
            None,
            &LatencyConfig::default(),
            &device,
        )
        .unwrap();
        assert!((evaluated.accuracy.unwrap() - model.test.unwrap()).abs() < 1e-9);
        assert_eq!(evaluated.params, model.params);
        assert!(evaluated.file_bytes > 0);
        previous = model;
    }
    // The full model cut to width 0.5 at evaluation time: two heads per layer, smaller file.
    let half = ml_prune::eval::eval(
        &full.dir,
        None,
        Some(0.5),
        &LatencyConfig::default(),
        &device,
    )
    .unwrap();
    let whole =
        ml_prune::eval::eval(&full.dir, None, None, &LatencyConfig::default(), &device).unwrap();
    assert_eq!(half.heads, vec![2, 2]);
    assert!(half.file_bytes < whole.file_bytes && half.accuracy.is_none());
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
fn taylor_and_l0_prune_to_the_same_sizes_and_keep_accuracy() {
    let _rng = crate::device_rng();
    for method in [Method::Taylor, Method::L0] {
        let (_dir, report, _) = run_with(
            method,
            1200,
            3,
            |c| PruneConfig {
                sparsity: vec![0.5],
                ..c
            },
            |d| d,
        );
        assert_eq!(report.method, method);
        let full = &report.models[0];
        let pruned = &report.models[1];
        assert_eq!(pruned.heads.iter().sum::<usize>(), 4, "{method:?}");
        assert_eq!(pruned.neurons.iter().sum::<usize>(), 512, "{method:?}");
        assert!(
            full.dev >= 0.85,
            "{method:?}: full dev accuracy {}",
            full.dev
        );
        // Half the units, re-fine-tuned for an epoch: still well above chance.
        assert!(
            pruned.test.unwrap() >= 0.75,
            "{method:?}: pruned test accuracy {:?}",
            pruned.test
        );
        if method == Method::L0 {
            assert!(pruned.dir.join("l0/scores.json").exists());
            assert!(!pruned.dir.join("l0/best").exists());
        }
    }
}

#[test]
fn per_language_pruning_keeps_one_model_per_language() {
    let _rng = crate::device_rng();
    // Two "languages": the synthetic sentences alternately tagged `aa` and `bb`.
    let tag = |set: Vec<text_cls::Example>| -> Vec<text_cls::Example> {
        set.into_iter()
            .enumerate()
            .map(|(i, e)| e.with_group(if i % 2 == 0 { "aa" } else { "bb" }))
            .collect()
    };
    let (dir, report, data) = run_with(
        Method::Importance,
        400,
        2,
        |c| PruneConfig {
            sparsity: vec![0.5],
            setting: Setting::PerLanguage,
            ..c
        },
        |d| PruneData {
            train: tag(d.train),
            dev: tag(d.dev),
            test: d.test.map(tag),
        },
    );
    assert_eq!(report.setting, Setting::PerLanguage);
    let langs: Vec<Option<&str>> = report.models.iter().map(|m| m.lang.as_deref()).collect();
    assert_eq!(langs, vec![None, Some("aa"), Some("bb")]);
    // The full model is measured on both languages, each pruned model on its own.
    let full = &report.models[0];
    assert_eq!(
        full.test_by_lang.keys().collect::<Vec<_>>(),
        vec!["aa", "bb"]
    );
    for model in &report.models[1..] {
        let lang = model.lang.as_deref().unwrap();
        assert_eq!(model.dir, dir.path().join(format!("run/{lang}/s0.50")));
        assert!(dir.path().join(format!("run/{lang}/scores.json")).exists());
        assert_eq!(model.test_by_lang.keys().collect::<Vec<_>>(), vec![lang]);
        assert_eq!(model.test, model.test_by_lang.get(lang).copied());
        let own = data
            .test
            .as_ref()
            .unwrap()
            .iter()
            .filter(|e| e.group.as_deref() == Some(lang));
        assert_eq!(own.count(), 50);
        assert_eq!(model.heads.iter().sum::<usize>(), 4);
    }
    // Different data, different masks (the scores differ).
    let scores = |lang: &str| {
        std::fs::read_to_string(dir.path().join(format!("run/{lang}/scores.json"))).unwrap()
    };
    assert_ne!(scores("aa"), scores("bb"));
}

#[test]
fn per_language_needs_a_language_on_every_example() {
    let _rng = crate::device_rng();
    let dir = tempfile::tempdir().unwrap();
    let example = |t: &str, lang: Option<&str>| {
        let e = text_cls::Example::new(t, None, "positive");
        match lang {
            Some(l) => e.with_group(l),
            None => e,
        }
    };
    let config = PruneConfig {
        setting: Setting::PerLanguage,
        ..PruneConfig::default()
    };
    let untagged = PruneData {
        train: vec![example("a", Some("de")), example("b", None)],
        dev: vec![example("c", Some("de"))],
        test: None,
    };
    let error = prune(&config, &untagged, dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("training data") && error.contains("example 2"),
        "{error}"
    );
    let missing = PruneData {
        train: vec![example("a", Some("de")), example("b", Some("fr"))],
        dev: vec![example("c", Some("de"))],
        test: None,
    };
    let error = prune(&config, &missing, dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("dev data") && error.contains("`fr`"),
        "{error}"
    );
    assert!(!dir.path().join("full").exists());
}

#[test]
fn random_scores_prune_to_the_same_sizes() {
    let _rng = crate::device_rng();
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
