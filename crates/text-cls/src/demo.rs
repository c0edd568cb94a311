//! The `cargo xtask demo` row: the synthetic negation task, selected on dev, reported on test.

use std::path::Path;
use std::time::Instant;

use burnlp_core::data::check_disjoint;
use burnlp_core::report::DemoRow;

use crate::error::TextClsError;
use crate::eval::Run;
use crate::synthetic;
use crate::train::{TrainConfig, train};

/// Accuracy the demo must reach on its held-out synthetic test set.
pub const DEMO_TARGET: f64 = 0.9;

/// Split sizes and seed of the demo.
const SIZES: (usize, usize, usize) = (2400, 300, 600);
const SEED: u64 = 42;

/// Trains a `tiny` encoder classifier on generated sentences in `out`, keeps the best model on
/// the dev set and reports its accuracy on the unseen test sentences.
pub fn demo(out: &Path) -> Result<DemoRow, TextClsError> {
    let started = Instant::now();
    let (n_train, n_dev, n_test) = SIZES;
    let splits = synthetic::splits(n_train, n_dev, n_test, SEED);
    let texts = |v: &[crate::Example]| v.iter().map(|e| e.text.clone()).collect::<Vec<_>>();
    let seen: Vec<String> = texts(&splits.train)
        .into_iter()
        .chain(texts(&splits.dev))
        .collect();
    let sizes = check_disjoint("text-cls demo train+dev/test", &seen, &texts(&splits.test))?;
    let config = TrainConfig {
        epochs: 4,
        lr: 2e-3,
        encoder_lr: 2e-3,
        max_length: 32,
        seed: SEED,
        ..TrainConfig::default()
    };
    let origin = serde_json::json!({"synthetic": {"train": n_train, "dev": n_dev, "test": n_test, "seed": SEED}});
    let best = train(&config, &splits.train, &splits.dev, out, &origin, false)?;
    let run = Run::load(out, &config.device.inference()?)?;
    let accuracy = run.evaluate(&splits.test, "synthetic test set")?["accuracy"];
    tracing::info!(dev = best.value, test = accuracy, "text-cls demo");
    Ok(DemoRow::new(
        "text-cls",
        format!(
            "synthetic negation sentiment ({} train / {} dev / {} unseen test, seed {SEED})",
            splits.train.len(),
            splits.dev.len(),
            sizes.eval
        ),
        "test accuracy",
        accuracy,
        started,
    )
    .with_target(DEMO_TARGET))
}
