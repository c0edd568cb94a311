//! Next-token batches with answer-only supervision, and their loss: the shape every
//! fine-tuning of a causal LM on (prompt, target) pairs or labelled chats shares.
//!
//! A sequence `x_0 … x_{n-1}` gives the inputs `x_0 … x_{n-2}` and the next tokens
//! `x_1 … x_{n-1}`; only the next tokens marked as targets count (a prompt's tokens condition
//! the answer but are not predicted, as in the `-100` labels of Hugging Face training code).
//! Rows are right-padded; padding is masked out of attention and never a target.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::model::{FeedForward, Llama, LlamaInput, SelfAttention};

/// One training sequence: its ids and how many leading ids are prompt (not predicted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LmRow {
    /// Prompt, target (and usually EOS) ids.
    pub ids: Vec<u32>,
    /// Ids at positions `< prompt_len` only condition (no loss on predicting them).
    pub prompt_len: usize,
}

impl LmRow {
    /// Number of target tokens (the ids predicted with a loss).
    pub fn target_len(&self) -> usize {
        self.ids.len().saturating_sub(self.prompt_len.max(1))
    }
}

/// A right-padded next-token batch.
#[derive(Debug, Clone)]
pub struct NextTokenBatch {
    /// Inputs and attention mask `[batch, seq]`, `seq` = longest row − 1.
    pub input: LlamaInput,
    /// The next token at every input position (0 where there is none) `[batch, seq]`.
    pub targets: Tensor<2, Int>,
    /// 1 where the next token is a target, 0 elsewhere `[batch, seq]`.
    pub weights: Tensor<2>,
    /// Flat indices `b · seq + t` of the target positions, in row order.
    pub positions: Vec<i64>,
    /// The target token at each of `positions`.
    pub next: Vec<i64>,
}

impl NextTokenBatch {
    /// The batch of rows whose targets follow their prompt.
    pub fn prompted(rows: &[&LmRow], device: &Device) -> Self {
        let seqs: Vec<&[u32]> = rows.iter().map(|r| r.ids.as_slice()).collect();
        Self::build(&seqs, |r, i| i >= rows[r].prompt_len, device)
    }

    /// The batch of labelled sequences: token `i` of row `r` is a target when
    /// `labels[r][i] != ignore` (e.g. −100), wherever it stands (multi-turn chats).
    ///
    /// # Panics
    /// When a row's labels are not as long as its ids.
    pub fn labelled(rows: &[(&[u32], &[i64])], ignore: i64, device: &Device) -> Self {
        for (ids, labels) in rows {
            assert_eq!(ids.len(), labels.len(), "one label per token");
        }
        let seqs: Vec<&[u32]> = rows.iter().map(|(ids, _)| *ids).collect();
        Self::build(&seqs, |r, i| rows[r].1[i] != ignore, device)
    }

    /// `target(r, i)`: whether id `i` (≥ 1) of row `r` is predicted with a loss.
    fn build(rows: &[&[u32]], target: impl Fn(usize, usize) -> bool, device: &Device) -> Self {
        let batch = rows.len();
        let seq = rows.iter().map(|r| r.len()).max().unwrap_or(2).max(2) - 1;
        let mut ids = vec![0i64; batch * seq];
        let mut mask = vec![0i64; batch * seq];
        let mut targets = vec![0i64; batch * seq];
        let mut weights = vec![0f32; batch * seq];
        let (mut positions, mut next) = (Vec::new(), Vec::new());
        for (b, row) in rows.iter().enumerate() {
            for (t, pair) in row.windows(2).enumerate() {
                let flat = b * seq + t;
                ids[flat] = i64::from(pair[0]);
                mask[flat] = 1;
                targets[flat] = i64::from(pair[1]);
                if target(b, t + 1) {
                    weights[flat] = 1.0;
                    positions.push(flat as i64);
                    next.push(i64::from(pair[1]));
                }
            }
        }
        Self {
            input: LlamaInput {
                input_ids: Tensor::from_data(TensorData::new(ids, [batch, seq]), device),
                attention_mask: Tensor::from_data(TensorData::new(mask, [batch, seq]), device),
            },
            targets: Tensor::from_data(TensorData::new(targets, [batch, seq]), device),
            weights: Tensor::from_data(TensorData::new(weights, [batch, seq]), device),
            positions,
            next,
        }
    }

    /// Number of target tokens.
    pub fn target_count(&self) -> usize {
        self.next.len()
    }

    /// Summed negative log-likelihood of the targets under `logits` of every position.
    ///
    /// # Shapes
    /// - `logits`: `[batch, seq, vocab]`; output: `[1]`
    pub fn nll_sum(&self, logits: Tensor<3>) -> Tensor<1> {
        let [batch, seq, vocab] = logits.dims();
        self.picked_nll_sum(logits.reshape([batch * seq, vocab]).select(0, self.index()))
    }

    /// Mean negative log-likelihood of the targets; the LM head runs on the target positions
    /// only (a batch without targets gives 0).
    pub fn mean_nll<F: FeedForward, A: SelfAttention>(&self, model: &Llama<F, A>) -> Tensor<1> {
        let hidden = model.hidden_states(self.input.clone(), None);
        let [batch, seq, d_model] = hidden.dims();
        let count = self.target_count();
        if count == 0 {
            return Tensor::zeros([1], &hidden.device());
        }
        // [count, d_model] -> [1, count, d_model] -> logits [count, vocab]
        let picked = hidden
            .reshape([batch * seq, d_model])
            .select(0, self.index());
        let logits = model.logits(picked.unsqueeze_dim::<3>(0));
        let vocab = logits.dims()[2];
        self.picked_nll_sum(logits.reshape([count, vocab])) / count as f64
    }

    fn index(&self) -> Tensor<1, Int> {
        let device = self.targets.device();
        Tensor::from_data(
            TensorData::new(self.positions.clone(), [self.positions.len()]),
            &device,
        )
    }

    /// `logits`: `[count, vocab]`, one row per target in order.
    fn picked_nll_sum(&self, logits: Tensor<2>) -> Tensor<1> {
        let count = self.target_count();
        let next = Tensor::<2, Int>::from_data(
            TensorData::new(self.next.clone(), [count, 1]),
            &logits.device(),
        );
        log_softmax(logits, 1).gather(1, next).sum().neg()
    }
}

/// Log-probability of each position's next token `[batch, seq]` (see
/// [`NextTokenBatch::targets`]); for per-token objectives such as PPO.
pub fn target_log_probs<F: FeedForward, A: SelfAttention>(
    model: &Llama<F, A>,
    input: LlamaInput,
    targets: Tensor<2, Int>,
) -> Tensor<2> {
    let logits = model.forward(input, None);
    let [batch, seq, _] = logits.dims();
    log_softmax(logits, 2)
        .gather(2, targets.unsqueeze_dim::<3>(2))
        .reshape([batch, seq])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::llama::LlamaConfig;

    fn ints(t: Tensor<2, Int>) -> Vec<i64> {
        t.into_data().convert::<i64>().try_to_vec::<i64>().unwrap()
    }

    #[test]
    fn prompted_rows_predict_only_their_targets() {
        let device = crate::device::cpu();
        let rows = [
            LmRow {
                ids: vec![5, 6, 7, 8, 2],
                prompt_len: 2,
            },
            LmRow {
                ids: vec![5, 9, 2],
                prompt_len: 2,
            },
        ];
        let refs: Vec<&LmRow> = rows.iter().collect();
        let batch = NextTokenBatch::prompted(&refs, &device);
        assert_eq!(batch.input.input_ids.dims(), [2, 4]);
        // Row 0 predicts 7, 8, 2 from positions 1..=3; row 1 predicts 2 from position 1.
        assert_eq!(batch.positions, vec![1, 2, 3, 5]);
        assert_eq!(batch.next, vec![7, 8, 2, 2]);
        assert_eq!(
            ints(batch.input.attention_mask.clone()),
            vec![1, 1, 1, 1, 1, 1, 0, 0]
        );
        let weights: Vec<f32> = batch
            .weights
            .clone()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(weights, vec![0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0]);
        assert_eq!(rows[0].target_len(), 3);
    }

    #[test]
    fn labels_mark_targets_anywhere_and_a_zero_id_is_still_a_target() {
        let device = crate::device::cpu();
        let ids = [1u32, 4, 0, 5, 6, 0];
        let labels = [1i64, -100, 0, -100, 6, 0];
        let batch = NextTokenBatch::labelled(&[(&ids, &labels)], -100, &device);
        assert_eq!(batch.positions, vec![1, 3, 4]);
        assert_eq!(batch.next, vec![0, 6, 0]);
    }

    #[test]
    fn head_at_targets_equals_the_full_logits_loss() {
        let device = crate::device::cpu();
        let model = LlamaConfig::new(20, 16, 2, 4, 2, 32).init(&device);
        let rows = [
            LmRow {
                ids: vec![3, 4, 5, 6, 7],
                prompt_len: 2,
            },
            LmRow {
                ids: vec![8, 9, 10],
                prompt_len: 1,
            },
        ];
        let refs: Vec<&LmRow> = rows.iter().collect();
        let batch = NextTokenBatch::prompted(&refs, &device);
        let fast = batch.mean_nll(&model).into_scalar::<f32>();
        let logits = model.forward(batch.input.clone(), None);
        let full = batch.nll_sum(logits).into_scalar::<f32>() / batch.target_count() as f32;
        let per_token = target_log_probs(&model, batch.input.clone(), batch.targets.clone());
        let weighted = -(per_token * batch.weights.clone())
            .sum()
            .into_scalar::<f32>()
            / batch.target_count() as f32;
        assert!((fast - full).abs() < 1e-5, "{fast} vs {full}");
        assert!((fast - weighted).abs() < 1e-5, "{fast} vs {weighted}");
        assert!(fast > 0.0);
    }
}
