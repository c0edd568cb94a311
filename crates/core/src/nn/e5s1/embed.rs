//! Sentence embeddings as the E5 model card prescribes them.

use std::path::Path;

use burn::tensor::{Device, Tensor};

use super::super::bert::{Bert, BertInput, mean_pool};
use super::{E5Tokenizer, E5s1Error, E5s1File};

/// Which prefix the E5 model card prescribes for a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum E5Mode {
    /// `query: ` (questions, and symmetric tasks such as bitext mining).
    Query,
    /// `passage: ` (documents to retrieve).
    Passage,
}

impl E5Mode {
    /// The text put before the input.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Query => "query: ",
            Self::Passage => "passage: ",
        }
    }
}

/// Sentence embeddings from an E5-style encoder: prefix, tokenize, encode, mean-pool over all
/// tokens (`<s>` and `</s>` included), L2-normalise. Texts longer than the position table are
/// cut into consecutive windows whose mean vectors are averaged, weighted by window length.
#[derive(Debug)]
pub struct SentenceEmbedder {
    /// The encoder.
    pub bert: Bert,
    /// Its tokenizer.
    pub tokenizer: E5Tokenizer,
    /// Content tokens per window (the position table minus `<s>` and `</s>`).
    pub window: usize,
}

impl SentenceEmbedder {
    /// Loads an E5S1 file.
    pub fn from_e5s1(path: impl AsRef<Path>, device: &Device) -> Result<Self, E5s1Error> {
        let file = E5s1File::open(path)?;
        let loaded = file.load_bert(device)?;
        Ok(Self {
            window: file.header.max_positions.saturating_sub(2).max(1),
            bert: loaded.model,
            tokenizer: file.tokenizer,
        })
    }

    /// Embeds texts (batched in groups of `batch_size`), each a unit vector.
    pub fn embed(&self, texts: &[&str], mode: E5Mode, batch_size: usize) -> Vec<Vec<f32>> {
        let device = self.bert.embeddings.word_embeddings.weight.device();
        // Every window of every text, remembering its text and length.
        let mut windows: Vec<(usize, Vec<u32>)> = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            let pieces = self
                .tokenizer
                .encode_pieces(&format!("{}{text}", mode.prefix()));
            if pieces.is_empty() {
                windows.push((i, vec![self.tokenizer.bos, self.tokenizer.eos]));
            }
            for chunk in pieces.chunks(self.window) {
                let mut ids = Vec::with_capacity(chunk.len() + 2);
                ids.push(self.tokenizer.bos);
                ids.extend_from_slice(chunk);
                ids.push(self.tokenizer.eos);
                windows.push((i, ids));
            }
        }
        let dim = self.bert.hidden_size();
        let mut sums = vec![vec![0f32; dim]; texts.len()];
        let mut weights = vec![0f32; texts.len()];
        for batch in windows.chunks(batch_size.max(1)) {
            let rows: Vec<Vec<u32>> = batch.iter().map(|(_, ids)| ids.clone()).collect();
            let input = BertInput::from_rows(&rows, self.tokenizer.pad, &device);
            let mask = input.attention_mask.clone();
            let hidden = self.bert.forward(input).hidden;
            let pooled: Tensor<2> = mean_pool(hidden, mask);
            let values = pooled
                .into_data()
                .try_into_vec::<f32>()
                .expect("f32 tensor");
            for ((text, ids), vector) in batch.iter().zip(values.chunks(dim)) {
                let w = ids.len() as f32;
                for (s, v) in sums[*text].iter_mut().zip(vector) {
                    *s += w * v;
                }
                weights[*text] += w;
            }
        }
        sums.into_iter()
            .zip(weights)
            .map(|(mut v, w)| {
                v.iter_mut().for_each(|x| *x /= w.max(1.0));
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                v.iter_mut().for_each(|x| *x /= norm);
                v
            })
            .collect()
    }
}

/// Cosine similarity of two vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb).max(1e-12)
}
