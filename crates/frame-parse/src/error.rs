//! The crate's error type: every variant names the file (or data set), the record or element,
//! and the problem.

use std::path::PathBuf;

/// Problems reading the lexicon or annotations, scoring, training or predicting.
#[derive(Debug, thiserror::Error)]
pub enum FrameParseError {
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
    /// An XML file is not well-formed.
    #[error("`{path}`: not well-formed XML: {message}")]
    Xml {
        /// The file.
        path: PathBuf,
        /// The parser's message (with its position).
        message: String,
    },
    /// An element of a FrameNet XML file is invalid.
    #[error("`{path}` line {line}, <{element}>: {problem}")]
    Element {
        /// The file.
        path: PathBuf,
        /// 1-based line of the element.
        line: u32,
        /// The element name (with its identifying attribute when it has one).
        element: String,
        /// What is wrong.
        problem: String,
    },
    /// A line of a text file (CoNLL, TSV) is malformed.
    #[error("`{path}` line {line}: {problem}")]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// Gold and predicted files do not line up.
    #[error("`{pred}` does not line up with `{gold}`: {problem}")]
    Mismatch {
        /// The gold file.
        gold: PathBuf,
        /// The prediction file.
        pred: PathBuf,
        /// The first mismatch.
        problem: String,
    },
    /// Core's data helpers failed (JSON, atomic writes).
    #[error(transparent)]
    Data(#[from] burnlp_core::data::DataError),
    /// An evaluation split shares items with the training data.
    #[error(transparent)]
    Overlap(#[from] burnlp_core::data::OverlapError),
    /// Training failed.
    #[error(transparent)]
    Train(#[from] burnlp_core::train::TrainError),
    /// The device cannot be used.
    #[error(transparent)]
    Device(#[from] burnlp_core::device::DeviceError),
    /// A graph could not be built.
    #[error(transparent)]
    Graph(#[from] burnlp_core::nn::graph::GraphError),
    /// A tokenizer failed.
    #[error(transparent)]
    Tokenize(#[from] burnlp_core::tokenize::TokenizeError),
    /// The pretrained encoder cannot be loaded.
    #[error("cannot load the encoder `{reference}`")]
    Encoder {
        /// The model reference.
        reference: String,
        /// Why.
        #[source]
        source: Box<burnlp_core::nn::encoder::EncoderLoadError>,
    },
    /// A setting or an input set is unusable.
    #[error("{what}: {problem}")]
    Invalid {
        /// What is wrong (a setting, a data set).
        what: String,
        /// Why.
        problem: String,
    },
}

impl FrameParseError {
    /// An [`FrameParseError::Invalid`] error.
    pub fn invalid(what: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid {
            what: what.into(),
            problem: problem.into(),
        }
    }

    /// A [`FrameParseError::Line`] error.
    pub fn line(path: impl Into<PathBuf>, line: usize, problem: impl Into<String>) -> Self {
        Self::Line {
            path: path.into(),
            line,
            problem: problem.into(),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = FrameParseError> = std::result::Result<T, E>;
