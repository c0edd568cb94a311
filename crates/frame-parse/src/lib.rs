//! KID frame-semantic parsing on FrameNet, after "A Double-Graph Based Framework for Frame
//! Semantic Parsing" (Zheng et al., NAACL 2022): the spec is `shared/papers/frame-parse.md`.
//!
//! - [`lexicon`]: the FrameNet XML release (frames, FEs with core types, frame and FE
//!   relations, semantic types, lexical units) with validation, and the LU → candidate-frames
//!   map with its coverage of annotated targets;
//! - [`conll`]: the 5-column (shared files) and 15-column (KID) CoNLL variants, read with
//!   located errors and written back;
//! - [`mod@score`]: KID's evaluation (frame accuracy, weighted argument P/R/F1, full structure);
//! - [`fkg`]: the frame knowledge graph (five merged relations, FE embeddings shared by name);
//! - [`model`]: the KID network (sentence encoder, frame identification, frame semantic graph
//!   with incremental decoding, §4 losses);
//! - [`train`]: training runs with core's trainer; [`run`]: trained runs loaded back to predict;
//! - [`baseline`]: the most-frequent-frame baseline;
//! - [`experiment`]: the measurements of `docs/results/frame-parse.md`; [`demo`]: the
//!   `cargo xtask demo` row on an embedded FrameNet-format sample.

pub mod baseline;
pub mod conll;
pub mod demo;
pub mod error;
pub mod experiment;
pub mod fkg;
pub mod lexicon;
pub mod model;
pub mod run;
pub mod score;
pub mod train;

pub use conll::{ConllFormat, Instance, Span, format_conll, parse_conll, read_conll, write_conll};
pub use error::{FrameParseError, Result};
pub use lexicon::{CandidateFrames, CoreType, Coverage, Frame, FrameElement, Lexicon};
pub use score::{Score, ScoreOptions, check_aligned, score};
