//! Global selection of heads and neurons to a sparsity, computed by hand.

use burnlp_core::nn::prune::UnitScores;
use ml_prune::{Units, select};

fn scores() -> UnitScores {
    UnitScores {
        heads: vec![vec![0.1, 0.9, 0.5, 0.4], vec![0.3, 0.2, 0.8, 0.0]],
        neurons: vec![vec![1.0, 3.0, 2.0, 0.5, 0.2], vec![0.4, 4.0, 0.1, 0.3, 0.6]],
    }
}

#[test]
fn both_units_keep_the_best_over_all_layers_in_original_order() {
    // 8 heads at sparsity 0.5 keep round(4.0) = 4: 0.9, 0.8, 0.5, 0.4 → layer 0 {1, 2, 3},
    // layer 1 {2}. 10 neurons keep 5: 4.0, 3.0, 2.0, 1.0, 0.6 → layer 0 {0, 1, 2}, layer 1 {1, 4}.
    let kept = select(&scores(), 0.5, Units::Both);
    assert_eq!(kept.heads, vec![vec![1, 2, 3], vec![2]]);
    assert_eq!(kept.neurons, vec![vec![0, 1, 2], vec![1, 4]]);
}

#[test]
fn heads_only_and_ffn_only_leave_the_other_units() {
    // Sparsity 0.3: round(0.7 × 8) = 6 heads (all but 0.1 and 0.0), round(0.7 × 10) = 7 neurons.
    let heads = select(&scores(), 0.3, Units::Heads);
    assert_eq!(heads.heads, vec![vec![1, 2, 3], vec![0, 1, 2]]);
    assert_eq!(heads.neuron_counts(), vec![5, 5]);
    let ffn = select(&scores(), 0.3, Units::Ffn);
    assert_eq!(ffn.head_counts(), vec![4, 4]);
    // Dropped: 0.1 (layer 1, neuron 2), 0.2 (layer 0, neuron 4), 0.3 (layer 1, neuron 3).
    assert_eq!(ffn.neurons, vec![vec![0, 1, 2, 3], vec![0, 1, 4]]);
}
