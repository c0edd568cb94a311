//! JSON, JSON Lines and concatenated-JSON readers.

use std::cell::Cell;
use std::fmt;
use std::fs;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::de::{DeserializeOwned, DeserializeSeed, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::io::{LineReader, read_error};
use super::{DataError, Result};

/// Splits a `serde_json` error into its message (without the position suffix), line and column.
fn parts(error: &serde_json::Error) -> (String, usize, usize) {
    let full = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
    (message, error.line(), error.column())
}

fn json_error(path: &Path, record: Option<usize>, error: &serde_json::Error) -> DataError {
    let (message, line, column) = parts(error);
    DataError::Json {
        path: path.to_owned(),
        record,
        line,
        column,
        message,
    }
}

/// Deserializes a JSON array element by element, recording which element is being read.
struct Records<'a, T> {
    current: &'a Cell<Option<usize>>,
    record: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Records<'_, T> {
    type Value = Vec<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<T>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Records<'_, T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
        self.current.set(Some(0));
        while let Some(record) = seq.next_element()? {
            out.push(record);
            self.current.set(Some(out.len()));
        }
        Ok(out)
    }
}

/// Reads a file holding one JSON array of records.
///
/// Errors name the file, the 0-based index of the failing record, the line and column, and
/// `serde_json`'s message (e.g. ``missing field `title` ``).
pub fn read_json<T: DeserializeOwned>(path: impl AsRef<Path>) -> Result<Vec<T>> {
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(|source| read_error(path, source))?;
    let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
    let current = Cell::new(None);
    let records = Records {
        current: &current,
        record: PhantomData,
    }
    .deserialize(&mut deserializer)
    .map_err(|e| json_error(path, current.get(), &e))?;
    deserializer.end().map_err(|e| json_error(path, None, &e))?;
    Ok(records)
}

/// Reads a file holding any single JSON value (an object such as a label map, or an array
/// read as a whole).
pub fn read_json_document<T: DeserializeOwned>(path: impl AsRef<Path>) -> Result<T> {
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(|source| read_error(path, source))?;
    serde_json::from_slice(&bytes).map_err(|e| json_error(path, None, &e))
}

/// Reads JSON values that follow each other with only whitespace between them, e.g.
/// pretty-printed objects concatenated in a `.jsonl` file. Plain JSON Lines read as well.
pub fn read_json_stream<T: DeserializeOwned>(path: impl AsRef<Path>) -> Result<Vec<T>> {
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(|source| read_error(path, source))?;
    let mut out = Vec::new();
    for value in serde_json::Deserializer::from_slice(&bytes).into_iter::<T>() {
        out.push(value.map_err(|e| json_error(path, Some(out.len()), &e))?);
    }
    Ok(out)
}

/// Reads a JSON Lines file: one JSON record per line; blank lines are skipped.
///
/// Errors name the file, the 1-based line and column, and `serde_json`'s message.
pub fn read_jsonl<T: DeserializeOwned>(path: impl AsRef<Path>) -> Result<Vec<T>> {
    JsonLines::open(path)?.collect()
}

/// Streaming JSON Lines reader: an iterator of records, for files too large to hold twice.
///
/// Yields `Err` once (for the first bad line) and then stops.
pub struct JsonLines<T> {
    reader: LineReader,
    path: PathBuf,
    failed: bool,
    record: PhantomData<fn() -> T>,
}

impl<T> JsonLines<T> {
    /// Opens the file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        Ok(Self {
            reader: LineReader::open(path)?,
            path: path.to_owned(),
            failed: false,
            record: PhantomData,
        })
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl<T: DeserializeOwned> Iterator for JsonLines<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        if self.failed {
            return None;
        }
        loop {
            let (line_no, line) = match self.reader.next_line() {
                Ok(Some(line)) => line,
                Ok(None) => return None,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            let result = serde_json::from_str(line).map_err(|e| {
                let (message, _, column) = parts(&e);
                DataError::JsonLine {
                    path: self.path.clone(),
                    line: line_no,
                    column,
                    message,
                }
            });
            self.failed = result.is_err();
            return Some(result);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_message_is_split_from_position() {
        let err = serde_json::from_str::<Vec<u8>>("[1, 2,\n x]").unwrap_err();
        let (message, line, column) = parts(&err);
        assert_eq!((message.as_str(), line, column), ("expected value", 2, 2));
    }

    #[test]
    fn records_track_the_failing_element() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, "[1, 2, \"three\", 4]").unwrap();
        let err = read_json::<u32>(&path).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::Json {
                    record: Some(2),
                    ..
                }
            ),
            "{err}"
        );
        std::fs::write(&path, "[1, 2] trailing").unwrap();
        let err = read_json::<u32>(&path).unwrap_err();
        assert!(matches!(err, DataError::Json { record: None, .. }), "{err}");
        std::fs::write(&path, "[]").unwrap();
        assert!(read_json::<u32>(&path).unwrap().is_empty());
        std::fs::write(&path, "{\"a\": 1} {\"a\": 2}\n{\"a\": }").unwrap();
        let err = read_json_stream::<serde_json::Value>(&path).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::Json {
                    record: Some(2),
                    line: 2,
                    ..
                }
            ),
            "{err}"
        );
    }
}
