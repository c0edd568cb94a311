//! `synth-tasks`: synthetic tasks that exercise burnlp-core's layers.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};

/// Synthetic tasks for burnlp-core's graph encoder and seq2seq Transformer.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train and evaluate the synthetic tasks and report their scores.
    Demo {
        /// Run directory (one subdirectory per task).
        #[arg(long, default_value = "target/burnlp/demo/synth-tasks")]
        out: PathBuf,
        /// Which tasks to run (all by default).
        #[arg(long, value_enum)]
        task: Vec<Which>,
        /// Print each result as one JSON line (for `cargo xtask demo`).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    /// Graph classification with the relational GCN.
    Graph,
    /// Sequence copying with the encoder-decoder Transformer.
    Copy,
}

fn main() {
    burnlp_runtime::init();
    burnlp_runtime::exit_on_error(run(Cli::parse()));
}

fn run(cli: Cli) -> Result<()> {
    let Command::Demo { out, task, json } = cli.command;
    let tasks = if task.is_empty() {
        vec![Which::Graph, Which::Copy]
    } else {
        task
    };
    let mut failures = Vec::new();
    for which in tasks {
        let result = match which {
            Which::Graph => synth_tasks::graph::demo(&out.join("graph"))?,
            Which::Copy => synth_tasks::copy::demo(&out.join("copy"))?,
        };
        if json {
            println!("{}", serde_json::to_string(&result)?);
        } else {
            println!(
                "{}: {} {:.4} (target ≥ {}) in {:.1} s",
                result.task, result.metric, result.score, result.target, result.wall_s
            );
        }
        if result.score < result.target {
            failures.push(format!(
                "{} {:.4} < {}",
                result.task, result.score, result.target
            ));
        }
    }
    if !failures.is_empty() {
        anyhow::bail!("below target: {}", failures.join("; "));
    }
    Ok(())
}
