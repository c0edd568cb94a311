//! The error type of the library: every failure of training, loading a run, evaluating,
//! predicting, the demo and the experiment, wrapping core's typed errors.

use std::path::PathBuf;

use burnlp_core::data::OverlapError;
use burnlp_core::device::DeviceError;
use burnlp_core::nn::encoder::EncoderLoadError;
use burnlp_core::tokenize::TokenizeError;
use burnlp_core::train::TrainError;

use crate::data::DataError;

/// Errors of `fssl-span`'s library functions.
#[derive(Debug, thiserror::Error)]
pub enum FsslError {
    /// Reading, writing or sampling episodes or corpora failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A set of episodes is empty.
    #[error("{what} has no episodes")]
    NoEpisodes {
        /// Which set (a file name, or "the training episodes").
        what: String,
    },
    /// Tokenizer training, loading or saving failed.
    #[error(transparent)]
    Tokenize(#[from] TokenizeError),
    /// A sentence of an episode could not be tokenized.
    #[error("{set}: encoding episode {episode}")]
    Encode {
        /// Which episodes ("training episodes", a file name).
        set: String,
        /// 1-based index of the episode.
        episode: usize,
        /// Why.
        #[source]
        source: TokenizeError,
    },
    /// The pretrained encoder could not be loaded.
    #[error("loading the encoder `{reference}`")]
    Encoder {
        /// The model reference.
        reference: String,
        /// Why (boxed: core's loader errors are large).
        #[source]
        source: Box<EncoderLoadError>,
    },
    /// A directory is not a trained `fssl-span` run (no readable `model.json`).
    #[error("{} is not a fssl-span run directory", dir.display())]
    NotARun {
        /// The directory.
        dir: PathBuf,
        /// Why `model.json` could not be read.
        #[source]
        source: std::io::Error,
    },
    /// A run's `model.json` is malformed.
    #[error("parsing {}", path.display())]
    ModelConfig {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// Training, checkpoints or parameter files failed.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// A file could not be read or written.
    #[error(transparent)]
    File(#[from] burnlp_core::data::DataError),
    /// The device could not be created.
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// Evaluation episodes share sentences with the episodes a model was trained or selected on.
    #[error(transparent)]
    Overlap(#[from] OverlapError),
}

/// Result with [`FsslError`].
pub type Result<T, E = FsslError> = std::result::Result<T, E>;
