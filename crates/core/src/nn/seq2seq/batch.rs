//! Padded sequence-to-sequence batches and the label-smoothed loss, as fairseq builds them.
//!
//! fairseq's `language_pair_dataset.collate` ends every sentence with EOS and feeds the
//! decoder the target shifted right with EOS in front (`prev_output_tokens`); its
//! `label_smoothed_cross_entropy` criterion (Szegedy et al., "Rethinking the Inception
//! Architecture", CVPR 2016, <https://arxiv.org/abs/1512.00567>) spreads `ε` over the other
//! tokens of the vocabulary and ignores padding.

use crate::nn::activation::log_softmax;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

/// A padded batch of (source, target) pairs.
#[derive(Debug, Clone)]
pub struct Seq2SeqBatch {
    /// Sources followed by EOS, right-padded, `[batch, src_len]`.
    pub src_tokens: Tensor<2, Int>,
    /// True for source padding, `[batch, src_len]`.
    pub src_padding: Tensor<2, Bool>,
    /// EOS followed by the target, right-padded, `[batch, tgt_len]`.
    pub prev_output_tokens: Tensor<2, Int>,
    /// The target followed by EOS, right-padded, `[batch, tgt_len]`.
    pub target: Tensor<2, Int>,
}

impl Seq2SeqBatch {
    /// Collates token rows (without EOS) into a batch.
    pub fn from_pairs<S: AsRef<[u32]>, T: AsRef<[u32]>>(
        pairs: &[(S, T)],
        eos: u32,
        pad: u32,
        device: &Device,
    ) -> Self {
        let batch = pairs.len();
        let src_len = pairs
            .iter()
            .map(|(s, _)| s.as_ref().len() + 1)
            .max()
            .unwrap_or(1);
        let tgt_len = pairs
            .iter()
            .map(|(_, t)| t.as_ref().len() + 1)
            .max()
            .unwrap_or(1);
        let (eos, pad) = (eos as i64, pad as i64);
        let mut src = vec![pad; batch * src_len];
        let mut prev = vec![pad; batch * tgt_len];
        let mut target = vec![pad; batch * tgt_len];
        for (row, (source, tgt)) in pairs.iter().enumerate() {
            let source = source.as_ref();
            let tgt = tgt.as_ref();
            let s = &mut src[row * src_len..][..source.len() + 1];
            for (slot, &token) in s.iter_mut().zip(source) {
                *slot = token as i64;
            }
            s[source.len()] = eos;
            let p = &mut prev[row * tgt_len..][..tgt.len() + 1];
            let t = &mut target[row * tgt_len..][..tgt.len() + 1];
            p[0] = eos;
            for (i, &token) in tgt.iter().enumerate() {
                p[i + 1] = token as i64;
                t[i] = token as i64;
            }
            t[tgt.len()] = eos;
        }
        let src_tokens =
            Tensor::<2, Int>::from_data(TensorData::new(src, [batch, src_len]), device);
        Self {
            src_padding: src_tokens.clone().equal_elem(pad),
            src_tokens,
            prev_output_tokens: Tensor::from_data(TensorData::new(prev, [batch, tgt_len]), device),
            target: Tensor::from_data(TensorData::new(target, [batch, tgt_len]), device),
        }
    }
}

/// Label-smoothed cross-entropy averaged over the non-padding target tokens:
/// `(1 − ε − ε/(V−1))·(−log p_y) + ε/(V−1)·Σ_v (−log p_v)` per token, as fairseq's
/// `label_smoothed_nll_loss`; `ε = 0` is the plain cross-entropy.
///
/// # Shapes
/// - `logits`: `[batch, len, vocab]`; `target`: `[batch, len]`
/// - output: `[1]`
pub fn label_smoothed_cross_entropy(
    logits: Tensor<3>,
    target: Tensor<2, Int>,
    epsilon: f64,
    pad: u32,
) -> Tensor<1> {
    let vocab = logits.dims()[2];
    let log_probs = log_softmax(logits, 2);
    // [batch, len]
    let nll = -log_probs
        .clone()
        .gather(2, target.clone().unsqueeze_dim::<3>(2))
        .squeeze_dim::<2>(2);
    let smooth = -log_probs.sum_dim(2).squeeze_dim::<2>(2);
    let real = target.not_equal_elem(pad as i64).float();
    let eps_i = epsilon / (vocab as f64 - 1.0);
    let per_token = nll * (1.0 - epsilon - eps_i) + smooth * eps_i;
    (per_token * real.clone()).sum() / real.sum().clamp_min(1.0)
}

/// Label-smoothed cross-entropy with an arbitrary smoothing distribution over the vocabulary,
/// averaged over the non-padding target tokens:
/// `gold_weight·(−log p_y) + Σ_v smoothing_v·(−log p_v)` per token.
///
/// [`label_smoothed_cross_entropy`] is the case `gold_weight = 1 − ε − ε/(V−1)`,
/// `smoothing_v = ε/(V−1)`; masked label smoothing (zero mass on tokens that cannot occur in
/// the target language) and weighted label smoothing (mass split by token category) choose
/// other `smoothing` vectors.
///
/// # Shapes
/// - `logits`: `[batch, len, vocab]`; `target`: `[batch, len]`; `smoothing`: `[vocab]`
/// - output: `[1]`
pub fn weighted_label_smoothed_cross_entropy(
    logits: Tensor<3>,
    target: Tensor<2, Int>,
    gold_weight: f64,
    smoothing: Tensor<1>,
    pad: u32,
) -> Tensor<1> {
    let [batch, len, vocab] = logits.dims();
    assert_eq!(
        smoothing.dims()[0],
        vocab,
        "smoothing has {} entries for a vocabulary of {vocab}",
        smoothing.dims()[0]
    );
    let log_probs = log_softmax(logits, 2);
    // [batch, len]
    let nll = -log_probs
        .clone()
        .gather(2, target.clone().unsqueeze_dim::<3>(2))
        .squeeze_dim::<2>(2);
    // [batch·len, vocab] × [vocab, 1] → [batch, len]
    let smooth = -log_probs
        .reshape([batch * len, vocab])
        .matmul(smoothing.reshape([vocab, 1]))
        .reshape([batch, len]);
    let real = target.not_equal_elem(pad as i64).float();
    let per_token = nll * gold_weight + smooth;
    (per_token * real.clone()).sum() / real.sum().clamp_min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collates_like_fairseq() {
        let device = crate::device::cpu();
        let batch = Seq2SeqBatch::from_pairs(
            &[(vec![5, 6], vec![7]), (vec![8], vec![9, 10])],
            2,
            1,
            &device,
        );
        let ints = |t: Tensor<2, Int>| t.try_to_vec_as::<i64>().unwrap();
        assert_eq!(ints(batch.src_tokens), vec![5, 6, 2, 8, 2, 1]);
        assert_eq!(
            batch.src_padding.try_to_vec_as::<bool>().unwrap(),
            vec![false, false, false, false, false, true]
        );
        assert_eq!(ints(batch.prev_output_tokens), vec![2, 7, 1, 2, 9, 10]);
        assert_eq!(ints(batch.target), vec![7, 2, 1, 9, 10, 2]);
    }

    #[test]
    fn weighted_loss_with_uniform_smoothing_is_label_smoothing() {
        let device = crate::device::cpu();
        let logits =
            Tensor::<3>::from_floats([[[2.0, 0.0, 0.5, 1.0], [1.0, -1.0, 0.0, 3.0]]], &device);
        let target = Tensor::<2, Int>::from_ints([[3, 2]], &device);
        let eps = 0.1;
        let uniform = Tensor::<1>::from_floats([eps / 3.0; 4], &device);
        let weighted = weighted_label_smoothed_cross_entropy(
            logits.clone(),
            target.clone(),
            1.0 - eps - eps / 3.0,
            uniform,
            1,
        )
        .into_scalar::<f64>();
        let plain = label_smoothed_cross_entropy(logits, target, eps, 1).into_scalar::<f64>();
        assert!((weighted - plain).abs() < 1e-6, "{weighted} vs {plain}");
    }

    #[test]
    fn smoothed_loss_ignores_padding_and_reduces_to_cross_entropy() {
        let device = crate::device::cpu();
        // One real token, one padded token with extreme logits.
        let logits =
            Tensor::<3>::from_floats([[[2.0, 0.0, 0.0, 1.0], [90.0, -90.0, 0.0, 0.0]]], &device);
        let target = Tensor::<2, Int>::from_ints([[3, 1]], &device);
        let log_z = (2f64.exp() + 2.0 + 1f64.exp()).ln();
        let log_p = [2.0 - log_z, -log_z, -log_z, 1.0 - log_z];
        let ce = label_smoothed_cross_entropy(logits.clone(), target.clone(), 0.0, 1)
            .into_scalar::<f64>();
        assert!((ce + log_p[3]).abs() < 1e-6, "{ce}");
        let eps = 0.1;
        let expected = (1.0 - eps - eps / 3.0) * -log_p[3] + eps / 3.0 * -log_p.iter().sum::<f64>();
        let smoothed = label_smoothed_cross_entropy(logits, target, eps, 1).into_scalar::<f64>();
        assert!(
            (smoothed - expected).abs() < 1e-6,
            "{smoothed} vs {expected}"
        );
    }
}
