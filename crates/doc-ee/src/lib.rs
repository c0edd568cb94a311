//! Document-level event argument extraction: TSAR, "A Two-Stream AMR-enhanced Model for
//! Document-level Event Argument Extraction" (Xu et al., NAACL 2022; official code
//! PKUnlp-icler/TSAR), on RAMS 1.0 and WikiEvents.
//!
//! - [`data`]: RAMS and WikiEvents readers, TSAR's per-event WikiEvents windows, the ontology;
//! - [`score`]: the official scorer's semantics (span / head / coreference F1, Arg-I / Arg-C);
//! - [`graph`]: sentence graphs from AMR (Penman with alignments) or CoNLL-U dependencies, the
//!   13 edge types, global and local graphs;
//! - [`model`]: the two-stream encoder, R-GCN interaction, gated fusion, span classifier and
//!   losses; [`train`]: training on core's trainer, prediction and evaluation;
//! - [`synthetic`]: generated RAMS-format documents; [`demo`]: the `cargo xtask demo` rows;
//! - [`dee`]: the GIT / IPGPF data and metric half: the Doc2EDAG format (ChFinAnn, DuEE-fin),
//!   event schemas, BIO labels, the record-level metric and generated announcements.

pub mod data;
pub mod dee;
pub mod demo;
pub mod error;
pub mod graph;
pub mod model;
pub mod score;
pub mod synthetic;
pub mod train;

pub use data::{Example, Link, Ontology};
pub use error::{DocEeError, Result};
