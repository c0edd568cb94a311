//! A dependency parser of our own: Dozat & Manning, "Deep Biaffine Attention for Neural
//! Dependency Parsing", ICLR 2017 (<https://arxiv.org/abs/1611.01734>), on a BERT-family
//! encoder instead of the paper's BiLSTM.
//!
//! ATP's auxiliary dependency-parsing task and PseudoAMR from raw text need parses; this is the
//! parser `amr-aux depparse train|parse|eval` runs.
//!
//! - [`model`]: first-subword word vectors (`[CLS]` is the root), MLPs, core's biaffine scorer
//!   for arcs and labels, cross-entropy losses;
//! - [`decode`]: Chu-Liu/Edmonds maximum spanning trees, with one child of the root as UD
//!   requires;
//! - [`eval`]: UAS / LAS exactly as the CoNLL 2018 shared task's `conll18_ud_eval.py` for gold
//!   tokenisation, and the left-neighbour baseline;
//! - [`input`]: sentences to parse (CoNLL-U, or raw text one whitespace-tokenised sentence per
//!   line) and writing parses as CoNLL-U;
//! - [`mod@train`]: training through core's trainer (dev LAS selects the model) and [`train::Run`],
//!   a trained parser loaded from its run directory.

pub mod decode;
pub mod eval;
pub mod input;
pub mod model;
pub mod train;

use std::path::PathBuf;

pub use decode::mst_heads;
pub use eval::{AttachmentScores, EvalError, attachment_scores, read_treebank};
pub use input::{InputSentence, read_parse_input, write_parses};
pub use model::{DepParser, ParserSpec};
pub use train::{DepTrainConfig, Run, train};

/// Errors of the dependency parser.
#[derive(Debug, thiserror::Error)]
pub enum DepparseError {
    /// Reading or scoring a treebank failed.
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// A malformed input file.
    #[error("{}:{line}: {problem}", path.display())]
    Input {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// A file could not be read or written.
    #[error(transparent)]
    Data(#[from] burnlp_core::data::DataError),
    /// Tokenization failed.
    #[error(transparent)]
    Tokenize(#[from] burnlp_core::tokenize::TokenizeError),
    /// The encoder could not be loaded.
    #[error("encoder `{reference}`: {source}")]
    Encoder {
        /// The reference given.
        reference: String,
        /// Why.
        #[source]
        source: Box<burnlp_core::nn::encoder::EncoderLoadError>,
    },
    /// Training or checkpointing failed.
    #[error(transparent)]
    Train(#[from] burnlp_core::train::TrainError),
    /// The device could not be set up.
    #[error(transparent)]
    Device(#[from] burnlp_core::device::DeviceError),
    /// A run directory that cannot be loaded.
    #[error("{}: {message}", path.display())]
    Run {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Result of the dependency parser.
pub type Result<T> = std::result::Result<T, DepparseError>;
