//! `cargo xtask fetch-data`: the public files of the shared folder, downloaded from their pinned
//! sources into a folder of the user's choice and checked by sha256.
//!
//! The manifest `xtask/fetch-data.tsv` has one line per fetchable file: its path inside the
//! shared folder, a URL at a pinned revision, and its sha256. Samples and excerpts of larger
//! official files (most of `datasets/`) cannot be fetched byte for byte; the manifest lists them
//! as `# not fetchable:` comments with where the official release is. Each download goes to a
//! `.partial` file that is renamed into place only when its hash matches, so an interrupted or
//! altered download never lands under the final name; a file already present with the right
//! hash is not fetched again.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The manifest, relative to the workspace root.
pub const MANIFEST: &str = "xtask/fetch-data.tsv";

/// One fetchable file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    /// Path inside the shared folder.
    pub path: String,
    /// Where to download it.
    pub url: String,
    /// Its sha256 (lowercase hex).
    pub sha256: String,
}

/// Reads a manifest: tab-separated `path url sha256` lines, `#` comments and blank lines
/// skipped; a malformed line is an error naming it.
pub fn parse_manifest(origin: &str, text: &str) -> Result<Vec<DataFile>> {
    let mut files = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [path, url, sha256] = fields[..] else {
            bail!(
                "{origin} line {}: expected 3 tab-separated fields (path, url, sha256), found {}",
                i + 1,
                fields.len()
            );
        };
        let bad_hash = sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit());
        if bad_hash {
            bail!("{origin} line {}: `{sha256}` is not a sha256", i + 1);
        }
        if path.starts_with('/') || path.split('/').any(|c| c == ".." || c.is_empty()) {
            bail!(
                "{origin} line {}: `{path}` must be a relative path inside the folder",
                i + 1
            );
        }
        files.push(DataFile {
            path: path.to_owned(),
            url: url.to_owned(),
            sha256: sha256.to_ascii_lowercase(),
        });
    }
    Ok(files)
}

/// Fetches the manifest's files (those whose path starts with one of `only`, or all) into
/// `to`; returns (fetched, already present).
pub fn fetch_data(to: &Path, only: &[String]) -> Result<(usize, usize)> {
    let manifest = crate::root().join(MANIFEST);
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    let files: Vec<DataFile> = parse_manifest(MANIFEST, &text)?
        .into_iter()
        .filter(|f| only.is_empty() || only.iter().any(|o| f.path.starts_with(o.as_str())))
        .collect();
    if files.is_empty() {
        bail!("no file of {MANIFEST} matches {only:?}");
    }
    let (mut fetched, mut present) = (0, 0);
    let mut failed = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let dest = to.join(&file.path);
        if dest.exists() && crate::models::sha256(&dest)? == file.sha256 {
            present += 1;
            continue;
        }
        eprintln!("fetch-data: [{}/{}] {}", i + 1, files.len(), file.path);
        match fetch(file, &dest) {
            Ok(()) => fetched += 1,
            Err(e) => {
                eprintln!("fetch-data: {}: {e:#}", file.path);
                failed.push(file.path.clone());
            }
        }
    }
    eprintln!(
        "fetch-data: {fetched} fetched, {present} already present, {} failed, into {}",
        failed.len(),
        to.display()
    );
    if !failed.is_empty() {
        bail!(
            "{} files could not be fetched: {}",
            failed.len(),
            failed.join(", ")
        );
    }
    Ok((fetched, present))
}

/// Downloads one file to `dest` through `dest.partial`, checking its hash before the rename.
pub fn fetch(file: &DataFile, dest: &Path) -> Result<()> {
    let parent = dest.parent().context("the destination has a folder")?;
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let mut partial = dest.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let status = Command::new("curl")
        .args([
            "--fail",
            "--location",
            "--silent",
            "--show-error",
            "--retry",
            "2",
        ])
        .arg("--output")
        .arg(&partial)
        .arg(&file.url)
        .status()
        .context("cannot start curl (install it: apt-get install curl)")?;
    if !status.success() {
        let _ = std::fs::remove_file(&partial);
        bail!("curl {} failed ({status})", file.url);
    }
    crate::models::keep_if_hash_matches(&partial, dest, &file.sha256, &file.url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_lines_are_checked() {
        let good = "# comment\n\na/b.txt\thttps://x/y\t".to_owned() + &"ab".repeat(32) + "\n";
        let files = parse_manifest("m", &good).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, "a/b.txt");
        for bad in [
            "a\thttps://x\n".to_owned(),
            format!("a\thttps://x\t{}\n", "zz".repeat(32)),
            format!("../a\thttps://x\t{}\n", "ab".repeat(32)),
            format!("/a\thttps://x\t{}\n", "ab".repeat(32)),
        ] {
            let err = parse_manifest("m", &bad).unwrap_err().to_string();
            assert!(err.contains("m line 1"), "{err}");
        }
    }

    #[test]
    fn a_download_is_kept_only_with_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("source.txt");
        std::fs::write(&source, b"hello\n").unwrap();
        let url = format!("file://{}", source.display());
        // sha256 of "hello\n".
        let right = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
        let dest = dir.path().join("out/a/hello.txt");
        let wrong = DataFile {
            path: "a/hello.txt".into(),
            url: url.clone(),
            sha256: "00".repeat(32),
        };
        let err = fetch(&wrong, &dest).unwrap_err().to_string();
        assert!(err.contains("expected"), "{err}");
        assert!(!dest.exists());
        assert!(!dir.path().join("out/a/hello.txt.partial").exists());
        let file = DataFile {
            sha256: right.into(),
            ..wrong
        };
        fetch(&file, &dest).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"hello\n");
    }

    /// Every data line of the real manifest names a file of the shared folder with that hash
    /// (where the shared folder is at hand).
    #[test]
    fn the_manifest_matches_the_shared_folder() {
        let text = std::fs::read_to_string(crate::root().join(MANIFEST)).unwrap();
        let files = parse_manifest(MANIFEST, &text).unwrap();
        assert!(!files.is_empty());
        let shared = std::env::var_os("BURNLP_SHARED")
            .map(PathBuf::from)
            .unwrap_or_else(|| crate::root().join("../shared"));
        if !shared.exists() {
            println!("skipped: {} is missing", shared.display());
            return;
        }
        for f in &files {
            let path = shared.join(&f.path);
            assert!(path.exists(), "{} is not in the shared folder", f.path);
            assert_eq!(
                crate::models::sha256(&path).unwrap(),
                f.sha256,
                "{}",
                f.path
            );
            assert!(f.url.starts_with("https://"), "{}", f.url);
        }
    }
}
