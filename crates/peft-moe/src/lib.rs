//! ESFT: expert-specialized fine-tuning of Mixture-of-Experts LMs, with routing analysis and
//! LoRA / full fine-tuning baselines.
//!
//! Wang et al., "Let the Expert Stick to His Last: Expert-Specialized Fine-Tuning for Sparse
//! Architectural Large Language Models", EMNLP 2024 (<https://arxiv.org/abs/2407.01906>);
//! official code: deepseek-ai/ESFT. The MoE architecture is DeepSeekMoE (Dai et al., 2024,
//! <https://arxiv.org/abs/2401.06066>).
//!
//! - [`esft_data`]: the official ESFT training, evaluation and completion files, the chat
//!   format and packing;
//! - [`esft_score`]: the official task scorers (intent exact match, judge-score parsing,
//!   averaging);
//! - [`routing`]: expert relevance scores from routing logs or a model, selection with threshold
//!   `p`, concentration analysis and heat maps;
//! - [`moe`]: the DeepSeek-MoE language model on the core Llama decoder;
//! - [`tasks`]: the synthetic multi-task setting and its character vocabulary;
//! - [`experiment`]: the synthetic ESFT / LoRA / FFT comparison;
//! - [`train`]: ESFT / LoRA / full fine-tuning with the core trainer, and evaluation;
//! - [`real`]: ESFT on the official data with a tokenizer-backed MoE: routing statistics,
//!   answer-only training from the labels, greedy evaluation in the official completion
//!   format, general-text perplexity;
//! - [`real_experiment`]: the ESFT / LoRA / FFT comparison on the upcycled SmolLM2 MoE;
//! - [`demo_real`]: the demo rows on SmolLM2 (upcycling fidelity, ESFT-Token on an own
//!   smart-home intent task);
//! - [`upcycle`]: sparse upcycling of a dense Llama (SmolLM2) into the MoE model, the
//!   real-start stand-in for DeepSeek-V2-Lite.

pub mod demo_real;
pub mod error;
pub mod esft_data;
pub mod esft_score;
pub mod experiment;
pub mod moe;
pub mod real;
pub mod real_experiment;
pub mod routing;
pub mod tasks;
pub mod train;
pub mod upcycle;

pub use error::MoeError;
