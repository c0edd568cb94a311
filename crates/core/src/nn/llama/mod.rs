//! Llama-style decoder-only causal language model with KV cache, sampling and scoring.
//!
//! Touvron et al., "LLaMA: Open and Efficient Foundation Language Models", 2023
//! (<https://arxiv.org/abs/2302.13971>) and "Llama 2", 2023 (<https://arxiv.org/abs/2307.09288>);
//! the layout mirrors Hugging Face `transformers`' `LlamaForCausalLM`: RMSNorm pre-norm layers,
//! rotary position embeddings (Su et al., <https://arxiv.org/abs/2104.09864>) in the
//! `rotate_half` layout, grouped-query attention (Ainslie et al.,
//! <https://arxiv.org/abs/2305.13245>), SwiGLU feed-forward blocks (Shazeer,
//! <https://arxiv.org/abs/2002.05202>) and tied or untied output embeddings.
//!
//! - [`config`]: [`LlamaConfig`], read from a Hugging Face `config.json`;
//! - [`model`]: the network ([`Llama`]), its [`FeedForward`] and [`SelfAttention`] extension
//!   points for other blocks (e.g. mixture-of-experts, latent attention) and checkpoint loading
//!   ([`Llama::from_pretrained`]);
//! - [`rope`]: the [`RotaryEmbedding`] in the `rotate_half` or interleaved layout, with optional
//!   YaRN scaling ([`YarnScaling`]);
//! - [`gguf`]: loading from llama.cpp GGUF files ([`Llama::from_gguf`]);
//! - [`causal_lm`]: a model with its tokenizer and chat template from any model reference
//!   ([`CausalLm::load`]);
//! - [`cache`]: the [`KvCache`] for incremental decoding;
//! - [`sampling`]: greedy, temperature, top-k and top-p token choice with a seeded RNG;
//! - [`generate`]: batched, left-padded generation with stop conditions and per-token
//!   log-probabilities ([`Llama::generate`]);
//! - [`score`]: log-probabilities of given tokens ([`Llama::token_log_probs`],
//!   [`Llama::score_continuations`]);
//! - [`supervised`]: next-token batches with answer-only supervision and their loss
//!   ([`NextTokenBatch`]).
//!
//! Dropout is not modelled (Llama checkpoints use none).

pub mod cache;
pub mod causal_lm;
pub mod config;
pub mod generate;
pub mod gguf;
pub mod model;
pub mod rope;
pub mod sampling;
pub mod score;
pub mod supervised;

pub use cache::{KvCache, LayerCache};
pub use causal_lm::{CausalLm, CausalLmError};
pub use config::{LlamaConfig, LlamaLoadError};
pub use generate::{
    FinishReason, GenerateError, Generation, GenerationConfig, StopCriterion, StopStrings,
};
pub use gguf::LoadedLlama;
pub use model::{FeedForward, Llama, LlamaAttention, LlamaInput, LlamaMlp, SelfAttention};
pub use rope::{HfRopeParameters, RopeAngles, RotaryEmbedding, YarnScaling};
pub use sampling::{Sampler, SamplingConfig, SamplingError};
pub use score::ContinuationScore;
pub use supervised::{LmRow, NextTokenBatch, target_log_probs};
