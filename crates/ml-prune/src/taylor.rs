//! First-order Taylor scores of heads and neurons from their **weights**: `Σ_b Σ_{w ∈ unit}
//! |∂L_b/∂w · w|`, the estimated loss change of zeroing each weight, summed over the weights a
//! unit owns (Molchanov et al., "Importance Estimation for Neural Network Pruning", CVPR
//! 2019, per-parameter form).
//!
//! This is the `--method taylor` of `ml-prune prune`, a **reconstruction**: the paper compares
//! "gradient/Taylor-importance" pruning without a published formula (spec §1, unverified);
//! `--method importance` scores the unit masks instead (`|∂L/∂ξ|`, Michel et al. 2019, the
//! spec's §4.2). Both rank the same units; they differ in where the gradient is taken: the mask
//! gradient is the signed sum of `∂L/∂w · w` over a unit's outgoing weights (so it can cancel),
//! this score sums absolute per-weight terms over the incoming and outgoing weights.
//!
//! A head owns its query, key and value columns (weights and biases) and its rows of the
//! attention output projection; a neuron owns its column of the FFN up-projection (and bias)
//! and its row of the down-projection. Shared biases and layer norms belong to no unit.

use burnlp_core::burn::module::Module;
use burnlp_core::burn::nn::{Dropout, Linear};
use burnlp_core::burn::tensor::{Gradients, Tensor};
use burnlp_core::nn::prune::UnitScores;
use text_cls::model::batch_input;
use text_cls::{ClassificationTask, Classifier};

use crate::prune::batch_cross_entropy;

/// The classifier with every dropout probability set to zero, its weights still tracked: a
/// deterministic forward pass whose weight gradients can be read (`freeze` would stop them).
pub fn without_dropout(mut model: Classifier) -> Classifier {
    let off = |d: &mut Dropout| d.prob = 0.0;
    off(&mut model.dropout);
    off(&mut model.encoder.embeddings.dropout);
    for layer in &mut model.encoder.layers {
        off(&mut layer.dropout);
        off(&mut layer.attention_dropout);
    }
    model
}

/// `Σ_b Σ_{w ∈ unit} |∂L_b/∂w · w|` over the first `examples` training examples (batches of
/// the task's size, no dropout), head scores ℓ2-normalised per layer as for
/// [`importance_scores`](crate::prune::importance_scores).
///
/// `model` must live on an autodiff device.
pub fn taylor_scores(model: &Classifier, task: &ClassificationTask, examples: usize) -> UnitScores {
    let model = without_dropout(model.clone());
    let device = model.devices()[0].clone();
    let mut scores = UnitScores::zeros(
        &model.encoder.layer_heads(),
        &model.encoder.layer_intermediate_sizes(),
    );
    let n = examples.min(task.train.ids.len());
    let indices: Vec<usize> = (0..n).collect();
    for batch in indices.chunks(task.batch_size.max(1)) {
        let input = batch_input(&task.train, batch, task.pad_id, &device);
        let logits = model.forward(input);
        let grads = batch_cross_entropy(logits, &task.train, batch, &device).backward();
        for (l, layer) in model.encoder.layers.iter().enumerate() {
            let heads = layer.num_heads;
            let head = [&layer.query, &layer.key, &layer.value]
                .into_iter()
                .map(|linear| output_units(linear, heads, &grads))
                .chain(std::iter::once(input_units(
                    &layer.attention_output,
                    heads,
                    &grads,
                )))
                .reduce(|a, b| a + b);
            let neurons = layer.intermediate_size();
            let neuron = output_units(&layer.intermediate, neurons, &grads)
                + input_units(&layer.output, neurons, &grads);
            add(&mut scores.heads[l], head);
            add(&mut scores.neurons[l], Some(neuron));
        }
    }
    scores.normalize_heads_per_layer()
}

fn add(row: &mut [f32], values: Option<Tensor<1>>) {
    let Some(values) = values else { return };
    let values = values
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("float scores");
    for (r, v) in row.iter_mut().zip(values) {
        *r += v;
    }
}

/// `|g ⊙ w|` of a tracked parameter (zeros when it received no gradient).
fn saliency<const D: usize>(param: Tensor<D>, grads: &Gradients) -> Tensor<D> {
    let value = param.clone().inner();
    match param.grad(grads) {
        Some(grad) => (grad * value).abs(),
        None => value.zeros_like(),
    }
}

/// Per unit, the saliency of the output features it owns (`units` equal blocks of columns of
/// the `[in, out]` weight and of the bias).
fn output_units(linear: &Linear, units: usize, grads: &Gradients) -> Tensor<1> {
    let weight = saliency(linear.weight.val(), grads).sum_dim(0); // [1, out]
    let [_, out] = weight.dims();
    let mut total = weight.reshape([units, out / units.max(1)]).sum_dim(1);
    if let Some(bias) = &linear.bias {
        let bias = saliency(bias.val(), grads);
        total = total + bias.reshape([units, out / units.max(1)]).sum_dim(1);
    }
    total.reshape([units])
}

/// Per unit, the saliency of the input features it owns (`units` equal blocks of rows of the
/// `[in, out]` weight; the bias is shared by all units).
fn input_units(linear: &Linear, units: usize, grads: &Gradients) -> Tensor<1> {
    let weight = saliency(linear.weight.val(), grads).sum_dim(1); // [in, 1]
    let [rows, _] = weight.dims();
    weight
        .reshape([units, rows / units.max(1)])
        .sum_dim(1)
        .reshape([units])
}
