//! `fssl-span` command-line interface.

use clap::Parser;

/// ESD span-based few-shot sequence labeling (Few-NERD, SNIPS episodes).
#[derive(Parser)]
#[command(version, about)]
struct Cli {}

fn main() {
    burnlp_runtime::init();
    let _cli = Cli::parse();
}
