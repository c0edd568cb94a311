//! Integration tests of `burnlp_core::tokenize` on the real tokenizers in `../shared/models`.
//!
//! Golden ids come from the Python `tokenizers` package
//! (`datasets/scripts/tokenize/make_golden.py` -> `tests/golden/tokenize/golden.json`) and are
//! cross-checked against the raw vocabulary files (`vocab.txt`, `encoder.json`).

use std::collections::HashMap;
use std::path::Path;

use burnlp_core::tokenize::{
    BpeTrainingConfig, Padding, TokenizeError, Tokenizer, WordEncoding, WordPieceTrainingConfig,
};
use serde::Deserialize;

// Files of the shared folder: each macro returns from the calling test, with a printed line,
// when the file is absent (a user's clone has no `shared/`).

macro_rules! models {
    ($path:expr) => {
        burnlp_core::require_shared!(format!("models/{}", $path))
    };
}

macro_rules! datasets {
    ($path:expr) => {
        burnlp_core::require_shared!(format!("datasets/{}", $path))
    };
}

macro_rules! minilm {
    () => {
        Tokenizer::from_file(models!("all-minilm-l6-v2/tokenizer.json")).unwrap()
    };
}

macro_rules! chinese {
    () => {
        Tokenizer::from_file(models!("bert-base-chinese-tokenizer/tokenizer.json")).unwrap()
    };
}

macro_rules! xlmr {
    () => {
        Tokenizer::from_file(models!("xlmr-tokenizer/tokenizer.json")).unwrap()
    };
}

macro_rules! gpt2 {
    () => {{
        let dir = models!("gpt2-tokenizer");
        Tokenizer::from_gpt2_files(dir.join("encoder.json"), dir.join("vocab.bpe")).unwrap()
    }};
}

#[derive(Deserialize)]
struct Golden {
    models: HashMap<String, GoldenModel>,
}

#[derive(Deserialize)]
struct GoldenModel {
    vocab_size: usize,
    single: Vec<GoldenSingle>,
    pair: Vec<GoldenPair>,
    words: Vec<GoldenWords>,
}

#[derive(Deserialize)]
struct GoldenSingle {
    text: String,
    ids: Vec<u32>,
    tokens: Vec<String>,
    decoded: String,
}

#[derive(Deserialize)]
struct GoldenPair {
    a: String,
    b: String,
    ids: Vec<u32>,
    type_ids: Vec<u32>,
}

#[derive(Deserialize)]
struct GoldenWords {
    words: Vec<String>,
    ids: Vec<u32>,
    word_ids: Vec<Option<usize>>,
}

fn golden() -> Golden {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/tokenize/golden.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Checks one tokenizer against the Python `tokenizers` output.
fn check_golden(name: &str, tok: &Tokenizer) {
    let golden = golden();
    let model = &golden.models[name];
    assert_eq!(tok.vocab_size(), model.vocab_size, "{name}: vocab size");
    for case in &model.single {
        let enc = tok.encode(&case.text, true).unwrap();
        assert_eq!(enc.ids, case.ids, "{name}: ids of {:?}", case.text);
        assert_eq!(enc.tokens, case.tokens, "{name}: tokens of {:?}", case.text);
        assert_eq!(enc.attention_mask, vec![1; enc.len()]);
        assert_eq!(
            tok.decode(&enc.ids, true).unwrap(),
            case.decoded,
            "{name}: decode"
        );
    }
    for case in &model.pair {
        let enc = tok.encode_pair(&case.a, &case.b, true).unwrap();
        assert_eq!(enc.ids, case.ids, "{name}: pair ids");
        assert_eq!(enc.type_ids, case.type_ids, "{name}: pair type ids");
    }
    for case in &model.words {
        let enc = tok.encode_words(&case.words, true).unwrap();
        assert_eq!(
            enc.encoding.ids, case.ids,
            "{name}: word ids of {:?}",
            case.words
        );
        assert_eq!(
            enc.encoding.word_ids, case.word_ids,
            "{name}: word alignment"
        );
        assert!(enc.unk_words.is_empty());
        check_alignment(&enc, case.words.len());
    }
}

/// Invariants of a word encoding: every kept word has a non-empty span, the spans are
/// consecutive, and they cover exactly the tokens whose word id is that word.
fn check_alignment(enc: &WordEncoding, n_words: usize) {
    assert_eq!(enc.kept_words() + enc.truncated_words, n_words);
    let mut previous_end = None;
    for (w, span) in enc.word_spans.iter().enumerate() {
        assert!(span.start < span.end, "word {w} has an empty span {span:?}");
        if let Some(end) = previous_end {
            assert_eq!(
                span.start, end,
                "word {w} does not follow the previous word"
            );
        }
        previous_end = Some(span.end);
        for t in 0..enc.encoding.len() {
            assert_eq!(
                span.contains(&t),
                enc.encoding.word_ids[t] == Some(w),
                "token {t} vs word {w}"
            );
        }
    }
    let special = enc
        .encoding
        .special_tokens_mask
        .iter()
        .filter(|&&m| m == 1)
        .count();
    let covered: usize = enc.word_spans.iter().map(|s| s.len()).sum();
    assert_eq!(covered + special, enc.encoding.len());
}

#[test]
fn minilm_matches_golden_and_vocab_txt() {
    let tok = minilm!();
    check_golden("all-minilm-l6-v2", &tok);
    let enc = tok.encode("Hello world!", true).unwrap();
    assert_eq!(enc.ids, [101, 7592, 2088, 999, 102]);
    // Independent check: the ids are the 0-based line numbers of vocab.txt.
    let vocab = std::fs::read_to_string(models!("all-minilm-l6-v2/vocab.txt")).unwrap();
    let lines: Vec<&str> = vocab.lines().collect();
    let tokens: Vec<&str> = enc.ids.iter().map(|&id| lines[id as usize]).collect();
    assert_eq!(tokens, ["[CLS]", "hello", "world", "!", "[SEP]"]);
    assert_eq!(tok.token_to_id("hello"), Some(7592));
    assert_eq!(tok.id_to_token(2088).as_deref(), Some("world"));
}

#[test]
fn chinese_bert_matches_golden() {
    let tok = chinese!();
    check_golden("bert-base-chinese", &tok);
    let vocab = std::fs::read_to_string(models!("bert-base-chinese-tokenizer/vocab.txt")).unwrap();
    let lines: Vec<&str> = vocab.lines().collect();
    let enc = tok.encode("我爱北京天安门。", false).unwrap();
    let tokens: Vec<&str> = enc.ids.iter().map(|&id| lines[id as usize]).collect();
    assert_eq!(tokens, ["我", "爱", "北", "京", "天", "安", "门", "。"]);
}

#[test]
fn xlmr_unigram_matches_golden() {
    check_golden("xlmr", &xlmr!());
}

#[test]
fn gpt2_byte_level_matches_golden_and_encoder_json() {
    let tok = gpt2!();
    check_golden("gpt2", &tok);
    // The well-known GPT-2 ids, also looked up in encoder.json directly.
    let enc = tok.encode("Hello world!", true).unwrap();
    assert_eq!(enc.ids, [15496, 995, 0]);
    let encoder: HashMap<String, u32> = serde_json::from_str(
        &std::fs::read_to_string(models!("gpt2-tokenizer/encoder.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(encoder["Hello"], 15496);
    assert_eq!(encoder["\u{120}world"], 995);
    assert_eq!(encoder["<|endoftext|>"], 50256);
    // <|endoftext|> is one special token, skipped when decoding.
    let enc = tok.encode("a<|endoftext|>b", true).unwrap();
    assert_eq!(enc.ids, [64, 50256, 65]);
    assert_eq!(tok.decode(&enc.ids, true).unwrap(), "ab");
}

#[test]
fn special_token_ids_are_detected() {
    let s = *minilm!().special_tokens();
    assert_eq!(
        (s.cls, s.sep, s.pad, s.unk, s.mask, s.bos, s.eos),
        (
            Some(101),
            Some(102),
            Some(0),
            Some(100),
            Some(103),
            None,
            None
        )
    );
    let s = *xlmr!().special_tokens();
    assert_eq!(
        (s.cls, s.sep, s.pad, s.unk, s.mask, s.bos, s.eos),
        (
            Some(0),
            Some(2),
            Some(1),
            Some(3),
            Some(250_001),
            Some(0),
            Some(2)
        )
    );
    let s = *gpt2!().special_tokens();
    assert_eq!(
        (s.cls, s.sep, s.pad, s.unk, s.mask, s.bos, s.eos),
        (None, None, None, None, None, Some(50256), Some(50256))
    );
}

#[test]
fn file_padding_and_truncation_are_removed() {
    // all-MiniLM-L6-v2's tokenizer.json pads to 128 and truncates at 128.
    let mut tok = minilm!();
    assert_eq!(tok.max_length(), None);
    assert_eq!(tok.encode("Hello world!", true).unwrap().len(), 5);
    let long = "word ".repeat(300);
    assert_eq!(tok.encode(&long, true).unwrap().len(), 302);

    tok.set_max_length(Some(8)).unwrap();
    let enc = tok.encode(&long, true).unwrap();
    assert_eq!(enc.len(), 8);
    assert!(enc.truncated);
    assert_eq!((enc.ids[0], enc.ids[7]), (101, 102));
    let pair = tok.encode_pair(&long, "short", true).unwrap();
    assert_eq!(pair.len(), 8);
    assert_eq!(pair.type_ids.iter().filter(|&&t| t == 1).count(), 2);
}

#[test]
fn batches_are_padded_to_the_longest() {
    let mut tok = minilm!();
    let texts = [
        "Hello world!",
        "The quick brown fox jumps over the lazy dog.",
        "Hi",
    ];
    let batch = tok.encode_batch(&texts, true).unwrap();
    assert_eq!(batch.shape(), [3, 12]);
    assert_eq!(batch.lengths, [5, 12, 3]);
    assert_eq!(
        batch.ids[0],
        [101, 7592, 2088, 999, 102, 0, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(
        batch.attention_mask[2],
        [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(batch.ids_flat().len(), 36);
    assert_eq!(batch.attention_mask_flat().iter().sum::<u32>(), 20);

    let pairs = [("How are you?", "I am fine, thanks."), ("a", "b")];
    let batch = tok.encode_pair_batch(&pairs, true).unwrap();
    assert_eq!(batch.shape(), [2, 13]);
    assert_eq!(batch.type_ids[1], [0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);

    tok.set_padding(Padding::Fixed(16));
    assert_eq!(tok.encode_batch(&texts, true).unwrap().shape(), [3, 16]);
    let batch = tok.encode_batch::<&str>(&[], true).unwrap();
    assert_eq!(batch.shape(), [0, 0]);
}

#[test]
fn decode_batch_skips_special_tokens() {
    let tok = minilm!();
    let a = tok.encode("Hello world!", true).unwrap().ids;
    let b = tok.encode("Good night", true).unwrap().ids;
    let decoded = tok.decode_batch(&[&a, &b], true).unwrap();
    assert_eq!(decoded, ["hello world!", "good night"]);
    assert_eq!(tok.decode(&a, false).unwrap(), "[CLS] hello world! [SEP]");
}

/// Words that normalize to nothing (control, zero-width, empty) become one [UNK] each.
#[test]
fn words_without_subwords_map_to_unk() {
    let tok = minilm!();
    let words = [
        "Hello", "\u{7}", "naïve", "\u{200B}", "", "😀", "東京", "e\u{301}", "\u{FFFD}",
    ];
    let enc = tok.encode_words(&words, true).unwrap();
    check_alignment(&enc, words.len());
    assert_eq!(enc.unk_words, [1, 3, 4, 8]);
    for &w in &enc.unk_words {
        let span = enc.word_spans[w].clone();
        assert_eq!(span.len(), 1);
        assert_eq!(enc.encoding.ids[span.start], 100);
    }
    // Accents are stripped by the lowercasing BERT normalizer: "naïve" -> "naive".
    let naive = enc.word_spans[2].clone();
    assert_eq!(enc.encoding.tokens[naive], ["naive"]);
    // The emoji is not in the vocabulary: a real [UNK] from WordPiece, not an inserted one.
    assert_eq!(enc.encoding.tokens[enc.word_spans[5].clone()], ["[UNK]"]);
    // CJK characters are split one per token.
    assert_eq!(enc.word_spans[6].len(), 2);
    // "e" + combining acute -> "e".
    assert_eq!(enc.encoding.tokens[enc.word_spans[7].clone()], ["e"]);
    assert_eq!(enc.first_subwords()[0], 1);
    assert_eq!(enc.word_spans.last().unwrap().end, enc.encoding.len() - 1);
}

#[test]
fn tricky_words_align_in_every_tokenizer() {
    let words = [
        "Zürich",
        "\u{0}",
        "ﬁne",
        "東京タワー",
        "",
        "👩‍👩‍👧",
        " ",
        "don't",
        "\u{200D}",
        "x",
    ];
    for tok in [minilm!(), chinese!(), xlmr!()] {
        let enc = tok.encode_words(&words, true).unwrap();
        check_alignment(&enc, words.len());
        assert_eq!(enc.kept_words(), words.len());
        assert!(
            enc.unk_words.contains(&4),
            "empty word must be an inserted unk"
        );
        let unk = tok.special_tokens().unk.unwrap();
        for &w in &enc.unk_words {
            assert_eq!(enc.encoding.ids[enc.word_spans[w].start], unk);
        }
        let without_specials = tok.encode_words(&words, false).unwrap();
        check_alignment(&without_specials, words.len());
        assert_eq!(without_specials.word_spans[0].start, 0);
    }
    // GPT-2 has no unknown token: an empty word is an error naming it.
    let err = gpt2!().encode_words(&["a", ""], true).unwrap_err();
    assert!(
        matches!(err, TokenizeError::EmptyWord { index: 1, .. }),
        "{err}"
    );
    // Byte-level BPE never loses a non-empty word.
    let enc = gpt2!()
        .encode_words(&["\u{7}", "\u{200B}", "x"], true)
        .unwrap();
    check_alignment(&enc, 3);
    assert!(enc.unk_words.is_empty());
}

#[test]
fn truncation_drops_whole_words() {
    let mut tok = minilm!();
    let words = ["unaffable", "tokenization", "is", "fun", "indeed"];
    let full = tok.encode_words(&words, true).unwrap();
    let lens: Vec<usize> = full.word_spans.iter().map(|s| s.len()).collect();
    assert!(
        lens[0] > 1 && lens[1] > 1,
        "test needs multi-subword words: {lens:?}"
    );
    // Shorter than the 3 special tokens of a pair: refused instead of panicking later.
    for max_length in 0..3 {
        let err = tok.set_max_length(Some(max_length)).unwrap_err();
        assert!(matches!(err, TokenizeError::Config(_)), "{err}");
    }
    for max_length in 3..=full.encoding.len() + 1 {
        tok.set_max_length(Some(max_length)).unwrap();
        let enc = tok.encode_words(&words, true).unwrap();
        check_alignment(&enc, words.len());
        assert!(enc.encoding.len() <= max_length);
        // Kept words keep all their subwords; the longest fitting prefix of words is kept.
        let kept = enc.kept_words();
        let kept_lens: Vec<usize> = enc.word_spans.iter().map(|s| s.len()).collect();
        assert_eq!(kept_lens, lens[..kept]);
        let budget = max_length.saturating_sub(2);
        let used: usize = lens[..kept].iter().sum();
        assert!(used <= budget);
        if kept < words.len() {
            assert!(used + lens[kept] > budget);
            assert!(enc.encoding.truncated);
        }
        assert_eq!(enc.truncated_words, words.len() - kept);
    }
}

fn multi30k_lines() -> Option<Vec<String>> {
    let mut lines = Vec::new();
    for lang in ["en", "de"] {
        let path =
            burnlp_core::data::shared_path(format!("datasets/multi30k/test_2016_flickr.{lang}"))?;
        lines.extend(
            std::fs::read_to_string(path)
                .unwrap()
                .lines()
                .map(String::from),
        );
    }
    Some(lines)
}

#[test]
fn shared_bpe_trains_saves_and_reloads() {
    let Some(lines) = multi30k_lines() else {
        return;
    };
    let config = BpeTrainingConfig {
        vocab_size: 2000,
        ..Default::default()
    };
    let tok = Tokenizer::train_bpe(lines.iter(), &config).unwrap();
    assert_eq!(tok.vocab_size(), 2000);
    let s = tok.special_tokens();
    assert_eq!(
        (s.pad, s.unk, s.bos, s.eos),
        (Some(0), Some(1), Some(2), Some(3))
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokenizer.json");
    tok.save(&path, false).unwrap();
    let reloaded = Tokenizer::from_file(&path).unwrap();
    assert_eq!(reloaded.vocab_size(), 2000);
    for text in lines.iter().take(50).chain(lines.iter().rev().take(50)) {
        let ids = tok.encode(text, false).unwrap().ids;
        assert_eq!(reloaded.encode(text, false).unwrap().ids, ids);
        // No <unk> on training text, and decoding restores it exactly.
        assert!(!ids.contains(&1), "{text}");
        assert_eq!(reloaded.decode(&ids, true).unwrap(), *text);
    }
    // Characters never seen become <unk> rather than disappearing.
    let ids = reloaded.encode("Ein Mann 漢", false).unwrap().ids;
    assert_eq!(*ids.last().unwrap(), 1);

    // Training from the files gives the same vocabulary as from their lines.
    let files = [
        datasets!("multi30k/test_2016_flickr.en"),
        datasets!("multi30k/test_2016_flickr.de"),
    ];
    let from_files = Tokenizer::train_bpe_from_files(&files, &config).unwrap();
    assert_eq!(
        from_files.inner().get_vocab(true),
        tok.inner().get_vocab(true)
    );
}

#[test]
fn wordpiece_trains_saves_and_reloads() {
    let Some(lines) = multi30k_lines() else {
        return;
    };
    let config = WordPieceTrainingConfig {
        vocab_size: 3000,
        ..Default::default()
    };
    let tok = Tokenizer::train_wordpiece(&lines, &config).unwrap();
    let s = *tok.special_tokens();
    assert_eq!(
        (s.pad, s.unk, s.cls, s.sep, s.mask),
        (Some(0), Some(1), Some(2), Some(3), Some(4))
    );
    let enc = tok
        .encode_pair("A man in an orange hat.", "Ein Mann.", true)
        .unwrap();
    assert_eq!((enc.ids[0], *enc.ids.last().unwrap()), (2, 3));
    assert_eq!(enc.special_tokens_mask.iter().sum::<u32>(), 3);
    assert_eq!(
        tok.decode(&enc.ids, true).unwrap(),
        "a man in an orange hat. ein mann."
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokenizer.json");
    tok.save(&path, true).unwrap();
    let reloaded = Tokenizer::from_file(&path).unwrap();
    for text in lines.iter().take(100) {
        assert_eq!(
            reloaded.encode(text, true).unwrap().ids,
            tok.encode(text, true).unwrap().ids
        );
    }
    let words = tok
        .encode_words(&["Boston", "Terrier", "läuft"], true)
        .unwrap();
    check_alignment(&words, 3);
}

#[test]
fn load_errors_name_the_file() {
    let err = Tokenizer::from_file("/nonexistent/tokenizer.json").unwrap_err();
    assert!(matches!(err, TokenizeError::Load { .. }));
    assert!(
        err.to_string().contains("/nonexistent/tokenizer.json"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("tokenizer.json");
    std::fs::write(&bad, "{ not json").unwrap();
    let err = Tokenizer::from_file(&bad).unwrap_err();
    assert!(err.to_string().contains("tokenizer.json"), "{err}");

    let err = Tokenizer::from_gpt2_files(
        dir.path().join("encoder.json"),
        dir.path().join("vocab.bpe"),
    )
    .unwrap_err();
    assert!(matches!(err, TokenizeError::LoadGpt2 { .. }), "{err}");

    let config = BpeTrainingConfig::default();
    let err =
        Tokenizer::train_bpe_from_files(&[dir.path().join("missing.txt")], &config).unwrap_err();
    assert!(err.to_string().contains("missing.txt"), "{err}");
}

#[test]
fn training_is_deterministic_within_and_across_runs() {
    // `tokenizers`' own trainers break count ties by hash-map order, which differs per run;
    // ours must give the same vocabulary every time (two trainings in one process share
    // nothing but the input).
    let Some(lines) = multi30k_lines() else {
        return;
    };
    let wp = WordPieceTrainingConfig {
        vocab_size: 1500,
        ..Default::default()
    };
    let a = Tokenizer::train_wordpiece(&lines, &wp).unwrap();
    let b = Tokenizer::train_wordpiece(&lines, &wp).unwrap();
    assert_eq!(a.inner().get_vocab(true), b.inner().get_vocab(true));
    let bpe = BpeTrainingConfig {
        vocab_size: 1500,
        ..Default::default()
    };
    let a = Tokenizer::train_bpe(lines.iter(), &bpe).unwrap();
    let b = Tokenizer::train_bpe(lines.iter(), &bpe).unwrap();
    let dir = tempfile::tempdir().unwrap();
    a.save(dir.path().join("a.json"), false).unwrap();
    b.save(dir.path().join("b.json"), false).unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("a.json")).unwrap(),
        std::fs::read(dir.path().join("b.json")).unwrap()
    );
}

/// Found by `cargo xtask fuzz`: a malformed `decoder` section made the `tokenizers` crate panic
/// (`expect("Helper")`); it is now an error naming the file.
#[test]
fn a_malformed_decoder_is_an_error_not_a_panic() {
    let json = r###"{"version":"1.0","decoder":{"type":"WordPiece","prefix":"##":,"cleanup":true},"model":{"type":"WordLevel","vocab":{"a":0,"[UNK]":1},"unk_token":"[UNK]"}}"###;
    let Err(error) = Tokenizer::from_bytes(json, "broken/tokenizer.json") else {
        panic!("a malformed decoder is refused");
    };
    let text = error.to_string();
    assert!(text.contains("broken/tokenizer.json"), "{text}");
    let cause = std::error::Error::source(&error)
        .map(|s| s.to_string())
        .unwrap_or_default();
    assert!(cause.contains("the tokenizers library failed"), "{cause}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokenizer.json");
    std::fs::write(&path, json).unwrap();
    assert!(Tokenizer::from_file(&path).is_err());
}
