//! The errors of subnet-tune.

use std::path::PathBuf;

use burnlp_core::train::TrainError;
use text_cls::TextClsError;

/// Errors of reading data, building sub-networks, training and evaluating.
#[derive(Debug, thiserror::Error)]
pub enum SubnetError {
    /// Reading a file failed (file, line and cause are in the message).
    #[error(transparent)]
    Read(#[from] burnlp_core::data::DataError),
    /// A GLUE-style file is malformed (missing column, unknown label).
    #[error(transparent)]
    Data(#[from] text_cls::DataError),
    /// A record is malformed.
    #[error("{}: record {record}: {message}", path.display())]
    Record {
        /// The file.
        path: PathBuf,
        /// 1-based record (line) number; 0 for the whole file.
        record: usize,
        /// What is wrong.
        message: String,
    },
    /// A data file has no examples.
    #[error("{}: no examples", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A strategy's settings do not fit the data (e.g. S4-Tuning without languages).
    #[error("{0}")]
    Setup(String),
    /// Training or evaluating the classifier failed.
    #[error(transparent)]
    Classifier(#[from] TextClsError),
    /// The trainer, a mask file or a checkpoint failed.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// The device could not be created.
    #[error(transparent)]
    Device(#[from] burnlp_core::device::DeviceError),
    /// Evaluation data overlaps the training data.
    #[error(transparent)]
    Overlap(#[from] burnlp_core::data::OverlapError),
}
