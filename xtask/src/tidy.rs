//! Repository rules checked as tests (run by `cargo test --workspace`).

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    /// Files tracked by git, relative to the workspace root.
    fn tracked_files() -> Vec<PathBuf> {
        let output = std::process::Command::new("git")
            .args(["ls-files", "-z"])
            .current_dir(crate::root())
            .output()
            .expect("git is installed");
        assert!(output.status.success(), "git ls-files failed");
        output
            .stdout
            .split(|&b| b == 0)
            .filter(|name| !name.is_empty())
            .map(|name| PathBuf::from(String::from_utf8_lossy(name).into_owned()))
            .collect()
    }

    #[test]
    fn every_rust_file_opens_with_a_module_doc_comment() {
        let missing: Vec<PathBuf> = tracked_files()
            .into_iter()
            .filter(|path| path.extension().is_some_and(|e| e == "rs"))
            .filter(|path| {
                let text = std::fs::read_to_string(crate::root().join(path)).unwrap_or_default();
                !text.starts_with("//!")
            })
            .collect();
        assert!(
            missing.is_empty(),
            "files without a `//!` header: {missing:?}"
        );
    }

    #[test]
    fn committed_fixtures_stay_small() {
        const LIMIT: u64 = 512 * 1024;
        let large: Vec<(PathBuf, u64)> = tracked_files()
            .into_iter()
            .filter(|path| path.components().any(|c| c.as_os_str() == "tests"))
            .filter_map(|path| {
                let size = std::fs::metadata(crate::root().join(&path)).ok()?.len();
                (size > LIMIT).then_some((path, size))
            })
            .collect();
        assert!(
            large.is_empty(),
            "test fixtures over {LIMIT} bytes: {large:?}"
        );
    }

    /// Whether a path lies in a crate's `tests/golden/` (tiny random models made by our scripts).
    fn is_golden_fixture(path: &Path) -> bool {
        let parts: Vec<_> = path.components().map(|c| c.as_os_str()).collect();
        parts.len() > 4 && parts[0] == "crates" && parts[2] == "tests" && parts[3] == "golden"
    }

    #[test]
    fn nothing_from_shared_is_committed() {
        let copied: Vec<PathBuf> = tracked_files()
            .into_iter()
            .filter(|path| {
                path.file_name().is_some_and(|n| n == "model.safetensors")
                    && !is_golden_fixture(path)
            })
            .collect();
        assert!(
            copied.is_empty(),
            "model weights outside test fixtures: {copied:?}"
        );
    }
}
