//! Synthetic graph classification with the relational GCN.

use std::path::Path;

use crate::DemoResult;

/// Trains and evaluates the graph classifier, writing its run to `out`.
pub fn demo(_out: &Path) -> anyhow::Result<DemoResult> {
    anyhow::bail!("not implemented yet")
}
