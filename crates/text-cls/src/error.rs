//! The errors of text-cls.

use std::path::PathBuf;

use burnlp_core::data::OverlapError;
use burnlp_core::nn::encoder::EncoderLoadError;
use burnlp_core::tokenize::TokenizeError;
use burnlp_core::train::TrainError;

use crate::data::DataError;

/// Errors of training, evaluating and applying a classifier.
#[derive(Debug, thiserror::Error)]
pub enum TextClsError {
    /// Reading or validating data failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A data set has no examples.
    #[error("{what} has no examples")]
    Empty {
        /// Which data (a file name, or "training data").
        what: String,
    },
    /// Tokenizing, training or saving a tokenizer failed.
    #[error(transparent)]
    Tokenize(#[from] TokenizeError),
    /// The pretrained encoder could not be loaded.
    #[error("loading the encoder `{reference}`")]
    Encoder {
        /// The model reference.
        reference: String,
        /// Why.
        #[source]
        source: Box<EncoderLoadError>,
    },
    /// Training, checkpoints or parameter files failed.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// A file of the run directory could not be read, written or parsed.
    #[error("{}: {message}", path.display())]
    Run {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read or written.
    #[error(transparent)]
    File(#[from] burnlp_core::data::DataError),
    /// The device could not be created.
    #[error(transparent)]
    Device(#[from] burnlp_core::device::DeviceError),
    /// Evaluation data overlaps the training data.
    #[error(transparent)]
    Overlap(#[from] OverlapError),
}
