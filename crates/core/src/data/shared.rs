//! Locating the workspace's `shared/` folder (real datasets, models and specs kept beside the
//! checkout, not in it) from tests, demos and experiments.
//!
//! A user's clone has no `shared/`, so code that reads it asks [`shared_path`] and skips with a
//! printed line naming the missing path when the answer is `None`.

use std::path::{Path, PathBuf};

/// The environment variable that overrides where the shared folder is.
pub const SHARED_ENV: &str = "BURNLP_SHARED";

/// The shared folder: `$BURNLP_SHARED` when set, else the first `shared/` directory holding a
/// `datasets/` or `models/` folder beside the current directory or one of its ancestors (from a
/// crate's directory, where `cargo test` runs, that is the `shared/` beside the workspace).
pub fn shared_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(SHARED_ENV) {
        let dir = PathBuf::from(dir);
        return dir.is_dir().then_some(dir);
    }
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .map(|a| a.join("shared"))
        .find(|s| is_shared(s))
}

fn is_shared(dir: &Path) -> bool {
    dir.join("datasets").is_dir() || dir.join("models").is_dir()
}

/// `relative` inside the shared folder when it exists; otherwise prints
/// `skipped: <path> is absent` (the path that was looked for) and returns `None`.
///
/// ```no_run
/// let Some(file) = burnlp_core::data::shared_path("datasets/glue/RTE/dev.tsv") else {
///     return; // skipped, with the reason printed
/// };
/// ```
pub fn shared_path(relative: impl AsRef<Path>) -> Option<PathBuf> {
    let relative = relative.as_ref();
    match shared_dir() {
        Some(dir) if dir.join(relative).exists() => Some(dir.join(relative)),
        Some(dir) => {
            println!("skipped: {} is absent", dir.join(relative).display());
            None
        }
        None => {
            println!(
                "skipped: shared/{} is absent (no shared/ folder beside the workspace; set {SHARED_ENV})",
                relative.display()
            );
            None
        }
    }
}

/// `relative` inside the shared folder, or an early `return` from the enclosing function (a
/// test) after printing which path is absent: the one-line guard of tests that read real data.
///
/// ```no_run
/// fn reads_the_glue_file() {
///     let file = burnlp_core::require_shared!("datasets/glue/RTE/dev.tsv");
///     assert!(file.exists());
/// }
/// ```
#[macro_export]
macro_rules! require_shared {
    ($relative:expr) => {
        match $crate::data::shared_path($relative) {
            Some(path) => path,
            None => return,
        }
    };
}
