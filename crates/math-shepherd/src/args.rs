//! The `math-shepherd` command line: subcommands and their arguments.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use burnlp_core::cli::{DeviceArgs, non_negative_f64, positive, positive_f64};
use burnlp_core::device::parse_device;
use clap::{Args, Parser, Subcommand};
use math_shepherd::AnswerFormat;
use math_shepherd::complete::{Completer, HttpSettings, PromptFormat, completer_from_spec};
use math_shepherd::lm::DEFAULT_MODEL;
use math_shepherd::prm::{LabelKind, LoraSettings};

/// Math-Shepherd: automatic process annotation, process reward models, best-of-N verification
/// and step-level PPO.
#[derive(Parser)]
#[command(version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Check answer extraction on a benchmark file: gold solution's answer vs gold answer.
    Answers(AnswersArgs),
    /// Write synthetic problems (with gold solutions) as JSON lines.
    Generate(GenerateArgs),
    /// Train the tiny policy LM on gold solutions of synthetic problems.
    TrainPolicy(TrainPolicyArgs),
    /// Sample solutions of problems (this crate's, GSM8K or MATH files) with a generator LM.
    Sample(SampleArgs),
    /// Serve a model (GGUF, Hugging Face, toy) behind an OpenAI-compatible /v1/completions endpoint.
    Serve(ServeArgs),
    /// Annotate solution steps automatically (hard and soft estimation); resumable.
    Annotate(AnnotateArgs),
    /// Convert PRM800K step ratings to the Math-Shepherd format.
    ConvertPrm800k(ConvertArgs),
    /// Train the paper's PRM (the LM scored at step tags by its +/- logits), LoRA or full, on math-shepherd.jsonl.
    TrainPrm(TrainRewardArgs),
    /// Train an outcome reward model on annotated solutions (score at the last step tag).
    TrainOrm(TrainRewardArgs),
    /// Best-of-N verification curves: PRM, ORM, self-consistency, reward-weighted voting.
    Verify(VerifyArgs),
    /// Step-by-step PPO of a policy with PRM rewards at step ends (or ORM-PPO with an ORM).
    Ppo(PpoArgs),
    /// Train, annotate, train reward models and verify on the embedded synthetic task (small).
    Demo(burnlp_core::cli::DemoArgs),
    /// The results suite on the synthetic task; writes a markdown report.
    Experiment(ExperimentArgs),
}

#[derive(Args)]
pub(crate) struct PpoArgs {
    /// Policy run directory to start from (also the frozen reference).
    #[arg(long)]
    pub(crate) policy: PathBuf,
    /// Reward-model run directory (`train-prm`: step rewards; `train-orm`: final reward).
    #[arg(long)]
    pub(crate) reward: PathBuf,
    /// Output run directory of the tuned policy.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Continue the run in `--out` from its newest checkpoint (one after every iteration).
    #[arg(long)]
    pub(crate) resume: bool,
    /// Rollout-and-update iterations.
    #[arg(long, default_value_t = 20, value_parser = burnlp_core::cli::positive)]
    pub(crate) iterations: usize,
    /// Problems (one sampled solution each) per iteration.
    #[arg(long, default_value_t = 32, value_parser = burnlp_core::cli::positive)]
    pub(crate) batch_size: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 1e-4, value_parser = burnlp_core::cli::positive_f64)]
    pub(crate) lr: f64,
    /// KL penalty coefficient.
    #[arg(long, default_value_t = 0.04, value_parser = burnlp_core::cli::non_negative_f64)]
    pub(crate) kl_coef: f64,
    /// Synthetic test problems for the greedy accuracy before and after.
    #[arg(long, default_value_t = 200, value_parser = burnlp_core::cli::positive)]
    pub(crate) test_problems: usize,
    #[command(flatten)]
    pub(crate) device: DeviceArgs,
}

#[derive(Args)]
pub(crate) struct ExperimentArgs {
    /// The markdown report to write (e.g. docs/results/math-shepherd.md).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Working directory (models, annotations, curves).
    #[arg(long, default_value = "target/burnlp/experiment/math-shepherd")]
    pub(crate) work_dir: PathBuf,
    /// Use the demo's sizes (a quick check of the suite).
    #[arg(long)]
    pub(crate) quick: bool,
    #[command(flatten)]
    pub(crate) device: DeviceArgs,
}

#[derive(Args)]
pub(crate) struct TrainRewardArgs {
    /// Annotated solutions: the released `math-shepherd.jsonl` format (`input`/`label`/`task`)
    /// or the output of `annotate` / `convert-prm800k`.
    #[arg(long)]
    pub(crate) data: PathBuf,
    /// The backbone LM: a GGUF file, a Hugging Face directory or id, or a toy run directory.
    #[arg(long, default_value = DEFAULT_MODEL)]
    pub(crate) backbone: String,
    /// LoRA rank on the feed-forward projections; 0 trains every parameter (full fine-tuning).
    #[arg(long, default_value_t = 8)]
    pub(crate) lora_rank: usize,
    /// LoRA scale numerator (the update is scaled by alpha / rank).
    #[arg(long, default_value_t = 16.0, value_parser = positive_f64)]
    pub(crate) lora_alpha: f64,
    /// Run directory of the reward model.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Continue the run in `--out` from its newest checkpoint (same settings required).
    #[arg(long)]
    pub(crate) resume: bool,
    /// Step labels (PRM): hard (HE) or soft (SE) estimation.
    #[arg(long, value_enum, default_value = "hard")]
    pub(crate) labels: LabelKind,
    /// Optimizer steps.
    #[arg(long, default_value_t = 150, value_parser = positive)]
    pub(crate) steps: usize,
    /// Solutions per batch.
    #[arg(long, default_value_t = 8, value_parser = positive)]
    pub(crate) batch_size: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 1e-3, value_parser = positive_f64)]
    pub(crate) lr: f64,
    /// Seed of the split and the batch order.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    #[command(flatten)]
    pub(crate) device: DeviceArgs,
}

#[derive(Args)]
pub(crate) struct VerifyArgs {
    /// The generator of the candidates: a GGUF file, a Hugging Face directory or id, or a toy
    /// run directory.
    #[arg(long, visible_alias = "generator", default_value = DEFAULT_MODEL)]
    pub(crate) policy: String,
    /// Problems: this crate's JSON lines (id, question, answer), a GSM8K file or a MATH(-500)
    /// file; default: synthetic test problems.
    #[arg(long)]
    pub(crate) problems: Option<PathBuf>,
    /// Use only the first K problems.
    #[arg(long)]
    pub(crate) limit: Option<usize>,
    /// Answer conventions (gsm8k: numbers; math: LaTeX equivalence).
    #[arg(long, value_enum, default_value = "gsm8k")]
    pub(crate) format: AnswerFormat,
    /// Most generated tokens per candidate.
    #[arg(long, default_value_t = 256, value_parser = positive)]
    pub(crate) max_tokens: usize,
    /// Number of synthetic test problems when --problems is absent.
    #[arg(long, default_value_t = 100)]
    pub(crate) synthetic: usize,
    /// PRM run directory.
    #[arg(long)]
    pub(crate) prm: Option<PathBuf>,
    /// ORM run directory.
    #[arg(long)]
    pub(crate) orm: Option<PathBuf>,
    /// Candidate counts, comma-separated.
    #[arg(short = 'N', long, value_delimiter = ',', default_value = "1,4,16,64")]
    pub(crate) n: Vec<usize>,
    /// Sampling temperature of the candidates.
    #[arg(long, default_value_t = 1.0, value_parser = non_negative_f64)]
    pub(crate) temperature: f64,
    /// Sampling seed.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Output directory (verify.md, verify.svg, verify.json).
    #[arg(long)]
    pub(crate) out: PathBuf,
    #[command(flatten)]
    pub(crate) device: DeviceArgs,
}

#[derive(Args, Clone)]
pub(crate) struct CompleterArgs {
    /// The model that writes solutions (`sample`: the generator) or continues them
    /// (`annotate`: the completer): the URL of an OpenAI-compatible server, or a model run
    /// in-process — a GGUF file, a Hugging Face directory or id, or a toy run directory
    /// (`local:` prefix optional).
    #[arg(long, visible_alias = "generator", default_value = DEFAULT_MODEL)]
    pub(crate) completer: String,
    /// Sequences generated at once by an in-process model.
    #[arg(long, default_value_t = 16, value_parser = positive)]
    pub(crate) batch_rows: usize,
    /// API key sent to an HTTP server (`Authorization: Bearer`); default: $OPENAI_API_KEY.
    #[arg(long)]
    pub(crate) api_key: Option<String>,
    /// HTTP prompts: a text file where `{question}` is replaced by the question (solution
    /// steps follow, one per line).
    #[arg(long, conflicts_with = "chat_template")]
    pub(crate) prompt_template: Option<PathBuf>,
    /// HTTP prompts: the chat template of this model (a GGUF file or a Hugging Face directory;
    /// weights are not loaded). Without this and --prompt-template: `question` + newline.
    #[arg(long)]
    pub(crate) chat_template: Option<String>,
    /// Model name sent to an HTTP server.
    #[arg(long, default_value = "policy")]
    pub(crate) model_name: String,
    /// HTTP requests in flight at once.
    #[arg(long, default_value_t = 8, value_parser = positive)]
    pub(crate) concurrency: usize,
    /// Prompts per HTTP request.
    #[arg(long, default_value_t = 4, value_parser = positive)]
    pub(crate) prompts_per_request: usize,
    /// HTTP retries after a failed attempt (exponential backoff from 200 ms).
    #[arg(long, default_value_t = 3)]
    pub(crate) retries: usize,
    /// HTTP request timeout in seconds.
    #[arg(long, default_value_t = 120.0, value_parser = positive_f64)]
    pub(crate) timeout_s: f64,
    #[command(flatten)]
    pub(crate) device: DeviceArgs,
}

impl TrainRewardArgs {
    /// The LoRA settings (`None`: full fine-tuning).
    pub(crate) fn lora(&self) -> Option<LoraSettings> {
        (self.lora_rank > 0).then_some(LoraSettings {
            rank: self.lora_rank,
            alpha: self.lora_alpha,
        })
    }
}

impl CompleterArgs {
    pub(crate) fn build(&self) -> Result<Box<dyn Completer>> {
        let device = parse_device(&self.device)?;
        let prompt_format = match (&self.prompt_template, &self.chat_template) {
            (Some(file), _) => PromptFormat::from_file(file)?,
            (None, Some(model)) => PromptFormat::chat_of(model)
                .with_context(|| format!("reading the chat template of {model}"))?,
            (None, None) => PromptFormat::Plain,
        };
        let http = HttpSettings {
            model: self.model_name.clone(),
            concurrency: self.concurrency,
            prompts_per_request: self.prompts_per_request,
            retries: self.retries,
            backoff: Duration::from_millis(200),
            timeout: Duration::from_secs_f64(self.timeout_s),
            api_key: self
                .api_key
                .clone()
                .or_else(|| std::env::var("OPENAI_API_KEY").ok())
                .filter(|k| !k.is_empty()),
            prompt_format,
        };
        completer_from_spec(&self.completer, &device, http, self.batch_rows)
            .with_context(|| format!("opening completer {}", self.completer))
    }
}

#[derive(Args)]
pub(crate) struct SampleArgs {
    /// Problems: this crate's JSON lines (id, question, answer), a GSM8K or a MATH(-500) file.
    #[arg(long)]
    pub(crate) problems: PathBuf,
    #[command(flatten)]
    pub(crate) completer: CompleterArgs,
    /// Solutions per problem.
    #[arg(short = 'n', long, default_value_t = 4, value_parser = burnlp_core::cli::positive)]
    pub(crate) n: usize,
    /// Sampling temperature (0: greedy).
    #[arg(long, default_value_t = 1.0, value_parser = burnlp_core::cli::non_negative_f64)]
    pub(crate) temperature: f64,
    /// Most generated tokens per solution.
    #[arg(long, default_value_t = 256, value_parser = positive)]
    pub(crate) max_tokens: usize,
    /// Sampling seed.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Use only the first K problems.
    #[arg(long)]
    pub(crate) limit: Option<usize>,
    /// Answer conventions for the printed accuracy.
    #[arg(long, value_enum, default_value = "gsm8k")]
    pub(crate) format: AnswerFormat,
    /// Output (JSON lines: id, problem_id, solution). Written when complete; while sampling,
    /// the solutions so far are kept beside it as `.OUT.partial` and `.OUT.progress.json`.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Problems per block: one completer call with its own seed (derived from --seed and the
    /// block's first problem), and the unit a killed run resumes from.
    #[arg(long, default_value_t = 32, value_parser = positive)]
    pub(crate) block: usize,
    /// Continue an interrupted run of --out after its last finished block (the problems and
    /// settings must be the same); the output equals an uninterrupted run's.
    #[arg(long)]
    pub(crate) resume: bool,
}

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// The model: a GGUF file, a Hugging Face directory or id, or a toy run directory.
    #[arg(long, default_value = DEFAULT_MODEL)]
    pub(crate) model: String,
    /// Address to listen on: `host:port` or `host` (port 8000), e.g. `localhost`; loopback by
    /// default (anything else exposes the model).
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub(crate) addr: String,
    /// Worker threads (requests served at once).
    #[arg(long, default_value_t = 4, value_parser = burnlp_core::cli::positive)]
    pub(crate) workers: usize,
    /// Requests waiting for a worker; further ones are answered 429 with Retry-After.
    #[arg(long, default_value_t = 64, value_parser = burnlp_core::cli::positive)]
    pub(crate) queue: usize,
    /// Longest time in seconds from a request's arrival to its answer (504 past it;
    /// generation stops at the next token).
    #[arg(long, default_value_t = 300.0, value_parser = burnlp_core::cli::positive_f64)]
    pub(crate) request_timeout: f64,
    /// Most tokens in one prompt (400 over it, before any generation); default: the model's
    /// context length, or 2048 for a toy run directory, which declares none.
    #[arg(long, value_parser = burnlp_core::cli::positive)]
    pub(crate) max_prompt_tokens: Option<usize>,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = 1 << 20, value_parser = burnlp_core::cli::positive)]
    pub(crate) max_body_bytes: usize,
    /// Largest `n` per request.
    #[arg(long, default_value_t = 64, value_parser = burnlp_core::cli::positive)]
    pub(crate) max_n: usize,
    /// Largest `max_tokens` per request.
    #[arg(long, default_value_t = 512, value_parser = burnlp_core::cli::positive)]
    pub(crate) max_tokens: usize,
    #[command(flatten)]
    pub(crate) device: DeviceArgs,
}

#[derive(Args)]
pub(crate) struct AnnotateArgs {
    /// Problems: this crate's JSON lines (id, question, answer), a GSM8K file (gold answer
    /// after `####`) or a MATH(-500) file; ids are line numbers where the file has none.
    #[arg(long)]
    pub(crate) problems: PathBuf,
    /// Solutions (JSON lines: id, problem_id, solution with one step per line).
    #[arg(long)]
    pub(crate) solutions: PathBuf,
    #[command(flatten)]
    pub(crate) completer: CompleterArgs,
    /// Completions per step.
    #[arg(short = 'n', long, default_value_t = 8, value_parser = burnlp_core::cli::positive)]
    pub(crate) n: usize,
    /// Sampling temperature of the completions.
    #[arg(long, default_value_t = 1.0, value_parser = burnlp_core::cli::non_negative_f64)]
    pub(crate) temperature: f64,
    /// Most generated tokens per completion.
    #[arg(long, default_value_t = 96, value_parser = burnlp_core::cli::positive)]
    pub(crate) max_tokens: usize,
    /// Answer conventions (gsm8k: numbers; math: LaTeX).
    #[arg(long, value_enum, default_value = "gsm8k")]
    pub(crate) format: AnswerFormat,
    /// Task name written into the records.
    #[arg(long, default_value = "synthetic")]
    pub(crate) task: String,
    /// Sampling seed (each solution's seed also depends on its id).
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Stop after this many new solutions (rerun to continue).
    #[arg(long)]
    pub(crate) limit: Option<usize>,
    /// Solutions annotated concurrently (keeps an HTTP server busy; 1 for a local model).
    #[arg(long, default_value_t = 8, value_parser = burnlp_core::cli::positive)]
    pub(crate) parallel: usize,
    /// Output (JSON lines, appended; solutions already there are skipped).
    #[arg(long)]
    pub(crate) out: PathBuf,
}

#[derive(Args)]
pub(crate) struct ConvertArgs {
    /// PRM800K file (JSON lines or concatenated pretty-printed records).
    pub(crate) input: PathBuf,
    /// Output (JSON lines in the Math-Shepherd format).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Label neutral (0) ratings as bad instead of good.
    #[arg(long)]
    pub(crate) neutral_bad: bool,
}

#[derive(Args)]
pub(crate) struct GenerateArgs {
    /// Number of problems.
    #[arg(long, default_value_t = 100)]
    pub(crate) count: usize,
    /// Seed of the generator.
    #[arg(long, default_value_t = 7)]
    pub(crate) seed: u64,
    /// Output file (JSON lines: id, question, answer, steps).
    #[arg(long)]
    pub(crate) out: PathBuf,
}

#[derive(Args)]
pub(crate) struct TrainPolicyArgs {
    /// Run directory (model.json, model.safetensors, metrics.jsonl, checkpoints).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Continue the run in `--out` from its newest checkpoint (same settings required).
    #[arg(long)]
    pub(crate) resume: bool,
    /// Optimizer steps.
    #[arg(long, default_value_t = 300, value_parser = burnlp_core::cli::positive)]
    pub(crate) steps: usize,
    /// Hidden size.
    #[arg(long, default_value_t = 64, value_parser = burnlp_core::cli::positive)]
    pub(crate) hidden: usize,
    /// Decoder layers.
    #[arg(long, default_value_t = 2, value_parser = burnlp_core::cli::positive)]
    pub(crate) layers: usize,
    /// Sequences per batch.
    #[arg(long, default_value_t = 32, value_parser = burnlp_core::cli::positive)]
    pub(crate) batch_size: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 1e-2, value_parser = burnlp_core::cli::positive_f64)]
    pub(crate) lr: f64,
    /// Seed of data, initialisation and batch order.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    #[command(flatten)]
    pub(crate) device: DeviceArgs,
}

#[derive(Args)]
pub(crate) struct AnswersArgs {
    /// Answer conventions of the file.
    #[arg(long, value_enum)]
    pub(crate) format: AnswerFormat,
    /// JSON-lines file (GSM8K: question/answer; MATH: problem/solution/answer).
    pub(crate) file: PathBuf,
    /// Print one JSON object (total, matched, share, mismatches) instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}
