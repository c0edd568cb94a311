//! MoE layer forward: grouped dispatch (gather → expert → scatter-add) against the dense loop
//! that runs every expert on every token, for 16 and 64 routed experts (top-2 / top-6).

#![allow(missing_docs)] // criterion_group! generates an undocumented public function.

use burnlp_core::burn::tensor::{Distribution, Tensor};
use criterion::{Criterion, criterion_group, criterion_main};
use peft_moe::experiment::tiny_config;
use peft_moe::moe::MoeConfig;

fn dispatch(c: &mut Criterion) {
    burnlp_runtime::keep_freed_memory();
    let device = burnlp_core::device::cpu();
    for (experts, top_k) in [(16, 2), (64, 6)] {
        let config = MoeConfig {
            n_routed_experts: experts,
            num_experts_per_tok: top_k,
            hidden_size: 128,
            moe_intermediate_size: 64,
            num_hidden_layers: 2,
            ..tiny_config()
        };
        let model = config.init(&device);
        let moe = model.layers[1].mlp.moe.as_ref().expect("MoE layer");
        let x = Tensor::<2>::random([512, 128], Distribution::Normal(0.0, 1.0), &device);
        let routing = moe.route(x.clone());
        let mut group = c.benchmark_group(format!("moe_{experts}x_top{top_k}_512tok"));
        group.sample_size(10);
        group.bench_function("grouped", |b| {
            b.iter(|| moe.forward_routed(x.clone(), &routing).into_data())
        });
        group.bench_function("dense", |b| {
            b.iter(|| moe.forward_dense(x.clone(), &routing).into_data())
        });
        group.finish();
    }
}

criterion_group!(benches, dispatch);
criterion_main!(benches);
