//! Data readers (JSON, JSON Lines, TSV, CoNLL), length-bucketed batching and deterministic shuffling.
//!
//! Readers are generic over `serde` records and load a whole file into a `Vec`:
//!
//! * [`read_json`]: a file holding one JSON array of records (DocRED);
//!   [`read_json_document`] reads any JSON value (e.g. a label map);
//! * [`read_jsonl`]: one JSON record per line (blank lines skipped); [`JsonLines`] streams;
//!   [`read_json_stream`] reads JSON values simply concatenated (pretty-printed "JSONL");
//! * [`read_tsv`] / [`read_tsv_with`]: tab-separated values without quoting (GLUE), with or
//!   without a header, fields parsed into typed records through `serde`;
//! * [`read_conll`]: blank-line separated sentences of whitespace or tab separated columns
//!   (CoNLL-2003, CoNLL-U), `-DOCSTART-` lines skipped, `#` comments kept as metadata.
//!
//! Every error names the file, the line (or record) and the problem ([`DataError`]).
//! Writers ([`write_jsonl`], [`write_json`]) go through [`write_atomic`], so a crash never leaves
//! a half-written file behind.
//!
//! [`shared_path`] finds a file in the `shared/` folder beside the workspace (real data and models)
//! or prints why a test skips.
//!
//! Batching ([`bucket_batches`], [`BucketBatcher`]) groups examples of similar length to limit
//! padding, and [`shuffled_indices`] gives a reproducible permutation per seed and epoch
//! ([`shuffled_batches`]: the same, cut into batches).

mod batching;
mod conll;
mod io;
mod json;
pub mod overlap;
pub mod resume;
mod shared;
mod tsv;

use std::path::PathBuf;

pub use batching::{
    BatchLimit, BucketBatcher, bucket_batches, epoch_seed, shuffled_batches, shuffled_indices,
};
pub use conll::{ConllSentence, read_conll};
pub use io::{open_work_file, write_atomic, write_json, write_jsonl};
pub use json::{JsonLines, read_json, read_json_document, read_json_stream, read_jsonl};
pub use overlap::{OverlapError, SplitSizes, check_disjoint};
pub use resume::{ResumeError, WorkProgress, resume_work};
pub use shared::{SHARED_ENV, shared_dir, shared_path};
pub use tsv::{TsvOptions, read_tsv, read_tsv_with};

/// Errors of the data readers, writers and batching helpers.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file could not be opened or read.
    #[error("cannot read `{path}`")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write `{path}`")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A line is not valid UTF-8.
    #[error("`{path}` line {line}: invalid UTF-8")]
    InvalidUtf8 {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// A JSON document or one of its records is malformed or does not match the record type.
    #[error("`{path}`{}: {message} (line {line}, column {column})", record_label(*.record))]
    Json {
        /// The file.
        path: PathBuf,
        /// 0-based index of the record being read (array element or stream value), if any.
        record: Option<usize>,
        /// 1-based line in the file.
        line: usize,
        /// 1-based column in the line.
        column: usize,
        /// The `serde_json` message (names the missing or mistyped field).
        message: String,
    },
    /// A JSON Lines record is malformed or does not match the record type.
    #[error("`{path}` line {line}, column {column}: {message}")]
    JsonLine {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// 1-based column in the line.
        column: usize,
        /// The `serde_json` message (names the missing or mistyped field).
        message: String,
    },
    /// A TSV header names a column twice.
    #[error("`{path}` line {line}: the header names the column `{column}` twice")]
    DuplicateColumn {
        /// The file.
        path: PathBuf,
        /// 1-based line number of the header.
        line: usize,
        /// The repeated name.
        column: String,
    },
    /// A TSV row has the wrong number of columns.
    #[error("`{path}` line {line}: expected {expected} tab-separated columns, found {found}")]
    ColumnCount {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Number of columns of the header (or first row).
        expected: usize,
        /// Number of columns of this row.
        found: usize,
    },
    /// A CoNLL token line has fewer columns than required.
    #[error("`{path}` line {line}: expected at least {min} columns, found {found}")]
    TooFewColumns {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Required minimum.
        min: usize,
        /// Number of columns of this line.
        found: usize,
    },
    /// A TSV row does not match the record type (unparsable field, missing column, ...).
    #[error("`{path}` line {line}: {message}")]
    Field {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong, naming the column where known.
        message: String,
    },
    /// A record could not be serialized.
    #[error("cannot serialize record {record} for `{path}`")]
    Serialize {
        /// The destination file.
        path: PathBuf,
        /// 0-based index of the record.
        record: usize,
        /// The `serde_json` error.
        #[source]
        source: serde_json::Error,
    },
    /// An argument is invalid (e.g. a batch limit of zero).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

fn record_label(record: Option<usize>) -> String {
    record.map_or_else(String::new, |r| format!(" record {r}"))
}

/// Result type of this module.
pub type Result<T, E = DataError> = std::result::Result<T, E>;
