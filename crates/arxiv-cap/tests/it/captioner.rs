//! The tiny captioner: it learns generated charts (a few dozen steps), saves and loads, and
//! captions held-out charts better than the most frequent training caption.

use arxiv_cap::captioner::{
    self, CaptionExample, CaptionerRun, CaptionerSpec, TrainConfig, held_out_scores,
};

fn examples(start: u64, n: usize) -> Vec<CaptionExample> {
    captioner::charts(start, n, 32)
        .into_iter()
        .map(CaptionExample::from)
        .collect()
}

#[test]
fn captioner_learns_generated_charts() {
    let dir = tempfile::tempdir().unwrap();
    let train = examples(0, 600);
    let valid = examples(600, 64);
    let test = examples(1_000_000, 96);
    let config = TrainConfig {
        steps: 60,
        batch_size: 32,
        eval_every: 30,
        warmup: 6,
        progress: false,
        ..TrainConfig::default()
    };
    let report = captioner::train(
        &train,
        &valid,
        &CaptionerSpec::tiny(0),
        &config,
        dir.path(),
        &burnlp_core::device::cpu(),
    )
    .unwrap();
    assert_eq!(report.steps, 60);
    let (before, after) = (report.initial_eval["loss"], report.best_eval["loss"]);
    assert!(after < 0.5 * before, "validation loss {before} → {after}");
    // Next-word accuracy far above the initial model's.
    assert!(
        report.best_eval["accuracy"] > report.initial_eval["accuracy"] + 0.3,
        "{report:?}"
    );
    let run = CaptionerRun::load(dir.path(), &burnlp_core::device::cpu()).unwrap();
    let scores = held_out_scores(&run, &test, train.iter().map(|e| e.caption.as_str())).unwrap();
    assert!(
        scores.model.rouge_l > scores.majority.rouge_l
            && scores.model.bleu2 > scores.majority.bleu2,
        "{scores:?}"
    );
    // Captions of held-out charts start with the right chart kind far more often than chance (1/3).
    let images: Vec<_> = test.iter().map(|e| &e.image).collect();
    let kinds_right = run
        .caption(&images, 32)
        .iter()
        .zip(&test)
        .filter(|(c, e)| c.split(' ').next() == e.caption.split(' ').next())
        .count();
    assert!(
        kinds_right as f64 / test.len() as f64 > 0.6,
        "{kinds_right}/{}",
        test.len()
    );
}

#[test]
fn captioner_rejects_bad_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let device = burnlp_core::device::cpu();
    let train = examples(0, 4);
    let err = captioner::train(
        &train,
        &[],
        &CaptionerSpec::tiny(0),
        &TrainConfig::default(),
        dir.path(),
        &device,
    )
    .unwrap_err();
    assert!(err.to_string().contains("empty"), "{err}");
    let mut odd = examples(0, 4);
    odd[1].image = captioner::Raster::new(16, 16);
    let err = captioner::train(
        &odd,
        &train,
        &CaptionerSpec::tiny(0),
        &TrainConfig::default(),
        dir.path(),
        &device,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("chart-1") && err.to_string().contains("16×16"),
        "{err}"
    );
    let err = CaptionerRun::load(&dir.path().join("missing"), &device)
        .err()
        .unwrap();
    assert!(err.to_string().contains("model.json"), "{err}");
}

#[test]
fn an_interrupted_training_resumes_to_the_uninterrupted_model() {
    let train = examples(0, 64);
    let valid = examples(64, 16);
    let config = TrainConfig {
        steps: 8,
        batch_size: 16,
        eval_every: 2,
        warmup: 1,
        progress: false,
        ..TrainConfig::default()
    };
    let device = burnlp_core::device::cpu();
    let spec = CaptionerSpec::tiny(0);
    let reference = tempfile::tempdir().unwrap();
    captioner::train(&train, &valid, &spec, &config, reference.path(), &device).unwrap();
    let halted = tempfile::tempdir().unwrap();
    let step = |resume: bool, halt_after: Option<usize>| {
        let config = TrainConfig {
            resume,
            halt_after,
            ..config.clone()
        };
        captioner::train(&train, &valid, &spec, &config, halted.path(), &device)
            .unwrap()
            .steps
    };
    // Each process stops after 3 steps; a resumed one goes on from the checkpoint it left.
    assert_eq!(step(false, Some(3)), 3);
    assert_eq!(step(true, Some(3)), 6);
    assert_eq!(step(true, None), 8);
    for file in [
        "best/model.safetensors",
        "last/model.safetensors",
        "vocab.json",
    ] {
        let read = |dir: &std::path::Path| std::fs::read(dir.join(file)).unwrap();
        assert!(
            read(reference.path()) == read(halted.path()),
            "{file} differs from the uninterrupted run's"
        );
    }
}
