//! Attention masks (boolean, additive, per example), head and neuron masks against removed
//! units, and the training-path attention with dropout.

use burnlp_core::burn::tensor::activation::gelu;
use burnlp_core::burn::tensor::{Bool, Int, Tensor, TensorData};
use burnlp_core::device;
use burnlp_core::nn::bert::{AttentionMask, BertInput, BertMasks, Width};
use burnlp_core::nn::prune::UnitSelection;

use super::{FFN, HEADS, config, input, max_diff, model, ones_except, values};

#[test]
fn masks_of_ones_equal_no_mask_exactly() {
    let device = device::cpu();
    let model = model(2, &device);
    let plain = model.forward(input(&device));
    let masks = BertMasks::default()
        .with_heads(Tensor::ones([2, HEADS], &device))
        .with_neurons(Tensor::ones([2, FFN], &device))
        .with_width(Width::uniform(1.0));
    let masked = model.forward_masked(input(&device), &masks);
    assert_eq!(values(plain.hidden), values(masked.hidden));
    assert_eq!(
        values(plain.pooled.unwrap()),
        values(masked.pooled.unwrap())
    );
}

#[test]
fn zeroing_a_head_or_neuron_equals_removing_it() {
    let device = device::cpu();
    let model = model(2, &device);
    for (layer, head) in [(0, 0), (0, 2), (1, 3)] {
        let masks =
            BertMasks::default().with_heads(ones_except(2, HEADS, &[(layer, head)], &device));
        let masked = model.forward_masked(input(&device), &masks).hidden;
        let mut selection = UnitSelection::all(&model);
        selection.heads[layer].retain(|&h| h != head);
        let removed = model.select_units(&selection);
        assert_eq!(removed.layer_heads()[layer], HEADS - 1);
        let diff = max_diff(masked, removed.forward(input(&device)).hidden);
        assert!(diff < 1e-5, "head {head} of layer {layer}: {diff}");
    }
    let masks = BertMasks::default().with_neurons(ones_except(2, FFN, &[(1, 5), (1, 0)], &device));
    let masked = model.forward_masked(input(&device), &masks).hidden;
    let mut selection = UnitSelection::all(&model);
    selection.neurons[1].retain(|&i| i != 5 && i != 0);
    let diff = max_diff(
        masked,
        model
            .select_units(&selection)
            .forward(input(&device))
            .hidden,
    );
    assert!(diff < 1e-5, "neurons: {diff}");
}

#[test]
fn a_diagonal_mask_makes_each_position_attend_to_itself() {
    let device = device::cpu();
    let one = model(1, &device);
    let input = BertInput::from_rows(&[vec![2, 5, 7, 9]], 0, &device);
    let eye: Vec<bool> = (0..16).map(|k| k / 4 == k % 4).collect();
    let diagonal = Tensor::<2, Bool>::from_bool(TensorData::new(eye, [4, 4]), &device);
    let masks = BertMasks::default().with_attention(AttentionMask::allowed(diagonal));
    let got = one.forward_masked(input.clone(), &masks).hidden;

    // Attention to oneself alone returns one's own value vector.
    let e = &one.embeddings;
    let positions = Tensor::<1, Int>::arange(0..4, &device).unsqueeze::<2>();
    let h0 = e.layer_norm.forward(
        e.word_embeddings.forward(input.input_ids.clone())
            + e.position_embeddings.forward(positions)
            + e.token_type_embeddings
                .forward(Tensor::<2, Int>::zeros([1, 4], &device)),
    );
    let layer = &one.layers[0];
    let attended = layer.attention_norm.forward(
        layer
            .attention_output
            .forward(layer.value.forward(h0.clone()))
            + h0,
    );
    let inner = gelu(layer.intermediate.forward(attended.clone()));
    let expected = layer
        .output_norm
        .forward(layer.output.forward(inner) + attended);
    let diff = max_diff(got, expected);
    assert!(diff < 1e-5, "{diff}");

    // Deeper: a position's output ignores every other token.
    let model = model(2, &device);
    let other = BertInput::from_rows(&[vec![2, 30, 7, 41]], 0, &device);
    let a = model.forward_masked(input, &masks).hidden;
    let b = model.forward_masked(other, &masks).hidden;
    for position in [0, 2] {
        let diff = max_diff(
            a.clone().slice([0..1, position..position + 1]),
            b.clone().slice([0..1, position..position + 1]),
        );
        assert!(diff < 1e-6, "position {position} changed by {diff}");
    }
}

#[test]
fn additive_and_boolean_masks_agree_and_keep_padding_masked() {
    let device = device::cpu();
    let model = model(2, &device);
    let seq = 5;
    let window = AttentionMask::local_window(seq, 1, &device);
    let AttentionMask::Allowed(allowed) = window.clone() else {
        unreachable!()
    };
    let additive =
        Tensor::<3>::zeros([1, seq, seq], &device).mask_fill(allowed.bool_not(), f32::NEG_INFINITY);
    let by_bool = model
        .forward_masked(
            input(&device),
            &BertMasks::default().with_attention(window.clone()),
        )
        .hidden;
    let by_bias = model
        .forward_masked(
            input(&device),
            &BertMasks::default().with_attention(AttentionMask::additive_batched(additive)),
        )
        .hidden;
    assert!(max_diff(by_bool.clone(), by_bias) < 1e-6);
    // An all-zero additive mask is no mask.
    let zeros = AttentionMask::additive(Tensor::zeros([seq, seq], &device));
    let plain = model.forward(input(&device)).hidden;
    let zero = model
        .forward_masked(input(&device), &BertMasks::default().with_attention(zeros))
        .hidden;
    assert!(max_diff(plain.clone(), zero) < 1e-6);
    assert!(
        max_diff(plain, by_bool.clone()) > 1e-3,
        "the window changes something"
    );

    // The second row has 3 real tokens and 2 padding: its real outputs equal an unpadded run
    // with the same window.
    let short = BertInput::from_rows(&[vec![3, 4, 6]], 0, &device);
    let alone = model
        .forward_masked(
            short,
            &BertMasks::default().with_attention(AttentionMask::local_window(3, 1, &device)),
        )
        .hidden;
    let diff = max_diff(alone, by_bool.slice([1..2, 0..3]));
    assert!(diff < 1e-5, "padding leaked through the window: {diff}");
}

#[test]
fn batched_masks_apply_per_example() {
    let device = device::cpu();
    let model = model(2, &device);
    let pairs = vec![
        vec![(0, 0), (1, 1), (1, 0), (2, 2), (3, 3), (4, 4), (4, 2)],
        (0..3).flat_map(|i| (0..3).map(move |j| (i, j))).collect(),
    ];
    let masks = BertMasks::default().with_attention(AttentionMask::from_pairs(&pairs, 5, &device));
    let batched = model.forward_masked(input(&device), &masks).hidden;
    // Example 1 lets its 3 real tokens see each other: exactly the plain padded run.
    let plain = model.forward(input(&device)).hidden;
    let diff = max_diff(
        batched.clone().slice([1..2, 0..3]),
        plain.slice([1..2, 0..3]),
    );
    assert!(diff < 1e-5, "{diff}");
    // Example 0 alone with its own mask.
    let first = BertInput::from_rows(&[vec![2, 5, 7, 9, 11]], 0, &device);
    let alone = model
        .forward_masked(
            first,
            &BertMasks::default().with_attention(AttentionMask::from_pairs(
                &pairs[..1],
                5,
                &device,
            )),
        )
        .hidden;
    assert!(max_diff(alone, batched.narrow(0, 0, 1)) < 1e-5);
}

#[test]
fn masked_attention_with_dropout_on_the_training_path_stays_finite() {
    let device = device::cpu().autodiff();
    device.seed(2);
    let model = config(2).with_attention_dropout(0.1).init(&device);
    let eye: Vec<bool> = (0..25).map(|k| k / 5 == k % 5).collect();
    let diagonal = Tensor::<2, Bool>::from_bool(TensorData::new(eye, [5, 5]), &device);
    let additive =
        Tensor::<2>::zeros([5, 5], &device).mask_fill(diagonal.bool_not(), f32::NEG_INFINITY);
    let masks = BertMasks::default().with_attention(AttentionMask::additive(additive));
    let hidden = model.forward_masked(input(&device), &masks).hidden;
    let grads = hidden.clone().sum().backward();
    assert!(values(hidden.inner()).iter().all(|v| v.is_finite()));
    let grad = model.layers[0].query.weight.val().grad(&grads).unwrap();
    assert!(values(grad).iter().all(|v| v.is_finite()));
}

/// A model on the training (autodiff) device can be cut too, and the cut model trains: its
/// parameters are leaves (ml-prune met "Can't convert a non leaf tensor into a tracked tensor").
#[test]
fn units_are_selected_on_an_autodiff_device() {
    let device = device::cpu().autodiff();
    let model = model(2, &device);
    let mut selection = UnitSelection::all(&model);
    selection.heads[0].retain(|&h| h != 1);
    selection.neurons[1].retain(|&i| i % 2 == 0);
    let pruned = model.select_units(&selection);
    assert_eq!(pruned.layer_heads()[0], HEADS - 1);
    let loss = pruned.forward(input(&device)).hidden.sum();
    let grads = loss.backward();
    let layer = &pruned.layers[1];
    assert!(
        layer.output.weight.grad(&grads).is_some(),
        "the cut FFN output layer gets a gradient"
    );
}
