//! Completers: whatever continues a prompt N times. [`LocalCompleter`] runs the in-process
//! burn LM; [`HttpCompleter`] calls any OpenAI-compatible `/v1/completions` server (vLLM,
//! SGLang, llama.cpp server, or `math-shepherd serve`) with bounded concurrency, retries with
//! exponential backoff and timeouts.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use burnlp_core::burn::tensor::Device;
use burnlp_core::openai::{ClientSettings, OpenAiClient};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::lm::{Codec, Completion, LanguageModel, SampleParams};
use crate::synth::prefix_prompt;

/// Produces `params.n` completions of each prompt; the outer vector follows `prompts`.
pub trait Completer: Send + Sync {
    /// Completes every prompt.
    fn complete(&self, prompts: &[String], params: &SampleParams) -> Result<Vec<Vec<Completion>>>;

    /// The prompt asking for a solution of `question` continued after `steps` (one per
    /// line); by default the toy's `question\n` format.
    fn solution_prompt(&self, question: &str, steps: &[&str]) -> Result<String> {
        Ok(prefix_prompt(question, steps))
    }
}

/// How an HTTP completer turns a question and solution steps into a prompt.
#[derive(Debug, Clone, Default)]
pub enum PromptFormat {
    /// `question\n` then the steps (the toy's format).
    #[default]
    Plain,
    /// A model's chat template with [`crate::lm::INSTRUCTION`] (see
    /// [`Codec::solution_prompt`]).
    Chat(Codec),
    /// A template text where `{question}` is replaced by the question; the steps follow, one
    /// per line.
    Template(String),
}

impl PromptFormat {
    /// A `--prompt-template` file: it must contain `{question}`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        if !text.contains("{question}") {
            return Err(Error::Model {
                path: path.to_owned(),
                message: "a prompt template must contain `{question}`".into(),
            });
        }
        Ok(Self::Template(text))
    }

    /// The chat template of a model reference, without loading its weights (see
    /// [`Codec::text_of`]); an error when the model has none.
    pub fn chat_of(reference: &str) -> Result<Self> {
        let codec = Codec::text_of(reference)?;
        match &codec {
            Codec::Model(m) if m.chat_template.is_some() => Ok(Self::Chat(codec)),
            _ => Err(Error::Model {
                path: PathBuf::from(reference),
                message: "the model has no chat template".into(),
            }),
        }
    }

    /// The prompt of `question` continued after `steps`.
    pub fn render(&self, question: &str, steps: &[&str]) -> Result<String> {
        match self {
            Self::Plain => Ok(prefix_prompt(question, steps)),
            Self::Chat(codec) => codec.solution_prompt(question, steps),
            Self::Template(template) => {
                let mut text = template.replace("{question}", question);
                for step in steps {
                    text.push_str(step);
                    text.push('\n');
                }
                Ok(text)
            }
        }
    }
}

/// The in-process burn LM.
pub struct LocalCompleter {
    lm: LanguageModel,
    batch_rows: usize,
}

impl LocalCompleter {
    /// Wraps a loaded model; generation runs `batch_rows` sequences at a time.
    pub fn new(lm: LanguageModel, batch_rows: usize) -> Self {
        Self { lm, batch_rows }
    }

    /// Loads any model reference (see [`LanguageModel::load`]).
    pub fn load(reference: &str, device: &Device, batch_rows: usize) -> Result<Self> {
        Ok(Self::new(
            LanguageModel::load(reference, device)?,
            batch_rows,
        ))
    }
}

impl Completer for LocalCompleter {
    fn complete(&self, prompts: &[String], params: &SampleParams) -> Result<Vec<Vec<Completion>>> {
        self.lm.complete(prompts, params, self.batch_rows)
    }

    fn solution_prompt(&self, question: &str, steps: &[&str]) -> Result<String> {
        self.lm.solution_prompt(question, steps)
    }
}

/// Settings of [`HttpCompleter`].
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Model name sent in requests.
    pub model: String,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Prompts per request.
    pub prompts_per_request: usize,
    /// Retries after a failed attempt (connection error, timeout, 429 or 5xx).
    pub retries: usize,
    /// Wait before the first retry; doubled at each further one.
    pub backoff: Duration,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Sent as `Authorization: Bearer KEY` when present.
    pub api_key: Option<String>,
    /// How questions become prompts.
    pub prompt_format: PromptFormat,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            model: "policy".into(),
            concurrency: 8,
            prompts_per_request: 4,
            retries: 3,
            backoff: Duration::from_millis(200),
            timeout: Duration::from_secs(120),
            api_key: None,
            prompt_format: PromptFormat::Plain,
        }
    }
}

/// A client of an OpenAI-compatible `/v1/completions` endpoint (transport: core's
/// [`OpenAiClient`]).
pub struct HttpCompleter {
    client: OpenAiClient,
    url: String,
    settings: HttpSettings,
}

/// Request body of `/v1/completions` (the fields this crate uses).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompletionRequest {
    /// Model name.
    #[serde(default)]
    pub model: String,
    /// One prompt or a list of prompts.
    pub prompt: PromptInput,
    /// Completions per prompt.
    #[serde(default = "one")]
    pub n: usize,
    /// Most generated tokens.
    #[serde(default = "sixteen")]
    pub max_tokens: usize,
    /// Sampling temperature (0: greedy).
    #[serde(default = "one_f")]
    pub temperature: f64,
    /// Nucleus threshold.
    #[serde(default = "one_f")]
    pub top_p: f64,
    /// Stop string(s).
    #[serde(default)]
    pub stop: Option<StopInput>,
    /// Return per-token log-probabilities when present.
    #[serde(default)]
    pub logprobs: Option<usize>,
    /// Seed of the sampling stream.
    #[serde(default)]
    pub seed: Option<u64>,
}

fn one() -> usize {
    1
}
fn sixteen() -> usize {
    16
}
fn one_f() -> f64 {
    1.0
}

/// `prompt`: a string or a list of strings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PromptInput {
    /// One prompt.
    One(String),
    /// Several prompts.
    Many(Vec<String>),
}

impl PromptInput {
    /// The prompts as a list.
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(p) => vec![p],
            Self::Many(p) => p,
        }
    }
}

/// `stop`: a string or a list of strings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StopInput {
    /// One stop string.
    One(String),
    /// Several stop strings.
    Many(Vec<String>),
}

impl StopInput {
    /// The stop strings as a list.
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(s) => s,
        }
    }
}

/// Per-token log-probabilities of a choice.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChoiceLogprobs {
    /// The generated tokens as text.
    pub tokens: Vec<String>,
    /// Their log-probabilities.
    pub token_logprobs: Vec<f32>,
}

/// One choice of a completion response.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Choice {
    /// Generated text.
    pub text: String,
    /// `prompt_index * n + sample_index`.
    pub index: usize,
    /// Log-probabilities when requested.
    #[serde(default)]
    pub logprobs: Option<ChoiceLogprobs>,
    /// `"stop"` or `"length"`.
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// Response body of `/v1/completions` (the fields this crate reads).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompletionResponse {
    /// The choices, `n` per prompt.
    pub choices: Vec<Choice>,
}

impl HttpCompleter {
    /// A client of the server at `url` (e.g. `http://127.0.0.1:8000`; a trailing `/v1` or
    /// `/v1/completions` is accepted).
    pub fn new(url: &str, settings: HttpSettings) -> Self {
        let client = OpenAiClient::new(
            url,
            ClientSettings {
                retries: settings.retries,
                backoff: settings.backoff,
                timeout: settings.timeout,
                api_key: settings.api_key.clone(),
            },
        );
        Self {
            url: format!("{}/v1/completions", client.base_url()),
            client,
            settings,
        }
    }

    /// The endpoint called.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn request(&self, agent: &ureq::Agent, body: &CompletionRequest) -> Result<CompletionResponse> {
        self.client
            .post(agent, "/v1/completions", body)
            .map_err(|e| Error::Completer(e.to_string()))
    }
}

impl Completer for HttpCompleter {
    fn solution_prompt(&self, question: &str, steps: &[&str]) -> Result<String> {
        self.settings.prompt_format.render(question, steps)
    }

    fn complete(&self, prompts: &[String], params: &SampleParams) -> Result<Vec<Vec<Completion>>> {
        let chunks: Vec<&[String]> = prompts
            .chunks(self.settings.prompts_per_request.max(1))
            .collect();
        let results: Mutex<Vec<Option<Batch>>> =
            Mutex::new((0..chunks.len()).map(|_| None).collect());
        let next = AtomicUsize::new(0);
        let workers = self.settings.concurrency.max(1).min(chunks.len());
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    let agent = self.client.agent();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(chunk) = chunks.get(i) else { break };
                        let body = CompletionRequest {
                            model: self.settings.model.clone(),
                            prompt: PromptInput::Many(chunk.to_vec()),
                            n: params.n,
                            max_tokens: params.max_tokens,
                            temperature: params.temperature,
                            top_p: params.top_p,
                            stop: Some(StopInput::Many(params.stop.clone())),
                            logprobs: Some(1),
                            seed: Some(params.seed.wrapping_add(i as u64 * 104_729)),
                        };
                        let result = self
                            .request(&agent, &body)
                            .and_then(|r| group_choices(r, chunk.len(), params.n));
                        let failed = result.is_err();
                        results.lock().expect("results lock")[i] = Some(result);
                        if failed {
                            next.store(chunks.len(), Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        let mut out = Vec::with_capacity(prompts.len());
        for result in results
            .into_inner()
            .expect("results lock")
            .into_iter()
            .flatten()
        {
            out.extend(result?);
        }
        if out.len() != prompts.len() {
            return Err(Error::Completer(format!(
                "{}: got completions for {} of {} prompts",
                self.url,
                out.len(),
                prompts.len()
            )));
        }
        Ok(out)
    }
}

/// The completions of one request, or why it failed.
type Batch = Result<Vec<Vec<Completion>>>;

/// Orders the choices of a response by prompt (`index = prompt * n + sample`).
fn group_choices(
    response: CompletionResponse,
    prompts: usize,
    n: usize,
) -> Result<Vec<Vec<Completion>>> {
    let mut grouped: Vec<Vec<Completion>> = vec![Vec::new(); prompts];
    let mut choices = response.choices;
    choices.sort_by_key(|c| c.index);
    for choice in choices {
        let slot = grouped.get_mut(choice.index / n.max(1)).ok_or_else(|| {
            Error::Completer(format!("choice index {} out of range", choice.index))
        })?;
        slot.push(Completion {
            text: choice.text,
            finish_reason: choice.finish_reason.unwrap_or_else(|| "stop".into()),
            token_logprobs: choice
                .logprobs
                .map(|l| l.token_logprobs)
                .unwrap_or_default(),
        });
    }
    if let Some(short) = grouped.iter().position(|g| g.len() != n) {
        return Err(Error::Completer(format!(
            "prompt {short}: expected {n} choices, got {}",
            grouped[short].len()
        )));
    }
    Ok(grouped)
}

/// A completer from a spec: an `http(s)://` URL of an OpenAI-compatible server, or any model
/// reference run in-process (`local:` prefix optional): a run directory, a GGUF file, a Hugging
/// Face directory or id.
pub fn completer_from_spec(
    spec: &str,
    device: &Device,
    http: HttpSettings,
    batch_rows: usize,
) -> Result<Box<dyn Completer>> {
    if spec.starts_with("http://") || spec.starts_with("https://") {
        return Ok(Box::new(HttpCompleter::new(spec, http)));
    }
    Ok(Box::new(LocalCompleter::load(spec, device, batch_rows)?))
}
