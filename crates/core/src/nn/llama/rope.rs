//! Rotary position embeddings (Su et al., <https://arxiv.org/abs/2104.09864>) in Hugging Face's
//! `rotate_half` layout or the interleaved-pair layout of DeepSeek-V2, with optional YaRN
//! scaling (Peng et al., "YaRN: Efficient Context Window Extension of Large Language Models",
//! 2023, <https://arxiv.org/abs/2309.00071>) as computed by transformers'
//! `_compute_yarn_parameters` (`modeling_rope_utils.py`).

use burn::module::Module;
use burn::tensor::{Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// YaRN scaling of the rotary frequencies (`rope_scaling` / `rope_parameters` with
/// `rope_type: "yarn"` in a Hugging Face `config.json`).
///
/// Each frequency `θ_i = base^(-2i/dim)` is blended between itself (extrapolation, the fast
/// dimensions) and `θ_i / factor` (interpolation, the slow dimensions) by a linear ramp over the
/// pair index between the dimensions that make `beta_fast` and `beta_slow` full rotations within
/// `original_max_position_embeddings`; cosines and sines are multiplied by
/// [`YarnScaling::attention_factor`].
#[derive(Module, Debug, PartialEq, Serialize, Deserialize)]
pub struct YarnScaling {
    /// Context extension factor `s`.
    pub factor: f64,
    /// Context length of pre-training.
    pub original_max_position_embeddings: usize,
    /// Rotations that bound the extrapolated (fast) dimensions (32 when unset).
    pub beta_fast: f64,
    /// Rotations that bound the interpolated (slow) dimensions (1 when unset).
    pub beta_slow: f64,
    /// DeepSeek's `mscale` (0 when unset).
    pub mscale: f64,
    /// DeepSeek's `mscale_all_dim` (0 when unset).
    pub mscale_all_dim: f64,
    /// An explicit factor on cosines and sines, overriding the one derived from `mscale`.
    pub attention_factor: Option<f64>,
    /// Whether the ramp bounds are rounded outwards to whole dimensions (transformers' default).
    pub truncate: bool,
}

/// The RoPE settings of a Hugging Face `config.json`: `rope_scaling` (transformers 4, with
/// `type`) or `rope_parameters` (transformers 5, with `rope_type` and `rope_theta`). Unset fields
/// are left out when serialised, so a configuration reads back as it was written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HfRopeParameters {
    /// The RoPE type (transformers 5 name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rope_type: Option<String>,
    /// The RoPE type (transformers 4 name).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Rotary base (transformers 5 keeps it here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rope_theta: Option<f64>,
    /// Context extension factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
    /// Context length of pre-training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_max_position_embeddings: Option<usize>,
    /// YaRN `beta_fast`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta_fast: Option<f64>,
    /// YaRN `beta_slow`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta_slow: Option<f64>,
    /// DeepSeek's `mscale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mscale: Option<f64>,
    /// DeepSeek's `mscale_all_dim`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mscale_all_dim: Option<f64>,
    /// Explicit factor on cosines and sines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention_factor: Option<f64>,
    /// Whether the YaRN ramp bounds are rounded to whole dimensions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncate: Option<bool>,
}

impl HfRopeParameters {
    /// The RoPE type: `rope_type`, else `type`, else `default`.
    pub fn kind(&self) -> &str {
        self.rope_type
            .as_deref()
            .or(self.kind.as_deref())
            .unwrap_or("default")
    }

    /// The YaRN scaling these settings describe: `None` for plain RoPE (`default`), an error
    /// naming the problem for other types or missing lengths. As in transformers, a missing
    /// `factor` is `max_position_embeddings / original_max_position_embeddings`, a missing
    /// `original_max_position_embeddings` is `max_position_embeddings`, and a missing or zero
    /// `beta_fast` / `beta_slow` is 32 / 1.
    pub fn yarn(
        &self,
        max_position_embeddings: Option<usize>,
    ) -> Result<Option<YarnScaling>, String> {
        match self.kind() {
            "default" => return Ok(None),
            "yarn" => {}
            other => return Err(format!("unsupported RoPE scaling `{other}`")),
        }
        let original = self
            .original_max_position_embeddings
            .or(max_position_embeddings)
            .ok_or("YaRN needs original_max_position_embeddings or max_position_embeddings")?;
        let factor = match (self.factor, max_position_embeddings) {
            (Some(factor), _) => factor,
            (None, Some(max)) => max as f64 / original as f64,
            (None, None) => return Err("YaRN needs a factor".into()),
        };
        if !(factor.is_finite() && factor > 0.0) || original == 0 {
            return Err(format!(
                "YaRN factor {factor} and original_max_position_embeddings {original} must be positive"
            ));
        }
        let nonzero = |v: Option<f64>| v.filter(|&v| v != 0.0);
        Ok(Some(YarnScaling {
            factor,
            original_max_position_embeddings: original,
            beta_fast: nonzero(self.beta_fast).unwrap_or(32.0),
            beta_slow: nonzero(self.beta_slow).unwrap_or(1.0),
            mscale: self.mscale.unwrap_or(0.0),
            mscale_all_dim: self.mscale_all_dim.unwrap_or(0.0),
            attention_factor: self.attention_factor,
            truncate: self.truncate.unwrap_or(true),
        }))
    }
}

/// YaRN's `0.1 · m · ln(s) + 1` (1 for `s ≤ 1`).
fn yarn_mscale(scale: f64, m: f64) -> f64 {
    if scale <= 1.0 {
        1.0
    } else {
        0.1 * m * scale.ln() + 1.0
    }
}

impl YarnScaling {
    /// Scaling with transformers' defaults (`beta_fast` 32, `beta_slow` 1, no `mscale`,
    /// truncated ramp).
    pub fn new(factor: f64, original_max_position_embeddings: usize) -> Self {
        Self {
            factor,
            original_max_position_embeddings,
            beta_fast: 32.0,
            beta_slow: 1.0,
            mscale: 0.0,
            mscale_all_dim: 0.0,
            attention_factor: None,
            truncate: true,
        }
    }

    /// The factor on cosines and sines: the explicit `attention_factor`, else
    /// `mscale(s, mscale) / mscale(s, mscale_all_dim)` when both are set, else `mscale(s, 1)`.
    pub fn attention_factor(&self) -> f64 {
        match self.attention_factor {
            Some(factor) => factor,
            None if self.mscale != 0.0 && self.mscale_all_dim != 0.0 => {
                yarn_mscale(self.factor, self.mscale)
                    / yarn_mscale(self.factor, self.mscale_all_dim)
            }
            None => yarn_mscale(self.factor, 1.0),
        }
    }

    /// The factor that multi-head latent attention (DeepSeek-V2) puts on its softmax scale:
    /// `mscale(s, mscale_all_dim)²`, 1 when `mscale_all_dim` is unset (transformers'
    /// `yarn_apply_mscale`).
    pub fn softmax_scale_factor(&self) -> f64 {
        if self.mscale_all_dim == 0.0 {
            1.0
        } else {
            yarn_mscale(self.factor, self.mscale_all_dim).powi(2)
        }
    }

    /// The scaled inverse frequencies of a rotary embedding over `dim` dimensions with base
    /// `theta` (`dim / 2` values).
    pub fn inv_freq(&self, dim: usize, theta: f64) -> Vec<f64> {
        let half = dim / 2;
        let correction_dim = |rotations: f64| {
            let wavelength = rotations * 2.0 * std::f64::consts::PI;
            dim as f64 * (self.original_max_position_embeddings as f64 / wavelength).ln()
                / (2.0 * theta.ln())
        };
        let (mut low, mut high) = (
            correction_dim(self.beta_fast),
            correction_dim(self.beta_slow),
        );
        if self.truncate {
            (low, high) = (low.floor(), high.ceil());
        }
        let low = low.max(0.0);
        let mut high = high.min(dim as f64 - 1.0);
        if low == high {
            high += 0.001;
        }
        (0..half)
            .map(|i| {
                let extrapolated = 1.0 / theta.powf((2 * i) as f64 / dim as f64);
                let interpolated = extrapolated / self.factor;
                let ramp = ((i as f64 - low) / (high - low)).clamp(0.0, 1.0);
                interpolated * ramp + extrapolated * (1.0 - ramp)
            })
            .collect()
    }
}

/// Rotary position embedding. The default layout is Hugging Face's `rotate_half`: the first and
/// second halves of each head are the two coordinates of the rotated pairs; the interleaved
/// layout (DeepSeek-V2's complex-number formulation) rotates the pairs `(2i, 2i + 1)`.
#[derive(Module, Debug)]
pub struct RotaryEmbedding {
    /// Number of rotated dimensions of one head.
    pub head_dim: usize,
    /// Base of the frequencies `theta^(-2i / head_dim)`.
    pub theta: f64,
    /// Whether the rotated pairs are adjacent dimensions `(2i, 2i + 1)` instead of
    /// `(i, i + head_dim / 2)`.
    pub interleaved: bool,
    /// YaRN scaling of the frequencies and of cosines and sines.
    pub scaling: Option<YarnScaling>,
}

impl RotaryEmbedding {
    /// Plain rotary embedding in the `rotate_half` layout.
    pub fn new(head_dim: usize, theta: f64) -> Self {
        Self {
            head_dim,
            theta,
            interleaved: false,
            scaling: None,
        }
    }

    /// The same embedding with the interleaved-pair layout.
    pub fn with_interleaved(self, interleaved: bool) -> Self {
        Self {
            interleaved,
            ..self
        }
    }

    /// The same embedding with YaRN scaling (or none).
    pub fn with_scaling(self, scaling: Option<YarnScaling>) -> Self {
        Self { scaling, ..self }
    }

    /// The inverse frequencies of the `head_dim / 2` rotated pairs (f32, as transformers).
    pub fn inv_freq(&self) -> Vec<f32> {
        match &self.scaling {
            Some(yarn) => yarn
                .inv_freq(self.head_dim, self.theta)
                .into_iter()
                .map(|f| f as f32)
                .collect(),
            None => {
                let theta = self.theta as f32;
                (0..self.head_dim / 2)
                    .map(|i| 1.0 / theta.powf((2 * i) as f32 / self.head_dim as f32))
                    .collect()
            }
        }
    }

    /// Cosines and sines of the rotation angles of each position.
    ///
    /// # Shapes
    /// - `positions`: `[batch, seq]`
    pub fn angles(&self, positions: Tensor<2, Int>) -> RopeAngles {
        let half = self.head_dim / 2;
        let [batch, seq] = positions.dims();
        let inv_freq = Tensor::<1>::from_data(
            TensorData::new(self.inv_freq(), [half]),
            &positions.device(),
        )
        .unsqueeze::<3>(); // [1, 1, half]
        let freqs = positions.float().unsqueeze_dim::<3>(2) * inv_freq; // [batch, seq, half]
        let angles = if self.interleaved {
            // [batch, seq, half] -> [batch, seq, half, 2] -> [batch, seq, head_dim]
            freqs
                .unsqueeze_dim::<4>(3)
                .expand([batch, seq, half, 2])
                .reshape([batch, seq, self.head_dim])
        } else {
            Tensor::cat(vec![freqs.clone(), freqs], 2)
        }
        .unsqueeze_dim::<4>(1);
        let (mut cos, mut sin) = (angles.clone().cos(), angles.sin());
        if let Some(yarn) = &self.scaling {
            let factor = yarn.attention_factor();
            if factor != 1.0 {
                (cos, sin) = (cos * factor, sin * factor);
            }
        }
        RopeAngles {
            cos,
            sin,
            interleaved: self.interleaved,
        }
    }
}

/// Rotation angles of a batch of positions, from [`RotaryEmbedding::angles`].
#[derive(Debug, Clone)]
pub struct RopeAngles {
    /// Cosines `[batch, 1, seq, head_dim]` (times the YaRN attention factor).
    pub cos: Tensor<4>,
    /// Sines `[batch, 1, seq, head_dim]` (times the YaRN attention factor).
    pub sin: Tensor<4>,
    /// Whether the rotated pairs are adjacent dimensions.
    pub interleaved: bool,
}

impl RopeAngles {
    /// Rotates queries or keys: `x * cos + rotate(x) * sin`, where `rotate` maps each pair
    /// `(a, b)` to `(-b, a)`.
    ///
    /// # Shapes
    /// - `x`: `[batch, heads, seq, head_dim]`; output: `[batch, heads, seq, head_dim]`
    pub fn rotate(&self, x: Tensor<4>) -> Tensor<4> {
        let [batch, heads, seq, d_head] = x.dims();
        let rotated = if self.interleaved {
            // [batch, heads, seq, d_head] -> [batch, heads, seq, d_head / 2, 2]
            let pairs = x.clone().reshape([batch, heads, seq, d_head / 2, 2]);
            let even = pairs.clone().slice_dim(4, 0..1);
            let odd = pairs.slice_dim(4, 1..2);
            Tensor::cat(vec![odd.neg(), even], 4).reshape([batch, heads, seq, d_head])
        } else {
            let first = x.clone().slice_dim(3, 0..d_head / 2);
            let second = x.clone().slice_dim(3, d_head / 2..d_head);
            Tensor::cat(vec![second.neg(), first], 3)
        };
        x * self.cos.clone() + rotated * self.sin.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: &[f64], want: &[f64], tolerance: f64) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= tolerance * w.abs(), "{got:?} != {want:?}");
        }
    }

    /// DeepSeek-V2-Lite's `rope_scaling` (qk_rope_head_dim 64, base 10000, factor 40 over 4096
    /// positions, mscale = mscale_all_dim = 0.707). Reference values from transformers 5.25:
    ///
    /// ```python
    /// from transformers import DeepseekV2Config
    /// from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS, yarn_apply_mscale
    /// rs = dict(type="yarn", factor=40.0, original_max_position_embeddings=4096, beta_fast=32,
    ///           beta_slow=1, mscale=0.707, mscale_all_dim=0.707)
    /// c = DeepseekV2Config(qk_rope_head_dim=64, max_position_embeddings=163840, rope_scaling=rs)
    /// inv, att = ROPE_INIT_FUNCTIONS["yarn"](c)
    /// print(inv[::4].tolist(), att, yarn_apply_mscale(c.rope_parameters, 1.0))
    /// ```
    #[test]
    fn yarn_matches_transformers_for_deepseek_v2_lite() {
        let yarn = YarnScaling {
            mscale: 0.707,
            mscale_all_dim: 0.707,
            ..YarnScaling::new(40.0, 4096)
        };
        let inv_freq = yarn.inv_freq(64, 10000.0);
        assert_eq!(inv_freq.len(), 32);
        let every_fourth: Vec<f64> = inv_freq.iter().step_by(4).copied().collect();
        close(&every_fourth, &DEEPSEEK_LITE_EVERY_FOURTH, 1e-6);
        assert_eq!(yarn.attention_factor(), 1.0);
        assert!((yarn.softmax_scale_factor() - DEEPSEEK_LITE_SOFTMAX).abs() < 1e-9);
    }

    const DEEPSEEK_LITE_EVERY_FOURTH: [f64; 8] = [
        1.0,
        0.3162277638912201,
        0.10000000149011612,
        0.026879360899329185,
        0.005500000435858965,
        0.0007905694073997438,
        2.499999936844688e-05,
        7.905694474175107e-06,
    ];
    const DEEPSEEK_LITE_SOFTMAX: f64 = 1.5896261651208736;

    /// A ramp with fractional steps and `mscale ≠ mscale_all_dim`, so that cosines and sines
    /// are scaled:
    ///
    /// ```python
    /// rs = dict(type="yarn", factor=4.0, original_max_position_embeddings=16, beta_fast=8,
    ///           beta_slow=0.5, mscale=1.0, mscale_all_dim=0.8)
    /// c = DeepseekV2Config(qk_rope_head_dim=16, max_position_embeddings=64, rope_scaling=rs,
    ///                      rope_theta=100.0)
    /// inv, att = ROPE_INIT_FUNCTIONS["yarn"](c)
    /// print(inv.tolist(), att, yarn_apply_mscale(c.rope_parameters, 1.0))
    /// ```
    #[test]
    fn yarn_matches_transformers_with_a_partial_ramp() {
        let yarn = YarnScaling {
            beta_fast: 8.0,
            beta_slow: 0.5,
            mscale: 1.0,
            mscale_all_dim: 0.8,
            ..YarnScaling::new(4.0, 16)
        };
        let want = [
            1.0,
            0.42175596952438354,
            0.15811388194561005,
            0.04445698484778404,
            0.02500000037252903,
            0.014058532193303108,
            0.007905694656074047,
            0.004445698577910662,
        ];
        close(&yarn.inv_freq(16, 100.0), &want, 1e-6);
        assert!((yarn.attention_factor() - 1.0249579607969668).abs() < 1e-12);
        assert!((yarn.softmax_scale_factor() - 1.2341066949354886).abs() < 1e-12);
        // The angles carry the attention factor: at position 0 the cosines equal it.
        let device = crate::device::cpu();
        let rotary = RotaryEmbedding::new(16, 100.0).with_scaling(Some(yarn));
        let angles = rotary.angles(Tensor::<2, Int>::from_ints([[0, 1]], &device));
        let cos = angles.cos.into_data().try_to_vec::<f32>().unwrap();
        assert!(
            cos[..16].iter().all(|&c| (c - 1.024_958).abs() < 1e-6),
            "{cos:?}"
        );
    }

    #[test]
    fn interleaved_rotation_rotates_adjacent_pairs() {
        let device = crate::device::cpu();
        let rotary = RotaryEmbedding::new(4, 100.0).with_interleaved(true);
        let positions = Tensor::<2, Int>::from_ints([[3]], &device);
        let x = Tensor::<4>::from_floats([[[[1.0, 2.0, 3.0, 4.0]]]], &device);
        let out = rotary
            .angles(positions)
            .rotate(x)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        // Pairs (x0, x1) and (x2, x3) rotate by 3 and 0.3 radians.
        let rotate = |a: f32, b: f32, angle: f32| {
            [
                a * angle.cos() - b * angle.sin(),
                b * angle.cos() + a * angle.sin(),
            ]
        };
        let want = [rotate(1.0, 2.0, 3.0), rotate(3.0, 4.0, 0.3)].concat();
        for (got, want) in out.iter().zip(want) {
            assert!((got - want).abs() < 1e-5, "{out:?}");
        }
    }
}
