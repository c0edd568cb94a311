//! Multimodal ArXiv (Li et al., ACL 2024): ArxivCap figure–caption pairs from arXiv LaTeX
//! sources, ArxivQA multiple-choice items, and their metrics.
//!
//! No official code was released; the curation pipeline of the spec's §5.1 is a
//! reconstruction. The crate reads real source packages and writes ArxivCap rows:
//!
//! - [`source`]: a source package (directory, `.tar.gz`/`.tar`, gzipped `.tex`) and its main file;
//! - [`latex`]: inlining, macros, figure environments, caption cleaning;
//! - [`extract`]: image resolution and the §5.1 filters with drop counts ([`extract_sources`]);
//! - [`schema`]: the ArxivCap row (§2.3), JSON Lines reading with validation, statistics;
//! - `parquet` (cargo feature, on by default): the released Parquet layout with image bytes;
//! - [`output`]: rows written as they come (JSON Lines, Parquet);
//! - [`qa`]: ArxivQA items (§3), validation, answer-letter parsing and accuracy (§5.4);
//! - [`lvlm`]: question generation and benchmarking through an OpenAI-compatible endpoint;
//! - [`tasks`]: the §5.2 task instances (single-/multiple-figure captioning, title generation);
//! - [`eval`]: BLEU-2, ROUGE-L and CIDEr-D of generated captions (from `burnlp_core::metrics`);
//! - [`bertscore`]: BERTScore with a BERT-family encoder from core (MiniLM);
//! - [`images`]: image formats, pixel sizes, PDF/EPS rasterising, captioner inputs;
//! - [`gold`]: extraction precision/recall against hand-checked gold figures;
//! - [`captioner`]: a tiny ViT-style captioner trained on generated charts and real pairs;
//! - [`demo`]: the `cargo xtask demo` rows on an embedded LaTeX sample.

pub mod bertscore;
pub mod captioner;
pub mod demo;
pub mod error;
pub mod eval;
pub mod extract;
pub mod gold;
pub mod images;
pub mod latex;
pub mod lvlm;
pub mod output;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod qa;
pub mod resume;
pub mod schema;
pub mod source;
pub mod tasks;

pub use error::{ArxivCapError, Result};
pub use eval::{CaptionPrediction, CaptionReport, caption_instances, score_captions};
pub use extract::{
    DropCounts, ExtractOptions, Extraction, Figure, Image, MetaRecord, Paper, extract_sources,
    read_paper, resolve_image, to_row,
};
pub use gold::{PaperScore, markdown, score_all};
pub use latex::{Document, MissingInputs};
pub use output::{Format, RowWriter};
pub use qa::{McReport, Prediction, QaItem, mc_accuracy, parse_choice, read_arxivqa};
pub use schema::{
    ArxivCapRow, CaptionImages, CilPair, Meta, cap_stats, read_arxivcap, write_arxivcap,
};
pub use source::SourceTree;
pub use tasks::{Instance, Task, instances};
