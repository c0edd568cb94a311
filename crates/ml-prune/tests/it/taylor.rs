//! Per-weight Taylor scores: a unit whose weights are all zero scores exactly zero, head scores
//! are normalised per layer, and the scores rank single-unit removals like the loss does at
//! the extremes.

use burnlp_core::burn::module::{Module, Param};
use burnlp_core::burn::tensor::Tensor;
use burnlp_core::nn::prune::UnitSelection;
use ml_prune::prune::pruned_classifier;
use ml_prune::taylor::taylor_scores;

use crate::common::{tiny_classifier, tiny_task};

fn zero_columns(t: Tensor<2>, dim: usize, range: std::ops::Range<usize>) -> Tensor<2> {
    let [rows, cols] = t.dims();
    let device = t.device();
    let mut mask = vec![1f32; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            let index = if dim == 1 { c } else { r };
            if range.contains(&index) {
                mask[r * cols + c] = 0.0;
            }
        }
    }
    let mask = Tensor::<2>::from_data(
        burnlp_core::burn::tensor::TensorData::new(mask, [rows, cols]),
        &device,
    );
    t * mask
}

#[test]
fn a_unit_without_weights_scores_zero_and_heads_are_normalised() {
    let _rng = crate::device_rng();
    let device = burnlp_core::device::cpu().autodiff();
    let mut model = tiny_classifier(&device, 3);
    // Neuron 5 of layer 1: its up-projection column and bias, and its down-projection row.
    let layer = &mut model.encoder.layers[1];
    let up = zero_columns(layer.intermediate.weight.val(), 1, 5..6).detach();
    layer.intermediate.weight = Param::from_tensor(up);
    let bias = layer.intermediate.bias.as_ref().unwrap().val().detach();
    let mut b = bias
        .clone()
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap();
    b[5] = 0.0;
    layer.intermediate.bias = Some(Param::from_tensor(Tensor::from_data(
        burnlp_core::burn::tensor::TensorData::new(b, [8]),
        &device,
    )));
    let down = zero_columns(layer.output.weight.val(), 0, 5..6).detach();
    layer.output.weight = Param::from_tensor(down);

    let task = tiny_task(48, 1);
    let scores = taylor_scores(&model, &task, 48);
    assert_eq!(scores.neurons[1][5], 0.0, "{:?}", scores.neurons[1]);
    assert!(
        scores
            .neurons
            .iter()
            .flatten()
            .filter(|&&v| v > 0.0)
            .count()
            == 15,
        "{:?}",
        scores.neurons
    );
    for row in &scores.heads {
        let norm: f32 = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{row:?}");
    }
}

#[test]
fn the_lowest_scored_neuron_costs_less_loss_than_the_highest() {
    let _rng = crate::device_rng();
    let device = burnlp_core::device::cpu().autodiff();
    let model = tiny_classifier(&device, 11);
    let task = tiny_task(96, 2);
    let scores = taylor_scores(&model, &task, 96);
    let flat: Vec<(usize, usize, f32)> = scores
        .neurons
        .iter()
        .enumerate()
        .flat_map(|(l, row)| row.iter().enumerate().map(move |(i, &v)| (l, i, v)))
        .collect();
    let lowest = flat.iter().min_by(|a, b| a.2.total_cmp(&b.2)).unwrap();
    let highest = flat.iter().max_by(|a, b| a.2.total_cmp(&b.2)).unwrap();
    let loss = |model: &text_cls::Classifier| -> f32 {
        let valid = model.valid();
        let all: Vec<usize> = (0..task.train.ids.len()).collect();
        let d = valid.devices()[0].clone();
        let input = text_cls::model::batch_input(&task.train, &all, 0, &d);
        let logits = valid.forward(input);
        let gold: Vec<i64> = all.iter().map(|&i| task.train.labels[i] as i64).collect();
        let targets = Tensor::<1, burnlp_core::burn::tensor::Int>::from_data(
            burnlp_core::burn::tensor::TensorData::new(gold, [all.len()]),
            &d,
        )
        .one_hot(3)
        .float();
        burnlp_core::burn::tensor::loss::cross_entropy_with_logits(logits, targets)
            .into_scalar::<f32>()
    };
    let base = loss(&model);
    let without = |(l, i): (usize, usize)| {
        let mut selection = UnitSelection::all(&model.encoder);
        selection.neurons[l].retain(|&j| j != i);
        (loss(&pruned_classifier(&model, &selection)) - base).abs()
    };
    let low = without((lowest.0, lowest.1));
    let high = without((highest.0, highest.1));
    assert!(
        low < high,
        "removing the lowest changes the loss by {low}, the highest by {high}"
    );
}
