//! [`BertConfig`]: the encoder's configuration, read from and written as a Hugging Face
//! `config.json`, including the per-layer head counts and feed-forward widths of a pruned model.

use std::collections::BTreeMap;
use std::path::Path;

use burn::config::Config;
use burn::nn::{DropoutConfig, EmbeddingConfig, Initializer, LayerNormConfig, LinearConfig};
use burn::tensor::Device;
use serde::Deserialize;

use super::{Bert, BertEmbeddings, BertLayer};
use crate::nn::weights::WeightError;

/// The feed-forward activation (`hidden_act` in `config.json`).
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum HiddenAct {
    /// Exact GELU with `erf` (`gelu`).
    Gelu,
    /// Tanh-approximated GELU (`gelu_new`, `gelu_pytorch_tanh`).
    GeluTanh,
    /// ReLU (`relu`).
    Relu,
}

/// How position ids are derived from the input.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum PositionScheme {
    /// BERT: positions `0..seq_len`.
    Absolute,
    /// RoBERTa/XLM-R: non-padding tokens count from `pad_token_id + 1`; padding gets
    /// `pad_token_id`.
    PaddingOffset,
}

/// Configuration of a [`Bert`] encoder.
#[derive(Config, Debug)]
pub struct BertConfig {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Hidden size `d_model`.
    pub hidden_size: usize,
    /// Number of encoder layers.
    pub num_layers: usize,
    /// Number of attention heads; must divide `hidden_size`. The head size is
    /// `hidden_size / num_heads` in every layer, pruned or not.
    pub num_heads: usize,
    /// Feed-forward inner size.
    pub intermediate_size: usize,
    /// Feed-forward activation.
    #[config(default = "HiddenAct::Gelu")]
    pub hidden_act: HiddenAct,
    /// Dropout after embeddings, attention output and feed-forward output.
    #[config(default = 0.1)]
    pub hidden_dropout: f64,
    /// Dropout on attention probabilities.
    #[config(default = 0.1)]
    pub attention_dropout: f64,
    /// Size of the position embedding table.
    #[config(default = 512)]
    pub max_position_embeddings: usize,
    /// Number of token types (segments).
    #[config(default = 2)]
    pub type_vocab_size: usize,
    /// Layer norm epsilon.
    #[config(default = 1e-12)]
    pub layer_norm_eps: f64,
    /// Id of the padding token.
    #[config(default = 0)]
    pub pad_token_id: usize,
    /// How position ids are derived.
    #[config(default = "PositionScheme::Absolute")]
    pub positions: PositionScheme,
    /// Whether the model has the tanh pooler over the first token.
    #[config(default = true)]
    pub with_pooler: bool,
    /// Standard deviation of the normal initialisation of a fresh model.
    #[config(default = 0.02)]
    pub initializer_range: f64,
    /// Attention heads of each layer of a pruned model (each at most `num_heads`); `None`:
    /// every layer has `num_heads`.
    pub heads_per_layer: Option<Vec<usize>>,
    /// Feed-forward width of each layer of a pruned model; `None`: every layer has
    /// `intermediate_size`.
    pub intermediate_per_layer: Option<Vec<usize>>,
}

/// The fields of a Hugging Face `config.json` that a [`BertConfig`] is made from.
#[derive(Debug, Deserialize)]
struct HfBertConfig {
    model_type: Option<String>,
    vocab_size: usize,
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    intermediate_size: usize,
    #[serde(default = "default_act")]
    hidden_act: String,
    #[serde(default = "default_dropout")]
    hidden_dropout_prob: f64,
    #[serde(default = "default_dropout")]
    attention_probs_dropout_prob: f64,
    #[serde(default = "default_positions")]
    max_position_embeddings: usize,
    #[serde(default = "default_types")]
    type_vocab_size: usize,
    #[serde(default = "default_eps")]
    layer_norm_eps: f64,
    #[serde(default)]
    pad_token_id: Option<usize>,
    #[serde(default = "default_init")]
    initializer_range: f64,
    /// Our per-layer head counts (written by [`Bert::save_pretrained`]).
    #[serde(default)]
    num_attention_heads_per_layer: Option<Vec<usize>>,
    /// Our per-layer feed-forward widths.
    #[serde(default)]
    intermediate_size_per_layer: Option<Vec<usize>>,
    /// `transformers`' record of removed heads: layer → original head indices.
    #[serde(default)]
    pruned_heads: BTreeMap<String, Vec<usize>>,
}

fn default_act() -> String {
    "gelu".into()
}
fn default_dropout() -> f64 {
    0.1
}
fn default_positions() -> usize {
    512
}
fn default_types() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn default_init() -> f64 {
    0.02
}

/// Problems loading a pretrained encoder directory.
#[derive(Debug, thiserror::Error)]
pub enum BertLoadError {
    /// `config.json` could not be read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `config.json` is not a BERT-family configuration.
    #[error("`{path}` is not a BERT-family config.json: {message}")]
    Config {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The weights do not fit the configuration.
    #[error(transparent)]
    Weights(#[from] WeightError),
}

impl BertConfig {
    /// Reads a Hugging Face `config.json` (model types `bert`, `roberta`, `xlm-roberta`,
    /// `camembert`, `distilroberta` and others with the BERT layout).
    ///
    /// A pruned model's per-layer sizes come from `num_attention_heads_per_layer` and
    /// `intermediate_size_per_layer` (as [`Bert::save_pretrained`] writes them), or, for heads,
    /// from `transformers`' `pruned_heads` (`{"layer": [removed heads]}`).
    pub fn from_hf_file(path: impl AsRef<Path>) -> Result<Self, BertLoadError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| BertLoadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let hf: HfBertConfig = serde_json::from_str(&text).map_err(|e| BertLoadError::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let config_error = |message: String| BertLoadError::Config {
            path: path.to_path_buf(),
            message,
        };
        let hidden_act = match hf.hidden_act.as_str() {
            "gelu" => HiddenAct::Gelu,
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => HiddenAct::GeluTanh,
            "relu" => HiddenAct::Relu,
            other => return Err(config_error(format!("unsupported hidden_act `{other}`"))),
        };
        if hf.num_attention_heads == 0 || !hf.hidden_size.is_multiple_of(hf.num_attention_heads) {
            return Err(config_error(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                hf.hidden_size, hf.num_attention_heads
            )));
        }
        let (heads, ffn) = hf_layer_sizes(&hf).map_err(config_error)?;
        let roberta_like = matches!(
            hf.model_type.as_deref(),
            Some("roberta" | "xlm-roberta" | "camembert" | "longformer")
        );
        let pad_token_id = hf.pad_token_id.unwrap_or(if roberta_like { 1 } else { 0 });
        Ok(BertConfig::new(
            hf.vocab_size,
            hf.hidden_size,
            hf.num_hidden_layers,
            hf.num_attention_heads,
            hf.intermediate_size,
        )
        .with_hidden_act(hidden_act)
        .with_hidden_dropout(hf.hidden_dropout_prob)
        .with_attention_dropout(hf.attention_probs_dropout_prob)
        .with_max_position_embeddings(hf.max_position_embeddings)
        .with_type_vocab_size(hf.type_vocab_size)
        .with_layer_norm_eps(hf.layer_norm_eps)
        .with_pad_token_id(pad_token_id)
        .with_initializer_range(hf.initializer_range)
        .with_positions(if roberta_like {
            PositionScheme::PaddingOffset
        } else {
            PositionScheme::Absolute
        })
        .with_layer_sizes(heads, ffn))
    }

    /// The Hugging Face `config.json` of this configuration (model type `bert`, or `roberta`
    /// with padding-offset positions), with per-layer sizes when layers differ.
    pub fn to_hf_json(&self) -> serde_json::Value {
        let mut json = serde_json::json!({
            "architectures": [if self.positions == PositionScheme::PaddingOffset {
                "RobertaModel"
            } else {
                "BertModel"
            }],
            "model_type": match self.positions {
                PositionScheme::Absolute => "bert",
                PositionScheme::PaddingOffset => "roberta",
            },
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "num_hidden_layers": self.num_layers,
            "num_attention_heads": self.num_heads,
            "intermediate_size": self.intermediate_size,
            "hidden_act": match self.hidden_act {
                HiddenAct::Gelu => "gelu",
                HiddenAct::GeluTanh => "gelu_new",
                HiddenAct::Relu => "relu",
            },
            "hidden_dropout_prob": self.hidden_dropout,
            "attention_probs_dropout_prob": self.attention_dropout,
            "max_position_embeddings": self.max_position_embeddings,
            "type_vocab_size": self.type_vocab_size,
            "layer_norm_eps": self.layer_norm_eps,
            "pad_token_id": self.pad_token_id,
            "initializer_range": self.initializer_range,
        });
        if let Some(heads) = &self.heads_per_layer {
            json["num_attention_heads_per_layer"] = serde_json::json!(heads);
        }
        if let Some(ffn) = &self.intermediate_per_layer {
            json["intermediate_size_per_layer"] = serde_json::json!(ffn);
        }
        json
    }

    /// Sets the per-layer sizes, storing `None` for a list that is uniform at the global size.
    pub fn with_layer_sizes(mut self, heads: Vec<usize>, intermediate: Vec<usize>) -> Self {
        self.heads_per_layer = heads.iter().any(|&h| h != self.num_heads).then_some(heads);
        self.intermediate_per_layer = intermediate
            .iter()
            .any(|&f| f != self.intermediate_size)
            .then_some(intermediate);
        self
    }

    /// The size of one attention head, `hidden_size / num_heads`.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_heads
    }

    /// The number of attention heads of every layer.
    pub fn layer_heads(&self) -> Vec<usize> {
        self.heads_per_layer
            .clone()
            .unwrap_or_else(|| vec![self.num_heads; self.num_layers])
    }

    /// The feed-forward width of every layer.
    pub fn layer_intermediate_sizes(&self) -> Vec<usize> {
        self.intermediate_per_layer
            .clone()
            .unwrap_or_else(|| vec![self.intermediate_size; self.num_layers])
    }

    /// A freshly initialised encoder (normal weights with `initializer_range`, as BERT does).
    ///
    /// # Panics
    /// When `num_heads` does not divide `hidden_size`, or a per-layer list does not have one
    /// entry per layer or gives a layer more heads than `num_heads`.
    pub fn init(&self, device: &Device) -> Bert {
        assert!(
            self.num_heads > 0 && self.hidden_size.is_multiple_of(self.num_heads),
            "hidden_size {} must be a multiple of num_heads {}",
            self.hidden_size,
            self.num_heads
        );
        let (heads, ffn) = (self.layer_heads(), self.layer_intermediate_sizes());
        assert!(
            heads.len() == self.num_layers && ffn.len() == self.num_layers,
            "per-layer sizes ({} head counts, {} widths) for {} layers",
            heads.len(),
            ffn.len(),
            self.num_layers
        );
        assert!(
            heads.iter().all(|&h| h <= self.num_heads),
            "a layer has more heads than num_heads {}: {heads:?}",
            self.num_heads
        );
        let init = Initializer::Normal {
            mean: 0.0,
            std: self.initializer_range,
        };
        let linear = |d_in, d_out| {
            LinearConfig::new(d_in, d_out)
                .with_initializer(init.clone())
                .init(device)
        };
        let embedding = |n, d| {
            EmbeddingConfig::new(n, d)
                .with_initializer(init.clone())
                .init(device)
        };
        let norm = || {
            LayerNormConfig::new(self.hidden_size)
                .with_epsilon(self.layer_norm_eps)
                .init(device)
        };
        let h = self.hidden_size;
        let d_head = self.head_dim();
        Bert {
            embeddings: BertEmbeddings {
                word_embeddings: embedding(self.vocab_size, h),
                position_embeddings: embedding(self.max_position_embeddings, h),
                token_type_embeddings: embedding(self.type_vocab_size.max(1), h),
                layer_norm: norm(),
                dropout: DropoutConfig::new(self.hidden_dropout).init(),
            },
            layers: heads
                .iter()
                .zip(&ffn)
                .map(|(&heads, &ffn)| BertLayer {
                    query: linear(h, heads * d_head),
                    key: linear(h, heads * d_head),
                    value: linear(h, heads * d_head),
                    attention_output: linear(heads * d_head, h),
                    attention_norm: norm(),
                    intermediate: linear(h, ffn),
                    output: linear(ffn, h),
                    output_norm: norm(),
                    attention_dropout: DropoutConfig::new(self.attention_dropout).init(),
                    dropout: DropoutConfig::new(self.hidden_dropout).init(),
                    num_heads: heads,
                    hidden_act: self.hidden_act,
                })
                .collect(),
            pooler: self.with_pooler.then(|| linear(h, h)),
            pad_token_id: self.pad_token_id,
            positions: self.positions,
        }
    }
}

/// Per-layer head counts and feed-forward widths of a `config.json`, checked against the
/// global sizes.
fn hf_layer_sizes(hf: &HfBertConfig) -> Result<(Vec<usize>, Vec<usize>), String> {
    let layers = hf.num_hidden_layers;
    let mut heads = vec![hf.num_attention_heads; layers];
    if let Some(listed) = &hf.num_attention_heads_per_layer {
        heads.clone_from(listed);
    } else {
        for (layer, removed) in &hf.pruned_heads {
            let index: usize = layer
                .parse()
                .ok()
                .filter(|&i| i < layers)
                .ok_or_else(|| format!("pruned_heads names layer `{layer}` of {layers}"))?;
            let distinct: std::collections::BTreeSet<_> = removed.iter().collect();
            if distinct.iter().any(|&&h| h >= hf.num_attention_heads) {
                return Err(format!("pruned_heads of layer {layer}: {removed:?}"));
            }
            heads[index] = hf.num_attention_heads - distinct.len();
        }
    }
    let ffn = hf
        .intermediate_size_per_layer
        .clone()
        .unwrap_or_else(|| vec![hf.intermediate_size; layers]);
    if heads.len() != layers || ffn.len() != layers {
        return Err(format!(
            "per-layer sizes list {} head counts and {} widths for {layers} layers",
            heads.len(),
            ffn.len()
        ));
    }
    if let Some(h) = heads.iter().find(|&&h| h > hf.num_attention_heads) {
        return Err(format!(
            "a layer has {h} heads, more than num_attention_heads {}",
            hf.num_attention_heads
        ));
    }
    Ok((heads, ffn))
}
