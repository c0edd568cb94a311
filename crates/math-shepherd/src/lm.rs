//! The policy language model: core's Llama with either a real model's tokenizer and chat
//! template (any reference [`CausalLm::load`] accepts: a GGUF file, a Hugging Face directory or
//! id) or the character tokenizer of the toy synthetic task ([`crate::synth`]); its run
//! directory (`model.json` + `model.safetensors`), supervised fine-tuning of the toy on gold
//! solutions with the core trainer, and batched sampling of completions.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use burnlp_core::chat::{ChatMessage, ChatTemplate};
use burnlp_core::nn::llama::CausalLm;
use burnlp_core::tokenize::Tokenizer;

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::{Device, Tensor};
use burnlp_core::data::shuffled_batches;
use burnlp_core::data::write_atomic;
pub use burnlp_core::nn::llama::LmRow;
use burnlp_core::nn::llama::{
    FinishReason, GenerationConfig, Llama, LlamaConfig, NextTokenBatch, SamplingConfig,
    StopCriterion, StopStrings,
};
use burnlp_core::train::{Metrics, TrainTask, load_parameters, save_parameters};
use serde::{Deserialize, Serialize};

use crate::answer::{AnswerFormat, answers_equal, extract_answer};
use crate::error::{Error, Result};
use crate::synth::{CharTokenizer, Problem, prefix_prompt, prompt};

/// The default real model of the commands and the README (relative to the repository root).
pub const DEFAULT_MODEL: &str =
    "../shared/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf";

/// What a real model is asked in its user turn, before the question: one worked example fixes
/// the step format (one step per line) and the answer line that extraction reads.
pub const INSTRUCTION: &str = "Solve the math problem step by step. Write one step per line and end with a line \"The answer is: X\".\n\nExample:\nQuestion: Tom has 3 apples and buys 2 more. How many apples does he have?\nStep 1: Tom has 3 + 2 = 5 apples.\nThe answer is: 5\n\nQuestion: ";

/// The byte span `(start, end)` of a token in its text.
pub type ByteSpan = (usize, usize);

/// Where a solution ends when a model goes on to invent the next question of the one-shot
/// format of [`INSTRUCTION`] (the CLI's sampling stops there).
pub const SOLUTION_STOP: &str = "\nQuestion:";

/// How text becomes token ids and back: the toy's characters or a real model's tokenizer.
#[derive(Debug, Clone)]
pub enum Codec {
    /// [`CharTokenizer`] with BOS in front of every prompt.
    Char,
    /// A real model's tokenizer and chat template.
    Model(Arc<ModelText>),
}

/// The text side of a real model.
#[derive(Debug)]
pub struct ModelText {
    /// Its tokenizer.
    pub tokenizer: Tokenizer,
    /// Its chat template, when it has one.
    pub chat_template: Option<ChatTemplate>,
    /// The reference it was loaded from.
    pub reference: String,
}

impl Codec {
    /// The tokenizer and chat template of a model reference without its weights: a GGUF
    /// file's metadata, or a Hugging Face directory's `tokenizer.json` and
    /// `tokenizer_config.json`.
    pub fn text_of(reference: &str) -> Result<Self> {
        use burnlp_core::nn::gguf::GgufFile;
        use burnlp_core::nn::gguf::tokenizer::{chat_template_from_gguf, tokenizer_from_gguf};
        let path = std::path::PathBuf::from(reference);
        let model_error = |message: String| Error::Model {
            path: path.clone(),
            message,
        };
        let (tokenizer, chat_template) = if path.is_dir() {
            let tokenizer = Tokenizer::from_file(path.join("tokenizer.json"))?;
            let config = path.join("tokenizer_config.json");
            let template = match std::fs::read_to_string(&config) {
                Err(_) => None,
                Ok(text) => {
                    let value: serde_json::Value =
                        serde_json::from_str(&text).map_err(|e| model_error(e.to_string()))?;
                    let token = |key: &str| {
                        let v = value.get(key);
                        v.and_then(|v| v.as_str())
                            .or_else(|| v.and_then(|v| v.get("content")).and_then(|c| c.as_str()))
                            .unwrap_or_default()
                            .to_owned()
                    };
                    match value.get("chat_template").and_then(|v| v.as_str()) {
                        None => None,
                        Some(source) => Some(
                            ChatTemplate::new(source, token("bos_token"), token("eos_token"))
                                .map_err(|e| model_error(e.to_string()))?,
                        ),
                    }
                }
            };
            (tokenizer, template)
        } else {
            let file = GgufFile::open(&path).map_err(|e| model_error(e.to_string()))?;
            let tokenizer = tokenizer_from_gguf(&file).map_err(|e| model_error(e.to_string()))?;
            let template =
                chat_template_from_gguf(&file).map_err(|e| model_error(e.to_string()))?;
            (tokenizer, template)
        };
        Ok(Self::Model(Arc::new(ModelText {
            tokenizer,
            chat_template,
            reference: reference.to_owned(),
        })))
    }

    /// Ids of a model input: BOS and characters (toy), or the tokenizer's encoding with its
    /// special tokens (special-token text in `text` is parsed).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        Ok(self.encode_with_offsets(text)?.0)
    }

    /// [`Codec::encode`] with the byte span of each token in `text` (`(0, 0)` for added
    /// special tokens).
    pub fn encode_with_offsets(&self, text: &str) -> Result<(Vec<u32>, Vec<ByteSpan>)> {
        match self {
            Self::Char => {
                let mut ids = vec![CharTokenizer::BOS];
                let mut offsets = vec![(0, 0)];
                for (start, c) in text.char_indices() {
                    ids.push(CharTokenizer.char_id(c));
                    offsets.push((start, start + c.len_utf8()));
                }
                Ok((ids, offsets))
            }
            Self::Model(m) => {
                let encoded = m.tokenizer.encode(text, true)?;
                Ok((encoded.ids, encoded.offsets))
            }
        }
    }

    /// Ids of a text fragment without any added special token.
    pub fn encode_fragment(&self, text: &str) -> Result<Vec<u32>> {
        match self {
            Self::Char => Ok(CharTokenizer.encode(text)),
            Self::Model(m) => Ok(m.tokenizer.encode(text, false)?.ids),
        }
    }

    /// Text of generated ids, special tokens dropped.
    pub fn decode(&self, ids: &[u32]) -> String {
        match self {
            Self::Char => CharTokenizer.decode(ids),
            Self::Model(m) => m.tokenizer.decode(ids, true).unwrap_or_default(),
        }
    }

    /// The prompt that asks for a solution of `question`, followed by the solution steps
    /// given so far (one per line): the model's chat template with [`INSTRUCTION`] when it has
    /// one, else `question` and a newline (the toy's format).
    pub fn solution_prompt(&self, question: &str, steps: &[&str]) -> Result<String> {
        let Self::Model(m) = self else {
            return Ok(prefix_prompt(question, steps));
        };
        let Some(template) = &m.chat_template else {
            return Ok(prefix_prompt(question, steps));
        };
        let mut text = template
            .apply(
                &[ChatMessage::user(format!("{INSTRUCTION}{question}"))],
                true,
            )
            .map_err(|e| Error::Model {
                path: m.reference.clone().into(),
                message: e.to_string(),
            })?;
        for step in steps {
            text.push_str(step);
            text.push('\n');
        }
        Ok(text)
    }
}

/// The model file of a run directory.
pub const MODEL_FILE: &str = "model.safetensors";
/// The configuration file of a run directory.
pub const CONFIG_FILE: &str = "model.json";

/// A small Llama for the synthetic task (character vocabulary, tied embeddings).
pub fn tiny_llama_config(hidden: usize, layers: usize) -> LlamaConfig {
    LlamaConfig::new(CharTokenizer.vocab_size(), hidden, layers, 4, 4, hidden * 3)
        .with_tie_word_embeddings(true)
        .with_eos_token_ids(vec![CharTokenizer::EOS])
        .with_bos_token_id(Some(CharTokenizer::BOS))
}

/// Sampling settings of one completion request (OpenAI `/v1/completions` semantics).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleParams {
    /// Completions per prompt.
    pub n: usize,
    /// Most generated tokens per completion.
    pub max_tokens: usize,
    /// Sampling temperature; 0 is greedy.
    pub temperature: f64,
    /// Nucleus threshold in `(0, 1]`.
    pub top_p: f64,
    /// Strings that end a completion (excluded from the returned text).
    pub stop: Vec<String>,
    /// Seed of the sampling stream.
    pub seed: u64,
}

impl Default for SampleParams {
    fn default() -> Self {
        Self {
            n: 1,
            max_tokens: 96,
            temperature: 1.0,
            top_p: 1.0,
            stop: Vec::new(),
            seed: 0,
        }
    }
}

/// One generated continuation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    /// The generated text (stop string and EOS excluded).
    pub text: String,
    /// `"stop"` (EOS or a stop string) or `"length"`.
    pub finish_reason: String,
    /// Log-probability of each generated token under the model.
    pub token_logprobs: Vec<f32>,
}

/// A policy LM ready for generation.
#[derive(Debug, Clone)]
pub struct LanguageModel {
    /// The network.
    pub model: Llama,
    /// Its configuration.
    pub config: LlamaConfig,
    /// Its tokenizer (and chat template).
    pub codec: Codec,
}

/// `model.json` of a run directory.
#[derive(Serialize, Deserialize)]
struct ModelFile {
    /// `char` (the toy's characters) or `tokenizer.json` (the file next to it).
    tokenizer: String,
    llama: LlamaConfig,
}

/// The tokenizer file of a run directory holding a real model.
pub const TOKENIZER_FILE: &str = "tokenizer.json";

impl LanguageModel {
    /// A toy model with the character tokenizer.
    pub fn char_model(model: Llama, config: LlamaConfig) -> Self {
        Self {
            model,
            config,
            codec: Codec::Char,
        }
    }

    /// Tokens of a toy prompt: BOS and the characters.
    pub fn encode_prompt(text: &str) -> Vec<u32> {
        let mut ids = vec![CharTokenizer::BOS];
        ids.extend(CharTokenizer.encode(text));
        ids
    }

    /// Writes `model.json` and `model.safetensors` (and `tokenizer.json` for a real model)
    /// into `dir`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        save_model(&self.model, &self.config, dir)?;
        if let Codec::Model(m) = &self.codec {
            m.tokenizer.save(dir.join(TOKENIZER_FILE), false)?;
            let file = ModelFile {
                tokenizer: TOKENIZER_FILE.into(),
                llama: self.config.clone(),
            };
            let json = serde_json::to_vec_pretty(&file).expect("config serialises");
            write_atomic(dir.join(CONFIG_FILE), &json)?;
        }
        Ok(())
    }

    /// Loads any model reference onto `device`: a run directory written by
    /// [`LanguageModel::save`] (a `local:` prefix is accepted), or whatever
    /// [`CausalLm::load`] reads (a GGUF file, a Hugging Face directory or id).
    pub fn load(reference: &str, device: &Device) -> Result<Self> {
        let reference = reference.strip_prefix("local:").unwrap_or(reference);
        let dir = Path::new(reference);
        if dir.join(CONFIG_FILE).is_file() {
            let (model, config, tokenizer) = load_run_dir(dir, device)?;
            let codec = match tokenizer {
                None => Codec::Char,
                Some(tokenizer) => Codec::Model(Arc::new(ModelText {
                    tokenizer,
                    chat_template: None,
                    reference: reference.to_owned(),
                })),
            };
            return Ok(Self {
                model,
                config,
                codec,
            });
        }
        let lm = CausalLm::load(reference, device)?;
        Ok(Self {
            model: lm.model,
            config: lm.config,
            codec: Codec::Model(Arc::new(ModelText {
                tokenizer: lm.tokenizer,
                chat_template: lm.chat_template,
                reference: reference.to_owned(),
            })),
        })
    }

    /// The prompt asking for a solution of `question` after `steps` (see
    /// [`Codec::solution_prompt`]).
    pub fn solution_prompt(&self, question: &str, steps: &[&str]) -> Result<String> {
        self.codec.solution_prompt(question, steps)
    }

    /// Samples `params.n` completions of every prompt (rows are batched `batch_rows` at a
    /// time); the outer vector follows `prompts`.
    pub fn complete(
        &self,
        prompts: &[String],
        params: &SampleParams,
        batch_rows: usize,
    ) -> Result<Vec<Vec<Completion>>> {
        self.complete_until(prompts, params, batch_rows, None)
    }

    /// [`LanguageModel::complete`] that gives up at `deadline` with [`Error::Timeout`].
    ///
    /// The clock is read before every batch of rows and after every decode step (one token
    /// of every unfinished row), so generation stops within one forward pass of the deadline;
    /// a batch's first forward pass over its prompts is not interrupted (bound it by limiting
    /// the prompt length).
    pub fn complete_until(
        &self,
        prompts: &[String],
        params: &SampleParams,
        batch_rows: usize,
        deadline: Option<Instant>,
    ) -> Result<Vec<Vec<Completion>>> {
        let start = Instant::now();
        let past_deadline = || deadline.is_some_and(|d| Instant::now() >= d);
        let timeout = || Error::Timeout {
            elapsed: start.elapsed(),
        };
        let mut rows: Vec<Vec<u32>> = Vec::with_capacity(prompts.len() * params.n);
        for p in prompts {
            let ids = self.codec.encode(p)?;
            rows.extend(std::iter::repeat_n(ids, params.n));
        }
        let mut eos = self.config.eos_token_ids.clone();
        if matches!(self.codec, Codec::Char) && !eos.contains(&CharTokenizer::EOS) {
            eos.push(CharTokenizer::EOS);
        }
        let sampling = if params.temperature <= 0.0 {
            SamplingConfig::new()
        } else {
            SamplingConfig::new()
                .with_do_sample(true)
                .with_temperature(params.temperature)
                .with_top_p(params.top_p)
        };
        let mut flat = Vec::with_capacity(rows.len());
        for (chunk_index, chunk) in rows.chunks(batch_rows.max(1)).enumerate() {
            if past_deadline() {
                return Err(timeout());
            }
            let config = GenerationConfig::new(params.max_tokens)
                .with_sampling(sampling.clone())
                .with_seed(params.seed.wrapping_add(chunk_index as u64 * 7919))
                .with_eos_token_ids(eos.clone());
            let codec = &self.codec;
            let mut stop_strings =
                StopStrings::new(params.stop.clone(), |ids: &[u32]| codec.decode(ids));
            // Past the deadline every unfinished row stops at its next token, which ends
            // the decode loop after the current step.
            let mut timed_out = false;
            let mut stop = |ids: &[u32]| {
                timed_out = timed_out || past_deadline();
                timed_out || stop_strings.should_stop(ids)
            };
            let generations = self
                .model
                .generate_with_stop(chunk, &config, &mut stop)
                .map_err(|e| Error::Completer(e.to_string()))?;
            if timed_out {
                return Err(timeout());
            }
            for g in generations {
                let kept: Vec<u32> = g
                    .tokens
                    .iter()
                    .copied()
                    .filter(|t| !eos.contains(t))
                    .collect();
                let mut text = self.codec.decode(&kept);
                let mut finish = match g.finish {
                    FinishReason::Length => "length",
                    FinishReason::Eos | FinishReason::Stop => "stop",
                };
                if let Some(cut) = params
                    .stop
                    .iter()
                    .filter_map(|s| text.find(s.as_str()))
                    .min()
                {
                    text.truncate(cut);
                    finish = "stop";
                }
                // The kept text's tokens are the shortest prefix of the generated ones that
                // decodes to at least the kept text (one character per token for the toy).
                let mut token_logprobs = g.log_probs;
                let kept_tokens = match &self.codec {
                    Codec::Char => text.chars().count(),
                    Codec::Model(_)
                        if finish == "stop" && text.len() < self.codec.decode(&kept).len() =>
                    {
                        (1..=kept.len())
                            .find(|&k| self.codec.decode(&kept[..k]).len() >= text.len())
                            .unwrap_or(kept.len())
                    }
                    Codec::Model(_) => kept.len(),
                };
                token_logprobs.truncate(kept_tokens);
                flat.push(Completion {
                    text,
                    finish_reason: finish.into(),
                    token_logprobs,
                });
            }
        }
        let n = params.n.max(1);
        let mut out = Vec::with_capacity(prompts.len());
        let mut iter = flat.into_iter();
        for _ in prompts {
            out.push(iter.by_ref().take(n).collect());
        }
        Ok(out)
    }
}

/// The context length a model reference declares: `max_position_embeddings` of a Hugging Face
/// `config.json`, `<architecture>.context_length` of a GGUF file; `None` for a toy run
/// directory (its rotary positions have no fixed end) or when the files say nothing.
pub fn context_length(reference: &str) -> Option<usize> {
    use burnlp_core::hub::{ModelLocation, resolve};
    let reference = reference.strip_prefix("local:").unwrap_or(reference);
    if Path::new(reference).join(CONFIG_FILE).is_file() {
        return None;
    }
    match resolve(reference).ok()? {
        ModelLocation::HfDir(dir) => {
            let text = std::fs::read_to_string(dir.join("config.json")).ok()?;
            let config: serde_json::Value = serde_json::from_str(&text).ok()?;
            let length = config.get("max_position_embeddings")?.as_u64()?;
            usize::try_from(length).ok()
        }
        ModelLocation::Gguf(path) => {
            let file = burnlp_core::nn::gguf::GgufFile::open(path).ok()?;
            let arch = file.get("general.architecture")?.as_str()?;
            let length = file.get(&format!("{arch}.context_length"))?.as_u64()?;
            usize::try_from(length).ok()
        }
        ModelLocation::E5s1(_) => None,
    }
}

/// Writes a Llama and its configuration into a run directory.
pub fn save_model(model: &Llama, config: &LlamaConfig, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_owned(),
        source,
    })?;
    let file = ModelFile {
        tokenizer: "char".into(),
        llama: config.clone(),
    };
    let json = serde_json::to_vec_pretty(&file).expect("config serialises");
    write_atomic(dir.join(CONFIG_FILE), &json)?;
    save_parameters(model, &dir.join(MODEL_FILE))?;
    Ok(())
}

/// Loads a Llama written by [`save_model`] with the toy's character tokenizer.
pub fn load_model(dir: &Path, device: &Device) -> Result<(Llama, LlamaConfig)> {
    let (model, config, tokenizer) = load_run_dir(dir, device)?;
    if tokenizer.is_some() {
        return Err(Error::Model {
            path: dir.to_owned(),
            message: "a real model; this command needs a toy (character-level) run directory"
                .into(),
        });
    }
    Ok((model, config))
}

/// Loads a run directory: the Llama, its configuration and its tokenizer (`None`: the toy's
/// characters).
fn load_run_dir(dir: &Path, device: &Device) -> Result<(Llama, LlamaConfig, Option<Tokenizer>)> {
    let path = dir.join(CONFIG_FILE);
    let bytes = std::fs::read(&path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    let file: ModelFile = serde_json::from_slice(&bytes).map_err(|e| Error::Model {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let tokenizer = match file.tokenizer.as_str() {
        "char" => None,
        TOKENIZER_FILE => Some(Tokenizer::from_file(dir.join(TOKENIZER_FILE))?),
        other => {
            return Err(Error::Model {
                path,
                message: format!("unknown tokenizer `{other}`"),
            });
        }
    };
    let model = load_parameters(file.llama.init(device), &dir.join(MODEL_FILE))?;
    Ok((model, file.llama, tokenizer))
}

/// The training row of a prompt and its target continuation (character model): BOS, prompt,
/// target and EOS ids; the prompt only conditions.
pub fn lm_row(prompt_text: &str, target: &str) -> LmRow {
    let mut ids = LanguageModel::encode_prompt(prompt_text);
    let prompt_len = ids.len();
    ids.extend(CharTokenizer.encode(target));
    ids.push(CharTokenizer::EOS);
    LmRow { ids, prompt_len }
}

/// Greedy accuracy of `lm` on `problems` (GSM8K-style number comparison).
pub fn greedy_accuracy(lm: &LanguageModel, problems: &[Problem], max_tokens: usize) -> Result<f64> {
    let prompts: Vec<String> = problems.iter().map(|p| prompt(&p.question)).collect();
    let params = SampleParams {
        temperature: 0.0,
        max_tokens,
        ..SampleParams::default()
    };
    let outputs = lm.complete(&prompts, &params, 128)?;
    let correct = problems
        .iter()
        .zip(&outputs)
        .filter(|(p, c)| is_correct(&c[0].text, &p.answer))
        .count();
    Ok(correct as f64 / problems.len().max(1) as f64)
}

/// Whether a solution's extracted final answer equals `gold` (no answer counts as wrong).
pub fn is_correct(solution: &str, gold: &str) -> bool {
    final_answer(solution, AnswerFormat::Gsm8k)
        .is_some_and(|a| answers_equal(&a, gold, AnswerFormat::Gsm8k))
}

/// The final answer of a generated solution, `None` when it states none: GSM8K-style
/// solutions must say `The answer is: X` (or `#### X`), since a bare last number is not an
/// answer; MATH-style ones may also box it.
pub fn final_answer(solution: &str, format: AnswerFormat) -> Option<String> {
    match format {
        AnswerFormat::Gsm8k if !solution.contains("answer is") && !solution.contains("####") => {
            None
        }
        _ => extract_answer(solution, format),
    }
}

/// Supervised fine-tuning of the policy on gold solutions.
pub struct SftTask {
    /// Training rows.
    pub rows: Vec<LmRow>,
    /// Sequences per batch.
    pub batch_size: usize,
    /// Problems for the greedy-accuracy evaluation.
    pub dev: Vec<Problem>,
    /// The model configuration (to wrap the evaluated network).
    pub config: LlamaConfig,
}

impl TrainTask<Llama> for SftTask {
    type Batch = Vec<usize>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Vec<usize>> {
        shuffled_batches(self.rows.len(), self.batch_size, seed, epoch as u64)
    }

    fn loss(&self, model: &Llama, batch: &Vec<usize>) -> Tensor<1> {
        let rows: Vec<&LmRow> = batch.iter().map(|&i| &self.rows[i]).collect();
        NextTokenBatch::prompted(&rows, &model.device()).mean_nll(model)
    }

    fn evaluate(&self, model: &Llama) -> Metrics {
        let lm = LanguageModel::char_model(model.clone(), self.config.clone());
        let accuracy = greedy_accuracy(&lm, &self.dev, 64).unwrap_or(0.0);
        Metrics::from([("accuracy".to_owned(), accuracy)])
    }

    fn batch_len(&self, batch: &Vec<usize>) -> usize {
        batch.len()
    }
}

/// Settings of [`train_policy`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicySettings {
    /// Hidden size of the Llama.
    pub hidden: usize,
    /// Decoder layers.
    pub layers: usize,
    /// Synthetic training problems.
    pub train_problems: usize,
    /// Synthetic dev problems (greedy accuracy at the end).
    pub dev_problems: usize,
    /// Optimizer steps.
    pub steps: usize,
    /// Sequences per batch.
    pub batch_size: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Seed of data, initialisation and batch order.
    pub seed: u64,
}

impl Default for PolicySettings {
    fn default() -> Self {
        Self {
            hidden: 64,
            layers: 2,
            train_problems: 4000,
            dev_problems: 100,
            steps: 300,
            batch_size: 32,
            lr: 1e-2,
            seed: 1,
        }
    }
}

/// Trains a policy on gold solutions of synthetic problems (seed `settings.seed`; dev problems
/// from seed `settings.seed + 1_000_000`) and writes it to `run_dir`; returns the model and its
/// greedy dev accuracy.
pub fn train_policy(
    settings: &PolicySettings,
    synth: &crate::synth::SynthConfig,
    run_dir: &Path,
    device: &Device,
    progress: bool,
    resume: bool,
) -> Result<(LanguageModel, f64)> {
    use burnlp_core::train::{AdamWConfig, LrSchedule, Trainer, TrainerConfig};
    let train = crate::synth::generate_problems(settings.train_problems, settings.seed, synth);
    let dev =
        crate::synth::generate_problems(settings.dev_problems, settings.seed + 1_000_000, synth);
    let config = tiny_llama_config(settings.hidden, settings.layers);
    device.seed(settings.seed);
    let model = config.init(device);
    let task = SftTask {
        rows: train
            .iter()
            .map(|p| lm_row(&prompt(&p.question), &p.gold_solution()))
            .collect(),
        batch_size: settings.batch_size,
        dev,
        config: config.clone(),
    };
    let epochs = (settings.steps * settings.batch_size).div_ceil(task.rows.len().max(1));
    let trainer_config = TrainerConfig {
        epochs: epochs.max(1),
        max_steps: Some(settings.steps),
        schedule: LrSchedule::Cosine {
            warmup: settings.steps / 10,
            total: settings.steps,
        },
        metric: "accuracy".into(),
        higher_is_better: true,
        eval_every: Some(settings.steps),
        // A killed run resumes from at most a tenth of the steps back.
        checkpoint_every: Some((settings.steps / 10).max(1)),
        keep_checkpoints: 1,
        seed: settings.seed,
        log_every: 20,
        progress,
        ..TrainerConfig::default()
    };
    let optimizer = AdamWConfig::new(settings.lr).with_weight_decay(0.01);
    let trainer = Trainer::new(trainer_config, run_dir);
    trainer.write_config(
        &optimizer,
        &serde_json::json!({"policy": settings, "synth": synth}),
        resume,
    )?;
    let outcome = trainer.fit(model, optimizer.init(), &task, resume)?;
    let accuracy = outcome
        .last_eval
        .as_ref()
        .and_then(|m| m.get("accuracy").copied())
        .unwrap_or(0.0);
    let lm = LanguageModel::char_model(outcome.model.valid(), config);
    lm.save(run_dir)?;
    Ok((lm, accuracy))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_answers_must_be_stated() {
        assert_eq!(final_answer("7+5=12", AnswerFormat::Gsm8k), None);
        let stated = "7+5=12\nThe answer is: 12";
        assert_eq!(
            final_answer(stated, AnswerFormat::Gsm8k).as_deref(),
            Some("12")
        );
        assert!(is_correct(stated, "12.0") && !is_correct(stated, "13"));
        let boxed = r"so $x = \boxed{\frac{1}{2}}$";
        assert_eq!(
            final_answer(boxed, AnswerFormat::Math).as_deref(),
            Some(r"\frac{1}{2}")
        );
    }

    #[test]
    fn a_row_predicts_only_the_target_and_eos() {
        let row = lm_row("ab", "c");
        assert_eq!(row.ids.len(), 5);
        // BOS and the prompt "ab" condition; "c" and EOS are targets.
        assert_eq!(row.prompt_len, 3);
        assert_eq!(row.target_len(), 2);
        assert_eq!(row.ids[4], CharTokenizer::EOS);
    }
}
