//! AMR tooling for ATP, "AMRize Then Parse! Enhancing AMR Parsing with PseudoAMRs"
//! (Chen et al., Findings of NAACL 2022; official code: PKUnlp-icler/ATP).
//!
//! - [`penman`]: the AMR graph types ([`Amr`]), reading AMR files and writing Penman notation;
//! - [`triples`]: the triples that the Smatch tool compares, built exactly as it builds them;
//! - [`smatch`]: Smatch (Cai & Knight 2013) with the reference tool's hill climbing, plus an
//!   optional branch-and-bound refinement that proves (or finds) the best variable mapping;
//! - [`linearize`]: SPRING's DFS linearisation with pointer tokens, strict and lenient restoration;
//! - [`fine`]: the fine-grained scores of Damonte et al. (2017) that ATP reports;
//! - [`amrize`]: PseudoAMR graphs from dependency trees (CoNLL-U) and SRL annotations;
//! - [`depparse`]: a biaffine dependency parser (Dozat & Manning 2017) on a BERT-family
//!   encoder, with MST decoding and CoNLL 2018 UAS / LAS, for dependency trees of raw text;
//! - [`parser`]: the seq2seq parser with single, multitask and intermediate-task training;
//! - [`demo_data`]: generated sentences with their AMRs, split into disjoint train / dev / test
//!   sets for the parser demo and tests;
//! - [`demo`]: the rows of `amr-aux demo` (Smatch of an embedded sample, and a tiny parser
//!   trained and tested on generated sentences).

pub mod amrize;
pub mod demo;
pub mod demo_data;
pub mod depparse;
pub mod fine;
mod hash;
pub mod linearize;
pub mod parser;
pub mod penman;
pub mod smatch;
pub mod triples;

use std::path::PathBuf;

pub use penman::{Amr, Constant, Edge, Instance, PenmanError, Target, parse_amrs, read_amr_file};
pub use smatch::{PairScore, SmatchConfig, SmatchScore, smatch_corpus, smatch_pair};
pub use triples::{Flavor, Triples};

/// Errors of the AMR tools.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Malformed Penman.
    #[error(transparent)]
    Penman(#[from] PenmanError),
    /// A file without a single graph (empty, comments only, or prose).
    #[error("{}: no AMR graph found ({lines} non-blank lines, none of them a Penman graph)", path.display())]
    NoGraphs {
        /// The file.
        path: PathBuf,
        /// Its non-blank lines.
        lines: usize,
    },
    /// The test and gold corpora do not have the same number of graphs.
    #[error("the test file has {test} graphs but the gold file has {gold}")]
    CountMismatch {
        /// Graphs in the test (predicted) corpus.
        test: usize,
        /// Graphs in the gold corpus.
        gold: usize,
    },
    /// A result file could not be written.
    #[error(transparent)]
    Data(#[from] burnlp_core::data::DataError),
    /// Evaluation sentences that also occur in the training data (after whitespace and case
    /// normalisation).
    #[error(
        "{overlap} of {evaluated} evaluation sentences also occur in the training data \
         (e.g. `{example}`)"
    )]
    SplitOverlap {
        /// Evaluation sentences found in the training data.
        overlap: usize,
        /// Evaluation sentences.
        evaluated: usize,
        /// The first of them.
        example: String,
    },
}

/// Result of the AMR tools.
pub type Result<T> = std::result::Result<T, Error>;
