//! BERTScore of generated captions with a BERT-family encoder from core.
//!
//! Zhang et al., "BERTScore: Evaluating Text Generation with BERT", ICLR 2020
//! (<https://arxiv.org/abs/1904.09675>): each token of the candidate and of the reference is
//! embedded in context; precision averages, over candidate tokens, the best cosine similarity
//! with a reference token, recall the reverse, and F1 combines them. Here the embeddings are
//! the encoder's last hidden layer (the spec names MiniLM: `../shared/models/all-minilm-l6-v2`,
//! whose recommended layer in the `bert_score` package is not published), without IDF weighting
//! and without baseline rescaling; `[CLS]`/`[SEP]` are left out, as `bert_score` does. Scores are
//! therefore not comparable with published BERTScore numbers of other models or layers.

use burnlp_core::burn::tensor::Device;
use burnlp_core::nn::bert::{Bert, BertInput};
use burnlp_core::nn::encoder::load_encoder;
use burnlp_core::tokenize::Tokenizer;
use serde::Serialize;

use crate::error::{ArxivCapError, Result};

/// Mean BERTScore over candidate–reference pairs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BertScore {
    /// Mean precision.
    pub precision: f64,
    /// Mean recall.
    pub recall: f64,
    /// Mean F1.
    pub f1: f64,
}

/// An encoder and tokenizer that score texts.
pub struct BertScorer {
    model: Bert,
    tokenizer: Tokenizer,
    /// Texts embedded together.
    pub batch_size: usize,
}

/// Longest input, in tokens (BERT's positions).
const MAX_TOKENS: usize = 512;

impl BertScorer {
    /// Loads an encoder reference (a Hugging Face directory such as
    /// `../shared/models/all-minilm-l6-v2`, or any `--encoder` reference of core).
    pub fn load(reference: &str, device: &Device) -> Result<Self> {
        let loaded = load_encoder(reference, device).map_err(|e| ArxivCapError::Encoder {
            reference: reference.into(),
            message: e.to_string(),
        })?;
        Self::new(loaded.model, loaded.tokenizer)
    }

    /// A scorer from an encoder and its tokenizer.
    pub fn new(model: Bert, tokenizer: Tokenizer) -> Result<Self> {
        let tokenizer =
            tokenizer
                .with_max_length(Some(MAX_TOKENS))
                .map_err(|e| ArxivCapError::Encoder {
                    reference: "tokenizer".into(),
                    message: e.to_string(),
                })?;
        Ok(Self {
            model,
            tokenizer,
            batch_size: 32,
        })
    }

    /// L2-normalised contextual embeddings of each text's tokens (special tokens left out).
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<Vec<f32>>>> {
        let device = self.model.embeddings.word_embeddings.weight.val().device();
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(self.batch_size.max(1)) {
            let encoded = chunk
                .iter()
                .map(|text| self.tokenizer.encode(text, true))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| ArxivCapError::Encoder {
                    reference: "tokenizer".into(),
                    message: e.to_string(),
                })?;
            let rows: Vec<Vec<u32>> = encoded.iter().map(|e| e.ids.clone()).collect();
            let pad = self.tokenizer.token_to_id("[PAD]").unwrap_or(0);
            let hidden = self
                .model
                .forward(BertInput::from_rows(&rows, pad, &device))
                .hidden;
            let [_, seq, dim] = hidden.dims();
            let values = hidden
                .try_to_vec_as::<f32>()
                .map_err(|e| ArxivCapError::Encoder {
                    reference: "encoder output".into(),
                    message: format!("{e:?}"),
                })?;
            for (row, e) in encoded.iter().enumerate() {
                let tokens = e
                    .special_tokens_mask
                    .iter()
                    .enumerate()
                    .filter(|(_, special)| **special == 0)
                    .map(|(t, _)| {
                        let v = &values[(row * seq + t) * dim..][..dim];
                        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                        v.iter().map(|x| x / norm).collect()
                    })
                    .collect();
                out.push(tokens);
            }
        }
        Ok(out)
    }

    /// Mean BERTScore of `candidates` against `references` (same length, pairwise).
    pub fn score(&self, candidates: &[&str], references: &[&str]) -> Result<BertScore> {
        if candidates.len() != references.len() || candidates.is_empty() {
            return Err(ArxivCapError::Empty {
                what: format!(
                    "BERTScore input ({} candidates for {} references)",
                    candidates.len(),
                    references.len()
                ),
            });
        }
        let cands = self.embed(candidates)?;
        let refs = self.embed(references)?;
        let (mut p, mut r, mut f) = (0.0, 0.0, 0.0);
        for (c, rf) in cands.iter().zip(&refs) {
            let s = greedy_match(c, rf);
            p += s.precision;
            r += s.recall;
            f += s.f1;
        }
        let n = cands.len() as f64;
        Ok(BertScore {
            precision: p / n,
            recall: r / n,
            f1: f / n,
        })
    }
}

/// BERTScore of one pair from unit-length token vectors: precision (best match of each
/// candidate token), recall (of each reference token), F1. An empty side scores 0.
pub fn greedy_match(candidate: &[Vec<f32>], reference: &[Vec<f32>]) -> BertScore {
    if candidate.is_empty() || reference.is_empty() {
        return BertScore {
            precision: 0.0,
            recall: 0.0,
            f1: 0.0,
        };
    }
    let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| f64::from(x * y)).sum::<f64>();
    let sims: Vec<Vec<f64>> = candidate
        .iter()
        .map(|c| reference.iter().map(|r| dot(c, r)).collect())
        .collect();
    let precision = sims
        .iter()
        .map(|row| row.iter().copied().fold(f64::NEG_INFINITY, f64::max))
        .sum::<f64>()
        / candidate.len() as f64;
    let recall = (0..reference.len())
        .map(|j| {
            sims.iter()
                .map(|row| row[j])
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .sum::<f64>()
        / reference.len() as f64;
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    BertScore {
        precision,
        recall,
        f1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_matching_by_hand() {
        // Candidate tokens: e1, e2; reference: e1, (e1+e2)/√2, e3.
        let h = std::f32::consts::FRAC_1_SQRT_2;
        let cand = vec![vec![1.0, 0.0, 0.0], vec![0.0, 1.0, 0.0]];
        let refs = vec![vec![1.0, 0.0, 0.0], vec![h, h, 0.0], vec![0.0, 0.0, 1.0]];
        let s = greedy_match(&cand, &refs);
        // P = (1 + h) / 2; R = (1 + h + 0) / 3.
        let h = f64::from(h);
        assert!((s.precision - (1.0 + h) / 2.0).abs() < 1e-6, "{s:?}");
        assert!((s.recall - (1.0 + h) / 3.0).abs() < 1e-6, "{s:?}");
        assert!((s.f1 - 2.0 * s.precision * s.recall / (s.precision + s.recall)).abs() < 1e-12);
        assert_eq!(greedy_match(&[], &refs).f1, 0.0);
    }
}
