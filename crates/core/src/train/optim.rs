//! AdamW with parameter groups, gradient masks and frozen parameters.
//!
//! Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019
//! (<https://arxiv.org/abs/1711.05101>), with PyTorch's `torch.optim.AdamW` update:
//! `p ← p − lr·wd·p`, then `p ← p − lr · m̂ / (√v̂ + ε)` with bias-corrected moments.
//!
//! Parameters are addressed by path (see [`super::params`]). Groups give a path pattern its own
//! learning rate and weight decay (e.g. encoder vs. head, no decay on biases). Sub-network
//! fine-tuning methods (Child-Tuning, ESFT, S4-Tuning) use the two restrictions:
//! - a **frozen** parameter is excluded entirely: no gradient, no moments, no decay;
//! - a **masked** parameter has its gradient multiplied by a 0/1 (or soft) mask before the
//!   moments are updated, and its whole update (decay included) multiplied by the mask, so
//!   entries with mask 0 never change.

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::TrainError;
use super::params::{GradStore, from_safetensors, to_safetensors};

/// A set of parameters, selected by path patterns, with its own learning rate and decay.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ParamGroup {
    /// A name for logs.
    pub name: String,
    /// Path patterns: `*` matches any run of characters; a pattern without `*` also matches
    /// every path below it (`encoder` matches `encoder.layers.0.query.weight`).
    pub patterns: Vec<String>,
    /// Learning rate of this group (the optimizer's when `None`); schedules scale it.
    pub lr: Option<f64>,
    /// Weight decay of this group (the optimizer's when `None`).
    pub weight_decay: Option<f64>,
}

impl ParamGroup {
    /// A group matching `patterns`, with the optimizer's settings until changed.
    pub fn new(name: impl Into<String>, patterns: &[&str]) -> Self {
        Self {
            name: name.into(),
            patterns: patterns.iter().map(|p| p.to_string()).collect(),
            lr: None,
            weight_decay: None,
        }
    }

    /// Sets the group's learning rate.
    pub fn with_lr(mut self, lr: f64) -> Self {
        self.lr = Some(lr);
        self
    }

    /// Sets the group's weight decay.
    pub fn with_weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = Some(weight_decay);
        self
    }

    /// True when any pattern matches the path.
    pub fn matches(&self, path: &str) -> bool {
        self.patterns.iter().any(|p| pattern_matches(p, path))
    }
}

/// Glob match with `*`; a pattern without `*` also matches paths below it.
pub fn pattern_matches(pattern: &str, path: &str) -> bool {
    if !pattern.contains('*') {
        return path == pattern
            || (path.starts_with(pattern) && path.as_bytes().get(pattern.len()) == Some(&b'.'));
    }
    glob(pattern.as_bytes(), path.as_bytes())
}

fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while t < text.len() {
        if p < pattern.len() && pattern[p] != b'*' && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

/// Settings of [`AdamW`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AdamWConfig {
    /// Base learning rate (before the schedule).
    pub lr: f64,
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Denominator epsilon.
    pub eps: f64,
    /// Decoupled weight decay.
    pub weight_decay: f64,
    /// Parameter groups; when several match a path, each setting comes from the last matching
    /// group that sets it.
    pub groups: Vec<ParamGroup>,
}

impl AdamWConfig {
    /// PyTorch's defaults (`betas=(0.9, 0.999)`, `eps=1e-8`, `weight_decay=0.01`) with `lr`.
    pub fn new(lr: f64) -> Self {
        Self {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
            groups: Vec::new(),
        }
    }

    /// Sets the weight decay.
    pub fn with_weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Adds a parameter group.
    pub fn with_group(mut self, group: ParamGroup) -> Self {
        self.groups.push(group);
        self
    }

    /// Builds the optimizer.
    pub fn init(&self) -> AdamW {
        AdamW {
            config: self.clone(),
            frozen: Vec::new(),
            masks: BTreeMap::new(),
            moments: BTreeMap::new(),
        }
    }
}

/// First and second moments and step count of one parameter, flattened.
#[derive(Debug, Clone)]
struct Moments {
    values: MomentValues,
    steps: u64,
}

/// Where the moments live: as tensors on an accelerator, or as plain vectors for the CPU
/// backend, where one fused pass per parameter replaces a dozen tensor operations.
#[derive(Debug, Clone)]
enum MomentValues {
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

    fn into_device(self, device: &Device) -> (Tensor<1>, Tensor<1>) {
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

    fn to_host(&self) -> (Vec<f32>, Vec<f32>) {
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
    /// `lr / (1 - beta1^t)`.
    step_size: f32,
    /// `1 / sqrt(1 - beta2^t)`.
    inv_bias2_sqrt: f32,
    eps: f32,
    /// `lr * weight_decay`.
    decay: f32,
}

/// The fused AdamW update of one parameter on the host: one pass over `p`, `g`, `m`, `v`.
fn adamw_host(
    p: &mut [f32],
    g: &[f32],
    mask: Option<&[f32]>,
    m: &mut [f32],
    v: &mut [f32],
    c: Coefficients,
) {
    use rayon::prelude::*;
    const CHUNK: usize = 1 << 14;
    p.par_chunks_mut(CHUNK)
        .zip(m.par_chunks_mut(CHUNK))
        .zip(v.par_chunks_mut(CHUNK))
        .enumerate()
        .for_each(|(chunk, ((p, m), v))| {
            let start = chunk * CHUNK;
            let g = &g[start..start + p.len()];
            let mask = mask.map(|mask| &mask[start..start + p.len()]);
            for i in 0..p.len() {
                let keep = mask.map_or(1.0, |mask| mask[i]);
                let gi = g[i] * keep;
                m[i] = c.beta1 * m[i] + (1.0 - c.beta1) * gi;
                v[i] = c.beta2 * v[i] + (1.0 - c.beta2) * gi * gi;
                let delta =
                    c.step_size * m[i] / (v[i].sqrt() * c.inv_bias2_sqrt + c.eps) + c.decay * p[i];
                p[i] -= delta * keep;
            }
        });
}

/// AdamW over path-addressed parameters.
#[derive(Debug, Clone)]
pub struct AdamW {
    config: AdamWConfig,
    frozen: Vec<String>,
    masks: BTreeMap<String, Tensor<1>>,
    moments: BTreeMap<String, Moments>,
}

impl AdamW {
    /// The configuration.
    pub fn config(&self) -> &AdamWConfig {
        &self.config
    }

    /// Freezes every parameter matching `pattern` (see [`pattern_matches`]).
    pub fn freeze(&mut self, pattern: impl Into<String>) {
        self.frozen.push(pattern.into());
    }

    /// True when the parameter at `path` is frozen.
    pub fn is_frozen(&self, path: &str) -> bool {
        self.frozen.iter().any(|p| pattern_matches(p, path))
    }

    /// Sets the gradient mask of one parameter; `mask` has the parameter's shape (any rank) and
    /// is flattened. Replaces an earlier mask.
    pub fn set_mask<const D: usize>(&mut self, path: impl Into<String>, mask: Tensor<D>) {
        let mask = mask.inner().flatten::<1>(0, D - 1);
        self.masks.insert(path.into(), mask);
    }

    /// Removes the mask of one parameter.
    pub fn clear_mask(&mut self, path: &str) {
        self.masks.remove(path);
    }

    /// Learning rate and weight decay for a path, before the schedule: each setting comes from
    /// the last matching group that sets it, else from the optimizer.
    pub fn group_settings(&self, path: &str) -> (f64, f64) {
        let matching = || self.config.groups.iter().rev().filter(|g| g.matches(path));
        (
            matching().find_map(|g| g.lr).unwrap_or(self.config.lr),
            matching()
                .find_map(|g| g.weight_decay)
                .unwrap_or(self.config.weight_decay),
        )
    }

    /// Drops gradients of frozen parameters and applies masks. Call before clipping so the
    /// global norm covers exactly what is updated.
    pub fn restrict(&self, grads: &mut GradStore) {
        let paths: Vec<String> = grads.paths().map(str::to_string).collect();
        for path in paths {
            if self.is_frozen(&path) {
                grads.remove(&path);
            } else if let Some(mask) = self.masks.get(&path) {
                let grad = grads.remove(&path).expect("listed");
                grads.insert(path, grad * mask.clone());
            }
        }
    }

    /// Applies one update to every parameter that has a gradient. `lr_factor` is the schedule's
    /// multiplier for this step.
    pub fn step<M: Module>(&mut self, module: M, mut grads: GradStore, lr_factor: f64) -> M {
        module.map(&mut Update {
            stack: Vec::new(),
            optimizer: self,
            grads: &mut grads,
            lr_factor,
        })
    }

    /// Saves the moments (`m.<path>`, `v.<path>`) and step counts to `dir/optimizer.safetensors`
    /// and `dir/optimizer.json`.
    pub fn save(&self, dir: &Path) -> Result<(), TrainError> {
        let mut tensors = Vec::new();
        let mut steps = BTreeMap::new();
        for (path, moments) in &self.moments {
            let (m, v) = moments.values.to_host();
            tensors.push((format!("m.{path}"), vec![m.len()], m));
            tensors.push((format!("v.{path}"), vec![v.len()], v));
            steps.insert(path.clone(), moments.steps);
        }
        crate::data::write_atomic(dir.join("optimizer.safetensors"), &to_safetensors(&tensors))?;
        super::write_json(&dir.join("optimizer.json"), &steps)
    }

    /// Restores state written by [`AdamW::save`] onto `device`.
    pub fn load(&mut self, dir: &Path, device: &Device) -> Result<(), TrainError> {
        let tensor_path = dir.join("optimizer.safetensors");
        let bytes = std::fs::read(&tensor_path).map_err(|source| TrainError::Io {
            path: tensor_path.clone(),
            source,
        })?;
        let mut tensors = from_safetensors(&bytes, &tensor_path)?;
        let steps: BTreeMap<String, u64> = super::read_json(&dir.join("optimizer.json"))?;
        let device = device.clone().inner();
        let mut take = |name: String| {
            tensors
                .remove(&name)
                .map(|(_, values)| values)
                .ok_or_else(|| TrainError::Checkpoint {
                    path: tensor_path.clone(),
                    message: format!("missing `{name}`"),
                })
        };
        let mut moments = BTreeMap::new();
        for (path, steps) in steps {
            let host = MomentValues::Host {
                m: take(format!("m.{path}"))?,
                v: take(format!("v.{path}"))?,
            };
            let values = if crate::device::is_host(&device) {
                host
            } else {
                let (m, v) = host.into_device(&device);
                MomentValues::Device(Box::new((m, v)))
            };
            moments.insert(path, Moments { values, steps });
        }
        self.moments = moments;
        Ok(())
    }
}

struct Update<'a> {
    stack: Vec<String>,
    optimizer: &'a mut AdamW,
    grads: &'a mut GradStore,
    lr_factor: f64,
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
        let config = &self.optimizer.config;
        let (lr, weight_decay) = self.optimizer.group_settings(&path);
        let lr = lr * self.lr_factor;
        let mask = self.optimizer.masks.get(&path).cloned();
        let previous = self.optimizer.moments.remove(&path);
        let steps = previous.as_ref().map_or(0, |p| p.steps) + 1;
        let t = steps as i32;
        let bias1 = 1.0 - config.beta1.powi(t);
        let bias2 = 1.0 - config.beta2.powi(t);
        let device = value.device();
        let (updated, values) = if crate::device::is_host(&device) {
            let n = value.dims()[0];
            let mut p = host_values(value);
            let g = host_values(grad);
            let mask = mask.map(host_values);
            let (mut m, mut v) = previous
                .map(|p| p.values.into_host())
                .unwrap_or_else(|| (vec![0.0; n], vec![0.0; n]));
            let coefficients = Coefficients {
                beta1: config.beta1 as f32,
                beta2: config.beta2 as f32,
                step_size: (lr / bias1) as f32,
                inv_bias2_sqrt: (1.0 / bias2.sqrt()) as f32,
                eps: config.eps as f32,
                decay: (lr * weight_decay) as f32,
            };
            adamw_host(&mut p, &g, mask.as_deref(), &mut m, &mut v, coefficients);
            let updated = Tensor::<1>::from_data(TensorData::new(p, [n]), &device);
            (updated, MomentValues::Host { m, v })
        } else {
            let grad = match &mask {
                Some(mask) => grad * mask.clone(),
                None => grad,
            };
            let (m, v) = match previous {
                Some(previous) => {
                    let (m, v) = previous.values.into_device(&device);
                    (
                        m.mul_scalar(config.beta1) + grad.clone().mul_scalar(1.0 - config.beta1),
                        v.mul_scalar(config.beta2) + grad.square().mul_scalar(1.0 - config.beta2),
                    )
                }
                None => (
                    grad.clone().mul_scalar(1.0 - config.beta1),
                    grad.square().mul_scalar(1.0 - config.beta2),
                ),
            };
            let denom = v
                .clone()
                .sqrt()
                .div_scalar(bias2.sqrt())
                .add_scalar(config.eps);
            let mut delta = m.clone().div(denom).mul_scalar(lr / bias1);
            if weight_decay != 0.0 {
                delta = delta + value.clone().mul_scalar(lr * weight_decay);
            }
            if let Some(mask) = mask {
                delta = delta * mask;
            }
            (value - delta, MomentValues::Device(Box::new((m, v))))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(pattern_matches("encoder", "encoder.layers.0.query.weight"));
        assert!(!pattern_matches("encoder", "encoder2.weight"));
        assert!(pattern_matches("*.bias", "head.bias"));
        assert!(pattern_matches("layers.*.query.*", "layers.3.query.weight"));
        assert!(!pattern_matches("*.bias", "head.weight"));
        assert!(pattern_matches("*norm*", "layers.0.attention_norm.gamma"));
    }

    #[test]
    fn group_settings_merge_last_match_first() {
        let optim = AdamWConfig::new(1e-3)
            .with_group(ParamGroup::new("encoder", &["encoder"]).with_lr(1e-5))
            .with_group(ParamGroup::new("no-decay", &["*.bias"]).with_weight_decay(0.0))
            .init();
        assert_eq!(optim.group_settings("encoder.q.weight"), (1e-5, 0.01));
        assert_eq!(optim.group_settings("encoder.q.bias"), (1e-5, 0.0));
        assert_eq!(optim.group_settings("head.weight"), (1e-3, 0.01));
    }
}
