//! The crate's error type: every variant names the file, the setting or the run directory and
//! the problem.

use std::path::PathBuf;

/// Problems reading data, pruning, saving or profiling a model.
#[derive(Debug, thiserror::Error)]
pub enum MlPruneError {
    /// A data file could not be read or has a malformed line (core's located error).
    #[error(transparent)]
    Data(#[from] burnlp_core::data::DataError),
    /// A text-cls data file lacks a column or has an unknown label.
    #[error(transparent)]
    Examples(#[from] text_cls::DataError),
    /// Fine-tuning, re-fine-tuning or loading a run failed (text-cls's error).
    #[error(transparent)]
    Classifier(#[from] text_cls::TextClsError),
    /// The core trainer failed while re-fine-tuning a pruned model.
    #[error(transparent)]
    Train(#[from] burnlp_core::train::TrainError),
    /// The encoder cannot be loaded.
    #[error("cannot load the encoder `{reference}`")]
    Encoder {
        /// The model reference.
        reference: String,
        /// Why.
        #[source]
        source: Box<burnlp_core::nn::encoder::EncoderLoadError>,
    },
    /// A tokenizer could not be saved.
    #[error(transparent)]
    Tokenize(#[from] burnlp_core::tokenize::TokenizeError),
    /// The device could not be created.
    #[error(transparent)]
    Device(#[from] burnlp_core::device::DeviceError),
    /// An evaluation split shares items with the training data.
    #[error(transparent)]
    Overlap(#[from] burnlp_core::data::OverlapError),
    /// A file or directory could not be inspected or removed.
    #[error("cannot access `{path}`")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `--resume` found a run directory written with other settings.
    #[error(
        "{path} belongs to another run: {message}; use a new directory or resume it with the same settings"
    )]
    Mismatch {
        /// The stored settings.
        path: PathBuf,
        /// What differs.
        message: String,
    },
    /// A training stage stopped after `halt_after` steps (tests); `--resume` continues it.
    #[error("halted in `{dir}` after the requested number of steps; continue with --resume")]
    Halted {
        /// The stage's run directory.
        dir: PathBuf,
    },
    /// A configuration value or an input set is unusable.
    #[error("{what}: {problem}")]
    Invalid {
        /// What is wrong (a setting, a data set).
        what: String,
        /// Why.
        problem: String,
    },
}

impl MlPruneError {
    /// An [`MlPruneError::Invalid`] error.
    pub fn invalid(what: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid {
            what: what.into(),
            problem: problem.into(),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = MlPruneError> = std::result::Result<T, E>;
