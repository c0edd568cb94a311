//! Biaffine scorer for pairs of vectors with several label channels.
//!
//! Dozat & Manning, "Deep Biaffine Attention for Neural Dependency Parsing", ICLR 2017
//! (<https://arxiv.org/abs/1611.01734>): for every pair `(i, j)` and label `l`,
//! `s_l(i, j) = x_iᵀ U_l y_j + W_l [x_i; y_j] + b_l`. With bias augmentation (as in SuPar's
//! `Biaffine`), a constant 1 is appended to `x` and/or `y` before the bilinear product, which
//! gives `U` its own linear and bias terms.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

/// Configuration of a [`Biaffine`] scorer.
#[derive(Config, Debug)]
pub struct BiaffineConfig {
    /// Size of the left vectors `x`.
    pub x_size: usize,
    /// Size of the right vectors `y`.
    pub y_size: usize,
    /// Number of output channels (labels).
    #[config(default = 1)]
    pub num_labels: usize,
    /// Append a constant 1 to `x` in the bilinear term.
    #[config(default = false)]
    pub bias_x: bool,
    /// Append a constant 1 to `y` in the bilinear term.
    #[config(default = false)]
    pub bias_y: bool,
    /// Include the linear term `W [x; y] + b`.
    #[config(default = true)]
    pub linear: bool,
    /// Initialisation of `U`; zeros as in Dozat & Manning's parser and SuPar.
    #[config(default = "Initializer::Zeros")]
    pub initializer: Initializer,
}

impl BiaffineConfig {
    /// A freshly initialised scorer.
    pub fn init(&self, device: &Device) -> Biaffine {
        let dx = self.x_size + usize::from(self.bias_x);
        let dy = self.y_size + usize::from(self.bias_y);
        let linear = |size, bias| {
            LinearConfig::new(size, self.num_labels)
                .with_bias(bias)
                .init(device)
        };
        Biaffine {
            weight: self.initializer.init_with(
                [self.num_labels, dx, dy],
                Some(dx),
                Some(dy),
                device,
            ),
            linear_x: self.linear.then(|| linear(self.x_size, true)),
            linear_y: self.linear.then(|| linear(self.y_size, false)),
            bias_x: self.bias_x,
            bias_y: self.bias_y,
        }
    }
}

/// A biaffine scorer; see the module docs.
#[derive(Module, Debug)]
pub struct Biaffine {
    /// `U`: `[num_labels, x_size (+1), y_size (+1)]`.
    pub weight: Param<Tensor<3>>,
    /// The `x` half of `W`, with the bias `b`.
    pub linear_x: Option<Linear>,
    /// The `y` half of `W`.
    pub linear_y: Option<Linear>,
    /// Whether `x` is augmented with a constant 1.
    pub bias_x: bool,
    /// Whether `y` is augmented with a constant 1.
    pub bias_y: bool,
}

/// Appends a constant 1 feature: `[batch, n, d] -> [batch, n, d + 1]`.
fn augment(x: Tensor<3>) -> Tensor<3> {
    let [batch, n, _] = x.dims();
    let ones = Tensor::ones([batch, n, 1], &x.device());
    Tensor::cat(vec![x, ones], 2)
}

impl Biaffine {
    /// Scores every pair `(x_i, y_j)` for every label.
    ///
    /// # Shapes
    /// - `x`: `[batch, n, x_size]`, `y`: `[batch, m, y_size]`
    /// - output: `[batch, n, m, num_labels]`
    pub fn forward(&self, x: Tensor<3>, y: Tensor<3>) -> Tensor<4> {
        let linear = match (&self.linear_x, &self.linear_y) {
            // [batch, n, 1, labels] + [batch, 1, m, labels]
            (Some(wx), Some(wy)) => Some(
                wx.forward(x.clone()).unsqueeze_dim::<4>(2)
                    + wy.forward(y.clone()).unsqueeze_dim::<4>(1),
            ),
            _ => None,
        };
        let x = if self.bias_x { augment(x) } else { x };
        let y = if self.bias_y { augment(y) } else { y };
        // [batch, 1, n, dx] @ [1, labels, dx, dy] @ [batch, 1, dy, m] -> [batch, labels, n, m]
        let bilinear = x
            .unsqueeze_dim::<4>(1)
            .matmul(self.weight.val().unsqueeze::<4>())
            .matmul(y.swap_dims(1, 2).unsqueeze_dim::<4>(1));
        let scores = bilinear.permute([0, 2, 3, 1]);
        match linear {
            Some(linear) => scores + linear,
            None => scores,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn matches_the_formula_elementwise() {
        let device = crate::device::cpu();
        device.seed(4);
        let config = BiaffineConfig::new(3, 2)
            .with_num_labels(2)
            .with_bias_x(true)
            .with_initializer(Initializer::Normal {
                mean: 0.0,
                std: 1.0,
            });
        let model = config.init(&device);
        let x = Tensor::<3>::random([2, 4, 3], burn::tensor::Distribution::Default, &device);
        let y = Tensor::<3>::random([2, 5, 2], burn::tensor::Distribution::Default, &device);
        let out = model.forward(x.clone(), y.clone());
        assert_eq!(out.dims(), [2, 4, 5, 2]);

        let (xs, ys, out) = (values(x), values(y), values(out));
        let u = values(model.weight.val());
        let wx = values(model.linear_x.as_ref().unwrap().weight.val());
        let b = values(
            model
                .linear_x
                .as_ref()
                .unwrap()
                .bias
                .as_ref()
                .unwrap()
                .val(),
        );
        let wy = values(model.linear_y.as_ref().unwrap().weight.val());
        assert!(model.linear_y.as_ref().unwrap().bias.is_none());
        let mut max_err = 0f32;
        for batch in 0..2 {
            for i in 0..4 {
                for j in 0..5 {
                    for l in 0..2 {
                        let xi: Vec<f32> = (0..3).map(|k| xs[(batch * 4 + i) * 3 + k]).collect();
                        let yj: Vec<f32> = (0..2).map(|k| ys[(batch * 5 + j) * 2 + k]).collect();
                        let xa = [xi[0], xi[1], xi[2], 1.0];
                        let mut s = b[l];
                        for (p, xp) in xa.iter().enumerate() {
                            for (q, yq) in yj.iter().enumerate() {
                                s += xp * u[(l * 4 + p) * 2 + q] * yq;
                            }
                        }
                        s += (0..3).map(|k| xi[k] * wx[k * 2 + l]).sum::<f32>();
                        s += (0..2).map(|k| yj[k] * wy[k * 2 + l]).sum::<f32>();
                        let got = out[((batch * 4 + i) * 5 + j) * 2 + l];
                        max_err = max_err.max((got - s).abs());
                    }
                }
            }
        }
        assert!(max_err < 1e-5, "max error {max_err}");
    }

    #[test]
    fn pure_bilinear_with_zero_init_scores_zero() {
        let device = crate::device::cpu();
        let model = BiaffineConfig::new(3, 3)
            .with_linear(false)
            .with_bias_x(true)
            .with_bias_y(true)
            .init(&device);
        assert_eq!(model.weight.val().dims(), [1, 4, 4]);
        let x = Tensor::<3>::ones([1, 2, 3], &device);
        let out = model.forward(x.clone(), x);
        assert_eq!(out.dims(), [1, 2, 2, 1]);
        assert_eq!(values(out), vec![0.0; 4]);
    }
}
