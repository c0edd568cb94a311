//! The data-and-metric half of GIT and IPGPF (spec Part A, Part C.1): the Doc2EDAG data format
//! (ChFinAnn, converted DuEE-fin), the event schemas and BIO label set, the character
//! vocabulary, the record-level metric, DuEE-fin reading and conversion, and generated data.
//!
//! - [`format`](mod@format): read, validate and write Doc2EDAG-format files;
//! - [`schema`]: ChFinAnn's 5 and DuEE-fin's 13 event types, NER labels;
//! - [`vocab`]: bert-base-chinese applied character by character;
//! - [`metric`]: `dee_metric.py`'s record-level P/R/F1;
//! - [`duee`]: DuEE-fin JSON Lines and DocEE's conversion without triggers;
//! - [`synth`]: generated announcements in both formats;
//! - [`json`]: order-keeping JSON and Python's `json.dump` layouts;
//! - [`model`]: GIT, IPGPF and the per-type record-filling baseline; [`train`](mod@train): training on
//!   core's trainer, prediction and evaluation.

pub mod duee;
pub mod error;
pub mod format;
pub mod json;
pub mod metric;
pub mod model;
pub mod schema;
pub mod synth;
pub mod train;
pub mod vocab;

pub use error::{DeeError, Drange};
pub use format::{Check, Document, Record, read_documents, validate, write_documents};
pub use schema::{CHFINANN, DUEE_FIN, DatasetSchema, EventSchema};
