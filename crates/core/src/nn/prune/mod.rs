//! Structured pruning of the BERT encoder: importance scores, unit selection, reordering and
//! physical removal of attention heads and feed-forward neurons.
//!
//! The pieces (Li et al., "Probing Structured Pruning on Multilingual Pre-trained Models",
//! ACL 2022, §4–6 as reconstructed in the repository's notes):
//! - [`taylor_importance`] / [`TaylorImportance`]: `|∂L/∂ξ|` of head and neuron masks
//!   (Michel et al. 2019), as [`UnitScores`];
//! - [`UnitScores`] → [`UnitSelection`]: every unit ranked per layer, the best fraction per
//!   layer, or the best units over all layers;
//! - `Bert::select_units` keeps (and orders) the selected units by slicing the weights, so
//!   [`Bert::reorder`] (most important first, the model's function unchanged),
//!   [`Bert::prune_masked`] (fold a 0/1 or gate mask into the weights and drop the zeros) and
//!   [`Bert::slice_width`] (Dynamic Sparsification at inference: the first `⌈m·H⌉` heads and
//!   `⌈m·F⌉` neurons) all give a smaller dense encoder that
//!   [`Bert::save_pretrained`](crate::nn::bert::Bert::save_pretrained) writes with per-layer
//!   sizes;
//! - [`ParameterCount`]: parameters with the embeddings counted apart from the encoder layers
//!   ("a fast model is not necessarily small").
//!
//! Learned masks come from [`HardConcreteGates`](crate::nn::gates::HardConcreteGates).

mod importance;
mod surgery;

pub use importance::{TaylorImportance, taylor_importance};
pub use surgery::ParameterCount;

use crate::nn::bert::{Bert, Width};

/// A score per attention head and per feed-forward neuron of every layer (layers may differ
/// in size).
#[derive(Debug, Clone, PartialEq)]
pub struct UnitScores {
    /// `heads[l][h]`: score of head `h` of layer `l`.
    pub heads: Vec<Vec<f32>>,
    /// `neurons[l][i]`: score of neuron `i` of layer `l`.
    pub neurons: Vec<Vec<f32>>,
}

/// Which heads and neurons of every layer to keep, in the order they will have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitSelection {
    /// `heads[l]`: indices of layer `l`'s heads to keep.
    pub heads: Vec<Vec<usize>>,
    /// `neurons[l]`: indices of layer `l`'s neurons to keep.
    pub neurons: Vec<Vec<usize>>,
}

impl UnitScores {
    /// All-zero scores for the given per-layer sizes.
    pub fn zeros(heads: &[usize], neurons: &[usize]) -> Self {
        Self {
            heads: heads.iter().map(|&n| vec![0.0; n]).collect(),
            neurons: neurons.iter().map(|&n| vec![0.0; n]).collect(),
        }
    }

    /// Applies `f` to every score.
    pub fn map(&self, f: impl Fn(f32) -> f32) -> Self {
        let apply = |rows: &Vec<Vec<f32>>| -> Vec<Vec<f32>> {
            rows.iter()
                .map(|row| row.iter().map(|&v| f(v)).collect())
                .collect()
        };
        Self {
            heads: apply(&self.heads),
            neurons: apply(&self.neurons),
        }
    }

    /// Divides each layer's head scores by their ℓ2 norm (Michel et al.'s per-layer
    /// normalisation, which makes heads of different layers comparable); a layer of zeros is
    /// left as it is.
    pub fn normalize_heads_per_layer(mut self) -> Self {
        for row in &mut self.heads {
            let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
            if norm > 0.0 {
                row.iter_mut().for_each(|v| *v /= norm);
            }
        }
        self
    }

    /// Every unit of every layer, most important first (ties keep the original order).
    pub fn ranking(&self) -> UnitSelection {
        self.top_per_layer(Width::uniform(1.0))
    }

    /// The best `⌈m·H_l⌉` heads and `⌈m·F_l⌉` neurons of every layer, best first.
    pub fn top_per_layer(&self, width: Width) -> UnitSelection {
        UnitSelection {
            heads: self
                .heads
                .iter()
                .map(|row| best_first(row, width.keep_heads(row.len())))
                .collect(),
            neurons: self
                .neurons
                .iter()
                .map(|row| best_first(row, width.keep_neurons(row.len())))
                .collect(),
        }
    }

    /// The best `heads` heads and `neurons` neurons over all layers together (global pruning;
    /// normalise the head scores per layer first to compare layers). Each layer lists its
    /// kept units best first; ties go to the earlier layer and unit.
    pub fn top_global(&self, heads: usize, neurons: usize) -> UnitSelection {
        UnitSelection {
            heads: global(&self.heads, heads),
            neurons: global(&self.neurons, neurons),
        }
    }
}

/// Indices of the `keep` largest scores, largest first, ties by index.
fn best_first(scores: &[f32], keep: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order.truncate(keep);
    order
}

fn global(rows: &[Vec<f32>], keep: usize) -> Vec<Vec<usize>> {
    let mut all: Vec<(usize, usize)> = rows
        .iter()
        .enumerate()
        .flat_map(|(l, row)| (0..row.len()).map(move |i| (l, i)))
        .collect();
    all.sort_by(|&(la, ia), &(lb, ib)| {
        rows[lb][ib]
            .total_cmp(&rows[la][ia])
            .then((la, ia).cmp(&(lb, ib)))
    });
    let mut kept = vec![Vec::new(); rows.len()];
    for (l, i) in all.into_iter().take(keep) {
        kept[l].push(i);
    }
    kept
}

impl UnitSelection {
    /// Every unit of a model in its current order (the identity selection).
    pub fn all(encoder: &Bert) -> Self {
        Self {
            heads: encoder
                .layer_heads()
                .into_iter()
                .map(|n| (0..n).collect())
                .collect(),
            neurons: encoder
                .layer_intermediate_sizes()
                .into_iter()
                .map(|n| (0..n).collect())
                .collect(),
        }
    }

    /// Number of kept heads per layer.
    pub fn head_counts(&self) -> Vec<usize> {
        self.heads.iter().map(Vec::len).collect()
    }

    /// Number of kept neurons per layer.
    pub fn neuron_counts(&self) -> Vec<usize> {
        self.neurons.iter().map(Vec::len).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores() -> UnitScores {
        UnitScores {
            heads: vec![vec![0.1, 0.9, 0.5, 0.5], vec![0.3, 0.2, 0.8, 0.0]],
            neurons: vec![vec![1.0, 3.0, 2.0], vec![0.5, 4.0, 0.1]],
        }
    }

    #[test]
    fn ranking_is_best_first_with_ties_in_order() {
        let ranked = scores().ranking();
        assert_eq!(ranked.heads, vec![vec![1, 2, 3, 0], vec![2, 0, 1, 3]]);
        assert_eq!(ranked.neurons, vec![vec![1, 2, 0], vec![1, 0, 2]]);
        let half = scores().top_per_layer(Width::uniform(0.5));
        assert_eq!(half.heads, vec![vec![1, 2], vec![2, 0]]);
        assert_eq!(half.neurons, vec![vec![1, 2], vec![1, 0]]);
    }

    #[test]
    fn global_selection_compares_layers() {
        let kept = scores().top_global(3, 2);
        // 0.9 (layer 0), 0.8 (layer 1), then the tie 0.5/0.5 in layer 0 goes to head 2.
        assert_eq!(kept.heads, vec![vec![1, 2], vec![2]]);
        assert_eq!(kept.head_counts(), vec![2, 1]);
        assert_eq!(kept.neurons, vec![vec![1], vec![1]]);
    }

    #[test]
    fn per_layer_normalisation_has_unit_norm() {
        let normalized = scores().normalize_heads_per_layer();
        for row in &normalized.heads {
            let norm: f32 = row.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-6);
        }
        assert_eq!(normalized.neurons, scores().neurons);
    }
}
