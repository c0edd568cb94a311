//! Integration tests of `frame-parse`: one binary, a module per topic.

mod baseline;
mod conll;
mod demo;
mod fkg;
mod lexicon;
mod model;
mod score;
mod shared;

use std::path::PathBuf;

/// The shared FrameNet 1.7 folder, or `None` (with a printed line) when it is absent.
pub fn shared_framenet() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets/framenet17");
    if dir.join("frame").exists() {
        Some(dir)
    } else {
        println!("skipped: {} is absent", dir.display());
        None
    }
}

/// The demo lexicon directory of this crate.
pub fn demo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/demo")
}
