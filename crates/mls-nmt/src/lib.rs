//! Transformer NMT with masked label smoothing over a shared vocabulary (BLEU, calibration).
//!
//! Chen, Xu and Chang, "Focus on the Target's Vocabulary: Masked Label Smoothing for Machine
//! Translation", ACL 2022 (<https://arxiv.org/abs/2203.02889>; code: PKUnlp-icler/MLS).
//!
//! - [`data`]: joint BPE, source/target dictionaries and token categories, binarized pairs;
//! - [`loss`]: CE, LS, MLS and WLS as per-vocabulary smoothing weights;
//! - [`model`]: Transformer presets with shared embeddings;
//! - [`train`]: token-based batching, inverse-sqrt schedule, checkpoint averaging;
//! - [`translate`]: beam search and detokenization;
//! - [`eval`]: teacher-forced statistics, inference ECE and training-time ECE;
//! - [`infece`]: InfECE's token labels and binning; [`ter`]: tercom's alignment with shifts;
//! - [`score`]: compound-split BLEU (fairseq), sacreBLEU and chrF;
//! - [`synthetic`]: a made-up language pair for the demo and the tests;
//! - [`experiment`]: LS against MLS on one corpus, written as a Markdown report.

pub mod data;
pub mod demo;
pub mod error;
pub mod eval;
pub mod experiment;
pub mod infece;
pub mod loss;
pub mod model;
pub mod score;
pub mod synthetic;
pub mod ter;
pub mod train;
pub mod translate;

pub use data::{
    CategoryStats, DEFAULT_THRESHOLD, PrepareConfig, PreparedData, TokenCategory, Vocabulary,
    prepare,
};
pub use error::{NmtError, Result};
pub use loss::{LossConfig, LossKind, SmoothingWeights, WlsRatio};
pub use model::{Arch, ModelSpec};
pub use train::{TrainConfig, TrainReport, average_parameters, train};
pub use translate::{Checkpoint, DecodeOptions, Translation, Translator};
