//! Integration tests of `arxiv-cap`, gathered into one test binary; one module per topic.

mod bertscore;
mod captioner;
mod data;
mod extraction;
mod images;
mod lvlm;
mod output;
mod parser;
mod released;

use std::path::PathBuf;

/// `../shared/<relative>` seen from the workspace root, if present; otherwise prints why the
/// caller skips.
pub fn shared(relative: &str) -> Option<PathBuf> {
    burnlp_core::data::shared_path(relative)
}

/// A source tree from `(path, text)` pairs.
pub fn tree(files: &[(&str, &str)]) -> arxiv_cap::SourceTree {
    arxiv_cap::SourceTree::from_files(
        "test",
        files.iter().map(|(p, t)| (*p, t.as_bytes().to_vec())),
    )
}
