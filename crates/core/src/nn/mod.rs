//! Neural network modules shared by tasks, and checkpoint loading.
//!
//! - [`bert`]: BERT/RoBERTa/XLM-R encoder with Hugging Face weight loading;
//! - [`graph`]: heterogeneous graphs, batching, relational GCN and GAT;
//! - [`span`]: span enumeration and representations, biaffine scorer, CRF, pointer head;
//! - [`llama`]: Llama-style decoder-only LM with KV cache and sampling;
//! - [`seq2seq`]: encoder-decoder Transformer with beam search;
//! - [`weights`]: safetensors loading with a report of every tensor.

pub mod bert;
pub mod graph;
pub mod llama;
pub mod lora;
pub mod seq2seq;
pub mod span;
pub mod weights;

pub use bert::{Bert, BertConfig, BertInput, BertOutput};
pub use weights::{LoadReport, WeightError, WeightSource};
