//! `ml-prune`: structured pruning of a (multilingual) encoder — prune, profile, demo.

use std::path::PathBuf;

use anyhow::{Context, Result};
use burnlp_core::cli::{DemoArgs, DeviceArgs};
use burnlp_core::report::print_rows;
use clap::{Args, Parser, Subcommand};
use ml_prune::dynamic::DynamicConfig;
use ml_prune::{LangPath, LatencyConfig, PruneConfig, PruneData, RunControl, Task};

/// Structured pruning of attention heads and FFN neurons (Li et al., ACL 2022,
/// reconstruction).
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fine-tune, score heads and FFN neurons, prune to each sparsity, re-fine-tune, save each
    /// pruned model (a text-cls run with a Hugging Face `encoder/`) and evaluate it.
    Prune(Box<PruneArgs>),
    /// Dynamic Sparsification: fine-tune, rewire by importance, train all widths at once by
    /// distillation from the full model; any width at inference (`eval --width`).
    Dynamic(Box<DynamicArgs>),
    /// Accuracy, parameters (embeddings apart), weight-file size and latency of one model of a
    /// run (`RUN/s0.30`, `RUN/full`, `RUN/dynamic --width 0.5`).
    Eval(EvalArgs),
    /// Table and SVG of accuracy vs sparsity and latency vs size of pruning / dynamic runs.
    Plot(PlotArgs),
    /// Parameters (embeddings apart), size on disk and latency per batch of an encoder.
    Profile(ProfileArgs),
    /// Prune a small encoder trained on a synthetic task; accuracy and latency rows.
    Demo(DemoArgs),
}

#[derive(Args)]
struct PruneArgs {
    /// The task (file format).
    #[arg(long, value_enum)]
    task: Task,
    /// Training file, `PATH` or `LANG=PATH` (repeat for one file per language).
    #[arg(long, required = true)]
    train: Vec<LangPath>,
    /// Dev file (model selection), `PATH` or `LANG=PATH`, repeatable.
    #[arg(long, required = true)]
    dev: Vec<LangPath>,
    /// Test file (reported only), `PATH` or `LANG=PATH`, repeatable.
    #[arg(long)]
    test: Vec<LangPath>,
    /// Output directory: `full/`, `sS/` per sparsity, `summary.json`.
    #[arg(long)]
    out: PathBuf,
    /// Continue a killed run in `--out` (same settings): finished stages are kept, the
    /// unfinished one continues from its newest checkpoint.
    #[arg(long)]
    resume: bool,
    #[command(flatten)]
    config: PruneConfig,
}

#[derive(Args)]
struct DynamicArgs {
    /// The task (file format).
    #[arg(long, value_enum)]
    task: Task,
    /// Training file (`PATH` or `LANG=PATH`, repeatable).
    #[arg(long, required = true)]
    train: Vec<LangPath>,
    /// Dev file (model selection), repeatable.
    #[arg(long, required = true)]
    dev: Vec<LangPath>,
    /// Test file (reported only), repeatable.
    #[arg(long)]
    test: Vec<LangPath>,
    /// Output directory: `full/`, `dynamic/`, `summary.json`.
    #[arg(long)]
    out: PathBuf,
    /// Continue a killed run in `--out` (same settings) from its newest checkpoints.
    #[arg(long)]
    resume: bool,
    #[command(flatten)]
    config: DynamicConfig,
}

#[derive(Args)]
struct EvalArgs {
    /// A model directory of a run (a text-cls run: `RUN/s0.30`, `RUN/full`, `RUN/dynamic`).
    #[arg(long)]
    model: PathBuf,
    /// The task (file format of `--test`).
    #[arg(long, value_enum)]
    task: Task,
    /// Test file(s) (`PATH` or `LANG=PATH`, repeatable); without, only size and latency.
    #[arg(long)]
    test: Vec<LangPath>,
    /// Slice the model to this width first (Dynamic Sparsification: the first ⌈w·H⌉ heads and
    /// ⌈w·F⌉ neurons of every layer), in (0, 1].
    #[arg(long, value_parser = ml_prune::eval::width)]
    width: Option<f64>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    latency: LatencyConfig,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct PlotArgs {
    /// Run directories of `prune` or `dynamic` (each with `summary.json`).
    #[arg(long, required = true, num_args = 1..)]
    runs: Vec<PathBuf>,
    /// The SVG file to write.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct ProfileArgs {
    /// The encoder: a Hugging Face directory, an E5S1 file, or a pruned model directory.
    #[arg(long)]
    model: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    latency: LatencyConfig,
    #[command(flatten)]
    device: DeviceArgs,
}

fn main() {
    burnlp_runtime::main(run, burnlp_core::cli::exit_code);
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Prune(args) => prune(&args),
        Command::Profile(args) => profile(&args),
        Command::Dynamic(args) => dynamic(&args),
        Command::Eval(args) => eval(&args),
        Command::Plot(args) => {
            let table = ml_prune::plot::plot(&args.runs, &args.out)
                .with_context(|| format!("plotting into {}", args.out.display()))?;
            print!("{table}");
            println!("wrote {}", args.out.display());
            Ok(())
        }
        Command::Demo(args) => {
            let dir = args.dir("ml-prune");
            let rows = ml_prune::demo::demo(&dir)
                .with_context(|| format!("running the demo in {}", dir.display()))?;
            Ok(print_rows(&rows, args.json)?)
        }
    }
}

/// Reads the training, dev and (optional) test files of a task.
fn read_data(
    task: Task,
    train: &[LangPath],
    dev: &[LangPath],
    test: &[LangPath],
) -> Result<PruneData> {
    let read = |files: &[LangPath], what: &str| {
        task.read_all(files)
            .with_context(|| format!("reading the {what} files"))
    };
    Ok(PruneData {
        train: read(train, "training")?,
        dev: read(dev, "dev")?,
        test: (!test.is_empty()).then(|| read(test, "test")).transpose()?,
    })
}

fn prune(args: &PruneArgs) -> Result<()> {
    let data = read_data(args.task, &args.train, &args.dev, &args.test)?;
    let control = RunControl {
        resume: args.resume,
        halt_after: None,
    };
    let report = ml_prune::prune_with(&args.config, &data, &args.out, control)
        .with_context(|| format!("pruning into {}", args.out.display()))?;
    println!(
        "{:>5} {:>8} {:>12} {:>12} {:>9} {:>9} {:>9} {:>10}  dir",
        "lang", "sparsity", "params", "non-emb", "dev-pru", "dev", "test", "ms/batch"
    );
    for m in &report.models {
        println!(
            "{:>5} {:>8.2} {:>12} {:>12} {:>9.4} {:>9.4} {:>9} {:>10.2}  {}",
            m.lang.as_deref().unwrap_or("-"),
            m.sparsity,
            m.params.total,
            m.params.without_embeddings,
            m.dev_pruned,
            m.dev,
            m.test.map_or("-".into(), |t| format!("{t:.4}")),
            m.latency.median_ms,
            m.dir.display()
        );
    }
    Ok(())
}

fn profile(args: &ProfileArgs) -> Result<()> {
    let device = args.device.inference()?;
    let p = ml_prune::profile(&args.model, &args.latency, &device)
        .with_context(|| format!("profiling {}", args.model))?;
    if args.json {
        println!("{}", serde_json::to_string(&p)?);
        return Ok(());
    }
    let params = &p.params;
    println!("model            {}", p.model);
    println!(
        "parameters       {} ({} embeddings = {:.1}%, {} attention, {} feed-forward, {} other)",
        params.total,
        params.embeddings,
        100.0 * params.embeddings as f64 / params.total.max(1) as f64,
        params.attention,
        params.feed_forward,
        params.other
    );
    println!(
        "size on disk     {}",
        p.file_bytes.map_or("-".into(), |b| format!("{b} bytes"))
    );
    println!("heads per layer  {:?}", p.heads);
    println!("FFN per layer    {:?}", p.neurons);
    println!(
        "latency          {:.2} ms median, {:.2} ms min per batch of {}×{} ({} runs)",
        p.latency.median_ms, p.latency.min_ms, p.latency.batch, p.latency.seq, p.latency.runs
    );
    Ok(())
}

fn dynamic(args: &DynamicArgs) -> Result<()> {
    let data = read_data(args.task, &args.train, &args.dev, &args.test)?;
    let control = RunControl {
        resume: args.resume,
        halt_after: None,
    };
    let report = ml_prune::dynamic::dynamic_with(&args.config, &data, &args.out, control)
        .with_context(|| format!("dynamic sparsification into {}", args.out.display()))?;
    println!(
        "{:<28} {:>6} {:>12} {:>12} {:>9} {:>9} {:>10}",
        "model", "width", "params", "non-emb", "dev", "test", "ms/batch"
    );
    let rows = report
        .models
        .iter()
        .take(1)
        .map(|m| ("teacher (full)", m))
        .chain(report.full_width.iter().map(|m| ("dynamic", m)))
        .chain(report.models.iter().skip(1).map(|m| ("dynamic", m)))
        .chain(report.cut.iter().map(|m| ("cut, not retrained", m)));
    for (name, m) in rows {
        println!(
            "{:<28} {:>6.2} {:>12} {:>12} {:>9.4} {:>9} {:>10.2}",
            name,
            1.0 - m.sparsity,
            m.params.total,
            m.params.without_embeddings,
            m.dev,
            m.test.map_or("-".into(), |t| format!("{t:.4}")),
            m.latency.median_ms
        );
    }
    Ok(())
}

fn eval(args: &EvalArgs) -> Result<()> {
    let device = args.device.inference()?;
    let test = (!args.test.is_empty())
        .then(|| {
            args.task
                .read_all(&args.test)
                .context("reading the test files")
        })
        .transpose()?;
    let report = ml_prune::eval::eval(
        &args.model,
        test.as_deref(),
        args.width,
        &args.latency,
        &device,
    )
    .with_context(|| format!("evaluating {}", args.model.display()))?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    let params = &report.params;
    println!("model            {}", report.model.display());
    if let Some(w) = report.width {
        println!("width            {w}");
    }
    match report.accuracy {
        Some(a) => println!("accuracy         {a:.4} ({} examples)", report.examples),
        None => println!("accuracy         - (no --test)"),
    }
    println!(
        "parameters       {} ({} embeddings = {:.1}%, {} without)",
        params.total,
        params.embeddings,
        100.0 * params.embeddings as f64 / params.total.max(1) as f64,
        params.without_embeddings
    );
    println!("weights file     {} bytes", report.file_bytes);
    println!("heads per layer  {:?}", report.heads);
    println!("FFN per layer    {:?}", report.neurons);
    println!(
        "latency          {:.2} ms median, {:.2} ms min per batch of {}×{} ({} runs)",
        report.latency.median_ms,
        report.latency.min_ms,
        report.latency.batch,
        report.latency.seq,
        report.latency.runs
    );
    Ok(())
}
