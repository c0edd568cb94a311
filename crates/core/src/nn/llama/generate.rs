//! Batched autoregressive generation with a KV cache, sampling and stop conditions.
//!
//! Prompts of different lengths are padded on the LEFT so that every row's next token is
//! predicted at the last column; position ids come from the attention mask, so a padded row
//! decodes exactly as it would alone. Each step turns the last logits of every unfinished row
//! into a token with a [`Sampler`] (rows are visited in order, so one seed fixes the whole batch's
//! output) and records the token's log-probability under the model's raw distribution
//! (log-softmax of the logits, before temperature and filtering).
//!
//! A row stops at the first of:
//! - an id of [`GenerationConfig::eos_token_ids`] ([`FinishReason::Eos`]);
//! - generated tokens ending with one of [`GenerationConfig::stop_sequences`] (token ids), or a
//!   [`StopCriterion`] returning true, e.g. [`StopStrings`] which detokenizes the generated
//!   tokens with a callback and looks for stop strings ([`FinishReason::Stop`]);
//! - [`GenerationConfig::max_new_tokens`] tokens ([`FinishReason::Length`]).
//!
//! The token that triggered a stop is kept in the output, as Hugging Face keeps EOS and stop
//! strings; callers that want it removed truncate.

use burn::config::Config;
use burn::tensor::{Int, Tensor, TensorData};

use super::cache::KvCache;
use super::model::{FeedForward, Llama, LlamaInput, SelfAttention};
use super::sampling::{Sampler, SamplingConfig, SamplingError, log_prob};

/// Settings of [`Llama::generate`].
#[derive(Config, Debug)]
pub struct GenerationConfig {
    /// Most tokens generated per row.
    pub max_new_tokens: usize,
    /// How each token is chosen (greedy by default).
    #[config(default = "SamplingConfig::new()")]
    pub sampling: SamplingConfig,
    /// Seed of the sampling random stream.
    #[config(default = 0)]
    pub seed: u64,
    /// Token ids that end a row.
    #[config(default = "Vec::new()")]
    pub eos_token_ids: Vec<u32>,
    /// Token-id sequences that end a row when the generated tokens end with one of them.
    #[config(default = "Vec::new()")]
    pub stop_sequences: Vec<Vec<u32>>,
    /// Decode incrementally with a [`KvCache`]; `false` recomputes the whole sequence at every
    /// step (same result, for benchmarks and checks).
    #[config(default = true)]
    pub use_cache: bool,
}

/// Why a row stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// It produced an end-of-sequence token.
    Eos,
    /// A stop sequence or [`StopCriterion`] matched.
    Stop,
    /// It reached `max_new_tokens`.
    Length,
}

/// The output of one prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// Generated token ids (prompt excluded, the stopping token included).
    pub tokens: Vec<u32>,
    /// `log p(token | prefix)` of each generated token under the model's raw distribution.
    pub log_probs: Vec<f32>,
    /// Why generation stopped.
    pub finish: FinishReason,
}

/// A caller-defined stop condition, asked after every generated token of every row.
///
/// Closures `FnMut(&[u32]) -> bool` are stop criteria.
pub trait StopCriterion {
    /// True when a row whose generated tokens (prompt excluded) are `generated` should stop.
    fn should_stop(&mut self, generated: &[u32]) -> bool;
}

impl<T: FnMut(&[u32]) -> bool> StopCriterion for T {
    fn should_stop(&mut self, generated: &[u32]) -> bool {
        self(generated)
    }
}

/// Stops a row when the detokenized generated text contains one of the stop strings.
///
/// The whole generated part is decoded at every step, so a string split across tokens or
/// ending inside a token is found; `decode` is typically a tokenizer's decode.
pub struct StopStrings<D> {
    strings: Vec<String>,
    decode: D,
}

impl<D: FnMut(&[u32]) -> String> StopStrings<D> {
    /// Stop strings and the detokenizer that turns generated ids into text.
    pub fn new<S: Into<String>>(strings: impl IntoIterator<Item = S>, decode: D) -> Self {
        Self {
            strings: strings.into_iter().map(Into::into).collect(),
            decode,
        }
    }
}

impl<D: FnMut(&[u32]) -> String> StopCriterion for StopStrings<D> {
    fn should_stop(&mut self, generated: &[u32]) -> bool {
        let text = (self.decode)(generated);
        self.strings.iter().any(|s| text.contains(s.as_str()))
    }
}

/// Inputs generation and scoring cannot use.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GenerateError {
    /// A prompt has no token: there is nothing to predict the first token from.
    #[error("prompt {index} is empty: a causal LM needs at least one token to condition on")]
    EmptyPrompt {
        /// Index of the prompt in the batch.
        index: usize,
    },
    /// A token id is not below the vocabulary size.
    #[error("token {token} of sequence {index} is outside the vocabulary of {vocab_size}")]
    TokenOutOfRange {
        /// Index of the sequence in the batch.
        index: usize,
        /// The offending id.
        token: u32,
        /// The model's vocabulary size.
        vocab_size: usize,
    },
    /// The sampling settings are out of range.
    #[error(transparent)]
    Sampling(#[from] SamplingError),
}

/// Checks that every row is non-empty and inside the vocabulary.
pub(super) fn check_rows<'a>(
    rows: impl IntoIterator<Item = (&'a [u32], &'a [u32])>,
    vocab_size: usize,
) -> Result<(), GenerateError> {
    for (index, (prompt, rest)) in rows.into_iter().enumerate() {
        if prompt.is_empty() {
            return Err(GenerateError::EmptyPrompt { index });
        }
        if let Some(&token) = prompt
            .iter()
            .chain(rest)
            .find(|&&t| t as usize >= vocab_size)
        {
            return Err(GenerateError::TokenOutOfRange {
                index,
                token,
                vocab_size,
            });
        }
    }
    Ok(())
}

impl<F: FeedForward, A: SelfAttention> Llama<F, A> {
    /// Generates a continuation of each prompt (token ids, at least one each); see the
    /// [module documentation](self) for padding, sampling and stopping.
    pub fn generate(
        &self,
        prompts: &[Vec<u32>],
        config: &GenerationConfig,
    ) -> Result<Vec<Generation>, GenerateError> {
        self.generate_with_stop(prompts, config, &mut |_: &[u32]| false)
    }

    /// [`Llama::generate`] with an extra stop condition checked after every token of every
    /// unfinished row.
    pub fn generate_with_stop(
        &self,
        prompts: &[Vec<u32>],
        config: &GenerationConfig,
        stop: &mut dyn StopCriterion,
    ) -> Result<Vec<Generation>, GenerateError> {
        let vocab = self.vocab_size();
        check_rows(prompts.iter().map(|p| (p.as_slice(), &[][..])), vocab)?;
        let mut sampler = Sampler::new(config.sampling.clone(), config.seed)?;
        let batch = prompts.len();
        let mut rows: Vec<(Generation, bool)> = (0..batch)
            .map(|_| {
                let generation = Generation {
                    tokens: Vec::new(),
                    log_probs: Vec::new(),
                    finish: FinishReason::Length,
                };
                (generation, false)
            })
            .collect();
        if batch == 0 || config.max_new_tokens == 0 {
            return Ok(rows.into_iter().map(|(g, _)| g).collect());
        }
        let device = self.device();
        let mut sequence = LlamaInput::left_padded(prompts, &device);
        let mut cache = config.use_cache.then(KvCache::new);
        let mut logits = self.last_logits(sequence.clone(), cache.as_mut());
        for step in 0..config.max_new_tokens {
            let values = logits
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("f32 logits");
            let mut next = vec![0i64; batch];
            for (row, (generation, done)) in rows.iter_mut().enumerate() {
                if *done {
                    continue;
                }
                let row_logits = &values[row * vocab..(row + 1) * vocab];
                let token = sampler.sample(row_logits);
                generation.tokens.push(token);
                generation.log_probs.push(log_prob(row_logits, token));
                next[row] = token as i64;
                let tokens = &generation.tokens;
                let finish = if config.eos_token_ids.contains(&token) {
                    Some(FinishReason::Eos)
                } else if config
                    .stop_sequences
                    .iter()
                    .any(|s| !s.is_empty() && tokens.ends_with(s))
                    || stop.should_stop(tokens)
                {
                    Some(FinishReason::Stop)
                } else {
                    None
                };
                if let Some(finish) = finish {
                    generation.finish = finish;
                    *done = true;
                }
            }
            if step + 1 == config.max_new_tokens || rows.iter().all(|(_, done)| *done) {
                break;
            }
            // Finished rows keep decoding a masked-in pad id; their outputs are ignored.
            let step_input = LlamaInput::new(Tensor::<2, Int>::from_data(
                TensorData::new(next, [batch, 1]),
                &device,
            ));
            logits = match cache.as_mut() {
                Some(cache) => self.last_logits(step_input, Some(cache)),
                None => {
                    sequence = LlamaInput {
                        input_ids: Tensor::cat(vec![sequence.input_ids, step_input.input_ids], 1),
                        attention_mask: Tensor::cat(
                            vec![sequence.attention_mask, step_input.attention_mask],
                            1,
                        ),
                    };
                    self.last_logits(sequence.clone(), None)
                }
            };
        }
        Ok(rows.into_iter().map(|(g, _)| g).collect())
    }

    /// Logits of the last position of each row `[batch, vocab]`.
    fn last_logits(&self, input: LlamaInput, cache: Option<&mut KvCache>) -> Tensor<2> {
        let hidden = self.hidden_states(input, cache);
        let [batch, seq, _] = hidden.dims();
        let last = hidden.slice([0..batch, seq - 1..seq]);
        self.logits(last).squeeze_dim::<2>(1)
    }
}
