//! BERT-family transformer encoder: BERT, RoBERTa and XLM-R.
//!
//! Devlin et al., "BERT: Pre-training of Deep Bidirectional Transformers for Language
//! Understanding", NAACL 2019 (<https://arxiv.org/abs/1810.04805>); Liu et al., "RoBERTa", 2019
//! (<https://arxiv.org/abs/1907.11692>). The layout mirrors Hugging Face `transformers`'
//! `BertModel`/`RobertaModel`: embeddings (word + position + token type, layer norm), post-LN
//! encoder layers (self-attention, GELU feed-forward) and a tanh pooler over the first token.
//! [`Bert::from_pretrained`] loads a model directory (`config.json` + `model.safetensors`) with
//! the checkpoint's own tensor names, with or without a `bert.`/`roberta.` prefix, and
//! [`Bert::save_pretrained`] writes one.
//!
//! Encoder surgery: [`Bert::forward_masked`] takes [`BertMasks`] (an arbitrary attention mask,
//! head and feed-forward-neuron masks, a width multiplier); layers may have different numbers
//! of heads and feed-forward widths (a physically pruned model, [`crate::nn::prune`]), listed
//! per layer in the configuration and in `config.json`.
//!
//! - `config`: [`BertConfig`], `config.json` reading and writing;
//! - `layer`: [`BertEmbeddings`], [`BertLayer`] and the masked layer forward;
//! - `masks`: [`BertMasks`], [`AttentionMask`], [`Width`];
//! - `save`: [`Bert::save_pretrained`], parameters under Hugging Face names.

mod config;
mod layer;
mod masks;
mod save;

use std::path::Path;

use burn::module::Module;
use burn::nn::{LayerNorm, Linear};
use burn::tensor::{Device, Int, Tensor};

pub use config::{BertConfig, BertLoadError, HiddenAct, PositionScheme};
pub use layer::{BertEmbeddings, BertLayer};
use layer::{LayerAttention, LayerUnits};
pub use masks::{AttentionMask, BertMasks, Width};

use super::weights::{Pretrained, WeightSource};

/// Hugging Face names of a layer's linear layers, in the order of `BertLayer::linears`.
const LAYER_LINEARS: [&str; 6] = [
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
];

/// Hugging Face names of a layer's layer norms, in the order of `BertLayer::norms`.
const LAYER_NORMS: [&str; 2] = ["attention.output.LayerNorm", "output.LayerNorm"];

impl BertLayer {
    fn linears(&self) -> [&Linear; 6] {
        [
            &self.query,
            &self.key,
            &self.value,
            &self.attention_output,
            &self.intermediate,
            &self.output,
        ]
    }

    fn linears_mut(&mut self) -> [&mut Linear; 6] {
        [
            &mut self.query,
            &mut self.key,
            &mut self.value,
            &mut self.attention_output,
            &mut self.intermediate,
            &mut self.output,
        ]
    }

    fn norms(&self) -> [&LayerNorm; 2] {
        [&self.attention_norm, &self.output_norm]
    }

    fn norms_mut(&mut self) -> [&mut LayerNorm; 2] {
        [&mut self.attention_norm, &mut self.output_norm]
    }
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
    /// presence and per-layer sizes of a pruned model included).
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
            for (name, linear) in LAYER_LINEARS.iter().zip(layer.linears_mut()) {
                weights.fill_linear(linear, &format!("encoder.layer.{i}.{name}"));
            }
            for (name, norm) in LAYER_NORMS.iter().zip(layer.norms_mut()) {
                weights.fill_layer_norm(norm, &format!("encoder.layer.{i}.{name}"));
            }
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

    /// The number of attention heads of every layer.
    pub fn layer_heads(&self) -> Vec<usize> {
        self.layers.iter().map(|layer| layer.num_heads).collect()
    }

    /// The feed-forward width of every layer.
    pub fn layer_intermediate_sizes(&self) -> Vec<usize> {
        self.layers
            .iter()
            .map(BertLayer::intermediate_size)
            .collect()
    }

    /// `base` with this model's per-layer head counts and feed-forward widths: the
    /// configuration that describes the model after pruning or width slicing.
    pub fn sized_config(&self, base: &BertConfig) -> BertConfig {
        base.clone()
            .with_layer_sizes(self.layer_heads(), self.layer_intermediate_sizes())
    }

    /// Runs the encoder.
    ///
    /// # Shapes
    /// - `input.input_ids`, `input.attention_mask`, `input.token_type_ids`: `[batch, seq]`
    /// - output `hidden`: `[batch, seq, hidden]`; `pooled`: `[batch, hidden]`
    pub fn forward(&self, input: BertInput) -> BertOutput {
        self.forward_masked(input, &BertMasks::default())
    }

    /// Runs the encoder with an attention mask on top of the padding mask, head and
    /// feed-forward-neuron masks, and a width multiplier ([`BertMasks`]).
    ///
    /// # Shapes
    /// - `input`: as [`forward`](Self::forward)
    /// - `masks.attention`: `[1 or batch, seq, seq]`; `masks.heads`: `[layers, ≥ heads]`;
    ///   `masks.neurons`: `[layers, ≥ intermediate]`
    /// - output: as [`forward`](Self::forward)
    ///
    /// # Panics
    /// When a mask's shape does not fit the batch or the model.
    pub fn forward_masked(&self, input: BertInput, masks: &BertMasks) -> BertOutput {
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

        let attention = layer_attention(input.attention_mask, masks.attention.as_ref());
        for (index, layer) in self.layers.iter().enumerate() {
            let units = self.layer_units(index, masks);
            hidden = layer.forward_units(hidden, &attention, units);
        }
        let pooled = self.pooler.as_ref().map(|pooler| {
            let first = hidden.clone().slice([0..batch, 0..1]).squeeze_dim::<2>(1);
            pooler.forward(first).tanh()
        });
        BertOutput { hidden, pooled }
    }

    /// The units layer `index` keeps under `masks.width` and its rows of the unit masks.
    fn layer_units(&self, index: usize, masks: &BertMasks) -> LayerUnits {
        let layer = &self.layers[index];
        let (all_heads, all_neurons) = (layer.num_heads, layer.intermediate_size());
        let (heads, neurons) = match masks.width {
            Some(width) => (width.keep_heads(all_heads), width.keep_neurons(all_neurons)),
            None => (all_heads, all_neurons),
        };
        let row = |mask: &Option<Tensor<2>>, n: usize, what: &str| {
            let mask = mask.as_ref()?;
            let [layers, units] = mask.dims();
            assert!(
                layers == self.layers.len() && units >= n,
                "{what} mask {:?} for {} layers with {n} {what} in layer {index}",
                [layers, units],
                self.layers.len()
            );
            (n > 0).then(|| mask.clone().slice([index..index + 1, 0..n]).reshape([n]))
        };
        LayerUnits {
            head_mask: row(&masks.heads, heads, "head"),
            neuron_mask: row(&masks.neurons, neurons, "neuron"),
            heads,
            neurons,
        }
    }
}

/// The padding mask combined with an optional attention mask, for every layer.
fn layer_attention(padding: Tensor<2, Int>, mask: Option<&AttentionMask>) -> LayerAttention {
    let [batch, seq] = padding.dims();
    // [batch, 1, 1, seq]: true where the key is padding.
    let padding = padding
        .equal_elem(0)
        .unsqueeze_dim::<3>(1)
        .unsqueeze_dim::<4>(1);
    let Some(mask) = mask else {
        return LayerAttention {
            masked: padding,
            bias: None,
        };
    };
    let [rows, queries, keys] = mask.dims();
    assert!(
        (rows == 1 || rows == batch) && queries == seq && keys == seq,
        "attention mask {:?} for a batch of {batch} × {seq}",
        [rows, queries, keys]
    );
    match mask {
        AttentionMask::Allowed(allowed) => {
            let shape = [batch, 1, seq, seq];
            let removed = allowed
                .clone()
                .bool_not()
                .unsqueeze_dim::<4>(1)
                .expand(shape);
            LayerAttention {
                masked: padding.expand(shape).bool_or(removed),
                bias: None,
            }
        }
        AttentionMask::Additive(bias) => LayerAttention {
            masked: padding,
            bias: Some(bias.clone().unsqueeze_dim::<4>(1)),
        },
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

    #[test]
    fn configs_saved_before_per_layer_sizes_still_load() {
        let mut json = serde_json::to_value(tiny()).unwrap();
        let fields = json.as_object_mut().unwrap();
        assert!(fields.remove("heads_per_layer").is_some());
        assert!(fields.remove("intermediate_per_layer").is_some());
        let config: BertConfig = serde_json::from_value(json).unwrap();
        assert_eq!(config.layer_heads(), vec![4, 4]);
        assert_eq!(config.layer_intermediate_sizes(), vec![32, 32]);
    }

    #[test]
    fn layers_of_different_sizes_run_including_empty_ones() {
        let device = crate::device::cpu();
        let config = tiny().with_layer_sizes(vec![0, 3], vec![5, 0]);
        let model = config.init(&device);
        assert_eq!(model.layer_heads(), vec![0, 3]);
        assert_eq!(model.layer_intermediate_sizes(), vec![5, 0]);
        let out = model.forward(BertInput::from_rows(&[vec![2, 5, 7]], 0, &device));
        assert_eq!(out.hidden.dims(), [1, 3, 16]);
        let values = out.hidden.into_data().try_to_vec::<f32>().unwrap();
        assert!(values.iter().all(|v| v.is_finite()));
    }
}
