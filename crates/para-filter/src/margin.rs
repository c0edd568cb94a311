//! The LASER-style ratio-margin score (Artetxe & Schwenk 2019) with multilingual-e5-small
//! sentence embeddings, the baseline scorer of the WMT20 task re-created with core's retrieval
//! metrics.
//!
//! Each side is embedded as E5 prescribes for symmetric tasks (`query: ` + text, mean pooling
//! over all tokens, L2 norm); a pair's score is `margin(en, xx) = cos(en, xx) / ((m_en + m_xx) / 2)`
//! where `m_en` is the mean cosine of `en` with its `k` nearest other-language sentences and
//! `m_xx` that of `xx` with its `k` nearest English sentences
//! ([`burnlp_core::metrics::retrieval::ScoreMatrix::ratio_margin`]). **Deviation:** the
//! neighbours are searched within the scoring batch (`batch_size` pairs), not the whole corpus
//! (LASER uses a faiss index over all sentences), so memory stays constant; a larger batch
//! approaches the corpus-wide margin.

use burnlp_core::burn::tensor::{Device, Tensor};
use burnlp_core::metrics::retrieval::cosine_similarities;
use burnlp_core::nn::bert::{Bert, BertInput, mean_pool};
use burnlp_core::nn::encoder::load_encoder;
use burnlp_core::tokenize::Tokenizer;
use serde::{Deserialize, Serialize};

use crate::corpus::Pair;
use crate::error::{ParaFilterError, Result};

/// Settings of the margin scorer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
pub struct MarginConfig {
    /// Neighbourhood size `k` of the margin.
    #[arg(long, default_value_t = burnlp_core::metrics::retrieval::LASER_MARGIN_K, value_parser = burnlp_core::cli::positive)]
    pub k: usize,
    /// Pairs per batch (the neighbour pool of the margin).
    #[arg(long, default_value_t = 256, value_parser = burnlp_core::cli::positive)]
    pub margin_batch: usize,
    /// Sentences per encoder forward pass (small batches were fastest on a 2-core CPU).
    #[arg(long, default_value_t = 8, value_parser = burnlp_core::cli::positive)]
    pub encoder_batch: usize,
    /// Tokens kept per sentence (longer ones are cut).
    #[arg(long, default_value_t = 128, value_parser = burnlp_core::cli::positive)]
    pub max_tokens: usize,
    /// Text put before every sentence (`query: ` for E5 on symmetric tasks).
    #[arg(long, default_value = "query: ")]
    pub prefix: String,
}

impl Default for MarginConfig {
    fn default() -> Self {
        Self {
            k: burnlp_core::metrics::retrieval::LASER_MARGIN_K,
            margin_batch: 256,
            encoder_batch: 8,
            max_tokens: 128,
            prefix: "query: ".into(),
        }
    }
}

/// A loaded encoder that embeds sentences and scores pairs by ratio margin.
#[derive(Debug)]
pub struct MarginScorer {
    model: Bert,
    tokenizer: Tokenizer,
    device: Device,
    pad: u32,
    /// The settings.
    pub config: MarginConfig,
}

impl MarginScorer {
    /// Loads the encoder a model reference names (an E5S1 file, a Hugging Face directory or id).
    pub fn load(reference: &str, device: &Device, config: MarginConfig) -> Result<Self> {
        let loaded =
            load_encoder(reference, device).map_err(|source| ParaFilterError::Encoder {
                reference: reference.to_string(),
                source: Box::new(source),
            })?;
        let pad = loaded.tokenizer.special_tokens().pad.unwrap_or(0);
        Ok(Self {
            model: loaded.model,
            tokenizer: loaded.tokenizer,
            device: device.clone(),
            pad,
            config,
        })
    }

    /// Unit-length sentence embeddings.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(self.config.encoder_batch) {
            let mut rows = Vec::with_capacity(chunk.len());
            for text in chunk {
                let mut ids = self
                    .tokenizer
                    .encode(&format!("{}{text}", self.config.prefix), true)?
                    .ids;
                if ids.len() > self.config.max_tokens {
                    // Keep the closing special token.
                    let last = ids[ids.len() - 1];
                    ids.truncate(self.config.max_tokens.saturating_sub(1).max(1));
                    ids.push(last);
                }
                rows.push(ids);
            }
            let input = BertInput::from_rows(&rows, self.pad, &self.device);
            let mask = input.attention_mask.clone();
            let pooled: Tensor<2> = mean_pool(self.model.forward(input).hidden, mask);
            let dim = pooled.dims()[1];
            let values = pooled
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .map_err(|e| ParaFilterError::invalid("encoder output", format!("{e:?}")))?;
            for v in values.chunks(dim) {
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                out.push(v.iter().map(|x| x / norm).collect());
            }
        }
        Ok(out)
    }

    /// Ratio-margin scores of a batch of pairs (neighbours searched within the batch).
    pub fn score_batch(&self, pairs: &[Pair]) -> Result<Vec<f64>> {
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        let en: Vec<&str> = pairs.iter().map(|p| p.en.as_str()).collect();
        let xx: Vec<&str> = pairs.iter().map(|p| p.xx.as_str()).collect();
        let (en, xx) = (self.embed(&en)?, self.embed(&xx)?);
        let margins = cosine_similarities(&en, &xx)?.ratio_margin(self.config.k)?;
        Ok((0..pairs.len()).map(|i| margins.get(i, i)).collect())
    }

    /// Cosine similarities of the pairs' own sides.
    pub fn cosine_batch(&self, pairs: &[Pair]) -> Result<Vec<f64>> {
        let en: Vec<&str> = pairs.iter().map(|p| p.en.as_str()).collect();
        let xx: Vec<&str> = pairs.iter().map(|p| p.xx.as_str()).collect();
        let (en, xx) = (self.embed(&en)?, self.embed(&xx)?);
        Ok(en
            .iter()
            .zip(&xx)
            .map(|(a, b)| a.iter().zip(b).map(|(x, y)| f64::from(x * y)).sum())
            .collect())
    }
}
