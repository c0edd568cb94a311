//! Real pretrained weights: the GGUF reader against fixtures made by the reference `gguf`
//! package (`fixtures/gguf/make_fixtures.py`), Llama from GGUF on tiny converted models and on
//! SmolLM2-135M-Instruct (`shared/models/smollm2-135m-instruct/reference.json`), and the 4-bit
//! multilingual E5 encoder (`shared/models/multilingual-e5-small-q4/reference.json`).
//!
//! Tests that need files outside the repository print the missing path and return.

use std::path::{Path, PathBuf};

use burn::tensor::{Int, Tensor, TensorData};
use burnlp_core::chat::ChatMessage;
use burnlp_core::device;
use burnlp_core::nn::e5s1::{E5Mode, E5s1File, SentenceEmbedder, cosine};
use burnlp_core::nn::gguf::tokenizer::{chat_template_from_gguf, tokenizer_from_gguf};
use burnlp_core::nn::gguf::{GgmlType, GgufFile, GgufValue};
use burnlp_core::nn::llama::{Llama, LlamaInput};
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gguf")
}

fn shared(rel: &str) -> Option<PathBuf> {
    burnlp_core::data::shared_path(rel)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(value: &Value) -> Vec<f32> {
    value
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|v| match v {
            Value::Array(_) => floats(v),
            other => vec![other.as_f64().unwrap() as f32],
        })
        .collect()
}

fn ids(value: &Value) -> Vec<u32> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect()
}

#[test]
fn gguf_metadata_and_directory_match_the_reference_package() {
    let file = GgufFile::open(fixtures().join("blocks.gguf")).unwrap();
    let expected = read_json(&fixtures().join("blocks.json"));
    assert_eq!(
        file.version() as u64,
        expected["header"]["version"].as_u64().unwrap()
    );
    assert_eq!(file.get("general.alignment"), Some(&GgufValue::U32(64)));
    for (key, want) in expected["metadata"].as_object().unwrap() {
        let got = file.get(key).unwrap_or_else(|| panic!("{key} absent"));
        assert_eq!(
            got.type_id() as u64,
            want["type"].as_u64().unwrap(),
            "{key}"
        );
        let value = &want["value"];
        match got {
            GgufValue::String(s) => assert_eq!(s, value.as_str().unwrap(), "{key}"),
            GgufValue::Bool(b) => assert_eq!(*b, value.as_bool().unwrap(), "{key}"),
            GgufValue::F32(v) => assert_eq!(*v, value.as_f64().unwrap() as f32, "{key}"),
            GgufValue::F64(v) => assert_eq!(*v, value.as_f64().unwrap(), "{key}"),
            GgufValue::U64(v) => assert_eq!(*v, value.as_u64().unwrap(), "{key}"),
            GgufValue::Array(..) => assert_eq!(to_json(got), *value, "{key}"),
            other => assert_eq!(other.as_i64().unwrap(), value.as_i64().unwrap(), "{key}"),
        }
    }
    assert_eq!(
        file.tensors().len(),
        expected["tensors"].as_array().unwrap().len()
    );
}

fn to_json(value: &GgufValue) -> Value {
    match value {
        GgufValue::Array(_, items) => Value::Array(items.iter().map(to_json).collect()),
        GgufValue::String(s) => Value::from(s.as_str()),
        GgufValue::Bool(b) => Value::from(*b),
        GgufValue::F32(v) => Value::from(*v as f64),
        GgufValue::F64(v) => Value::from(*v),
        other => match other.as_i64() {
            Some(v) => Value::from(v),
            None => Value::from(other.as_u64().unwrap()),
        },
    }
}

#[test]
fn every_block_type_dequantizes_like_the_reference_package() {
    let file = GgufFile::open(fixtures().join("blocks.gguf")).unwrap();
    let expected = read_json(&fixtures().join("blocks.json"));
    let mut types = Vec::new();
    for tensor in expected["tensors"].as_array().unwrap() {
        let name = tensor["name"].as_str().unwrap();
        let info = file.tensor(name).unwrap();
        assert_eq!(
            info.ggml_type.id() as u64,
            tensor["ggml_type"].as_u64().unwrap()
        );
        assert_eq!(info.dims, vec![512, 2], "{name}");
        assert_eq!(
            info.offset,
            tensor["data_offset"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(info.n_bytes, tensor["n_bytes"].as_u64().unwrap(), "{name}");
        let (shape, values) = file.dequantize(name).unwrap();
        assert_eq!(shape, vec![2, 512]);
        let want = floats(&tensor["values"]);
        assert_eq!(values.len(), want.len());
        for (i, (got, want)) in values.iter().zip(&want).enumerate() {
            // The JSON holds each float32's shortest decimal: equal up to parsing.
            let tolerance = want.abs() * 1e-6 + 1e-30;
            assert!(
                (got - want).abs() <= tolerance,
                "{name}[{i}]: {got} vs reference {want}"
            );
        }
        types.push(info.ggml_type);
    }
    for ty in [
        GgmlType::F32,
        GgmlType::F16,
        GgmlType::BF16,
        GgmlType::Q8_0,
        GgmlType::Q4_0,
        GgmlType::Q4_1,
        GgmlType::Q5_0,
        GgmlType::Q5_1,
        GgmlType::Q4_K,
        GgmlType::Q5_K,
        GgmlType::Q6_K,
    ] {
        assert!(types.contains(&ty), "no fixture for {ty:?}");
    }
}

#[test]
fn damaged_gguf_files_are_errors_naming_the_problem() {
    let bytes = std::fs::read(fixtures().join("blocks.gguf")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, data: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, data).unwrap();
        path
    };
    // Truncated inside the last tensor's data.
    let path = write("truncated.gguf", &bytes[..bytes.len() - 100]);
    let err = GgufFile::open(&path).unwrap_err().to_string();
    assert!(
        err.contains("tensor `") && err.contains("truncated"),
        "{err}"
    );
    // Truncated inside the header.
    let path = write("header.gguf", &bytes[..40]);
    let err = GgufFile::open(&path).unwrap_err().to_string();
    assert!(err.contains("more than the 24 bytes left"), "{err}");
    // Not GGUF at all.
    let path = write("magic.gguf", b"GGML0000");
    let err = GgufFile::open(&path).unwrap_err().to_string();
    assert!(err.contains("no `GGUF` magic"), "{err}");
    // An unknown block type: rewrite the type id of `t.q8_0` (the u32 after its dims).
    let file = GgufFile::open(fixtures().join("blocks.gguf")).unwrap();
    let name = b"t.q8_0";
    let at = bytes
        .windows(name.len())
        .position(|w| w == name)
        .expect("name in the directory");
    let type_at = at + name.len() + 4 + 2 * 8;
    assert_eq!(
        u32::from_le_bytes(bytes[type_at..type_at + 4].try_into().unwrap()),
        file.tensor("t.q8_0").unwrap().ggml_type.id()
    );
    let mut patched = bytes.clone();
    patched[type_at..type_at + 4].copy_from_slice(&16u32.to_le_bytes());
    let path = write("type.gguf", &patched);
    let err = GgufFile::open(&path).unwrap_err().to_string();
    assert!(
        err.contains("t.q8_0") && err.contains("unsupported block type"),
        "{err}"
    );
    // A shape that disagrees with the data: double the row count of `t.q8_0`.
    let mut patched = bytes.clone();
    let dim1_at = at + name.len() + 4 + 8;
    patched[dim1_at..dim1_at + 8].copy_from_slice(&4u64.to_le_bytes());
    let path = write("shape.gguf", &patched);
    let err = GgufFile::open(&path).unwrap_err().to_string();
    assert!(err.contains("t.q8_0") || err.contains("overlaps"), "{err}");
}

/// Logits of every position of the reference input, compared with the fixture's.
fn check_tiny_model(name: &str, arch: &str) {
    let expected = read_json(&fixtures().join("tiny_models.json"));
    let model_json = expected["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["arch"] == arch)
        .unwrap()
        .clone();
    let device = device::cpu();
    let loaded = Llama::from_gguf(fixtures().join(name), &device).unwrap();
    assert!(loaded.report.missing.is_empty());
    assert_eq!(loaded.config.tie_word_embeddings, arch == "llama");
    assert_eq!(loaded.config.qkv_bias, arch == "qwen2");
    assert!(!loaded.config.attention_bias);
    let input = ids(&model_json["input_ids"]);
    let tensor = Tensor::<2, Int>::from_data(
        TensorData::new(input.iter().map(|&i| i as i64).collect(), [1, input.len()]),
        &device,
    );
    let logits = loaded.model.forward(LlamaInput::new(tensor), None);
    let got = logits.into_data().try_into_vec::<f32>().unwrap();
    let want = floats(&model_json["logits"]);
    assert_eq!(got.len(), want.len());
    let max = got
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(max < 1e-4, "{arch}: max abs logit difference {max}");
    let file = GgufFile::open(fixtures().join(name)).unwrap();
    let tokenizer = tokenizer_from_gguf(&file).unwrap();
    assert_eq!(tokenizer.vocab_size(), 64);
    assert_eq!(
        tokenizer.encode("<|im_start|>hello", false).unwrap().ids[0],
        1
    );
}

#[test]
fn tiny_llama_gguf_matches_the_converted_reference() {
    check_tiny_model("tiny_llama.gguf", "llama");
}

#[test]
fn tiny_qwen2_gguf_with_biases_and_untied_head_matches() {
    check_tiny_model("tiny_qwen2.gguf", "qwen2");
}

#[test]
fn smollm2_tokenizer_and_chat_template_match_the_reference() {
    let Some(dir) = shared("models/smollm2-135m-instruct") else {
        return;
    };
    let reference = read_json(&dir.join("reference.json"));
    let file = GgufFile::open(dir.join("SmolLM2-135M-Instruct.Q4_1.gguf")).unwrap();
    let tokenizer = tokenizer_from_gguf(&file).unwrap();
    let template = chat_template_from_gguf(&file)
        .unwrap()
        .expect("a chat template");
    for prompt in reference["prompts"].as_array().unwrap() {
        let text = prompt["text"].as_str().unwrap();
        if prompt["chat_template"].as_bool().unwrap() {
            let user = prompt["user_message"].as_str().unwrap();
            let rendered = template.apply(&[ChatMessage::user(user)], true).unwrap();
            assert_eq!(rendered, text);
        }
        let encoded = tokenizer.encode(text, true).unwrap();
        assert_eq!(encoded.ids, ids(&prompt["input_ids"]), "{text}");
    }
    // Runs of spaces before digits: llama.cpp's smollm pre-tokenizer (FORMAT.md §7).
    assert_eq!(
        tokenizer.encode(" or  99", true).unwrap().ids,
        vec![355, 256, 41, 41]
    );
    // The same ids as the shared tokenizer.json on GSM8K questions.
    let Some(gsm) = shared("datasets/gsm8k/test_sample.jsonl") else {
        return;
    };
    let reference_tokenizer =
        burnlp_core::tokenize::Tokenizer::from_file(dir.join("tokenizer.json")).unwrap();
    for line in std::fs::read_to_string(gsm).unwrap().lines().take(100) {
        let question = serde_json::from_str::<Value>(line).unwrap()["question"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            tokenizer.encode(&question, true).unwrap().ids,
            reference_tokenizer.encode(&question, true).unwrap().ids,
            "{question}"
        );
    }
}

#[test]
fn smollm2_logits_and_greedy_continuations_match_the_reference() {
    let Some(dir) = shared("models/smollm2-135m-instruct") else {
        return;
    };
    let reference = read_json(&dir.join("reference.json"));
    let device = device::cpu();
    let loaded = Llama::from_gguf(dir.join("SmolLM2-135M-Instruct.Q4_1.gguf"), &device).unwrap();
    assert!(loaded.config.tie_word_embeddings);
    assert_eq!(loaded.config.num_layers, 30);
    assert_eq!(loaded.config.num_kv_heads, 3);
    assert_eq!(loaded.config.rope_theta, 100000.0);
    for prompt in reference["prompts"].as_array().unwrap() {
        let name = prompt["name"].as_str().unwrap();
        let input = ids(&prompt["input_ids"]);
        let tensor = Tensor::<2, Int>::from_data(
            TensorData::new(input.iter().map(|&i| i as i64).collect(), [1, input.len()]),
            &device,
        );
        let seq = input.len();
        let logits = loaded
            .model
            .forward(LlamaInput::new(tensor), None)
            .slice([0..1, seq - 1..seq])
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let top_ids = ids(&prompt["last_logits_top10_ids"]);
        let top_values = floats(&prompt["last_logits_top10_values"]);
        for (id, want) in top_ids.iter().zip(&top_values) {
            let got = logits[*id as usize];
            assert!(
                (got - want).abs() <= 1e-3 * want.abs().max(1.0),
                "{name}: logit of {id} is {got}, reference {want}"
            );
        }
        let mut order: Vec<usize> = (0..logits.len()).collect();
        order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
        assert_eq!(order[0] as u32, top_ids[0], "{name}: argmax");
        // Greedy continuation with the KV cache, EOS not special (as the reference).
        let mut cache = burnlp_core::nn::llama::KvCache::new();
        let mut next_input = input.clone();
        let mut generated = Vec::new();
        for _ in 0..20 {
            let tensor = Tensor::<2, Int>::from_data(
                TensorData::new(
                    next_input.iter().map(|&i| i as i64).collect(),
                    [1, next_input.len()],
                ),
                &device,
            );
            let n = next_input.len();
            let step = loaded
                .model
                .forward(LlamaInput::new(tensor), Some(&mut cache))
                .slice([0..1, n - 1..n])
                .argmax(2)
                .into_data()
                .iter::<i64>()
                .next()
                .unwrap() as u32;
            generated.push(step);
            next_input = vec![step];
        }
        assert_eq!(generated, ids(&prompt["greedy_20_ids"]), "{name}: greedy");
    }
}

fn e5_weights() -> Option<PathBuf> {
    let path = std::env::var_os("BURNLP_E5S1")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/models/multilingual-e5-small-q4/e5-small-q4.bin")
        });
    if path.exists() {
        Some(path)
    } else {
        println!(
            "skipped: {} is absent (run `cargo xtask fetch-models`)",
            path.display()
        );
        None
    }
}

#[test]
fn multilingual_e5_tokenizes_and_embeds_like_the_reference() {
    let (Some(weights), Some(dir)) = (e5_weights(), shared("models/multilingual-e5-small-q4"))
    else {
        return;
    };
    let reference = read_json(&dir.join("reference.json"));
    let file = E5s1File::open(&weights).unwrap();
    assert_eq!(file.header.vocab_rows, 250_037);
    assert_eq!(file.tokenizer.vocab_size(), 250_002);
    assert_eq!(file.tensors.len(), 197);
    let device = device::cpu();
    let embedder = SentenceEmbedder::from_e5s1(&weights, &device).unwrap();
    let xlmr = shared("models/xlmr-tokenizer/tokenizer.json")
        .map(|p| burnlp_core::tokenize::Tokenizer::from_file(p).unwrap());
    let mut passages = Vec::new();
    for sentence in reference["sentences"].as_array().unwrap() {
        let text = sentence["text"].as_str().unwrap();
        for (mode, key) in [(E5Mode::Passage, "passage"), (E5Mode::Query, "query")] {
            let case = &sentence[key];
            let model_input = case["model_input"].as_str().unwrap();
            let want_ids = ids(&case["input_ids"]);
            assert_eq!(
                file.tokenizer.encode(model_input),
                want_ids,
                "{model_input}"
            );
            if let Some(xlmr) = &xlmr {
                assert_eq!(xlmr.encode(model_input, true).unwrap().ids, want_ids);
            }
            let got = &embedder.embed(&[text], mode, 8)[0];
            let want = floats(&case["float32_reference_embedding"]);
            let cos = cosine(got, &want);
            assert!(cos >= 0.9999, "{model_input}: cosine {cos}");
            if mode == E5Mode::Passage {
                passages.push(got.clone());
            }
        }
    }
    // Batched (padded) embeddings equal one-by-one ones.
    let texts: Vec<&str> = reference["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    let batched = embedder.embed(&texts, E5Mode::Passage, 6);
    for (a, b) in batched.iter().zip(&passages) {
        assert!(cosine(a, b) > 0.99999);
    }
    // Translations are nearer than non-translations (sentences 1↔5 and 2↔6).
    assert!(cosine(&passages[0], &passages[4]) > cosine(&passages[0], &passages[5]));
    assert!(cosine(&passages[1], &passages[5]) > cosine(&passages[1], &passages[4]));
}

#[test]
fn e5_tokenizer_as_a_tokenizers_pipeline_agrees_with_the_engine() {
    let (Some(weights), Some(dir)) = (e5_weights(), shared("datasets/tatoeba")) else {
        return;
    };
    let file = E5s1File::open(&weights).unwrap();
    let pipeline = file.tokenizer.to_tokenizer().unwrap();
    let (mut equal, mut total) = (0usize, 0usize);
    let mut differing = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        for line in std::fs::read_to_string(&path).unwrap().lines().take(100) {
            let text = format!("query: {line}");
            let engine = file.tokenizer.encode(&text);
            let ours = pipeline.encode(&text, true).unwrap().ids;
            total += 1;
            if engine == ours {
                equal += 1;
            } else if differing.len() < 5 {
                differing.push(text);
            }
        }
    }
    println!("E5 pipeline tokenizer: {equal}/{total} identical; differing: {differing:?}");
    // The engine's per-code-point map cannot compose combining marks, NFKC does (FORMAT.md §2).
    assert!(
        equal as f64 >= 0.995 * total as f64,
        "{equal}/{total}: {differing:?}"
    );
}

#[test]
fn sentencepiece_gguf_vocabulary_encodes_like_sentencepiece() {
    let file = GgufFile::open(fixtures().join("tiny_spm.gguf")).unwrap();
    let tokenizer = tokenizer_from_gguf(&file).unwrap();
    let expected = read_json(&fixtures().join("tiny_spm.json"));
    let bos = expected["bos_id"].as_u64().unwrap() as u32;
    let mut failures = Vec::new();
    for case in expected["cases"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let mut want = vec![bos];
        want.extend(ids(&case["ids"]));
        let got = tokenizer.encode(text, true).unwrap().ids;
        if got != want {
            failures.push(format!("{text:?}: {got:?} vs sentencepiece {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
