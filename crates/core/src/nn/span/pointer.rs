//! Pointer head: a distribution over memory positions for each query.
//!
//! Vinyals, Fortunato & Jaitly, "Pointer Networks", NeurIPS 2015
//! (<https://arxiv.org/abs/1506.03134>): `u_ij = vᵀ tanh(W₁ e_j + W₂ d_i)` (additive attention of
//! decoder state `d_i` over encoder states `e_j`), `p(j | i) = softmax_j(u_ij)`. The bilinear
//! alternative scores `u_ij = d_iᵀ W e_j` (Luong et al., 2015, "general" attention).

use crate::nn::activation::log_softmax;
use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Bool, Device, Tensor};

use super::MASKED_SCORE;

/// How a query is scored against memory positions.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum PointerScoring {
    /// `vᵀ tanh(W₁ e + W₂ d)`.
    Additive,
    /// `dᵀ W e`.
    Bilinear,
}

/// Configuration of a [`PointerHead`].
#[derive(Config, Debug)]
pub struct PointerHeadConfig {
    /// Size of the query (decoder) vectors.
    pub query_size: usize,
    /// Size of the memory (encoder) vectors.
    pub memory_size: usize,
    /// Size of the additive attention's hidden layer (unused by bilinear scoring).
    #[config(default = 128)]
    pub hidden_size: usize,
    /// The scoring function.
    #[config(default = "PointerScoring::Additive")]
    pub scoring: PointerScoring,
}

impl PointerHeadConfig {
    /// A freshly initialised head.
    pub fn init(&self, device: &Device) -> PointerHead {
        let linear = |d_in, d_out| LinearConfig::new(d_in, d_out).with_bias(false).init(device);
        match self.scoring {
            PointerScoring::Additive => PointerHead {
                memory_proj: linear(self.memory_size, self.hidden_size),
                query_proj: Some(linear(self.query_size, self.hidden_size)),
                v: Some(linear(self.hidden_size, 1)),
            },
            PointerScoring::Bilinear => PointerHead {
                memory_proj: linear(self.memory_size, self.query_size),
                query_proj: None,
                v: None,
            },
        }
    }
}

/// A pointer head; see the module docs.
#[derive(Module, Debug)]
pub struct PointerHead {
    /// `W₁` (additive, memory → hidden) or `W` (bilinear, memory → query space).
    pub memory_proj: Linear,
    /// `W₂` (additive only): query → hidden.
    pub query_proj: Option<Linear>,
    /// `v` (additive only): hidden → 1.
    pub v: Option<Linear>,
}

impl PointerHead {
    /// Unnormalised scores of every memory position for every query (no masking).
    ///
    /// # Shapes
    /// - `query`: `[batch, queries, query_size]`, `memory`: `[batch, positions, memory_size]`
    /// - output: `[batch, queries, positions]`
    pub fn scores(&self, query: Tensor<3>, memory: Tensor<3>) -> Tensor<3> {
        let keys = self.memory_proj.forward(memory);
        match (&self.query_proj, &self.v) {
            (Some(query_proj), Some(v)) => {
                // [batch, 1, positions, hidden] + [batch, queries, 1, hidden]
                let hidden = (keys.unsqueeze_dim::<4>(1)
                    + query_proj.forward(query).unsqueeze_dim::<4>(2))
                .tanh();
                v.forward(hidden).squeeze_dim::<3>(3)
            }
            // [batch, queries, query_size] @ [batch, query_size, positions]
            _ => query.matmul(keys.swap_dims(1, 2)),
        }
    }

    /// Log-probabilities over memory positions for every query.
    ///
    /// Masked positions get a log-probability of about `-1e9` (probability exactly 0 after
    /// `exp`), never `-inf`, so products with one-hot targets stay finite. A fully masked memory
    /// row gives finite but meaningless values; leave such rows out of the loss.
    ///
    /// # Shapes
    /// - `query`: `[batch, queries, query_size]`, `memory`: `[batch, positions, memory_size]`
    /// - `mask`: `[batch, positions]`, true for positions that may be pointed at
    /// - output: `[batch, queries, positions]`
    pub fn forward(&self, query: Tensor<3>, memory: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<3> {
        let [batch, queries, _] = query.dims();
        let [_, positions, _] = memory.dims();
        assert_eq!(
            mask.dims(),
            [batch, positions],
            "mask must be [batch, positions]"
        );
        let scores = self.scores(query, memory);
        let blocked = mask
            .bool_not()
            .unsqueeze_dim::<3>(1)
            .expand([batch, queries, positions]);
        log_softmax(scores.mask_fill(blocked, MASKED_SCORE), 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, TensorData};

    fn setup(scoring: PointerScoring) -> (PointerHead, Tensor<3>, Tensor<3>, Tensor<2, Bool>) {
        let device = crate::device::cpu();
        device.seed(9);
        let head = PointerHeadConfig::new(4, 3)
            .with_hidden_size(5)
            .with_scoring(scoring)
            .init(&device);
        let query = Tensor::<3>::random([2, 3, 4], Distribution::Default, &device);
        let memory = Tensor::<3>::random([2, 6, 3], Distribution::Default, &device);
        let mask = Tensor::<2, Bool>::from_data(
            TensorData::from([
                [true, true, false, true, false, false],
                [false, false, false, false, false, false],
            ]),
            &device,
        );
        (head, query, memory, mask)
    }

    #[test]
    fn log_probabilities_normalise_over_unmasked_positions() {
        for scoring in [PointerScoring::Additive, PointerScoring::Bilinear] {
            let (head, query, memory, mask) = setup(scoring);
            let log_probs = head.forward(query, memory, mask);
            assert_eq!(log_probs.dims(), [2, 3, 6]);
            let values = log_probs.clone().into_data().try_to_vec::<f32>().unwrap();
            assert!(
                values.iter().all(|v| v.is_finite()),
                "{scoring:?}: {values:?}"
            );
            let probs = log_probs.exp();
            let first = probs.clone().slice([0..1, 0..3, 0..6]);
            let sums = first
                .clone()
                .sum_dim(2)
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-5), "{sums:?}");
            let masked: f32 = [2, 4, 5]
                .iter()
                .map(|&j| {
                    first
                        .clone()
                        .slice([0..1, 0..3, j..j + 1])
                        .sum()
                        .into_scalar::<f32>()
                })
                .sum();
            assert_eq!(masked, 0.0);
        }
    }

    #[test]
    fn additive_scores_follow_the_formula() {
        let (head, query, memory, _) = setup(PointerScoring::Additive);
        let scores = head.scores(query.clone(), memory.clone());
        // Recompute u_{0,1,2} by hand from the weights.
        let w1 = head
            .memory_proj
            .weight
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let w2 = head
            .query_proj
            .as_ref()
            .unwrap()
            .weight
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let v = head
            .v
            .as_ref()
            .unwrap()
            .weight
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let d = query
            .slice([0..1, 1..2, 0..4])
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let e = memory
            .slice([0..1, 2..3, 0..3])
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let expected: f32 = (0..5)
            .map(|h| {
                let a: f32 = (0..3).map(|k| e[k] * w1[k * 5 + h]).sum::<f32>()
                    + (0..4).map(|k| d[k] * w2[k * 5 + h]).sum::<f32>();
                a.tanh() * v[h]
            })
            .sum();
        let got = scores.slice([0..1, 1..2, 2..3]).into_scalar::<f32>();
        assert!((got - expected).abs() < 1e-5, "{got} vs {expected}");
    }
}
