//! `amr-aux`: Smatch scoring, Penman checking, SPRING linearisation and PseudoAMR conversion of
//! AMR files, and training, running and evaluating the seq2seq parser.

use amr_aux::demo::{self, ParserDemo};
use anyhow::{Context, Result};
use burnlp_core::report::{DemoRow, print_rows};
use clap::{Args, Parser, Subcommand};

mod depparse_cli;
mod parser_cli;
mod tools_cli;

/// AMR tools for ATP: Smatch scoring and Penman reading/writing.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Smatch between predicted and gold AMR files (graph i against graph i).
    Smatch(tools_cli::SmatchArgs),
    /// Penman file utilities.
    #[command(subcommand)]
    Penman(tools_cli::PenmanCommand),
    /// Score the embedded sample (4 AMR pairs) and compare with its known Smatch, then train a
    /// tiny parser on generated sentences and report its Smatch on generated test sentences that
    /// are not in its training data (a second row).
    Demo(DemoCommand),
    /// Train an AMR parser, seq2seq or (`--parser lm`) a pretrained decoder LM (single-task,
    /// multitask, or intermediate PseudoAMR then AMR).
    Train(parser_cli::TrainArgs),
    /// Parse sentences into AMR graphs with a trained parser (optionally scoring against gold).
    Parse(parser_cli::ParseArgs),
    /// Train with and without intermediate PseudoAMR training and write a Smatch report.
    Experiment(parser_cli::ExperimentArgs),
    /// SPRING linearisation: one token sequence per line for each graph of an AMR file, or
    /// (`--reverse`) Penman graphs from a file of token sequences.
    Linearize(tools_cli::LinearizeArgs),
    /// PseudoAMR: dependency trees (CoNLL-U) or SRL columns as AMR-like graphs in Penman.
    Amrize(tools_cli::AmrizeArgs),
    /// A biaffine dependency parser (Dozat & Manning 2017) on a BERT-family encoder: train it
    /// on CoNLL-U, parse CoNLL-U or raw text, score UAS / LAS as CoNLL 2018.
    #[command(subcommand)]
    Depparse(depparse_cli::DepparseCommand),
}

#[derive(Args)]
struct DemoCommand {
    #[command(flatten)]
    demo: burnlp_core::cli::DemoArgs,
    /// Only the Smatch row: skip training the demo parser.
    #[arg(long)]
    smatch_only: bool,
}

fn main() {
    burnlp_runtime::main(run, burnlp_core::cli::exit_code);
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Smatch(args) => tools_cli::smatch(&args),
        Command::Penman(tools_cli::PenmanCommand::Check { file, json }) => {
            tools_cli::check(&file, json)
        }
        Command::Penman(tools_cli::PenmanCommand::Format { file, compact }) => {
            tools_cli::format(&file, compact)
        }
        Command::Demo(args) => run_demo(&args),
        Command::Linearize(args) => tools_cli::linearize_file(&args),
        Command::Train(args) => parser_cli::train(&args),
        Command::Parse(args) => parser_cli::parse(&args),
        Command::Experiment(args) => parser_cli::experiment(&args),
        Command::Amrize(args) => tools_cli::amrize(&args),
        Command::Depparse(command) => depparse_cli::run(&command),
    }
}

fn run_demo(args: &DemoCommand) -> Result<()> {
    let out = args.demo.dir(demo::TASK);
    let mut rows: Vec<DemoRow> =
        vec![demo::smatch_row(&out).context("scoring the embedded sample")?];
    if !args.smatch_only {
        rows.push(
            ParserDemo::default()
                .row(&out)
                .context("training and testing the demo parser")?,
        );
    }
    Ok(print_rows(&rows, args.demo.json)?)
}
