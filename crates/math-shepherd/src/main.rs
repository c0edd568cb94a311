//! `math-shepherd` command-line interface.

use clap::Parser;

/// Math-Shepherd: automatic process annotation, process reward models, best-of-N verification and step-level PPO.
#[derive(Parser)]
#[command(version, about)]
struct Cli {}

fn main() {
    burnlp_runtime::init();
    let _cli = Cli::parse();
}
