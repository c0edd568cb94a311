//! Math-Shepherd: automatic process annotation, process reward models, best-of-N verification
//! and step-level PPO.
//!
//! Wang et al., "Math-Shepherd: Verify and Reinforce LLMs Step-by-step without Human
//! Annotations", ACL 2024 (<https://arxiv.org/abs/2312.08935>).
//!
//! - [`answer`]: final-answer extraction and equivalence (GSM8K numbers, MATH LaTeX);
//! - [`check`]: checking extraction on a whole benchmark file;
//! - [`synth`]: the embedded synthetic arithmetic task and its character tokenizer;
//! - [`lm`]: the policy LM (core Llama): run directories, fine-tuning, sampling;
//! - [`complete`]: the [`complete::Completer`] trait, the in-process and HTTP completers;
//! - [`server`]: an OpenAI-compatible `/v1/completions` server for the policy;
//! - [`annotate`]: automatic process annotation (hard and soft estimation), resumable;
//! - [`prm`]: process / outcome reward models on the LM backbone (scores at step tags);
//! - [`prm800k`]: PRM800K step ratings in the Math-Shepherd format;
//! - [`ppo`]: step-by-step PPO with PRM rewards at step ends, and ORM-PPO;
//! - [`verify`]: best-of-N reranking and (weighted) self-consistency curves;
//! - [`experiment`]: the end-to-end synthetic pipeline behind `demo` and `experiment`;
//! - [`demo_real`]: the demo's rows on the real small model (SmolLM2-135M-Instruct).

pub mod annotate;
pub mod answer;
pub mod check;
pub mod complete;
pub mod demo_real;
pub mod error;
pub mod experiment;
pub mod lm;
pub mod ppo;
pub mod prm;
pub mod prm800k;
pub mod sample;
pub mod server;
pub mod synth;
pub mod verify;

pub use answer::{AnswerFormat, answer_key, answers_equal, extract_answer};
pub use check::{AnswerReport, Mismatch, check_answers};
pub use error::{Error, Result};
