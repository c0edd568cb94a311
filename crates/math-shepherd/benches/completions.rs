//! Completion throughput of the policy LM: in process, through the HTTP server (loopback,
//! concurrent requests), and raw generation tokens/s.

#![allow(missing_docs)] // criterion_group! generates an undocumented public function.

use std::time::Duration;

use burnlp_core::device::cpu;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use math_shepherd::complete::{Completer, HttpCompleter, HttpSettings, LocalCompleter};
use math_shepherd::lm::{LanguageModel, SampleParams, tiny_llama_config};
use math_shepherd::server::{ServerLimits, start_server};

const PROMPTS: usize = 16;
const N: usize = 4;
const MAX_TOKENS: usize = 32;

fn model() -> LanguageModel {
    let device = cpu();
    device.seed(0);
    let config = tiny_llama_config(64, 2);
    LanguageModel::char_model(config.init(&device), config)
}

fn prompts() -> Vec<String> {
    (0..PROMPTS)
        .map(|i| format!("Ann has {i} pens, gets 3, doubles. How many now?\n"))
        .collect()
}

fn params() -> SampleParams {
    // EOS is unlikely for a random model: every completion runs to max_tokens.
    SampleParams {
        n: N,
        max_tokens: MAX_TOKENS,
        ..SampleParams::default()
    }
}

fn completions(c: &mut Criterion) {
    burnlp_runtime::keep_freed_memory();
    let lm = model();
    let mut group = c.benchmark_group("math-shepherd");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements((PROMPTS * N) as u64));
    let local = LocalCompleter::new(lm.clone(), 256);
    group.bench_function("completions/local", |b| {
        b.iter(|| local.complete(&prompts(), &params()).unwrap())
    });
    let server = start_server(
        lm.clone(),
        "bench",
        "127.0.0.1:0",
        4,
        ServerLimits::default(),
    )
    .expect("server starts");
    let http = HttpCompleter::new(
        &format!("http://{}", server.addr()),
        HttpSettings {
            concurrency: 4,
            prompts_per_request: 4,
            ..HttpSettings::default()
        },
    );
    group.bench_function("completions/http", |b| {
        b.iter(|| http.complete(&prompts(), &params()).unwrap())
    });
    group.throughput(Throughput::Elements((PROMPTS * N * MAX_TOKENS) as u64));
    group.bench_function("generation/tokens", |b| {
        b.iter(|| lm.complete(&prompts(), &params(), 256).unwrap())
    });
    group.finish();
    server.shutdown();
}

criterion_group!(benches, completions);
criterion_main!(benches);
