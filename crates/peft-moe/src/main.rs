//! `peft-moe` command-line interface.

use clap::Parser;

/// ESFT: expert-specialized fine-tuning of Mixture-of-Experts LMs, with routing analysis and LoRA / full fine-tuning baselines.
#[derive(Parser)]
#[command(version, about)]
struct Cli {}

fn main() {
    burnlp_runtime::init();
    let _cli = Cli::parse();
}
