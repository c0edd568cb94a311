//! The official ESFT files: readers on the shared release and on hand-written rows, malformed
//! input, the chat format's labels, packing quirks, and the scorers against the stored
//! per-example scores of the official completions.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use burnlp_core::tokenize::Tokenizer;
use peft_moe::esft_data::{
    ChatIds, EsftDataError, IGNORE_INDEX, Message, PackConfig, RecordId, Role, TokenizedExample,
    format_conversation, format_prompt, pack, read_completions, read_eval, read_train,
    read_training_examples,
};
use peft_moe::esft_score::{
    EsftTask, intent_metric, intent_post_process, intent_score, parse_judge_score,
    score_completions, task_score,
};

/// `shared/datasets/esft/<path>`, or return from the test with a printed reason when absent.
macro_rules! esft {
    ($path:expr) => {
        burnlp_core::require_shared!(format!("datasets/esft/{}", $path))
    };
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

// ----------------------------------------------------------------------------------------------
// Readers on the official files.

#[test]
fn official_training_file_reads() {
    let path = esft!("data/train/intent.jsonl");
    let records = read_train(&path).unwrap();
    assert_eq!(records.len(), 7280);
    let first = &records[0];
    assert_eq!(first.id, RecordId::Text("NLU05793".into()));
    assert_eq!(
        (first.dataset.as_str(), first.length, first.line),
        ("df_511_intent", 60, 1)
    );
    assert_eq!(first.messages.len(), 2);
    assert_eq!(first.messages[0].role, Role::User);
    assert!(
        first.messages[0]
            .content
            .starts_with("请分析下面这句话的意图")
    );
    assert_eq!(first.messages[1].role, Role::Assistant);
    assert!(
        first.messages[1]
            .content
            .starts_with("{\"intent\": \"FilmTele-Play\"")
    );
    assert!(
        records
            .iter()
            .all(|r| r.messages.len() == 2 && !r.messages[1].masked)
    );
}

#[test]
fn official_evaluation_files_read() {
    for (task, n) in [("intent", 500), ("summary", 100), ("translation", 100)] {
        let path = esft!(format!("data/eval/{task}.jsonl"));
        let records = read_eval(&path).unwrap();
        assert_eq!(records.len(), n, "{task}");
        // Stored in the order of two evaluation ranks: the even indices, then the odd ones.
        let idx: Vec<u64> = records.iter().map(|r| r.idx).collect();
        let expected: Vec<u64> = (0..n as u64)
            .step_by(2)
            .chain((1..n as u64).step_by(2))
            .collect();
        assert_eq!(idx, expected, "{task}");
        for r in &records {
            assert!(r.prompt.starts_with("User: ") && r.prompt.ends_with("\n\nAssistant:"));
            assert_eq!(r.raw_answers, r.answers);
            assert_eq!(r.reference(), r.raw_answers[0]);
        }
    }
}

#[test]
fn official_completion_files_read_and_match_the_evaluation_prompts() {
    for method in ["gate", "token"] {
        for task in ["intent", "summary", "translation"] {
            let completions =
                read_completions(esft!(format!("completions/{method}/{task}.jsonl"))).unwrap();
            let eval = read_eval(esft!(format!("data/eval/{task}.jsonl"))).unwrap();
            assert_eq!(completions.len(), eval.len(), "{method}/{task}");
            for (c, e) in completions.iter().zip(&eval) {
                assert_eq!((&c.prompt, &c.raw_answers), (&e.prompt, &e.raw_answers));
                assert!((0.0..=1.0).contains(&c.score));
            }
        }
    }
}

// ----------------------------------------------------------------------------------------------
// Readers on hand-written rows, and malformed input.

const TRAIN_ROWS: &str = concat!(
    r#"{"id": 17, "dataset": "d", "length": 9, "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo", "mask": 1}, {"role": "user", "content": "and?"}, {"role": "assistant", "content": "ok", "mask": 0}]}"#,
    "\n\n",
    r#"{"id": "x2", "dataset": "d", "length": 3, "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "extra": true}"#,
    "\n",
);

#[test]
fn inline_training_rows_read() {
    let dir = tempfile::tempdir().unwrap();
    let records = read_train(write(&dir, "t.jsonl", TRAIN_ROWS)).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(
        (records[0].id.clone(), records[0].line),
        (RecordId::Number(17), 1)
    );
    assert_eq!(
        (records[1].id.to_string(), records[1].line),
        ("x2".to_string(), 3)
    );
    assert_eq!(
        records[0].messages,
        vec![
            Message::user("hi"),
            Message::masked_assistant("yo"),
            Message::user("and?"),
            Message::assistant("ok"),
        ]
    );
}

#[test]
fn inline_evaluation_and_completion_rows_read() {
    let dir = tempfile::tempdir().unwrap();
    let eval = write(
        &dir,
        "e.jsonl",
        "{\"idx\": 4, \"prompt\": \"User: q\\n\\nAssistant:\", \"raw_answers\": [\"r\"], \"answers\": [\"a\", \"b\"]}\n",
    );
    let records = read_eval(eval).unwrap();
    assert_eq!(
        (
            records[0].idx,
            records[0].reference(),
            records[0].answers.len()
        ),
        (4, "r", 2)
    );
    let comp = write(
        &dir,
        "c.jsonl",
        "{\"example\": {\"prompt\": \"p\", \"raw_prediction\": \" x\", \"raw_answers\": [\"y\"]}, \"score\": 0.7}\n\
         {\"example\": {\"prompt\": \"p\", \"raw_prediction\": \"\", \"raw_answers\": [\"y\"]}, \"score\": 1}\n",
    );
    let records = read_completions(comp).unwrap();
    assert_eq!((records[0].score, records[1].score), (0.7, 1.0));
    assert_eq!(
        (records[0].raw_prediction.as_str(), records[1].line),
        (" x", 2)
    );
}

/// The error of reading `text` with `read`, as text, after checking it names the file.
fn error_of(read: fn(&Path) -> Result<(), EsftDataError>, text: &str) -> (EsftDataError, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "bad.jsonl", text);
    let err = read(&path).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("bad.jsonl"), "{message}");
    (err, message)
}

fn train(path: &Path) -> Result<(), EsftDataError> {
    read_train(path).map(drop)
}

fn eval(path: &Path) -> Result<(), EsftDataError> {
    read_eval(path).map(drop)
}

fn completions(path: &Path) -> Result<(), EsftDataError> {
    read_completions(path).map(drop)
}

#[track_caller]
fn field_error(
    read: fn(&Path) -> Result<(), EsftDataError>,
    text: &str,
    line: usize,
    field: &str,
    needle: &str,
) {
    let (err, message) = error_of(read, text);
    match err {
        EsftDataError::Field {
            line: l, field: f, ..
        } => assert_eq!((l, f.as_str()), (line, field), "{message}"),
        other => panic!("expected a field error, got {other:?}"),
    }
    assert!(message.contains(needle), "`{needle}` not in {message}");
}

#[test]
fn malformed_files_are_located_errors() {
    let ok_row = r#"{"id": "a", "dataset": "d", "length": 1, "messages": [{"role": "user", "content": "x"}]}"#;
    // Empty files, and files of blank lines.
    for text in ["", "\n \n"] {
        let (err, _) = error_of(train, text);
        assert!(matches!(err, EsftDataError::Empty { .. }), "{err:?}");
    }
    // Not JSON: the core reader's located error.
    let (err, message) = error_of(train, &format!("{ok_row}\n{{\"id\": \n"));
    assert!(matches!(err, EsftDataError::Data(_)), "{err:?}");
    assert!(message.contains("line 2"), "{message}");
    // Invalid UTF-8.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    std::fs::write(&path, [ok_row.as_bytes(), b"\n\xff\xfe\n"].concat()).unwrap();
    let message = read_train(&path).unwrap_err().to_string();
    assert!(
        message.contains("line 2") && message.contains("UTF-8"),
        "{message}"
    );
    // Missing fields and wrong types, each named.
    let no_messages = r#"{"id": "a", "dataset": "d", "length": 1}"#;
    field_error(
        train,
        &format!("{ok_row}\n\n{no_messages}\n"),
        3,
        "messages",
        "missing",
    );
    field_error(
        train,
        r#"{"id": "a", "dataset": "d", "messages": [{"role": "user", "content": "x"}]}"#,
        1,
        "length",
        "missing",
    );
    field_error(
        train,
        r#"{"id": "a", "dataset": "d", "length": 1, "messages": []}"#,
        1,
        "messages",
        "empty",
    );
    field_error(
        train,
        r#"{"id": "a", "dataset": "d", "length": 1, "messages": {"role": "user"}}"#,
        1,
        "messages",
        "found an object",
    );
    field_error(
        train,
        r#"{"id": "a", "dataset": "d", "length": 1, "messages": [{"role": "user", "content": "x"}, {"role": 3, "content": "y"}]}"#,
        1,
        "messages[1].role",
        "expected a string, found a number",
    );
    field_error(
        train,
        r#"{"id": "a", "dataset": "d", "length": 1, "messages": [{"role": "system", "content": "x"}]}"#,
        1,
        "messages[0].role",
        "unknown role \"system\"",
    );
    field_error(
        train,
        r#"{"id": "a", "dataset": "d", "length": 1, "messages": [{"role": "user"}]}"#,
        1,
        "messages[0].content",
        "missing",
    );
    field_error(
        train,
        r#"{"id": "a", "dataset": "d", "length": 1, "messages": [{"role": "assistant", "content": "x", "mask": 2}]}"#,
        1,
        "messages[0].mask",
        "expected 0 or 1",
    );
    field_error(
        train,
        r#"{"id": [1], "dataset": "d", "length": 1, "messages": [{"role": "user", "content": "x"}]}"#,
        1,
        "id",
        "found an array",
    );
    field_error(
        train,
        r#"{"id": "a", "dataset": "d", "length": -1, "messages": [{"role": "user", "content": "x"}]}"#,
        1,
        "length",
        "non-negative integer",
    );
    field_error(train, "[1, 2]", 1, "(record)", "expected an object");
    field_error(
        eval,
        r#"{"idx": 0, "prompt": "p", "raw_answers": [], "answers": ["a"]}"#,
        1,
        "raw_answers",
        "empty",
    );
    field_error(
        eval,
        r#"{"idx": 0, "prompt": "p", "raw_answers": ["a", 5], "answers": ["a"]}"#,
        1,
        "raw_answers[1]",
        "expected a string",
    );
    field_error(
        eval,
        r#"{"idx": "0", "prompt": "p", "raw_answers": ["a"], "answers": ["a"]}"#,
        1,
        "idx",
        "found a string",
    );
    field_error(
        eval,
        r#"{"idx": 0, "raw_answers": ["a"], "answers": ["a"]}"#,
        1,
        "prompt",
        "missing",
    );
    field_error(completions, r#"{"score": 1}"#, 1, "example", "missing");
    field_error(
        completions,
        r#"{"example": {"prompt": "p", "raw_answers": ["a"]}, "score": 1}"#,
        1,
        "example.raw_prediction",
        "missing",
    );
    field_error(
        completions,
        r#"{"example": {"prompt": "p", "raw_prediction": "x", "raw_answers": ["a"]}, "score": "1"}"#,
        1,
        "score",
        "expected a number",
    );
}

// ----------------------------------------------------------------------------------------------
// Chat format.

/// A character-level tokenizer (a BPE without merges or pre-tokenizer: one token per
/// character) over `chars`, with `<s>` = 0, `</s>` = 1, `<pad>` = 2 and `?` = 3 (unknown).
fn char_tokenizer(chars: &str) -> Tokenizer {
    let mut vocab = serde_json::Map::new();
    for token in ["<s>", "</s>", "<pad>", "?"] {
        vocab.insert(token.into(), vocab.len().into());
    }
    for c in chars.chars().collect::<BTreeSet<char>>() {
        if !vocab.contains_key(&c.to_string()) {
            vocab.insert(c.to_string(), vocab.len().into());
        }
    }
    let json = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
        "normalizer": null, "pre_tokenizer": null, "post_processor": null, "decoder": null,
        "model": {"type": "BPE", "dropout": null, "unk_token": "?",
                  "continuing_subword_prefix": null, "end_of_word_suffix": null,
                  "fuse_unk": false, "byte_fallback": false, "vocab": vocab, "merges": []}
    });
    Tokenizer::from_bytes(json.to_string(), "char-tokenizer.json").unwrap()
}

const IDS: ChatIds = ChatIds { bos: 0, eos: 1 };

fn chars_of(tokenizer: &Tokenizer, text: &str) -> Vec<u32> {
    let ids = tokenizer.encode(text, false).unwrap().ids;
    assert_eq!(ids.len(), text.chars().count(), "one token per character");
    ids
}

#[test]
fn one_turn_supervises_the_answer_and_eos_only() {
    let tokenizer = char_tokenizer("User: \nAssistant: hi ok");
    let example = format_conversation(
        &[Message::user("  hi\n"), Message::assistant(" ok ")],
        &tokenizer,
        IDS,
    )
    .unwrap();
    let question = chars_of(&tokenizer, "User: hi\n\nAssistant:");
    let answer = chars_of(&tokenizer, " ok");
    let mut ids = vec![0];
    ids.extend(&question);
    ids.extend(&answer);
    ids.push(1);
    assert_eq!(example.input_ids, ids);
    // BOS keeps its own id as label (as in the reference); the question is ignored; the
    // answer (with its leading space) and EOS are supervised.
    let mut labels = vec![0_i64];
    labels.extend(std::iter::repeat_n(IGNORE_INDEX, question.len()));
    labels.extend(answer.iter().map(|&i| i64::from(i)));
    labels.push(1);
    assert_eq!(example.labels, labels);
    assert_eq!(example.supervised(), 1 + answer.len() + 1);
    let mask = example.loss_mask();
    assert!(mask[0] && !mask[1..=question.len()].iter().any(|&m| m));
    assert!(mask[question.len() + 1..].iter().all(|&m| m));
}

#[test]
fn masked_turns_and_several_turns() {
    let tokenizer = char_tokenizer("User: \nAssistant: abcd");
    let messages = [
        Message::user("a"),
        Message::masked_assistant("b"),
        Message::user("c"),
        Message::assistant("d"),
    ];
    let example = format_conversation(&messages, &tokenizer, IDS).unwrap();
    let q = "User: a\n\nAssistant:".len();
    let expected_len = 1 + q + 2 + 1 + q + 2 + 1;
    assert_eq!(example.len(), expected_len);
    assert_eq!(
        example.input_ids.iter().filter(|&&i| i == 0).count(),
        1,
        "one BOS"
    );
    assert_eq!(
        example.input_ids.iter().filter(|&&i| i == 1).count(),
        2,
        "an EOS per answer"
    );
    // Supervised: BOS, then only " d" and its EOS at the end.
    let supervised: Vec<usize> = (0..example.len())
        .filter(|&i| example.labels[i] != IGNORE_INDEX)
        .collect();
    let n = example.len();
    assert_eq!(supervised, vec![0, n - 3, n - 2, n - 1]);
    // The masked answer's EOS is in the input but not supervised.
    let first_eos = example.input_ids.iter().position(|&i| i == 1).unwrap();
    assert_eq!(first_eos, 1 + q + 2);
    assert_eq!(example.labels[first_eos], IGNORE_INDEX);
    // An evaluation prompt is BOS + the prompt text, which equals a conversation's prefix.
    let prompt = format_prompt("User: a\n\nAssistant:", &tokenizer, IDS).unwrap();
    assert_eq!(prompt, example.input_ids[..1 + q]);
    // A conversation of one user turn has no target but BOS; none at all is empty.
    let prompt_only = format_conversation(&messages[..1], &tokenizer, IDS).unwrap();
    assert_eq!(prompt_only.supervised(), 1);
    assert!(
        format_conversation(&[], &tokenizer, IDS)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn training_file_to_examples_with_a_real_tokenizer() {
    let train = esft!("data/train/intent.jsonl");
    let tokenizer_path =
        burnlp_core::require_shared!("models/smollm2-135m-instruct/tokenizer.json");
    let tokenizer = Tokenizer::from_file(tokenizer_path).unwrap();
    let ids = ChatIds {
        bos: tokenizer.token_to_id("<|im_start|>").unwrap(),
        eos: tokenizer.token_to_id("<|im_end|>").unwrap(),
    };
    let examples = read_training_examples(&train, &tokenizer, ids).unwrap();
    let records = read_train(&train).unwrap();
    assert_eq!(examples.len(), records.len());
    for (example, record) in examples.iter().zip(&records).take(50) {
        assert_eq!(example.input_ids[0], ids.bos);
        assert_eq!(*example.input_ids.last().unwrap(), ids.eos);
        // The supervised tokens after BOS decode to " {answer}" (EOS skipped as special).
        let supervised: Vec<u32> = example.input_ids[1..]
            .iter()
            .zip(&example.labels[1..])
            .filter(|(_, l)| **l != IGNORE_INDEX)
            .map(|(i, _)| *i)
            .collect();
        let answer = tokenizer.decode(&supervised, true).unwrap();
        assert_eq!(answer, format!(" {}", record.messages[1].content.trim()));
        let prompt: Vec<u32> = example.input_ids[1..]
            .iter()
            .zip(&example.labels[1..])
            .filter(|(_, l)| **l == IGNORE_INDEX)
            .map(|(i, _)| *i)
            .collect();
        let prompt = tokenizer.decode(&prompt, false).unwrap();
        assert!(
            prompt.starts_with("User: 请分析") && prompt.ends_with("\n\nAssistant:"),
            "{prompt:?}"
        );
    }
}

// ----------------------------------------------------------------------------------------------
// Packing.

/// A conversation `[BOS=0] tag.. EOS=1` of `len` tokens with tag ids, all supervised except
/// the first half.
fn conv(tag: u32, len: usize) -> TokenizedExample {
    let mut input_ids = vec![0];
    input_ids.extend(std::iter::repeat_n(tag, len - 2));
    input_ids.push(1);
    let labels = input_ids
        .iter()
        .enumerate()
        .map(|(i, &id)| {
            if i < len / 2 && i > 0 {
                IGNORE_INDEX
            } else {
                i64::from(id)
            }
        })
        .collect();
    TokenizedExample { input_ids, labels }
}

fn config(seq_length: usize, ratio: f64, seed: u64) -> PackConfig {
    PackConfig {
        seq_length,
        random_concat_ratio: ratio,
        pad_id: 9,
        seed,
    }
}

#[test]
fn packing_fills_rows_and_cuts_from_the_left() {
    let a = conv(5, 5);
    let b = conv(6, 6);
    let rows = pack(&[a.clone(), b.clone()], &config(8, 0.0, 1)).unwrap();
    assert_eq!(rows.len(), 2);
    // `b` does not fit (3 tokens left): only its last 3 tokens are kept, BOS and prompt lost.
    assert_eq!(rows[0].input_ids, vec![0, 5, 5, 5, 1, 6, 6, 1]);
    let mut labels = a.labels.clone();
    labels.extend_from_slice(&b.labels[3..]);
    assert_eq!(rows[0].labels, labels);
    // The rows were filled exactly: the last row is all padding, as in the reference.
    assert_eq!(rows[1].input_ids, vec![9; 8]);
    assert_eq!(rows[1].labels, vec![IGNORE_INDEX; 8]);
    // A conversation longer than a whole row keeps its last `seq_length` tokens.
    let rows = pack(&[conv(7, 12)], &config(8, 0.0, 1)).unwrap();
    assert_eq!(rows[0].input_ids, conv(7, 12).input_ids[4..].to_vec());
}

#[test]
fn packing_pads_the_last_row() {
    let rows = pack(&[conv(5, 3), conv(6, 3)], &config(8, 0.0, 1)).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].input_ids, vec![0, 5, 1, 0, 6, 1, 9, 9]);
    assert_eq!(&rows[0].labels[6..], &[IGNORE_INDEX, IGNORE_INDEX]);
    assert!(rows.iter().all(|r| r.len() == 8 && r.labels.len() == 8));
}

#[test]
fn packing_drops_bos_only_of_non_first_conversations() {
    // Ratio 1: every conversation that is not first in its row loses its BOS.
    let rows = pack(&[conv(5, 3), conv(6, 3), conv(7, 3)], &config(8, 1.0, 1)).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].input_ids, vec![0, 5, 1, 6, 1, 7, 1, 9]);
    // Labels are dropped with their tokens (these conversations are fully supervised).
    assert_eq!(rows[0].labels, vec![0, 5, 1, 6, 1, 7, 1, IGNORE_INDEX]);
    // After a left cut the dropped token is not a BOS, and the row stays one token short: the
    // next conversation is then cut to one token (and loses it too).
    let rows = pack(&[conv(5, 4), conv(6, 4), conv(7, 4)], &config(6, 1.0, 1)).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].input_ids, vec![0, 5, 5, 1, 1, 9]);
}

#[test]
fn bos_dropping_is_seeded_and_near_its_ratio() {
    let examples: Vec<TokenizedExample> = (0..4000)
        .map(|i| conv(10 + (i % 5), 4 + (i % 3) as usize))
        .collect();
    let count = |rows: &[TokenizedExample]| -> usize {
        rows.iter()
            .map(|r| r.input_ids.iter().filter(|&&i| i == 0).count())
            .sum()
    };
    let first = pack(&examples, &config(64, 0.2, 11)).unwrap();
    assert_eq!(
        first,
        pack(&examples, &config(64, 0.2, 11)).unwrap(),
        "same seed, same rows"
    );
    assert_ne!(
        first,
        pack(&examples, &config(64, 0.2, 12)).unwrap(),
        "another seed"
    );
    // Without dropping every conversation keeps its BOS unless cut; compare the BOS counts.
    let kept_all = count(&pack(&examples, &config(64, 0.0, 11)).unwrap());
    let dropped = kept_all as f64 - count(&first) as f64;
    let rate = dropped / kept_all as f64;
    assert!((0.14..0.26).contains(&rate), "BOS dropped at rate {rate}");
    assert!(first.iter().all(|r| r.len() == 64));
}

#[test]
fn packing_settings_are_checked() {
    let e = [conv(5, 3)];
    assert!(matches!(
        pack(&e, &config(0, 0.2, 1)),
        Err(EsftDataError::Packing(_))
    ));
    assert!(matches!(
        pack(&e, &config(8, 1.5, 1)),
        Err(EsftDataError::Packing(_))
    ));
    let ragged = TokenizedExample {
        input_ids: vec![0, 1],
        labels: vec![0],
    };
    let err = pack(&[conv(5, 3), ragged], &config(8, 0.2, 1))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("example 1") && err.contains("2 input ids but 1 labels"),
        "{err}"
    );
    let official = PackConfig::official(2, 5);
    assert_eq!(
        (official.seq_length, official.random_concat_ratio),
        (4096, 0.2)
    );
}

// ----------------------------------------------------------------------------------------------
// Scorers.

#[test]
fn official_intent_completions_rescore_to_the_stored_scores() {
    for (method, expected) in [("gate", 80.0), ("token", 76.0)] {
        let report = score_completions(
            EsftTask::Intent,
            esft!(format!("completions/{method}/intent.jsonl")),
        )
        .unwrap();
        assert_eq!(report.n, 500);
        assert!(report.rescored);
        assert_eq!(
            report.mismatches,
            vec![],
            "{method}: lines whose re-score differs"
        );
        assert!(
            (report.score - expected).abs() < 1e-9,
            "{method}: {}",
            report.score
        );
        assert!((report.stored_score - expected).abs() < 1e-9);
    }
}

#[test]
fn official_judged_completions_average_to_the_reported_numbers() {
    for (method, task, expected) in [
        ("gate", EsftTask::Summary, 65.5),
        ("token", EsftTask::Summary, 64.4),
        // The spec's §9 rounds these to two decimals (36.15, 38.05).
        ("gate", EsftTask::Translation, 36.152),
        ("token", EsftTask::Translation, 38.053),
    ] {
        let report =
            score_completions(task, esft!(format!("completions/{method}/{task}.jsonl"))).unwrap();
        assert_eq!((report.n, report.rescored), (100, false));
        assert!(
            (report.score - expected).abs() < 1e-9,
            "{method}/{task}: {}",
            report.score
        );
        assert_eq!(report.score, report.stored_score);
    }
}

#[test]
fn intent_post_processing_follows_the_reference() {
    let json = r#"{"intent": "A", "slots": {}}"#;
    assert_eq!(intent_post_process(&format!(" {json}。")), json);
    assert_eq!(intent_post_process(&format!("{json}。\n\n解释：…")), json);
    assert_eq!(
        intent_post_process(&format!("好的：\n```json\n{json}\n```\n")),
        json
    );
    assert_eq!(
        intent_post_process("```json\n{\"intent\": "),
        "{}",
        "an unclosed fence"
    );
    assert_eq!(intent_post_process(" \n "), "None");
    assert_eq!(intent_post_process("..。x.。"), "x");
    assert_eq!(intent_post_process("\n\nsecond\nthird"), "second");
}

#[test]
fn intent_exact_match_rules() {
    let gt = r#"{"intent": "Alarm-Update", "slots": {"date": "今天", "notes": "追剧"}}"#;
    let score = |pred: &str| intent_score(pred, gt).unwrap();
    assert_eq!(
        score(r#" {"intent": "Alarm-Update", "slots": {"notes": "追剧", "date": "今天"}}。"#),
        1
    );
    // Spaces are removed from predicted values only.
    assert_eq!(
        score(r#"{"intent": "Alarm-Update", "slots": {"date": "今 天", "notes": "追剧"}}"#),
        1
    );
    let spaced = r#"{"intent": "I", "slots": {"name": "a b"}}"#;
    assert_eq!(
        intent_score(r#"{"intent": "I", "slots": {"name": "a b"}}"#, spaced).unwrap(),
        0
    );
    // Wrong intent, a missing or an extra slot, a wrong value.
    assert_eq!(
        score(r#"{"intent": "Alarm-Set", "slots": {"date": "今天", "notes": "追剧"}}"#),
        0
    );
    assert_eq!(
        score(r#"{"intent": "Alarm-Update", "slots": {"date": "今天"}}"#),
        0
    );
    assert_eq!(
        score(
            r#"{"intent": "Alarm-Update", "slots": {"date": "今天", "notes": "追剧", "x": "y"}}"#
        ),
        0
    );
    assert_eq!(
        score(r#"{"intent": "Alarm-Update", "slots": {"date": "明天", "notes": "追剧"}}"#),
        0
    );
    // Unparsable, not an object, or slot values of the wrong type: 0.
    assert_eq!(score("我不知道"), 0);
    assert_eq!(score(r#"["Alarm-Update"]"#), 0);
    assert_eq!(
        score(r#"{"intent": "Alarm-Update", "slots": {"date": 3, "notes": "追剧"}}"#),
        0
    );
    assert_eq!(score(r#"{"intent": "Alarm-Update", "slots": ["date"]}"#), 0);
    // List values: sorted, items compared after space removal.
    let gt_list = r#"{"intent": "Q", "slots": {"who": ["张曼玉", "林青霞"]}}"#;
    assert_eq!(
        intent_metric(
            r#"{"intent": "Q", "slots": {"who": ["林 青霞", "张曼玉"]}}"#,
            gt_list
        )
        .unwrap(),
        1
    );
    assert_eq!(
        intent_metric(r#"{"intent": "Q", "slots": {"who": ["林青霞"]}}"#, gt_list).unwrap(),
        0
    );
    // A list equals the string of its Python tuple text, as in the reference's set.
    assert_eq!(
        intent_metric(
            r#"{"intent": "Q", "slots": {"who": ["a"]}}"#,
            r#"{"intent": "Q", "slots": {"who": "('a',)"}}"#
        )
        .unwrap(),
        1
    );
    // Missing intents and slots default to "" and {}; numbers compare by value.
    assert_eq!(intent_metric("{}", r#"{"intent": ""}"#).unwrap(), 1);
    assert_eq!(
        intent_metric(r#"{"intent": 1.0}"#, r#"{"intent": 1}"#).unwrap(),
        1
    );
    // A non-string reference value can never be matched.
    assert_eq!(
        intent_metric(
            r#"{"intent": "Q", "slots": {"n": "3"}}"#,
            r#"{"intent": "Q", "slots": {"n": 3}}"#
        )
        .unwrap(),
        0
    );
    // A reference that is not an intent object is an error, not a score.
    assert!(intent_metric("{}", "not json").is_err());
    assert!(intent_metric("{}", r#"{"slots": {"a": {"b": 1}}}"#).is_err());
}

#[test]
fn judge_scores_and_task_scores() {
    let s = |task, text| parse_judge_score(task, text).unwrap();
    assert_eq!(
        s(
            EsftTask::Summary,
            "内容准确性扣1分，详细程度/完整性扣2分，总分是：7分。理由…"
        ),
        0.7
    );
    assert_eq!(s(EsftTask::Law, "总分是：8.5分"), 0.85);
    assert_eq!(s(EsftTask::Summary, "总分：7分"), 0.0);
    assert_eq!(
        s(
            EsftTask::Translation,
            "Content accuracy 7 points, ..., total score: 6.5 points"
        ),
        0.65
    );
    assert_eq!(s(EsftTask::Translation, "total score:9point"), 0.9);
    assert_eq!(s(EsftTask::Translation, "no score here"), 0.0);
    assert_eq!(parse_judge_score(EsftTask::Intent, "总分是：7分"), None);
    assert_eq!(task_score(&[1.0, 0.0, 1.0, 1.0]), Some(75.0));
    assert_eq!(task_score(&[]), None);
    assert_eq!("translation".parse::<EsftTask>(), Ok(EsftTask::Translation));
    assert!("math".parse::<EsftTask>().is_err());
}

#[test]
fn inline_completions_rescore_and_report_mismatches() {
    let dir = tempfile::tempdir().unwrap();
    let gt = r#"{\"intent\": \"A\", \"slots\": {}}"#;
    let text = format!(
        "{{\"example\": {{\"prompt\": \"p\", \"raw_prediction\": \" {gt}\", \"raw_answers\": [\"{gt}\"]}}, \"score\": 1}}\n\
         {{\"example\": {{\"prompt\": \"p\", \"raw_prediction\": \"x\", \"raw_answers\": [\"{gt}\"]}}, \"score\": 1}}\n"
    );
    let path = write(&dir, "c.jsonl", &text);
    let report = score_completions(EsftTask::Intent, &path).unwrap();
    assert_eq!(
        (report.n, report.score, report.stored_score),
        (2, 50.0, 100.0)
    );
    assert_eq!(report.mismatches.len(), 1);
    assert_eq!(
        (report.mismatches[0].line, report.mismatches[0].computed),
        (2, 0.0)
    );
    // A reference that is not JSON is a located error.
    let path = write(
        &dir,
        "bad.jsonl",
        r#"{"example": {"prompt": "p", "raw_prediction": "x", "raw_answers": ["nope"]}, "score": 0}"#,
    );
    let err = score_completions(EsftTask::Intent, &path)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bad.jsonl") && err.contains("line 1") && err.contains("raw_answers[0]"),
        "{err}"
    );
}

#[test]
fn score_command_prints_the_task_score() {
    let path = esft!("completions/gate/intent.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_peft-moe"))
        .args(["score", "--task", "intent", "--json", "--completions"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(row["n"], 500);
    assert_eq!(row["score"], 80.0);
    assert_eq!(row["mismatches"].as_array().map(Vec::len), Some(0));
    let out = Command::new(env!("CARGO_BIN_EXE_peft-moe"))
        .args(["score", "--task", "summary", "--completions"])
        .arg(esft!("completions/token/summary.jsonl"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("n = 100") && text.contains("score = 64.40"),
        "{text}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_peft-moe"))
        .args(["score", "--task", "math", "--completions", "x.jsonl"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown task `math`"));
}
