//! Sparse upcycling: the upcycled MoE starts from the dense model's function (exactly with
//! identical experts, not with noise), survives a save/load round trip, and on SmolLM2 matches
//! the dense logits while spreading tokens over the experts.

use std::collections::BTreeSet;

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::{Device, Int, Tensor, TensorData};
use burnlp_core::nn::llama::{
    CausalLm, FeedForward, Llama, LlamaConfig, LlamaInput, SelfAttention,
};
use peft_moe::moe::{MoeLm, forward_detailed, save_pretrained};
use peft_moe::upcycle::{
    ChatTemplateSource, UpcycleConfig, UpcycleError, load_with_tokenizer, param_counts,
    save_tokenizer, upcycle,
};

fn ids(tokens: &[u32], device: &Device) -> Tensor<2, Int> {
    Tensor::from_data(
        TensorData::new(
            tokens.iter().map(|&t| t as i64).collect(),
            [1, tokens.len()],
        ),
        device,
    )
}

fn logits<F: FeedForward, A: SelfAttention>(model: &Llama<F, A>, tokens: &[u32]) -> Tensor<3> {
    model.forward(LlamaInput::new(ids(tokens, &model.device())), None)
}

fn max_diff(a: Tensor<3>, b: Tensor<3>) -> f32 {
    (a - b).abs().max().into_scalar::<f32>()
}

/// A small random dense Llama (GQA, untied head unless `tied`).
fn tiny_dense(tied: bool, device: &Device) -> Llama {
    LlamaConfig::new(61, 32, 3, 4, 2, 48)
        .with_rope_theta(500.0)
        .with_rms_norm_eps(1e-5)
        .with_tie_word_embeddings(tied)
        .with_initializer_range(0.2)
        .init(device)
}

const TOKENS: [u32; 12] = [3, 17, 42, 5, 60, 8, 8, 33, 1, 0, 29, 14];

/// A copy of a model (the tensors are shared; `upcycle` consumes its input).
fn copy(model: &Llama) -> Llama {
    model.clone()
}

#[test]
fn exact_copies_keep_the_dense_logits_whatever_the_router() {
    let device = burnlp_core::device::cpu();
    for tied in [false, true] {
        let dense = tiny_dense(tied, &device);
        let want = logits(&dense, &TOKENS);
        let scale = want.clone().abs().max().into_scalar::<f32>();
        assert!(
            scale > 0.1,
            "the tiny model's logits are all small ({scale})"
        );
        for (seed, dense_layers, shared) in [(1, 0, false), (2, 0, false), (3, 1, true)] {
            let config = UpcycleConfig {
                seed,
                dense_layers,
                shared_expert: shared,
                router_std: 0.5,
                ..UpcycleConfig::new(4, 2)
            };
            let (moe, moe_config) = upcycle(copy(&dense), &config, &device).unwrap();
            assert!(moe_config.norm_topk_prob);
            assert_eq!(moe_config.vocab_size, 61);
            assert_eq!(moe_config.num_key_value_heads, Some(2));
            assert_eq!(moe_config.moe_intermediate_size, 48);
            assert_eq!(moe_config.first_k_dense_replace, dense_layers);
            assert_eq!(moe_config.n_shared_experts, usize::from(shared));
            assert_eq!(moe_config.tie_word_embeddings, tied);
            assert_eq!(moe_config.rope_theta, 500.0);
            assert_eq!(moe_config.rms_norm_eps, 1e-5);
            let diff = max_diff(logits(&moe, &TOKENS), want.clone());
            assert!(
                diff < 1e-5,
                "tied {tied}, seed {seed}, dense layers {dense_layers}, shared {shared}: \
                 max |Δlogit| {diff}"
            );
            // The routing-aware forward agrees, and the router really routes: with 12 tokens
            // more than top_k distinct experts are used in some layer.
            let out = forward_detailed(&moe, ids(&TOKENS, &device));
            assert!(max_diff(out.logits, want.clone()) < 1e-5);
            let used: usize = out
                .routing
                .iter()
                .flatten()
                .map(|r| r.ids.iter().collect::<BTreeSet<_>>().len())
                .max()
                .unwrap();
            assert!(used > 2, "only {used} experts used");
        }
    }
}

#[test]
fn experts_are_distinct_parameters_and_the_router_is_seeded() {
    let device = burnlp_core::device::cpu();
    let dense = tiny_dense(false, &device);
    let dense_params = dense.num_params();
    let (a, _) = upcycle(copy(&dense), &UpcycleConfig::new(4, 2), &device).unwrap();
    let (b, _) = upcycle(copy(&dense), &UpcycleConfig::new(4, 2), &device).unwrap();
    let other = UpcycleConfig {
        seed: 9,
        ..UpcycleConfig::new(4, 2)
    };
    let (c, _) = upcycle(copy(&dense), &other, &device).unwrap();
    let gate = |m: &MoeLm| m.layers[1].mlp.moe.as_ref().unwrap().gate.val();
    assert_eq!(
        (gate(&a) - gate(&b)).abs().max().into_scalar::<f32>(),
        0.0,
        "same seed, different router"
    );
    assert!((gate(&a) - gate(&c)).abs().max().into_scalar::<f32>() > 1e-3);
    // Fresh parameter ids per copy: optimizers and ESFT's freezing key parameters by id.
    let experts = &a.layers[0].mlp.moe.as_ref().unwrap().experts;
    let ids: BTreeSet<_> = experts
        .iter()
        .map(|e| e.gate_proj.base.weight.id.to_string())
        .collect();
    assert_eq!(ids.len(), 4);
    // 3 layers × (4 − 1) extra copies of a 3 × 32 × 48 SwiGLU, plus the 4 × 32 routers.
    let counts = param_counts(&a);
    let ffn = 3 * 32 * 48;
    assert_eq!(counts.total, dense_params + 3 * (3 * ffn + 4 * 32));
    assert_eq!(counts.active_per_token, counts.total - 3 * 2 * ffn);
}

#[test]
fn noise_moves_the_logits_away_from_the_dense_model() {
    let device = burnlp_core::device::cpu();
    let dense = tiny_dense(false, &device);
    let want = logits(&dense, &TOKENS);
    let config = UpcycleConfig {
        noise_std: 0.05,
        router_std: 0.5,
        ..UpcycleConfig::new(4, 2)
    };
    let (moe, _) = upcycle(copy(&dense), &config, &device).unwrap();
    let diff = max_diff(logits(&moe, &TOKENS), want);
    assert!(
        diff > 1e-4,
        "noisy copies left the logits unchanged ({diff})"
    );
    let experts = &moe.layers[0].mlp.moe.as_ref().unwrap().experts;
    let w = |i: usize| experts[i].up_proj.base.weight.val();
    assert!((w(0) - w(1)).abs().max().into_scalar::<f32>() > 1e-4);
}

#[test]
fn bad_settings_are_rejected() {
    let device = burnlp_core::device::cpu();
    let dense = tiny_dense(false, &device);
    for config in [
        UpcycleConfig::new(2, 3),
        UpcycleConfig::new(0, 0),
        UpcycleConfig {
            dense_layers: 4,
            ..UpcycleConfig::new(4, 2)
        },
        UpcycleConfig {
            noise_std: f64::NAN,
            ..UpcycleConfig::new(4, 2)
        },
    ] {
        let err = upcycle(copy(&dense), &config, &device).unwrap_err();
        assert!(matches!(err, UpcycleError::Unsupported(_)), "{err}");
    }
    let biased = LlamaConfig::new(61, 32, 2, 4, 2, 48)
        .with_mlp_bias(true)
        .init(&device);
    let err = upcycle(biased, &UpcycleConfig::new(4, 2), &device).unwrap_err();
    assert!(err.to_string().contains("biases"), "{err}");
}

#[test]
fn saved_upcycled_model_reloads_with_identical_logits_and_tokenizer() {
    let device = burnlp_core::device::cpu();
    let dense = tiny_dense(true, &device);
    let config = UpcycleConfig {
        noise_std: 0.01,
        dense_layers: 1,
        shared_expert: true,
        ..UpcycleConfig::new(3, 2)
    };
    let (moe, moe_config) = upcycle(dense, &config, &device).unwrap();
    let dir = tempfile::tempdir().unwrap();
    save_pretrained(dir.path(), &moe_config, &moe).unwrap();
    // A word-level tokenizer whose vocabulary fits the tiny model.
    let tokenizer = burnlp_core::tokenize::Tokenizer::from_bytes(
        r#"{"version":"1.0","model":{"type":"WordLevel","vocab":{"<unk>":0,"<eos>":1,"a":2,"b":3},"unk_token":"<unk>"},"pre_tokenizer":{"type":"WhitespaceSplit"}}"#,
        "inline.json",
    )
    .unwrap();
    let template = ChatTemplateSource {
        template: "{% for m in messages %}{{ m['content'] }}{{ eos_token }}{% endfor %}".into(),
        bos_token: String::new(),
        eos_token: "<eos>".into(),
    };
    save_tokenizer(dir.path(), &tokenizer, Some(&template)).unwrap();
    let loaded = load_with_tokenizer(dir.path(), &device).unwrap();
    assert_eq!(loaded.config, moe_config);
    assert_eq!(
        max_diff(logits(&loaded.model, &TOKENS), logits(&moe, &TOKENS)),
        0.0
    );
    assert_eq!(loaded.eos_token_ids, vec![1]);
    assert_eq!(
        loaded.tokenizer.encode("a b", false).unwrap().ids,
        vec![2, 3]
    );
    let chat = loaded.chat_template.unwrap();
    let text = chat
        .apply(&[burnlp_core::chat::ChatMessage::user("ab")], false)
        .unwrap();
    assert_eq!(text, "ab<eos>");
}

#[test]
fn smollm2_upcycled_matches_the_dense_logits_and_spreads_tokens() {
    let path = burnlp_core::require_shared!(
        "models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
    );
    let device = burnlp_core::device::cpu();
    let lm = CausalLm::load(&path.to_string_lossy(), &device).unwrap();
    let template = ChatTemplateSource::of_location(&lm.location, &lm.tokenizer, &lm.config)
        .unwrap()
        .expect("SmolLM2's GGUF has a chat template");
    assert!(template.template.contains("<|im_start|>"));
    assert_eq!(template.eos_token, "<|im_end|>");
    let prompt = lm
        .tokenizer
        .encode(
            "The capital of France is Paris, and the capital of Italy is",
            false,
        )
        .unwrap()
        .ids;
    assert!(prompt.len() >= 12, "{} tokens", prompt.len());
    let want = logits(&lm.model, &prompt);
    let (moe, config) = upcycle(lm.model, &UpcycleConfig::new(4, 2), &device).unwrap();
    assert_eq!(config.num_hidden_layers, 30);
    assert_eq!(config.num_key_value_heads, Some(3));
    assert_eq!(config.moe_intermediate_size, 1536);
    assert!(config.tie_word_embeddings);
    // The GGUF's f32 epsilon, written as the original's 1e-5.
    assert_eq!(config.rms_norm_eps, 1e-5);
    let out = forward_detailed(&moe, ids(&prompt, &device));
    let scale = want.clone().abs().max().into_scalar::<f32>();
    let diff = max_diff(out.logits, want);
    println!(
        "SmolLM2 upcycled E=4 top-2, {} tokens: max |Δlogit| {diff:e} (max |logit| {scale})",
        prompt.len()
    );
    assert!(diff <= 1e-3 * scale.max(1.0), "max |Δlogit| {diff}");
    // Routing spreads the tokens: every layer uses more than top_k experts.
    let spread: Vec<usize> = out
        .routing
        .iter()
        .map(|r| {
            r.as_ref()
                .unwrap()
                .ids
                .iter()
                .collect::<BTreeSet<_>>()
                .len()
        })
        .collect();
    println!("distinct experts per layer: {spread:?}");
    assert!(spread.iter().all(|&n| n > 2), "{spread:?}");
}
