//! The `cargo xtask demo` rows: a small GAIN trained on synthetic trigger-word documents,
//! selected (model and θ) on a dev set and scored with the official scorer on unseen test
//! documents.

use std::path::Path;
use std::time::Instant;

use burnlp_core::data::check_disjoint;
use burnlp_core::report::DemoRow;

use crate::data::Document;
use crate::error::Result;
use crate::eval::{EvalOptions, TrainFacts, evaluate};
use crate::run::{Threshold, TrainConfig, TrainedRun, train};
use crate::synthetic;

/// Test F1 the demo must reach on its unseen synthetic test documents. Measured (2 shared CPU
/// cores): test F1 0.934 / 0.947 / 0.942 for seeds 42 / 7 / 1, where the dev F1 that selected
/// model and θ was 0.945 / 0.961 / 0.943 (the number the demo used to report).
pub const DEMO_TARGET: f64 = 0.85;

/// Documents of each split: train, dev (model and θ selection), test (reported).
pub const DEMO_SIZES: (usize, usize, usize) = (300, 75, 150);

/// Documents per forward pass at prediction.
const PREDICT_BATCH: usize = 4;

/// The demo's documents, drawn with seeds `seed`, `seed + 1` and `seed + 2`.
#[derive(Debug, Clone)]
pub struct DemoSplits {
    /// Training documents.
    pub train: Vec<Document>,
    /// Model-selection documents (best checkpoint and θ).
    pub dev: Vec<Document>,
    /// Reported documents.
    pub test: Vec<Document>,
}

/// The splits of the demo for `seed`.
pub fn splits(seed: u64) -> DemoSplits {
    let (train, dev, test) = DEMO_SIZES;
    DemoSplits {
        train: synthetic::generate(train, seed),
        dev: synthetic::generate(dev, seed + 1),
        test: synthetic::generate(test, seed + 2),
    }
}

/// A document's words joined by spaces (the key of the overlap check).
pub fn document_text(doc: &Document) -> String {
    doc.sents
        .iter()
        .flatten()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The demo's training run: a small GAIN with a random-init word-embedding + BiLSTM encoder
/// (a random-init tiny BERT does not learn word order from this little data: it stays near
/// 0.65 dev F1, see the README), 6 epochs.
pub fn demo_config(seed: u64) -> TrainConfig {
    TrainConfig {
        encoder: "lstm".into(),
        epochs: 6,
        batch_size: 8,
        lr: 1e-3,
        encoder_lr: 1e-3,
        weight_decay: 1e-4,
        dropout: 0.1,
        tiny_hidden: 32,
        tiny_layers: 2,
        embedding_dim: 8,
        lstm_hidden: 32,
        seed,
        ..TrainConfig::default()
    }
}

/// Trains the demo model in `out` and reports test F1 (with a target) and test Ign F1 (against
/// the training facts), both at the dev θ. Fails if a test document is a training or dev
/// document.
pub fn demo(out: &Path, seed: u64) -> Result<Vec<DemoRow>> {
    let started = Instant::now();
    let splits = splits(seed);
    let texts = |docs: &[Document]| docs.iter().map(document_text).collect::<Vec<_>>();
    let seen: Vec<String> = texts(&splits.train)
        .into_iter()
        .chain(texts(&splits.dev))
        .collect();
    let sizes = check_disjoint(
        "docre-gain demo train+dev/test",
        &seen,
        &texts(&splits.test),
    )?;
    let config = demo_config(seed);
    let (n_train, n_dev, n_test) = DEMO_SIZES;
    let origin = serde_json::json!({
        "synthetic": {"train": n_train, "dev": n_dev, "test": n_test, "seed": seed}
    });
    let best = train(
        &config,
        &splits.train,
        &splits.dev,
        synthetic::relation_ids(),
        out,
        &origin,
        false,
    )?;
    let run = TrainedRun::load(out, &config.device.inference()?)?;
    let predictions = run.predict(
        &splits.test,
        "the test documents",
        Threshold::Dev,
        PREDICT_BATCH,
    )?;
    let facts = TrainFacts::from_documents(&splits.train);
    let options = EvalOptions {
        train_facts: Some(&facts),
        ..EvalOptions::default()
    };
    let report = evaluate(&splits.test, &predictions, &options)?;
    tracing::info!(
        dev_f1 = best.value,
        theta = run.dev_theta(),
        test_f1 = report.f1,
        "docre-gain demo"
    );
    let dataset = format!(
        "synthetic trigger-word DocRED ({} train / {} dev / {} unseen test documents, seed {seed})",
        splits.train.len(),
        splits.dev.len(),
        sizes.eval
    );
    let row =
        |metric: &str, score: f64| DemoRow::new("docre-gain", &dataset, metric, score, started);
    Ok(vec![
        row("test F1 at dev θ", report.f1).with_target(DEMO_TARGET),
        row("test Ign F1 at dev θ", report.ign_f1.unwrap_or(0.0)),
    ])
}
