//! SmolLM2-135M-Instruct from its GGUF file (`shared/models/smollm2-135m-instruct/`),
//! dequantized to float32, on the CPU backend:
//!
//! - `smollm2/prefill_b1`: one forward pass over the 96-token GSM8K chat prompt of
//!   `reference.json` (prompt processing);
//! - `smollm2/generate_b1`: 32 greedy new tokens after the 37-token chat prompt, KV cache;
//! - `smollm2/generate_b8`: the same for a batch of 8 copies of that prompt.
//!
//! The process's peak resident memory is written to `target/criterion/smollm2/peak_rss_mb.txt`.
//!
//! `cargo xtask bench` runs this and `datasets/scripts/bench/torch_smollm2.py` (Hugging Face
//! transformers on the same dequantized weights, same prompts) and reports the ratio. Without the
//! shared folder the bench prints why and measures nothing.

#![allow(missing_docs)] // criterion_group! generates an undocumented public function.

use std::path::PathBuf;

use burn::tensor::{Int, Tensor, TensorData};
use burnlp_core::device;
use burnlp_core::nn::llama::{GenerationConfig, Llama, LlamaInput};
use criterion::{Criterion, criterion_group, criterion_main};

const NEW_TOKENS: usize = 32;

fn prompt_ids(reference: &serde_json::Value, name: &str) -> Vec<u32> {
    let prompt = reference["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap();
    serde_json::from_value(prompt["input_ids"].clone()).unwrap()
}

fn smollm2(c: &mut Criterion) {
    burnlp_runtime::keep_freed_memory();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/models/smollm2-135m-instruct");
    if !dir.exists() {
        println!("smollm2 bench skipped: {} is absent", dir.display());
        return;
    }
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("reference.json")).unwrap())
            .unwrap();
    let device = device::cpu();
    let model = Llama::from_gguf(dir.join("SmolLM2-135M-Instruct.Q4_1.gguf"), &device)
        .unwrap()
        .model;
    let long = prompt_ids(&reference, "chat_gsm8k");
    let chat = prompt_ids(&reference, "chat_capital");
    let mut group = c.benchmark_group("smollm2");
    group.sample_size(10);
    group.bench_function("prefill_b1", |b| {
        b.iter(|| {
            let ids = Tensor::<2, Int>::from_data(
                TensorData::new(long.iter().map(|&i| i as i64).collect(), [1, long.len()]),
                &device,
            );
            model
                .forward(LlamaInput::new(ids), None)
                .slice([0..1, long.len() - 1..long.len()])
                .into_data()
        })
    });
    let config = GenerationConfig::new(NEW_TOKENS);
    for batch in [1usize, 8] {
        let prompts = vec![chat.clone(); batch];
        group.bench_function(format!("generate_b{batch}"), |b| {
            b.iter(|| {
                let out = model.generate(&prompts, &config).expect("generate");
                assert!(out.iter().all(|g| g.tokens.len() == NEW_TOKENS));
                out
            })
        });
    }
    group.finish();
    // Peak resident memory of this process (model load and all runs), for `cargo xtask bench`.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(kb) = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
    {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/criterion/smollm2");
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join("peak_rss_mb.txt"), format!("{:.0}", kb / 1024.0));
    }
}

criterion_group!(benches, smollm2);
criterion_main!(benches);
