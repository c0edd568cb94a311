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

    /// Rust sources of the workspace's crates (not xtask), with their text.
    fn crate_sources() -> Vec<(PathBuf, String)> {
        tracked_files()
            .into_iter()
            .filter(|path| {
                path.starts_with("crates") && path.extension().is_some_and(|e| e == "rs")
            })
            .map(|path| {
                let text = std::fs::read_to_string(crate::root().join(&path)).unwrap_or_default();
                (path, text)
            })
            .collect()
    }

    #[test]
    fn device_flag_is_declared_only_in_the_shared_group() {
        // `--device` comes from `burnlp_core::cli::DeviceArgs`, flattened into each CLI.
        let declared: Vec<PathBuf> = crate_sources()
            .into_iter()
            .filter(|(path, _)| !path.ends_with("crates/core/src/cli.rs"))
            .filter(|(_, text)| {
                let lines: Vec<&str> = text.lines().collect();
                lines.windows(2).any(|w| {
                    w[0].trim_start().starts_with("#[arg(")
                        && w[1]
                            .trim_start()
                            .trim_start_matches("pub ")
                            .starts_with("device:")
                })
            })
            .map(|(path, _)| path)
            .collect();
        assert!(
            declared.is_empty(),
            "`--device` declared outside core::cli: {declared:?}"
        );
    }

    #[test]
    fn run_directory_paths_come_from_run_dir() {
        let spelled: Vec<PathBuf> = crate_sources()
            .into_iter()
            .filter(|(path, _)| !path.components().any(|c| c.as_os_str() == "tests"))
            .filter(|(_, text)| text.contains("\"best/model.safetensors\""))
            .map(|(path, _)| path)
            .collect();
        assert!(
            spelled.is_empty(),
            "use core::train::RunDir instead: {spelled:?}"
        );
    }

    #[test]
    fn every_script_is_listed_in_the_datasets_readme() {
        let readme = std::fs::read_to_string(crate::root().join("datasets/README.md")).unwrap();
        let unlisted: Vec<PathBuf> = tracked_files()
            .into_iter()
            .filter(|path| path.starts_with("datasets/scripts"))
            .filter(|path| {
                let rel = path
                    .strip_prefix("datasets")
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                !readme.contains(&rel)
            })
            .collect();
        assert!(
            unlisted.is_empty(),
            "scripts missing from datasets/README.md: {unlisted:?}"
        );
    }

    /// The sources of each crate's binary: `src/main.rs` and the modules it declares.
    fn binary_sources() -> Vec<(PathBuf, String)> {
        let mut out = Vec::new();
        for (path, text) in crate_sources() {
            if !path.ends_with("src/main.rs") {
                continue;
            }
            let dir = path.parent().unwrap().to_path_buf();
            for line in text.lines() {
                if let Some(name) = line.strip_prefix("mod ").and_then(|l| l.strip_suffix(';')) {
                    let module = dir.join(format!("{name}.rs"));
                    let module_text =
                        std::fs::read_to_string(crate::root().join(&module)).unwrap_or_default();
                    out.push((module, module_text));
                }
            }
            out.push((path, text));
        }
        out
    }

    #[test]
    fn binaries_hold_no_training_loop() {
        // Training and experiments live in the libraries so Rust users can call them.
        let offenders: Vec<PathBuf> = binary_sources()
            .into_iter()
            .filter(|(_, text)| text.contains("Trainer::new(") || text.contains("TrainerConfig {"))
            .map(|(path, _)| path)
            .collect();
        assert!(
            offenders.is_empty(),
            "core's Trainer used in a binary (move the training into the library): {offenders:?}"
        );
    }

    #[test]
    fn demo_rows_use_the_shared_type() {
        // `burnlp_core::report::DemoRow` is the one shape of a demo result; no crate spells it.
        let spelled: Vec<PathBuf> = crate_sources()
            .into_iter()
            .filter(|(path, _)| !path.ends_with("crates/core/src/report.rs"))
            .filter(|(path, _)| !path.components().any(|c| c.as_os_str() == "tests"))
            .filter(|(_, text)| text.contains("\"task\":") && text.contains("\"score\":"))
            .map(|(path, _)| path)
            .collect();
        assert!(
            spelled.is_empty(),
            "demo rows built by hand (use core::report::DemoRow): {spelled:?}"
        );
    }

    /// The dependency names of a manifest's `[dependencies]`-like sections.
    fn dependency_names(manifest: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut in_deps = false;
        for line in manifest.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                in_deps = line.ends_with("dependencies]");
                continue;
            }
            if in_deps
                && let Some(key) = line.split(['=', '.']).next()
                && !key.trim().is_empty()
                && !line.starts_with('#')
            {
                names.push(key.trim().to_string());
            }
        }
        names
    }

    #[test]
    fn every_dependency_is_used() {
        // What cargo-machete checks, without installing it: each dependency of a crate is named
        // (`name::` or `use name`) somewhere in that crate's Rust sources.
        let files = tracked_files();
        let mut unused = Vec::new();
        for manifest in files.iter().filter(|p| p.ends_with("Cargo.toml")) {
            let Some(dir) = manifest.parent().filter(|d| !d.as_os_str().is_empty()) else {
                continue; // the workspace manifest
            };
            let text = std::fs::read_to_string(crate::root().join(manifest)).unwrap();
            let sources: String = files
                .iter()
                .filter(|p| p.starts_with(dir) && p.extension().is_some_and(|e| e == "rs"))
                .map(|p| std::fs::read_to_string(crate::root().join(p)).unwrap_or_default())
                .collect();
            for name in dependency_names(&text) {
                let ident = name.replace('-', "_");
                if !sources.contains(&format!("{ident}::"))
                    && !sources.contains(&format!("use {ident}"))
                    && !sources.contains(&format!("extern crate {ident}"))
                {
                    unused.push(format!("{}: {name}", manifest.display()));
                }
            }
        }
        assert!(unused.is_empty(), "unused dependencies: {unused:?}");
    }

    #[test]
    fn dependency_names_are_read_from_every_section() {
        let manifest = "[package]\nname = \"x\"\n[dependencies]\nserde.workspace = true\n\
                        burnlp-core = { path = \"c\" }\n[dev-dependencies]\ntempfile = \"3\"\n\
                        [features]\nwgpu = []\n";
        assert_eq!(
            dependency_names(manifest),
            ["serde", "burnlp-core", "tempfile"]
        );
    }

    #[test]
    fn every_binary_package_has_one_integration_test_binary() {
        // One `tests/it/main.rs` per crate links burn once; and because every package with a
        // binary has one, `cargo nextest run --workspace` builds every binary the end-to-end
        // tests in `tests/cli/` run.
        let files = tracked_files();
        let missing: Vec<&PathBuf> = files
            .iter()
            .filter(|p| p.starts_with("crates") && p.ends_with("src/main.rs"))
            .filter(|main| {
                let krate = main.parent().and_then(Path::parent).unwrap();
                !files.contains(&krate.join("tests/it/main.rs"))
            })
            .collect();
        assert!(
            missing.is_empty(),
            "binaries without tests/it/main.rs: {missing:?}"
        );
        let extra: Vec<&PathBuf> = files
            .iter()
            .filter(|p| {
                let parts: Vec<_> = p.components().map(|c| c.as_os_str()).collect();
                parts.len() == 4
                    && parts[0] == "crates"
                    && parts[2] == "tests"
                    && p.extension().is_some_and(|e| e == "rs")
            })
            .collect();
        assert!(
            extra.is_empty(),
            "test binaries outside tests/it/: {extra:?}"
        );
    }
}
