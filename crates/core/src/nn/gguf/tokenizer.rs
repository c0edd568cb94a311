//! The tokenizer and chat template stored in a GGUF file's `tokenizer.*` metadata.
//!
//! llama.cpp keeps the whole vocabulary in the file: `tokenizer.ggml.model` names the algorithm
//! (`gpt2` = byte-level BPE with `tokenizer.ggml.merges`; `llama` = SentencePiece BPE with
//! `tokenizer.ggml.scores`, turned into ranked merges with byte fallback), `tokenizer.ggml.pre` the pre-tokenizer regexes
//! (`src/llama-vocab.cpp`), `tokenizer.ggml.token_type` which ids are control tokens. This module
//! writes the equivalent Hugging Face `tokenizer.json` and loads it with `tokenizers`, so the
//! result encodes like llama.cpp (checked on SmolLM2 against llama.cpp's own ids).

use serde_json::{Value, json};

use super::{GgufError, GgufFile, GgufValue};
pub use crate::chat::{ChatMessage, ChatTemplate};
use crate::tokenize::Tokenizer;

/// Llama 3's pattern (`llama-bpe`).
const LLAMA3_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Qwen 2's pattern (`qwen2`): like Llama 3's with single digits.
const QWEN2_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Control (3) and user-defined (4) tokens are matched whole in the text.
const CONTROL: i64 = 3;
const USER_DEFINED: i64 = 4;

/// Builds the tokenizer described by the file's metadata.
///
/// # Errors
/// When the metadata lacks the vocabulary or names a tokenizer model or pre-tokenizer this
/// reader does not know (the message lists the known ones).
pub fn tokenizer_from_gguf(file: &GgufFile) -> Result<Tokenizer, GgufError> {
    let json = tokenizer_json(file)?;
    let bytes = serde_json::to_vec(&json).expect("JSON value serialises");
    Tokenizer::from_bytes(bytes, file.path()).map_err(|e| {
        file.metadata_error("tokenizer.ggml.model", &format!("tokenizer not built: {e}"))
    })
}

/// The chat template of the file, with its BOS/EOS token texts, if it has one.
pub fn chat_template_from_gguf(file: &GgufFile) -> Result<Option<ChatTemplate>, GgufError> {
    let Some(source) = file.get("tokenizer.chat_template") else {
        return Ok(None);
    };
    let source = source
        .as_str()
        .ok_or_else(|| file.metadata_error("tokenizer.chat_template", "expected a string"))?;
    // Only the two special tokens' texts: no need to copy the whole vocabulary.
    let key = "tokenizer.ggml.tokens";
    let tokens = file
        .get(key)
        .ok_or_else(|| file.metadata_error(key, "absent"))?
        .as_array()
        .ok_or_else(|| file.metadata_error(key, "expected an array"))?;
    let token_text = |key: &str| {
        file.get(key)
            .and_then(GgufValue::as_u64)
            .and_then(|id| tokens.get(id as usize))
            .and_then(GgufValue::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let bos = token_text("tokenizer.ggml.bos_token_id");
    let eos = token_text("tokenizer.ggml.eos_token_id");
    ChatTemplate::new(source, bos, eos)
        .map(Some)
        .map_err(|e| file.metadata_error("tokenizer.chat_template", &e.message))
}

fn strings(file: &GgufFile, key: &str) -> Result<Vec<String>, GgufError> {
    let items = file
        .get(key)
        .ok_or_else(|| file.metadata_error(key, "absent"))?
        .as_array()
        .ok_or_else(|| file.metadata_error(key, "expected an array"))?;
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| file.metadata_error(key, &format!("element {i} is not a string")))
        })
        .collect()
}

fn numbers(file: &GgufFile, key: &str, len: usize) -> Result<Option<Vec<f64>>, GgufError> {
    let Some(value) = file.get(key) else {
        return Ok(None);
    };
    let items = value
        .as_array()
        .ok_or_else(|| file.metadata_error(key, "expected an array"))?;
    if items.len() != len {
        return Err(file.metadata_error(
            key,
            &format!("has {} entries for {len} tokens", items.len()),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_f64()
                .ok_or_else(|| file.metadata_error(key, &format!("element {i} is not a number")))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn tokenizer_json(file: &GgufFile) -> Result<Value, GgufError> {
    let model_kind = file.get_str("tokenizer.ggml.model")?;
    let tokens = strings(file, "tokenizer.ggml.tokens")?;
    let types = numbers(file, "tokenizer.ggml.token_type", tokens.len())?
        .unwrap_or_else(|| vec![1.0; tokens.len()]);
    let flag = |key: &str, default: bool| {
        file.get(key)
            .and_then(GgufValue::as_bool)
            .unwrap_or(default)
    };
    let id = |key: &str| file.get(key).and_then(GgufValue::as_u64);
    let added_tokens: Vec<Value> = tokens
        .iter()
        .zip(&types)
        .enumerate()
        .filter(|(_, (_, ty))| matches!(**ty as i64, CONTROL | USER_DEFINED))
        .map(|(i, (content, ty))| {
            json!({"id": i, "content": content, "single_word": false, "lstrip": false,
                   "rstrip": false, "normalized": false, "special": *ty as i64 == CONTROL})
        })
        .collect();
    let (model, pre_tokenizer, normalizer, decoder, default_bos) = match model_kind {
        "gpt2" => {
            let merges = strings(file, "tokenizer.ggml.merges")?;
            let merges: Vec<Value> = merges
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let (a, b) = m.split_once(' ').ok_or_else(|| {
                        file.metadata_error(
                            "tokenizer.ggml.merges",
                            &format!("merge {i} `{m}` is not two tokens"),
                        )
                    })?;
                    Ok(json!([a, b]))
                })
                .collect::<Result<_, GgufError>>()?;
            let vocab = vocab_map(&tokens);
            let model = json!({"type": "BPE", "dropout": null, "unk_token": null,
                "continuing_subword_prefix": null, "end_of_word_suffix": null, "fuse_unk": false,
                "byte_fallback": false, "ignore_merges": false, "vocab": vocab, "merges": merges});
            let pre = file
                .get("tokenizer.ggml.pre")
                .and_then(GgufValue::as_str)
                .unwrap_or("default");
            (
                model,
                byte_level_pre_tokenizer(file, pre)?,
                Value::Null,
                json!({"type": "ByteLevel",
                "add_prefix_space": true, "trim_offsets": true, "use_regex": true}),
                false,
            )
        }
        "llama" => {
            let scores = numbers(file, "tokenizer.ggml.scores", tokens.len())?
                .ok_or_else(|| file.metadata_error("tokenizer.ggml.scores", "absent"))?;
            let unk = id("tokenizer.ggml.unknown_token_id").unwrap_or(0) as usize;
            let model = json!({"type": "BPE", "dropout": null,
                "unk_token": tokens.get(unk).cloned(), "continuing_subword_prefix": null,
                "end_of_word_suffix": null, "fuse_unk": true, "byte_fallback": true,
                "ignore_merges": false, "vocab": vocab_map(&tokens),
                "merges": merges_from_scores(&tokens, &scores)});
            let mut normalizers = Vec::new();
            if flag("tokenizer.ggml.add_space_prefix", true) {
                normalizers.push(json!({"type": "Prepend", "prepend": "\u{2581}"}));
            }
            normalizers.push(json!({"type": "Replace", "pattern": {"String": " "},
                "content": "\u{2581}"}));
            let decoder = json!({"type": "Sequence", "decoders": [
                {"type": "Replace", "pattern": {"String": "\u{2581}"}, "content": " "},
                {"type": "ByteFallback"}, {"type": "Fuse"},
                {"type": "Strip", "content": " ", "start": 1, "stop": 0}]});
            (
                model,
                Value::Null,
                json!({"type": "Sequence", "normalizers": normalizers}),
                decoder,
                true,
            )
        }
        other => {
            return Err(file.metadata_error(
                "tokenizer.ggml.model",
                &format!("tokenizer model `{other}` is not supported (known: gpt2, llama)"),
            ));
        }
    };
    let mut single = Vec::new();
    let mut special_tokens = serde_json::Map::new();
    let mut add_special = |key: &str, flag_key: &str, default: bool, at_end: bool| {
        if !flag(flag_key, default) {
            return None;
        }
        let token_id = id(key)?;
        let text = tokens.get(token_id as usize)?.clone();
        special_tokens.insert(
            text.clone(),
            json!({"id": text, "ids": [token_id], "tokens": [text]}),
        );
        Some((json!({"SpecialToken": {"id": text, "type_id": 0}}), at_end))
    };
    let bos = add_special(
        "tokenizer.ggml.bos_token_id",
        "tokenizer.ggml.add_bos_token",
        default_bos,
        false,
    );
    let eos = add_special(
        "tokenizer.ggml.eos_token_id",
        "tokenizer.ggml.add_eos_token",
        false,
        true,
    );
    if let Some((bos, _)) = bos {
        single.push(bos);
    }
    single.push(json!({"Sequence": {"id": "A", "type_id": 0}}));
    if let Some((eos, _)) = eos {
        single.push(eos);
    }
    let mut pair = single.clone();
    pair.push(json!({"Sequence": {"id": "B", "type_id": 1}}));
    Ok(json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added_tokens,
        "normalizer": normalizer,
        "pre_tokenizer": pre_tokenizer,
        "post_processor": {"type": "TemplateProcessing", "single": single, "pair": pair,
            "special_tokens": special_tokens},
        "decoder": decoder,
        "model": model,
    }))
}

/// The pre-tokenizer of llama.cpp's `tokenizer.ggml.pre` for byte-level BPE vocabularies.
fn byte_level_pre_tokenizer(file: &GgufFile, pre: &str) -> Result<Value, GgufError> {
    let byte_level = |use_regex: bool| {
        json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true,
               "use_regex": use_regex})
    };
    let split = |pattern: &str| {
        json!({"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated",
               "invert": false})
    };
    Ok(match pre {
        "default" | "gpt-2" | "gpt2" => byte_level(true),
        // Every digit on its own first, then GPT-2's pattern (LLAMA_VOCAB_PRE_TYPE_SMOLLM).
        "smollm" => json!({"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": true}, byte_level(true)]}),
        "llama-bpe" | "llama3" => json!({"type": "Sequence", "pretokenizers": [
            split(LLAMA3_PATTERN), byte_level(false)]}),
        "qwen2" => json!({"type": "Sequence", "pretokenizers": [
            split(QWEN2_PATTERN), byte_level(false)]}),
        other => {
            return Err(file.metadata_error(
                "tokenizer.ggml.pre",
                &format!(
                    "pre-tokenizer `{other}` is not supported (known: default, gpt-2, smollm, \
                     llama-bpe, qwen2)"
                ),
            ));
        }
    })
}

/// Token → id (the first id of a token written twice wins, as llama.cpp looks tokens up).
fn vocab_map(tokens: &[String]) -> serde_json::Map<String, Value> {
    let mut vocab = serde_json::Map::new();
    for (i, t) in tokens.iter().enumerate() {
        vocab.entry(t.clone()).or_insert(json!(i));
    }
    vocab
}

/// The merges of a SentencePiece BPE vocabulary, from its scores.
///
/// llama.cpp's SentencePiece tokenizer (`llm_tokenizer_spm`) starts from single characters and
/// repeatedly joins the adjacent pair whose joined text is a vocabulary piece with the highest
/// score. As byte-pair merges: every piece that splits into two pieces gives the merge of those
/// two, ranked by the joined piece's score (highest first; ties by id), which is how
/// `transformers` converts these vocabularies too.
fn merges_from_scores(tokens: &[String], scores: &[f64]) -> Vec<Value> {
    let index: std::collections::HashMap<&str, usize> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i))
        .collect();
    let mut merges: Vec<(f64, usize, usize, usize)> = Vec::new();
    for (id, piece) in tokens.iter().enumerate() {
        for (split, _) in piece.char_indices().skip(1) {
            let (left, right) = piece.split_at(split);
            if let (Some(&l), Some(&r)) = (index.get(left), index.get(right)) {
                merges.push((scores[id], id, l, r));
            }
        }
    }
    merges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    merges
        .into_iter()
        .map(|(_, _, l, r)| json!([tokens[l], tokens[r]]))
        .collect()
}
