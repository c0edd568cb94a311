//! Generation throughput on the CPU backend: a small random Llama (vocab 2048, hidden 256,
//! 4 layers, 8 query heads, 4 KV heads, SwiGLU 688, untied head), batch 4 × 32-token prompts,
//! 32 greedy new tokens per row (no EOS, so every row runs all steps).
//!
//! `generate/cached` decodes incrementally with the KV cache; `generate/uncached` recomputes the
//! whole sequence at every step. Criterion's throughput is generated tokens per second.
//! `cargo xtask bench` runs this and `datasets/scripts/bench/torch_generate.py` (Hugging Face
//! `generate` with and without `use_cache`, same shapes) and reports the ratio.

#![allow(missing_docs)] // criterion_group! generates an undocumented public function.

use burnlp_core::device;
use burnlp_core::nn::llama::{GenerationConfig, LlamaConfig};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const BATCH: usize = 4;
const PROMPT: usize = 32;
const NEW_TOKENS: usize = 32;
const VOCAB: usize = 2048;

fn generate(c: &mut Criterion) {
    // mimalloc, keeping freed buffers as the burnlp binaries do.
    burnlp_runtime::keep_freed_memory();
    let mut group = c.benchmark_group("generate");
    group.sample_size(10);
    group.throughput(Throughput::Elements((BATCH * NEW_TOKENS) as u64));

    let device = device::cpu();
    device.seed(0);
    let model = LlamaConfig::new(VOCAB, 256, 4, 8, 4, 688).init(&device);
    let prompts: Vec<Vec<u32>> = (0..BATCH)
        .map(|row| {
            (0..PROMPT)
                .map(|i| ((row * PROMPT + i) * 7919 % 2000 + 10) as u32)
                .collect()
        })
        .collect();
    for (id, use_cache) in [("cached", true), ("uncached", false)] {
        let config = GenerationConfig::new(NEW_TOKENS).with_use_cache(use_cache);
        group.bench_function(id, |b| {
            b.iter(|| {
                let out = model.generate(&prompts, &config).expect("generate");
                assert!(out.iter().all(|g| g.tokens.len() == NEW_TOKENS));
                out
            })
        });
    }
    group.finish();
}

criterion_group!(benches, generate);
criterion_main!(benches);
