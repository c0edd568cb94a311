//! The error type of the library.

use std::path::PathBuf;

/// Errors of preparing data, training, translating and scoring.
#[derive(Debug, thiserror::Error)]
pub enum NmtError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An input file is malformed.
    #[error("{path}{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
    BadInput {
        /// The file.
        path: PathBuf,
        /// The 1-based line, when the problem is on one line.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// An argument is out of its range.
    #[error("invalid {name}: {message}")]
    InvalidArgument {
        /// The argument.
        name: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Tokenizer training, loading or encoding failed.
    #[error(transparent)]
    Tokenize(#[from] burnlp_core::tokenize::TokenizeError),
    /// Training or checkpointing failed.
    #[error(transparent)]
    Train(#[from] burnlp_core::train::TrainError),
    /// Reading or writing a data file failed.
    #[error(transparent)]
    Data(#[from] burnlp_core::data::DataError),
    /// A metric could not be computed.
    #[error(transparent)]
    Metrics(#[from] burnlp_core::metrics::MetricsError),
    /// Evaluation data overlaps the training data.
    #[error(transparent)]
    Overlap(#[from] burnlp_core::data::OverlapError),
}

/// Result with [`NmtError`].
pub type Result<T> = std::result::Result<T, NmtError>;

/// An [`NmtError::Io`] for `path`.
pub(crate) fn io_error(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> NmtError {
    let path = path.into();
    move |source| NmtError::Io { path, source }
}
