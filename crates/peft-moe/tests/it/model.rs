//! The MoE LM: logits parity with the transformers reference (DeepSeek-MoE with grouped-query
//! attention, DeepSeek-V2 with multi-head latent attention and YaRN), incremental decoding,
//! grouped dispatch against the dense loop, LoRA adapters, ESFT freezing and a learning test.

use std::path::Path;

use burnlp_core::burn;
use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::{Distribution, Int, Tensor, TensorData};
use burnlp_core::nn::llama::{KvCache, LlamaInput};
use burnlp_core::train::AdamWConfig;
use burnlp_core::train::params::parameter_values;
use peft_moe::experiment::{finetune, tiny_config};
use peft_moe::moe::{
    MoeAttention, MoeConfig, add_lora, balance_loss, export_tensors, forward_detailed,
    load_pretrained, save_pretrained,
};
use peft_moe::routing::select_experts;
use peft_moe::tasks::dataset;
use peft_moe::train::{LmTask, Method, prepare, route_stats, token_accuracy};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/tiny_moe");

fn max_diff(a: Tensor<3>, b: Tensor<3>) -> f32 {
    (a - b).abs().max().into_scalar::<f32>()
}

fn golden_input() -> (Vec<i64>, [usize; 2], Vec<f32>) {
    let text = std::fs::read_to_string(Path::new(GOLDEN).join("golden.json")).unwrap();
    let golden: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rows: Vec<Vec<i64>> = serde_json::from_value(golden["input_ids"].clone()).unwrap();
    let logits: Vec<Vec<Vec<f32>>> = serde_json::from_value(golden["logits"].clone()).unwrap();
    let shape = [rows.len(), rows[0].len()];
    (
        rows.concat(),
        shape,
        logits.into_iter().flatten().flatten().collect(),
    )
}

#[test]
fn logits_match_the_transformers_reference() {
    let device = burnlp_core::device::cpu();
    let (config, model) = load_pretrained(Path::new(GOLDEN), &device).unwrap();
    assert_eq!(config.n_routed_experts, 6);
    let (ids, shape, want) = golden_input();
    let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, shape), &device);
    let want = Tensor::<1>::from_data(TensorData::new(want.clone(), [want.len()]), &device)
        .reshape([shape[0], shape[1], config.vocab_size]);
    // Through the core decoder (FeedForward trait) and through the routing-aware forward.
    let core = model.forward(LlamaInput::new(ids.clone()), None);
    let detailed = forward_detailed(&model, ids).logits;
    let diff = max_diff(core.clone(), want.clone());
    assert!(
        diff < 1e-4,
        "core forward differs from the reference by {diff}"
    );
    assert!(max_diff(detailed, want) < 1e-4);
    // Export then reload: same logits.
    let dir = tempfile::tempdir().unwrap();
    save_pretrained(dir.path(), &config, &model).unwrap();
    let (_, again) = load_pretrained(dir.path(), &device).unwrap();
    let reloaded = again.forward(
        LlamaInput::new(Tensor::from_data(
            TensorData::new(golden_input().0, shape),
            &device,
        )),
        None,
    );
    assert_eq!(max_diff(reloaded, core), 0.0);
}

#[test]
fn missing_tensors_are_reported() {
    let device = burnlp_core::device::cpu();
    let dir = tempfile::tempdir().unwrap();
    let config: MoeConfig = serde_json::from_str(
        &std::fs::read_to_string(Path::new(GOLDEN).join("config.json")).unwrap(),
    )
    .unwrap();
    let (_, model) = load_pretrained(Path::new(GOLDEN), &device).unwrap();
    let tensors: Vec<_> = export_tensors(&model)
        .into_iter()
        .filter(|(name, _, _)| name != "model.layers.2.mlp.experts.3.up_proj.weight")
        .collect();
    std::fs::write(
        dir.path().join("config.json"),
        serde_json::to_string(&config).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("model.safetensors"),
        burnlp_core::train::params::to_safetensors(&tensors),
    )
    .unwrap();
    let err = load_pretrained(dir.path(), &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("experts.3.up_proj"), "{err}");
    let mut bad = serde_json::to_value(&config).unwrap();
    bad["topk_method"] = "group_limited_greedy".into();
    std::fs::write(dir.path().join("config.json"), bad.to_string()).unwrap();
    let err = load_pretrained(dir.path(), &device)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("config.json") && err.contains("topk_method"),
        "{err}"
    );
}

#[test]
fn grouped_dispatch_equals_the_dense_loop() {
    let device = burnlp_core::device::cpu();
    for norm_topk_prob in [false, true] {
        let config = MoeConfig {
            norm_topk_prob,
            routed_scaling_factor: if norm_topk_prob { 2.5 } else { 1.0 },
            ..tiny_config()
        };
        let model = config.init(&device);
        let moe = model.layers[1].mlp.moe.as_ref().unwrap();
        let x = Tensor::<2>::random(
            [57, config.hidden_size],
            Distribution::Normal(0.0, 1.0),
            &device,
        );
        let routing = moe.route(x.clone());
        // Weights are the top-k softmax scores, in descending order.
        assert_eq!(routing.ids.len(), 57 * 2);
        assert!(routing.scores.chunks(2).all(|s| s[0] >= s[1]));
        let used: std::collections::BTreeSet<_> = routing.ids.iter().collect();
        assert!(used.len() > 4, "random routing should use many experts");
        let grouped = moe.forward_routed(x.clone(), &routing);
        let dense = moe.forward_dense(x, &routing);
        let diff = (grouped - dense).abs().max().into_scalar::<f32>();
        assert!(diff < 1e-5, "norm_topk_prob={norm_topk_prob}: {diff}");
    }
}

#[test]
fn balance_loss_is_minimal_for_uniform_routing() {
    let device = burnlp_core::device::cpu();
    let model = tiny_config().init(&device);
    let ids = Tensor::<2, Int>::from_data(
        TensorData::new(
            (0..24).map(|i| (i % 40 + 3) as i64).collect::<Vec<_>>(),
            [2, 12],
        ),
        &device,
    );
    let out = forward_detailed(&model, ids);
    let loss = balance_loss(&out.routing, 2, 1.0)
        .unwrap()
        .into_scalar::<f32>();
    // Per layer Σ_i f_i P_i is 1 for perfectly uniform routing (f_i = 1, P_i = 1/E) and grows
    // as routing concentrates (up to E / K); a random model is near uniform, so three MoE layers
    // give a little more than 3.
    assert!(loss > 1.0 && loss < 6.0, "{loss}");
}

#[test]
fn lora_starts_as_identity_and_merges_exactly() {
    let device = burnlp_core::device::cpu();
    let config = tiny_config();
    let model = config.init(&device);
    let ids = Tensor::<2, Int>::from_data(
        TensorData::new(
            (0..16).map(|i| (i * 7 % 40 + 3) as i64).collect::<Vec<_>>(),
            [2, 8],
        ),
        &device,
    );
    let base = forward_detailed(&model, ids.clone()).logits;
    let mut adapted = add_lora(model, 4, 8.0, &device);
    assert_eq!(
        max_diff(forward_detailed(&adapted, ids.clone()).logits, base.clone()),
        0.0
    );
    // Give every B a random value: outputs change, and merging reproduces them.
    for layer in adapted.layers.iter_mut() {
        let moe = layer.mlp.moe.as_mut();
        let experts = moe.map(|m| &mut m.experts);
        for expert in experts.into_iter().flatten() {
            for proj in [
                &mut expert.gate_proj,
                &mut expert.up_proj,
                &mut expert.down_proj,
            ] {
                let shape = proj.lora_b.as_ref().unwrap().lazy_shape().dims::<2>();
                proj.lora_b = Some(burn::module::Param::from_tensor(Tensor::random(
                    shape,
                    Distribution::Normal(0.0, 0.2),
                    &device,
                )));
            }
        }
    }
    let lora_out = forward_detailed(&adapted, ids.clone()).logits;
    assert!(max_diff(lora_out.clone(), base) > 1e-3);
    let dir = tempfile::tempdir().unwrap();
    save_pretrained(dir.path(), &config, &adapted).unwrap();
    let (_, merged) = load_pretrained(dir.path(), &device).unwrap();
    let diff = max_diff(forward_detailed(&merged, ids).logits, lora_out);
    assert!(diff < 1e-4, "{diff}");
}

#[test]
fn esft_changes_only_the_selected_experts() {
    let device = burnlp_core::device::cpu().autodiff();
    let model = tiny_config().init(&device);
    let before = parameter_values(&model);
    // One batch of 32 sequences; select the experts these tokens route to most (so each of them
    // surely receives tokens), as `route-stats` + `select` would.
    let train = dataset("rev", 32, 1);
    let stats = route_stats(&model.valid(), &train, usize::MAX).summary();
    let experts = select_experts(&stats.token_scores, 0.3);
    let n_selected = experts.count();
    assert!((3..48).contains(&n_selected), "{n_selected}");
    let dir = tempfile::tempdir().unwrap();
    let (trained, report, _) = finetune(
        model,
        &Method::Esft(experts.clone()),
        &train,
        &train[..8],
        3,
        1e-2,
        32,
        0.001,
        1,
        dir.path(),
        &device,
        false,
    )
    .unwrap();
    // Each expert: 3 projections of 64 × 32.
    assert_eq!(report.trainable, n_selected * 3 * 64 * 32);
    assert_eq!(report.optimizer_bytes, report.trainable * 8);
    let after = parameter_values(&trained);
    let mut changed = 0;
    for ((path, _, a), (_, _, b)) in before.iter().zip(&after) {
        let parts: Vec<&str> = path.split('.').collect();
        let selected = path.contains(".mlp.moe.experts.")
            && experts
                .layer(parts[1].parse().unwrap())
                .contains(&parts[5].parse().unwrap());
        if selected {
            assert_ne!(a, b, "{path} should have been trained");
            changed += 1;
        } else {
            assert!(a == b, "{path} changed although it is frozen");
        }
    }
    assert_eq!(changed, 3 * n_selected);
}

#[test]
fn lora_and_fft_count_trainable_parameters() {
    let device = burnlp_core::device::cpu();
    let config = tiny_config();
    let model = config.init(&device);
    let total = model.num_params();
    let (_, _, fft) = prepare(
        model.clone(),
        &Method::Fft,
        &AdamWConfig::new(1e-3),
        &device,
    );
    assert_eq!((fft.trainable, fft.total), (total, total));
    let (_, _, lora) = prepare(
        model,
        &Method::Lora {
            rank: 8,
            alpha: 16.0,
        },
        &AdamWConfig::new(1e-3),
        &device,
    );
    // Dense layer 64↔128: 3 × 8 × 192; per MoE layer 16 experts and one shared expert of width 32.
    let per_expert = 3 * 8 * (64 + 32);
    assert_eq!(lora.trainable, 3 * 8 * (64 + 128) + 3 * 17 * per_expert);
    assert_eq!(lora.total, total + lora.trainable);
}

#[test]
fn fine_tuning_learns_a_task() {
    let device = burnlp_core::device::cpu().autodiff();
    let model = tiny_config().init(&device);
    let train = dataset("tra", 512, 3);
    let dev = dataset("tra", 64, 4);
    let task = LmTask::new(&train, &dev, 32, 0.0, &device);
    let fresh = model.valid();
    let before = token_accuracy(&fresh, &task.dev, &fresh.device())["token_accuracy"];
    let dir = tempfile::tempdir().unwrap();
    let (trained, _, _) = finetune(
        model,
        &Method::Fft,
        &train,
        &dev,
        60,
        3e-3,
        32,
        0.001,
        3,
        dir.path(),
        &device,
        false,
    )
    .unwrap();
    let trained = trained.valid();
    let after = token_accuracy(&trained, &task.dev, &trained.device())["token_accuracy"];
    // The answer tokens of the made-up translation: near chance before, mostly right after
    // 60 steps (measured 0.97–0.98 from 0.03–0.05).
    assert!(before < 0.2, "{before}");
    assert!(after > 0.7, "token accuracy after 60 steps: {after}");
}

/// The DeepSeek-V2 goldens of `datasets/scripts/peft_moe/make_deepseek_v2_golden.py`: sharded
/// float16 checkpoints of tiny `DeepseekV2ForCausalLM`s with multi-head latent attention and
/// YaRN RoPE, `tiny_mla_yarn` with a query bottleneck and a transformers 5 `config.json`,
/// `tiny_mla_plain_q` with a full query projection and a transformers 4 one.
const MLA_GOLDENS: [(&str, Option<usize>); 2] =
    [("tiny_mla_yarn", Some(24)), ("tiny_mla_plain_q", None)];

fn golden_dir(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Input ids `[batch, seq]` and reference logits `[batch, seq, vocab]` of a golden directory.
fn golden_tensors(dir: &Path, vocab: usize) -> (Tensor<2, Int>, Tensor<3>) {
    let device = burnlp_core::device::cpu();
    let text = std::fs::read_to_string(dir.join("golden.json")).unwrap();
    let golden: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rows: Vec<Vec<i64>> = serde_json::from_value(golden["input_ids"].clone()).unwrap();
    let logits: Vec<Vec<Vec<f32>>> = serde_json::from_value(golden["logits"].clone()).unwrap();
    let [batch, seq] = [rows.len(), rows[0].len()];
    let ids = Tensor::from_data(TensorData::new(rows.concat(), [batch, seq]), &device);
    let flat: Vec<f32> = logits.into_iter().flatten().flatten().collect();
    let want = Tensor::<1>::from_data(TensorData::new(flat, [batch * seq * vocab]), &device)
        .reshape([batch, seq, vocab]);
    (ids, want)
}

#[test]
fn deepseek_v2_logits_match_the_transformers_reference() {
    let device = burnlp_core::device::cpu();
    for (name, q_lora_rank) in MLA_GOLDENS {
        let dir = golden_dir(name);
        let shards = std::fs::read_dir(&dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("model-")
            })
            .count();
        assert!(
            shards >= 2,
            "{name}: the golden checkpoint should be sharded"
        );
        let (config, model) = load_pretrained(&dir, &device).unwrap();
        let mla = config.mla().unwrap().expect("kv_lora_rank makes MLA");
        assert_eq!(mla.q_lora_rank, q_lora_rank, "{name}");
        assert!(config.yarn().unwrap().is_some(), "{name}: YaRN scaling");
        assert!(
            model
                .layers
                .iter()
                .all(|layer| matches!(layer.self_attn, MoeAttention::Mla(_)))
        );
        let (ids, want) = golden_tensors(&dir, config.vocab_size);
        let core = model.forward(LlamaInput::new(ids.clone()), None);
        let diff = max_diff(core.clone(), want.clone());
        println!("{name}: max |logit - transformers| = {diff:e}");
        assert!(diff < 1e-4, "{name}: core forward differs by {diff}");
        let detailed = forward_detailed(&model, ids.clone()).logits;
        assert!(max_diff(detailed, want) < 1e-4, "{name}: forward_detailed");
        // Export then reload (one unsharded file, the configuration as read): same logits.
        let saved = tempfile::tempdir().unwrap();
        save_pretrained(saved.path(), &config, &model).unwrap();
        let (again_config, again) = load_pretrained(saved.path(), &device).unwrap();
        assert_eq!(again_config, config, "{name}: config.json round trip");
        let reloaded = again.forward(LlamaInput::new(ids), None);
        assert_eq!(
            max_diff(reloaded, core),
            0.0,
            "{name}: save_pretrained round trip"
        );
    }
}

#[test]
fn deepseek_v2_incremental_decoding_equals_the_full_forward() {
    let device = burnlp_core::device::cpu();
    for (name, _) in MLA_GOLDENS {
        let dir = golden_dir(name);
        let (config, model) = load_pretrained(&dir, &device).unwrap();
        let (ids, _) = golden_tensors(&dir, config.vocab_size);
        let [batch, seq] = ids.dims();
        let full = model.forward(LlamaInput::new(ids.clone()), None);
        // A 7-token prompt, then one token at a time through the cache.
        let mut cache = KvCache::new();
        let mut parts = vec![model.forward(
            LlamaInput::new(ids.clone().slice([0..batch, 0..7])),
            Some(&mut cache),
        )];
        for t in 7..seq {
            parts.push(model.forward(
                LlamaInput::new(ids.clone().slice([0..batch, t..t + 1])),
                Some(&mut cache),
            ));
        }
        assert_eq!(cache.len(), seq);
        let incremental = Tensor::cat(parts, 1);
        let diff = max_diff(incremental, full.clone());
        println!("{name}: max |incremental - full| = {diff:e}");
        assert!(diff < 1e-4, "{name}: cached decoding differs by {diff}");
        // Left padding (as batched generation uses): a 13-token row padded to 20 ends with the
        // logits of its unpadded forward.
        let rows: Vec<Vec<u32>> = ids
            .clone()
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .unwrap()
            .chunks(seq)
            .map(|row| row.iter().map(|&t| t as u32).collect())
            .collect();
        let short = rows[1][..13].to_vec();
        let padded = model.forward(
            LlamaInput::left_padded(&[rows[0].clone(), short.clone()], &device),
            None,
        );
        let alone = model.forward(LlamaInput::left_padded(&[short], &device), None);
        let last = |x: Tensor<3>, row: usize| x.slice([row..row + 1, seq - 1..seq]);
        let diff = max_diff(last(padded.clone(), 1), alone.slice_dim(1, 12..13));
        assert!(diff < 1e-4, "{name}: left-padded row differs by {diff}");
        assert!(max_diff(last(padded, 0), last(full, 0)) < 1e-4);
    }
}

#[test]
fn deepseek_v2_config_errors_name_the_problem() {
    let text = std::fs::read_to_string(golden_dir("tiny_mla_yarn").join("config.json")).unwrap();
    let base: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases: [(&str, serde_json::Value, &str); 5] = [
        (
            "qk_rope_head_dim",
            serde_json::Value::Null,
            "positive qk_rope_head_dim",
        ),
        ("qk_rope_head_dim", 3.into(), "must be even"),
        ("kv_lora_rank", serde_json::Value::Null, "kv_lora_rank"),
        (
            "num_key_value_heads",
            2.into(),
            "num_key_value_heads 2 differs",
        ),
        (
            "rope_parameters",
            serde_json::json!({"rope_type": "llama3", "factor": 8.0}),
            "unsupported RoPE scaling `llama3`",
        ),
    ];
    let device = burnlp_core::device::cpu();
    for (field, value, expected) in cases {
        let mut bad = base.clone();
        bad[field] = value;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), bad.to_string()).unwrap();
        let err = load_pretrained(dir.path(), &device)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("config.json") && err.contains(expected),
            "{field}: {err}"
        );
    }
}
