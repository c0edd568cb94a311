//! Line reading shared by the readers, and atomic writers.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use super::{DataError, Result};

/// Reads a file line by line, tracking 1-based line numbers and decoding UTF-8 per line.
///
/// Line endings (`\n` or `\r\n`) are removed, as is a UTF-8 byte order mark on line 1.
pub(crate) struct LineReader {
    path: PathBuf,
    reader: BufReader<File>,
    buf: Vec<u8>,
    line: usize,
}

impl LineReader {
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|source| read_error(path, source))?;
        Ok(Self {
            path: path.to_owned(),
            reader: BufReader::new(file),
            buf: Vec::new(),
            line: 0,
        })
    }

    /// The next line (1-based number, text without its terminator), or `None` at the end of
    /// the file.
    pub(crate) fn next_line(&mut self) -> Result<Option<(usize, &str)>> {
        self.buf.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .map_err(|source| read_error(&self.path, source))?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        let mut bytes = self.buf.as_slice();
        if let Some(rest) = bytes.strip_suffix(b"\n") {
            bytes = rest;
        }
        if let Some(rest) = bytes.strip_suffix(b"\r") {
            bytes = rest;
        }
        if self.line == 1
            && let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF")
        {
            bytes = rest;
        }
        std::str::from_utf8(bytes)
            .map(|text| Some((self.line, text)))
            .map_err(|_| DataError::InvalidUtf8 {
                path: self.path.clone(),
                line: self.line,
            })
    }
}

pub(crate) fn read_error(path: &Path, source: std::io::Error) -> DataError {
    DataError::Read {
        path: path.to_owned(),
        source,
    }
}

/// The error of a failed write of `path`.
pub(crate) fn write_error(path: &Path) -> impl Fn(std::io::Error) -> DataError + Copy + '_ {
    move |source| DataError::Write {
        path: path.to_owned(),
        source,
    }
}

/// Creates the directory `path` is to be written in, if it has one and it is missing.
fn create_parent(path: &Path) -> Result<()> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => fs::create_dir_all(dir).map_err(write_error(path)),
        None => Ok(()),
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory is written,
/// flushed to disk and renamed over `path`, so readers see either the old or the new contents.
///
/// The directory is created if missing; the temporary file is removed if anything fails. A
/// process killed between writing and renaming leaves its temporary file behind: after each
/// successful write, the temporary files of the same name left by processes that no longer
/// run are removed (on systems with `/proc`; elsewhere they stay, hidden by their dot).
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let path = path.as_ref();
    let write_error = write_error(path);
    create_parent(path)?;
    let Some(file_name) = path.file_name() else {
        return Err(write_error(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "path has no file name",
        )));
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{}",
        file_name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if let Err(source) = result {
        // Best effort: the temporary file may not exist if opening it failed.
        let _ = fs::remove_file(&tmp);
        return Err(write_error(source));
    }
    // Persist the rename itself; not all platforms can open a directory, so ignore failures.
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    remove_dead_temporaries(dir, &file_name.to_string_lossy());
    Ok(())
}

/// Removes `.NAME.tmp-PID-N` files in `dir` whose process `PID` is gone (best effort; only
/// where `/proc` tells which processes run).
fn remove_dead_temporaries(dir: &Path, name: &str) {
    let proc = Path::new("/proc/self");
    if !proc.exists() {
        return;
    }
    let prefix = format!(".{name}.tmp-");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|f| f.strip_prefix(&prefix)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Opens the work file of a resumable output (rows appended as a long job goes, renamed to the
/// final name at the end) to append after its first `keep` bytes, the length its last recorded
/// progress holds: creates the directory and the file, cuts what a killed run wrote after that
/// record, and leaves the cursor at the end. `keep` 0 starts the file empty.
pub fn open_work_file(path: impl AsRef<Path>, keep: u64) -> Result<File> {
    let path = path.as_ref();
    let write_error = write_error(path);
    create_parent(path)?;
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(write_error)?;
    file.set_len(keep).map_err(write_error)?;
    file.seek(SeekFrom::Start(keep)).map_err(write_error)?;
    Ok(file)
}

/// Writes records as JSON Lines (one compact JSON value per line), atomically.
pub fn write_jsonl<T, I>(path: impl AsRef<Path>, records: I) -> Result<()>
where
    T: Serialize,
    I: IntoIterator<Item = T>,
{
    let path = path.as_ref();
    let mut out = Vec::new();
    for (record, value) in records.into_iter().enumerate() {
        serde_json::to_writer(&mut out, &value).map_err(|source| DataError::Serialize {
            path: path.to_owned(),
            record,
            source,
        })?;
        out.push(b'\n');
    }
    write_atomic(path, &out)
}

/// Writes one value as a JSON document (pretty-printed if asked), atomically.
pub fn write_json<T: Serialize + ?Sized>(
    path: impl AsRef<Path>,
    value: &T,
    pretty: bool,
) -> Result<()> {
    let path = path.as_ref();
    let result = if pretty {
        serde_json::to_vec_pretty(value)
    } else {
        serde_json::to_vec(value)
    };
    let mut bytes = result.map_err(|source| DataError::Serialize {
        path: path.to_owned(),
        record: 0,
        source,
    })?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_strip_bom_and_crlf_and_count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lines.txt");
        std::fs::write(&path, b"\xEF\xBB\xBFfirst\r\nsecond\n\nlast").unwrap();
        let mut reader = LineReader::open(&path).unwrap();
        let mut lines = Vec::new();
        while let Some((n, line)) = reader.next_line().unwrap() {
            lines.push((n, line.to_owned()));
        }
        let expected = [(1, "first"), (2, "second"), (3, ""), (4, "last")];
        assert_eq!(lines, expected.map(|(n, l)| (n, l.to_owned())));
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.txt");
        std::fs::write(&path, b"ok\nbad \xFF byte\n").unwrap();
        let mut reader = LineReader::open(&path).unwrap();
        assert!(reader.next_line().unwrap().is_some());
        let err = reader.next_line().unwrap_err();
        assert!(
            matches!(err, DataError::InvalidUtf8 { line: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn write_json_and_path_without_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write_json(&path, &[1, 2, 3], false).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "[1,2,3]\n");
        let err = write_atomic(dir.path().join(".."), b"x").unwrap_err();
        assert!(matches!(err, DataError::Write { .. }), "{err}");
    }
}
