//! The errors of arxiv-cap.

use std::path::PathBuf;

/// Errors of reading sources, extracting figures, reading data files and scoring.
#[derive(Debug, thiserror::Error)]
pub enum ArxivCapError {
    /// A file or directory could not be read.
    #[error("cannot read `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A tarball is damaged, not a tar/gzip file, or too large.
    #[error("`{}`: {message}", path.display())]
    Archive {
        /// The archive.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// No `.tex` file of the source tree has `\documentclass`.
    #[error(
        "{source_name}: no main file (no .tex file with \\documentclass among {candidates} .tex files)"
    )]
    NoMainFile {
        /// The source tree (directory or tarball).
        source_name: String,
        /// How many `.tex` files were looked at.
        candidates: usize,
    },
    /// An `\input`/`\include` names a file that is not in the tree.
    #[error(transparent)]
    MissingInput(Box<MissingInput>),
    /// `\input` files include each other in a cycle.
    #[error("{source_name}: \\input cycle: {}", chain.join(" → "))]
    InputCycle {
        /// The source tree.
        source_name: String,
        /// The files of the cycle, the first repeated at the end.
        chain: Vec<String>,
    },
    /// `\input`s nest deeper than the limit.
    #[error("{source_name}: `{file}`: \\input nesting deeper than {limit}")]
    InputTooDeep {
        /// The source tree.
        source_name: String,
        /// The file at which the limit was hit.
        file: String,
        /// The limit.
        limit: usize,
    },
    /// A JSON Lines file (ArxivCap rows, ArxivQA items, predictions) is malformed.
    #[error(transparent)]
    Data(#[from] burnlp_core::data::DataError),
    /// A record is well-formed JSON but violates the format.
    #[error("`{}` record {record}{}: {problem}", path.display(), id.as_ref().map(|i| format!(" (id {i})")).unwrap_or_default())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based record number.
        record: usize,
        /// The record's id, when it has one.
        id: Option<String>,
        /// What is wrong.
        problem: String,
    },
    /// A Parquet file could not be written or read.
    #[error("`{}`: {message}", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// An interrupted extraction's work files cannot be continued.
    #[error("`{}`: {message}", path.display())]
    Resume {
        /// The work file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A data set is empty.
    #[error("{what} is empty")]
    Empty {
        /// Which data.
        what: String,
    },
    /// An image could not be rasterised or decoded.
    #[error("image `{file}`: {message}")]
    Raster {
        /// The image file.
        file: String,
        /// What went wrong.
        message: String,
    },
    /// An external program is not installed.
    #[error(
        "`{tool}` is not installed: it rasterises PDF/EPS figures (install the Debian package `{package}`, or turn rasterising off)"
    )]
    MissingTool {
        /// The program.
        tool: String,
        /// The Debian package providing it.
        package: String,
    },
    /// The BERTScore encoder could not be loaded or run.
    #[error("BERTScore encoder `{reference}`: {message}")]
    Encoder {
        /// The encoder reference (or the stage that failed).
        reference: String,
        /// What went wrong.
        message: String,
    },
    /// A request to a model endpoint failed.
    #[error("the model endpoint failed")]
    Endpoint(#[from] burnlp_core::openai::HttpError),
    /// Training or loading the captioner failed.
    #[error(transparent)]
    Train(#[from] burnlp_core::train::TrainError),
    /// A metric could not be computed.
    #[error(transparent)]
    Metrics(#[from] burnlp_core::metrics::MetricsError),
}

/// An `\input`/`\include`/`\import` whose file is not in the source tree.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: `{file}` line {line}: \\{command}{{{name}}} names a missing file (tried {})", tried.join(", "))]
pub struct MissingInput {
    /// The source tree.
    pub source_name: String,
    /// The file holding the command.
    pub file: String,
    /// 1-based line of the command.
    pub line: usize,
    /// `input`, `include`, `import` or `subimport`.
    pub command: String,
    /// The argument as written.
    pub name: String,
    /// The paths looked for.
    pub tried: Vec<String>,
}

/// Result with [`ArxivCapError`].
pub type Result<T> = std::result::Result<T, ArxivCapError>;

impl ArxivCapError {
    /// A read error for `path`.
    pub(crate) fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Read {
            path: path.into(),
            source,
        }
    }
}

impl From<burnlp_core::data::ResumeError> for ArxivCapError {
    fn from(error: burnlp_core::data::ResumeError) -> Self {
        match error {
            burnlp_core::data::ResumeError::Data(e) => Self::Data(e),
            burnlp_core::data::ResumeError::Refused { path, message } => {
                Self::Resume { path, message }
            }
        }
    }
}
