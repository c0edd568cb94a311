//! One AdamW step over a module: the fused host kernel (CPU backend) and the tensor version
//! (accelerators), in both [`AdamWStyle`]s, with freeze and gradient masks.

use burn::module::{ModuleMapper, Param};
use burn::tensor::{Bool, Device, Tensor, TensorData};

use super::{AdamW, AdamWConfig, AdamWStyle};
use crate::train::params::GradStore;
use crate::train::subnet::BitMask;

/// First and second moments and step count of one parameter, flattened.
#[derive(Debug, Clone)]
pub(super) struct Moments {
    pub(super) values: MomentValues,
    pub(super) steps: u64,
}

/// Where the moments live: as tensors on an accelerator, or as plain vectors for the CPU
/// backend, where one fused pass per parameter replaces a dozen tensor operations.
#[derive(Debug, Clone)]
pub(super) enum MomentValues {
    Device(Box<(Tensor<1>, Tensor<1>)>),
    Host { m: Vec<f32>, v: Vec<f32> },
}

impl MomentValues {
    fn into_host(self) -> (Vec<f32>, Vec<f32>) {
        match self {
            MomentValues::Host { m, v } => (m, v),
            MomentValues::Device(moments) => (host_values(moments.0), host_values(moments.1)),
        }
    }

    pub(super) fn into_device(self, device: &Device) -> (Tensor<1>, Tensor<1>) {
        match self {
            MomentValues::Device(moments) => *moments,
            MomentValues::Host { m, v } => {
                let tensor = |x: Vec<f32>| {
                    let n = x.len();
                    Tensor::from_data(TensorData::new(x, [n]), device)
                };
                (tensor(m), tensor(v))
            }
        }
    }

    pub(super) fn to_host(&self) -> (Vec<f32>, Vec<f32>) {
        self.clone().into_host()
    }
}

/// The values of a tensor as `f32`.
fn host_values(tensor: Tensor<1>) -> Vec<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("float tensor data converts to f32")
}

/// Coefficients of one AdamW update.
#[derive(Debug, Clone, Copy)]
struct Coefficients {
    beta1: f32,
    beta2: f32,
    /// `1 - beta1` and `1 - beta2`: computed in f64 and rounded once, as PyTorch passes them
    /// to its kernels, for [`AdamWStyle::Transformers`]; in f32 for [`AdamWStyle::Torch`],
    /// which keeps the host kernel's results bit-identical to runs before the styles existed
    /// (`1 - 0.999f32` is 4.7e-5 relatively larger than `(1 - 0.999) as f32`).
    one_minus_beta1: f32,
    one_minus_beta2: f32,
    /// Multiplier of `m / (√v · sqrt_v_scale + ε)`: `lr / (1 - beta1^t)` (Torch) or
    /// `lr · sqrt(1 - beta2^t) / (1 - beta1^t)` (Transformers).
    step_size: f32,
    /// `1 / sqrt(1 - beta2^t)` (Torch) or 1 (Transformers).
    sqrt_v_scale: f32,
    eps: f32,
    /// `lr * weight_decay`.
    decay: f32,
    /// Decay the updated weights after the Adam step (Transformers) instead of the old
    /// weights in the same step (Torch).
    decay_after: bool,
}

impl Coefficients {
    fn new(config: &AdamWConfig, lr: f64, weight_decay: f64, steps: u64) -> Self {
        let t = steps as i32;
        let bias1 = 1.0 - config.beta1.powi(t);
        let bias2 = 1.0 - config.beta2.powi(t);
        let (step_size, sqrt_v_scale) = match config.style {
            AdamWStyle::Torch => (lr / bias1, 1.0 / bias2.sqrt()),
            AdamWStyle::Transformers => (lr * bias2.sqrt() / bias1, 1.0),
        };
        let (beta1, beta2) = (config.beta1 as f32, config.beta2 as f32);
        // As PyTorch (both `torch.optim.AdamW` and `transformers`' AdamW): `1 - beta` is a Python
        // float (f64), rounded to f32 once when it multiplies the f32 moments.
        let (one_minus_beta1, one_minus_beta2) =
            ((1.0 - config.beta1) as f32, (1.0 - config.beta2) as f32);
        Self {
            beta1,
            beta2,
            one_minus_beta1,
            one_minus_beta2,
            step_size: step_size as f32,
            sqrt_v_scale: sqrt_v_scale as f32,
            eps: config.eps as f32,
            decay: (lr * weight_decay) as f32,
            decay_after: config.style == AdamWStyle::Transformers,
        }
    }
}

/// The fused AdamW update of one parameter on the host: one pass over `p`, `g`, `m`, `v`.
/// Entries a freeze mask does not keep are skipped (weights and moments unchanged).
fn adamw_host(
    p: &mut [f32],
    g: &[f32],
    freeze: Option<&BitMask>,
    m: &mut [f32],
    v: &mut [f32],
    c: Coefficients,
) {
    use rayon::prelude::*;
    // A multiple of 64, so chunks start at word boundaries of the mask.
    const CHUNK: usize = 1 << 14;
    p.par_chunks_mut(CHUNK)
        .zip(m.par_chunks_mut(CHUNK))
        .zip(v.par_chunks_mut(CHUNK))
        .enumerate()
        .for_each(|(chunk, ((p, m), v))| {
            let start = chunk * CHUNK;
            let g = &g[start..start + p.len()];
            for i in 0..p.len() {
                if freeze.is_some_and(|mask| !mask.get(start + i)) {
                    continue;
                }
                let gi = g[i];
                m[i] = c.beta1 * m[i] + c.one_minus_beta1 * gi;
                v[i] = c.beta2 * v[i] + c.one_minus_beta2 * gi * gi;
                let adam = c.step_size * m[i] / (v[i].sqrt() * c.sqrt_v_scale + c.eps);
                if c.decay_after {
                    let q = p[i] - adam;
                    p[i] = q - c.decay * q;
                } else {
                    p[i] -= adam + c.decay * p[i];
                }
            }
        });
}

/// A gradient mask of one parameter: kept entries' gradients are multiplied by `scale`,
/// the others' by 0.
#[derive(Debug, Clone)]
pub(super) struct GradientMask {
    pub(super) keep: BitMask,
    pub(super) scale: f32,
}

pub(super) struct Update<'a> {
    pub(super) stack: Vec<String>,
    pub(super) optimizer: &'a mut AdamW,
    pub(super) grads: &'a mut GradStore,
    pub(super) lr_factor: f64,
}

impl ModuleMapper for Update<'_> {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.stack.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.stack.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let path = self.stack.join(".");
        let Some(grad) = self.grads.remove(&path) else {
            return param;
        };
        if self.optimizer.is_frozen(&path) {
            return param;
        }
        let (id, tensor, mapper) = param.consume();
        let require_grad = tensor.is_require_grad();
        let shape = tensor.dims();
        let value = tensor.inner().flatten::<1>(0, D - 1);
        let (lr, weight_decay) = self.optimizer.group_settings(&path);
        let lr = lr * self.lr_factor;
        let previous = self.optimizer.moments.remove(&path);
        let steps = previous.as_ref().map_or(0, |p| p.steps) + 1;
        let step = StepSettings {
            config: &self.optimizer.config,
            lr,
            weight_decay,
            steps,
            freeze: self.optimizer.freeze_masks.get(&path),
            gradient_mask: self.optimizer.gradient_masks.get(&path),
        };
        let (updated, values) = if crate::device::is_host(&value.device()) {
            update_host(value, grad, previous, &step)
        } else {
            update_device(value, grad, previous, &step)
        };
        self.optimizer
            .moments
            .insert(path, Moments { values, steps });
        let updated = updated.reshape(shape);
        let mut updated = Tensor::from_inner(updated);
        if require_grad {
            updated = updated.require_grad();
        }
        Param::from_mapped_value(id, updated, mapper)
    }
}

/// What one parameter's update needs besides its value, gradient and moments.
struct StepSettings<'a> {
    config: &'a AdamWConfig,
    /// Learning rate after the schedule.
    lr: f64,
    weight_decay: f64,
    /// Steps including this one (`t`).
    steps: u64,
    freeze: Option<&'a BitMask>,
    gradient_mask: Option<&'a GradientMask>,
}

/// The update on the host: gradient mask, then the fused kernel.
fn update_host(
    value: Tensor<1>,
    grad: Tensor<1>,
    previous: Option<Moments>,
    step: &StepSettings<'_>,
) -> (Tensor<1>, MomentValues) {
    let device = value.device();
    let n = value.dims()[0];
    let mut p = host_values(value);
    let mut g = host_values(grad);
    if let Some(mask) = step.gradient_mask {
        mask.keep.apply(&mut g, mask.scale);
    }
    let (mut m, mut v) = previous
        .map(|p| p.values.into_host())
        .unwrap_or_else(|| (vec![0.0; n], vec![0.0; n]));
    let c = Coefficients::new(step.config, step.lr, step.weight_decay, step.steps);
    adamw_host(&mut p, &g, step.freeze, &mut m, &mut v, c);
    let updated = Tensor::<1>::from_data(TensorData::new(p, [n]), &device);
    (updated, MomentValues::Host { m, v })
}

/// The update as tensor operations on the parameter's device (scalars in f64).
fn update_device(
    value: Tensor<1>,
    grad: Tensor<1>,
    previous: Option<Moments>,
    step: &StepSettings<'_>,
) -> (Tensor<1>, MomentValues) {
    let config = step.config;
    let device = value.device();
    let grad = match step.gradient_mask {
        Some(mask) => grad * mask.keep.to_tensor(mask.scale, &device),
        None => grad,
    };
    let (m_old, v_old) = match previous {
        Some(previous) => previous.values.into_device(&device),
        None => (value.zeros_like(), value.zeros_like()),
    };
    let m = m_old.clone().mul_scalar(config.beta1) + grad.clone().mul_scalar(1.0 - config.beta1);
    let v = v_old.clone().mul_scalar(config.beta2) + grad.square().mul_scalar(1.0 - config.beta2);
    let t = step.steps as i32;
    let bias1 = 1.0 - config.beta1.powi(t);
    let bias2 = 1.0 - config.beta2.powi(t);
    let decay = step.lr * step.weight_decay;
    let mut updated = match config.style {
        AdamWStyle::Torch => {
            let denom = v
                .clone()
                .sqrt()
                .div_scalar(bias2.sqrt())
                .add_scalar(config.eps);
            let mut delta = m.clone().div(denom).mul_scalar(step.lr / bias1);
            if decay != 0.0 {
                delta = delta + value.clone().mul_scalar(decay);
            }
            value.clone() - delta
        }
        AdamWStyle::Transformers => {
            let denom = v.clone().sqrt().add_scalar(config.eps);
            let adam = m
                .clone()
                .div(denom)
                .mul_scalar(step.lr * bias2.sqrt() / bias1);
            let q = value.clone() - adam;
            q.clone() - q.mul_scalar(decay)
        }
    };
    let (mut m, mut v) = (m, v);
    if let Some(mask) = step.freeze {
        // Entries the mask holds keep their weight and moments exactly.
        let held = mask_tensor(mask, &device).bool_not();
        updated = updated.mask_where(held.clone(), value);
        m = m.mask_where(held.clone(), m_old);
        v = v.mask_where(held, v_old);
    }
    (updated, MomentValues::Device(Box::new((m, v))))
}

/// A mask as a boolean tensor (`true` = kept) on `device`.
fn mask_tensor(mask: &BitMask, device: &Device) -> Tensor<1, Bool> {
    let bits: Vec<bool> = mask.iter().collect();
    Tensor::from_data(TensorData::new(bits, [mask.len()]), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(values: Vec<f32>) -> Tensor<1> {
        let n = values.len();
        Tensor::from_data(TensorData::new(values, [n]), &crate::device::cpu())
    }

    /// The tensor path (used on accelerators) computes what the host kernel computes, for
    /// both styles, with and without masks; held entries keep their values and moments.
    #[test]
    fn device_update_matches_host_kernel() {
        let n = 70;
        let freeze = BitMask::from_fn(n, |i| i % 3 != 0);
        let gradient_mask = GradientMask {
            keep: BitMask::from_fn(n, |i| i % 2 == 0),
            scale: 2.0,
        };
        for style in [AdamWStyle::Torch, AdamWStyle::Transformers] {
            for masked in [false, true] {
                let config = AdamWConfig::new(1e-2)
                    .with_weight_decay(0.1)
                    .with_style(style);
                let start: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
                let (mut host, mut device) = (tensor(start.clone()), tensor(start.clone()));
                let (mut host_moments, mut device_moments) = (None, None);
                for steps in 1..=3 {
                    let grad: Vec<f32> = (0..n)
                        .map(|i| ((i * 7 + steps as usize) as f32 * 0.11).cos())
                        .collect();
                    let step = StepSettings {
                        config: &config,
                        lr: 1e-2,
                        weight_decay: 0.1,
                        steps,
                        freeze: masked.then_some(&freeze),
                        gradient_mask: masked.then_some(&gradient_mask),
                    };
                    let wrap = |values| {
                        Some(Moments {
                            values,
                            steps: steps - 1,
                        })
                    };
                    let (h, hm) = update_host(host, tensor(grad.clone()), host_moments, &step);
                    let (d, dm) = update_device(device, tensor(grad), device_moments, &step);
                    (host, device) = (h, d);
                    (host_moments, device_moments) = (wrap(hm), wrap(dm));
                }
                let host = host_values(host);
                let device = host_values(device);
                for (i, (h, d)) in host.iter().zip(&device).enumerate() {
                    assert!((h - d).abs() < 1e-6, "{style:?} {masked}: {i}: {h} vs {d}");
                    if masked && !freeze.get(i) {
                        assert_eq!((*h, *d), (start[i], start[i]), "held entry {i} moved");
                    }
                }
                let (_, v) = device_moments.unwrap().values.into_host();
                if masked {
                    assert!((0..n).filter(|&i| !freeze.get(i)).all(|i| v[i] == 0.0));
                }
            }
        }
    }
}
