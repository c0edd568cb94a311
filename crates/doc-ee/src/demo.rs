//! The `cargo xtask demo` rows: a tiny TSAR (random-init 2-layer BERT, R-GCN over the generated
//! sentence graphs, both streams) trained on generated RAMS-format documents, selected on a dev
//! set and scored on unseen test documents with the official scorer's Arg-C span F1; and a tiny
//! GIT trained on generated ChFinAnn announcements (Doc2EDAG format), scored with the
//! record-level metric on unseen test documents.

use std::path::Path;
use std::time::Instant;

use burnlp_core::data::check_disjoint;
use burnlp_core::report::DemoRow;

use crate::data::Example;
use crate::dee::synth::{SynthConfig, synth_chfinann};
use crate::dee::train::{DeeRun, DeeTrainConfig};
use crate::dee::{CHFINANN, Document};
use crate::error::Result;
use crate::score::{Dataset, HeadSource};
use crate::synthetic;
use crate::train::{TrainConfig, TrainedRun, score_predictions, train};

/// Documents of each split: train, dev (checkpoint selection), test (reported).
pub const DEMO_SIZES: (usize, usize, usize) = (240, 40, 80);

/// Test Arg-C span F1 the demo must reach.
pub const DEMO_TARGET: f64 = 0.5;

/// The demo's training settings: a tiny random encoder and large learning rates.
pub fn demo_config(seed: u64) -> TrainConfig {
    TrainConfig {
        encoder: "tiny".into(),
        epochs: 8,
        batch_size: 8,
        grad_accum: 1,
        lr: 2e-3,
        head_lr: 2e-3,
        warmup: 0.1,
        weight_decay: 0.01,
        dropout: 0.1,
        gcn_layers: 2,
        tiny_hidden: 64,
        tiny_layers: 2,
        event_dim: 16,
        max_len: 128,
        seed,
        ..TrainConfig::default()
    }
}

/// Trains the demo model in `out` and reports test Arg-C span F1 (with its target) and head
/// F1 (last-token heads). Fails if a test document is a training or dev document.
pub fn demo(out: &Path, seed: u64) -> Result<Vec<DemoRow>> {
    let started = Instant::now();
    let (n_train, n_dev, n_test) = DEMO_SIZES;
    let (train_docs, mut graphs) = synthetic::generate(n_train, seed, "train");
    let (dev_docs, dev_graphs) = synthetic::generate(n_dev, seed + 1, "dev");
    let (test_docs, test_graphs) = synthetic::generate(n_test, seed + 2, "test");
    graphs.extend(dev_graphs);
    graphs.extend(test_graphs);
    let texts = |docs: &[Example]| docs.iter().map(Example::text).collect::<Vec<_>>();
    let seen: Vec<String> = texts(&train_docs)
        .into_iter()
        .chain(texts(&dev_docs))
        .collect();
    let sizes = check_disjoint("doc-ee demo train+dev/test", &seen, &texts(&test_docs))?;
    let config = demo_config(seed);
    let ontology = synthetic::ontology();
    let origin = serde_json::json!({
        "synthetic": {"train": n_train, "dev": n_dev, "test": n_test, "seed": seed}
    });
    let best = train(
        &config,
        Dataset::Rams,
        &train_docs,
        &dev_docs,
        &ontology,
        Some(&graphs),
        out,
        &origin,
        false,
    )?;
    let run = TrainedRun::load(out, &config.device.inference()?)?;
    let predictions = run.predict(&test_docs, Some(&graphs), false)?;
    let scores = score_predictions(
        Dataset::Rams,
        &test_docs,
        &predictions,
        &HeadSource::LastToken,
    )?;
    tracing::info!(
        dev_f1 = best.value,
        test_f1 = scores.arg_c.span.f1,
        "doc-ee demo"
    );
    let dataset = format!(
        "synthetic RAMS-format documents ({} train / {} dev / {} unseen test, seed {seed})",
        sizes.train - n_dev,
        n_dev,
        sizes.eval
    );
    let row = |metric: &str, score: f64| DemoRow::new("doc-ee", &dataset, metric, score, started);
    Ok(vec![
        row("TSAR test Arg-C span F1", scores.arg_c.span.f1).with_target(DEMO_TARGET),
        row(
            "TSAR test Arg-C head F1 (last-token heads)",
            scores.arg_c.head.f1,
        ),
    ])
}

/// Generated announcements of each GIT split: train, dev (checkpoint selection), test.
pub const GIT_DEMO_SIZES: (usize, usize, usize) = (100, 20, 60);

/// Test record-level micro F1 the GIT demo must reach.
pub const GIT_DEMO_TARGET: f64 = 0.2;

/// The GIT demo's settings: a small model, large learning rate, a short teacher-forcing
/// schedule.
pub fn git_demo_config(seed: u64) -> DeeTrainConfig {
    DeeTrainConfig {
        hidden: 64,
        ff: 128,
        epochs: 8,
        batch_size: 1,
        lr: 2e-3,
        max_sent_len: 64,
        teacher_epochs: 4,
        decay_epochs: 4,
        seed,
        ..DeeTrainConfig::default()
    }
}

/// Trains the GIT demo model in `out` on generated ChFinAnn-format announcements and reports
/// test record-level micro F1, overall and on multi-event documents. Fails if a test document
/// is a training or dev document.
pub fn git_demo(out: &Path, seed: u64) -> Result<Vec<DemoRow>> {
    let started = Instant::now();
    let (n_train, n_dev, n_test) = GIT_DEMO_SIZES;
    let synth = |docs, seed| {
        synth_chfinann(&SynthConfig {
            docs,
            seed,
            ..SynthConfig::default()
        })
        .0
    };
    let train_docs = synth(n_train, seed);
    let dev_docs = synth(n_dev, seed + 1);
    let test_docs = synth(n_test, seed + 2);
    let text = |docs: &[Document]| {
        docs.iter()
            .map(|d| d.sentences.concat())
            .collect::<Vec<_>>()
    };
    let seen: Vec<String> = text(&train_docs)
        .into_iter()
        .chain(text(&dev_docs))
        .collect();
    let sizes = check_disjoint("doc-ee GIT demo train+dev/test", &seen, &text(&test_docs))?;
    let config = git_demo_config(seed);
    let origin = serde_json::json!({
        "synthetic": {"dataset": "chfinann", "train": n_train, "dev": n_dev, "test": n_test, "seed": seed}
    });
    let (train_path, dev_path, test_path) = (
        Path::new("generated-train.json"),
        Path::new("generated-dev.json"),
        Path::new("generated-test.json"),
    );
    let best = crate::dee::train::train(
        &config,
        &CHFINANN,
        train_path,
        &train_docs,
        dev_path,
        &dev_docs,
        out,
        &origin,
        false,
    )?;
    let run = DeeRun::load(out, &config.device.inference()?)?;
    let predictions = run.predict(test_path, &test_docs, &CHFINANN)?;
    let (scores, _) = crate::dee::metric::score(&CHFINANN, &test_docs, &predictions);
    tracing::info!(
        dev_f1 = best.value,
        test_f1 = scores.micro.f1,
        "doc-ee GIT demo"
    );
    let multi = test_docs.iter().filter(|d| d.num_records() > 1).count();
    let dataset = format!(
        "generated ChFinAnn announcements ({} train / {} dev / {} unseen test, {multi} of them multi-event; seed {seed})",
        sizes.train - n_dev,
        n_dev,
        sizes.eval
    );
    let row = |metric: &str, score: f64| DemoRow::new("doc-ee", &dataset, metric, score, started);
    Ok(vec![
        row("GIT test record micro F1", scores.micro.f1).with_target(GIT_DEMO_TARGET),
        row(
            "GIT test record micro F1, multi-event documents",
            scores.multi.micro.f1,
        ),
    ])
}
