//! Exact re-implementations of standard NLP metrics.
//!
//! Every metric here is plain Rust over slices and strings (no tensors) and reproduces a
//! reference implementation bit for bit where that is feasible:
//!
//! * [`classification`]: accuracy, precision/recall/F1 (micro, macro, weighted), ROC-AUC and the
//!   Matthews correlation coefficient with scikit-learn semantics.
//! * [`correlation`]: Pearson and Spearman (average ranks for ties) with SciPy semantics.
//! * [`retrieval`]: Tatoeba parallel-sentence retrieval accuracy in both directions, by cosine
//!   or by LASER's ratio margin over `k` nearest neighbours.
//! * [`seqeval`]: entity-level span F1 with `seqeval`'s default (lenient) and strict modes.
//! * [`bleu`]: corpus and sentence BLEU identical to sacreBLEU 2.x (`13a`, `intl`, `zh`, `none`
//!   tokenizers; all smoothing methods; any maximum n-gram order, e.g. BLEU-2).
//! * [`cider`]: CIDEr-D identical to `pycocoevalcap`'s `Cider` scorer.
//! * [`chrf`]: chrF and chrF++ identical to sacreBLEU's `CHRF`.
//! * [`rouge`]: ROUGE-L, ROUGE-Lsum and ROUGE-N identical to Google's `rouge-score` package
//!   (without stemming).
//! * [`calibration`]: expected calibration error, reliability-diagram bins and an SVG renderer.
//!
//! Bad input (mismatched lengths, empty input, invalid tags, out-of-range probabilities, NaN) is
//! reported through [`MetricsError`]; no function here panics on data.

pub mod bleu;
pub mod calibration;
pub mod chrf;
pub mod cider;
pub mod classification;
pub mod correlation;
pub mod error;
mod pycompat;
pub mod retrieval;
pub mod rouge;
pub mod seqeval;

pub use error::{MetricsError, Result};
