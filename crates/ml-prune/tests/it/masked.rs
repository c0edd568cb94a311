//! The masked classifier forward (what importance differentiates) is the classifier's own
//! forward, and masking units to zero equals slicing them out.

use burnlp_core::burn::tensor::{Tensor, TensorData};
use burnlp_core::nn::bert::{BertConfig, BertInput, BertMasks};
use burnlp_core::nn::prune::UnitSelection;
use ml_prune::prune::{masked_logits, pruned_classifier};
use text_cls::{ClassifierSpec, Head, Pooling};

fn max_diff(a: Tensor<2>, b: Tensor<2>) -> f32 {
    (a - b).abs().max().into_scalar::<f32>()
}

#[test]
fn masked_logits_equal_the_forward_and_zero_masks_equal_pruning() {
    let _rng = crate::device_rng();
    let device = burnlp_core::device::cpu();
    device.seed(5);
    for pooling in [Pooling::Cls, Pooling::Mean] {
        let spec = ClassifierSpec {
            encoder: BertConfig::new(50, 16, 2, 4, 8),
            labels: vec!["a".into(), "b".into(), "c".into()],
            head: Head::Classification,
            pooling,
            dropout: 0.0,
            max_length: 16,
        };
        let model = spec.init(&device);
        let input = || BertInput::from_rows(&[vec![2, 7, 9, 3], vec![2, 11, 3]], 0, &device);
        let plain = model.forward(input());
        let ones = masked_logits(&model, input(), &BertMasks::default());
        assert!(max_diff(plain.clone(), ones) < 1e-6);

        // Drop head 1 of layer 0, heads 0 and 3 of layer 1, neurons 2 and 5 of layer 1.
        let mut heads = vec![1f32; 8];
        heads[1] = 0.0;
        heads[4] = 0.0;
        heads[7] = 0.0;
        let mut neurons = vec![1f32; 16];
        neurons[8 + 2] = 0.0;
        neurons[8 + 5] = 0.0;
        let masks = BertMasks::default()
            .with_heads(Tensor::from_data(TensorData::new(heads, [2, 4]), &device))
            .with_neurons(Tensor::from_data(TensorData::new(neurons, [2, 8]), &device));
        let masked = masked_logits(&model, input(), &masks);
        let selection = UnitSelection {
            heads: vec![vec![0, 2, 3], vec![1, 2]],
            neurons: vec![(0..8).collect(), vec![0, 1, 3, 4, 6, 7]],
        };
        let pruned = pruned_classifier(&model, &selection);
        assert_eq!(pruned.encoder.layer_heads(), vec![3, 2]);
        let sliced = pruned.forward(input());
        assert!(max_diff(masked.clone(), sliced) < 1e-5);
        assert!(max_diff(masked, plain) > 1e-4, "the masks changed nothing");
    }
}
