//! The official ESFT data files (§5 of the spec): training conversations, evaluation prompts and
//! stored completions; the chat format that turns a conversation into token ids and labels; and
//! the packing of tokenised conversations into fixed-length rows.
//!
//! | file | one line |
//! |---|---|
//! | `datasets/train/{task}.jsonl` | [`TrainRecord`]: `{"id", "dataset", "messages": [{"role", "content", "mask"?}], "length"}` |
//! | `datasets/eval/{task}.jsonl` | [`EvalRecord`]: `{"idx", "prompt", "raw_answers": [str], "answers": [str]}` |
//! | `results/completions/{gate,token}/{task}.jsonl` | [`Completion`]: `{"example": {"prompt", "raw_prediction", "raw_answers"}, "score"}` |
//!
//! Every reader error names the file, the 1-based line and the field (`messages[1].role`);
//! an empty file, a missing field and a value of the wrong type are errors.
//!
//! The chat format is the reference `utils.get_formatted_input_and_target`:
//! `[BOS] "User: {content}\n\nAssistant:"` (labels [`IGNORE_INDEX`]) `" {answer}" [EOS]`
//! (supervised unless the message has `"mask": 1`), message contents stripped of surrounding
//! whitespace, several turns in a row. As in the reference, the label of the leading BOS is the
//! BOS id itself: it is never a target inside one conversation (labels are shifted by one), but
//! it is one after the previous conversation's EOS in a packed row.
//!
//! Packing ([`pack`]) is `utils.get_examples_from_buffer_pad` with its quirks kept (§10 of the
//! spec): a conversation that does not fit the current row is cut **from the left** to fill it;
//! with probability `random_concat_ratio` a conversation that is not first in its row loses its
//! first token (its BOS, or — after a left cut — whatever token is first); the last row is
//! padded, and is all padding when the conversations filled the previous rows exactly.

use std::path::{Path, PathBuf};

use burnlp_core::data::DataError;
use burnlp_core::tokenize::{TokenizeError, Tokenizer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::{Map, Value};

/// Label of a position that is not supervised (PyTorch's `ignore_index`).
pub const IGNORE_INDEX: i64 = -100;

/// Sequence length of a packed row in the reference configuration (`configs/base.yaml`).
pub const OFFICIAL_SEQ_LENGTH: usize = 4096;
/// Probability that a non-first conversation of a row loses its first token (reference
/// `random_concat_ratio`).
pub const OFFICIAL_RANDOM_CONCAT_RATIO: f64 = 0.2;
/// The reference training seed (`configs/base.yaml`). The reference draws from Python's
/// `random`, which this crate does not reproduce: the same seed gives other draws here.
pub const OFFICIAL_SEED: u64 = 5_934_875;

/// Errors reading the ESFT files, formatting conversations and packing.
#[derive(Debug, thiserror::Error)]
pub enum EsftDataError {
    /// The file could not be read, a line is not UTF-8 or not JSON (the message locates it).
    #[error(transparent)]
    Data(#[from] DataError),
    /// The file holds no record.
    #[error("`{path}`: no records")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A field of a record is missing, has the wrong type or an invalid value.
    #[error("`{path}` line {line}, field `{field}`: {message}")]
    Field {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The field, with its position inside the record (`messages[1].role`).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A conversation could not be tokenised.
    #[error("`{path}` line {line}: cannot tokenise the conversation")]
    Tokenize {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The tokenizer's error.
        #[source]
        source: TokenizeError,
    },
    /// Packing settings or inputs are invalid.
    #[error("packing: {0}")]
    Packing(String),
}

/// Result type of this module.
pub type Result<T, E = EsftDataError> = std::result::Result<T, E>;

// ---------------------------------------------------------------------------------------------
// Reading JSON lines with located, field-naming errors.

/// Where a value comes from, for error messages.
#[derive(Clone, Copy)]
pub(crate) struct At<'a> {
    pub(crate) path: &'a Path,
    pub(crate) line: usize,
}

impl At<'_> {
    pub(crate) fn error(
        &self,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> EsftDataError {
        EsftDataError::Field {
            path: self.path.to_path_buf(),
            line: self.line,
            field: field.into(),
            message: message.into(),
        }
    }

    fn wrong_type(&self, field: &str, expected: &str, found: &Value) -> EsftDataError {
        self.error(field, format!("expected {expected}, found {}", kind(found)))
    }

    pub(crate) fn object<'v>(
        &self,
        value: &'v Value,
        field: &str,
    ) -> Result<&'v Map<String, Value>> {
        value
            .as_object()
            .ok_or_else(|| self.wrong_type(field, "an object", value))
    }

    pub(crate) fn get<'v>(
        &self,
        object: &'v Map<String, Value>,
        parent: &str,
        name: &str,
    ) -> Result<&'v Value> {
        object
            .get(name)
            .ok_or_else(|| self.error(join(parent, name), "missing"))
    }

    pub(crate) fn string(
        &self,
        object: &Map<String, Value>,
        parent: &str,
        name: &str,
    ) -> Result<String> {
        let value = self.get(object, parent, name)?;
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.wrong_type(&join(parent, name), "a string", value))
    }

    fn count(&self, object: &Map<String, Value>, parent: &str, name: &str) -> Result<u64> {
        let value = self.get(object, parent, name)?;
        value
            .as_u64()
            .ok_or_else(|| self.wrong_type(&join(parent, name), "a non-negative integer", value))
    }

    pub(crate) fn strings(
        &self,
        object: &Map<String, Value>,
        parent: &str,
        name: &str,
    ) -> Result<Vec<String>> {
        let field = join(parent, name);
        let value = self.get(object, parent, name)?;
        let items = value
            .as_array()
            .ok_or_else(|| self.wrong_type(&field, "an array of strings", value))?;
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| self.wrong_type(&format!("{field}[{i}]"), "a string", item))
            })
            .collect()
    }

    /// A non-empty array of strings (the references of an example).
    pub(crate) fn answers(
        &self,
        object: &Map<String, Value>,
        parent: &str,
        name: &str,
    ) -> Result<Vec<String>> {
        let answers = self.strings(object, parent, name)?;
        if answers.is_empty() {
            return Err(self.error(join(parent, name), "empty (at least one answer is needed)"));
        }
        Ok(answers)
    }
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

/// The JSON type of a value, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads a JSON Lines file into `(line, value)` pairs (blank lines skipped), then converts each
/// with `convert`; an empty file is an error.
pub(crate) fn read_lines<T>(
    path: &Path,
    mut convert: impl FnMut(At<'_>, &Value) -> Result<T>,
) -> Result<Vec<T>> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut records = Vec::new();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        let text = std::str::from_utf8(raw).map_err(|_| DataError::InvalidUtf8 {
            path: path.to_path_buf(),
            line,
        })?;
        let text = text.strip_suffix('\r').unwrap_or(text);
        if text.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(text).map_err(|e| {
            let full = e.to_string();
            let suffix = format!(" at line {} column {}", e.line(), e.column());
            DataError::JsonLine {
                path: path.to_path_buf(),
                line,
                column: e.column(),
                message: full.strip_suffix(&suffix).unwrap_or(&full).to_owned(),
            }
        })?;
        records.push(convert(At { path, line }, &value)?);
    }
    if records.is_empty() {
        return Err(EsftDataError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(records)
}

// ---------------------------------------------------------------------------------------------
// Training conversations.

/// Who speaks a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The prompt side (never supervised).
    User,
    /// The answer side (supervised unless masked).
    Assistant,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// Who speaks.
    pub role: Role,
    /// The text (the chat format strips surrounding whitespace).
    pub content: String,
    /// `"mask": 1`: an assistant message that is context, not a target.
    pub masked: bool,
}

impl Message {
    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
            masked: false,
        }
    }

    /// A supervised assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
            masked: false,
        }
    }

    /// An assistant message with `"mask": 1` (not supervised).
    pub fn masked_assistant(content: impl Into<String>) -> Self {
        Self {
            masked: true,
            ..Self::assistant(content)
        }
    }
}

/// The `id` of a training record: a string in the official files, a number in some others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum RecordId {
    /// A string id (`"NLU05793"`).
    Text(String),
    /// A numeric id.
    Number(u64),
}

impl std::fmt::Display for RecordId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text(s) => f.write_str(s),
            Self::Number(n) => write!(f, "{n}"),
        }
    }
}

/// One line of a training file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainRecord {
    /// 1-based line in its file.
    pub line: usize,
    /// Record id.
    pub id: RecordId,
    /// Source dataset name (`df_511_intent`).
    pub dataset: String,
    /// The conversation (at least one message).
    pub messages: Vec<Message>,
    /// The `length` field as stored (a token count of the reference tokenizer; not used).
    pub length: u64,
}

fn message(at: At<'_>, value: &Value, field: &str) -> Result<Message> {
    let object = at.object(value, field)?;
    let role = match at.string(object, field, "role")?.as_str() {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        other => {
            return Err(at.error(
                join(field, "role"),
                format!("unknown role {other:?} (expected \"user\" or \"assistant\")"),
            ));
        }
    };
    let content = at.string(object, field, "content")?;
    // The reference tests `message.get('mask', 0) == 1`; 0/1 (or false/true) are accepted.
    let masked = match object.get("mask") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) if n.as_f64() == Some(0.0) => false,
        Some(Value::Number(n)) if n.as_f64() == Some(1.0) => true,
        Some(other) => {
            return Err(at.error(
                join(field, "mask"),
                format!("expected 0 or 1, found {other}"),
            ));
        }
    };
    Ok(Message {
        role,
        content,
        masked,
    })
}

fn train_record(at: At<'_>, value: &Value) -> Result<TrainRecord> {
    let object = at.object(value, "(record)")?;
    let id = match at.get(object, "", "id")? {
        Value::String(s) => RecordId::Text(s.clone()),
        Value::Number(n) if n.as_u64().is_some() => RecordId::Number(n.as_u64().unwrap_or(0)),
        other => return Err(at.wrong_type("id", "a string or a non-negative integer", other)),
    };
    let dataset = at.string(object, "", "dataset")?;
    let list = at.get(object, "", "messages")?;
    let list = list
        .as_array()
        .ok_or_else(|| at.wrong_type("messages", "an array of messages", list))?;
    if list.is_empty() {
        return Err(at.error("messages", "empty conversation"));
    }
    let messages = list
        .iter()
        .enumerate()
        .map(|(i, m)| message(at, m, &format!("messages[{i}]")))
        .collect::<Result<Vec<_>>>()?;
    let length = at.count(object, "", "length")?;
    Ok(TrainRecord {
        line: at.line,
        id,
        dataset,
        messages,
        length,
    })
}

/// Reads a training file (`datasets/train/{task}.jsonl`).
pub fn read_train(path: impl AsRef<Path>) -> Result<Vec<TrainRecord>> {
    read_lines(path.as_ref(), train_record)
}

// ---------------------------------------------------------------------------------------------
// Evaluation prompts.

/// One line of an evaluation file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvalRecord {
    /// 1-based line in its file.
    pub line: usize,
    /// Example index as stored (the official files number them 0, 2, 4, …).
    pub idx: u64,
    /// The prompt, already in the chat format (`"User: …\n\nAssistant:"`; few-shot examples
    /// included for intent), without BOS.
    pub prompt: String,
    /// The references the scorers read (the first one is scored against).
    pub raw_answers: Vec<String>,
    /// The references as stored under `answers` (equal to `raw_answers` in the official files).
    pub answers: Vec<String>,
}

impl EvalRecord {
    /// The reference the official scorers compare with (`raw_answers[0]`).
    pub fn reference(&self) -> &str {
        &self.raw_answers[0]
    }
}

fn eval_record(at: At<'_>, value: &Value) -> Result<EvalRecord> {
    let object = at.object(value, "(record)")?;
    Ok(EvalRecord {
        line: at.line,
        idx: at.count(object, "", "idx")?,
        prompt: at.string(object, "", "prompt")?,
        raw_answers: at.answers(object, "", "raw_answers")?,
        answers: at.answers(object, "", "answers")?,
    })
}

/// Reads an evaluation file (`datasets/eval/{task}.jsonl`): each record's prompt and answers.
pub fn read_eval(path: impl AsRef<Path>) -> Result<Vec<EvalRecord>> {
    read_lines(path.as_ref(), eval_record)
}

// ---------------------------------------------------------------------------------------------
// Stored completions.

/// One line of a completion file: a model's output on one evaluation example and its score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Completion {
    /// 1-based line in its file.
    pub line: usize,
    /// The prompt (`example.prompt`).
    pub prompt: String,
    /// The generated text (`example.raw_prediction`; starts with a space in the official files).
    pub raw_prediction: String,
    /// The references (`example.raw_answers`; the first is scored against).
    pub raw_answers: Vec<String>,
    /// The stored score in [0, 1] (`score`: 0/1 for intent, the judge's x/10 otherwise).
    pub score: f64,
}

impl Completion {
    /// The reference the official scorers compare with (`raw_answers[0]`).
    pub fn reference(&self) -> &str {
        &self.raw_answers[0]
    }
}

fn completion(at: At<'_>, value: &Value) -> Result<Completion> {
    let object = at.object(value, "(record)")?;
    let example = at.get(object, "", "example")?;
    let example = at.object(example, "example")?;
    let score = at.get(object, "", "score")?;
    let score = score
        .as_f64()
        .filter(|s| s.is_finite())
        .ok_or_else(|| at.wrong_type("score", "a number", score))?;
    Ok(Completion {
        line: at.line,
        prompt: at.string(example, "example", "prompt")?,
        raw_prediction: at.string(example, "example", "raw_prediction")?,
        raw_answers: at.answers(example, "example", "raw_answers")?,
        score,
    })
}

/// Reads a completion file (`results/completions/{gate,token}/{task}.jsonl`).
pub fn read_completions(path: impl AsRef<Path>) -> Result<Vec<Completion>> {
    read_lines(path.as_ref(), completion)
}

// ---------------------------------------------------------------------------------------------
// Chat format.

/// The special ids of the chat format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatIds {
    /// Beginning of a conversation.
    pub bos: u32,
    /// End of every assistant message.
    pub eos: u32,
}

/// A tokenised conversation or a packed row: input ids and their labels.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct TokenizedExample {
    /// Token ids.
    pub input_ids: Vec<u32>,
    /// One label per id: the id itself where supervised, [`IGNORE_INDEX`] elsewhere (labels
    /// are aligned with the inputs; the model's loss shifts them by one).
    pub labels: Vec<i64>,
}

impl TokenizedExample {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.input_ids.len()
    }

    /// True when there is no token.
    pub fn is_empty(&self) -> bool {
        self.input_ids.is_empty()
    }

    /// Per position: true where the label is supervised.
    pub fn loss_mask(&self) -> Vec<bool> {
        self.labels.iter().map(|&l| l != IGNORE_INDEX).collect()
    }

    /// Number of supervised positions.
    pub fn supervised(&self) -> usize {
        self.labels.iter().filter(|&&l| l != IGNORE_INDEX).count()
    }

    fn push(&mut self, ids: &[u32], supervised: bool) {
        self.input_ids.extend_from_slice(ids);
        self.labels.extend(ids.iter().map(|&id| {
            if supervised {
                i64::from(id)
            } else {
                IGNORE_INDEX
            }
        }));
    }
}

/// Python's `str.strip()` with no argument: Unicode whitespace, plus the separators
/// U+001C–U+001F that Python counts as whitespace and Rust does not.
pub fn py_strip(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// The user turn as text: `"User: {content}\n\nAssistant:"` (content stripped).
pub fn format_question(content: &str) -> String {
    format!("User: {}\n\nAssistant:", py_strip(content))
}

/// The assistant turn as text: `" {content}"` (content stripped; EOS is added as an id).
pub fn format_answer(content: &str) -> String {
    format!(" {}", py_strip(content))
}

/// Tokenises a conversation in the chat format: `[BOS]`, then per message the user text
/// (labels [`IGNORE_INDEX`]) or the assistant text followed by `[EOS]` (labels = ids, or
/// [`IGNORE_INDEX`] for a masked message). The BOS label is the BOS id, as in the reference.
/// Texts are encoded without the tokenizer's own special tokens.
pub fn format_conversation(
    messages: &[Message],
    tokenizer: &Tokenizer,
    ids: ChatIds,
) -> Result<TokenizedExample, TokenizeError> {
    let mut out = TokenizedExample::default();
    if messages.is_empty() {
        return Ok(out);
    }
    out.push(&[ids.bos], true);
    for message in messages {
        match message.role {
            Role::User => {
                let encoded = tokenizer.encode(&format_question(&message.content), false)?;
                out.push(&encoded.ids, false);
            }
            Role::Assistant => {
                let mut tokens = tokenizer
                    .encode(&format_answer(&message.content), false)?
                    .ids;
                tokens.push(ids.eos);
                out.push(&tokens, !message.masked);
            }
        }
    }
    Ok(out)
}

/// Reads a training file and tokenises every conversation ([`format_conversation`]), in file
/// order.
pub fn read_training_examples(
    path: impl AsRef<Path>,
    tokenizer: &Tokenizer,
    ids: ChatIds,
) -> Result<Vec<TokenizedExample>> {
    let path = path.as_ref();
    tokenize_records(&read_train(path)?, path, tokenizer, ids)
}

/// Tokenises training records of the file `path` in the chat format (errors name the file and
/// line).
pub fn tokenize_records(
    records: &[TrainRecord],
    path: &Path,
    tokenizer: &Tokenizer,
    ids: ChatIds,
) -> Result<Vec<TokenizedExample>> {
    records
        .iter()
        .map(|record| {
            format_conversation(&record.messages, tokenizer, ids).map_err(|source| {
                EsftDataError::Tokenize {
                    path: path.to_path_buf(),
                    line: record.line,
                    source,
                }
            })
        })
        .collect()
}

/// The input of generation for an evaluation prompt (already in the chat format):
/// `[BOS]` followed by the prompt's tokens — the prefix a training conversation starts with.
/// The reference generates with a `transformers` pipeline, which in current versions encodes
/// with the tokenizer's defaults (DeepSeek's adds BOS); some older versions added no special
/// token there.
pub fn format_prompt(
    prompt: &str,
    tokenizer: &Tokenizer,
    ids: ChatIds,
) -> Result<Vec<u32>, TokenizeError> {
    let mut out = vec![ids.bos];
    out.extend(tokenizer.encode(prompt, false)?.ids);
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Packing.

/// Settings of [`pack`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PackConfig {
    /// Tokens per row.
    pub seq_length: usize,
    /// Probability that a conversation that is not first in its row loses its first token.
    pub random_concat_ratio: f64,
    /// Id that pads the last row (label [`IGNORE_INDEX`]).
    pub pad_id: u32,
    /// Seed of the dropping draws.
    pub seed: u64,
}

impl PackConfig {
    /// The reference settings (4096-token rows, ratio 0.2) with `pad_id` and `seed`.
    pub fn official(pad_id: u32, seed: u64) -> Self {
        Self {
            seq_length: OFFICIAL_SEQ_LENGTH,
            random_concat_ratio: OFFICIAL_RANDOM_CONCAT_RATIO,
            pad_id,
            seed,
        }
    }
}

/// Packs tokenised conversations, in order, into rows of exactly `seq_length` tokens, as the
/// reference `get_examples_from_buffer_pad` does:
///
/// 1. a conversation longer than the room left in the current row keeps only its last tokens
///    (left truncation: its beginning — BOS and prompt — is lost);
/// 2. then, if the row already holds tokens, with probability `random_concat_ratio` (one draw
///    of a generator seeded with `seed` per such conversation) its first token is dropped;
/// 3. a full row is emitted; after the last conversation the current row is padded with
///    `pad_id` (labels [`IGNORE_INDEX`]) and emitted — even when empty, so conversations that
///    fill their rows exactly are followed by an all-padding row.
///
/// A conversation cut by step 1 and then shortened by step 2 leaves its row one token short;
/// the next conversation is then cut to that one token (the reference behaves the same).
pub fn pack(examples: &[TokenizedExample], config: &PackConfig) -> Result<Vec<TokenizedExample>> {
    if config.seq_length == 0 {
        return Err(EsftDataError::Packing("seq_length must be positive".into()));
    }
    if !(0.0..=1.0).contains(&config.random_concat_ratio) {
        return Err(EsftDataError::Packing(format!(
            "random_concat_ratio {} is not in [0, 1]",
            config.random_concat_ratio
        )));
    }
    if let Some((i, e)) = examples
        .iter()
        .enumerate()
        .find(|(_, e)| e.input_ids.len() != e.labels.len())
    {
        return Err(EsftDataError::Packing(format!(
            "example {i} has {} input ids but {} labels",
            e.input_ids.len(),
            e.labels.len()
        )));
    }
    let n = config.seq_length;
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut rows = Vec::new();
    let mut row = TokenizedExample::default();
    for example in examples {
        let room = n - row.len();
        let start = example.len().saturating_sub(room);
        let mut ids = &example.input_ids[start..];
        let mut labels = &example.labels[start..];
        if !row.is_empty() && rng.random::<f64>() < config.random_concat_ratio {
            ids = ids.get(1..).unwrap_or_default();
            labels = labels.get(1..).unwrap_or_default();
        }
        row.input_ids.extend_from_slice(ids);
        row.labels.extend_from_slice(labels);
        if row.len() >= n {
            rows.push(std::mem::take(&mut row));
        }
    }
    let missing = n - row.len();
    row.input_ids
        .extend(std::iter::repeat_n(config.pad_id, missing));
    row.labels
        .extend(std::iter::repeat_n(IGNORE_INDEX, missing));
    rows.push(row);
    Ok(rows)
}
