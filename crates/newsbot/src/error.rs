//! The crate's error type: every variant names the file (or input), the place in it and the
//! problem.

use std::path::PathBuf;

/// Problems reading tables, templates, texts and annotations, and running the chain.
#[derive(Debug, thiserror::Error)]
pub enum NewsbotError {
    /// A file could not be opened or read.
    #[error("cannot read `{path}`")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A table is malformed: `at` is the JSON path of the bad cell (`box_score.PTS.3`).
    #[error("`{source_name}`{}: {problem}", at_label(.at))]
    Table {
        /// The file (or the name of an embedded table).
        source_name: String,
        /// The JSON path of the offending value, if known.
        at: Option<String>,
        /// What is wrong.
        problem: String,
    },
    /// The template store is malformed or a template cannot be filled.
    #[error("templates `{source_name}`: {problem}")]
    Template {
        /// The template file (or `embedded`).
        source_name: String,
        /// What is wrong.
        problem: String,
    },
    /// A line of a CSV or text file is malformed.
    #[error("`{path}` line {line}: {problem}")]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// A core data reader or writer failed.
    #[error(transparent)]
    Data(#[from] burnlp_core::data::DataError),
    /// Evaluation data overlaps training data.
    #[error(transparent)]
    Overlap(#[from] burnlp_core::data::OverlapError),
    /// A metric could not be computed.
    #[error(transparent)]
    Metrics(#[from] burnlp_core::metrics::MetricsError),
    /// The sentence scorer (text-cls) failed.
    #[error(transparent)]
    Classifier(#[from] text_cls::TextClsError),
    /// A device could not be opened.
    #[error(transparent)]
    Device(#[from] burnlp_core::device::DeviceError),
    /// An external program (espeak-ng) is missing or failed.
    #[error("{program}: {problem}")]
    External {
        /// The program.
        program: String,
        /// What went wrong (and how to fix it).
        problem: String,
    },
    /// An mls-nmt run directory could not be loaded or translate.
    #[error("mls-nmt model `{run}`")]
    Nmt {
        /// The run directory.
        run: PathBuf,
        /// The mls-nmt error.
        #[source]
        source: mls_nmt::NmtError,
    },
    /// An OpenAI-compatible endpoint failed (the cause names the URL). Not transparent, so
    /// that the exit status sees the HTTP failure in the cause chain.
    #[error("the model endpoint failed")]
    Http(#[from] burnlp_core::openai::HttpError),
    /// The web app could not listen or serve.
    #[error("serving on {addr}")]
    Serve {
        /// The address.
        addr: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A value could not be serialised to JSON.
    #[error("serialising JSON")]
    Json(#[from] serde_json::Error),
    /// A setting or an input set is unusable.
    #[error("{what}: {problem}")]
    Invalid {
        /// What is wrong (a setting, a data set).
        what: String,
        /// Why.
        problem: String,
    },
}

fn at_label(at: &Option<String>) -> String {
    at.as_ref()
        .map(|a| format!(" at `{a}`"))
        .unwrap_or_default()
}

impl NewsbotError {
    /// A [`NewsbotError::Invalid`] error.
    pub fn invalid(what: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid {
            what: what.into(),
            problem: problem.into(),
        }
    }

    /// A [`NewsbotError::Table`] error at a JSON path.
    pub fn table(source_name: &str, at: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Table {
            source_name: source_name.into(),
            at: Some(at.into()),
            problem: problem.into(),
        }
    }

    /// A [`NewsbotError::Template`] error.
    pub fn template(source_name: &str, problem: impl Into<String>) -> Self {
        Self::Template {
            source_name: source_name.into(),
            problem: problem.into(),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = NewsbotError> = std::result::Result<T, E>;
