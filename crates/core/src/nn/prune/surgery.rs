//! Physical surgery on a [`Bert`]: keeping, reordering and rescaling heads and neurons by
//! slicing the weights, and counting parameters.
//!
//! Head `h` of a layer owns columns `h·d..(h+1)·d` of the query, key and value projections
//! (weights and biases) and the same rows of the attention output projection; neuron `i` owns
//! column `i` of the feed-forward up-projection (and its bias) and row `i` of the
//! down-projection. Keeping a subset of units in some order slices exactly those, so the
//! result is a smaller dense encoder computing what the masked one computes.

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Int, Tensor, TensorData};

use super::{UnitScores, UnitSelection};
use crate::nn::bert::{Bert, BertLayer, BertMasks, Width};

/// Parameters of an encoder, with the embeddings apart (the multilingual embedding matrix is
/// most of XLM-R's size but costs a lookup per token, so a model can be fast without being
/// small).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ParameterCount {
    /// Word, position and token-type tables and the embedding layer norm.
    pub embeddings: usize,
    /// Query, key, value and attention-output weights and biases (what head pruning removes).
    pub attention: usize,
    /// Feed-forward weights and biases (what neuron pruning removes).
    pub feed_forward: usize,
    /// The layers' layer norms and the pooler.
    pub other: usize,
}

impl ParameterCount {
    /// Every parameter.
    pub fn total(&self) -> usize {
        self.embeddings + self.attention + self.feed_forward + self.other
    }

    /// Every parameter but the embeddings.
    pub fn without_embeddings(&self) -> usize {
        self.attention + self.feed_forward + self.other
    }
}

/// What to keep of one layer: unit indices in their new order, and a factor folded into each
/// kept unit's outgoing weights.
struct LayerPick {
    heads: Vec<usize>,
    head_scale: Option<Vec<f32>>,
    neurons: Vec<usize>,
    neuron_scale: Option<Vec<f32>>,
}

impl Bert {
    /// A model keeping, in layer `l`, the heads `selection.heads[l]` and the neurons
    /// `selection.neurons[l]` in the listed order; everything else (embeddings, layer norms,
    /// pooler, dropout) is shared. Listing every unit in another order permutes the weights
    /// without changing the function; leaving units out equals masking them to zero.
    ///
    /// # Panics
    /// When the selection does not have one list per layer, or a list repeats an index or
    /// names a unit the layer does not have.
    pub fn select_units(&self, selection: &UnitSelection) -> Bert {
        assert!(
            selection.heads.len() == self.layers.len()
                && selection.neurons.len() == self.layers.len(),
            "a selection for {} / {} layers of a {}-layer model",
            selection.heads.len(),
            selection.neurons.len(),
            self.layers.len()
        );
        let picks = selection
            .heads
            .iter()
            .zip(&selection.neurons)
            .map(|(heads, neurons)| LayerPick {
                heads: heads.clone(),
                head_scale: None,
                neurons: neurons.clone(),
                neuron_scale: None,
            })
            .collect();
        self.pick(picks)
    }

    /// Every layer's heads and neurons ordered by decreasing score (permuted weights, same
    /// function): the rewiring of Dynamic Sparsification, after which the first units of a
    /// layer are its most important ones.
    pub fn reorder(&self, scores: &UnitScores) -> Bert {
        self.select_units(&scores.ranking())
    }

    /// A smaller model keeping the first `⌈m·H_l⌉` heads and `⌈m·F_l⌉` neurons of every
    /// layer: Dynamic Sparsification at inference, equal to
    /// `forward_masked(input, &BertMasks::default().with_width(width))`.
    pub fn slice_width(&self, width: Width) -> Bert {
        let selection = UnitSelection {
            heads: self
                .layer_heads()
                .into_iter()
                .map(|n| (0..width.keep_heads(n)).collect())
                .collect(),
            neurons: self
                .layer_intermediate_sizes()
                .into_iter()
                .map(|n| (0..width.keep_neurons(n)).collect())
                .collect(),
        };
        self.select_units(&selection)
    }

    /// The smaller model computing what `forward_masked(input, masks)` computes (the attention
    /// mask aside): the width is applied, each unit's mask value is folded into its outgoing
    /// weights, and units whose mask is zero are removed. With 0/1 masks this is plain physical
    /// pruning; with deterministic [hard-concrete gates](crate::nn::gates::HardConcreteGates)
    /// it turns a gated model into a dense one.
    ///
    /// # Panics
    /// When a mask's shape does not fit the model.
    pub fn prune_masked(&self, masks: &BertMasks) -> Bert {
        let rows = |mask: &Option<Tensor<2>>| -> Option<(usize, Vec<f32>)> {
            let mask = mask.as_ref()?;
            let [layers, width] = mask.dims();
            assert_eq!(layers, self.layers.len(), "a mask of {layers} rows");
            let values = mask.clone().into_data().convert::<f32>();
            Some((width, values.try_to_vec::<f32>().expect("float mask")))
        };
        let (heads, neurons) = (rows(&masks.heads), rows(&masks.neurons));
        let width = masks.width.unwrap_or(Width::uniform(1.0));
        let picks = self
            .layers
            .iter()
            .enumerate()
            .map(|(l, layer)| {
                let (heads, head_scale) = kept(
                    width.keep_heads(layer.num_heads),
                    heads.as_ref().map(|(w, v)| &v[l * w..(l + 1) * w]),
                );
                let (neurons, neuron_scale) = kept(
                    width.keep_neurons(layer.intermediate_size()),
                    neurons.as_ref().map(|(w, v)| &v[l * w..(l + 1) * w]),
                );
                LayerPick {
                    heads,
                    head_scale,
                    neurons,
                    neuron_scale,
                }
            })
            .collect();
        self.pick(picks)
    }

    /// Parameters by part, embeddings apart.
    pub fn parameter_count(&self) -> ParameterCount {
        let linear = |l: &Linear| {
            l.weight.lazy_shape().num_elements()
                + l.bias.as_ref().map_or(0, |b| b.lazy_shape().num_elements())
        };
        let norm = |n: &burn::nn::LayerNorm| {
            n.gamma.lazy_shape().num_elements()
                + n.beta.as_ref().map_or(0, |b| b.lazy_shape().num_elements())
        };
        let e = &self.embeddings;
        let mut count = ParameterCount {
            embeddings: e.word_embeddings.weight.lazy_shape().num_elements()
                + e.position_embeddings.weight.lazy_shape().num_elements()
                + e.token_type_embeddings.weight.lazy_shape().num_elements()
                + norm(&e.layer_norm),
            other: self.pooler.as_ref().map_or(0, linear),
            ..ParameterCount::default()
        };
        for layer in &self.layers {
            count.attention += [
                &layer.query,
                &layer.key,
                &layer.value,
                &layer.attention_output,
            ]
            .into_iter()
            .map(linear)
            .sum::<usize>();
            count.feed_forward += linear(&layer.intermediate) + linear(&layer.output);
            count.other += norm(&layer.attention_norm) + norm(&layer.output_norm);
        }
        count
    }

    fn pick(&self, picks: Vec<LayerPick>) -> Bert {
        Bert {
            embeddings: self.embeddings.clone(),
            layers: self
                .layers
                .iter()
                .zip(picks)
                .map(|(layer, pick)| pick_layer(layer, pick))
                .collect(),
            pooler: self.pooler.clone(),
            pad_token_id: self.pad_token_id,
            positions: self.positions,
        }
    }
}

/// The first `n` units with their mask values, dropping zeros; no scale when every kept
/// value is 1.
fn kept(n: usize, mask: Option<&[f32]>) -> (Vec<usize>, Option<Vec<f32>>) {
    let Some(mask) = mask else {
        return ((0..n).collect(), None);
    };
    assert!(
        mask.len() >= n,
        "a mask of {} columns for {n} units",
        mask.len()
    );
    let units: Vec<usize> = (0..n).filter(|&i| mask[i] != 0.0).collect();
    let scale: Vec<f32> = units.iter().map(|&i| mask[i]).collect();
    let scale = scale.iter().any(|&s| s != 1.0).then_some(scale);
    (units, scale)
}

fn pick_layer(layer: &BertLayer, pick: LayerPick) -> BertLayer {
    check_indices(&pick.heads, layer.num_heads, "head");
    check_indices(&pick.neurons, layer.intermediate_size(), "neuron");
    let d = layer.head_dim();
    let columns: Vec<usize> = pick
        .heads
        .iter()
        .flat_map(|&h| h * d..(h + 1) * d)
        .collect();
    let column_scale = pick.head_scale.map(|scale| {
        scale
            .iter()
            .flat_map(|&s| std::iter::repeat_n(s, d))
            .collect::<Vec<_>>()
    });
    BertLayer {
        query: take_outputs(&layer.query, &columns),
        key: take_outputs(&layer.key, &columns),
        value: take_outputs(&layer.value, &columns),
        attention_output: take_inputs(&layer.attention_output, &columns, column_scale),
        attention_norm: layer.attention_norm.clone(),
        intermediate: take_outputs(&layer.intermediate, &pick.neurons),
        output: take_inputs(&layer.output, &pick.neurons, pick.neuron_scale),
        output_norm: layer.output_norm.clone(),
        attention_dropout: layer.attention_dropout.clone(),
        dropout: layer.dropout.clone(),
        num_heads: pick.heads.len(),
        hidden_act: layer.hidden_act,
    }
}

fn check_indices(indices: &[usize], count: usize, what: &str) {
    let mut seen = vec![false; count];
    for &i in indices {
        assert!(i < count, "{what} {i} of a layer with {count}");
        assert!(!seen[i], "{what} {i} selected twice");
        seen[i] = true;
    }
}

/// `tensor` restricted to `indices` along `dim` (contiguous, detached).
fn take<const D: usize>(tensor: Tensor<D>, dim: usize, indices: &[usize]) -> Tensor<D> {
    let device = tensor.device();
    if indices.is_empty() {
        let mut dims = tensor.dims();
        dims[dim] = 0;
        return Tensor::zeros(dims, &device);
    }
    let indices: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
    let n = indices.len();
    let indices = Tensor::<1, Int>::from_data(TensorData::new(indices, [n]), &device);
    // Detached again: on an autodiff device the result of `select` is not a leaf, and a new
    // parameter must be one.
    tensor.detach().select(dim, indices).detach()
}

/// A linear layer keeping the output features `columns`.
fn take_outputs(layer: &Linear, columns: &[usize]) -> Linear {
    Linear {
        weight: Param::from_tensor(take(layer.weight.val(), 1, columns)),
        bias: layer
            .bias
            .as_ref()
            .map(|b| Param::from_tensor(take(b.val(), 0, columns))),
    }
}

/// A linear layer keeping the input features `rows`, each row multiplied by its `scale`.
fn take_inputs(layer: &Linear, rows: &[usize], scale: Option<Vec<f32>>) -> Linear {
    let weight = take(layer.weight.val(), 0, rows);
    let weight = match scale {
        Some(scale) => {
            let n = scale.len();
            let device = weight.device();
            weight * Tensor::<2>::from_data(TensorData::new(scale, [n, 1]), &device)
        }
        None => weight,
    };
    Linear {
        weight: Param::from_tensor(weight.detach()),
        bias: layer
            .bias
            .as_ref()
            .map(|b| Param::from_tensor(b.val().detach())),
    }
}
