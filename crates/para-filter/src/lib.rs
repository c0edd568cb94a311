//! Parallel corpus filtering and alignment for the WMT20 shared task (km–en, ps–en), after
//! "Volctrans Parallel Corpus Filtering System for WMT 2020" (Xu et al., WMT 2020). The
//! paper's internals were not available; this is the reconstruction of
//! `shared/papers/para-filter.md` with every constant exposed as configuration.
//!
//! - [`corpus`]: the `en<TAB>xx` corpus (plain, `.gz`, `.xz`) and the one-score-per-line
//!   submission, streamed, with located errors;
//! - [`documents`]: document pairs (JSON Lines) and sentence splitting;
//! - [`tokenize`]: words, and character n-grams for scripts without spaces;
//! - [`ibm1`]: IBM Model 1 tables in both directions and the length-normalised pair score;
//! - [`align`]: the dynamic-programming document aligner (1-1, 1-0, 0-1, 1-2, 2-1);
//! - [`mine`]: the iterative mining loop;
//! - [`rules`]: the rerank rules; [`margin`]: the LASER-style ratio-margin scorer (E5);
//!   [`classifier`]: the cross-lingual classifier scorer (text-cls on a multilingual encoder,
//!   clean pairs against synthetic negatives) and the [`classifier::Ensemble`] of runs;
//! - [`score`]: batched, streamed scoring; [`select`]: the official budget rule;
//! - [`noise`]: seeded WMT-style noise injection; [`eval`]: ROC-AUC per noise type and mining
//!   precision / recall; [`synthetic`]: synthetic document pairs and the demo's toy bitext;
//! - [`shared_task`]: the shared task in miniature (noised Multi30k → selections → NMT BLEU);
//! - [`experiment`]: the measurements of `docs/results/para-filter.md`; [`demo`]: the
//!   `cargo xtask demo` rows.

pub mod align;
pub mod classifier;
pub mod corpus;
pub mod demo;
pub mod documents;
pub mod error;
pub mod eval;
pub mod experiment;
pub mod ibm1;
pub mod margin;
pub mod mine;
pub mod noise;
pub mod rules;
pub mod score;
pub mod select;
pub mod shared_task;
pub mod synthetic;
pub mod tokenize;

pub use align::{AlignConfig, Bead, BeadKind, align};
pub use classifier::{ClassifierScorer, Ensemble, ScorerTrainConfig, train_scorer};
pub use corpus::{CorpusReader, CorpusWriter, Pair, check_scores, read_corpus, write_scores};
pub use documents::{DocumentPair, read_documents};
pub use error::{ParaFilterError, Result};
pub use eval::{MiningScores, NoiseReport, mining_scores, noise_report, roc_auc};
pub use ibm1::{Ibm1Config, Ibm1Model};
pub use margin::{MarginConfig, MarginScorer};
pub use mine::{MineConfig, MineOutcome, MinedPair, mine};
pub use noise::{NoiseConfig, NoiseKind, inject};
pub use rules::{Rule, RuleConfig, RuleSet};
pub use score::{BatchScorer, ScoreResume, score_file, score_file_with, score_pairs};
pub use select::{Selection, english_words, select};
