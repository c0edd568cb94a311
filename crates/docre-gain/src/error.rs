//! The error type of the library's training, prediction, demo and experiment functions, wrapping
//! the crate's own errors and core's.

use std::path::PathBuf;

use burnlp_core::data::OverlapError;
use burnlp_core::device::DeviceError;
use burnlp_core::nn::encoder::EncoderLoadError;
use burnlp_core::tokenize::TokenizeError;
use burnlp_core::train::TrainError;

use crate::data::DataError;
use crate::eval::EvalError;
use crate::graph::PrepareError;
use crate::train::GloveError;

/// Errors of training, loading a run, predicting, the demo and the experiment.
#[derive(Debug, thiserror::Error)]
pub enum GainError {
    /// Reading or validating DocRED data failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Reading or validating a DocRED file failed.
    #[error("{}", path.display())]
    Documents {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: DataError,
    },
    /// A set of documents is empty.
    #[error("{what} hold no document")]
    Empty {
        /// Which documents ("the training documents", …).
        what: String,
    },
    /// The training documents have no label, so they name no relation to learn.
    #[error("the training documents have no labels")]
    NoRelations,
    /// A split asks for a dev portion that leaves no document for one side.
    #[error(
        "a dev portion of {requested} documents must be between 1 and {} ({origin} has {available} documents)",
        available.saturating_sub(1)
    )]
    Split {
        /// Documents asked for the dev portion.
        requested: usize,
        /// Documents available.
        available: usize,
        /// Where they came from.
        origin: String,
    },
    /// A document could not be turned into model input.
    #[error("preparing {what}")]
    Prepare {
        /// Which documents ("the training documents", a file name).
        what: String,
        /// Why.
        #[source]
        source: PrepareError,
    },
    /// Scoring predictions failed.
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// GloVe vectors could not be read.
    #[error(transparent)]
    Glove(#[from] GloveError),
    /// Tokenizer training, loading or saving failed.
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
    Train(Box<TrainError>),
    /// A directory is not a trained `docre-gain` run (no readable `model.json`).
    #[error("{} is not a docre-gain run directory", dir.display())]
    NotARun {
        /// The directory.
        dir: PathBuf,
        /// Why `model.json` could not be read.
        #[source]
        source: std::io::Error,
    },
    /// A file of a run directory is malformed.
    #[error("{}: {message}", path.display())]
    RunFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// No DocRED file where the experiment looked for one.
    #[error(
        "no DocRED file at {} (the experiment's data is a directory holding dev_sample.json or a DocRED file)",
        path.display()
    )]
    NoSample {
        /// Where it looked.
        path: PathBuf,
    },
    /// The experiment's report path is its JSON file's path.
    #[error("{} is the markdown report; its JSON goes beside it", path.display())]
    ReportPath {
        /// The path given for the markdown report.
        path: PathBuf,
    },
    /// A directory could not be created or removed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be read or written.
    #[error(transparent)]
    File(#[from] burnlp_core::data::DataError),
    /// The device could not be created.
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// Evaluation documents are also training documents.
    #[error(transparent)]
    Overlap(#[from] OverlapError),
}

impl From<TrainError> for GainError {
    fn from(error: TrainError) -> Self {
        GainError::Train(Box::new(error))
    }
}

/// Result with [`GainError`].
pub type Result<T, E = GainError> = std::result::Result<T, E>;
