//! The crate's error type.

use std::path::PathBuf;

/// Errors of the Math-Shepherd library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a data file failed.
    #[error(transparent)]
    Data(#[from] burnlp_core::data::DataError),
    /// Training or checkpoint I/O failed.
    #[error(transparent)]
    Train(#[from] burnlp_core::train::TrainError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A record of an input file is not usable.
    #[error("{path} record {record}: {message}")]
    Record {
        /// The file.
        path: PathBuf,
        /// 0-based record index.
        record: usize,
        /// What is wrong.
        message: String,
    },
    /// A line of an input file is not usable.
    #[error("{path} line {line}: {message}")]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A completer failed (server unreachable, bad response, generation error).
    #[error("completer: {0}")]
    Completer(String),
    /// Generation passed its deadline and was stopped.
    #[error("generation stopped after {elapsed:.1?}: past the request's deadline")]
    Timeout {
        /// How long generation ran.
        elapsed: std::time::Duration,
    },
    /// A server cannot listen on its address.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address as given.
        addr: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A tokenizer failed.
    #[error(transparent)]
    Tokenize(#[from] burnlp_core::tokenize::TokenizeError),
    /// A model reference could not be loaded.
    #[error(transparent)]
    CausalLm(#[from] burnlp_core::nn::llama::CausalLmError),
    /// A tagged input cannot be scored (its step tags cannot be located in its tokens).
    #[error("step tags: {0}")]
    Tag(String),
    /// An interrupted run's work files cannot be continued.
    #[error("{path}: {message}")]
    Resume {
        /// The work file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A run directory is missing a file or holds an unusable model.
    #[error("model {path}: {message}")]
    Model {
        /// The run directory or file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<burnlp_core::data::ResumeError> for Error {
    fn from(error: burnlp_core::data::ResumeError) -> Self {
        match error {
            burnlp_core::data::ResumeError::Data(e) => Self::Data(e),
            burnlp_core::data::ResumeError::Refused { path, message } => {
                Self::Resume { path, message }
            }
        }
    }
}
