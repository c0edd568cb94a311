//! subnet-tune integration tests: readers on the shared files, mask semantics through the
//! public API, strategies that train and reload, and located errors.

mod masks;
mod readers;
mod tatoeba;

use std::path::{Path, PathBuf};

/// A shared-data path, or `None` with a printed line when it is absent (a user's clone).
pub fn shared(relative: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(relative);
    if path.exists() {
        Some(path)
    } else {
        println!("skipped: {} is absent", path.display());
        None
    }
}
