//! Size and speed of structurally pruned encoders on the CPU backend ("a fast model is not
//! necessarily small", Li et al. 2022 §6): an all-MiniLM-L6-v2-shaped random encoder (vocab
//! 30522, hidden 384, 6 layers, 12 heads, FFN 1536), batch 8 × 128 tokens, pruned to widths
//! 1.0 / 0.75 / 0.5 / 0.25 of its heads only, its feed-forward neurons only, or both
//! (`Bert::slice_width`: the first `⌈m·H⌉` heads and `⌈m·F⌉` neurons of every layer).
//!
//! Before criterion runs, a table is printed: parameters (embeddings apart from the layers),
//! the `model.safetensors` size `Bert::save_pretrained` writes, and the fastest and median
//! forward latency of 9 runs after 2 warm-up runs (all cases interleaved round by round, so
//! load from other processes hits them alike). Two rows show what masking alone gives: the
//! full model with half its heads and neurons masked to zero (same size, same speed) and the
//! width multiplier applied inside `forward_masked` (weights sliced on the fly, as Dynamic
//! Sparsification trains). A parameter-only line for an XLM-R-base shape (vocabulary 250002)
//! shows the embedding matrix dominating the size. Criterion then times each forward pass
//! again (`prune/<variant>/<width>`).

#![allow(missing_docs)] // criterion_group! generates an undocumented public function.

use std::time::{Duration, Instant};

use burnlp_core::burn::tensor::{Int, Tensor, TensorData};
use burnlp_core::device::{self, Device};
use burnlp_core::nn::bert::{Bert, BertConfig, BertInput, BertMasks, Width};
use burnlp_core::nn::prune::ParameterCount;
use criterion::{Criterion, criterion_group, criterion_main};

const BATCH: usize = 8;
const SEQ: usize = 128;
const WIDTHS: [f64; 4] = [1.0, 0.75, 0.5, 0.25];

fn config() -> BertConfig {
    BertConfig::new(30522, 384, 6, 12, 1536)
        .with_hidden_dropout(0.0)
        .with_attention_dropout(0.0)
}

fn input(device: &Device) -> BertInput {
    let ids: Vec<i64> = (0..BATCH * SEQ)
        .map(|i| (i * 7919 % 30000 + 100) as i64)
        .collect();
    BertInput {
        input_ids: Tensor::<2, Int>::from_data(TensorData::new(ids, [BATCH, SEQ]), device),
        attention_mask: Tensor::<2, Int>::ones([BATCH, SEQ], device),
        token_type_ids: None,
    }
}

/// A pruning variant: its name and the width it gives for a multiplier.
type Variant = (&'static str, fn(f64) -> Width);

fn variants() -> Vec<Variant> {
    vec![
        ("heads", Width::heads_only),
        ("ffn", Width::neurons_only),
        ("both", Width::uniform),
    ]
}

/// One row of the table: a model and the masks its forward pass gets.
struct Case {
    name: String,
    model: Bert,
    masks: BertMasks,
    file_size: Option<u64>,
}

fn file_size(model: &Bert, config: &BertConfig) -> u64 {
    let dir = std::env::temp_dir().join(format!("burnlp-prune-bench-{}", std::process::id()));
    model
        .save_pretrained(&dir, config)
        .expect("writing the model");
    let size = std::fs::metadata(dir.join("model.safetensors"))
        .expect("model.safetensors")
        .len();
    std::fs::remove_dir_all(&dir).expect("removing the temporary model");
    size
}

fn cases(model: &Bert, config: &BertConfig) -> Vec<Case> {
    let mut cases = vec![Case {
        name: "full / 1.00".into(),
        model: model.clone(),
        masks: BertMasks::default(),
        file_size: Some(file_size(model, config)),
    }];
    for (variant, width) in variants() {
        for m in &WIDTHS[1..] {
            let pruned = model.slice_width(width(*m));
            assert!(pruned.parameter_count().total() < model.parameter_count().total());
            cases.push(Case {
                name: format!("{variant} / {m:.2}"),
                file_size: Some(file_size(&pruned, config)),
                model: pruned,
                masks: BertMasks::default(),
            });
        }
    }
    // Masking is not pruning: zeros in the masks leave the size and the work unchanged.
    let device = model.embeddings.word_embeddings.weight.lazy_device();
    let half = |units: usize| {
        let values: Vec<f32> = (0..6 * units)
            .map(|i| if i % units < units / 2 { 1.0 } else { 0.0 })
            .collect();
        Tensor::<2>::from_data(TensorData::new(values, [6, units]), &device)
    };
    cases.push(Case {
        name: "masked to 0.50 (both)".into(),
        model: model.clone(),
        masks: BertMasks::default()
            .with_heads(half(12))
            .with_neurons(half(1536)),
        file_size: None,
    });
    cases.push(Case {
        name: "width in forward 0.50 (both)".into(),
        model: model.clone(),
        masks: BertMasks::default().with_width(Width::uniform(0.5)),
        file_size: None,
    });
    cases
}

/// Fastest and median forward latency of every case: `warmup` rounds, then `runs` timed
/// rounds, each round running every case once, so that a change in machine load affects all
/// cases alike.
fn latencies(
    cases: &[Case],
    batch: &BertInput,
    warmup: usize,
    runs: usize,
) -> Vec<(Duration, Duration)> {
    let mut times = vec![Vec::new(); cases.len()];
    for round in 0..warmup + runs {
        for (case, times) in cases.iter().zip(&mut times) {
            let start = Instant::now();
            drop(
                case.model
                    .forward_masked(batch.clone(), &case.masks)
                    .hidden
                    .into_data(),
            );
            if round >= warmup {
                times.push(start.elapsed());
            }
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort();
            (t[0], t[runs / 2])
        })
        .collect()
}

fn table(model: &Bert, config: &BertConfig, batch: &BertInput) {
    let (warmup, runs) = (2, 9);
    println!(
        "\nprune: MiniLM-L6 shape, random weights, batch {BATCH} × {SEQ}, {} threads",
        threads()
    );
    println!(
        "| variant / width | heads per layer | FFN per layer | params (M) | embeddings (M) | \
         layers (M) | file (MB) | forward (ms, fastest / median of {runs}) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let cases = cases(model, config);
    let latencies = latencies(&cases, batch, warmup, runs);
    let millions = |n: usize| n as f64 / 1e6;
    for (case, (fastest, median)) in cases.iter().zip(latencies) {
        let count: ParameterCount = case.model.parameter_count();
        println!(
            "| {} | {} | {} | {:.2} | {:.2} | {:.2} | {} | {:.0} / {:.0} |",
            case.name,
            case.model.layer_heads()[0],
            case.model.layer_intermediate_sizes()[0],
            millions(count.total()),
            millions(count.embeddings),
            millions(count.without_embeddings()),
            case.file_size
                .map_or("–".to_string(), |s| format!("{:.1}", s as f64 / 1e6)),
            fastest.as_secs_f64() * 1e3,
            median.as_secs_f64() * 1e3,
        );
    }

    // Parameters only (lazy initialisation allocates nothing): XLM-R base.
    let device = model.embeddings.word_embeddings.weight.lazy_device();
    let xlmr = BertConfig::new(250002, 768, 12, 12, 3072).with_max_position_embeddings(514);
    for m in WIDTHS {
        let width = Width::uniform(m);
        let count = xlmr
            .clone()
            .with_layer_sizes(
                vec![width.keep_heads(12); 12],
                vec![width.keep_neurons(3072); 12],
            )
            .init(&device)
            .parameter_count();
        println!(
            "XLM-R base shape, width {m:.2} (both): {:.1}M parameters, {:.1}M of them embeddings \
             ({:.0}%)",
            millions(count.total()),
            millions(count.embeddings),
            100.0 * count.embeddings as f64 / count.total() as f64
        );
    }
    println!();
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn prune(c: &mut Criterion) {
    // mimalloc, keeping freed buffers as the burnlp binaries do.
    burnlp_runtime::keep_freed_memory();
    let device = device::cpu();
    device.seed(0);
    let config = config();
    let model = config.init(&device);
    let batch = input(&device);
    table(&model, &config, &batch);

    let mut group = c.benchmark_group("prune");
    group.sample_size(10);
    group.bench_function("full/1.00", |b| {
        b.iter(|| model.forward(batch.clone()).hidden.into_data())
    });
    for (variant, width) in variants() {
        for m in &WIDTHS[1..] {
            let pruned = model.slice_width(width(*m));
            group.bench_function(format!("{variant}/{m:.2}"), |b| {
                b.iter(|| pruned.forward(batch.clone()).hidden.into_data())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, prune);
criterion_main!(benches);
