//! Shared building blocks of burnlp.
//!
//! `burnlp-core` holds everything two tasks can share: device selection ([`device`]),
//! tokenization ([`tokenize`]), data readers and batching ([`data`]), neural network modules
//! such as the BERT-family encoder ([`nn`]), the training loop ([`train`]) and exact
//! re-implementations of the standard metrics ([`metrics`]). It knows no task.

pub mod chat;
pub mod cli;
pub mod data;
pub mod device;
pub mod hub;
pub mod matching;
pub mod metrics;
pub mod nn;
pub mod openai;
pub mod report;
pub mod tokenize;
pub mod train;

pub use burn;
