//! `synth-tasks`: synthetic tasks that exercise burnlp-core's layers.

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
        #[command(flatten)]
        demo: burnlp_core::cli::DemoArgs,
        /// Which tasks to run (all by default).
        #[arg(long, value_enum)]
        task: Vec<Which>,
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
    burnlp_runtime::main(run, burnlp_core::cli::exit_code);
}

fn run(cli: Cli) -> Result<()> {
    let Command::Demo { demo, task } = cli.command;
    let (out, json) = (demo.dir("synth-tasks"), demo.json);
    let tasks = if task.is_empty() {
        vec![Which::Graph, Which::Copy]
    } else {
        task
    };
    let mut rows = Vec::new();
    for which in tasks {
        rows.push(match which {
            Which::Graph => synth_tasks::graph::demo(&out.join("graph"))?,
            Which::Copy => synth_tasks::copy::demo(&out.join("copy"))?,
        });
    }
    Ok(burnlp_core::report::print_rows(&rows, json)?)
}
