//! Synthetic sequence copying with the encoder-decoder Transformer.

use std::path::Path;

use crate::DemoResult;

/// Trains and evaluates the copy model, writing its run to `out`.
pub fn demo(_out: &Path) -> anyhow::Result<DemoResult> {
    anyhow::bail!("not implemented yet")
}
