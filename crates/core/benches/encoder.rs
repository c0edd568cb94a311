//! Encoder throughput on the CPU backend: MiniLM-L6 size, batch 8 × 128 tokens.
//!
//! `encoder/forward` runs the encoder without autodiff; `encoder/train_step` runs forward,
//! backward and an AdamW step of a mean-pooled regression loss, as a fine-tuning step does.
//! `cargo xtask bench` runs this and `datasets/scripts/bench/torch_encoder.py` with the same
//! shapes and reports the ratio.

#![allow(missing_docs)] // criterion_group! generates an undocumented public function.

use burnlp_core::burn::tensor::{Int, Tensor, TensorData};
use burnlp_core::device;
use burnlp_core::nn::bert::{BertConfig, BertInput, mean_pool};
use burnlp_core::train::{AdamWConfig, GradStore};
use criterion::{Criterion, criterion_group, criterion_main};

const BATCH: usize = 8;
const SEQ: usize = 128;

fn config() -> BertConfig {
    // all-MiniLM-L6-v2's shape; dropout off so both sides do the same arithmetic.
    BertConfig::new(30522, 384, 6, 12, 1536)
        .with_hidden_dropout(0.0)
        .with_attention_dropout(0.0)
}

fn input(device: &burnlp_core::device::Device) -> BertInput {
    let ids: Vec<i64> = (0..BATCH * SEQ)
        .map(|i| (i * 7919 % 30000 + 100) as i64)
        .collect();
    BertInput {
        input_ids: Tensor::<2, Int>::from_data(TensorData::new(ids, [BATCH, SEQ]), device),
        attention_mask: Tensor::<2, Int>::ones([BATCH, SEQ], device),
        token_type_ids: None,
    }
}

fn encoder(c: &mut Criterion) {
    // mimalloc, keeping freed buffers as the burnlp binaries do.
    burnlp_runtime::keep_freed_memory();
    let mut group = c.benchmark_group("encoder");
    group.sample_size(10);

    let device = device::cpu();
    device.seed(0);
    let model = config().init(&device);
    let batch = input(&device);
    group.bench_function("forward", |b| {
        b.iter(|| {
            let out = model.forward(batch.clone());
            out.hidden.into_data()
        })
    });

    let device = device::cpu().autodiff();
    device.seed(0);
    let mut model = Some(config().init(&device));
    let mut optimizer = AdamWConfig::new(1e-5).init();
    let batch = input(&device);
    group.bench_function("train_step", |b| {
        b.iter(|| {
            let current = model.take().unwrap();
            let out = current.forward(batch.clone());
            let pooled = mean_pool(out.hidden, batch.attention_mask.clone());
            let loss = pooled.square().mean();
            let grads = GradStore::collect(&current, &loss.backward());
            model = Some(optimizer.step(current, grads, 1.0));
        })
    });
    group.finish();
}

criterion_group!(benches, encoder);
criterion_main!(benches);
