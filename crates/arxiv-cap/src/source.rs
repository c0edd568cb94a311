//! A paper's source package in memory: a directory, a `.tar.gz`/`.tgz`/`.tar` tarball, or a
//! single gzipped `.tex` file (arXiv serves one-file submissions that way), and the main file.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{ArxivCapError, Result};
use crate::latex::scan::strip_comments;

/// Largest total size of the files of one source package (a guard against gzip bombs).
pub const MAX_TREE_BYTES: u64 = 2 << 30;

/// The files of one paper's source package, by `/`-separated path relative to its root.
#[derive(Debug, Clone, Default)]
pub struct SourceTree {
    /// A name for messages and the default arXiv id (directory or tarball name).
    pub name: String,
    files: BTreeMap<String, Vec<u8>>,
}

impl SourceTree {
    /// A tree from `(path, bytes)` pairs; paths are normalised (`./`, `..`, `\`), and those
    /// leaving the root are dropped.
    pub fn from_files<P: AsRef<str>>(
        name: impl Into<String>,
        files: impl IntoIterator<Item = (P, Vec<u8>)>,
    ) -> Self {
        let files = files
            .into_iter()
            .filter_map(|(p, bytes)| Some((normalise("", p.as_ref())?, bytes)))
            .filter(|(p, _)| !p.is_empty())
            .collect();
        Self {
            name: name.into(),
            files,
        }
    }

    /// Opens a directory or a tarball (`.tar.gz`, `.tgz`, `.tar`, or a gzipped single file).
    pub fn open(path: &Path) -> Result<Self> {
        if path.is_dir() {
            Self::from_dir(path)
        } else {
            Self::from_archive(path)
        }
    }

    /// Reads every file under a directory (hidden entries such as `.git` are skipped).
    pub fn from_dir(root: &Path) -> Result<Self> {
        let mut files = Vec::new();
        let mut total = 0u64;
        let mut stack = vec![PathBuf::new()];
        while let Some(rel) = stack.pop() {
            let dir = root.join(&rel);
            let entries = std::fs::read_dir(&dir).map_err(|e| ArxivCapError::read(&dir, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| ArxivCapError::read(&dir, e))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue;
                }
                let path = entry.path();
                let kind = entry
                    .file_type()
                    .map_err(|e| ArxivCapError::read(&path, e))?;
                if kind.is_dir() {
                    stack.push(rel.join(&name));
                } else if kind.is_file() {
                    let bytes = std::fs::read(&path).map_err(|e| ArxivCapError::read(&path, e))?;
                    total += bytes.len() as u64;
                    if total > MAX_TREE_BYTES {
                        return Err(too_large(root));
                    }
                    files.push((rel.join(&name).to_string_lossy().into_owned(), bytes));
                }
            }
        }
        Ok(Self::from_files(stem(root), files))
    }

    /// Reads a tarball, gzipped or not, or a gzipped single `.tex` file.
    pub fn from_archive(path: &Path) -> Result<Self> {
        let raw = std::fs::read(path).map_err(|e| ArxivCapError::read(path, e))?;
        let gzipped = raw.starts_with(&[0x1f, 0x8b]);
        let bytes = if gzipped {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(&raw[..])
                .take(MAX_TREE_BYTES + 1)
                .read_to_end(&mut out)
                .map_err(|e| archive_error(path, format!("not a valid gzip file: {e}")))?;
            if out.len() as u64 > MAX_TREE_BYTES {
                return Err(too_large(path));
            }
            out
        } else {
            raw
        };
        if is_tar(&bytes) {
            let files = read_tar(path, &bytes)?;
            Ok(Self::from_files(stem(path), files))
        } else if gzipped {
            // arXiv stores a one-file submission as the gzipped .tex itself.
            Ok(Self::from_files(stem(path), [("main.tex", bytes)]))
        } else {
            Err(archive_error(
                path,
                "neither a directory, a tar file nor a gzip file".into(),
            ))
        }
    }

    /// The bytes of a file.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    /// Whether the tree has a file at `path`.
    pub fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// A file as text (invalid UTF-8, e.g. Latin-1 sources, is replaced, not an error).
    pub fn text(&self, path: &str) -> Option<String> {
        self.get(path)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    /// Every path, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// The number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether the tree has no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The main file: the `.tex` file with `\documentclass` (or LaTeX 2.09's
    /// `\documentstyle`) outside comments; among several, those that are not a `subfiles` part
    /// or a `standalone` picture, then those with `\begin{document}`, then
    /// the conventional names `main`, `ms`, `paper`, then the shallowest, then the first by
    /// name.
    pub fn main_file(&self) -> Result<String> {
        let tex: Vec<&str> = self.paths().filter(|p| p.ends_with(".tex")).collect();
        let mut best: Option<(u8, u8, usize, &str)> = None;
        for path in &tex {
            let Some(text) = self.text(path) else {
                continue;
            };
            let text = strip_comments(&text);
            if !(text.contains("\\documentclass") || text.contains("\\documentstyle")) {
                continue;
            }
            // A `subfiles` part or a `standalone` picture has a preamble of its own.
            let part = ["{subfiles}", "{standalone}"]
                .iter()
                .any(|c| text.contains(c));
            let no_body = u8::from(part) * 2 + u8::from(!text.contains("\\begin{document}"));
            let file = path.rsplit('/').next().unwrap_or(path);
            let unusual = u8::from(!matches!(file, "main.tex" | "ms.tex" | "paper.tex"));
            let key = (no_body, unusual, path.matches('/').count(), *path);
            if best.is_none_or(|b| key < b) {
                best = Some(key);
            }
        }
        best.map(|(.., p)| p.to_string())
            .ok_or_else(|| ArxivCapError::NoMainFile {
                source_name: self.name.clone(),
                candidates: tex.len(),
            })
    }
}

/// `rel` joined to the directory `base` and normalised (`.` and `..` resolved, `\` read as
/// `/`); `None` if it leaves the root or is absolute.
pub fn normalise(base: &str, rel: &str) -> Option<String> {
    let rel = rel.replace('\\', "/");
    if rel.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = base.split('/').filter(|s| !s.is_empty()).collect();
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// The folder of a `/`-separated path (`""` for the root).
pub fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// A tar file has `ustar` at offset 257 (POSIX and GNU), or is an old-style tar whose first
/// header checksum is right.
fn is_tar(bytes: &[u8]) -> bool {
    if bytes.len() < 512 {
        return false;
    }
    if &bytes[257..262] == b"ustar" {
        return true;
    }
    let stored = std::str::from_utf8(&bytes[148..156])
        .ok()
        .and_then(|s| u32::from_str_radix(s.trim_matches(|c: char| c == '\0' || c == ' '), 8).ok());
    let sum: u32 = bytes[..512]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    stored == Some(sum)
}

/// The regular files of a tar archive (links and special files skipped).
fn read_tar(path: &Path, bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>> {
    let mut archive = tar::Archive::new(bytes);
    let entries = archive
        .entries()
        .map_err(|e| archive_error(path, format!("not a tar file: {e}")))?;
    let mut files = Vec::new();
    for entry in entries {
        let mut entry =
            entry.map_err(|e| archive_error(path, format!("damaged tar entry: {e}")))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry
            .path()
            .map_err(|e| archive_error(path, format!("bad entry name: {e}")))?
            .to_string_lossy()
            .into_owned();
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|e| archive_error(path, format!("`{name}`: {e}")))?;
        files.push((name, data));
    }
    Ok(files)
}

fn archive_error(path: &Path, message: String) -> ArxivCapError {
    ArxivCapError::Archive {
        path: path.to_owned(),
        message,
    }
}

fn too_large(path: &Path) -> ArxivCapError {
    archive_error(path, format!("more than {MAX_TREE_BYTES} bytes of files"))
}

/// A directory's or tarball's name without `.tar.gz`, `.tgz`, `.tar` or `.gz`.
fn stem(path: &Path) -> String {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    for suffix in [".tar.gz", ".tgz", ".tar", ".gz"] {
        if let Some(s) = name.strip_suffix(suffix) {
            return s.to_string();
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised() {
        assert_eq!(
            normalise("a/b", "../c/./d.tex").as_deref(),
            Some("a/c/d.tex")
        );
        assert_eq!(normalise("", "../x"), None);
        assert_eq!(normalise("", "/etc/passwd"), None);
        assert_eq!(parent("a/b/c.tex"), "a/b");
        assert_eq!(parent("c.tex"), "");
    }

    #[test]
    fn main_file_prefers_a_document_body() {
        let tree = SourceTree::from_files(
            "p",
            [
                ("defs.tex", b"% \\documentclass{x}\n".to_vec()),
                (
                    "sub/standalone.tex",
                    b"\\documentclass{standalone}".to_vec(),
                ),
                (
                    "paper.tex",
                    b"\\documentclass{article}\\begin{document}x".to_vec(),
                ),
            ],
        );
        assert_eq!(tree.main_file().unwrap(), "paper.tex");
        let none = SourceTree::from_files("q", [("a.tex", b"text".to_vec())]);
        assert!(matches!(
            none.main_file(),
            Err(ArxivCapError::NoMainFile { candidates: 1, .. })
        ));
    }
}
