//! Running the workspace's binaries from the end-to-end tests in `tests/cli/`.
//!
//! The binaries are those `cargo nextest run --workspace` (or `cargo build --workspace --bins`)
//! built into the same target directory as this test; a missing one is a failure that says how
//! to build it, never a skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The target directory's profile folder (`target/debug`) of the running test binary.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    // target/debug/deps/cli-HASH → target/debug
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps")
        .to_path_buf()
}

/// The path of the workspace binary `name`.
pub fn binary(name: &str) -> PathBuf {
    let path = profile_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is not built; run `cargo build --workspace --bins` (cargo xtask ci does)",
        path.display()
    );
    path
}

/// What a run printed, with its exit status.
pub struct Run {
    /// The raw output.
    pub output: Output,
}

impl Run {
    /// Standard output as text.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    /// Standard error as text.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Asserts success and returns standard output.
    pub fn success(&self) -> String {
        assert!(
            self.output.status.success(),
            "expected success, got {}\nstdout:\n{}\nstderr:\n{}",
            self.output.status,
            self.stdout(),
            self.stderr()
        );
        self.stdout()
    }

    /// Asserts failure (without a panic or a signal) and returns standard error.
    pub fn failure(&self) -> String {
        let stderr = self.stderr();
        assert!(
            !self.output.status.success(),
            "expected failure\nstdout:\n{}",
            self.stdout()
        );
        assert!(
            self.output.status.code().is_some(),
            "killed by a signal: {stderr}"
        );
        assert!(
            !stderr.contains("panicked at"),
            "a panic, not an error: {stderr}"
        );
        stderr
    }
}

/// Runs `name` with `args` in the workspace root.
pub fn run(name: &str, args: &[&str]) -> Run {
    let output = Command::new(binary(name))
        .args(args)
        .current_dir(workspace_root())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
    Run { output }
}

/// The workspace root (where `../shared` is found).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
        .to_path_buf()
}

/// `../shared/<relative>` if present; otherwise prints why the caller skips and returns `None`.
pub fn shared(relative: &str) -> Option<PathBuf> {
    let path = workspace_root().join("../shared").join(relative);
    if path.exists() {
        Some(path)
    } else {
        println!("skipped: {} is absent", path.display());
        None
    }
}
