//! NMT throughput on the CPU backend, with the shapes of `datasets/scripts/bench/torch_nmt.py`:
//!
//! - `train_step/{tiny,base}`: one optimizer step (teacher-forced forward, the MLS loss over a
//!   vocabulary of 8000 with half of it masked, backward, AdamW) on 16 pairs of 24 + 24
//!   tokens; throughput in target tokens per second;
//! - `beam_search/{tiny,base}`: beam 5 over 8 sources of 16 tokens, exactly 20 output tokens
//!   per hypothesis (EOS banned before, forced after); throughput in sentences per second;
//! - `bleu/ro_en_1999_lines`: corpus BLEU (sacreBLEU defaults) of the MLS repository's
//!   RO→EN outputs (`../shared/datasets/mls_outputs`), in segments per second.
//!
//! The models are randomly initialised `tiny` (d 64) and `transformer-base` (d 512, 6 + 6
//! layers) presets with shared embeddings and dropout 0.1 in training.

#![allow(missing_docs)] // criterion_group! generates an undocumented public function.

use burnlp_core::burn::tensor::{Tensor, TensorData};
use burnlp_core::device;
use burnlp_core::nn::seq2seq::{SearchConfig, Seq2SeqBatch, weighted_label_smoothed_cross_entropy};
use burnlp_core::train::{AdamWConfig, GradStore};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mls_nmt::{Arch, ModelSpec};

const VOCAB: usize = 8000;
const PAD: u32 = 0;
const EOS: u32 = 3;
const BATCH: usize = 16;
const LEN: usize = 24;
const BEAM_SOURCES: usize = 8;
const BEAM_SRC_LEN: usize = 16;
const BEAM_OUT_LEN: usize = 20;

fn tokens(rows: usize, len: usize, salt: usize) -> Vec<Vec<u32>> {
    (0..rows)
        .map(|r| {
            (0..len)
                .map(|i| ((r * len + i + salt) * 7919 % (VOCAB - 10) + 10) as u32)
                .collect()
        })
        .collect()
}

fn spec(arch: Arch, dropout: f64) -> ModelSpec {
    ModelSpec {
        arch,
        vocab_size: VOCAB,
        pad: PAD,
        eos: EOS,
        dropout,
        max_positions: 256,
    }
}

fn train_step(c: &mut Criterion) {
    burnlp_runtime::keep_freed_memory();
    let mut group = c.benchmark_group("train_step");
    group.sample_size(10);
    group.throughput(Throughput::Elements((BATCH * (LEN + 1)) as u64));
    let device = device::cpu().autodiff();
    device.seed(0);
    let src = tokens(BATCH, LEN, 0);
    let tgt = tokens(BATCH, LEN, 1);
    let pairs: Vec<(&[u32], &[u32])> = src
        .iter()
        .zip(&tgt)
        .map(|(s, t)| (s.as_slice(), t.as_slice()))
        .collect();
    let alpha = 0.1;
    let eps = alpha / (VOCAB as f64 / 2.0 - 1.0);
    let weights: Vec<f32> = (0..VOCAB)
        .map(|j| if j % 2 == 0 { eps as f32 } else { 0.0 })
        .collect();
    for arch in [Arch::Tiny, Arch::TransformerBase] {
        let mut model = spec(arch, 0.1).config().init(&device);
        let mut optimizer = AdamWConfig::new(7e-4).init();
        group.bench_function(arch.name(), |b| {
            b.iter(|| {
                let batch = Seq2SeqBatch::from_pairs(&pairs, EOS, PAD, &device);
                let logits = model.forward(
                    batch.src_tokens,
                    batch.src_padding,
                    batch.prev_output_tokens,
                );
                let smoothing =
                    Tensor::<1>::from_data(TensorData::new(weights.clone(), [VOCAB]), &device);
                let loss = weighted_label_smoothed_cross_entropy(
                    logits,
                    batch.target,
                    1.0 - alpha - eps,
                    smoothing,
                    PAD,
                );
                let grads = GradStore::collect(&model, &loss.backward());
                model = optimizer.step(model.clone(), grads, 1.0);
            })
        });
    }
    group.finish();
}

fn beam_search(c: &mut Criterion) {
    burnlp_runtime::keep_freed_memory();
    let mut group = c.benchmark_group("beam_search");
    group.sample_size(10);
    group.throughput(Throughput::Elements(BEAM_SOURCES as u64));
    let device = device::cpu();
    device.seed(0);
    let sources = tokens(BEAM_SOURCES, BEAM_SRC_LEN, 2);
    let empty: Vec<u32> = Vec::new();
    let pairs: Vec<(&[u32], &[u32])> = sources
        .iter()
        .map(|s| (s.as_slice(), empty.as_slice()))
        .collect();
    let search = SearchConfig::new(EOS, PAD)
        .with_beam_size(5)
        .with_max_len_a(0.0)
        .with_max_len_b(BEAM_OUT_LEN)
        .with_min_len(BEAM_OUT_LEN);
    for arch in [Arch::Tiny, Arch::TransformerBase] {
        let model = spec(arch, 0.0).config().init(&device);
        group.bench_function(arch.name(), |b| {
            b.iter(|| {
                let batch = Seq2SeqBatch::from_pairs(&pairs, EOS, PAD, &device);
                let out = model.beam_search(batch.src_tokens, batch.src_padding, &search);
                assert!(out.iter().all(|h| h[0].tokens.len() == BEAM_OUT_LEN + 1));
                out
            })
        });
    }
    group.finish();
}

fn bleu(c: &mut Criterion) {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/datasets/mls_outputs"
    );
    let read = |name: &str| -> Vec<String> {
        std::fs::read_to_string(format!("{dir}/{name}"))
            .expect("the MLS outputs in ../shared/datasets/mls_outputs")
            .lines()
            .map(String::from)
            .collect()
    };
    let hyps = read("ro-en-ori-ls.out.sys");
    let refs = read("ro-en-ori-ls.out.ref");
    let mut group = c.benchmark_group("bleu");
    group.throughput(Throughput::Elements(hyps.len() as u64));
    group.bench_function("ro_en_1999_lines", |b| {
        b.iter(|| mls_nmt::eval::bleu(&hyps, &refs).expect("bleu").score)
    });
    group.finish();
}

criterion_group!(benches, train_step, beam_search, bleu);
criterion_main!(benches);
