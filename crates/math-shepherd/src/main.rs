//! `math-shepherd` command-line interface.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use std::time::{Duration, Instant};

use burnlp_core::cli::DeviceArgs;
use burnlp_core::data::{read_jsonl, write_jsonl};
use burnlp_core::device::{parse_device, training_device};
use indicatif::ProgressBar;
use math_shepherd::annotate::AnnotatedSolution;
use math_shepherd::annotate::{
    AnnotateSettings, ProblemRecord, SolutionRecord, annotate, read_inputs,
};
use math_shepherd::complete::{Completer, HttpSettings, completer_from_spec};
use math_shepherd::experiment::{
    PipelineSettings, run_pipeline, sample_candidates, synthetic_test_problems,
};
use math_shepherd::lm::{LanguageModel, SampleParams, is_correct};
use math_shepherd::lm::{PolicySettings, train_policy};
use math_shepherd::ppo::{PpoSettings, ppo, test_accuracy};
use math_shepherd::prm::{LabelKind, RewardKind, RewardModel, RewardSettings, train_reward_model};
use math_shepherd::prm800k::convert_prm800k;
use math_shepherd::server::{ServerLimits, start_server};
use math_shepherd::synth::prompt;
use math_shepherd::synth::{SynthConfig, generate_problems};
use math_shepherd::verify::{curves, markdown_table, svg_plot};
use math_shepherd::{AnswerFormat, check_answers};

/// Math-Shepherd: automatic process annotation, process reward models, best-of-N verification
/// and step-level PPO.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check answer extraction on a benchmark file: gold solution's answer vs gold answer.
    Answers(AnswersArgs),
    /// Write synthetic problems (with gold solutions) as JSON lines.
    Generate(GenerateArgs),
    /// Train the tiny policy LM on gold solutions of synthetic problems.
    TrainPolicy(TrainPolicyArgs),
    /// Sample solutions of problems with a completer (for annotation or verification).
    Sample(SampleArgs),
    /// Serve a policy behind an OpenAI-compatible /v1/completions endpoint.
    Serve(ServeArgs),
    /// Annotate solution steps automatically (hard and soft estimation); resumable.
    Annotate(AnnotateArgs),
    /// Convert PRM800K step ratings to the Math-Shepherd format.
    ConvertPrm800k(ConvertArgs),
    /// Train a process reward model on annotated solutions (LM backbone, scores at step tags).
    TrainPrm(TrainRewardArgs),
    /// Train an outcome reward model on annotated solutions (score at the last step tag).
    TrainOrm(TrainRewardArgs),
    /// Best-of-N verification curves: PRM, ORM, self-consistency, reward-weighted voting.
    Verify(VerifyArgs),
    /// Step-by-step PPO of a policy with PRM rewards at step ends (or ORM-PPO with an ORM).
    Ppo(PpoArgs),
    /// Train, annotate, train reward models and verify on the embedded synthetic task (small).
    Demo(DemoArgs),
    /// The results suite on the synthetic task; writes a markdown report.
    Experiment(ExperimentArgs),
}

#[derive(Args)]
struct PpoArgs {
    /// Policy run directory to start from (also the frozen reference).
    #[arg(long)]
    policy: PathBuf,
    /// Reward-model run directory (`train-prm`: step rewards; `train-orm`: final reward).
    #[arg(long)]
    reward: PathBuf,
    /// Output run directory of the tuned policy.
    #[arg(long)]
    out: PathBuf,
    /// Rollout-and-update iterations.
    #[arg(long, default_value_t = 20)]
    iterations: usize,
    /// Problems (one sampled solution each) per iteration.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 1e-4)]
    lr: f64,
    /// KL penalty coefficient.
    #[arg(long, default_value_t = 0.04)]
    kl_coef: f64,
    /// Synthetic test problems for the greedy accuracy before and after.
    #[arg(long, default_value_t = 200)]
    test_problems: usize,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct DemoArgs {
    /// Print one JSON object per result row.
    #[arg(long)]
    json: bool,
    /// Working directory (models, annotations); a temporary one when absent.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct ExperimentArgs {
    /// The markdown report to write (e.g. docs/results/math-shepherd.md).
    #[arg(long)]
    out: PathBuf,
    /// Working directory (models, annotations, curves).
    #[arg(long, default_value = "target/burnlp/experiment/math-shepherd")]
    work_dir: PathBuf,
    /// Use the demo's sizes (a quick check of the suite).
    #[arg(long)]
    quick: bool,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct TrainRewardArgs {
    /// Annotated solutions (output of `annotate` or `convert-prm800k`).
    #[arg(long)]
    data: PathBuf,
    /// Policy run directory whose LM is the backbone.
    #[arg(long)]
    backbone: PathBuf,
    /// Run directory of the reward model.
    #[arg(long)]
    out: PathBuf,
    /// Step labels (PRM): hard (HE) or soft (SE) estimation.
    #[arg(long, value_enum, default_value = "hard")]
    labels: LabelKind,
    /// Optimizer steps.
    #[arg(long, default_value_t = 150)]
    steps: usize,
    /// Solutions per batch.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Seed of the split and the batch order.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct VerifyArgs {
    /// Policy run directory that samples the candidates.
    #[arg(long)]
    policy: PathBuf,
    /// Problems (JSON lines: id, question, answer); default: synthetic test problems.
    #[arg(long)]
    problems: Option<PathBuf>,
    /// Number of synthetic test problems when --problems is absent.
    #[arg(long, default_value_t = 100)]
    synthetic: usize,
    /// PRM run directory.
    #[arg(long)]
    prm: Option<PathBuf>,
    /// ORM run directory.
    #[arg(long)]
    orm: Option<PathBuf>,
    /// Candidate counts, comma-separated.
    #[arg(short = 'N', long, value_delimiter = ',', default_value = "1,4,16,64")]
    n: Vec<usize>,
    /// Sampling temperature of the candidates.
    #[arg(long, default_value_t = 1.0)]
    temperature: f64,
    /// Sampling seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output directory (verify.md, verify.svg, verify.json).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args, Clone)]
struct CompleterArgs {
    /// `local:RUN_DIR` (in-process policy) or the URL of an OpenAI-compatible server.
    #[arg(long)]
    completer: String,
    /// Model name sent to an HTTP server.
    #[arg(long, default_value = "policy")]
    model_name: String,
    /// HTTP requests in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Prompts per HTTP request.
    #[arg(long, default_value_t = 4)]
    prompts_per_request: usize,
    /// HTTP retries after a failed attempt (exponential backoff from 200 ms).
    #[arg(long, default_value_t = 3)]
    retries: usize,
    /// HTTP request timeout in seconds.
    #[arg(long, default_value_t = 120.0)]
    timeout_s: f64,
    #[command(flatten)]
    device: DeviceArgs,
}

impl CompleterArgs {
    fn build(&self) -> Result<Box<dyn Completer>> {
        let device = parse_device(&self.device)?;
        let http = HttpSettings {
            model: self.model_name.clone(),
            concurrency: self.concurrency,
            prompts_per_request: self.prompts_per_request,
            retries: self.retries,
            backoff: Duration::from_millis(200),
            timeout: Duration::from_secs_f64(self.timeout_s),
        };
        completer_from_spec(&self.completer, &device, http)
            .with_context(|| format!("opening completer {}", self.completer))
    }
}

#[derive(Args)]
struct SampleArgs {
    /// Problems (JSON lines: id, question, answer).
    #[arg(long)]
    problems: PathBuf,
    #[command(flatten)]
    completer: CompleterArgs,
    /// Solutions per problem.
    #[arg(short = 'n', long, default_value_t = 4)]
    n: usize,
    /// Sampling temperature (0: greedy).
    #[arg(long, default_value_t = 1.0)]
    temperature: f64,
    /// Most generated tokens per solution.
    #[arg(long, default_value_t = 96)]
    max_tokens: usize,
    /// Sampling seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output (JSON lines: id, problem_id, solution).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct ServeArgs {
    /// Policy run directory (model.json, model.safetensors).
    #[arg(long)]
    model: PathBuf,
    /// Address to listen on; loopback by default (anything else exposes the model).
    #[arg(long, default_value = "127.0.0.1:8000")]
    addr: String,
    /// Worker threads (requests served at once).
    #[arg(long, default_value_t = 4)]
    workers: usize,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    max_body_bytes: usize,
    /// Largest `n` per request.
    #[arg(long, default_value_t = 64)]
    max_n: usize,
    /// Largest `max_tokens` per request.
    #[arg(long, default_value_t = 512)]
    max_tokens: usize,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct AnnotateArgs {
    /// Problems (JSON lines: id, question, answer).
    #[arg(long)]
    problems: PathBuf,
    /// Solutions (JSON lines: id, problem_id, solution with one step per line).
    #[arg(long)]
    solutions: PathBuf,
    #[command(flatten)]
    completer: CompleterArgs,
    /// Completions per step.
    #[arg(short = 'n', long, default_value_t = 8)]
    n: usize,
    /// Sampling temperature of the completions.
    #[arg(long, default_value_t = 1.0)]
    temperature: f64,
    /// Most generated tokens per completion.
    #[arg(long, default_value_t = 96)]
    max_tokens: usize,
    /// Answer conventions (gsm8k: numbers; math: LaTeX).
    #[arg(long, value_enum, default_value = "gsm8k")]
    format: AnswerFormat,
    /// Task name written into the records.
    #[arg(long, default_value = "synthetic")]
    task: String,
    /// Sampling seed (each solution's seed also depends on its id).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Stop after this many new solutions (rerun to continue).
    #[arg(long)]
    limit: Option<usize>,
    /// Solutions annotated concurrently (keeps an HTTP server busy; 1 for a local model).
    #[arg(long, default_value_t = 8)]
    parallel: usize,
    /// Output (JSON lines, appended; solutions already there are skipped).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct ConvertArgs {
    /// PRM800K file (JSON lines or concatenated pretty-printed records).
    input: PathBuf,
    /// Output (JSON lines in the Math-Shepherd format).
    #[arg(long)]
    out: PathBuf,
    /// Label neutral (0) ratings as bad instead of good.
    #[arg(long)]
    neutral_bad: bool,
}

#[derive(Args)]
struct GenerateArgs {
    /// Number of problems.
    #[arg(long, default_value_t = 100)]
    count: usize,
    /// Seed of the generator.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Output file (JSON lines: id, question, answer, steps).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct TrainPolicyArgs {
    /// Run directory (model.json, model.safetensors, metrics.jsonl, checkpoints).
    #[arg(long)]
    out: PathBuf,
    /// Optimizer steps.
    #[arg(long, default_value_t = 300)]
    steps: usize,
    /// Hidden size.
    #[arg(long, default_value_t = 64)]
    hidden: usize,
    /// Decoder layers.
    #[arg(long, default_value_t = 2)]
    layers: usize,
    /// Sequences per batch.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 1e-2)]
    lr: f64,
    /// Seed of data, initialisation and batch order.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct AnswersArgs {
    /// Answer conventions of the file.
    #[arg(long, value_enum)]
    format: AnswerFormat,
    /// JSON-lines file (GSM8K: question/answer; MATH: problem/solution/answer).
    file: PathBuf,
    /// Print one JSON object (total, matched, share, mismatches) instead of text.
    #[arg(long)]
    json: bool,
}

fn main() {
    burnlp_runtime::init();
    burnlp_runtime::exit_on_error(run(Cli::parse()));
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Answers(args) => answers(&args),
        Command::Generate(args) => {
            let problems = generate_problems(args.count, args.seed, &SynthConfig::default());
            write_jsonl(&args.out, &problems)?;
            Ok(())
        }
        Command::TrainPolicy(args) => train_policy_cmd(&args),
        Command::Sample(args) => sample_cmd(&args),
        Command::Serve(args) => serve_cmd(&args),
        Command::Annotate(args) => annotate_cmd(&args),
        Command::TrainPrm(args) => train_reward_cmd(&args, RewardKind::Prm),
        Command::TrainOrm(args) => train_reward_cmd(&args, RewardKind::Orm),
        Command::Verify(args) => verify_cmd(&args),
        Command::Ppo(args) => ppo_cmd(&args),
        Command::Demo(args) => demo_cmd(&args),
        Command::Experiment(args) => experiment_cmd(&args),
        Command::ConvertPrm800k(args) => {
            let records = convert_prm800k(&args.input, !args.neutral_bad)
                .with_context(|| format!("converting {}", args.input.display()))?;
            write_jsonl(&args.out, &records)?;
            println!(
                "{} trajectories written to {}",
                records.len(),
                args.out.display()
            );
            Ok(())
        }
    }
}

fn sample_cmd(args: &SampleArgs) -> Result<()> {
    let problems: Vec<ProblemRecord> = read_jsonl(&args.problems)?;
    let completer = args.completer.build()?;
    let params = SampleParams {
        n: args.n,
        max_tokens: args.max_tokens,
        temperature: args.temperature,
        seed: args.seed,
        ..SampleParams::default()
    };
    let prompts: Vec<String> = problems.iter().map(|p| prompt(&p.question)).collect();
    let outputs = completer.complete(&prompts, &params)?;
    let mut records = Vec::new();
    let mut correct = 0;
    for (p, samples) in problems.iter().zip(outputs) {
        for (j, c) in samples.into_iter().enumerate() {
            correct += usize::from(is_correct(&c.text, &p.answer));
            records.push(SolutionRecord {
                id: format!("{}-{j}", p.id),
                problem_id: p.id.clone(),
                solution: c.text,
            });
        }
    }
    write_jsonl(&args.out, &records)?;
    println!(
        "{} solutions written to {} ({:.3} correct)",
        records.len(),
        args.out.display(),
        correct as f64 / records.len().max(1) as f64
    );
    Ok(())
}

fn serve_cmd(args: &ServeArgs) -> Result<()> {
    let device = parse_device(&args.device)?;
    let lm = LanguageModel::load(&args.model, &device)
        .with_context(|| format!("loading {}", args.model.display()))?;
    let limits = ServerLimits {
        max_body_bytes: args.max_body_bytes,
        max_n: args.max_n,
        max_tokens: args.max_tokens,
        ..ServerLimits::default()
    };
    let name = args.model.display().to_string();
    let handle = start_server(lm, &name, &args.addr, args.workers, limits)?;
    eprintln!("serving {name} on http://{}/v1/completions", handle.addr());
    handle.join();
    Ok(())
}

fn annotate_cmd(args: &AnnotateArgs) -> Result<()> {
    let (problems, solutions) = read_inputs(&args.problems, &args.solutions)?;
    let completer = args.completer.build()?;
    let settings = AnnotateSettings {
        n: args.n,
        sampling: SampleParams {
            max_tokens: args.max_tokens,
            temperature: args.temperature,
            seed: args.seed,
            ..SampleParams::default()
        },
        format: args.format,
        task: args.task.clone(),
        limit: args.limit,
        parallel: args.parallel,
    };
    let bar = ProgressBar::new(solutions.len() as u64);
    let start = Instant::now();
    let summary = annotate(
        completer.as_ref(),
        &problems,
        &solutions,
        &settings,
        &args.out,
        |done, _| bar.set_position(done as u64),
    )?;
    bar.finish_and_clear();
    println!(
        "{}",
        serde_json::json!({
            "skipped": summary.skipped, "annotated": summary.annotated,
            "remaining": summary.remaining, "wall_s": start.elapsed().as_secs_f64(),
        })
    );
    Ok(())
}

fn train_policy_cmd(args: &TrainPolicyArgs) -> Result<()> {
    let device = training_device(&args.device)?;
    let settings = PolicySettings {
        hidden: args.hidden,
        layers: args.layers,
        steps: args.steps,
        batch_size: args.batch_size,
        lr: args.lr,
        seed: args.seed,
        ..PolicySettings::default()
    };
    let start = Instant::now();
    let (_, accuracy) = train_policy(&settings, &SynthConfig::default(), &args.out, &device, true)
        .with_context(|| format!("training the policy in {}", args.out.display()))?;
    println!(
        "policy written to {}: greedy dev accuracy {accuracy:.3} ({:.1}s)",
        args.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn answers(args: &AnswersArgs) -> Result<()> {
    let report = check_answers(&args.file, args.format)
        .with_context(|| format!("checking answers of {}", args.file.display()))?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    println!(
        "{}: {}/{} extracted answers match ({:.2}%)",
        args.file.display(),
        report.matched,
        report.total,
        100.0 * report.share
    );
    if let Some(body) = report.body_matched {
        println!(
            "solution body without the #### line: {body}/{} match",
            report.total
        );
    }
    for m in &report.mismatches {
        println!(
            "  record {}: extracted {:?}, gold {:?}",
            m.index, m.extracted, m.gold
        );
    }
    Ok(())
}

fn train_reward_cmd(args: &TrainRewardArgs, kind: RewardKind) -> Result<()> {
    let records: Vec<AnnotatedSolution> = read_jsonl(&args.data)?;
    let device = training_device(&args.device)?;
    let settings = RewardSettings {
        kind,
        labels: args.labels,
        steps: args.steps,
        batch_size: args.batch_size,
        lr: args.lr,
        dev_share: 0.1,
        seed: args.seed,
    };
    let (_, metrics) = train_reward_model(
        &records,
        &args.backbone,
        &settings,
        &args.out,
        &device,
        true,
    )
    .with_context(|| format!("training a reward model in {}", args.out.display()))?;
    println!("{}", serde_json::to_string(&metrics)?);
    Ok(())
}

fn verify_cmd(args: &VerifyArgs) -> Result<()> {
    let device = parse_device(&args.device)?;
    let problems: Vec<ProblemRecord> = match &args.problems {
        Some(path) => read_jsonl(path)?,
        None => synthetic_test_problems(args.synthetic),
    };
    let policy = LanguageModel::load(&args.policy, &device)
        .with_context(|| format!("loading {}", args.policy.display()))?;
    let prm = args
        .prm
        .as_ref()
        .map(|d| RewardModel::load(d, &device))
        .transpose()?;
    let orm = args
        .orm
        .as_ref()
        .map(|d| RewardModel::load(d, &device))
        .transpose()?;
    let max_n = args.n.iter().copied().max().unwrap_or(1);
    let start = Instant::now();
    let candidates = sample_candidates(
        &policy,
        &problems,
        max_n,
        args.temperature,
        args.seed,
        prm.as_ref(),
        orm.as_ref(),
    )?;
    let points = curves(&candidates, &args.n, AnswerFormat::Gsm8k);
    std::fs::create_dir_all(&args.out)?;
    let table = markdown_table(&points);
    std::fs::write(args.out.join("verify.md"), &table)?;
    std::fs::write(args.out.join("verify.svg"), svg_plot(&points))?;
    std::fs::write(
        args.out.join("verify.json"),
        serde_json::to_string_pretty(&points)?,
    )?;
    println!(
        "{table}\n({} problems, {:.1}s)",
        problems.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn demo_cmd(args: &DemoArgs) -> Result<()> {
    let temp;
    let dir = match &args.out {
        Some(dir) => dir.clone(),
        None => {
            temp = TempDir::new()?;
            temp.0.clone()
        }
    };
    std::fs::create_dir_all(&dir)?;
    let device = training_device("cpu")?;
    let report = run_pipeline(&PipelineSettings::demo(), &dir, &device, !args.json)?;
    for row in &report.rows {
        if args.json {
            println!("{}", serde_json::to_string(row)?);
        } else {
            println!("{:<55} {:.3}", row.metric, row.score);
        }
    }
    Ok(())
}

/// A directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("math-shepherd-demo-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Self(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How to read the experiment's numbers against the paper (appended to every report).
const READING_NOTE: &str = "
## Reading these numbers

- The paper (Mistral-7B and larger on GSM8K/MATH) finds PRM best-of-N > ORM best-of-N > \
self-consistency as N grows, and step-level PPO with the PRM above ORM-PPO. This is a tiny \
character-level policy on synthetic arithmetic, one seed, with reward models trained on about 1,200 \
annotated solutions (300 problems × 4); where the table disagrees with the paper, that is the finding at \
this scale, not a tuned result.
- The annotation itself behaves as the paper describes: hard and soft estimates agree with the \
generator's known first wrong step (rows `annotation … agreement`), and soft scores separate good \
from bad steps.
- The reward models barely beat the majority label on held-out steps, so ranking N samples by \
them (or using them as PPO rewards) can pick confident wrong solutions; voting (self-consistency) \
is the robust choice here. Larger annotation sets and reward models are the obvious next step.
";

fn experiment_cmd(args: &ExperimentArgs) -> Result<()> {
    let settings = if args.quick {
        PipelineSettings::demo()
    } else {
        PipelineSettings::full()
    };
    std::fs::create_dir_all(&args.work_dir)?;
    let device = training_device(&args.device)?;
    let start = Instant::now();
    let report = run_pipeline(&settings, &args.work_dir, &device, true)?;
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    // The curves sit beside the report (`X.md` → `X.svg`) so its link works wherever it is read.
    let svg_path = args.out.with_extension("svg");
    std::fs::write(&svg_path, svg_plot(&report.curves))?;
    let mut md = String::from("# Math-Shepherd on the synthetic arithmetic task\n\n");
    md.push_str(&format!(
        "Generated by `math-shepherd experiment{}` in {:.0} s ({}).\n\n",
        if args.quick { " --quick" } else { "" },
        start.elapsed().as_secs_f64(),
        args.device
    ));
    md.push_str("## Settings\n\n```json\n");
    md.push_str(&serde_json::to_string_pretty(&settings)?);
    md.push_str("\n```\n\n## Results\n\n| metric | value |\n|---|---|\n");
    for row in &report.rows {
        md.push_str(&format!("| {} | {:.3} |\n", row.metric, row.score));
    }
    md.push_str("\n## Best-of-N verification (accuracy %, synthetic test problems)\n\n");
    md.push_str(&markdown_table(&report.curves));
    let svg_name = svg_path
        .file_name()
        .context("the report path has no file name")?;
    md.push_str(&format!(
        "\n![accuracy against N]({})\n",
        svg_name.to_string_lossy()
    ));
    md.push_str(READING_NOTE);
    std::fs::write(&args.out, md)?;
    println!("report written to {}", args.out.display());
    Ok(())
}

fn ppo_cmd(args: &PpoArgs) -> Result<()> {
    let device = training_device(&args.device)?;
    let plain = parse_device(&args.device)?;
    let rm = RewardModel::load(&args.reward, &plain)
        .with_context(|| format!("loading {}", args.reward.display()))?;
    let before = test_accuracy(
        &LanguageModel::load(&args.policy, &plain)?,
        args.test_problems,
    )?;
    let settings = PpoSettings {
        iterations: args.iterations,
        batch_size: args.batch_size,
        lr: args.lr,
        kl_coef: args.kl_coef,
        ..PpoSettings::default()
    };
    let (tuned, stats) = ppo(&args.policy, &rm, &settings, &device, |s| {
        eprintln!("{}", serde_json::to_string(s).unwrap_or_default());
    })?;
    tuned.save(&args.out)?;
    write_jsonl(args.out.join("ppo.jsonl"), &stats)?;
    let after = test_accuracy(&tuned, args.test_problems)?;
    println!(
        "{}",
        serde_json::json!({"greedy_accuracy_before": before, "greedy_accuracy_after": after})
    );
    Ok(())
}
