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
    m: Tensor<1>,
    v: Tensor<1>,
    steps: u64,
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
            for (prefix, tensor) in [("m", &moments.m), ("v", &moments.v)] {
                let values = tensor
                    .clone()
                    .into_data()
                    .convert::<f32>()
                    .try_to_vec::<f32>()
                    .map_err(|e| TrainError::Checkpoint {
                        path: dir.to_path_buf(),
                        message: format!("{e:?}"),
                    })?;
                tensors.push((format!("{prefix}.{path}"), vec![values.len()], values));
            }
            steps.insert(path.clone(), moments.steps);
        }
        super::checkpoint::write_atomic(
            &dir.join("optimizer.safetensors"),
            &to_safetensors(&tensors),
        )?;
        let json = serde_json::to_vec_pretty(&steps).expect("serializable");
        super::checkpoint::write_atomic(&dir.join("optimizer.json"), &json)
    }

    /// Restores state written by [`AdamW::save`] onto `device`.
    pub fn load(&mut self, dir: &Path, device: &Device) -> Result<(), TrainError> {
        let tensor_path = dir.join("optimizer.safetensors");
        let bytes = std::fs::read(&tensor_path).map_err(|source| TrainError::Io {
            path: tensor_path.clone(),
            source,
        })?;
        let mut tensors = from_safetensors(&bytes, &tensor_path)?;
        let steps_path = dir.join("optimizer.json");
        let text = std::fs::read(&steps_path).map_err(|source| TrainError::Io {
            path: steps_path.clone(),
            source,
        })?;
        let steps: BTreeMap<String, u64> =
            serde_json::from_slice(&text).map_err(|e| TrainError::Checkpoint {
                path: steps_path.clone(),
                message: e.to_string(),
            })?;
        let device = device.clone().inner();
        let mut take = |name: String| {
            tensors
                .remove(&name)
                .map(|(shape, values)| {
                    Tensor::<1>::from_data(TensorData::new(values, shape), &device)
                })
                .ok_or_else(|| TrainError::Checkpoint {
                    path: tensor_path.clone(),
                    message: format!("missing `{name}`"),
                })
        };
        let mut moments = BTreeMap::new();
        for (path, steps) in steps {
            let m = take(format!("m.{path}"))?;
            let v = take(format!("v.{path}"))?;
            moments.insert(path, Moments { m, v, steps });
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
        let grad = match &mask {
            Some(mask) => grad * mask.clone(),
            None => grad,
        };
        let moments = match self.optimizer.moments.remove(&path) {
            Some(previous) => Moments {
                m: previous.m.mul_scalar(config.beta1)
                    + grad.clone().mul_scalar(1.0 - config.beta1),
                v: previous.v.mul_scalar(config.beta2)
                    + grad.square().mul_scalar(1.0 - config.beta2),
                steps: previous.steps + 1,
            },
            None => Moments {
                m: grad.clone().mul_scalar(1.0 - config.beta1),
                v: grad.square().mul_scalar(1.0 - config.beta2),
                steps: 1,
            },
        };
        let t = moments.steps as i32;
        let bias1 = 1.0 - config.beta1.powi(t);
        let bias2 = 1.0 - config.beta2.powi(t);
        let denom = moments
            .v
            .clone()
            .sqrt()
            .div_scalar(bias2.sqrt())
            .add_scalar(config.eps);
        let mut delta = moments.m.clone().div(denom).mul_scalar(lr / bias1);
        if weight_decay != 0.0 {
            delta = delta + value.clone().mul_scalar(lr * weight_decay);
        }
        if let Some(mask) = mask {
            delta = delta * mask;
        }
        self.optimizer.moments.insert(path, moments);
        let updated = (value - delta).reshape(shape);
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
