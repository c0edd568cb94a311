//! ESFT on real text: the official ESFT training and evaluation files with a tokenizer-backed
//! MoE directory (an upcycled SmolLM2, [`crate::upcycle`]).
//!
//! - **Sampling for routing statistics** (§3 of the spec): the training conversations are
//!   shuffled with a seed and run one at a time, in the training chat format, until the token
//!   budget is spent ([`sample_route_stats`]).
//! - **Training** ([`ChatLmTask`]): answer-only causal-LM loss from the labels of
//!   [`format_conversation`](crate::esft_data::format_conversation) — positions labelled
//!   [`IGNORE_INDEX`] are masked out, *not* compared with a padding id (id 0 is a real token in
//!   SmolLM2, `<|endoftext|>`), plus the balance loss.
//! - **Evaluation** ([`generate_completions`]): greedy batched generation from the official
//!   prompts, completions in the official format, scored with the official intent scorer.
//!   [`PromptMode::ZeroShot`] rewrites each few-shot intent prompt to the training format (only
//!   the final query block): the official few-shot prompts (≈ 1,880 SmolLM2 tokens) are about
//!   16 times longer than the training conversations and too slow to decode on a CPU.
//! - **General-ability retention** ([`perplexity`]): token-level perplexity on held-out plain
//!   text lines.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::{Device, Tensor};
use burnlp_core::burn;
use burnlp_core::data::shuffled_batches;
use burnlp_core::nn::llama::{GenerateError, GenerationConfig, NextTokenBatch};
use burnlp_core::tokenize::{TokenizeError, Tokenizer};
use burnlp_core::train::{AdamWConfig, GradStore, Metrics, TrainTask};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::Serialize;

use crate::error::MoeError;
use crate::esft_data::{
    ChatIds, EsftDataError, EvalRecord, IGNORE_INDEX, Role, TokenizedExample, TrainRecord,
    format_prompt, py_strip, tokenize_records,
};
use crate::esft_score::intent_score;
use crate::moe::{MoeLm, balance_loss, forward_detailed};
use crate::routing::RouteStats;
use crate::train::{Method, TrainableReport, prepare, route_stats_of};
use crate::upcycle::{ChatTemplateSource, UpcycleError};

/// The instruction that opens every intent query (training and evaluation).
pub const INTENT_INSTRUCTION: &str = "请分析下面这句话的意图，并转化为json格式：";

/// What ends the user turn of an intent query.
const INTENT_ANSWER_CUE: &str = "\n答案：";

/// The end of every prompt in the chat format.
const ASSISTANT_CUE: &str = "\n\nAssistant:";

/// Errors of the real-data paths.
#[derive(Debug, thiserror::Error)]
pub enum RealError {
    /// A model, checkpoint or run directory problem.
    #[error(transparent)]
    Moe(#[from] MoeError),
    /// The model directory's tokenizer files are missing or malformed.
    #[error(transparent)]
    Upcycle(#[from] UpcycleError),
    /// An official ESFT file is malformed.
    #[error(transparent)]
    EsftData(#[from] EsftDataError),
    /// Text cannot be tokenised or decoded.
    #[error(transparent)]
    Tokenize(#[from] TokenizeError),
    /// Generation was given unusable prompts.
    #[error(transparent)]
    Generate(#[from] GenerateError),
    /// A file's content cannot be used (the message says where and why).
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong and where.
        message: String,
    },
}

fn format_error(path: &Path, message: impl Into<String>) -> RealError {
    RealError::Format {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// The chat-format ids of a model directory: BOS and EOS as named by its
/// `tokenizer_config.json` (`bos_token`, `eos_token`; SmolLM2: `<|im_start|>`, `<|im_end|>`).
pub fn chat_ids(dir: &Path, tokenizer: &Tokenizer) -> Result<ChatIds, RealError> {
    let path = dir.join("tokenizer_config.json");
    let source = ChatTemplateSource::read(dir)?
        .ok_or_else(|| format_error(&path, "missing, or without a chat_template"))?;
    chat_ids_of(&source, tokenizer, &path)
}

/// The chat-format ids named by a chat template's `bos_token` and `eos_token` (e.g. one read
/// from a GGUF file with [`ChatTemplateSource::of_location`]); `origin` names where the
/// template came from in errors.
pub fn chat_ids_of(
    source: &ChatTemplateSource,
    tokenizer: &Tokenizer,
    origin: &Path,
) -> Result<ChatIds, RealError> {
    let id = |key: &str, text: &str| {
        tokenizer.token_to_id(text).ok_or_else(|| {
            format_error(
                origin,
                format!("{key} {text:?} is not a token of the tokenizer"),
            )
        })
    };
    Ok(ChatIds {
        bos: id("bos_token", &source.bos_token)?,
        eos: id("eos_token", &source.eos_token)?,
    })
}

/// The query of an intent text (a training user message or an evaluation prompt): what
/// follows the last [`INTENT_INSTRUCTION`] up to `"\n答案："`, stripped; `None` when the text has
/// no such block.
pub fn intent_query(text: &str) -> Option<&str> {
    let start = text.rfind(INTENT_INSTRUCTION)? + INTENT_INSTRUCTION.len();
    let rest = &text[start..];
    let end = rest.find(INTENT_ANSWER_CUE)?;
    Some(py_strip(&rest[..end]))
}

/// The query of an evaluation prompt for the overlap check: the intent query, else the last
/// user turn.
fn eval_query(prompt: &str) -> &str {
    intent_query(prompt).unwrap_or_else(|| {
        let last = prompt.rfind("User:").map_or(prompt, |i| &prompt[i + 5..]);
        py_strip(last.strip_suffix(ASSISTANT_CUE).unwrap_or(last))
    })
}

/// The query of a training conversation: the intent query of its first user message, else that
/// message stripped.
fn train_query(record: &TrainRecord) -> &str {
    let user = record
        .messages
        .iter()
        .find(|m| m.role == Role::User)
        .map_or("", |m| m.content.as_str());
    intent_query(user).unwrap_or_else(|| py_strip(user))
}

/// Drops the training conversations whose query is an evaluation query, then checks (with the
/// core overlap check) that none is left; returns the kept records and how many were dropped.
pub fn exclude_eval(
    train: Vec<TrainRecord>,
    eval: &[EvalRecord],
) -> Result<(Vec<TrainRecord>, usize), MoeError> {
    let eval_queries: Vec<&str> = eval.iter().map(|r| eval_query(&r.prompt)).collect();
    let banned: HashSet<&str> = eval_queries.iter().copied().collect();
    let before = train.len();
    let kept: Vec<TrainRecord> = train
        .into_iter()
        .filter(|r| !banned.contains(train_query(r)))
        .collect();
    let train_queries: Vec<&str> = kept.iter().map(train_query).collect();
    burnlp_core::data::check_disjoint("esft train/eval queries", &train_queries, &eval_queries)?;
    let dropped = before - kept.len();
    Ok((kept, dropped))
}

/// The official sampling for routing statistics: the conversations shuffled with `seed`, run
/// one at a time until `max_tokens` tokens are seen (the last one cut).
pub fn sample_route_stats(
    model: &MoeLm,
    examples: &[TokenizedExample],
    max_tokens: usize,
    seed: u64,
) -> RouteStats {
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    route_stats_of(
        model,
        order.into_iter().map(|i| examples[i].input_ids.clone()),
        max_tokens,
    )
}

/// The next-token batch of labelled sequences (core's [`NextTokenBatch::labelled`]): the
/// input at `t` predicts id `t+1` where its label is not [`IGNORE_INDEX`]. The targets come from
/// the labels only, so a supervised id equal to 0 (a real token in SmolLM2) still counts and
/// padding never does.
pub fn label_batch(rows: &[&TokenizedExample], device: &Device) -> NextTokenBatch {
    let rows: Vec<(&[u32], &[i64])> = rows
        .iter()
        .map(|r| (r.input_ids.as_slice(), r.labels.as_slice()))
        .collect();
    NextTokenBatch::labelled(&rows, IGNORE_INDEX, device)
}

/// Mean answer-token cross-entropy of a batch plus the balance loss (when `aux_alpha > 0`).
pub fn label_loss(model: &MoeLm, batch: &NextTokenBatch, aux_alpha: f64) -> Tensor<1> {
    let inputs = batch.input.input_ids.clone();
    let out = forward_detailed(model, inputs.clone());
    let loss = batch.nll_sum(out.logits) / batch.target_count().max(1) as f64;
    match (aux_alpha > 0.0)
        .then(|| balance_loss(&out.routing, inputs.dims()[0], aux_alpha))
        .flatten()
    {
        Some(aux) => loss + aux,
        None => loss,
    }
}

/// Summed NLL and supervised-token count over sequences, `batch_size` at a time (no balance
/// loss).
pub fn nll(model: &MoeLm, rows: &[TokenizedExample], batch_size: usize) -> (f64, usize) {
    let device = model.device();
    let (mut sum, mut count) = (0.0, 0);
    for chunk in rows.chunks(batch_size.max(1)) {
        let refs: Vec<_> = chunk.iter().collect();
        let batch = label_batch(&refs, &device);
        let out = forward_detailed(model, batch.input.input_ids.clone());
        sum += batch.nll_sum(out.logits).into_scalar::<f64>();
        count += batch.target_count();
    }
    (sum, count)
}

/// Causal-LM fine-tuning on labelled conversations (answer-only supervision from the labels).
pub struct ChatLmTask {
    /// Training conversations.
    pub train: Vec<TokenizedExample>,
    /// Development conversations (answer-token loss).
    pub dev: Vec<TokenizedExample>,
    /// Sequences per batch.
    pub batch_size: usize,
    /// Weight of the balance loss (0 disables it).
    pub aux_alpha: f64,
}

impl TrainTask<MoeLm> for ChatLmTask {
    type Batch = Vec<usize>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Vec<usize>> {
        shuffled_batches(self.train.len(), self.batch_size, seed, epoch as u64)
    }

    fn loss(&self, model: &MoeLm, batch: &Vec<usize>) -> Tensor<1> {
        let rows: Vec<_> = batch.iter().map(|&i| &self.train[i]).collect();
        let batch = label_batch(&rows, &model.device());
        label_loss(model, &batch, self.aux_alpha)
    }

    fn evaluate(&self, model: &MoeLm) -> Metrics {
        let (sum, count) = nll(model, &self.dev, self.batch_size);
        let mut metrics = Metrics::new();
        metrics.insert("loss".into(), sum / count.max(1) as f64);
        metrics
    }

    fn batch_len(&self, batch: &Vec<usize>) -> usize {
        batch.len()
    }
}

/// How an evaluation prompt is given to the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PromptMode {
    /// The official prompt as stored (few-shot for intent).
    FewShot,
    /// Only the final query block, in the training format ([`zero_shot_prompt`]).
    ZeroShot,
}

impl std::str::FromStr for PromptMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "few-shot" => Ok(Self::FewShot),
            "zero-shot" => Ok(Self::ZeroShot),
            other => Err(format!(
                "unknown prompt mode `{other}` (expected few-shot or zero-shot)"
            )),
        }
    }
}

/// The training-format prompt of an official few-shot intent prompt: `"User: "` followed by
/// the last query block (from the last [`INTENT_INSTRUCTION`] to the end,
/// `"…{query}\n答案：\n\nAssistant:"`); `None` when the prompt has no such block.
pub fn zero_shot_prompt(prompt: &str) -> Option<String> {
    let start = prompt.rfind(INTENT_INSTRUCTION)?;
    let block = &prompt[start..];
    block
        .ends_with(ASSISTANT_CUE)
        .then(|| format!("User: {block}"))
}

/// One generated completion in the official format
/// (`{"example": {"prompt", "raw_prediction", "raw_answers"}, "score"}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GeneratedCompletion {
    /// The example: the prompt given (after the [`PromptMode`] rewrite), the prediction and the
    /// references.
    pub example: CompletionExample,
    /// The intent score (0 or 1).
    pub score: f64,
}

/// The `example` object of a [`GeneratedCompletion`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompletionExample {
    /// The prompt text given to the model (BOS is prepended as an id).
    pub prompt: String,
    /// The decoded generation before EOS (special tokens skipped).
    pub raw_prediction: String,
    /// The references as stored.
    pub raw_answers: Vec<String>,
}

/// Settings of [`generate_completions`].
#[derive(Debug, Clone)]
pub struct GenerateSettings {
    /// Prompt rewrite.
    pub mode: PromptMode,
    /// Generated tokens at most.
    pub max_new_tokens: usize,
    /// Prompts per generation batch.
    pub batch_size: usize,
    /// Ids that end a generation (the chat EOS and the tokenizer's EOS).
    pub eos_ids: Vec<u32>,
}

/// Greedy completions of intent evaluation records, scored with the official intent scorer
/// (`path` names the evaluation file in errors).
pub fn generate_completions(
    model: &MoeLm,
    tokenizer: &Tokenizer,
    ids: ChatIds,
    records: &[EvalRecord],
    settings: &GenerateSettings,
    path: &Path,
) -> Result<Vec<GeneratedCompletion>, RealError> {
    let mut prompts = Vec::with_capacity(records.len());
    for record in records {
        let prompt = match settings.mode {
            PromptMode::FewShot => record.prompt.clone(),
            PromptMode::ZeroShot => zero_shot_prompt(&record.prompt).ok_or_else(|| {
                format_error(
                    path,
                    format!(
                        "line {}: the prompt has no final intent query block ending in {ASSISTANT_CUE:?}",
                        record.line
                    ),
                )
            })?,
        };
        prompts.push(prompt);
    }
    let config =
        GenerationConfig::new(settings.max_new_tokens).with_eos_token_ids(settings.eos_ids.clone());
    let mut out = Vec::with_capacity(records.len());
    for (chunk, texts) in records
        .chunks(settings.batch_size.max(1))
        .zip(prompts.chunks(settings.batch_size.max(1)))
    {
        let tokens = texts
            .iter()
            .map(|p| format_prompt(p, tokenizer, ids))
            .collect::<Result<Vec<_>, _>>()?;
        let generations = model.generate(&tokens, &config)?;
        for ((record, prompt), generation) in chunk.iter().zip(texts).zip(generations) {
            let end = generation
                .tokens
                .iter()
                .position(|t| settings.eos_ids.contains(t))
                .unwrap_or(generation.tokens.len());
            let raw_prediction = tokenizer.decode(&generation.tokens[..end], true)?;
            let score = intent_score(&raw_prediction, record.reference()).map_err(|message| {
                format_error(
                    path,
                    format!("line {}: raw_answers[0]: {message}", record.line),
                )
            })?;
            out.push(GeneratedCompletion {
                example: CompletionExample {
                    prompt: prompt.clone(),
                    raw_prediction,
                    raw_answers: record.raw_answers.clone(),
                },
                score: f64::from(score),
            });
        }
    }
    Ok(out)
}

/// Writes completions as JSON lines (atomically).
pub fn write_completions(path: &Path, completions: &[GeneratedCompletion]) -> Result<(), MoeError> {
    let mut text = String::new();
    for c in completions {
        text.push_str(&serde_json::to_string(c).expect("serialisable"));
        text.push('\n');
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| MoeError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    burnlp_core::data::write_atomic(path, text.as_bytes())?;
    Ok(())
}

/// Reads up to `limit` non-empty lines of a plain-text file (trimmed).
pub fn read_text_lines(path: &Path, limit: Option<usize>) -> Result<Vec<String>, MoeError> {
    let text = std::fs::read_to_string(path).map_err(|source| MoeError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(limit.unwrap_or(usize::MAX))
        .map(str::to_string)
        .collect();
    if lines.is_empty() {
        return Err(MoeError::Format {
            path: path.to_path_buf(),
            message: "no non-empty line".into(),
        });
    }
    Ok(lines)
}

/// Plain-text lines as fully supervised sequences: `[BOS]` + the line's tokens (no special
/// tokens of the tokenizer), every token after BOS a target.
pub fn text_examples(
    lines: &[String],
    tokenizer: &Tokenizer,
    bos: u32,
) -> Result<Vec<TokenizedExample>, TokenizeError> {
    lines
        .iter()
        .map(|line| {
            let mut input_ids = vec![bos];
            input_ids.extend(tokenizer.encode(line, false)?.ids);
            let labels = input_ids.iter().map(|&i| i64::from(i)).collect();
            Ok(TokenizedExample { input_ids, labels })
        })
        .collect()
}

/// Token-level perplexity: `exp(Σ NLL / tokens)` over the supervised tokens of `rows`.
pub fn perplexity(model: &MoeLm, rows: &[TokenizedExample], batch_size: usize) -> f64 {
    mean_nll(model, rows, batch_size).exp()
}

/// Mean NLL per supervised token over sequences (see [`nll`]).
pub fn mean_nll(model: &MoeLm, rows: &[TokenizedExample], batch_size: usize) -> f64 {
    let (sum, count) = nll(model, rows, batch_size);
    sum / count.max(1) as f64
}

/// Training and development conversations of an official training file.
#[derive(Debug, Clone)]
pub struct TrainingData {
    /// Conversations trained on.
    pub train: Vec<TokenizedExample>,
    /// Held-out conversations for the development loss.
    pub dev: Vec<TokenizedExample>,
    /// Conversations in the file.
    pub records: usize,
    /// Conversations dropped because their query is an evaluation query.
    pub dropped: usize,
}

/// Reads and tokenises an official training file; with `eval`, drops the conversations whose
/// query is an evaluation query and checks that none is left ([`exclude_eval`]); holds out
/// `dev_size` conversations (at most half) of a fixed shuffle (seed 0, the same for every
/// method and seed) for the development loss.
pub fn training_data(
    path: &Path,
    tokenizer: &Tokenizer,
    ids: ChatIds,
    eval: Option<&[EvalRecord]>,
    dev_size: usize,
) -> Result<TrainingData, RealError> {
    let records = crate::esft_data::read_train(path)?;
    let n = records.len();
    let (kept, dropped) = match eval {
        Some(eval) => exclude_eval(records, eval)?,
        None => (records, 0),
    };
    let mut examples = tokenize_records(&kept, path, tokenizer, ids)?;
    examples.shuffle(&mut StdRng::seed_from_u64(0));
    let dev_size = dev_size.min(examples.len() / 2);
    let dev = examples.drain(..dev_size).collect();
    Ok(TrainingData {
        train: examples,
        dev,
        records: n,
        dropped,
    })
}

/// Writes a trained model as a directory [`crate::upcycle::load_with_tokenizer`] reads: the
/// weights (adapters merged) and the tokenizer files copied from `source`.
pub fn save_with_tokenizer(
    source: &Path,
    target: &Path,
    config: &crate::moe::MoeConfig,
    model: &MoeLm,
) -> Result<(), MoeError> {
    crate::moe::save_pretrained(target, config, model)?;
    for name in ["tokenizer.json", "tokenizer_config.json"] {
        let from = source.join(name);
        if from.exists() {
            std::fs::copy(&from, target.join(name)).map_err(|source| MoeError::Io {
                path: from.clone(),
                source,
            })?;
        }
    }
    Ok(())
}

/// The EOS ids generation stops at: the chat EOS, then the tokenizer's own.
pub fn stop_ids(ids: ChatIds, tokenizer_eos: &[u32]) -> Vec<u32> {
    let mut out = vec![ids.eos];
    out.extend(tokenizer_eos.iter().filter(|&&e| e != ids.eos));
    out
}

/// Loads a model directory and generates scored completions of the first `limit` records of
/// an evaluation file.
pub fn eval_model_dir(
    dir: &Path,
    eval_path: &Path,
    limit: Option<usize>,
    mode: PromptMode,
    max_new_tokens: usize,
    batch_size: usize,
    device: &Device,
) -> Result<Vec<GeneratedCompletion>, RealError> {
    let loaded = crate::upcycle::load_with_tokenizer(dir, device)?;
    let ids = chat_ids(dir, &loaded.tokenizer)?;
    let mut records = crate::esft_data::read_eval(eval_path)?;
    records.truncate(limit.unwrap_or(usize::MAX));
    let settings = GenerateSettings {
        mode,
        max_new_tokens,
        batch_size,
        eos_ids: stop_ids(ids, &loaded.eos_token_ids),
    };
    generate_completions(
        &loaded.model,
        &loaded.tokenizer,
        ids,
        &records,
        &settings,
        eval_path,
    )
}

/// Perplexity of a model directory on the first `limit` non-empty lines of a text file;
/// returns the perplexity, the lines and the scored tokens.
pub fn perplexity_of_dir(
    dir: &Path,
    text: &Path,
    limit: Option<usize>,
    batch_size: usize,
    device: &Device,
) -> Result<(f64, usize, usize), RealError> {
    let loaded = crate::upcycle::load_with_tokenizer(dir, device)?;
    let ids = chat_ids(dir, &loaded.tokenizer)?;
    let lines = read_text_lines(text, limit)?;
    let rows = text_examples(&lines, &loaded.tokenizer, ids.bos)?;
    let tokens = rows.iter().map(|r| r.len() - 1).sum();
    Ok((
        perplexity(&loaded.model, &rows, batch_size),
        lines.len(),
        tokens,
    ))
}

/// The losses and step times of [`train_steps`].
#[derive(Debug, Clone, Serialize)]
pub struct StepLog {
    /// Training loss of each step (before its update).
    pub losses: Vec<f64>,
    /// Wall seconds of each step (forward, backward and update).
    pub seconds: Vec<f64>,
}

/// `steps` optimizer steps of `method` on the batches of `task` in the trainer's order (epoch
/// 0, 1, … with `seed`) with a constant learning rate (AdamW, no weight decay) and gradients
/// clipped to global norm `clip_norm` — the core trainer's update, without its files: no
/// checkpoint, metrics or model is written (a large model's checkpoints are several GB). For
/// the comparison's runs, step timing and tests of what each method changes.
#[allow(clippy::too_many_arguments)]
pub fn train_steps<T: TrainTask<MoeLm>>(
    model: MoeLm,
    method: &Method,
    task: &T,
    steps: usize,
    lr: f64,
    clip_norm: Option<f64>,
    seed: u64,
    device: &Device,
) -> (MoeLm, TrainableReport, StepLog) {
    let optimizer = AdamWConfig::new(lr).with_weight_decay(0.0);
    let (mut model, mut adamw, report) = prepare(model, method, &optimizer, device);
    let mut log = StepLog {
        losses: Vec::with_capacity(steps),
        seconds: Vec::with_capacity(steps),
    };
    let mut batches = Vec::new();
    let mut epoch = 0;
    while log.losses.len() < steps {
        if batches.is_empty() {
            batches = task.train_batches(epoch, seed);
            batches.reverse();
            epoch += 1;
            if batches.is_empty() {
                break;
            }
        }
        let batch = batches.pop().expect("non-empty");
        let start = Instant::now();
        let loss = task.loss(&model, &batch);
        let value = loss.clone().into_scalar::<f64>();
        let mut grads = GradStore::collect(&model, &loss.backward());
        if let Some(max) = clip_norm {
            let norm = grads.global_norm();
            if norm > max {
                grads.scale(max / norm);
            }
        }
        model = adamw.step(model, grads, 1.0);
        log.losses.push(value);
        log.seconds.push(start.elapsed().as_secs_f64());
    }
    (model, report, log)
}
