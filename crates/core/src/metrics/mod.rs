//! Exact re-implementations of standard NLP metrics.
//!
//! Every metric here is plain Rust over slices and strings (no tensors) and reproduces a
//! reference implementation bit for bit where that is feasible:
//!
//! * [`classification`]: accuracy and precision/recall/F1 (micro, macro, weighted) with
//!   scikit-learn semantics.
//! * [`seqeval`]: entity-level span F1 with `seqeval`'s default (lenient) and strict modes.
//! * [`bleu`]: corpus and sentence BLEU identical to sacreBLEU 2.x (`13a`, `intl`, `zh`, `none`
//!   tokenizers; all smoothing methods).
//! * [`chrf`]: chrF and chrF++ identical to sacreBLEU's `CHRF`.
//! * [`rouge`]: ROUGE-L, ROUGE-Lsum and ROUGE-N identical to Google's `rouge-score` package
//!   (without stemming).
//! * [`calibration`]: expected calibration error, reliability-diagram bins and an SVG renderer.
//!
//! Bad input (mismatched lengths, invalid tags, out-of-range probabilities) is reported through
//! [`MetricsError`]; no function here panics on data.

pub mod bleu;
pub mod calibration;
pub mod chrf;
pub mod classification;
pub mod error;
mod pycompat;
pub mod rouge;
pub mod seqeval;

pub use error::{MetricsError, Result};
