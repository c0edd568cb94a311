//! BERT-family transformer encoder: BERT, RoBERTa and XLM-R.
//!
//! Devlin et al., "BERT: Pre-training of Deep Bidirectional Transformers for Language
//! Understanding", NAACL 2019 (<https://arxiv.org/abs/1810.04805>); Liu et al., "RoBERTa", 2019
//! (<https://arxiv.org/abs/1907.11692>). The layout mirrors Hugging Face `transformers`'
//! `BertModel`/`RobertaModel`: embeddings (word + position + token type, layer norm), post-LN
//! encoder layers (self-attention, GELU feed-forward) and a tanh pooler over the first token.
//! [`Bert::from_pretrained`] loads a model directory (`config.json` + `model.safetensors`) with
//! the checkpoint's own tensor names, with or without a `bert.`/`roberta.` prefix.

use std::path::Path;

use burn::config::Config;
use burn::module::Module;
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig,
    Linear, LinearConfig,
};
use burn::tensor::activation::{gelu, gelu_approximate, relu, softmax};
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Device, Int, Tensor};
use serde::Deserialize;

use super::weights::{Pretrained, WeightError, WeightSource};

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
    /// Number of attention heads; must divide `hidden_size`.
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
        }))
    }

    /// A freshly initialised encoder (normal weights with `initializer_range`, as BERT does).
    pub fn init(&self, device: &Device) -> Bert {
        assert!(
            self.num_heads > 0 && self.hidden_size.is_multiple_of(self.num_heads),
            "hidden_size {} must be a multiple of num_heads {}",
            self.hidden_size,
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
        Bert {
            embeddings: BertEmbeddings {
                word_embeddings: embedding(self.vocab_size, h),
                position_embeddings: embedding(self.max_position_embeddings, h),
                token_type_embeddings: embedding(self.type_vocab_size.max(1), h),
                layer_norm: norm(),
                dropout: DropoutConfig::new(self.hidden_dropout).init(),
            },
            layers: (0..self.num_layers)
                .map(|_| BertLayer {
                    query: linear(h, h),
                    key: linear(h, h),
                    value: linear(h, h),
                    attention_output: linear(h, h),
                    attention_norm: norm(),
                    intermediate: linear(h, self.intermediate_size),
                    output: linear(self.intermediate_size, h),
                    output_norm: norm(),
                    attention_dropout: DropoutConfig::new(self.attention_dropout).init(),
                    dropout: DropoutConfig::new(self.hidden_dropout).init(),
                    num_heads: self.num_heads,
                    hidden_act: self.hidden_act,
                })
                .collect(),
            pooler: self.with_pooler.then(|| linear(h, h)),
            pad_token_id: self.pad_token_id,
            positions: self.positions,
        }
    }
}

/// Token, position and token-type embeddings followed by layer norm and dropout.
#[derive(Module, Debug)]
pub struct BertEmbeddings {
    /// Token embeddings `[vocab, hidden]`.
    pub word_embeddings: Embedding,
    /// Position embeddings `[max_positions, hidden]`.
    pub position_embeddings: Embedding,
    /// Token type (segment) embeddings `[type_vocab, hidden]`.
    pub token_type_embeddings: Embedding,
    /// Layer norm over the summed embeddings.
    pub layer_norm: LayerNorm,
    /// Dropout after the layer norm.
    pub dropout: Dropout,
}

/// One post-LN encoder layer.
#[derive(Module, Debug)]
pub struct BertLayer {
    /// Query projection.
    pub query: Linear,
    /// Key projection.
    pub key: Linear,
    /// Value projection.
    pub value: Linear,
    /// Projection of the attention output.
    pub attention_output: Linear,
    /// Layer norm after the attention residual.
    pub attention_norm: LayerNorm,
    /// Feed-forward up-projection.
    pub intermediate: Linear,
    /// Feed-forward down-projection.
    pub output: Linear,
    /// Layer norm after the feed-forward residual.
    pub output_norm: LayerNorm,
    /// Dropout on attention probabilities.
    pub attention_dropout: Dropout,
    /// Dropout on sub-layer outputs.
    pub dropout: Dropout,
    /// Number of attention heads.
    pub num_heads: usize,
    /// Feed-forward activation.
    #[module(skip)]
    pub hidden_act: HiddenAct,
}

/// A BERT-family encoder.
#[derive(Module, Debug)]
pub struct Bert {
    /// The embedding block.
    pub embeddings: BertEmbeddings,
    /// The encoder layers.
    pub layers: Vec<BertLayer>,
    /// The tanh pooler over the first token, when the model has one.
    pub pooler: Option<Linear>,
    /// Id of the padding token.
    pub pad_token_id: usize,
    /// How position ids are derived.
    #[module(skip)]
    pub positions: PositionScheme,
}

/// Encoder inputs for a padded batch.
#[derive(Debug, Clone)]
pub struct BertInput {
    /// Token ids `[batch, seq]`.
    pub input_ids: Tensor<2, Int>,
    /// 1 for real tokens, 0 for padding `[batch, seq]`.
    pub attention_mask: Tensor<2, Int>,
    /// Segment ids `[batch, seq]`; zeros when absent.
    pub token_type_ids: Option<Tensor<2, Int>>,
}

impl BertInput {
    /// Builds a batch from token-id rows of different lengths, padding on the right with
    /// `pad_id`.
    pub fn from_rows(rows: &[Vec<u32>], pad_id: u32, device: &Device) -> Self {
        let batch = rows.len();
        let seq = rows.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let mut ids = vec![pad_id as i64; batch * seq];
        let mut mask = vec![0i64; batch * seq];
        for (row, tokens) in rows.iter().enumerate() {
            for (col, &token) in tokens.iter().enumerate() {
                ids[row * seq + col] = token as i64;
                mask[row * seq + col] = 1;
            }
        }
        Self {
            input_ids: Tensor::from_data(burn::tensor::TensorData::new(ids, [batch, seq]), device),
            attention_mask: Tensor::from_data(
                burn::tensor::TensorData::new(mask, [batch, seq]),
                device,
            ),
            token_type_ids: None,
        }
    }
}

/// Encoder outputs.
#[derive(Debug, Clone)]
pub struct BertOutput {
    /// Last hidden state `[batch, seq, hidden]`.
    pub hidden: Tensor<3>,
    /// Pooled first-token representation `[batch, hidden]`, when the model has a pooler.
    pub pooled: Option<Tensor<2>>,
}

impl Bert {
    /// Loads a Hugging Face model directory holding `config.json` and `model.safetensors` (or
    /// sharded safetensors), returning the encoder with its parsed configuration (pooler
    /// presence included).
    ///
    /// Tensor names follow the checkpoint (`embeddings.word_embeddings.weight`,
    /// `encoder.layer.N.attention.self.query.weight`, …) with an optional `bert.` or `roberta.`
    /// prefix. Missing or wrongly-shaped tensors are an error naming each one; tensors the
    /// encoder does not use (MLM heads, `position_ids`) are listed in the returned report.
    pub fn from_pretrained(
        dir: impl AsRef<Path>,
        device: &Device,
    ) -> Result<Pretrained<Bert, BertConfig>, BertLoadError> {
        let dir = dir.as_ref();
        let config = BertConfig::from_hf_file(dir.join("config.json"))?;
        let mut weights = WeightSource::open_dir(dir, device)?;
        let config = config.with_with_pooler(
            [
                "pooler.dense.weight",
                "bert.pooler.dense.weight",
                "roberta.pooler.dense.weight",
            ]
            .iter()
            .any(|name| weights.contains(name)),
        );
        let mut model = config.init(device);
        model.load_weights(&mut weights);
        let report = weights.finish()?;
        tracing::info!(
            dir = %dir.display(),
            loaded = report.loaded.len(),
            unused = report.unexpected.len(),
            "loaded encoder"
        );
        Ok(Pretrained {
            model,
            config,
            report,
        })
    }

    /// Fills every parameter from a checkpoint using Hugging Face names, detecting a `bert.`
    /// or `roberta.` prefix.
    pub fn load_weights(&mut self, weights: &mut WeightSource) {
        let prefix = ["bert.", "roberta.", ""]
            .into_iter()
            .find(|p| weights.contains(&format!("{p}embeddings.word_embeddings.weight")))
            .unwrap_or("");
        weights.set_prefix(prefix);
        let e = &mut self.embeddings;
        weights.fill_embedding(&mut e.word_embeddings, "embeddings.word_embeddings");
        weights.fill_embedding(&mut e.position_embeddings, "embeddings.position_embeddings");
        weights.fill_embedding(
            &mut e.token_type_embeddings,
            "embeddings.token_type_embeddings",
        );
        weights.fill_layer_norm(&mut e.layer_norm, "embeddings.LayerNorm");
        for (i, layer) in self.layers.iter_mut().enumerate() {
            let p = format!("encoder.layer.{i}");
            weights.fill_linear(&mut layer.query, &format!("{p}.attention.self.query"));
            weights.fill_linear(&mut layer.key, &format!("{p}.attention.self.key"));
            weights.fill_linear(&mut layer.value, &format!("{p}.attention.self.value"));
            weights.fill_linear(
                &mut layer.attention_output,
                &format!("{p}.attention.output.dense"),
            );
            weights.fill_layer_norm(
                &mut layer.attention_norm,
                &format!("{p}.attention.output.LayerNorm"),
            );
            weights.fill_linear(&mut layer.intermediate, &format!("{p}.intermediate.dense"));
            weights.fill_linear(&mut layer.output, &format!("{p}.output.dense"));
            weights.fill_layer_norm(&mut layer.output_norm, &format!("{p}.output.LayerNorm"));
        }
        if let Some(pooler) = self.pooler.as_mut() {
            weights.fill_linear(pooler, "pooler.dense");
        }
        weights.set_prefix("");
    }

    /// Hidden size of the encoder.
    pub fn hidden_size(&self) -> usize {
        self.embeddings
            .word_embeddings
            .weight
            .lazy_shape()
            .dims::<2>()[1]
    }

    /// Runs the encoder.
    ///
    /// # Shapes
    /// - `input.input_ids`, `input.attention_mask`, `input.token_type_ids`: `[batch, seq]`
    /// - output `hidden`: `[batch, seq, hidden]`; `pooled`: `[batch, hidden]`
    pub fn forward(&self, input: BertInput) -> BertOutput {
        let [batch, seq] = input.input_ids.dims();
        let device = input.input_ids.device();
        let positions = match self.positions {
            PositionScheme::Absolute => Tensor::<1, Int>::arange(0..seq as i64, &device)
                .unsqueeze::<2>()
                .expand([batch, seq]),
            PositionScheme::PaddingOffset => {
                let not_pad = input
                    .input_ids
                    .clone()
                    .not_equal_elem(self.pad_token_id as i64)
                    .int();
                not_pad.clone().cumsum(1) * not_pad + self.pad_token_id as i64
            }
        };
        let token_types = input
            .token_type_ids
            .unwrap_or_else(|| Tensor::zeros([batch, seq], &device));
        let e = &self.embeddings;
        let embedded = e.word_embeddings.forward(input.input_ids)
            + e.position_embeddings.forward(positions)
            + e.token_type_embeddings.forward(token_types);
        let mut hidden = e.dropout.forward(e.layer_norm.forward(embedded));

        // [batch, 1, 1, seq]: true where the key is padding.
        let padding = input
            .attention_mask
            .equal_elem(0)
            .unsqueeze_dim::<3>(1)
            .unsqueeze_dim::<4>(1);
        for layer in &self.layers {
            hidden = layer.forward(hidden, padding.clone());
        }
        let pooled = self.pooler.as_ref().map(|pooler| {
            let first = hidden.clone().slice([0..batch, 0..1]).squeeze_dim::<2>(1);
            pooler.forward(first).tanh()
        });
        BertOutput { hidden, pooled }
    }
}

impl BertLayer {
    /// One encoder layer.
    ///
    /// # Shapes
    /// - `hidden`: `[batch, seq, d_model]`
    /// - `padding`: `[batch, 1, 1, seq]`, true for padded keys
    /// - output: `[batch, seq, d_model]`
    pub fn forward(&self, hidden: Tensor<3>, padding: Tensor<4, Bool>) -> Tensor<3> {
        let [batch, seq, d_model] = hidden.dims();
        let heads = self.num_heads;
        let d_head = d_model / heads;
        // [batch, seq, d_model] -> [batch, heads, seq, d_head]
        let split = |x: Tensor<3>| x.reshape([batch, seq, heads, d_head]).swap_dims(1, 2);
        let q = split(self.query.forward(hidden.clone()));
        let k = split(self.key.forward(hidden.clone()));
        let v = split(self.value.forward(hidden.clone()));

        let dropout_active = self.attention_dropout.prob > 0.0
            && self.attention_dropout.training.is_enabled()
            && hidden.device().is_autodiff();
        let context = if dropout_active {
            // [batch, heads, seq, seq]
            let scores = q.matmul(k.swap_dims(2, 3)) / (d_head as f64).sqrt();
            let scores = scores.mask_fill(padding.expand([batch, heads, seq, seq]), f32::MIN);
            let probs = self.attention_dropout.forward(softmax(scores, 3));
            probs.matmul(v)
        } else {
            attention(
                q,
                k,
                v,
                Some(padding.expand([batch, heads, seq, seq])),
                None,
                AttentionModuleOptions::default(),
            )
        };
        // [batch, heads, seq, d_head] -> [batch, seq, d_model]
        let context = context.swap_dims(1, 2).reshape([batch, seq, d_model]);
        let attended = self
            .attention_norm
            .forward(self.dropout.forward(self.attention_output.forward(context)) + hidden);
        let inner = self.intermediate.forward(attended.clone());
        let inner = match self.hidden_act {
            HiddenAct::Gelu => gelu(inner),
            HiddenAct::GeluTanh => gelu_approximate(inner),
            HiddenAct::Relu => relu(inner),
        };
        self.output_norm
            .forward(self.dropout.forward(self.output.forward(inner)) + attended)
    }
}

/// Mean of the hidden states over real (unmasked) tokens, as sentence-transformers pools.
///
/// # Shapes
/// - `hidden`: `[batch, seq, d_model]`, `attention_mask`: `[batch, seq]`
/// - output: `[batch, d_model]`
pub fn mean_pool(hidden: Tensor<3>, attention_mask: Tensor<2, Int>) -> Tensor<2> {
    let mask = attention_mask.float().unsqueeze_dim::<3>(2); // [batch, seq, 1]
    let summed = (hidden * mask.clone()).sum_dim(1).squeeze_dim::<2>(1);
    let counts = mask.sum_dim(1).squeeze_dim::<2>(1).clamp_min(1e-9);
    summed / counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> BertConfig {
        BertConfig::new(50, 16, 2, 4, 32)
    }

    #[test]
    fn shapes_and_padding_invariance() {
        let device = crate::device::cpu();
        device.seed(3);
        let model = tiny().init(&device);
        let short = BertInput::from_rows(&[vec![2, 5, 7]], 0, &device);
        let padded = BertInput::from_rows(&[vec![2, 5, 7], vec![1, 2, 3, 4, 5, 6]], 0, &device);
        let a = model.forward(short).hidden;
        let b = model.forward(padded).hidden;
        assert_eq!(b.dims(), [2, 6, 16]);
        let b_first = b.slice([0..1, 0..3]);
        let diff = (a - b_first).abs().max().into_scalar::<f32>();
        assert!(diff < 1e-5, "padding changed real-token outputs by {diff}");
    }

    #[test]
    fn roberta_positions_skip_padding() {
        let device = crate::device::cpu();
        let model = tiny()
            .with_positions(PositionScheme::PaddingOffset)
            .with_pad_token_id(1)
            .init(&device);
        let out = model.forward(BertInput::from_rows(
            &[vec![0, 5, 2], vec![0, 2]],
            1,
            &device,
        ));
        assert_eq!(out.hidden.dims(), [2, 3, 16]);
        assert_eq!(out.pooled.unwrap().dims(), [2, 16]);
    }

    #[test]
    fn mean_pool_ignores_padding() {
        let device = crate::device::cpu();
        let hidden = Tensor::<3>::from_floats([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]], &device);
        let mask = Tensor::<2, Int>::from_ints([[1, 1, 0]], &device);
        let pooled = mean_pool(hidden, mask)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(pooled, vec![2.0, 3.0]);
    }
}
