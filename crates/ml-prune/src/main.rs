//! `ml-prune`: structured pruning of a (multilingual) encoder — prune, profile, demo.

use std::path::PathBuf;

use anyhow::{Context, Result};
use burnlp_core::cli::{DemoArgs, DeviceArgs};
use burnlp_core::report::print_rows;
use clap::{Args, Parser, Subcommand};
use ml_prune::{LatencyConfig, PruneConfig, PruneData, Task};

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
    /// Training file.
    #[arg(long)]
    train: PathBuf,
    /// Dev file (model selection).
    #[arg(long)]
    dev: PathBuf,
    /// Test file (reported only).
    #[arg(long)]
    test: Option<PathBuf>,
    /// Output directory: `full/`, `sS/` per sparsity, `summary.json`.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    config: PruneConfig,
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
    burnlp_runtime::main(run);
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Prune(args) => prune(&args),
        Command::Profile(args) => profile(&args),
        Command::Demo(args) => {
            let dir = args.dir("ml-prune");
            let rows = ml_prune::demo::demo(&dir)
                .with_context(|| format!("running the demo in {}", dir.display()))?;
            Ok(print_rows(&rows, args.json)?)
        }
    }
}

fn prune(args: &PruneArgs) -> Result<()> {
    let read = |path: &PathBuf| {
        args.task
            .read(path)
            .with_context(|| format!("reading {}", path.display()))
    };
    let data = PruneData {
        train: read(&args.train)?,
        dev: read(&args.dev)?,
        test: args.test.as_ref().map(read).transpose()?,
    };
    let report = ml_prune::prune(&args.config, &data, &args.out)
        .with_context(|| format!("pruning into {}", args.out.display()))?;
    println!(
        "{:>8} {:>12} {:>12} {:>9} {:>9} {:>9} {:>10}  dir",
        "sparsity", "params", "non-emb", "dev-pru", "dev", "test", "ms/batch"
    );
    for m in &report.models {
        println!(
            "{:>8.2} {:>12} {:>12} {:>9.4} {:>9.4} {:>9} {:>10.2}  {}",
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
