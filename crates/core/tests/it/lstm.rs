//! The bidirectional LSTM over padded batches: every sequence gives what burn's own `BiLstm`
//! gives on that sequence alone (packed-sequence semantics), padding outputs and empty
//! sequences are zero, and the parameters are burn's `BiLstm`'s.

use burnlp_core::burn::module::Module;
use burnlp_core::burn::nn::{BiLstm as BurnBiLstm, BiLstmConfig as BurnBiLstmConfig};
use burnlp_core::burn::tensor::{Distribution, Tensor, TensorData};
use burnlp_core::device;
use burnlp_core::nn::lstm::{BiLstmConfig, SequenceLengths};

fn max_abs_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    (a - b).abs().max().into_scalar::<f32>()
}

#[test]
fn padded_batch_equals_each_sequence_alone() {
    let device = device::cpu();
    device.seed(3);
    let (d_input, d_hidden) = (5, 4);
    let lstm = BiLstmConfig::new(d_input, d_hidden).init(&device);
    let reference = BurnBiLstm {
        forward: lstm.forward.clone(),
        reverse: lstm.reverse.clone(),
        d_hidden,
        batch_first: true,
    };
    let lengths = [6, 2, 0, 4, 1];
    let width = 6;
    // Padding positions hold large values that must not reach any real position.
    let x = Tensor::<3>::random(
        [5, width, d_input],
        Distribution::Uniform(-1.0, 1.0),
        &device,
    );
    let garbage = Tensor::<3>::random(
        [5, width, d_input],
        Distribution::Uniform(5.0, 9.0),
        &device,
    );
    let real = Tensor::<3>::from_data(
        TensorData::new(
            lengths
                .iter()
                .flat_map(|&n| (0..width).map(move |p| if p < n { 1.0f32 } else { 0.0 }))
                .collect::<Vec<_>>(),
            [5, width, 1],
        ),
        &device,
    );
    let x = x * real.clone() + garbage * (real.neg() + 1.0);
    let out = lstm.forward(x.clone(), &SequenceLengths::new(&lengths, width, &device));
    assert_eq!(out.hidden.dims(), [5, width, 2 * d_hidden]);
    assert_eq!(out.last.dims(), [5, 2 * d_hidden]);
    for (b, &n) in lengths.iter().enumerate() {
        let row = out.hidden.clone().slice(b..b + 1);
        let last = out.last.clone().slice(b..b + 1);
        if n < width {
            let padding = row
                .clone()
                .slice([0..1, n..width])
                .abs()
                .max()
                .into_scalar::<f32>();
            assert_eq!(padding, 0.0, "sequence {b}: padding outputs");
        }
        if n == 0 {
            assert_eq!(last.abs().max().into_scalar::<f32>(), 0.0, "empty sequence");
            continue;
        }
        let alone = x.clone().slice([b..b + 1, 0..n]);
        let (expected, state) = reference.forward(alone, None);
        let diff = max_abs_diff(row.slice([0..1, 0..n]), expected);
        assert!(diff < 1e-6, "sequence {b}: outputs differ by {diff}");
        // burn's final states: [direction, batch, d_hidden].
        let expected_last = state.hidden.reshape([1, 2 * d_hidden]);
        let diff = max_abs_diff(last, expected_last);
        assert!(diff < 1e-6, "sequence {b}: final states differ by {diff}");
    }
}

#[test]
fn parameters_are_burns_bilstm_parameters() {
    let device = device::cpu();
    let lstm = BiLstmConfig::new(3, 2).init(&device);
    let burn_lstm = BurnBiLstmConfig::new(3, 2, true).init(&device);
    assert_eq!(lstm.num_params(), burn_lstm.num_params());
    assert_eq!(lstm.num_params(), 2 * 4 * (3 * 2 + 2 + 2 * 2 + 2));
}

#[test]
fn gradients_reach_both_directions() {
    let device = device::cpu().autodiff();
    device.seed(4);
    let lstm = BiLstmConfig::new(3, 2).init(&device);
    let x = Tensor::<3>::random([2, 4, 3], Distribution::Default, &device);
    let out = lstm.forward(x, &SequenceLengths::new(&[4, 2], 4, &device));
    let grads = (out.hidden.sum() + out.last.sum()).backward();
    for (name, cell) in [("forward", &lstm.forward), ("reverse", &lstm.reverse)] {
        let weight = cell.input_gate.input_transform.weight.val();
        let grad = weight.grad(&grads).expect("the cell took part in the loss");
        let norm = grad.abs().sum().into_scalar::<f32>();
        assert!(norm > 0.0, "{name} cell has no gradient");
    }
}
