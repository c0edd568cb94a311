//! Sentence and sentence-pair classification with a BERT-family encoder.
//!
//! The standard fine-tuning recipe of Devlin et al. (2019): encode `[CLS] A [SEP] (B [SEP])`,
//! take the pooled first token (or the mean of the tokens), apply dropout and a linear layer,
//! and train with cross-entropy. Data is GLUE-style TSV with named columns, or the synthetic
//! negation task of [`synthetic`] that `cargo xtask demo` runs. The encoder is any pretrained
//! model reference `load_encoder` takes (a Hugging Face directory or id, an E5S1 file) or a
//! small randomly initialised one with a WordPiece vocabulary trained on the training texts.
//!
//! - [`data`]: examples and the TSV reader;
//! - [`model`]: [`ClassifierSpec`] (`RUN/model.json`) and [`Classifier`];
//! - [`train`]: [`TrainConfig`], [`train()`] and [`train_with`] (a sub-network strategy's
//!   gradient masks: the library that `subnet-tune` builds on);
//! - [`eval`]: [`score`] and [`Run`] (a trained run directory: `evaluate`, `predict`);
//! - [`demo`]: the `cargo xtask demo` row;
//! - [`synthetic`]: the negation task with disjoint splits.

pub mod data;
pub mod demo;
pub mod error;
pub mod eval;
pub mod model;
pub mod synthetic;
pub mod train;

pub use data::{Columns, DataError, Example, check_classes, read_tsv, read_unlabelled};
pub use error::TextClsError;
pub use eval::{Prediction, Run, score, score_regression};
pub use model::{
    Classifier, ClassifierSpec, EncodedSet, Head, Pooling, encode, parse_score, probabilities,
};
pub use train::{
    ClassificationTask, METRICS, MaskBuilder, Subnetwork, TrainConfig, optimizer, train, train_with,
};
