//! The crate's error type: every variant names the file (or data set), the record and the
//! problem.

use std::path::PathBuf;

/// Problems reading, writing or processing corpora.
#[derive(Debug, thiserror::Error)]
pub enum ParaFilterError {
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
    /// A line of a file is malformed.
    #[error("`{path}` line {line}: {problem}")]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        problem: String,
    },
    /// Two files that must have one line per item disagree.
    #[error("`{path}` has {found} lines, expected {expected} (one per line of `{against}`)")]
    LineCount {
        /// The file with the wrong count.
        path: PathBuf,
        /// The file it must match.
        against: PathBuf,
        /// Lines expected.
        expected: usize,
        /// Lines found.
        found: usize,
    },
    /// A document-pair record is malformed (the core JSON Lines reader's error).
    #[error(transparent)]
    Data(#[from] burnlp_core::data::DataError),
    /// The multilingual encoder cannot be loaded.
    #[error("cannot load the encoder `{reference}`")]
    Encoder {
        /// The model reference.
        reference: String,
        /// Why.
        #[source]
        source: Box<burnlp_core::nn::encoder::EncoderLoadError>,
    },
    /// A tokenizer failed on a text.
    #[error(transparent)]
    Tokenize(#[from] burnlp_core::tokenize::TokenizeError),
    /// An evaluation split shares items with the training data.
    #[error(transparent)]
    Overlap(#[from] burnlp_core::data::OverlapError),
    /// The classifier scorer could not be trained or loaded (text-cls's error).
    #[error(transparent)]
    Classifier(#[from] text_cls::TextClsError),
    /// A metric could not be computed.
    #[error(transparent)]
    Metrics(#[from] burnlp_core::metrics::MetricsError),
    /// A configuration value or an input set is unusable.
    #[error("{what}: {problem}")]
    Invalid {
        /// What is wrong (a setting, a data set).
        what: String,
        /// Why.
        problem: String,
    },
}

impl ParaFilterError {
    /// An [`ParaFilterError::Invalid`] error.
    pub fn invalid(what: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid {
            what: what.into(),
            problem: problem.into(),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = ParaFilterError> = std::result::Result<T, E>;

impl From<burnlp_core::data::ResumeError> for ParaFilterError {
    fn from(error: burnlp_core::data::ResumeError) -> Self {
        match error {
            burnlp_core::data::ResumeError::Data(e) => Self::Data(e),
            burnlp_core::data::ResumeError::Refused { path, message } => {
                Self::invalid(format!("`{}`", path.display()), message)
            }
        }
    }
}
