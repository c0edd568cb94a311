//! Encoder surgery: attention, head and neuron masks (`masks`), hard-concrete gates, Taylor
//! importance, reordering, width slicing and physical pruning with a safetensors round trip.

mod masks;

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::{Device, Tensor, TensorData};
use burnlp_core::device;
use burnlp_core::nn::bert::{Bert, BertConfig, BertInput, BertMasks, PositionScheme, Width};
use burnlp_core::nn::gates::HardConcreteConfig;
use burnlp_core::nn::prune::{UnitScores, taylor_importance};

const HIDDEN: usize = 16;
const HEADS: usize = 4;
const FFN: usize = 12;

fn config(layers: usize) -> BertConfig {
    BertConfig::new(50, HIDDEN, layers, HEADS, FFN)
        .with_hidden_dropout(0.0)
        .with_attention_dropout(0.0)
}

fn model(layers: usize, device: &Device) -> Bert {
    device.seed(11);
    config(layers).init(device)
}

fn input(device: &Device) -> BertInput {
    BertInput::from_rows(&[vec![2, 5, 7, 9, 11], vec![3, 4, 6]], 0, device)
}

fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap()
}

fn max_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    assert_eq!(a.dims(), b.dims());
    values(a)
        .iter()
        .zip(values(b))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// A `[rows, cols]` mask of ones with the listed `(row, col)` cells set to 0.
fn ones_except(rows: usize, cols: usize, cells: &[(usize, usize)], device: &Device) -> Tensor<2> {
    let mut mask = vec![1f32; rows * cols];
    for &(r, c) in cells {
        mask[r * cols + c] = 0.0;
    }
    Tensor::from_data(TensorData::new(mask, [rows, cols]), device)
}

/// A differentiable scalar of the encoder output.
fn loss(hidden: Tensor<3>) -> Tensor<1> {
    let [b, s, d] = hidden.dims();
    let weights: Vec<f32> = (0..b * s * d)
        .map(|i| ((i * 37 % 11) as f32 - 5.0) / 5.0)
        .collect();
    let weights = Tensor::<3>::from_data(TensorData::new(weights, [b, s, d]), &hidden.device());
    (hidden.tanh() * weights).sum()
}

#[test]
fn taylor_importance_is_the_mask_gradient() {
    let device = device::cpu().autodiff();
    let model = model(2, &device).freeze();
    let batches = [
        input(&device),
        BertInput::from_rows(&[vec![8, 1, 4, 4]], 0, &device),
    ];
    let importance = taylor_importance(&model, batches.clone(), |masks, batch| {
        loss(model.forward_masked(batch, masks).hidden)
    });
    assert_eq!(importance.batches(), 2);
    let signed = importance.signed_sum();
    assert_eq!(signed.heads.len(), 2);
    assert_eq!(signed.neurons[1].len(), FFN);

    // Central differences of the summed loss in each mask entry.
    let total = |heads: Tensor<2>, neurons: Tensor<2>| -> f32 {
        let masks = BertMasks::default().with_heads(heads).with_neurons(neurons);
        batches
            .iter()
            .map(|b| loss(model.forward_masked(b.clone(), &masks).hidden).into_scalar::<f32>())
            .sum()
    };
    let eps = 1e-2;
    let shifted = |rows, cols, cell: (usize, usize), delta: f32| {
        let mut mask = vec![1f32; rows * cols];
        mask[cell.0 * cols + cell.1] += delta;
        Tensor::<2>::from_data(TensorData::new(mask, [rows, cols]), &device)
    };
    let ones_heads = || Tensor::<2>::ones([2, HEADS], &device);
    let ones_neurons = || Tensor::<2>::ones([2, FFN], &device);
    for cell in [(0, 0), (0, 3), (1, 1), (1, 2)] {
        let fd = (total(shifted(2, HEADS, cell, eps), ones_neurons())
            - total(shifted(2, HEADS, cell, -eps), ones_neurons()))
            / (2.0 * eps);
        let g = signed.heads[cell.0][cell.1];
        assert!(
            (fd - g).abs() < 2e-3 + 0.02 * g.abs(),
            "head {cell:?}: {fd} vs {g}"
        );
    }
    for cell in [(0, 4), (1, 7)] {
        let fd = (total(ones_heads(), shifted(2, FFN, cell, eps))
            - total(ones_heads(), shifted(2, FFN, cell, -eps)))
            / (2.0 * eps);
        let g = signed.neurons[cell.0][cell.1];
        assert!(
            (fd - g).abs() < 2e-3 + 0.02 * g.abs(),
            "neuron {cell:?}: {fd} vs {g}"
        );
    }
    // The two reductions: |Σ g_b| and Σ |g_b|.
    let per_batch: Vec<_> = batches
        .iter()
        .map(|b| {
            taylor_importance(&model, [b.clone()], |masks, batch| {
                loss(model.forward_masked(batch, masks).hidden)
            })
            .signed_sum()
        })
        .collect();
    let (abs_sum, sum_abs) = (importance.abs_of_sum(), importance.sum_of_abs());
    for l in 0..2 {
        for h in 0..HEADS {
            let (g0, g1) = (per_batch[0].heads[l][h], per_batch[1].heads[l][h]);
            assert!((abs_sum.heads[l][h] - (g0 + g1).abs()).abs() < 1e-5);
            assert!((sum_abs.heads[l][h] - (g0.abs() + g1.abs())).abs() < 1e-5);
        }
    }
}

#[test]
fn reordering_by_importance_keeps_the_function() {
    let device = device::cpu();
    let model = model(2, &device);
    let scores = UnitScores {
        heads: vec![vec![0.1, 0.4, 0.3, 0.2], vec![1.0, 0.0, 2.0, 0.5]],
        neurons: (0..2)
            .map(|l| (0..FFN).map(|i| ((i * 7 + l * 3) % FFN) as f32).collect())
            .collect(),
    };
    let ranked = scores.ranking();
    assert_eq!(ranked.heads, vec![vec![1, 2, 3, 0], vec![2, 0, 3, 1]]);
    let reordered = model.reorder(&scores);
    let diff = max_diff(
        model.forward(input(&device)).hidden,
        reordered.forward(input(&device)).hidden,
    );
    assert!(diff < 1e-5, "{diff}");
    // The most important head now comes first: masking new head 0 of layer 1 is masking
    // old head 2.
    let old = BertMasks::default().with_heads(ones_except(2, HEADS, &[(1, 2)], &device));
    let new = BertMasks::default().with_heads(ones_except(2, HEADS, &[(1, 0)], &device));
    let diff = max_diff(
        model.forward_masked(input(&device), &old).hidden,
        reordered.forward_masked(input(&device), &new).hidden,
    );
    assert!(diff < 1e-5, "{diff}");
}

#[test]
fn width_slicing_equals_the_width_multiplier_in_forward() {
    let device = device::cpu();
    let model = model(2, &device);
    for width in [
        Width::uniform(0.5),
        Width::heads_only(0.25),
        Width::neurons_only(0.75),
        Width::uniform(0.0),
    ] {
        let sliced = model.slice_width(width);
        assert_eq!(
            sliced.layer_heads(),
            vec![width.keep_heads(HEADS); 2],
            "{width:?}"
        );
        assert_eq!(
            sliced.layer_intermediate_sizes(),
            vec![width.keep_neurons(FFN); 2]
        );
        let masked = model
            .forward_masked(input(&device), &BertMasks::default().with_width(width))
            .hidden;
        let diff = max_diff(masked, sliced.forward(input(&device)).hidden);
        assert!(diff < 1e-5, "{width:?}: {diff}");
    }
    let full = model.slice_width(Width::uniform(1.0));
    assert_eq!(
        values(model.forward(input(&device)).hidden),
        values(full.forward(input(&device)).hidden)
    );
}

#[test]
fn sandwich_step_trains_every_width_of_one_model() {
    let device = device::cpu().autodiff();
    let model = model(2, &device);
    let run = |m: f64| {
        loss(
            model
                .forward_masked(
                    input(&device),
                    &BertMasks::default().with_width(Width::uniform(m)),
                )
                .hidden,
        )
    };
    // Only the half-width pass: the second half of every head block gets no gradient.
    let grads = run(0.5).backward();
    let grad = values(model.layers[0].query.weight.val().grad(&grads).unwrap());
    let half = HIDDEN / 2;
    for row in grad.chunks(HIDDEN) {
        assert!(row[..half].iter().any(|&g| g != 0.0));
        assert!(row[half..].iter().all(|&g| g == 0.0));
    }
    // The sandwich: full width plus smaller widths, one backward pass.
    let total = [1.0, 0.75, 0.25]
        .into_iter()
        .map(run)
        .reduce(|a, b| a + b)
        .unwrap();
    let grads = total.backward();
    let grad = values(model.layers[1].output.weight.val().grad(&grads).unwrap());
    assert_eq!(grad.len(), FFN * HIDDEN);
    assert!(grad[(FFN - 1) * HIDDEN..].iter().any(|&g| g != 0.0));
}

#[test]
fn pruned_model_round_trips_through_safetensors() {
    let device = device::cpu();
    let config = config(3)
        .with_positions(PositionScheme::PaddingOffset)
        .with_pad_token_id(1);
    device.seed(5);
    let model = config.init(&device);
    // Layer 0 loses one head and four neurons, layer 1 every head, layer 2 every neuron.
    let heads = ones_except(3, HEADS, &[(0, 1), (1, 0), (1, 1), (1, 2), (1, 3)], &device);
    let neurons = ones_except(
        3,
        FFN,
        &(0..FFN)
            .map(|i| (2, i))
            .chain([(0, 0), (0, 3), (0, 4), (0, 11)])
            .collect::<Vec<_>>(),
        &device,
    );
    let masks = BertMasks::default().with_heads(heads).with_neurons(neurons);
    let input = BertInput::from_rows(&[vec![0, 5, 7, 9, 2], vec![0, 4, 2]], 1, &device);
    let expected = model.forward_masked(input.clone(), &masks);

    let pruned = model.prune_masked(&masks);
    assert_eq!(pruned.layer_heads(), vec![3, 0, 4]);
    assert_eq!(pruned.layer_intermediate_sizes(), vec![8, FFN, 0]);
    let dir = tempfile::tempdir().unwrap();
    pruned.save_pretrained(dir.path(), &config).unwrap();
    model
        .save_pretrained(dir.path().join("full"), &config)
        .unwrap();

    let loaded = Bert::from_pretrained(dir.path(), &device).unwrap();
    assert!(loaded.report.is_complete() && loaded.report.unexpected.is_empty());
    assert_eq!(loaded.config.heads_per_layer, Some(vec![3, 0, 4]));
    assert_eq!(loaded.config.intermediate_per_layer, Some(vec![8, FFN, 0]));
    assert_eq!(loaded.config.positions, PositionScheme::PaddingOffset);
    assert_eq!(loaded.config.pad_token_id, 1);
    let got = loaded.model.forward(input.clone());
    let diff = max_diff(expected.hidden, got.hidden);
    assert!(diff < 1e-5, "{diff}");
    let diff = max_diff(expected.pooled.unwrap(), got.pooled.unwrap());
    assert!(diff < 1e-5, "{diff}");

    // The unpruned save is a plain BERT directory and the pruned file is smaller.
    let full = Bert::from_pretrained(dir.path().join("full"), &device).unwrap();
    assert_eq!(full.config.heads_per_layer, None);
    assert_eq!(
        values(full.model.forward(input.clone()).hidden),
        values(model.forward(input).hidden)
    );
    let size = |p: std::path::PathBuf| std::fs::metadata(p).unwrap().len();
    let pruned_params = pruned.parameter_count();
    let full_params = model.parameter_count();
    assert_eq!(pruned_params.embeddings, full_params.embeddings);
    assert!(pruned_params.total() < full_params.total());
    // f32 data plus a JSON header of a few kilobytes.
    let (full_size, pruned_size) = (
        size(dir.path().join("full/model.safetensors")),
        size(dir.path().join("model.safetensors")),
    );
    assert!(full_size > pruned_size);
    let data = 4 * pruned_params.total() as u64;
    assert!(
        pruned_size > data && pruned_size < data + 8192,
        "{pruned_size} bytes"
    );
}

#[test]
fn hard_concrete_gates_prune_into_an_equal_dense_model() {
    let device = device::cpu();
    let model = model(2, &device);
    device.seed(3);
    let heads = HardConcreteConfig::new(2, HEADS)
        .with_init_std(2.0)
        .init(&device);
    let neurons = HardConcreteConfig::new(2, FFN)
        .with_init_std(2.0)
        .init(&device);
    // Evaluation: deterministic gates, some exactly 0, some exactly 1, some between.
    let masks = BertMasks::default()
        .with_heads(heads.forward())
        .with_neurons(neurons.forward());
    let z = values(neurons.forward());
    assert!(
        z.contains(&0.0) && z.iter().any(|&v| v > 0.0 && v < 1.0),
        "{z:?}"
    );
    let dense = model.prune_masked(&masks);
    assert!(dense.layer_intermediate_sizes().iter().sum::<usize>() < 2 * FFN);
    let diff = max_diff(
        model.forward_masked(input(&device), &masks).hidden,
        dense.forward(input(&device)).hidden,
    );
    assert!(diff < 1e-5, "{diff}");
}

#[test]
fn global_selection_gives_exact_parameter_counts() {
    let device = device::cpu();
    let model = model(3, &device);
    let scores = UnitScores {
        heads: (0..3)
            .map(|l| {
                (0..HEADS)
                    .map(|h| (l * HEADS + h * 5) as f32 % 7.0)
                    .collect()
            })
            .collect(),
        neurons: (0..3)
            .map(|l| (0..FFN).map(|i| ((l * 13 + i * 7) % 17) as f32).collect())
            .collect(),
    };
    let (keep_heads, keep_neurons) = (5, 14);
    let selection = scores.top_global(keep_heads, keep_neurons);
    assert_eq!(selection.head_counts().iter().sum::<usize>(), keep_heads);
    assert_eq!(
        selection.neuron_counts().iter().sum::<usize>(),
        keep_neurons
    );
    let pruned = model.select_units(&selection).parameter_count();
    let d_head = HIDDEN / HEADS;
    // Per head: Q, K, V columns with biases and attention-output rows; per layer the output bias.
    let per_head = 3 * (HIDDEN * d_head + d_head) + d_head * HIDDEN;
    assert_eq!(pruned.attention, keep_heads * per_head + 3 * HIDDEN);
    let per_neuron = HIDDEN + 1 + HIDDEN;
    assert_eq!(pruned.feed_forward, keep_neurons * per_neuron + 3 * HIDDEN);
    let full = model.parameter_count();
    assert_eq!(full.attention, 3 * (HEADS * per_head + HIDDEN));
    assert_eq!(full.embeddings, pruned.embeddings);
    assert_eq!(full.other, pruned.other);
    assert_eq!(full.embeddings, (50 + 512 + 2) * HIDDEN + 2 * HIDDEN);
}

#[test]
fn transformers_pruned_heads_are_read_from_config_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(
        &path,
        r#"{"model_type": "bert", "vocab_size": 50, "hidden_size": 16, "num_hidden_layers": 2,
            "num_attention_heads": 4, "intermediate_size": 12,
            "pruned_heads": {"1": [0, 2, 2]}}"#,
    )
    .unwrap();
    let config = BertConfig::from_hf_file(&path).unwrap();
    assert_eq!(config.layer_heads(), vec![4, 2]);
    assert_eq!(config.intermediate_per_layer, None);
    std::fs::write(
        &path,
        r#"{"vocab_size": 50, "hidden_size": 16, "num_hidden_layers": 2,
            "num_attention_heads": 4, "intermediate_size": 12,
            "num_attention_heads_per_layer": [4, 5]}"#,
    )
    .unwrap();
    let err = BertConfig::from_hf_file(&path).unwrap_err();
    assert!(
        err.to_string().contains("more than num_attention_heads"),
        "{err}"
    );
}

#[test]
fn minilm_reordered_by_importance_and_saved_keeps_its_outputs() {
    let dir = burnlp_core::require_shared!("models/all-minilm-l6-v2");
    let device = device::cpu();
    let loaded = Bert::from_pretrained(&dir, &device).unwrap();
    let (model, config) = (loaded.model, loaded.config);
    let batch = BertInput::from_rows(
        &[
            vec![101, 7592, 2088, 2003, 102],
            vec![101, 2023, 2003, 1037, 3231, 6251, 102],
        ],
        0,
        &device,
    );
    let reference = model.forward(batch.clone()).hidden;

    let train = device.clone().autodiff();
    let tracked = Bert::from_pretrained(&dir, &train).unwrap().model.freeze();
    let importance = taylor_importance(&tracked, [batch.clone()], |masks, batch| {
        loss(tracked.forward_masked(batch, masks).hidden)
    });
    let scores = importance.abs_of_sum().normalize_heads_per_layer();
    assert!(scores.heads.iter().flatten().all(|s| s.is_finite()));
    let reordered = model.reorder(&scores);
    let diff = max_diff(reference.clone(), reordered.forward(batch.clone()).hidden);
    assert!(diff < 1e-4, "reordering changed MiniLM by {diff}");

    // Written with Hugging Face names and read back: the same function.
    let out = tempfile::tempdir().unwrap();
    reordered.save_pretrained(out.path(), &config).unwrap();
    let reloaded = Bert::from_pretrained(out.path(), &device).unwrap();
    assert_eq!(reloaded.report.loaded.len(), loaded.report.loaded.len());
    assert_eq!(
        values(reordered.forward(batch.clone()).hidden),
        values(reloaded.model.forward(batch.clone()).hidden)
    );
    // Half the heads and neurons, chosen by importance: smaller and still finite.
    let half = reordered.slice_width(Width::uniform(0.5));
    assert_eq!(half.layer_heads(), vec![6; 6]);
    let hidden = values(half.forward(batch).hidden);
    assert!(hidden.iter().all(|v| v.is_finite()));
}
