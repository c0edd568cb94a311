//! The GPU code path gives the CPU backend's results (run by `cargo xtask wgpu`).
//!
//! Compiled only with `--features wgpu`; on machines without a GPU, Mesa's software Vulkan
//! driver (lavapipe) runs it.
#![cfg(feature = "wgpu")]

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::{Device, Int, Tensor, TensorData};
use burnlp_core::device;
use burnlp_core::nn::bert::{BertConfig, BertInput, mean_pool};
use burnlp_core::train::GradStore;
use burnlp_core::train::params::{load_parameters, save_parameters};

fn input(device: &Device) -> BertInput {
    let rows = vec![vec![2, 17, 33, 5, 9, 3], vec![2, 8, 3]];
    BertInput::from_rows(&rows, 0, device)
}

fn max_diff(a: Vec<f32>, b: Vec<f32>) -> f32 {
    a.iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}

#[test]
fn encoder_forward_and_gradients_match_cpu() {
    let config = BertConfig::new(40, 32, 2, 4, 64)
        .with_hidden_dropout(0.0)
        .with_attention_dropout(0.0);
    let cpu = device::cpu().autodiff();
    let gpu = device::parse_device("wgpu").unwrap().autodiff();
    cpu.seed(1);
    let cpu_model = config.init(&cpu);
    // Same weights on both devices: save on the CPU, load on the GPU.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("model.safetensors");
    save_parameters(&cpu_model, &file).unwrap();
    let gpu_model = load_parameters(config.init(&gpu), &file).unwrap();

    let mut results = Vec::new();
    for (model, device) in [(&cpu_model, &cpu), (&gpu_model, &gpu)] {
        let batch = input(device);
        let out = model.forward(batch.clone());
        let pooled = mean_pool(out.hidden.clone(), batch.attention_mask);
        let loss = pooled.square().mean();
        let grads = GradStore::collect(model, &loss.backward());
        let grad = grads.get("layers.0.query.weight").unwrap().clone();
        results.push((values(out.hidden), values(grad)));
    }
    let (cpu_hidden, cpu_grad) = results.remove(0);
    let (gpu_hidden, gpu_grad) = results.remove(0);
    assert!(max_diff(cpu_hidden, gpu_hidden) < 1e-4);
    assert!(max_diff(cpu_grad, gpu_grad) < 1e-4);
}

#[test]
fn integer_and_boolean_ops_match_cpu() {
    let gpu = device::parse_device("wgpu").unwrap();
    let ids = Tensor::<2, Int>::from_data(TensorData::new(vec![1i64, 0, 3, 1], [2, 2]), &gpu);
    let counts = ids.not_equal_elem(0).int().cumsum(1);
    assert_eq!(
        counts
            .into_data()
            .convert::<i64>()
            .try_into_vec::<i64>()
            .unwrap(),
        vec![1, 1, 1, 2]
    );
}

/// A small graph with several relations, a repeated edge, a self-edge and an isolated node.
fn graph() -> burnlp_core::nn::graph::HeteroGraph {
    let mut graph = burnlp_core::nn::graph::HeteroGraph::new(2, 3);
    let nodes: Vec<_> = (0..6).map(|i| graph.add_node(i % 2).unwrap()).collect();
    for (src, dst, relation) in [
        (0, 1, 0),
        (0, 1, 0),
        (1, 2, 1),
        (2, 2, 2),
        (3, 1, 2),
        (4, 0, 1),
    ] {
        graph.add_edge(nodes[src], nodes[dst], relation).unwrap();
    }
    graph
}

#[test]
fn graph_layers_match_cpu() {
    use burnlp_core::nn::graph::{GatConfig, GraphBatch, RgcnConfig};
    let cpu = device::cpu();
    let gpu = device::parse_device("wgpu").unwrap();
    cpu.seed(3);
    let rgcn = RgcnConfig::new(8, 8, 3).with_num_bases(Some(2)).init(&cpu);
    let gat = GatConfig::new(8, 4, 2)
        .with_num_relations(Some(3))
        .init(&cpu);
    let features = Tensor::<2>::random(
        [6, 8],
        burnlp_core::burn::tensor::Distribution::Default,
        &cpu,
    );
    let g = graph();
    let mut outputs = Vec::new();
    for device in [&cpu, &gpu] {
        let batch = GraphBatch::new([&g], device).unwrap();
        let rgcn = rgcn.clone().to_device(device);
        let gat = gat.clone().to_device(device);
        let nodes = features.clone().to_device(device);
        outputs.push((
            values(rgcn.forward(nodes.clone(), &batch)),
            values(gat.forward(nodes, &batch)),
        ));
    }
    let (cpu_rgcn, cpu_gat) = outputs.remove(0);
    let (gpu_rgcn, gpu_gat) = outputs.remove(0);
    assert!(max_diff(cpu_rgcn, gpu_rgcn) < 1e-4);
    assert!(max_diff(cpu_gat, gpu_gat) < 1e-4);
}

#[test]
fn llama_logits_match_cpu() {
    use burnlp_core::nn::llama::{LlamaConfig, LlamaInput};
    let cpu = device::cpu();
    let gpu = device::parse_device("wgpu").unwrap();
    cpu.seed(5);
    let model = LlamaConfig::new(64, 32, 2, 4, 2, 48).init(&cpu);
    let prompts = vec![vec![3u32, 9, 27, 1], vec![5, 7]];
    let mut logits = Vec::new();
    for device in [&cpu, &gpu] {
        let model = model.clone().to_device(device);
        let input = LlamaInput::left_padded(&prompts, device);
        logits.push(values(model.forward(input, None)));
    }
    let gpu_logits = logits.pop().unwrap();
    assert!(max_diff(logits.pop().unwrap(), gpu_logits) < 1e-4);
}

#[test]
fn tanh_scores_on_the_gpu_match_the_cpu_kernel() {
    use burnlp_core::nn::scores::tanh_scores;
    let cpu = device::cpu().autodiff();
    let gpu = device::parse_device("wgpu").unwrap().autodiff();
    let q: Vec<f32> = (0..2 * 5 * 12)
        .map(|i| ((i * 37 % 23) as f32 - 11.0) / 7.0)
        .collect();
    let s: Vec<f32> = (0..2 * 4 * 12)
        .map(|i| ((i * 19 % 17) as f32 - 8.0) / 5.0)
        .collect();
    let mut results = Vec::new();
    for device in [&cpu, &gpu] {
        let q =
            Tensor::<3>::from_data(TensorData::new(q.clone(), [2, 5, 12]), device).require_grad();
        let s =
            Tensor::<3>::from_data(TensorData::new(s.clone(), [2, 4, 12]), device).require_grad();
        let out = tanh_scores(q.clone(), s.clone());
        let grads = out.clone().square().sum().backward();
        results.push((
            values(out),
            values(q.grad(&grads).unwrap()),
            values(s.grad(&grads).unwrap()),
        ));
    }
    let (cpu_out, cpu_gq, cpu_gs) = results.remove(0);
    let (gpu_out, gpu_gq, gpu_gs) = results.remove(0);
    assert!(max_diff(cpu_out, gpu_out) < 1e-4);
    assert!(max_diff(cpu_gq, gpu_gq) < 1e-3);
    assert!(max_diff(cpu_gs, gpu_gs) < 1e-3);
}
