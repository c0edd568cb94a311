//! Viterbi decoding of the linear-chain CRF on the CPU backend: a CoNLL-sized batch of 32
//! sentences of 8 to 64 tokens (ragged, prefix masks) over 9 tags (BIO with 4 entity types).
//!
//! `crf/viterbi_batched` decodes the whole padded batch in one call (one tensor step per
//! position for all rows, backpointers read back once); `crf/viterbi_per_sequence` decodes the
//! same sentences one call each, as a loop over sentences would. Criterion's throughput is
//! sentences per second. The integration test `span::batched_viterbi_equals_per_sequence_viterbi`
//! checks that both give the same paths.

#![allow(missing_docs)] // criterion_group! generates an undocumented public function.

use burnlp_core::burn::tensor::{Bool, Tensor, TensorData};
use burnlp_core::device;
use burnlp_core::nn::span::CrfConfig;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const BATCH: usize = 32;
const MAX_LEN: usize = 64;
const TAGS: usize = 9;

/// Sentence lengths spread over 8..=64, deterministic.
fn lengths() -> Vec<usize> {
    (0..BATCH).map(|i| 8 + (i * 37) % (MAX_LEN - 7)).collect()
}

fn crf(c: &mut Criterion) {
    // mimalloc, keeping freed buffers as the burnlp binaries do.
    burnlp_runtime::keep_freed_memory();
    let mut group = c.benchmark_group("crf");
    group.sample_size(20);
    group.throughput(Throughput::Elements(BATCH as u64));

    let device = device::cpu();
    device.seed(0);
    let model = CrfConfig::new(TAGS).init(&device);
    let lengths = lengths();
    let emissions: Vec<f32> = (0..BATCH * MAX_LEN * TAGS)
        .map(|i| ((i * 7919) % 1000) as f32 / 250.0 - 2.0)
        .collect();
    let emissions =
        Tensor::<3>::from_data(TensorData::new(emissions, [BATCH, MAX_LEN, TAGS]), &device);
    let mask: Vec<bool> = lengths
        .iter()
        .flat_map(|&n| (0..MAX_LEN).map(move |t| t < n))
        .collect();
    let mask = Tensor::<2, Bool>::from_data(TensorData::new(mask, [BATCH, MAX_LEN]), &device);
    let rows: Vec<(Tensor<3>, Tensor<2, Bool>)> = lengths
        .iter()
        .enumerate()
        .map(|(b, &n)| {
            (
                emissions.clone().slice([b..b + 1, 0..n]),
                Tensor::<2, Bool>::from_data(TensorData::new(vec![true; n], [1, n]), &device),
            )
        })
        .collect();

    group.bench_function("viterbi_batched", |b| {
        b.iter(|| model.decode(emissions.clone(), mask.clone()))
    });
    group.bench_function("viterbi_per_sequence", |b| {
        b.iter(|| {
            rows.iter()
                .map(|(e, m)| model.decode(e.clone(), m.clone()))
                .collect::<Vec<_>>()
        })
    });
    group.finish();
}

criterion_group!(benches, crf);
criterion_main!(benches);
