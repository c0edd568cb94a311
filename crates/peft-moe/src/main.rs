//! `peft-moe` command-line interface: routing statistics, expert selection, ESFT / LoRA / FFT
//! training, evaluation, the demo and the full synthetic comparison.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::{Int, Tensor, TensorData};
use burnlp_core::cli::DeviceArgs;
use burnlp_core::device::{parse_device, training_device};
use burnlp_core::nn::llama::{CausalLm, LlamaInput};
use burnlp_core::report::print_rows;
use clap::{Args, Parser, Subcommand};
use peft_moe::demo_real::{self, RealDemoSettings};
use peft_moe::esft_score::{EsftTask, score_completions};
use peft_moe::experiment::{self, Settings, tiny_config};
use peft_moe::moe::{MoeConfig, load_pretrained, save_pretrained};
use peft_moe::real::{self, PromptMode};
use peft_moe::real_experiment::{self, RealInputs, RealMethod, RealSettings, read_expert_config};
use peft_moe::routing::{
    RouteStats, ScoreKind, Summary, concentration, heatmap_svg, select_experts,
};
use peft_moe::tasks::{TASKS, read_examples, splits, write_examples};
use peft_moe::train::{Method, exact_match, route_stats};
use peft_moe::upcycle::{
    ChatTemplateSource, UpcycleConfig, load_with_tokenizer, param_counts, save_tokenizer, upcycle,
};

/// ESFT: expert-specialized fine-tuning of Mixture-of-Experts LMs, with routing analysis and
/// LoRA / full fine-tuning baselines.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
    /// A shortened synthetic comparison (≤ ~2 minutes), printing result rows.
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
struct RouteStatsArgs {
    /// Official routing-log folder (expert_weights_{layer}.txt, optionally in rank sub-folders).
    #[arg(long, conflicts_with_all = ["model", "data"])]
    from_logs: Option<PathBuf>,
    /// Model directory (config.json + model.safetensors; with --esft-train also the tokenizer
    /// files).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Task file (JSON lines with task, prompt, answer).
    #[arg(long, conflicts_with = "esft_train")]
    data: Option<PathBuf>,
    /// Official ESFT training file (data/train/TASK.jsonl): the conversations are shuffled with
    /// --seed and run one at a time in the training chat format until --tokens tokens.
    #[arg(long)]
    esft_train: Option<PathBuf>,
    /// Seed of the shuffle of --esft-train (the official one by default).
    #[arg(long, default_value_t = peft_moe::esft_data::OFFICIAL_SEED)]
    seed: u64,
    /// Tokens to sample from the task data.
    #[arg(long, default_value_t = 131072)]
    tokens: usize,
    /// Experts per token in the logs (DeepSeek-V2-Lite: 6).
    #[arg(long, default_value_t = 6)]
    top_k: usize,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct SelectArgs {
    /// Folder with summary.json (from route-stats or the official release).
    #[arg(long)]
    stats: PathBuf,
    /// Score function: gate (ESFT-Gate) or token (ESFT-Token).
    #[arg(long, default_value = "token")]
    score: ScoreKind,
    /// Cumulative score threshold per layer.
    #[arg(long, default_value_t = 0.2)]
    p: f64,
    /// Output expert-config JSON.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct DataArgs {
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// Training examples per task.
    #[arg(long, default_value_t = 4000)]
    train: usize,
    /// Test examples per task.
    #[arg(long, default_value_t = 200)]
    test: usize,
    /// Seed.
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

#[derive(Args)]
struct TrainArgs {
    /// Model to fine-tune (config.json + model.safetensors).
    #[arg(long, conflicts_with = "init")]
    model: Option<PathBuf>,
    /// Start from a fresh model with this config.json (or `tiny` for the built-in one).
    #[arg(long)]
    init: Option<String>,
    /// Training task files (JSON lines); several are mixed.
    #[arg(long, required_unless_present = "esft_train", num_args = 1..)]
    data: Vec<PathBuf>,
    /// Development task file for the loss / token accuracy at the end.
    #[arg(long, required_unless_present = "esft_train")]
    dev: Option<PathBuf>,
    /// Official ESFT training file (data/train/TASK.jsonl): answer-only loss from the chat
    /// format's labels; needs --model with tokenizer files.
    #[arg(long, conflicts_with_all = ["data", "dev", "init"], requires = "model")]
    esft_train: Option<PathBuf>,
    /// With --esft-train: drop the training conversations whose query is a query of this
    /// evaluation file, and check that none is left.
    #[arg(long, requires = "esft_train")]
    exclude_eval: Option<PathBuf>,
    /// With --esft-train: conversations held out for the development loss.
    #[arg(long, default_value_t = 16)]
    dev_size: usize,
    /// Method: esft (= esft-token / esft-gate: the selection is --experts), lora or fft.
    #[arg(long, default_value = "fft")]
    method: String,
    /// Expert configuration for --method esft.
    #[arg(long)]
    experts: Option<PathBuf>,
    /// LoRA rank.
    #[arg(long, default_value_t = 8, value_parser = burnlp_core::cli::positive)]
    rank: usize,
    /// LoRA scale numerator (scale = alpha / rank).
    #[arg(long, default_value_t = 16.0, value_parser = burnlp_core::cli::positive_f64)]
    alpha: f64,
    /// Optimizer steps.
    #[arg(long, default_value_t = 300, value_parser = burnlp_core::cli::positive)]
    steps: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 1e-3, value_parser = burnlp_core::cli::positive_f64)]
    lr: f64,
    /// Sequences per batch.
    #[arg(long, default_value_t = 32, value_parser = burnlp_core::cli::positive)]
    batch_size: usize,
    /// Weight of the balance loss (the config's aux_loss_alpha when absent).
    #[arg(long, value_parser = burnlp_core::cli::non_negative_f64)]
    aux_alpha: Option<f64>,
    /// Seed.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Run directory; the trained model is written to RUN/model.
    #[arg(long)]
    out: PathBuf,
    /// Continue the newest checkpoint of --out (its `config.json` must match).
    #[arg(long)]
    resume: bool,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct EvalArgs {
    /// Model directory.
    #[arg(long)]
    model: PathBuf,
    /// Task files; the first is the target task, the others measure forgetting.
    #[arg(long, required_unless_present = "esft_eval", num_args = 1..)]
    data: Vec<PathBuf>,
    /// Official ESFT evaluation file (data/eval/TASK.jsonl): greedy generation, completions
    /// in the official format, task score printed. Needs --out.
    #[arg(long, conflicts_with = "data", requires = "out")]
    esft_eval: Option<PathBuf>,
    /// Task of --esft-eval (only intent is scored without a judge).
    #[arg(long, default_value = "intent", value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<EsftTask>()))]
    task: EsftTask,
    /// Evaluate only the first N items.
    #[arg(long)]
    limit: Option<usize>,
    /// few-shot: the official prompts; zero-shot: each rewritten to its final query block in
    /// the training format (the few-shot intent prompts are ~16× longer, too slow on a CPU).
    #[arg(long, default_value = "zero-shot", value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<PromptMode>()))]
    prompt: PromptMode,
    /// Generated tokens at most per item.
    #[arg(long, default_value_t = 96)]
    max_new_tokens: usize,
    /// Prompts per generation batch.
    #[arg(long, default_value_t = 8, value_parser = burnlp_core::cli::positive)]
    batch_size: usize,
    /// Completion file to write (official format).
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct BenchStepArgs {
    /// Model directory (with tokenizer files).
    #[arg(long)]
    model: PathBuf,
    /// Official training file.
    #[arg(long)]
    esft_train: PathBuf,
    /// Method: esft (with --experts), lora or fft.
    #[arg(long)]
    method: String,
    /// Expert configuration for --method esft.
    #[arg(long)]
    experts: Option<PathBuf>,
    /// Steps to time.
    #[arg(long, default_value_t = 3, value_parser = burnlp_core::cli::positive)]
    steps: usize,
    /// Conversations per batch.
    #[arg(long, default_value_t = 4, value_parser = burnlp_core::cli::positive)]
    batch_size: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 1e-4, value_parser = burnlp_core::cli::positive_f64)]
    lr: f64,
    /// Seed of the batch order.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct PerplexityArgs {
    /// Model directory (with tokenizer files).
    #[arg(long)]
    model: PathBuf,
    /// Plain text, one sequence per line (empty lines skipped).
    #[arg(long)]
    text: PathBuf,
    /// Only the first N non-empty lines.
    #[arg(long)]
    limit: Option<usize>,
    /// Lines per batch.
    #[arg(long, default_value_t = 8, value_parser = burnlp_core::cli::positive)]
    batch_size: usize,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct ExperimentEsftArgs {
    /// Upcycled model directory (with tokenizer files).
    #[arg(long)]
    model: PathBuf,
    /// Official training file (data/train/intent.jsonl).
    #[arg(long)]
    esft_train: PathBuf,
    /// Official evaluation file (data/eval/intent.jsonl).
    #[arg(long)]
    esft_eval: PathBuf,
    /// Held-out general text, one sentence per line (e.g. multi30k test_2016_flickr.en).
    #[arg(long)]
    general_text: PathBuf,
    /// Methods (comma-separated): esft-token, esft-gate, lora, fft.
    #[arg(long, value_delimiter = ',', default_value = "esft-token,esft-gate,lora,fft", value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<RealMethod>()))]
    methods: Vec<RealMethod>,
    /// Seeds (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    seeds: Vec<u64>,
    /// Optimizer steps per run.
    #[arg(long, default_value_t = 200, value_parser = burnlp_core::cli::positive)]
    steps: usize,
    /// Conversations per batch.
    #[arg(long, default_value_t = 4, value_parser = burnlp_core::cli::positive)]
    batch_size: usize,
    /// Evaluation items (the first ones).
    #[arg(long, default_value_t = 100, value_parser = burnlp_core::cli::positive)]
    eval_limit: usize,
    /// General-text lines (the first ones).
    #[arg(long, default_value_t = 200, value_parser = burnlp_core::cli::positive)]
    general_limit: usize,
    /// Training tokens for the routing statistics.
    #[arg(long, default_value_t = 32768, value_parser = burnlp_core::cli::positive)]
    stats_tokens: usize,
    /// Generated tokens at most per evaluation item.
    #[arg(long, default_value_t = 96)]
    max_new_tokens: usize,
    /// Override a method's learning rate: METHOD=LR (repeatable).
    #[arg(long = "lr", value_parser = parse_lr)]
    lrs: Vec<(RealMethod, f64)>,
    /// Output folder (results.jsonl, report.md, stats, runs).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    device: DeviceArgs,
}

fn parse_lr(s: &str) -> Result<(RealMethod, f64), String> {
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
struct DemoCmdArgs {
    #[command(flatten)]
    demo: burnlp_core::cli::DemoArgs,
    /// Seed of data and training.
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

#[derive(Args)]
struct ExperimentArgs {
    /// Markdown report to write.
    #[arg(long, default_value = "docs/results/peft-moe.md")]
    out: PathBuf,
    /// Folder for runs, statistics and heat maps.
    #[arg(long, default_value = "target/burnlp/experiment/peft-moe")]
    runs: PathBuf,
    /// Use the shortened demo sizes.
    #[arg(long)]
    quick: bool,
    /// Override the number of pretraining steps.
    #[arg(long)]
    pretrain_steps: Option<usize>,
    /// Override the number of fine-tuning steps.
    #[arg(long)]
    finetune_steps: Option<usize>,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct UpcycleArgs {
    /// Dense model: a GGUF file, a Hugging Face directory or id.
    #[arg(long)]
    model: String,
    /// Routed experts per layer.
    #[arg(long, default_value_t = 8, value_parser = burnlp_core::cli::positive)]
    experts: usize,
    /// Routed experts per token (at most --experts).
    #[arg(long, default_value_t = 2, value_parser = burnlp_core::cli::positive)]
    top_k: usize,
    /// Standard deviation of the multiplicative noise on each expert copy (0: exact copies).
    #[arg(long, default_value_t = 0.0, value_parser = burnlp_core::cli::non_negative_f64)]
    noise_std: f64,
    /// Standard deviation of the random router weights.
    #[arg(long, default_value_t = 0.02, value_parser = burnlp_core::cli::non_negative_f64)]
    router_std: f64,
    /// Leading layers kept dense.
    #[arg(long, default_value_t = 0)]
    dense_layers: usize,
    /// Add a shared expert per MoE layer (the FFN split in half between it and the copies).
    #[arg(long)]
    shared_expert: bool,
    /// Seed of the router and the noise.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Prompt on which the upcycled logits are compared with the dense model's.
    #[arg(long, default_value = "The capital of France is")]
    check_prompt: String,
    /// Also time one forward pass of this many tokens through both models (0: no timing).
    #[arg(long, default_value_t = 0)]
    bench_tokens: usize,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct ScoreArgs {
    /// Task: intent, summary, law or translation.
    #[arg(long, value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<EsftTask>()))]
    task: EsftTask,
    /// Completion file (results/completions/{gate,token}/TASK.jsonl).
    #[arg(long)]
    completions: PathBuf,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
}

fn main() {
    burnlp_runtime::main(run, burnlp_core::cli::exit_code);
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::RouteStats(args) => route_stats_cmd(&args),
        Command::Select(args) => select_cmd(&args),
        Command::Data(args) => data_cmd(&args),
        Command::Train(args) => train_cmd(&args),
        Command::Eval(args) => eval_cmd(&args),
        Command::Demo(args) => demo_cmd(&args),
        Command::Experiment(args) => experiment_cmd(&args),
        Command::Score(args) => score_cmd(&args),
        Command::Upcycle(args) => upcycle_cmd(&args),
        Command::Perplexity(args) => perplexity_cmd(&args),
        Command::BenchStep(args) => bench_step_cmd(&args),
        Command::ExperimentEsft(args) => experiment_esft_cmd(&args),
    }
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    burnlp_core::data::write_atomic(path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

fn route_stats_cmd(args: &RouteStatsArgs) -> Result<()> {
    let stats = match (&args.from_logs, &args.model, &args.data) {
        (Some(dir), _, _) => RouteStats::from_logs(dir, args.top_k, 0)
            .with_context(|| format!("reading routing logs in {}", dir.display()))?,
        (None, Some(model), Some(data)) => {
            let device = parse_device(&args.device)?;
            let (_, model) = load_pretrained(model, &device)
                .with_context(|| format!("loading {}", model.display()))?;
            let examples = read_examples(data)?;
            route_stats(&model, &examples, args.tokens)
        }
        (None, Some(dir), None) if args.esft_train.is_some() => {
            let train = args.esft_train.as_deref().context("--esft-train")?;
            let device = parse_device(&args.device)?;
            let loaded = load_with_tokenizer(dir, &device)
                .with_context(|| format!("loading {}", dir.display()))?;
            let ids = real::chat_ids(dir, &loaded.tokenizer)?;
            let data = real::training_data(train, &loaded.tokenizer, ids, None, 0)?;
            real::sample_route_stats(&loaded.model, &data.train, args.tokens, args.seed)
        }
        _ => {
            bail!(
                "give either --from-logs DIR or --model M with --data task.jsonl or --esft-train F"
            )
        }
    };
    let summary = stats.summary();
    write(
        &args.out.join("summary.json"),
        &serde_json::to_string(&summary.to_json())?,
    )?;
    write(
        &args.out.join("counts.json"),
        &serde_json::to_string(&stats)?,
    )?;
    let conc = concentration(&summary.token_scores);
    write(
        &args.out.join("concentration.json"),
        &serde_json::to_string_pretty(&conc)?,
    )?;
    for kind in [ScoreKind::Token, ScoreKind::Gate] {
        let svg = heatmap_svg(kind.summary_key(), summary.scores(kind));
        write(
            &args.out.join(format!("heatmap_{}.svg", kind.summary_key())),
            &svg,
        )?;
    }
    let tokens: Vec<u64> = stats.layers.values().map(|c| c.tokens).collect();
    eprintln!(
        "{} MoE layers, {} tokens per layer; wrote {}",
        stats.layers.len(),
        tokens.first().copied().unwrap_or(0),
        args.out.display()
    );
    for c in conc {
        println!("{}", serde_json::to_string(&c)?);
    }
    Ok(())
}

fn select_cmd(args: &SelectArgs) -> Result<()> {
    if !(args.p > 0.0 && args.p <= 1.0) {
        bail!("--p must be in (0, 1], got {}", args.p);
    }
    let path = args.stats.join("summary.json");
    let summary = Summary::read(&path)?;
    let config = select_experts(summary.scores(args.score), args.p);
    write(&args.out, &serde_json::to_string(&config)?)?;
    eprintln!(
        "selected {} experts over {} layers -> {}",
        config.count(),
        config.experts.len(),
        args.out.display()
    );
    Ok(())
}

fn data_cmd(args: &DataArgs) -> Result<()> {
    std::fs::create_dir_all(&args.out)?;
    for task in TASKS {
        let (train, test) = splits(task, args.train, args.test, args.seed)?;
        write_examples(&args.out.join(format!("{task}.train.jsonl")), &train)?;
        write_examples(&args.out.join(format!("{task}.test.jsonl")), &test)?;
    }
    eprintln!("wrote {} tasks to {}", TASKS.len(), args.out.display());
    Ok(())
}

fn train_cmd(args: &TrainArgs) -> Result<()> {
    let device = training_device(&args.device)?;
    let (config, model) = match (&args.model, &args.init) {
        (Some(dir), _) => {
            load_pretrained(dir, &device).with_context(|| format!("loading {}", dir.display()))?
        }
        (None, Some(init)) => {
            let config = if init == "tiny" {
                tiny_config()
            } else {
                MoeConfig::from_file(Path::new(init))?
            };
            let model = config.init(&device);
            (config, model)
        }
        (None, None) => bail!("give --model DIR to fine-tune or --init CONFIG|tiny to pretrain"),
    };
    let method = match args.method.as_str() {
        "esft" | "esft-token" | "esft-gate" => {
            let path = args
                .experts
                .as_ref()
                .context("--method esft needs --experts experts.json")?;
            Method::Esft(read_expert_config(path, &config)?)
        }
        "lora" => Method::Lora {
            rank: args.rank,
            alpha: args.alpha,
        },
        "fft" => Method::Fft,
        other => {
            bail!("unknown --method `{other}` (expected esft, esft-token, esft-gate, lora or fft)")
        }
    };
    if let Some(esft_train) = &args.esft_train {
        return train_esft_cmd(args, esft_train, config, model, &method, &device);
    }
    let dev = args.dev.as_ref().context("--dev is required")?;
    let mut train = Vec::new();
    for path in &args.data {
        train.extend(read_examples(path)?);
    }
    let dev = read_examples(dev)?;
    let (model, report, seconds) = experiment::finetune(
        model,
        &method,
        &train,
        &dev,
        args.steps,
        args.lr,
        args.batch_size,
        args.aux_alpha.unwrap_or(config.aux_loss_alpha),
        args.seed,
        &args.out,
        &device,
        args.resume,
    )?;
    let model = model.valid();
    let target = model_dir(&args.out);
    save_pretrained(&target, &config, &model)?;
    if let Method::Esft(experts) = &method {
        write(
            &args.out.join("expert_cfg.json"),
            &serde_json::to_string(experts)?,
        )?;
    }
    let row = serde_json::json!({
        "method": method.name(),
        "trainable_params": report.trainable,
        "total_params": report.total,
        "optimizer_bytes": report.optimizer_bytes,
        "train_s": seconds,
        "step_ms": 1000.0 * seconds / args.steps.max(1) as f64,
        "model": target,
    });
    println!("{row}");
    Ok(())
}

/// `train --esft-train`: the official conversations, answer-only loss from the labels.
fn train_esft_cmd(
    args: &TrainArgs,
    esft_train: &Path,
    config: MoeConfig,
    model: peft_moe::moe::MoeLm,
    method: &Method,
    device: &burnlp_core::burn::tensor::Device,
) -> Result<()> {
    let dir = args
        .model
        .as_deref()
        .context("--esft-train needs --model")?;
    let tokenizer = burnlp_core::tokenize::Tokenizer::from_file(dir.join("tokenizer.json"))
        .with_context(|| format!("reading {}", dir.join("tokenizer.json").display()))?;
    let ids = real::chat_ids(dir, &tokenizer)?;
    let eval = args
        .exclude_eval
        .as_ref()
        .map(peft_moe::esft_data::read_eval)
        .transpose()?;
    let data = real::training_data(esft_train, &tokenizer, ids, eval.as_deref(), args.dev_size)?;
    eprintln!(
        "{} conversations: {} trained on, {} held out for the development loss, {} dropped \
         (query in the evaluation file)",
        data.records,
        data.train.len(),
        data.dev.len(),
        data.dropped
    );
    let n_train = data.train.len();
    let task = real::ChatLmTask {
        train: data.train,
        dev: data.dev,
        batch_size: args.batch_size,
        aux_alpha: args.aux_alpha.unwrap_or(config.aux_loss_alpha),
    };
    let run = experiment::FinetuneRun {
        steps: args.steps,
        lr: args.lr,
        batch_size: args.batch_size,
        seed: args.seed,
        run_dir: &args.out,
        resume: args.resume,
    };
    let (model, report, seconds) =
        experiment::finetune_task(model, method, &task, n_train, &run, device)?;
    let target = model_dir(&args.out);
    real::save_with_tokenizer(dir, &target, &config, &model.valid())?;
    if let Method::Esft(experts) = method {
        write(
            &args.out.join("expert_cfg.json"),
            &serde_json::to_string(experts)?,
        )?;
    }
    let row = serde_json::json!({
        "method": args.method,
        "trainable_params": report.trainable,
        "total_params": report.total,
        "optimizer_bytes": report.optimizer_bytes,
        "train_s": seconds,
        "step_ms": 1000.0 * seconds / args.steps.max(1) as f64,
        "dropped_overlap": data.dropped,
        "model": target,
    });
    println!("{row}");
    Ok(())
}

fn model_dir(run: &Path) -> PathBuf {
    run.join("model")
}

fn eval_cmd(args: &EvalArgs) -> Result<()> {
    let device = parse_device(&args.device)?;
    if let Some(eval) = &args.esft_eval {
        if args.task != EsftTask::Intent {
            bail!("--esft-eval scores only --task intent (the other tasks need a judge model)");
        }
        let out = args.out.as_ref().context("--esft-eval needs --out")?;
        let completions = real::eval_model_dir(
            &args.model,
            eval,
            args.limit,
            args.prompt,
            args.max_new_tokens,
            args.batch_size,
            &device,
        )?;
        real::write_completions(out, &completions)?;
        let scores: Vec<f64> = completions.iter().map(|c| c.score).collect();
        let row = serde_json::json!({
            "esft_task": args.task.name(),
            "n": completions.len(),
            "score": peft_moe::esft_score::task_score(&scores),
            "prompt": args.prompt,
            "completions": out,
        });
        println!("{row}");
        return Ok(());
    }
    let (_, model) = load_pretrained(&args.model, &device)
        .with_context(|| format!("loading {}", args.model.display()))?;
    for path in &args.data {
        let examples = read_examples(path)?;
        let score = exact_match(&model, &examples);
        let row = serde_json::json!({
            "data": path, "metric": "exact_match", "score": score, "examples": examples.len(),
        });
        println!("{row}");
    }
    Ok(())
}

fn demo_cmd(args: &DemoCmdArgs) -> Result<()> {
    let start = Instant::now();
    let device = training_device("cpu")?;
    let settings = Settings {
        seed: args.seed,
        ..Settings::demo()
    };
    let report = experiment::run(&settings, &args.demo.dir("peft-moe"), &device)?;
    let mut rows = experiment::demo_rows(&report, start);
    match demo_real::find_smollm2() {
        Ok(gguf) => rows.extend(demo_real::rows(
            &gguf,
            &RealDemoSettings::new(args.seed),
            &device,
        )?),
        Err(missing) => eprintln!("demo: {missing}; SmolLM2 rows skipped"),
    }
    Ok(print_rows(&rows, args.demo.json)?)
}

fn experiment_cmd(args: &ExperimentArgs) -> Result<()> {
    let device = training_device(&args.device)?;
    let mut settings = if args.quick {
        Settings::demo()
    } else {
        Settings::full()
    };
    if let Some(steps) = args.pretrain_steps {
        settings.pretrain_steps = steps;
    }
    if let Some(steps) = args.finetune_steps {
        settings.finetune_steps = steps;
    }
    let start = Instant::now();
    let report = experiment::run(&settings, &args.runs, &device)?;
    let figures = copy_figures(&args.out, &args.runs.join("stats"))?;
    let mut md = experiment::markdown(&report, &figures);
    md.push_str(&format!(
        "\nTotal wall time {:.0} s. Raw numbers: `{}`.\n",
        start.elapsed().as_secs_f64(),
        args.runs.join("report.json").display()
    ));
    write(
        &args.runs.join("report.json"),
        &serde_json::to_string_pretty(&report)?,
    )?;
    write(&args.out, &md)?;
    let scores: BTreeMap<_, _> = report
        .methods
        .iter()
        .map(|m| (m.method.clone(), m.task_score))
        .collect();
    eprintln!(
        "wrote {}; target-task scores {scores:?}",
        args.out.display()
    );
    Ok(())
}

/// Copies the heat maps (`stats/<task>/heatmap_*.svg`) into a folder named after the report
/// (`docs/results/peft-moe.md` → `docs/results/peft-moe/<task>/`), so the report's links work
/// wherever it is read; returns that folder relative to the report.
fn copy_figures(report: &Path, stats: &Path) -> Result<String> {
    let name = report
        .file_stem()
        .context("the report path has no file name")?
        .to_string_lossy()
        .to_string();
    let target = report.with_file_name(&name);
    for entry in std::fs::read_dir(stats).with_context(|| format!("reading {}", stats.display()))? {
        let task_dir = entry?.path();
        if !task_dir.is_dir() {
            continue;
        }
        let task = task_dir.file_name().context("task folder name")?;
        for svg in std::fs::read_dir(&task_dir)? {
            let svg = svg?.path();
            if svg.extension().is_some_and(|e| e == "svg") {
                let dest = target
                    .join(task)
                    .join(svg.file_name().context("figure name")?);
                std::fs::create_dir_all(dest.parent().context("figure folder")?)?;
                std::fs::copy(&svg, &dest)
                    .with_context(|| format!("copying {} to {}", svg.display(), dest.display()))?;
            }
        }
    }
    Ok(name)
}

/// Median milliseconds of three forward passes (after one warm-up) of `ids` through `model`.
fn time_forward<
    F: burnlp_core::nn::llama::FeedForward,
    A: burnlp_core::nn::llama::SelfAttention,
>(
    model: &burnlp_core::nn::llama::Llama<F, A>,
    ids: &[u32],
) -> f64 {
    let run = || {
        let start = Instant::now();
        let logits = model.forward(token_input(ids, &model.device()), None);
        let _ = logits.into_data();
        start.elapsed().as_secs_f64() * 1000.0
    };
    run();
    let mut times: Vec<f64> = (0..3).map(|_| run()).collect();
    times.sort_by(f64::total_cmp);
    times[1]
}

fn token_input(ids: &[u32], device: &burnlp_core::burn::tensor::Device) -> LlamaInput {
    LlamaInput::new(Tensor::<2, Int>::from_data(
        TensorData::new(ids.iter().map(|&i| i as i64).collect(), [1, ids.len()]),
        device,
    ))
}

fn upcycle_cmd(args: &UpcycleArgs) -> Result<()> {
    let device = args.device.inference()?;
    let start = Instant::now();
    let config = UpcycleConfig {
        experts: args.experts,
        top_k: args.top_k,
        noise_std: args.noise_std,
        router_std: args.router_std,
        seed: args.seed,
        dense_layers: args.dense_layers,
        shared_expert: args.shared_expert,
    };
    // The settings first (before the time a large model takes to load), then against the
    // model's depth.
    config.validate(usize::MAX).map_err(anyhow::Error::msg)?;
    let lm =
        CausalLm::load(&args.model, &device).with_context(|| format!("loading {}", args.model))?;
    let template = ChatTemplateSource::of_location(&lm.location, &lm.tokenizer, &lm.config)?;
    config
        .validate(lm.model.layers.len())
        .map_err(anyhow::Error::msg)?;
    let prompt = lm.tokenizer.encode(&args.check_prompt, true)?.ids;
    if prompt.is_empty() {
        bail!("--check-prompt encodes to no tokens");
    }
    let bench: Vec<u32> = prompt
        .iter()
        .copied()
        .cycle()
        .take(args.bench_tokens)
        .collect();
    let dense_params = lm.model.num_params();
    let dense_logits = lm.model.forward(token_input(&prompt, &device), None);
    let dense_ms = (!bench.is_empty()).then(|| time_forward(&lm.model, &bench));
    let (model, moe_config) = upcycle(lm.model, &config, &device)?;
    let moe_logits = model.forward(token_input(&prompt, &device), None);
    let max_abs_diff = (moe_logits - dense_logits.clone())
        .abs()
        .max()
        .into_scalar::<f32>();
    let max_abs_logit = dense_logits.abs().max().into_scalar::<f32>();
    let moe_ms = (!bench.is_empty()).then(|| time_forward(&model, &bench));
    let counts = param_counts(&model);
    save_pretrained(&args.out, &moe_config, &model)?;
    save_tokenizer(&args.out, &lm.tokenizer, template.as_ref())?;
    let bytes = std::fs::metadata(args.out.join("model.safetensors"))
        .map(|m| m.len())
        .unwrap_or(0);
    let row = serde_json::json!({
        "model": args.out,
        "experts": args.experts,
        "top_k": args.top_k,
        "dense_params": dense_params,
        "total_params": counts.total,
        "active_params_per_token": counts.active_per_token,
        "safetensors_bytes": bytes,
        "check_tokens": prompt.len(),
        "max_abs_logit_diff": max_abs_diff,
        "max_abs_logit": max_abs_logit,
        "bench_tokens": args.bench_tokens,
        "dense_forward_ms": dense_ms,
        "moe_forward_ms": moe_ms,
        "chat_template": template.is_some(),
        "wall_s": start.elapsed().as_secs_f64(),
    });
    println!("{row}");
    Ok(())
}

fn bench_step_cmd(args: &BenchStepArgs) -> Result<()> {
    let device = training_device(&args.device)?;
    let loaded = load_with_tokenizer(&args.model, &device)
        .with_context(|| format!("loading {}", args.model.display()))?;
    let method = match args.method.as_str() {
        "esft" | "esft-token" | "esft-gate" => {
            let path = args
                .experts
                .as_ref()
                .context("--method esft needs --experts")?;
            Method::Esft(read_expert_config(path, &loaded.config)?)
        }
        "lora" => Method::Lora {
            rank: 8,
            alpha: 16.0,
        },
        "fft" => Method::Fft,
        other => bail!("unknown --method `{other}` (expected esft, lora or fft)"),
    };
    let ids = real::chat_ids(&args.model, &loaded.tokenizer)?;
    let data = real::training_data(&args.esft_train, &loaded.tokenizer, ids, None, 0)?;
    let task = real::ChatLmTask {
        train: data.train,
        dev: Vec::new(),
        batch_size: args.batch_size,
        aux_alpha: loaded.config.aux_loss_alpha,
    };
    let (_, report, log) = real::train_steps(
        loaded.model,
        &method,
        &task,
        args.steps,
        args.lr,
        Some(1.0),
        args.seed,
        &device,
    );
    let row = serde_json::json!({
        "method": args.method, "batch_size": args.batch_size,
        "trainable_params": report.trainable, "total_params": report.total,
        "losses": log.losses, "step_s": log.seconds,
    });
    println!("{row}");
    Ok(())
}

fn perplexity_cmd(args: &PerplexityArgs) -> Result<()> {
    let device = parse_device(&args.device)?;
    let (ppl, lines, tokens) = real::perplexity_of_dir(
        &args.model,
        &args.text,
        args.limit,
        args.batch_size,
        &device,
    )?;
    let row = serde_json::json!({
        "model": args.model, "text": args.text, "lines": lines, "tokens": tokens,
        "perplexity": ppl,
    });
    println!("{row}");
    Ok(())
}

fn experiment_esft_cmd(args: &ExperimentEsftArgs) -> Result<()> {
    let device = training_device(&args.device)?;
    let mut settings = RealSettings::new(
        args.methods.clone(),
        args.seeds.clone(),
        args.steps,
        args.batch_size,
    );
    settings.eval_limit = args.eval_limit;
    settings.general_limit = args.general_limit;
    settings.stats_tokens = args.stats_tokens;
    settings.max_new_tokens = args.max_new_tokens;
    for (method, lr) in &args.lrs {
        settings.lrs.insert(method.name().to_string(), *lr);
    }
    let inputs = RealInputs {
        model: args.model.clone(),
        train: args.esft_train.clone(),
        eval: args.esft_eval.clone(),
        general_text: args.general_text.clone(),
    };
    let results = real_experiment::run(&inputs, &settings, &args.out, &device)?;
    for r in &results {
        println!("{}", serde_json::to_string(r)?);
    }
    eprintln!("wrote {}", args.out.join("report.md").display());
    Ok(())
}

fn score_cmd(args: &ScoreArgs) -> Result<()> {
    let report = score_completions(args.task, &args.completions)?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    let source = if report.rescored {
        "re-scored"
    } else {
        "stored judge scores"
    };
    println!(
        "{}: n = {}, score = {:.2} ({source}), stored = {:.2}, mismatches = {}",
        report.task,
        report.n,
        report.score,
        report.stored_score,
        report.mismatches.len()
    );
    for m in report.mismatches.iter().take(10) {
        println!(
            "  line {}: stored {}, computed {}",
            m.line, m.stored, m.computed
        );
    }
    Ok(())
}
