//! The Llama causal LM: parity with Hugging Face transformers on tiny random checkpoints, KV
//! cache, left padding, sampling, stop conditions, scoring and checkpoint loading.
//!
//! The fixtures are made by `datasets/scripts/llama/make_tiny_llama.py`: `tiny` (GQA with 2 KV
//! heads for 4 query heads, untied head) and `tiny_tied` (one KV head, tied embeddings).

use std::path::PathBuf;

use burnlp_core::burn::tensor::{Device, Int, Tensor, TensorData};
use burnlp_core::device;
use burnlp_core::nn::llama::{
    FinishReason, GenerateError, GenerationConfig, KvCache, Llama, LlamaConfig, LlamaInput,
    SamplingConfig, StopStrings,
};
use safetensors::SafeTensors;

fn fixture(variant: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/llama")
        .join(variant)
}

/// The reference tensors of one fixture.
struct Golden {
    bytes: Vec<u8>,
}

impl Golden {
    fn open(variant: &str) -> Self {
        let bytes = std::fs::read(fixture(variant).join("golden.safetensors")).expect("golden");
        Self { bytes }
    }

    fn ints(&self, name: &str) -> (Vec<i64>, Vec<usize>) {
        let file = SafeTensors::deserialize(&self.bytes).unwrap();
        let view = file.tensor(name).expect(name);
        let values = view
            .data()
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
            .collect();
        (values, view.shape().to_vec())
    }

    fn floats(&self, name: &str) -> Vec<f32> {
        let file = SafeTensors::deserialize(&self.bytes).unwrap();
        let view = file.tensor(name).expect(name);
        view.data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect()
    }

    /// The left-padded batch as a model input.
    fn batch(&self, device: &Device) -> LlamaInput {
        let (ids, shape) = self.ints("batch_ids");
        let (mask, _) = self.ints("batch_mask");
        let shape = [shape[0], shape[1]];
        LlamaInput {
            input_ids: Tensor::from_data(TensorData::new(ids, shape), device),
            attention_mask: Tensor::from_data(TensorData::new(mask, shape), device),
        }
    }

    /// The real tokens of each row of the padded batch.
    fn prompts(&self) -> Vec<Vec<u32>> {
        let (ids, shape) = self.ints("batch_ids");
        let (mask, _) = self.ints("batch_mask");
        (0..shape[0])
            .map(|row| {
                (0..shape[1])
                    .map(|col| row * shape[1] + col)
                    .filter(|&i| mask[i] == 1)
                    .map(|i| ids[i] as u32)
                    .collect()
            })
            .collect()
    }

    /// Reference greedy continuations, one row per prompt.
    fn greedy(&self) -> Vec<Vec<u32>> {
        let (tokens, shape) = self.ints("greedy_tokens");
        tokens
            .chunks(shape[1])
            .map(|row| row.iter().map(|&t| t as u32).collect())
            .collect()
    }
}

fn load(variant: &str) -> Llama {
    let loaded = Llama::from_pretrained(fixture(variant), &device::cpu()).expect("load");
    let report = loaded.report;
    assert!(report.is_complete(), "{report}");
    assert!(report.unexpected.is_empty(), "{report}");
    assert_eq!(loaded.config.num_layers, loaded.model.layers.len());
    loaded.model
}

fn values(tensor: Tensor<3>) -> Vec<f32> {
    tensor.into_data().convert::<f32>().try_to_vec().unwrap()
}

fn ints(tensor: Tensor<2, Int>) -> Vec<i64> {
    tensor.into_data().convert::<i64>().try_to_vec().unwrap()
}

/// Largest difference over the positions whose mask is 1 (`width` values per position).
fn max_error(got: &[f32], want: &[f32], mask: &[i64], width: usize) -> f32 {
    assert_eq!(got.len(), want.len());
    let mut worst = 0f32;
    for (position, &m) in mask.iter().enumerate() {
        if m == 1 {
            for i in position * width..(position + 1) * width {
                worst = worst.max((got[i] - want[i]).abs());
            }
        }
    }
    worst
}

/// Runs the batch through the cache in chunks of the given widths.
fn chunked_logits(model: &Llama, input: &LlamaInput, widths: &[usize]) -> Tensor<3> {
    let [batch, seq] = input.input_ids.dims();
    assert_eq!(widths.iter().sum::<usize>(), seq);
    let mut cache = KvCache::new();
    let mut start = 0;
    let mut outputs = Vec::new();
    for &width in widths {
        let columns = [0..batch, start..start + width];
        let chunk = LlamaInput {
            input_ids: input.input_ids.clone().slice(columns.clone()),
            attention_mask: input.attention_mask.clone().slice(columns),
        };
        outputs.push(model.forward(chunk, Some(&mut cache)));
        start += width;
    }
    assert_eq!(cache.len(), seq);
    Tensor::cat(outputs, 1)
}

#[test]
fn logits_match_transformers() {
    for variant in ["tiny", "tiny_tied"] {
        let golden = Golden::open(variant);
        let model = load(variant);
        let device = device::cpu();
        let vocab = model.vocab_size();

        let (ids, shape) = golden.ints("single_ids");
        let single = LlamaInput::new(Tensor::from_data(
            TensorData::new(ids, [shape[0], shape[1]]),
            &device,
        ));
        let all = vec![1i64; shape[1]];
        let err = max_error(
            &values(model.forward(single, None)),
            &golden.floats("single_logits"),
            &all,
            vocab,
        );
        eprintln!("{variant}: single-sequence logits max abs error {err:e}");
        assert!(err <= 1e-4, "{variant}: single logits error {err}");

        let batch = golden.batch(&device);
        let mask = ints(batch.attention_mask.clone());
        let expected = golden.floats("batch_logits");
        let full = values(model.forward(batch.clone(), None));
        let err = max_error(&full, &expected, &mask, vocab);
        eprintln!("{variant}: left-padded batch logits max abs error {err:e}");
        assert!(err <= 1e-4, "{variant}: batch logits error {err}");

        let seq = batch.input_ids.dims()[1];
        let mut widths = vec![2];
        widths.resize(seq - 1, 1);
        let cached = values(chunked_logits(&model, &batch, &widths));
        let err = max_error(&cached, &expected, &mask, vocab);
        eprintln!("{variant}: KV-cached incremental logits max abs error {err:e}");
        assert!(err <= 1e-4, "{variant}: cached logits error {err}");
    }
}

#[test]
fn greedy_generation_matches_transformers() {
    for variant in ["tiny", "tiny_tied"] {
        let golden = Golden::open(variant);
        let model = load(variant);
        let expected = golden.greedy();
        let expected_log_probs = golden.floats("greedy_log_probs");
        let steps = expected[0].len();
        for use_cache in [true, false] {
            let config = GenerationConfig::new(steps).with_use_cache(use_cache);
            let out = model.generate(&golden.prompts(), &config).unwrap();
            for (row, generation) in out.iter().enumerate() {
                assert_eq!(generation.tokens, expected[row], "{variant} row {row}");
                assert_eq!(generation.finish, FinishReason::Length);
                let want = &expected_log_probs[row * steps..(row + 1) * steps];
                for (got, want) in generation.log_probs.iter().zip(want) {
                    assert!(
                        (got - want).abs() <= 1e-4,
                        "{variant} row {row}: {got} vs {want}"
                    );
                }
            }
        }
    }
}

/// A random model with biases and an explicit head size, to exercise what the fixtures do not.
fn random_model() -> Llama {
    let device = device::cpu();
    device.seed(11);
    LlamaConfig::new(40, 24, 2, 4, 2, 32)
        .with_head_dim(Some(8))
        .with_attention_bias(true)
        .with_mlp_bias(true)
        .with_initializer_range(0.3)
        .with_rope_theta(100.0)
        .init(&device)
}

#[test]
fn kv_cache_equals_full_recomputation() {
    let model = random_model();
    let device = device::cpu();
    let input = LlamaInput::left_padded(&[vec![3, 9, 1, 30, 7, 7, 2, 15], vec![4, 5, 6]], &device);
    let mask = ints(input.attention_mask.clone());
    let full = values(model.forward(input.clone(), None));
    for widths in [vec![1; 8], vec![5, 1, 2], vec![8]] {
        let cached = values(chunked_logits(&model, &input, &widths));
        let err = max_error(&cached, &full, &mask, 40);
        assert!(err <= 1e-5, "chunks {widths:?}: error {err}");
    }
}

#[test]
fn left_padded_rows_equal_single_rows() {
    let model = random_model();
    let device = device::cpu();
    let prompts = vec![vec![1, 2, 3, 4, 5, 6, 7], vec![9], vec![20, 21, 22]];
    let batch = LlamaInput::left_padded(&prompts, &device);
    let batched = values(model.forward(batch, None));
    let seq = 7;
    let config = GenerationConfig::new(6);
    let generated = model.generate(&prompts, &config).unwrap();
    for (row, prompt) in prompts.iter().enumerate() {
        let alone = values(model.forward(
            LlamaInput::left_padded(std::slice::from_ref(prompt), &device),
            None,
        ));
        let offset = (row * seq + seq - prompt.len()) * 40;
        let err = max_error(
            &batched[offset..offset + alone.len()],
            &alone,
            &vec![1; prompt.len()],
            40,
        );
        assert!(err <= 1e-5, "row {row}: padded logits differ by {err}");
        let single = model
            .generate(std::slice::from_ref(prompt), &config)
            .unwrap();
        assert_eq!(single[0].tokens, generated[row].tokens, "row {row}");
        for (a, b) in single[0].log_probs.iter().zip(&generated[row].log_probs) {
            assert!((a - b).abs() <= 1e-5, "row {row}: {a} vs {b}");
        }
    }
}

#[test]
fn seeded_sampling_is_reproducible_and_top_k_1_is_greedy() {
    let model = load("tiny");
    let prompts = Golden::open("tiny").prompts();
    let sampling = SamplingConfig::new()
        .with_do_sample(true)
        .with_temperature(1.5)
        .with_top_p(0.95);
    let config = GenerationConfig::new(8).with_sampling(sampling.clone());
    let tokens = |config: &GenerationConfig| -> Vec<Vec<u32>> {
        let out = model.generate(&prompts, config).unwrap();
        out.into_iter().map(|g| g.tokens).collect()
    };
    let first = tokens(&config.clone().with_seed(3));
    assert_eq!(first, tokens(&config.clone().with_seed(3)));
    assert_eq!(
        first,
        tokens(&config.clone().with_seed(3).with_use_cache(false)),
        "the cache does not change sampling"
    );
    assert_ne!(first, tokens(&config.clone().with_seed(4)));
    let greedy = Golden::open("tiny").greedy();
    assert_ne!(first, greedy, "temperature 1.5 sampling is not greedy");
    let top1 = GenerationConfig::new(8)
        .with_seed(5)
        .with_sampling(sampling.with_top_k(1).with_temperature(0.7));
    assert_eq!(tokens(&top1), greedy);
}

#[test]
fn eos_and_stop_conditions_end_rows() {
    let model = load("tiny");
    let golden = Golden::open("tiny");
    let prompts = golden.prompts();
    let greedy = golden.greedy();
    // Reference rows: [105, 59, 79, 108, 108, 65, 56, 108], [90, 90, 90, 90, 56, ...],
    // [90, 9, 5, 72, 7, 37, 82, 127].
    let prefix_through = |row: &[u32], token: u32| -> Vec<u32> {
        let end = row
            .iter()
            .position(|&t| t == token)
            .map_or(row.len(), |i| i + 1);
        row[..end].to_vec()
    };
    let config = GenerationConfig::new(8).with_eos_token_ids(vec![108, 5]);
    let out = model.generate(&prompts, &config).unwrap();
    for (row, generation) in out.iter().enumerate() {
        let mut want = prefix_through(&greedy[row], 108);
        if want.len() == greedy[row].len() {
            want = prefix_through(&greedy[row], 5);
        }
        assert_eq!(generation.tokens, want, "row {row}");
        let finish = if want.len() < 8 || greedy[row][7] == 108 {
            FinishReason::Eos
        } else {
            FinishReason::Length
        };
        assert_eq!(generation.finish, finish, "row {row}");
        assert_eq!(generation.log_probs.len(), generation.tokens.len());
    }
    assert_eq!(out[1].finish, FinishReason::Length, "row 1 has neither id");

    let stop_tokens = vec![greedy[1][2], greedy[1][3], greedy[1][4]];
    let config = GenerationConfig::new(8).with_stop_sequences(vec![stop_tokens]);
    let out = model.generate(&prompts, &config).unwrap();
    assert_eq!(out[1].tokens, greedy[1][..5].to_vec());
    assert_eq!(out[1].finish, FinishReason::Stop);
    assert_eq!(out[0].tokens, greedy[0], "other rows run on");

    let decode = |ids: &[u32]| ids.iter().map(|id| format!("<{id}>")).collect::<String>();
    let mut stop = StopStrings::new(["9><5"], decode);
    let out = model
        .generate_with_stop(&prompts, &GenerationConfig::new(8), &mut stop)
        .unwrap();
    assert_eq!(
        out[2].tokens,
        greedy[2][..3].to_vec(),
        "<90><9><5> contains 9><5"
    );
    assert_eq!(out[2].finish, FinishReason::Stop);
    assert_eq!(out[0].finish, FinishReason::Length);
}

#[test]
fn continuation_log_probs_equal_stepwise_log_softmax() {
    let model = random_model();
    let device = device::cpu();
    let pairs = vec![
        (vec![3, 4, 5], vec![6, 7, 8, 9]),
        (vec![10], vec![11, 12]),
        (vec![13, 14, 15, 16, 17], vec![]),
    ];
    let scores = model.score_continuations(&pairs).unwrap();
    for ((prompt, continuation), score) in pairs.iter().zip(&scores) {
        // Feed the prompt, then one continuation token at a time through the cache, and read
        // log-softmax of each step's logits at the next token.
        let mut cache = KvCache::new();
        let row = |ids: &[u32]| {
            let ids: Vec<i64> = ids.iter().map(|&t| t as i64).collect();
            let len = ids.len();
            LlamaInput::new(Tensor::from_data(TensorData::new(ids, [1, len]), &device))
        };
        let mut logits = model.forward(row(prompt), Some(&mut cache));
        let mut expected = Vec::new();
        for &token in continuation {
            let last = logits.clone().dims()[1] - 1;
            let step = values(logits.slice([0..1, last..last + 1]));
            let max = step.iter().copied().fold(f32::MIN, f32::max);
            let log_sum = step.iter().map(|v| (v - max).exp()).sum::<f32>().ln();
            expected.push(step[token as usize] - max - log_sum);
            logits = model.forward(row(&[token]), Some(&mut cache));
        }
        assert_eq!(score.token_log_probs.len(), continuation.len());
        for (got, want) in score.token_log_probs.iter().zip(&expected) {
            assert!((got - want).abs() <= 1e-5, "{got} vs {want}");
        }
        let sum: f32 = expected.iter().sum();
        assert!(
            (score.log_prob - sum).abs() <= 1e-4,
            "{} vs {sum}",
            score.log_prob
        );
    }
    assert_eq!(scores[2].log_prob, 0.0);

    // Generation reports the same log-probabilities as scoring its output.
    let golden = Golden::open("tiny");
    let tiny = load("tiny");
    let prompts = golden.prompts();
    let generated = tiny.generate(&prompts, &GenerationConfig::new(8)).unwrap();
    let pairs: Vec<_> = prompts
        .into_iter()
        .zip(&generated)
        .map(|(p, g)| (p, g.tokens.clone()))
        .collect();
    for (score, generation) in tiny
        .score_continuations(&pairs)
        .unwrap()
        .iter()
        .zip(&generated)
    {
        for (a, b) in score.token_log_probs.iter().zip(&generation.log_probs) {
            assert!((a - b).abs() <= 1e-4, "{a} vs {b}");
        }
    }

    assert_eq!(
        model.score_continuations(&[(vec![], vec![1])]),
        Err(GenerateError::EmptyPrompt { index: 0 })
    );
    assert_eq!(
        model.score_continuations(&[(vec![1], vec![2]), (vec![1], vec![40])]),
        Err(GenerateError::TokenOutOfRange {
            index: 1,
            token: 40,
            vocab_size: 40
        })
    );
}

#[test]
fn token_log_probs_are_differentiable() {
    let device = device::cpu().autodiff();
    device.seed(2);
    let model = LlamaConfig::new(20, 16, 1, 2, 1, 24).init(&device);
    let input = LlamaInput::left_padded(&[vec![1, 2, 3, 4], vec![5, 6]], &device);
    let log_probs = model.token_log_probs(input.clone());
    assert_eq!(log_probs.dims(), [2, 3]);
    let target_mask = input.attention_mask.slice([0..2, 1..4]).float();
    let grads = (log_probs * target_mask).sum().neg().backward();
    let grad = model.layers[0]
        .self_attn
        .q_proj
        .weight
        .val()
        .grad(&grads)
        .expect("q_proj gets a gradient");
    let norm = grad.abs().sum().into_scalar::<f32>();
    assert!(norm.is_finite() && norm > 0.0, "gradient norm {norm}");
}

#[test]
fn loading_reports_bad_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("tiny").join("config.json"),
        dir.path().join("config.json"),
    )
    .unwrap();
    let original = std::fs::read(fixture("tiny").join("model.safetensors")).unwrap();
    let file = SafeTensors::deserialize(&original).unwrap();
    // Drop the final norm, give a key projection the wrong shape and add a stray tensor.
    let mut tensors: Vec<(String, safetensors::tensor::TensorView)> = file
        .tensors()
        .into_iter()
        .filter(|(name, _)| name != "model.norm.weight")
        .collect();
    let small = vec![0u8; 4 * 4];
    for (name, view) in tensors.iter_mut() {
        if name == "model.layers.1.self_attn.k_proj.weight" {
            *view =
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![2, 2], &small)
                    .unwrap();
        }
    }
    tensors.push((
        "model.extra.weight".into(),
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![4], &small).unwrap(),
    ));
    let bytes = safetensors::serialize(tensors, None).unwrap();
    std::fs::write(dir.path().join("model.safetensors"), bytes).unwrap();
    let error = Llama::from_pretrained(dir.path(), &device::cpu())
        .unwrap_err()
        .to_string();
    assert!(error.contains("missing: model.norm.weight"), "{error}");
    assert!(
        error.contains(
            "wrong shape: model.layers.1.self_attn.k_proj.weight: model expects [32, 64], file has [2, 2]"
        ),
        "{error}"
    );
    assert!(error.contains("unused: model.extra.weight"), "{error}");

    // The tied checkpoint has no lm_head; the untied one needs it.
    let tied = Llama::from_pretrained(fixture("tiny_tied"), &device::cpu()).unwrap();
    assert!(tied.model.lm_head.is_none());
    assert!(tied.config.tie_word_embeddings);
    assert_eq!(tied.report.loaded.len(), 1 + 9 + 1);
    let untied = Llama::from_pretrained(fixture("tiny"), &device::cpu()).unwrap();
    assert_eq!(untied.report.loaded.len(), 1 + 2 * 9 + 1 + 1);
}
