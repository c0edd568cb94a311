//! The classifier scorer: it learns to separate clean pairs from synthetic negatives on lines it
//! never saw, its data keeps dev apart from training, and an ensemble averages its members.

use burnlp_core::burn::tensor::Device;
use burnlp_core::data::check_disjoint;
use para_filter::classifier::{CLEAN, NOISY, scorer_data, z_mean};
use para_filter::noise::{NoiseConfig, inject};
use para_filter::score::{BatchScorer, score_pairs};
use para_filter::synthetic::toy_bitext;
use para_filter::{
    ClassifierScorer, Ensemble, NoiseKind, Pair, ScorerTrainConfig, noise_report, train_scorer,
};
use text_cls::TrainConfig;

fn config(seed: u64) -> ScorerTrainConfig {
    ScorerTrainConfig {
        fine_tune: TrainConfig {
            epochs: 4,
            batch_size: 32,
            lr: 2e-3,
            max_length: 64,
            seed,
            ..TrainConfig::default()
        },
        negatives: 1.0,
        dev_fraction: 0.15,
        kinds: Vec::new(),
    }
}

#[test]
fn dev_examples_are_made_from_held_out_pairs_only() {
    let (pairs, french) = toy_bitext(200, 3);
    let data = scorer_data(&pairs, &french, &config(5)).unwrap();
    let english = |set: &[text_cls::Example], label: &str| {
        set.iter()
            .filter(|e| e.label == label)
            .map(|e| e.text.clone())
            .collect::<Vec<_>>()
    };
    let sizes = check_disjoint(
        "scorer clean pairs",
        &english(&data.train, CLEAN),
        &english(&data.dev, CLEAN),
    )
    .unwrap();
    assert_eq!((sizes.train, sizes.eval), (170, 30));
    // Every negative's English side comes from its own part (or is a fragment of it).
    let dev_english = english(&data.dev, CLEAN).join(" ");
    for e in data.dev.iter().filter(|e| e.label == NOISY) {
        let first = e.text.split_whitespace().next().unwrap_or("");
        assert!(dev_english.contains(first), "{e:?}");
    }
    let negatives = data.train.iter().filter(|e| e.label == NOISY).count();
    assert!((150..=170).contains(&negatives), "{negatives} negatives");
    // Too few pairs for a dev part is refused.
    let error = scorer_data(&pairs[..3], &french, &config(5)).unwrap_err();
    assert!(error.to_string().contains("dev pairs"), "{error}");
}

#[test]
fn classifier_scorer_detects_noise_on_unseen_lines() {
    let (pairs, french) = toy_bitext(1000, 11);
    let (train, held_out) = pairs.split_at(700);
    let english = |p: &[Pair]| p.iter().map(|p| p.en.clone()).collect::<Vec<_>>();
    check_disjoint("scorer test", &english(train), &english(held_out)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let best = train_scorer(train, &french[..700], &config(1), dir.path(), false).unwrap();
    assert!(best.value > 0.8, "dev accuracy {}", best.value);

    let scorer = ClassifierScorer::load(dir.path(), &Device::default()).unwrap();
    let noise = NoiseConfig {
        rate: 0.5,
        seed: 9,
        ..NoiseConfig::default()
    };
    let (lines, labels): (Vec<Pair>, Vec<_>) = inject(held_out, &french[700..], &noise)
        .unwrap()
        .into_iter()
        .unzip();
    let scores = score_pairs(&lines, &scorer, None, 64).unwrap();
    assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
    let report = noise_report(&scores, &labels).unwrap();
    println!(
        "dev accuracy {:.3}, held-out ROC-AUC {report:?}",
        best.value
    );
    assert!(report.overall > 0.85, "{report:?}");
    assert!(
        report.per_kind[NoiseKind::Misaligned.name()] > 0.6,
        "{report:?}"
    );

    // An ensemble of one run twice gives that run's scores; batching does not change them.
    let twice = Ensemble::new(vec![
        Box::new(ClassifierScorer::load(dir.path(), &Device::default()).unwrap()),
        Box::new(scorer),
    ])
    .unwrap();
    let again = score_pairs(&lines[..40], &twice, None, 7).unwrap();
    for (a, b) in again.iter().zip(&scores) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    assert!(Ensemble::new(Vec::<Box<dyn BatchScorer>>::new()).is_err());
}

#[test]
fn a_run_without_a_clean_label_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let examples: Vec<text_cls::Example> = (0..12)
        .map(|i| {
            text_cls::Example::new(format!("a {i}"), Some(format!("b {i}")), ["x", "y"][i % 2])
        })
        .collect();
    let (train, dev) = examples.split_at(8);
    let fine_tune = TrainConfig {
        epochs: 1,
        ..TrainConfig::default()
    };
    text_cls::train(
        &fine_tune,
        train,
        dev,
        dir.path(),
        &serde_json::Value::Null,
        false,
    )
    .unwrap();
    let error = ClassifierScorer::load(dir.path(), &Device::default())
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("no `clean`"), "{error}");
}

/// Scores a pair by `scale ×` the length of its English side.
struct Length(f64);

impl BatchScorer for Length {
    fn score_batch(&self, pairs: &[Pair]) -> para_filter::Result<Vec<f64>> {
        Ok(pairs.iter().map(|p| self.0 * p.en.len() as f64).collect())
    }
}

#[test]
fn z_normalised_ensemble_puts_members_on_one_scale() {
    let pair = |en: &str| Pair::new(en, "x");
    let calibration = [pair("ab"), pair("abcd")]; // lengths 2 and 4: mean 3, σ 1
    let ensemble = Ensemble::z_normalised(
        vec![Box::new(Length(1.0)), Box::new(Length(1000.0))],
        &calibration,
    )
    .unwrap();
    assert_eq!(
        ensemble.statistics().unwrap(),
        &[(3.0, 1.0), (3000.0, 1000.0)]
    );
    // Both members give z = (5 - 3) / 1 = 2 for a 5-character side, whatever their scale.
    let scores = ensemble.score_batch(&[pair("abcde"), pair("abc")]).unwrap();
    assert_eq!(scores, vec![2.0, 0.0]);
    // The plain mean keeps the raw scales.
    let plain = Ensemble::new(vec![Box::new(Length(1.0)), Box::new(Length(3.0))]).unwrap();
    assert_eq!(plain.score_batch(&[pair("ab")]).unwrap(), vec![4.0]);
    assert!(Ensemble::z_normalised(vec![Box::new(Length(1.0))], &calibration[..1]).is_err());
    // Stored scores combine the same way (calibrated on their first two).
    let lines = [pair("ab"), pair("abcd"), pair("abcde"), pair("abc")];
    let a = Length(1.0).score_batch(&lines).unwrap();
    let b = Length(1000.0).score_batch(&lines).unwrap();
    assert_eq!(z_mean(&[&a, &b], 2), vec![-1.0, 1.0, 2.0, 0.0]);
}
