//! The `peft-moe` command line: subcommands and their arguments.

use std::path::PathBuf;

use anyhow::Result;
use burnlp_core::cli::DeviceArgs;
use clap::{Args, Parser, Subcommand};
use peft_moe::esft_score::EsftTask;
use peft_moe::real::PromptMode;
use peft_moe::real_experiment::RealMethod;
use peft_moe::routing::ScoreKind;

/// ESFT: expert-specialized fine-tuning of Mixture-of-Experts LMs, with routing analysis and
/// LoRA / full fine-tuning baselines.
#[derive(Parser)]
#[command(version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Per layer and expert: average gate score and token selection ratio, from official
    /// routing logs or from a model on task data; writes summary.json, concentration.json and
    /// heat maps.
    RouteStats(RouteStatsArgs),
    /// Selects experts per layer until the cumulative score reaches p (official expert-config
    /// format).
    Select(SelectArgs),
    /// Writes the synthetic task files (TASK.train.jsonl / TASK.test.jsonl, with disjoint
    /// prompts).
    Data(DataArgs),
    /// Trains a model: pretraining from scratch (--init) or fine-tuning with ESFT, LoRA or FFT.
    Train(TrainArgs),
    /// Greedy exact match of a model on task files.
    Eval(EvalArgs),
    /// A shortened synthetic comparison, plus rows on SmolLM2 (upcycling fidelity, a short
    /// ESFT-Token run) when ../shared has the model; prints result rows (≈ 3–4 minutes).
    Demo(DemoCmdArgs),
    /// The full synthetic comparison, written as a Markdown report.
    Experiment(ExperimentArgs),
    /// Scores official ESFT completions: intent re-scored by exact match (compared with the
    /// stored per-example scores), judged tasks' stored scores averaged; task score = mean × 100.
    Score(ScoreArgs),
    /// Times a few training steps on the official ESFT data without writing anything (no
    /// checkpoint): the loss and seconds of each step, for sizing a run.
    BenchStep(BenchStepArgs),
    /// Token-level perplexity of a model directory on plain-text lines (general-ability
    /// retention).
    Perplexity(PerplexityArgs),
    /// ESFT-Token / ESFT-Gate / LoRA / FFT on the official ESFT data with an upcycled model:
    /// intent score and general-text perplexity per method and seed, OUT/report.md.
    ExperimentEsft(ExperimentEsftArgs),
    /// Sparse upcycling of a dense Llama (e.g. SmolLM2): each FFN copied into E experts with
    /// a random router, so the MoE starts from the dense model's function; writes config.json,
    /// model.safetensors, tokenizer.json and tokenizer_config.json (chat template).
    Upcycle(UpcycleArgs),
}

#[derive(Args)]
pub(crate) struct RouteStatsArgs {
    /// Official routing-log folder (expert_weights_{layer}.txt, optionally in rank sub-folders).
    #[arg(long, conflicts_with_all = ["model", "data"])]
    pub(crate) from_logs: Option<PathBuf>,
    /// Model directory (config.json + model.safetensors; with --esft-train also the tokenizer
    /// files).
    #[arg(long)]
    pub(crate) model: Option<PathBuf>,
    /// Task file (JSON lines with task, prompt, answer).
    #[arg(long, conflicts_with = "esft_train")]
    pub(crate) data: Option<PathBuf>,
    /// Official ESFT training file (data/train/TASK.jsonl): the conversations are shuffled with
    /// --seed and run one at a time in the training chat format until --tokens tokens.
    #[arg(long)]
    pub(crate) esft_train: Option<PathBuf>,
    /// Seed of the shuffle of --esft-train (the official one by default).
    #[arg(long, default_value_t = peft_moe::esft_data::OFFICIAL_SEED)]
    pub(crate) seed: u64,
    /// Tokens to sample from the task data.
    #[arg(long, default_value_t = 131072)]
    pub(crate) tokens: usize,
    /// Experts per token in the logs (DeepSeek-V2-Lite: 6).
    #[arg(long, default_value_t = 6)]
    pub(crate) top_k: usize,
    /// Output folder.
    #[arg(long)]
    pub(crate) out: PathBuf,
    #[command(flatten)]
    pub(crate) device: DeviceArgs,
}

#[derive(Args)]
pub(crate) struct SelectArgs {
    /// Folder with summary.json (from route-stats or the official release).
    #[arg(long)]
    pub(crate) stats: PathBuf,
    /// Score function: gate (ESFT-Gate) or token (ESFT-Token).
    #[arg(long, default_value = "token")]
    pub(crate) score: ScoreKind,
    /// Cumulative score threshold per layer.
    #[arg(long, default_value_t = 0.2)]
    pub(crate) p: f64,
    /// Output expert-config JSON.
    #[arg(long)]
    pub(crate) out: PathBuf,
}

#[derive(Args)]
pub(crate) struct DataArgs {
    /// Output folder.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Training examples per task.
    #[arg(long, default_value_t = 4000)]
    pub(crate) train: usize,
    /// Test examples per task.
    #[arg(long, default_value_t = 200)]
    pub(crate) test: usize,
    /// Seed.
    #[arg(long, default_value_t = 7)]
    pub(crate) seed: u64,
}

#[derive(Args)]
pub(crate) struct TrainArgs {
    /// Model to fine-tune (config.json + model.safetensors).
    #[arg(long, conflicts_with = "init")]
    pub(crate) model: Option<PathBuf>,
    /// Start from a fresh model with this config.json (or `tiny` for the built-in one).
    #[arg(long)]
    pub(crate) init: Option<String>,
    /// Training task files (JSON lines); several are mixed.
    #[arg(long, required_unless_present = "esft_train", num_args = 1..)]
    pub(crate) data: Vec<PathBuf>,
    /// Development task file for the loss / token accuracy at the end.
    #[arg(long, required_unless_present = "esft_train")]
    pub(crate) dev: Option<PathBuf>,
    /// Official ESFT training file (data/train/TASK.jsonl): answer-only loss from the chat
    /// format's labels; needs --model with tokenizer files.
    #[arg(long, conflicts_with_all = ["data", "dev", "init"], requires = "model")]
    pub(crate) esft_train: Option<PathBuf>,
    /// With --esft-train: drop the training conversations whose query is a query of this
    /// evaluation file, and check that none is left.
    #[arg(long, requires = "esft_train")]
    pub(crate) exclude_eval: Option<PathBuf>,
    /// With --esft-train: conversations held out for the development loss.
    #[arg(long, default_value_t = 16)]
    pub(crate) dev_size: usize,
    /// Method: esft (= esft-token / esft-gate: the selection is --experts), lora or fft.
    #[arg(long, default_value = "fft")]
    pub(crate) method: String,
    /// Expert configuration for --method esft.
    #[arg(long)]
    pub(crate) experts: Option<PathBuf>,
    /// LoRA rank.
    #[arg(long, default_value_t = 8, value_parser = burnlp_core::cli::positive)]
    pub(crate) rank: usize,
    /// LoRA scale numerator (scale = alpha / rank).
    #[arg(long, default_value_t = 16.0, value_parser = burnlp_core::cli::positive_f64)]
    pub(crate) alpha: f64,
    /// Optimizer steps.
    #[arg(long, default_value_t = 300, value_parser = burnlp_core::cli::positive)]
    pub(crate) steps: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 1e-3, value_parser = burnlp_core::cli::positive_f64)]
    pub(crate) lr: f64,
    /// Sequences per batch.
    #[arg(long, default_value_t = 32, value_parser = burnlp_core::cli::positive)]
    pub(crate) batch_size: usize,
    /// Weight of the balance loss (the config's aux_loss_alpha when absent).
    #[arg(long, value_parser = burnlp_core::cli::non_negative_f64)]
    pub(crate) aux_alpha: Option<f64>,
    /// Seed.
    #[arg(long, default_value_t = 7)]
    pub(crate) seed: u64,
    /// Run directory; the trained model is written to RUN/model.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Continue the newest checkpoint of --out (its `config.json` must match).
    #[arg(long)]
    pub(crate) resume: bool,
    #[command(flatten)]
    pub(crate) device: DeviceArgs,
}

#[derive(Args)]
pub(crate) struct EvalArgs {
    /// Model directory.
    #[arg(long)]
    pub(crate) model: PathBuf,
    /// Task files; the first is the target task, the others measure forgetting.
    #[arg(long, required_unless_present = "esft_eval", num_args = 1..)]
    pub(crate) data: Vec<PathBuf>,
    /// Official ESFT evaluation file (data/eval/TASK.jsonl): greedy generation, completions
    /// in the official format, task score printed. Needs --out.
    #[arg(long, conflicts_with = "data", requires = "out")]
    pub(crate) esft_eval: Option<PathBuf>,
    /// Task of --esft-eval (only intent is scored without a judge).
    #[arg(long, default_value = "intent", value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<EsftTask>()))]
    pub(crate) task: EsftTask,
    /// Evaluate only the first N items.
    #[arg(long)]
    pub(crate) limit: Option<usize>,
    /// few-shot: the official prompts; zero-shot: each rewritten to its final query block in
    /// the training format (the few-shot intent prompts are ~16× longer, too slow on a CPU).
    #[arg(long, default_value = "zero-shot", value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<PromptMode>()))]
    pub(crate) prompt: PromptMode,
    /// Generated tokens at most per item.
    #[arg(long, default_value_t = 96)]
    pub(crate) max_new_tokens: usize,
    /// Prompts per generation batch.
    #[arg(long, default_value_t = 8, value_parser = burnlp_core::cli::positive)]
    pub(crate) batch_size: usize,
    /// Completion file to write (official format).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) device: DeviceArgs,
}

#[derive(Args)]
pub(crate) struct BenchStepArgs {
    /// Model directory (with tokenizer files).
    #[arg(long)]
    pub(crate) model: PathBuf,
    /// Official training file.
    #[arg(long)]
    pub(crate) esft_train: PathBuf,
    /// Method: esft (with --experts), lora or fft.
    #[arg(long)]
    pub(crate) method: String,
    /// Expert configuration for --method esft.
    #[arg(long)]
    pub(crate) experts: Option<PathBuf>,
    /// Steps to time.
    #[arg(long, default_value_t = 3, value_parser = burnlp_core::cli::positive)]
    pub(crate) steps: usize,
    /// Conversations per batch.
    #[arg(long, default_value_t = 4, value_parser = burnlp_core::cli::positive)]
    pub(crate) batch_size: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 1e-4, value_parser = burnlp_core::cli::positive_f64)]
    pub(crate) lr: f64,
    /// Seed of the batch order.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    #[command(flatten)]
    pub(crate) device: DeviceArgs,
}

#[derive(Args)]
pub(crate) struct PerplexityArgs {
    /// Model directory (with tokenizer files).
    #[arg(long)]
    pub(crate) model: PathBuf,
    /// Plain text, one sequence per line (empty lines skipped).
    #[arg(long)]
    pub(crate) text: PathBuf,
    /// Only the first N non-empty lines.
    #[arg(long)]
    pub(crate) limit: Option<usize>,
    /// Lines per batch.
    #[arg(long, default_value_t = 8, value_parser = burnlp_core::cli::positive)]
    pub(crate) batch_size: usize,
    #[command(flatten)]
    pub(crate) device: DeviceArgs,
}

#[derive(Args)]
pub(crate) struct ExperimentEsftArgs {
    /// Upcycled model directory (with tokenizer files).
    #[arg(long)]
    pub(crate) model: PathBuf,
    /// Official training file (data/train/intent.jsonl).
    #[arg(long)]
    pub(crate) esft_train: PathBuf,
    /// Official evaluation file (data/eval/intent.jsonl).
    #[arg(long)]
    pub(crate) esft_eval: PathBuf,
    /// Held-out general text, one sentence per line (e.g. multi30k test_2016_flickr.en).
    #[arg(long)]
    pub(crate) general_text: PathBuf,
    /// Methods (comma-separated): esft-token, esft-gate, lora, fft.
    #[arg(long, value_delimiter = ',', default_value = "esft-token,esft-gate,lora,fft", value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<RealMethod>()))]
    pub(crate) methods: Vec<RealMethod>,
    /// Seeds (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub(crate) seeds: Vec<u64>,
    /// Optimizer steps per run.
    #[arg(long, default_value_t = 200, value_parser = burnlp_core::cli::positive)]
    pub(crate) steps: usize,
    /// Conversations per batch.
    #[arg(long, default_value_t = 4, value_parser = burnlp_core::cli::positive)]
    pub(crate) batch_size: usize,
    /// Evaluation items (the first ones).
    #[arg(long, default_value_t = 100, value_parser = burnlp_core::cli::positive)]
    pub(crate) eval_limit: usize,
    /// General-text lines (the first ones).
    #[arg(long, default_value_t = 200, value_parser = burnlp_core::cli::positive)]
    pub(crate) general_limit: usize,
    /// Training tokens for the routing statistics.
    #[arg(long, default_value_t = 32768, value_parser = burnlp_core::cli::positive)]
    pub(crate) stats_tokens: usize,
    /// Generated tokens at most per evaluation item.
    #[arg(long, default_value_t = 96)]
    pub(crate) max_new_tokens: usize,
    /// Override a method's learning rate: METHOD=LR (repeatable).
    #[arg(long = "lr", value_parser = parse_lr)]
    pub(crate) lrs: Vec<(RealMethod, f64)>,
    /// Output folder (results.jsonl, report.md, stats, runs).
    #[arg(long)]
    pub(crate) out: PathBuf,
    #[command(flatten)]
    pub(crate) device: DeviceArgs,
}

pub(crate) fn parse_lr(s: &str) -> Result<(RealMethod, f64), String> {
    let (method, lr) = s
        .split_once('=')
        .ok_or_else(|| format!("expected METHOD=LR, got `{s}`"))?;
    let lr: f64 = lr.parse().map_err(|e| format!("`{lr}`: {e}"))?;
    if !(lr.is_finite() && lr > 0.0) {
        return Err(format!("learning rate must be positive, got {lr}"));
    }
    Ok((method.parse()?, lr))
}

#[derive(Args)]
pub(crate) struct DemoCmdArgs {
    #[command(flatten)]
    pub(crate) demo: burnlp_core::cli::DemoArgs,
    /// Seed of data and training.
    #[arg(long, default_value_t = 7)]
    pub(crate) seed: u64,
}

#[derive(Args)]
pub(crate) struct ExperimentArgs {
    /// Markdown report to write.
    #[arg(long, default_value = "docs/results/peft-moe.md")]
    pub(crate) out: PathBuf,
    /// Folder for runs, statistics and heat maps.
    #[arg(long, default_value = "target/burnlp/experiment/peft-moe")]
    pub(crate) runs: PathBuf,
    /// Use the shortened demo sizes.
    #[arg(long)]
    pub(crate) quick: bool,
    /// Override the number of pretraining steps.
    #[arg(long)]
    pub(crate) pretrain_steps: Option<usize>,
    /// Override the number of fine-tuning steps.
    #[arg(long)]
    pub(crate) finetune_steps: Option<usize>,
    #[command(flatten)]
    pub(crate) device: DeviceArgs,
}

#[derive(Args)]
pub(crate) struct UpcycleArgs {
    /// Dense model: a GGUF file, a Hugging Face directory or id.
    #[arg(long)]
    pub(crate) model: String,
    /// Routed experts per layer.
    #[arg(long, default_value_t = 8, value_parser = burnlp_core::cli::positive)]
    pub(crate) experts: usize,
    /// Routed experts per token (at most --experts).
    #[arg(long, default_value_t = 2, value_parser = burnlp_core::cli::positive)]
    pub(crate) top_k: usize,
    /// Standard deviation of the multiplicative noise on each expert copy (0: exact copies).
    #[arg(long, default_value_t = 0.0, value_parser = burnlp_core::cli::non_negative_f64)]
    pub(crate) noise_std: f64,
    /// Standard deviation of the random router weights.
    #[arg(long, default_value_t = 0.02, value_parser = burnlp_core::cli::non_negative_f64)]
    pub(crate) router_std: f64,
    /// Leading layers kept dense.
    #[arg(long, default_value_t = 0)]
    pub(crate) dense_layers: usize,
    /// Add a shared expert per MoE layer (the FFN split in half between it and the copies).
    #[arg(long)]
    pub(crate) shared_expert: bool,
    /// Seed of the router and the noise.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Prompt on which the upcycled logits are compared with the dense model's.
    #[arg(long, default_value = "The capital of France is")]
    pub(crate) check_prompt: String,
    /// Also time one forward pass of this many tokens through both models (0: no timing).
    #[arg(long, default_value_t = 0)]
    pub(crate) bench_tokens: usize,
    /// Output directory.
    #[arg(long)]
    pub(crate) out: PathBuf,
    #[command(flatten)]
    pub(crate) device: DeviceArgs,
}

#[derive(Args)]
pub(crate) struct ScoreArgs {
    /// Task: intent, summary, law or translation.
    #[arg(long, value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<EsftTask>()))]
    pub(crate) task: EsftTask,
    /// Completion file (results/completions/{gate,token}/TASK.jsonl).
    #[arg(long)]
    pub(crate) completions: PathBuf,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub(crate) json: bool,
}
