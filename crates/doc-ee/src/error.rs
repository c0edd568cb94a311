//! The crate's error type: every variant names the file (or data set), the record or line and
//! the problem.

use std::path::PathBuf;

/// Problems reading data, scoring, building graphs, training and predicting.
#[derive(Debug, thiserror::Error)]
pub enum DocEeError {
    /// A file could not be opened or read.
    #[error("cannot read `{path}`")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A line (record) of a file is malformed or inconsistent.
    #[error("`{path}` line {line}: {problem}")]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        problem: String,
    },
    /// A record that has no line of its own (a document of a data set built in memory) is
    /// malformed.
    #[error("{what}: {problem}")]
    Invalid {
        /// What is wrong (a document, a setting, a data set).
        what: String,
        /// Why.
        problem: String,
    },
    /// A core reader or writer failed (its error names the file and line).
    #[error(transparent)]
    Data(#[from] burnlp_core::data::DataError),
    /// An AMR file is malformed.
    #[error("`{path}`: {source}")]
    Amr {
        /// The file.
        path: PathBuf,
        /// The Penman error (graph, line and column).
        #[source]
        source: amr_aux::Error,
    },
    /// The dependency parser (an `amr-aux depparse` run) cannot be loaded or run.
    #[error("dependency parser `{}`", run.display())]
    Parser {
        /// The run directory.
        run: PathBuf,
        /// Why.
        #[source]
        source: Box<amr_aux::depparse::DepparseError>,
    },
    /// The encoder cannot be loaded.
    #[error("cannot load the encoder `{reference}`")]
    Encoder {
        /// The model reference.
        reference: String,
        /// Why.
        #[source]
        source: Box<burnlp_core::nn::encoder::EncoderLoadError>,
    },
    /// A tokenizer failed.
    #[error(transparent)]
    Tokenize(#[from] burnlp_core::tokenize::TokenizeError),
    /// Training or checkpoint handling failed.
    #[error(transparent)]
    Train(#[from] burnlp_core::train::TrainError),
    /// The device cannot be used.
    #[error(transparent)]
    Device(#[from] burnlp_core::device::DeviceError),
    /// A graph is inconsistent.
    #[error(transparent)]
    Graph(#[from] burnlp_core::nn::graph::GraphError),
    /// A Doc2EDAG-format file is malformed or does not fit its schema.
    #[error(transparent)]
    Dee(#[from] crate::dee::DeeError),
    /// An IPGPF template does not fit its event schema.
    #[error(transparent)]
    Template(#[from] crate::dee::model::template::TemplateError),
    /// An evaluation split shares items with the training data.
    #[error(transparent)]
    Overlap(#[from] burnlp_core::data::OverlapError),
}

impl DocEeError {
    /// A [`DocEeError::Invalid`] error.
    pub fn invalid(what: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid {
            what: what.into(),
            problem: problem.into(),
        }
    }

    /// A [`DocEeError::Line`] error.
    pub fn line(path: impl Into<PathBuf>, line: usize, problem: impl Into<String>) -> Self {
        Self::Line {
            path: path.into(),
            line,
            problem: problem.into(),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = DocEeError> = std::result::Result<T, E>;
