//! Cost of each strategy's training step against vanilla fine-tuning, on the CPU backend: a
//! classifier on an all-MiniLM-L6-v2-shaped random encoder (vocab 30522, hidden 384, 6 layers,
//! 12 heads, FFN 1536, dropout 0.1), batch 8 × 64 tokens, through core's trainer exactly as
//! `subnet-tune train` runs it (masks drawn, selected and applied; AdamW in the Transformers
//! style).
//!
//! `strategies/<name>` is the time of one optimizer step: each measured iteration runs a short
//! and a long training (1 and 4 steps) and takes the difference divided by 3, so the fixed
//! costs of a run (the run directory, the final checkpoint) cancel. Bi-Drop's `k = 2` passes
//! should cost about 2×; Child-Tuning_F should stay under 1.2× vanilla.
//! `strategies/fisher_4_batches` is Child-Tuning_D's one-off Fisher pass over 4 batches.

#![allow(missing_docs)] // criterion_group! generates an undocumented public function.

use std::time::{Duration, Instant};

use burnlp_core::nn::bert::BertConfig;
use burnlp_core::train::subnet::{FisherOptions, fisher_information};
use burnlp_core::train::{AdamWConfig, AdamWStyle, LrSchedule, TrainTask, Trainer, TrainerConfig};
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use subnet_tune::{Strategy, StrategyConfig};
use text_cls::{ClassificationTask, Classifier, ClassifierSpec, EncodedSet, Head, Pooling};

const BATCH: usize = 8;
const SEQ: usize = 64;
const BATCHES: usize = 8;

fn spec() -> ClassifierSpec {
    ClassifierSpec {
        encoder: BertConfig::new(30522, 384, 6, 12, 1536)
            .with_hidden_dropout(0.1)
            .with_attention_dropout(0.1),
        labels: vec!["0".into(), "1".into()],
        head: Head::Classification,
        pooling: Pooling::Cls,
        dropout: 0.1,
        max_length: SEQ,
    }
}

fn set(rows: usize) -> EncodedSet {
    EncodedSet {
        ids: (0..rows)
            .map(|r| {
                (0..SEQ)
                    .map(|i| ((r * 131 + i * 7919) % 30000 + 100) as u32)
                    .collect()
            })
            .collect(),
        type_ids: vec![vec![0; SEQ]; rows],
        labels: (0..rows).map(|r| r % 2).collect(),
        targets: Vec::new(),
        groups: vec![None; rows],
    }
}

fn task() -> ClassificationTask {
    ClassificationTask {
        train: set(BATCH * BATCHES),
        dev: set(BATCH),
        batch_size: BATCH,
        pad_id: 0,
        head: Head::Classification,
    }
}

/// Trains `steps` optimizer steps from `model` with `strategy`; returns the wall time of the
/// training alone (Child-Tuning_D's Fisher pass, run when its masks are built, is timed on its
/// own below).
fn fit(
    model: &Classifier,
    task: &ClassificationTask,
    strategy: Strategy,
    steps: usize,
) -> Duration {
    let dir = tempfile::tempdir().expect("a temporary run directory");
    let config = StrategyConfig {
        strategy,
        fisher_batches: Some(4),
        ..StrategyConfig::default()
    };
    let mut trainer = Trainer::new(
        TrainerConfig {
            epochs: 1,
            max_steps: Some(steps),
            schedule: LrSchedule::Constant,
            progress: false,
            ..TrainerConfig::default()
        },
        dir.path(),
    );
    if let Some(subnetwork) = config.subnetwork(7, dir.path()) {
        trainer = trainer.with_mask_provider((subnetwork.masks)(model, task).expect("masks"));
    }
    let started = Instant::now();
    run(trainer, model, task);
    started.elapsed()
}

fn run(trainer: Trainer, model: &Classifier, task: &ClassificationTask) {
    let optimizer = AdamWConfig::new(4e-5).with_style(AdamWStyle::Transformers);
    trainer
        .fit(model.clone(), optimizer.init(), task, false)
        .expect("training");
}

fn strategies(c: &mut Criterion) {
    burnlp_runtime::keep_freed_memory();
    let device = burnlp_core::device::training_device("cpu").expect("the CPU device");
    device.seed(7);
    let model = spec().init(&device);
    let task = task();
    let mut group = c.benchmark_group("strategies");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(20));
    for strategy in [
        Strategy::Vanilla,
        Strategy::ChildF,
        Strategy::ChildD,
        Strategy::BiDrop,
    ] {
        group.bench_function(strategy.name(), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let short = fit(&model, &task, strategy, 1);
                    let long = fit(&model, &task, strategy, 4);
                    total += long.saturating_sub(short) / 3;
                }
                total
            })
        });
    }
    let batches: Vec<Vec<usize>> = task.train_batches(0, 7).into_iter().take(4).collect();
    group.bench_function("fisher_4_batches", |b| {
        b.iter(|| {
            fisher_information(&model, &task, &batches, &FisherOptions::default())
                .expect("Fisher information")
        })
    });
    group.finish();
}

criterion_group!(benches, strategies);
criterion_main!(benches);
