//! Errors of the ESFT library.

use std::path::PathBuf;

/// Errors reading routing logs, scores, expert configurations, task data and models.
#[derive(Debug, thiserror::Error)]
pub enum MoeError {
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file's content is malformed.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong and where.
        message: String,
    },
    /// A data file could not be read or written (the message locates the record).
    #[error(transparent)]
    Data(#[from] burnlp_core::data::DataError),
    /// A checkpoint does not fit the model.
    #[error(transparent)]
    Weights(#[from] burnlp_core::nn::WeightError),
    /// Training failed.
    #[error(transparent)]
    Train(#[from] burnlp_core::train::TrainError),
    /// An official ESFT data file is malformed, or a conversation cannot be tokenised.
    #[error(transparent)]
    EsftData(#[from] crate::esft_data::EsftDataError),
    /// An evaluation split shares items with its training split.
    #[error(transparent)]
    Overlap(#[from] burnlp_core::data::OverlapError),
    /// Settings are inconsistent.
    #[error("{0}")]
    Invalid(String),
}
