//! Hard-concrete (L0) gates: differentiable stochastic 0/1 masks over structured units.
//!
//! Louizos, Welling and Kingma, "Learning Sparse Neural Networks through L0 Regularization",
//! ICLR 2018 (<https://arxiv.org/abs/1712.01312>); used over attention heads and feed-forward
//! neurons by Wang, Wohlwend and Lei, "Structured Pruning of Large Language Models", EMNLP 2020.
//! Each gate has a learnable location `log α`. During training a gate is
//! `z = min(1, max(0, s (ζ - γ) + γ))` with `s = σ((ln u - ln(1 - u) + log α) / β)`,
//! `u ~ U(0, 1)`; at evaluation it is the deterministic `min(1, max(0, σ(log α)(ζ - γ) + γ))`.
//! The expected number of non-zero gates is `Σ σ(log α - β ln(-γ / ζ))`, the L0 penalty.
//! Defaults: temperature `β = 2/3`, stretch `(γ, ζ) = (-0.1, 1.1)`.
//!
//! The gates are `[rows, units]` (e.g. `[layers, heads]`), the shape
//! [`BertMasks`](crate::nn::bert::BertMasks) takes as head or neuron masks.

use burn::config::Config;
use burn::module::{Flag, Module, Param};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Distribution, Tensor};

/// Configuration of [`HardConcreteGates`].
#[derive(Config, Debug)]
pub struct HardConcreteConfig {
    /// Rows of gates (e.g. layers).
    pub rows: usize,
    /// Gates per row (e.g. heads or feed-forward neurons).
    pub units: usize,
    /// Temperature `β` of the concrete distribution.
    #[config(default = "2.0 / 3.0")]
    pub temperature: f64,
    /// Lower end `γ` of the stretched interval.
    #[config(default = -0.1)]
    pub low: f64,
    /// Upper end `ζ` of the stretched interval.
    #[config(default = 1.1)]
    pub high: f64,
    /// Initial drop rate `p`: `log α` starts at `ln(1 - p) - ln p` (Louizos et al.'s
    /// `droprate_init`), plus normal noise.
    #[config(default = 0.5)]
    pub init_drop_rate: f64,
    /// Standard deviation of the noise on the initial `log α`.
    #[config(default = 0.01)]
    pub init_std: f64,
}

impl HardConcreteConfig {
    /// Gates with `log α ~ N(ln(1 - p) - ln p, init_std)`.
    ///
    /// # Panics
    /// When `init_drop_rate` is not in `(0, 1)`, the temperature is not positive, or the
    /// stretch does not satisfy `γ < 0` and `ζ > 1`.
    pub fn init(&self, device: &Device) -> HardConcreteGates {
        let p = self.init_drop_rate;
        assert!(p > 0.0 && p < 1.0, "init_drop_rate {p} must be in (0, 1)");
        assert!(self.temperature > 0.0, "temperature must be positive");
        assert!(
            self.low < 0.0 && self.high > 1.0,
            "stretch ({}, {}) must contain [0, 1]",
            self.low,
            self.high
        );
        let mean = (1.0 - p).ln() - p.ln();
        let log_alpha = Tensor::random(
            [self.rows, self.units],
            Distribution::Normal(mean, self.init_std),
            device,
        );
        HardConcreteGates {
            log_alpha: Param::from_tensor(log_alpha),
            temperature: self.temperature,
            low: self.low,
            high: self.high,
            training: Param::from_bool(true),
        }
    }
}

/// A `[rows, units]` grid of hard-concrete gates.
#[derive(Module, Debug)]
pub struct HardConcreteGates {
    /// Gate locations `log α`, `[rows, units]`.
    pub log_alpha: Param<Tensor<2>>,
    /// Temperature `β`.
    pub temperature: f64,
    /// Lower end `γ` of the stretched interval.
    pub low: f64,
    /// Upper end `ζ` of the stretched interval.
    pub high: f64,
    /// Whether to sample (as during training); cleared by `freeze`, like dropout's.
    pub training: Param<Flag>,
}

impl HardConcreteGates {
    /// Sampled gates while training (the training flag is set and the device is an autodiff
    /// device, as for dropout), deterministic ones otherwise; `[rows, units]`, in `[0, 1]`.
    pub fn forward(&self) -> Tensor<2> {
        let log_alpha = self.log_alpha.val();
        if self.training.is_enabled() && log_alpha.device().is_autodiff() {
            self.sample()
        } else {
            self.deterministic()
        }
    }

    /// One reparameterised sample of every gate (differentiable in `log α`).
    pub fn sample(&self) -> Tensor<2> {
        let log_alpha = self.log_alpha.val();
        let eps = 1e-6;
        let u = Tensor::random(
            log_alpha.dims(),
            Distribution::Uniform(eps, 1.0 - eps),
            &log_alpha.device(),
        );
        let logistic = u.clone().log() - (u.neg() + 1.0).log();
        let s = sigmoid((logistic + log_alpha) / self.temperature);
        self.stretch_and_clip(s)
    }

    /// The deterministic gates used at evaluation: `min(1, max(0, σ(log α)(ζ - γ) + γ))`.
    pub fn deterministic(&self) -> Tensor<2> {
        self.stretch_and_clip(sigmoid(self.log_alpha.val()))
    }

    /// Probability that each gate is non-zero: `σ(log α - β ln(-γ / ζ))`, `[rows, units]`.
    pub fn open_probability(&self) -> Tensor<2> {
        let shift = self.temperature * (-self.low / self.high).ln();
        sigmoid(self.log_alpha.val() - shift)
    }

    /// The expected number of non-zero gates (the L0 norm's expectation), a scalar `[1]`.
    pub fn expected_l0(&self) -> Tensor<1> {
        self.open_probability().sum()
    }

    /// `(E[‖z‖₀] - target)²`, the penalty that drives the expected number of open gates to
    /// `target` (multiply by a λ, or learn λ as a Lagrange multiplier).
    pub fn l0_penalty(&self, target: f64) -> Tensor<1> {
        (self.expected_l0() - target).square()
    }

    fn stretch_and_clip(&self, s: Tensor<2>) -> Tensor<2> {
        (s * (self.high - self.low) + self.low).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::TensorData;

    use super::*;

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    fn gates(log_alpha: Vec<f32>, device: &Device) -> HardConcreteGates {
        let mut gates = HardConcreteConfig::new(1, log_alpha.len()).init(device);
        let n = log_alpha.len();
        gates.log_alpha = Param::from_tensor(Tensor::from_data(
            TensorData::new(log_alpha, [1, n]),
            device,
        ));
        gates
    }

    #[test]
    fn expected_l0_matches_the_closed_form() {
        let device = crate::device::cpu();
        let log_alpha = vec![-3.0f32, -0.5, 0.0, 1.0, 4.0];
        let g = gates(log_alpha.clone(), &device);
        let (beta, gamma, zeta) = (2.0f64 / 3.0, -0.1f64, 1.1f64);
        let expected: f64 = log_alpha
            .iter()
            .map(|&a| 1.0 / (1.0 + (-(a as f64 - beta * (-gamma / zeta).ln())).exp()))
            .sum();
        let got = g.expected_l0().into_scalar::<f32>() as f64;
        assert!((got - expected).abs() < 1e-5, "{got} vs {expected}");
        // log α = 0: P(open) = σ(-β ln(1/11)) = σ((2/3) ln 11).
        let p = values(g.open_probability())[2] as f64;
        let closed = 1.0 / (1.0 + (-(2.0 / 3.0) * 11f64.ln()).exp());
        assert!((p - closed).abs() < 1e-6);
    }

    #[test]
    fn deterministic_gates_clip_the_stretched_sigmoid() {
        let device = crate::device::cpu();
        let g = gates(vec![-10.0, 0.0, 10.0], &device);
        let z = values(g.deterministic());
        assert_eq!(z[0], 0.0);
        assert!((z[1] - 0.5).abs() < 1e-6);
        assert_eq!(z[2], 1.0);
        // Not training on a plain device: forward is deterministic.
        assert_eq!(values(g.forward()), z);
    }

    #[test]
    fn sampled_gates_are_open_as_often_as_the_closed_form_says() {
        let device = crate::device::cpu();
        device.seed(7);
        let log_alpha = vec![-2.0f32, 0.0, 1.5];
        let g = gates(log_alpha, &device);
        let probabilities = values(g.open_probability());
        let draws = 4000;
        let mut open = [0usize; 3];
        for _ in 0..draws {
            for (count, z) in open.iter_mut().zip(values(g.sample())) {
                assert!((0.0..=1.0).contains(&z));
                *count += usize::from(z > 0.0);
            }
        }
        for (count, p) in open.iter().zip(probabilities) {
            let freq = *count as f32 / draws as f32;
            assert!((freq - p).abs() < 0.03, "open {freq} vs P {p}");
        }
    }

    #[test]
    fn training_gates_sample_and_pass_gradients_to_log_alpha() {
        let device = crate::device::cpu().autodiff();
        device.seed(1);
        let g = HardConcreteConfig::new(2, 3).init(&device);
        let z = g.forward();
        let loss = z.sum() + g.l0_penalty(2.0);
        let grads = loss.backward();
        let grad = g
            .log_alpha
            .val()
            .grad(&grads)
            .expect("log α has a gradient");
        assert_eq!(grad.dims(), [2, 3]);
        // Frozen gates are deterministic even on the autodiff device.
        let frozen = g.clone().freeze();
        assert_eq!(
            values(frozen.forward().inner()),
            values(g.deterministic().inner())
        );
    }
}
