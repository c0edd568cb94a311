//! The real-data paths on a tiny upcycled Llama with a tokenizer trained in the test and
//! hand-written files in the official ESFT formats: labels −100 are never supervised (even
//! where a real token id is 0), each method trains only its parameters and lowers the loss,
//! evaluation writes official-format completions that `score` re-scores identically, the
//! overlap check drops evaluation queries, and perplexity falls on text trained on.

use std::path::Path;

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::Device;
use burnlp_core::nn::llama::LlamaConfig;
use burnlp_core::tokenize::BpeTrainingConfig;
use burnlp_core::tokenize::Tokenizer;
use burnlp_core::train::params::parameter_values;
use peft_moe::esft_data::{IGNORE_INDEX, TokenizedExample, read_eval, read_train};
use peft_moe::esft_score::{EsftTask, score_completions};
use peft_moe::moe::{MoeLm, load_pretrained, save_pretrained};
use peft_moe::real::{
    self, ChatLmTask, PromptMode, chat_ids, label_batch, perplexity, text_examples, train_steps,
    training_data, zero_shot_prompt,
};
use peft_moe::routing::ExpertConfig;
use peft_moe::train::Method;
use peft_moe::upcycle::{ChatTemplateSource, UpcycleConfig, save_tokenizer, upcycle};

const INSTRUCTION: &str = "请分析下面这句话的意图，并转化为json格式：";
const NAMES: [&str; 8] = [
    "晴天",
    "稻香",
    "夜曲",
    "青花瓷",
    "七里香",
    "告白气球",
    "双截棍",
    "简单爱",
];

fn answer(name: &str) -> String {
    format!("{{\"intent\": \"Music-Play\", \"slots\": {{\"name\": \"{name}\"}}}}")
}

fn user(query: &str) -> String {
    format!("{INSTRUCTION} {query}\n答案：")
}

/// Writes the training file (one conversation per name, the query "播放{name}") and an
/// evaluation file with few-shot prompts whose final queries are `eval_names`.
fn write_files(dir: &Path, eval_names: &[&str]) {
    let mut train = String::new();
    for (i, name) in NAMES.iter().enumerate() {
        let row = serde_json::json!({
            "id": format!("NLU{i:05}"), "dataset": "test_intent",
            "messages": [
                {"role": "user", "content": user(&format!("播放{name}"))},
                {"role": "assistant", "content": format!("{}。\n\n", answer(name))},
            ],
            "length": 10,
        });
        train.push_str(&format!("{row}\n"));
    }
    std::fs::write(dir.join("train.jsonl"), train).unwrap();
    let mut eval = String::new();
    for (i, name) in eval_names.iter().enumerate() {
        let shots = format!(
            "{} {}。\n\n{} {}。\n\n",
            user("播放晴天"),
            answer("晴天"),
            user("播放稻香"),
            answer("稻香")
        );
        let prompt = format!(
            "User: {shots}{}\n\nAssistant:",
            user(&format!("播放{name}"))
        );
        let row = serde_json::json!({
            "idx": 2 * i, "prompt": prompt,
            "raw_answers": [answer(name)], "answers": [answer(name)],
        });
        eval.push_str(&format!("{row}\n"));
    }
    std::fs::write(dir.join("eval.jsonl"), eval).unwrap();
}

/// A BPE tokenizer on the test texts whose id 0 is `<|endoftext|>` (a real token, as in
/// SmolLM2), with the chat BOS / EOS `<|im_start|>` / `<|im_end|>`.
fn tokenizer() -> Tokenizer {
    let mut lines: Vec<String> = NAMES
        .iter()
        .flat_map(|n| [user(&format!("播放{n}")), format!(" {}。", answer(n))])
        .collect();
    lines.push("User: Assistant: a man is riding a horse on the beach .".into());
    let config = BpeTrainingConfig {
        vocab_size: 200,
        min_frequency: 1,
        special_tokens: ["<|endoftext|>", "<unk>", "<|im_start|>", "<|im_end|>"]
            .map(String::from)
            .to_vec(),
        unk_token: Some("<unk>".into()),
        ..BpeTrainingConfig::default()
    };
    Tokenizer::train_bpe(lines.iter(), &config).unwrap()
}

/// Upcycles a tiny random Llama (4 experts, top-2, 2 layers) with the test tokenizer into
/// `dir`.
fn tiny_model_dir(dir: &Path) {
    let device = burnlp_core::device::cpu();
    device.seed(11);
    let tokenizer = tokenizer();
    let dense = LlamaConfig::new(tokenizer.vocab_size(), 32, 2, 4, 2, 48)
        .with_rope_theta(500.0)
        .with_initializer_range(0.1)
        .init(&device);
    let config = UpcycleConfig {
        noise_std: 0.05,
        router_std: 0.5,
        ..UpcycleConfig::new(4, 2)
    };
    let (model, moe_config) = upcycle(dense, &config, &device).unwrap();
    save_pretrained(dir, &moe_config, &model).unwrap();
    let template = ChatTemplateSource {
        template: "{% for m in messages %}{{ m['content'] }}{{ eos_token }}{% endfor %}".into(),
        bos_token: "<|im_start|>".into(),
        eos_token: "<|im_end|>".into(),
    };
    save_tokenizer(dir, &tokenizer, Some(&template)).unwrap();
}

fn values(model: &MoeLm) -> Vec<(String, Vec<f32>)> {
    parameter_values(model)
        .into_iter()
        .map(|(path, _, v)| (path, v))
        .collect()
}

fn load(dir: &Path, device: &Device) -> MoeLm {
    load_pretrained(dir, device).unwrap().1
}

#[test]
fn ignored_labels_are_never_supervised_even_where_the_id_is_zero() {
    let device = burnlp_core::device::cpu();
    // Id 0 as an unsupervised input, a supervised target and the padding.
    let a = TokenizedExample {
        input_ids: vec![2, 0, 5, 0, 7, 3],
        labels: vec![2, IGNORE_INDEX, IGNORE_INDEX, 0, 7, 3],
    };
    let b = TokenizedExample {
        input_ids: vec![2, 0, 9],
        labels: vec![2, IGNORE_INDEX, 9],
    };
    let batch = label_batch(&[&a, &b], &device);
    let mask = batch
        .weights
        .clone()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let targets = batch.targets.clone().try_to_vec_as::<i64>().unwrap();
    // Row a: positions 0..5 predict labels[1..6] = [−100, −100, 0, 7, 3].
    assert_eq!(&mask[..5], &[0.0, 0.0, 1.0, 1.0, 1.0]);
    assert_eq!(&targets[2..5], &[0, 7, 3]);
    // Row b: [−100, 9], then padding (id 0) never supervised.
    assert_eq!(&mask[5..], &[0.0, 1.0, 0.0, 0.0, 0.0]);
    assert_eq!(batch.target_count(), 4);
    // The loss ignores what the model predicts at unsupervised positions: logits that put all
    // mass on the right targets give 0 whatever the other positions hold.
    let vocab = 10;
    let mut logits = vec![0f32; 2 * 5 * vocab];
    for (pos, (&m, &t)) in mask.iter().zip(&targets).enumerate() {
        for v in 0..vocab {
            logits[pos * vocab + v] = if m > 0.0 {
                if v as i64 == t { 50.0 } else { -50.0 }
            } else {
                (v * pos) as f32
            };
        }
    }
    let logits = burnlp_core::burn::tensor::Tensor::<3>::from_data(
        burnlp_core::burn::tensor::TensorData::new(logits, [2, 5, vocab]),
        &device,
    );
    let nll = batch.nll_sum(logits).into_scalar::<f32>();
    assert!(nll.abs() < 1e-3, "unsupervised positions counted: {nll}");

    // And the chat format with a tokenizer whose id 0 is a real token: `<|endoftext|>` in the
    // user text is an input with label −100, in the answer a supervised target.
    let tokenizer = tokenizer();
    assert_eq!(tokenizer.token_to_id("<|endoftext|>"), Some(0));
    let dir = tempfile::tempdir().unwrap();
    tiny_model_dir(dir.path());
    let ids = chat_ids(dir.path(), &tokenizer).unwrap();
    let messages = [
        peft_moe::esft_data::Message::user("播放<|endoftext|>晴天"),
        peft_moe::esft_data::Message::assistant("晴天<|endoftext|>"),
    ];
    let example = peft_moe::esft_data::format_conversation(&messages, &tokenizer, ids).unwrap();
    let zeros: Vec<i64> = example
        .input_ids
        .iter()
        .zip(&example.labels)
        .filter(|(i, _)| **i == 0)
        .map(|(_, l)| *l)
        .collect();
    assert_eq!(zeros, vec![IGNORE_INDEX, 0], "{example:?}");
    let batch = label_batch(&[&example], &device);
    let mask = batch.weights.into_data().try_to_vec::<f32>().unwrap();
    let want: Vec<f32> = example.labels[1..]
        .iter()
        .map(|&l| f32::from(u8::from(l != IGNORE_INDEX)))
        .collect();
    assert_eq!(mask, want);
}

#[test]
fn each_method_trains_only_its_parameters_and_lowers_the_loss() {
    let dir = tempfile::tempdir().unwrap();
    tiny_model_dir(dir.path());
    write_files(dir.path(), &["夜曲"]);
    let device = burnlp_core::device::training_device("cpu").unwrap();
    let tokenizer = Tokenizer::from_file(dir.path().join("tokenizer.json")).unwrap();
    let ids = chat_ids(dir.path(), &tokenizer).unwrap();
    let data = training_data(&dir.path().join("train.jsonl"), &tokenizer, ids, None, 0).unwrap();
    assert_eq!(data.train.len(), NAMES.len());
    let task = ChatLmTask {
        train: data.train,
        dev: Vec::new(),
        batch_size: 4,
        aux_alpha: 0.001,
    };
    let experts = ExpertConfig {
        experts: [("0".to_string(), vec![1]), ("1".to_string(), vec![0, 3])].into(),
        shared_experts: false,
        non_expert_modules: false,
    };
    let before = values(&load(dir.path(), &device.clone()).valid());
    for method in [
        Method::Esft(experts.clone()),
        Method::Lora {
            rank: 4,
            alpha: 8.0,
        },
        Method::Fft,
    ] {
        let model = load(dir.path(), &device);
        // 2 batches per epoch: the first and the last epoch see the same conversations.
        let (trained, report, log) =
            train_steps(model, &method, &task, 16, 1e-2, Some(1.0), 3, &device);
        let first: f64 = log.losses[..2].iter().sum();
        let last: f64 = log.losses[14..].iter().sum();
        assert!(
            last < 0.9 * first,
            "{}: loss did not fall: {:?}",
            method.name(),
            log.losses
        );
        let after = values(&trained.valid());
        let mut changed = Vec::new();
        for (path, v) in &after {
            match before.iter().find(|(p, _)| p == path) {
                Some((_, old)) => {
                    if old != v {
                        changed.push(path.clone());
                    }
                }
                // A new parameter (a LoRA adapter): trained unless it is the zero-started B
                // that stayed 0, which cannot happen after 12 steps.
                None => changed.push(path.clone()),
            }
        }
        assert!(!changed.is_empty(), "{}: nothing changed", method.name());
        let expected = |path: &str| match &method {
            Method::Fft => true,
            Method::Lora { .. } => path.ends_with(".lora_a") || path.ends_with(".lora_b"),
            Method::Esft(_) => [
                "layers.0.mlp.moe.experts.1.",
                "layers.1.mlp.moe.experts.0.",
                "layers.1.mlp.moe.experts.3.",
            ]
            .iter()
            .any(|p| path.starts_with(p)),
        };
        for path in &changed {
            assert!(expected(path), "{}: {path} changed", method.name());
        }
        match &method {
            // Every selected expert weight moved; nothing else did.
            Method::Esft(_) => {
                assert_eq!(changed.len(), 9, "{changed:?}");
                assert_eq!(report.trainable, 3 * 3 * 32 * 48);
            }
            Method::Fft => assert_eq!(report.trainable, report.total),
            Method::Lora { .. } => assert!(report.trainable < report.total / 5),
        }
    }
}

#[test]
fn eval_writes_official_completions_that_score_rescores_identically() {
    let dir = tempfile::tempdir().unwrap();
    tiny_model_dir(dir.path());
    write_files(dir.path(), &["夜曲", "晴天", "双截棍"]);
    let device = burnlp_core::device::cpu();
    let eval = dir.path().join("eval.jsonl");
    // The zero-shot rewrite is exactly the training format of the final query.
    let records = read_eval(&eval).unwrap();
    let rewritten = zero_shot_prompt(&records[0].prompt).unwrap();
    assert_eq!(
        rewritten,
        format!("User: {}\n\nAssistant:", user("播放夜曲"))
    );
    for mode in [PromptMode::ZeroShot, PromptMode::FewShot] {
        let completions =
            real::eval_model_dir(dir.path(), &eval, Some(2), mode, 12, 2, &device).unwrap();
        assert_eq!(completions.len(), 2);
        let out = dir.path().join("completions.jsonl");
        real::write_completions(&out, &completions).unwrap();
        let report = score_completions(EsftTask::Intent, &out).unwrap();
        assert_eq!(report.n, 2);
        assert!(report.mismatches.is_empty(), "{:?}", report.mismatches);
        let mean = completions.iter().map(|c| c.score).sum::<f64>() / 2.0 * 100.0;
        assert_eq!(report.score, mean);
        let line: serde_json::Value = serde_json::from_str(
            std::fs::read_to_string(&out)
                .unwrap()
                .lines()
                .next()
                .unwrap(),
        )
        .unwrap();
        assert!(line["example"]["raw_prediction"].is_string());
        assert_eq!(line["example"]["raw_answers"][0], answer("夜曲"));
        let prompt = line["example"]["prompt"].as_str().unwrap();
        assert_eq!(prompt == rewritten, mode == PromptMode::ZeroShot);
    }
    // A prompt without an intent block is an error naming the file and line, not a panic.
    std::fs::write(
        &eval,
        r#"{"idx": 0, "prompt": "User: hello\n\nAssistant:", "raw_answers": ["x"], "answers": ["x"]}"#,
    )
    .unwrap();
    let err = real::eval_model_dir(dir.path(), &eval, None, PromptMode::ZeroShot, 4, 2, &device)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("eval.jsonl") && err.contains("line 1"),
        "{err}"
    );
}

#[test]
fn evaluation_queries_are_dropped_from_training() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &["夜曲", "不存在的歌"]);
    let train = read_train(dir.path().join("train.jsonl")).unwrap();
    let eval = read_eval(dir.path().join("eval.jsonl")).unwrap();
    let (kept, dropped) = real::exclude_eval(train, &eval).unwrap();
    assert_eq!(dropped, 1);
    assert_eq!(kept.len(), NAMES.len() - 1);
    assert!(kept.iter().all(|r| !r.messages[0].content.contains("夜曲")));
}

#[test]
fn perplexity_falls_on_text_trained_on() {
    let dir = tempfile::tempdir().unwrap();
    tiny_model_dir(dir.path());
    let device = burnlp_core::device::training_device("cpu").unwrap();
    let tokenizer = Tokenizer::from_file(dir.path().join("tokenizer.json")).unwrap();
    let ids = chat_ids(dir.path(), &tokenizer).unwrap();
    let lines = vec!["a man is riding a horse on the beach .".to_string()];
    let rows = text_examples(&lines, &tokenizer, ids.bos).unwrap();
    let model = load(dir.path(), &device);
    let before = perplexity(&model.valid(), &rows, 4);
    let task = ChatLmTask {
        train: rows.clone(),
        dev: Vec::new(),
        batch_size: 1,
        aux_alpha: 0.0,
    };
    let (trained, _, _) = train_steps(model, &Method::Fft, &task, 10, 1e-2, Some(1.0), 1, &device);
    let after = perplexity(&trained.valid(), &rows, 4);
    assert!(before.is_finite() && before > 1.0);
    assert!(after < 0.5 * before, "perplexity {before} -> {after}");
}

fn run_cli(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_peft-moe"))
        .args(args)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn cli_route_stats_train_eval_score_and_perplexity_on_esft_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    tiny_model_dir(&dir.path().join("model"));
    write_files(dir.path(), &["夜曲", "不存在的歌"]);
    std::fs::write(
        dir.path().join("text.txt"),
        "a man is riding a horse .\n\nthe beach .\n",
    )
    .unwrap();
    run_cli(&[
        "route-stats",
        "--model",
        &p("model"),
        "--esft-train",
        &p("train.jsonl"),
        "--tokens",
        "200",
        "--out",
        &p("stats"),
    ]);
    run_cli(&[
        "select",
        "--stats",
        &p("stats"),
        "--score",
        "token",
        "--p",
        "0.2",
        "--out",
        &p("experts.json"),
    ]);
    let row = run_cli(&[
        "train",
        "--model",
        &p("model"),
        "--esft-train",
        &p("train.jsonl"),
        "--exclude-eval",
        &p("eval.jsonl"),
        "--dev-size",
        "2",
        "--method",
        "esft-token",
        "--experts",
        &p("experts.json"),
        "--steps",
        "3",
        "--batch-size",
        "2",
        "--lr",
        "1e-3",
        "--out",
        &p("run"),
    ]);
    let row: serde_json::Value = serde_json::from_str(row.trim()).unwrap();
    assert_eq!(row["dropped_overlap"], 1);
    assert!(dir.path().join("run/metrics.jsonl").exists());
    // The trained directory evaluates (tokenizer kept) and `score` re-scores it identically.
    let row = run_cli(&[
        "eval",
        "--model",
        &p("run/model"),
        "--esft-eval",
        &p("eval.jsonl"),
        "--max-new-tokens",
        "8",
        "--out",
        &p("completions.jsonl"),
    ]);
    let row: serde_json::Value = serde_json::from_str(row.trim()).unwrap();
    assert_eq!(row["n"], 2);
    let scored = run_cli(&[
        "score",
        "--task",
        "intent",
        "--completions",
        &p("completions.jsonl"),
        "--json",
    ]);
    let scored: serde_json::Value = serde_json::from_str(scored.trim()).unwrap();
    assert_eq!(scored["mismatches"].as_array().unwrap().len(), 0);
    assert_eq!(scored["score"], row["score"]);
    let ppl = run_cli(&[
        "perplexity",
        "--model",
        &p("run/model"),
        "--text",
        &p("text.txt"),
    ]);
    let ppl: serde_json::Value = serde_json::from_str(ppl.trim()).unwrap();
    assert_eq!(ppl["lines"], 2);
    assert!(ppl["perplexity"].as_f64().unwrap() > 1.0);
}
