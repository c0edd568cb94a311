//! `mls-nmt` command-line interface.

use clap::Parser;

/// Transformer NMT with masked label smoothing over a shared vocabulary (BLEU, calibration).
#[derive(Parser)]
#[command(version, about)]
struct Cli {}

fn main() {
    burnlp_runtime::init();
    let _cli = Cli::parse();
}
