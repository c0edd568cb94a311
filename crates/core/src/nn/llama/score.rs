//! Log-probabilities of given tokens: per-position (differentiable) and of continuations.

use burn::tensor::Tensor;
use burn::tensor::activation::log_softmax;

use super::generate::{GenerateError, check_rows};
use super::model::{FeedForward, Llama, LlamaInput, SelfAttention};

/// Log-probability of a continuation given its prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct ContinuationScore {
    /// `log p(continuation | prompt)`: the sum of `token_log_probs`.
    pub log_prob: f32,
    /// `log p(token | prompt, earlier continuation tokens)` of each continuation token.
    pub token_log_probs: Vec<f32>,
}

impl<F: FeedForward, A: SelfAttention> Llama<F, A> {
    /// `log p(input_ids[:, t + 1] | input_ids[:, ..= t])` for every position, in one forward
    /// pass; differentiable on an autodiff device (for policy-gradient losses). Entries whose
    /// target token is padding are meaningless: mask them with `attention_mask[:, 1..]`.
    ///
    /// # Shapes
    /// - `input.input_ids`, `input.attention_mask`: `[batch, seq]`, `seq >= 2`
    /// - output: `[batch, seq - 1]`
    pub fn token_log_probs(&self, input: LlamaInput) -> Tensor<2> {
        let [batch, seq] = input.input_ids.dims();
        assert!(
            seq >= 2,
            "token_log_probs needs at least 2 positions, got {seq}"
        );
        let targets = input.input_ids.clone().slice([0..batch, 1..seq]);
        let hidden = self
            .hidden_states(input, None)
            .slice([0..batch, 0..seq - 1]);
        log_softmax(self.logits(hidden), 2)
            .gather(2, targets.unsqueeze_dim::<3>(2))
            .squeeze_dim::<2>(2)
    }

    /// Scores each `(prompt, continuation)` pair: `prompt + continuation` rows are left-padded
    /// into one batch and run through one forward pass. Prompts must be non-empty; an empty
    /// continuation scores 0.
    pub fn score_continuations(
        &self,
        pairs: &[(Vec<u32>, Vec<u32>)],
    ) -> Result<Vec<ContinuationScore>, GenerateError> {
        check_rows(
            pairs.iter().map(|(p, c)| (p.as_slice(), c.as_slice())),
            self.vocab_size(),
        )?;
        let rows: Vec<Vec<u32>> = pairs
            .iter()
            .map(|(prompt, continuation)| [prompt.as_slice(), continuation].concat())
            .collect();
        let seq = rows.iter().map(Vec::len).max().unwrap_or(0);
        let values = if seq >= 2 {
            let input = LlamaInput::left_padded(&rows, &self.device());
            self.token_log_probs(input)
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("f32 log-probabilities")
        } else {
            Vec::new()
        };
        Ok(pairs
            .iter()
            .zip(&rows)
            .enumerate()
            .map(|(index, ((prompt, continuation), row))| {
                // Token k of `row` sits at padded column `seq - row.len() + k` and is predicted
                // by the previous column, which is column `seq - row.len() + k - 1` of `values`.
                let start = index * (seq - 1) + seq - row.len() + prompt.len() - 1;
                let token_log_probs = values[start..start + continuation.len()].to_vec();
                ContinuationScore {
                    log_prob: token_log_probs.iter().map(|&v| v as f64).sum::<f64>() as f32,
                    token_log_probs,
                }
            })
            .collect())
    }
}
