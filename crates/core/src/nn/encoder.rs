//! A pretrained BERT-family encoder with its tokenizer, from any model reference
//! ([`crate::hub`]): a Hugging Face directory (`config.json`, safetensors, `tokenizer.json`), a
//! Hugging Face id in the local cache, or an E5S1 file (4-bit multilingual E5). This is what a
//! task CLI's `--encoder` flag loads.

use burn::tensor::Device;

use super::bert::{Bert, BertConfig, BertLoadError};
use super::e5s1::{E5s1Error, E5s1File};
use super::weights::LoadReport;
use crate::hub::{ModelLocation, ResolveError, resolve};
use crate::tokenize::{TokenizeError, Tokenizer};

/// Problems loading an encoder.
#[derive(Debug, thiserror::Error)]
pub enum EncoderLoadError {
    /// The reference names no model.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// A Hugging Face checkpoint cannot be loaded.
    #[error(transparent)]
    Bert(#[from] BertLoadError),
    /// An E5S1 file cannot be loaded.
    #[error(transparent)]
    E5s1(#[from] E5s1Error),
    /// The tokenizer cannot be loaded.
    #[error(transparent)]
    Tokenize(#[from] TokenizeError),
    /// The reference is a decoder LM (GGUF), not an encoder.
    #[error("{0}: a GGUF file holds a decoder LM, not a BERT-family encoder")]
    NotAnEncoder(std::path::PathBuf),
}

/// A loaded encoder.
#[derive(Debug)]
pub struct PretrainedEncoder {
    /// The encoder.
    pub model: Bert,
    /// Its configuration.
    pub config: BertConfig,
    /// Its tokenizer.
    pub tokenizer: Tokenizer,
    /// Which tensors were loaded.
    pub report: LoadReport,
    /// Where it came from.
    pub location: ModelLocation,
}

/// The `tiny` encoder of `--encoder tiny` ([`crate::cli::EncoderArgs`]): a WordPiece
/// vocabulary of at most 2,000 pieces learned from `texts`, truncating at `max_length`, and the
/// configuration of a small random BERT over it (hidden 64, 2 layers, 4 heads, FFN 128, dropout
/// 0.1, positions for `max_length`).
pub fn tiny_encoder<I, S>(
    texts: I,
    max_length: usize,
) -> Result<(Tokenizer, BertConfig), TokenizeError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let wordpiece = crate::tokenize::WordPieceTrainingConfig {
        vocab_size: 2000,
        min_frequency: 1,
        ..Default::default()
    };
    let tokenizer =
        Tokenizer::train_wordpiece(texts, &wordpiece)?.with_max_length(Some(max_length))?;
    let config = BertConfig::new(tokenizer.vocab_size(), 64, 2, 4, 128)
        .with_max_position_embeddings(max_length.max(8))
        .with_hidden_dropout(0.1)
        .with_attention_dropout(0.1);
    Ok((tokenizer, config))
}

/// Loads the encoder and tokenizer a reference names.
pub fn load_encoder(
    reference: &str,
    device: &Device,
) -> Result<PretrainedEncoder, EncoderLoadError> {
    let location = resolve(reference)?;
    let (model, config, report, tokenizer) = match &location {
        ModelLocation::HfDir(dir) => {
            let tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))?;
            let loaded = Bert::from_pretrained(dir, device)?;
            (loaded.model, loaded.config, loaded.report, tokenizer)
        }
        ModelLocation::E5s1(path) => {
            let file = E5s1File::open(path)?;
            let tokenizer = file.tokenizer.to_tokenizer()?;
            let loaded = file.load_bert(device)?;
            (loaded.model, loaded.config, loaded.report, tokenizer)
        }
        ModelLocation::Gguf(path) => return Err(EncoderLoadError::NotAnEncoder(path.clone())),
    };
    tracing::info!(
        model = %location.path().display(),
        loaded = report.loaded.len(),
        "loaded encoder"
    );
    Ok(PretrainedEncoder {
        model,
        config,
        tokenizer,
        report,
        location,
    })
}
