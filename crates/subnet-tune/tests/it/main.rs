//! subnet-tune integration tests: readers on the shared files, mask semantics through the
//! public API, strategies that train and reload, and located errors.

mod masks;
mod readers;
mod tatoeba;

use std::path::PathBuf;

/// A shared-data path, or `None` with a printed line when it is absent (a user's clone).
pub fn shared(relative: &str) -> Option<PathBuf> {
    burnlp_core::data::shared_path(relative)
}
