//! Model presets over the shared vocabulary and the saved model description.
//!
//! The paper trains fairseq's `transformer_wmt_en_de` (the base Transformer of Vaswani et
//! al., 2017) with a joined dictionary; here every preset shares one embedding matrix between
//! the encoder, the decoder and the output projection (`--share-all-embeddings`), which
//! vocabulary sharing makes possible.

use std::path::Path;
use std::str::FromStr;

use burnlp_core::nn::seq2seq::TransformerConfig;
use serde::{Deserialize, Serialize};

use crate::error::{NmtError, Result};

/// A Transformer size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Arch {
    /// `d_model` 64, feed-forward 128, 4 heads, 2 + 2 layers (tests and the demo).
    Tiny,
    /// `d_model` 256, feed-forward 1024, 4 heads, 3 + 3 layers (CPU experiments).
    Small,
    /// fairseq's `transformer_iwslt_de_en`: 512 / 1024, 4 heads, 6 + 6 layers.
    TransformerIwslt,
    /// The base Transformer: 512 / 2048, 8 heads, 6 + 6 layers (the paper's model).
    TransformerBase,
}

impl Arch {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Arch::Tiny => "tiny",
            Arch::Small => "small",
            Arch::TransformerIwslt => "transformer-iwslt",
            Arch::TransformerBase => "transformer-base",
        }
    }
}

impl FromStr for Arch {
    type Err = NmtError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "tiny" => Ok(Arch::Tiny),
            "small" => Ok(Arch::Small),
            "transformer-iwslt" => Ok(Arch::TransformerIwslt),
            "transformer-base" => Ok(Arch::TransformerBase),
            other => Err(NmtError::InvalidArgument {
                name: "arch",
                message: format!(
                    "`{other}` is not one of tiny, small, transformer-iwslt, transformer-base"
                ),
            }),
        }
    }
}

/// What is needed to rebuild a trained model: saved as `RUN/model.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// The preset.
    pub arch: Arch,
    /// Joint vocabulary size.
    pub vocab_size: usize,
    /// Padding id.
    pub pad: u32,
    /// End-of-sentence id.
    pub eos: u32,
    /// Dropout on embeddings and sub-layer outputs.
    pub dropout: f64,
    /// Longest sequence, in tokens.
    pub max_positions: usize,
}

impl ModelSpec {
    /// The Transformer configuration of this model, with all embeddings shared.
    pub fn config(&self) -> TransformerConfig {
        let v = self.vocab_size;
        let base = match self.arch {
            Arch::Tiny => TransformerConfig::tiny(v, v)
                .with_d_model(64)
                .with_ffn_dim(128),
            Arch::Small => TransformerConfig::small(v, v),
            Arch::TransformerIwslt => TransformerConfig::transformer_iwslt(v, v),
            Arch::TransformerBase => TransformerConfig::transformer_base(v, v),
        };
        base.with_dropout(self.dropout)
            .with_share_all_embeddings(true)
            .with_padding_idx(self.pad as usize)
            .with_max_source_positions(self.max_positions)
            .with_max_target_positions(self.max_positions)
    }

    /// Reads `model.json`.
    pub fn load(path: &Path) -> Result<Self> {
        Ok(burnlp_core::data::read_json_document(path)?)
    }
}
