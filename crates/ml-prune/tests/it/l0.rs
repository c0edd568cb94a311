//! L0 gates: the pruned model computes what the gated one computes on the kept units, and
//! training moves the expected number of open gates to the budget.

use burnlp_core::burn::module::Param;
use burnlp_core::burn::tensor::{Tensor, TensorData};
use burnlp_core::nn::prune::UnitSelection;
use ml_prune::l0::{GatedClassifier, learn_and_prune};
use ml_prune::{PruneConfig, Units};

use crate::common::{tiny_classifier, tiny_task};

fn max_diff(a: Tensor<2>, b: Tensor<2>) -> f32 {
    (a - b).abs().max().into_scalar::<f32>()
}

#[test]
fn pruning_folds_the_deterministic_gates_of_the_kept_units() {
    let _rng = crate::device_rng();
    let device = burnlp_core::device::cpu();
    let model = tiny_classifier(&device, 4);
    let mut gated = GatedClassifier::new(model, Units::Both, 0.1, &device);
    // Heads: layer 0 keeps 0 and 2 (gate 1 and a fractional 0.5), layer 1 keeps 3 (gate 1);
    // the others are closed (log α = −10 gives a deterministic gate of exactly 0).
    let heads = vec![10.0f32, -10.0, 0.0, -10.0, -10.0, -10.0, -10.0, 10.0];
    let mut neurons = vec![-10.0f32; 16];
    for i in [0, 3, 4, 9, 15] {
        neurons[i] = 10.0;
    }
    neurons[4] = 0.0;
    let set = |gates: &mut Option<burnlp_core::nn::gates::HardConcreteGates>, v: Vec<f32>, w| {
        gates.as_mut().unwrap().log_alpha =
            Param::from_tensor(Tensor::from_data(TensorData::new(v, [2, w]), &device));
    };
    set(&mut gated.head_gates, heads, 4);
    set(&mut gated.neuron_gates, neurons, 8);
    let selection = UnitSelection {
        heads: vec![vec![0, 2], vec![3]],
        neurons: vec![vec![0, 3, 4], vec![1, 7]],
    };
    let pruned = gated.prune(&selection);
    assert_eq!(pruned.encoder.layer_heads(), vec![2, 1]);
    assert_eq!(pruned.encoder.layer_intermediate_sizes(), vec![3, 2]);
    let input = || {
        burnlp_core::nn::bert::BertInput::from_rows(&[vec![2, 7, 9, 3], vec![2, 11, 3]], 0, &device)
    };
    let gated_logits = gated.forward(input());
    assert!(max_diff(gated_logits.clone(), pruned.forward(input())) < 1e-5);
    // The gate scores are the locations.
    let scores = gated.scores();
    assert_eq!(scores.heads[0], vec![10.0, -10.0, 0.0, -10.0]);
    assert_eq!(scores.neurons[1][7], 10.0);
    // Not the unpruned model's function.
    let plain = gated.model.forward(input());
    assert!(max_diff(gated_logits, plain) > 1e-4);
}

#[test]
fn training_moves_the_open_gates_to_the_budget_and_prunes_to_it() {
    let _rng = crate::device_rng();
    let device = burnlp_core::device::cpu().autodiff();
    let model = tiny_classifier(&device, 5);
    let task = tiny_task(96, 3);
    let dir = tempfile::tempdir().unwrap();
    let config = PruneConfig {
        l0_epochs: 6,
        l0_lambda: 20.0,
        l0_lr: 0.2,
        ..PruneConfig::default()
    };
    let (gated, pruned) = learn_and_prune(&model, &task, 0.5, &config, dir.path()).unwrap();
    let (heads, neurons) = gated.expected_open();
    // Budgets: 4 of 8 heads, 8 of 16 neurons; the gates start at about 7.8 and 15.6 open.
    assert!((heads - 4.0).abs() < 1.5, "expected open heads {heads}");
    assert!(
        (neurons - 8.0).abs() < 3.0,
        "expected open neurons {neurons}"
    );
    assert_eq!(pruned.encoder.layer_heads().iter().sum::<usize>(), 4);
    assert_eq!(
        pruned
            .encoder
            .layer_intermediate_sizes()
            .iter()
            .sum::<usize>(),
        8
    );
    assert!(dir.path().join("metrics.jsonl").exists());
    // The pruned model is still on the training device, ready to be re-fine-tuned.
    let input = text_cls::model::batch_input(&task.train, &[0, 1], 0, &device);
    assert!(pruned.forward(input).sum().is_tracked());
}
