//! The `cargo xtask demo` rows: Child-Tuning_D against vanilla fine-tuning of a pre-trained
//! encoder on a small embedded target task, same seeds and steps, selected on dev and reported
//! on unseen test data.
//!
//! Child-Tuning is a way of fine-tuning a *pre-trained* model on little data, so the demo has
//! two stages, both on generated data (text-cls's negation sentences):
//! 1. "pre-training": a tiny encoder learns sentence sentiment with negation (2,400 sentences,
//!    vanilla fine-tuning); its encoder is saved as a Hugging Face-style model directory;
//! 2. the target task, low-resource: *do two sentences have the same sentiment?* (sentence
//!    pairs, 240 training pairs), fine-tuned from that encoder with a fresh head, by vanilla
//!    fine-tuning and by Child-Tuning_D (p_D = 0.3), three seeds each.

use std::path::Path;
use std::time::Instant;

use burnlp_core::data::check_disjoint;
use burnlp_core::data::overlap::dedup_against;
use burnlp_core::report::DemoRow;
use text_cls::{Example, Run, synthetic};

use crate::error::SubnetError;
use crate::strategy::{Strategy, StrategyConfig};
use crate::train::{SubnetConfig, train};

/// Sentences of the pre-training stage.
const PRETRAIN: usize = 2400;
/// Target-task pairs: train, dev, test.
const PAIRS: (usize, usize, usize) = (240, 200, 600);
/// Seeds every strategy is trained with on the target task.
const SEEDS: [u64; 3] = [1, 2, 3];
/// Test accuracy each strategy's mean must reach on the target task (chance is 0.5).
pub const DEMO_TARGET: f64 = 0.6;

/// Pairs of generated sentences labelled `same` or `different` sentiment.
fn pairs(n: usize, seed: u64) -> Vec<Example> {
    let sentences = synthetic::generate(2 * n, seed);
    sentences
        .chunks(2)
        .map(|two| {
            let label = if two[0].label == two[1].label {
                "same"
            } else {
                "different"
            };
            Example::new(two[0].text.clone(), Some(two[1].text.clone()), label)
        })
        .collect()
}

fn pair_key(e: &Example) -> String {
    format!("{} || {}", e.text, e.pair.as_deref().unwrap_or(""))
}

/// Stage 1: trains the sentiment encoder and saves it as a model directory `out/pretrained`.
fn pretrain(out: &Path) -> Result<std::path::PathBuf, SubnetError> {
    let splits = synthetic::splits(PRETRAIN, 300, 0, 0);
    let config = text_cls::TrainConfig {
        epochs: 4,
        lr: 2e-3,
        encoder_lr: 2e-3,
        max_length: 48,
        seed: 0,
        ..text_cls::TrainConfig::default()
    };
    let run_dir = out.join("pretrain-run");
    let origin = serde_json::json!({"synthetic sentiment": {"train": PRETRAIN, "dev": 300}});
    text_cls::train(
        &config,
        &splits.train,
        &splits.dev,
        &run_dir,
        &origin,
        false,
    )?;
    let run = Run::load(&run_dir, &config.device.inference()?)?;
    let model_dir = out.join("pretrained");
    run.model
        .encoder
        .save_pretrained(&model_dir, &run.spec.encoder)?;
    let tokenizer = run_dir.join("tokenizer.json");
    std::fs::copy(&tokenizer, model_dir.join("tokenizer.json")).map_err(|e| {
        SubnetError::Record {
            path: tokenizer,
            record: 0,
            message: format!("cannot copy into the model directory ({e})"),
        }
    })?;
    Ok(model_dir)
}

/// Mean test accuracy of `strategy` over [`SEEDS`], and the per-seed values.
fn mean_accuracy(
    strategy: Strategy,
    encoder: &Path,
    data: (&[Example], &[Example], &[Example]),
    out: &Path,
) -> Result<(f64, Vec<f64>), SubnetError> {
    let (train_set, dev, test) = data;
    let mut accuracies = Vec::new();
    for seed in SEEDS {
        let config = SubnetConfig {
            strategy: StrategyConfig {
                strategy,
                ..StrategyConfig::default()
            },
            fine_tune: text_cls::TrainConfig {
                encoder: encoder.to_string_lossy().as_ref().into(),
                epochs: 6,
                batch_size: 16,
                lr: 2e-3,
                encoder_lr: 1e-3,
                max_length: 48,
                seed,
                ..text_cls::TrainConfig::default()
            },
        };
        let dir = out.join(format!("{}-seed{seed}", strategy.name()));
        let origin = serde_json::json!({"synthetic pairs": {"sizes": PAIRS}});
        train(&config, train_set, dev, &dir, &origin, false)?;
        let run = Run::load(&dir, &config.fine_tune.device.inference()?)?;
        accuracies.push(run.evaluate(test, "synthetic test pairs")?["accuracy"]);
    }
    let mean = accuracies.iter().sum::<f64>() / accuracies.len() as f64;
    Ok((mean, accuracies))
}

/// Pre-trains the tiny encoder, then fine-tunes it on the pair task with vanilla fine-tuning
/// and with Child-Tuning_D; reports both mean test accuracies and their difference.
pub fn demo(out: &Path) -> Result<Vec<DemoRow>, SubnetError> {
    let started = Instant::now();
    let encoder = pretrain(out)?;
    let (n_train, n_dev, n_test) = PAIRS;
    let train_set = pairs(n_train, 101);
    let dev = dedup_against(pairs(n_dev, 102), train_set.iter().map(pair_key), pair_key);
    let seen: Vec<String> = train_set.iter().chain(&dev).map(pair_key).collect();
    let test = dedup_against(pairs(n_test, 103), seen.iter(), pair_key);
    let test_keys: Vec<String> = test.iter().map(pair_key).collect();
    let sizes = check_disjoint("subnet-tune demo train+dev/test", &seen, &test_keys)?;
    let data = (train_set.as_slice(), dev.as_slice(), test.as_slice());
    let (vanilla, vanilla_runs) = mean_accuracy(Strategy::Vanilla, &encoder, data, out)?;
    let (child_d, child_d_runs) = mean_accuracy(Strategy::ChildD, &encoder, data, out)?;
    tracing::info!(?vanilla_runs, ?child_d_runs, "subnet-tune demo");
    let described = format!(
        "same-sentiment pairs ({} train / {} dev / {} unseen test) on a tiny encoder \
         pre-trained on {PRETRAIN} sentiment sentences, seeds 1-3",
        train_set.len(),
        dev.len(),
        sizes.eval
    );
    let delta = child_d - vanilla;
    let verdict = if delta > 0.0 {
        "beats"
    } else {
        "does not beat"
    };
    Ok(vec![
        DemoRow::new(
            "subnet-tune",
            described.clone(),
            "vanilla test acc (mean)",
            vanilla,
            started,
        )
        .with_target(DEMO_TARGET),
        DemoRow::new(
            "subnet-tune",
            described.clone(),
            "child-d test acc (mean)",
            child_d,
            started,
        )
        .with_target(DEMO_TARGET),
        DemoRow::new(
            "subnet-tune",
            format!("{described}: child-d {verdict} vanilla"),
            "child-d − vanilla",
            delta,
            started,
        ),
    ])
}
