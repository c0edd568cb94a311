//! The `cargo xtask demo` rows: a small random encoder fine-tuned on text-cls's synthetic
//! negation task, pruned by Taylor importance (and, as the control, by random scores) to two
//! sparsities, re-fine-tuned for an epoch, and compared on dev right after pruning, on
//! held-out test sentences after re-fine-tuning (accuracy) and on this CPU (latency per
//! batch); then one Dynamic Sparsification training sliced to width 0.25 against the
//! fine-tuned model cut to the same width.

use std::path::Path;
use std::time::Instant;

use burnlp_core::cli::EncoderArgs;
use burnlp_core::nn::bert::BertConfig;
use burnlp_core::report::DemoRow;
use burnlp_core::tokenize::{Tokenizer, WordPieceTrainingConfig};
use text_cls::{TrainConfig, synthetic};

use crate::dynamic::{DynamicConfig, dynamic};
use crate::error::{MlPruneError, Result};
use crate::profile::LatencyConfig;
use crate::prune::{Method, PruneConfig, PruneData, prune};

/// Split sizes and seed of the demo.
const SIZES: (usize, usize, usize) = (1200, 200, 400);
const SEED: u64 = 7;
/// The sparsities of the demo.
const SPARSITIES: [f64; 2] = [0.5, 0.9];

/// Writes a randomly initialised encoder (hidden 128, 2 layers, 4 heads, FFN 512) with a
/// WordPiece vocabulary learned from `texts` as a Hugging Face directory: wide enough that
/// pruning shows in the latency.
pub fn write_random_encoder(dir: &Path, texts: Vec<String>, max_length: usize) -> Result<()> {
    let wordpiece = WordPieceTrainingConfig {
        vocab_size: 2000,
        min_frequency: 1,
        ..Default::default()
    };
    let tokenizer = Tokenizer::train_wordpiece(texts, &wordpiece)?;
    let config = BertConfig::new(tokenizer.vocab_size(), 128, 2, 4, 512)
        .with_max_position_embeddings(max_length)
        .with_hidden_dropout(0.1)
        .with_attention_dropout(0.1);
    let device = burnlp_core::device::cpu();
    device.seed(SEED);
    config.init(&device).save_pretrained(dir, &config)?;
    tokenizer.save(dir.join("tokenizer.json"), false)?;
    Ok(())
}

/// Runs the demo in `out`: one row for the full model's test accuracy, and per sparsity the
/// test accuracy and the latency reduction `1 − pruned / full` (median ms per batch).
pub fn demo(out: &Path) -> Result<Vec<DemoRow>> {
    let started = Instant::now();
    let (n_train, n_dev, n_test) = SIZES;
    let splits = synthetic::splits(n_train, n_dev, n_test, SEED);
    let encoder_dir = out.join("random-encoder");
    let texts = splits.train.iter().map(|e| e.text.clone()).collect();
    write_random_encoder(&encoder_dir, texts, 32)?;
    let config = PruneConfig {
        fine_tune: TrainConfig {
            encoder: EncoderArgs::from(encoder_dir.to_string_lossy().as_ref()),
            epochs: 3,
            lr: 2e-3,
            encoder_lr: 1e-3,
            max_length: 32,
            seed: SEED,
            ..TrainConfig::default()
        },
        sparsity: SPARSITIES.to_vec(),
        importance_examples: 256,
        refine_epochs: 1,
        latency: LatencyConfig {
            batch: 8,
            seq: 32,
            runs: 15,
            warmup: 3,
        },
        ..PruneConfig::default()
    };
    let data = PruneData {
        train: splits.train,
        dev: splits.dev,
        test: Some(splits.test),
    };
    let report = prune(&config, &data, &out.join("importance"))?;
    let random_config = PruneConfig {
        method: Method::Random,
        ..config.clone()
    };
    let random = prune(&random_config, &data, &out.join("random"))?;
    let full = &report.models[0];
    let test = |m: &crate::PrunedModel| {
        m.test
            .ok_or_else(|| MlPruneError::invalid("demo", "no test accuracy"))
    };
    let dataset = |what: String| {
        format!(
            "synthetic negation, {what} ({n_train} train / {n_dev} dev / {n_test} unseen test, seed {SEED})"
        )
    };
    let mut rows = vec![
        DemoRow::new(
            "ml-prune",
            dataset("full model (hidden 128, 2 layers)".into()),
            "test accuracy",
            test(full)?,
            started,
        )
        .with_target(0.85),
    ];
    for (model, control) in report.models[1..].iter().zip(&random.models[1..]) {
        let s = model.sparsity;
        for (name, pruned) in [("importance", model), ("random", control)] {
            rows.push(DemoRow::new(
                "ml-prune",
                dataset(format!(
                    "{name}-pruned to sparsity {s:.1}, right after pruning (no re-fine-tuning), dev"
                )),
                "dev accuracy",
                pruned.dev_pruned,
                started,
            ));
        }
        let kept = model.params.without_embeddings as f64 / full.params.without_embeddings as f64;
        rows.push(
            DemoRow::new(
                "ml-prune",
                dataset(format!(
                    "importance-pruned to sparsity {s:.1}, {:.0}% of non-embedding parameters kept",
                    100.0 * kept
                )),
                "test accuracy",
                test(model)?,
                started,
            )
            .with_target(0.75),
        );
        rows.push(DemoRow::new(
            "ml-prune",
            format!(
                "latency at sparsity {s:.1} vs full: {:.2} vs {:.2} ms per batch of {}×{} (median of {}, CPU)",
                model.latency.median_ms,
                full.latency.median_ms,
                model.latency.batch,
                model.latency.seq,
                model.latency.runs
            ),
            "latency reduction",
            1.0 - model.latency.median_ms / full.latency.median_ms,
            started,
        ));
    }
    rows.extend(dynamic_rows(&config, &data, out, started)?);
    Ok(rows)
}

/// Dynamic Sparsification on the demo's data: the student at width 0.25 and the rewired
/// fine-tuned model cut to 0.25 without retraining, test accuracy.
fn dynamic_rows(
    config: &PruneConfig,
    data: &PruneData,
    out: &Path,
    started: Instant,
) -> Result<Vec<DemoRow>> {
    const WIDTH: f64 = 0.25;
    let ds_config = DynamicConfig {
        fine_tune: config.fine_tune.clone(),
        widths: vec![WIDTH, 1.0],
        dynamic_epochs: 2,
        importance_examples: config.importance_examples,
        latency: config.latency,
        ..DynamicConfig::default()
    };
    let report = dynamic(&ds_config, data, &out.join("dynamic"))?;
    let at = |models: &[crate::PrunedModel]| {
        models
            .iter()
            .find(|m| (m.sparsity - (1.0 - WIDTH)).abs() < 1e-9)
            .and_then(|m| m.test)
            .ok_or_else(|| MlPruneError::invalid("demo", "no test accuracy at width 0.25"))
    };
    let (n_train, n_dev, n_test) = SIZES;
    let dataset = |what: &str| {
        format!(
            "synthetic negation, {what} at width {WIDTH} (1 head, 128 FFN neurons per layer; {n_train} train / {n_dev} dev / {n_test} unseen test, seed {SEED})"
        )
    };
    Ok(vec![
        DemoRow::new(
            "ml-prune",
            dataset("Dynamic Sparsification (one width-adaptive training), sliced"),
            "test accuracy",
            at(&report.models)?,
            started,
        )
        .with_target(0.85),
        DemoRow::new(
            "ml-prune",
            dataset("fine-tuned model rewired by importance and cut without retraining"),
            "test accuracy",
            at(&report.cut)?,
            started,
        ),
    ])
}
