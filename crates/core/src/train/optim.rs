//! AdamW with parameter groups, frozen parameters, freeze masks and gradient masks.
//!
//! Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019
//! (<https://arxiv.org/abs/1711.05101>), in one of two numerically different forms
//! ([`AdamWStyle`]): PyTorch's `torch.optim.AdamW` (the default), or the legacy
//! `transformers.optimization.AdamW` that Child-Tuning's `ChildTuningAdamW` copies.
//!
//! Parameters are addressed by path (see [`super::params`]). Groups give a path pattern its own
//! learning rate and weight decay (e.g. encoder vs. head, no decay on biases). Sub-network
//! fine-tuning restricts updates in three ways, which are not interchangeable:
//! - a **frozen** parameter ([`AdamW::freeze`]) is excluded entirely: no gradient, no moments,
//!   no decay;
//! - a **freeze mask** ([`AdamW::set_freeze_mask`], ESFT-style) freezes single entries: their
//!   gradients are zeroed before clipping, and the entries and their Adam moments never change
//!   (weight decay included);
//! - a **gradient mask** ([`AdamW::set_gradient_mask`], Child-Tuning / Bi-Drop / S4-Tuning)
//!   multiplies the gradient by the mask (optionally rescaled, e.g. by `1/p`) *before* the
//!   moment updates, exactly as `ChildTuningAdamW.step` does: masked entries still move through
//!   the momentum of earlier steps, and decoupled weight decay shrinks every entry of the decay
//!   group, masked or not. Gradient masks are applied inside [`AdamW::step`], after the
//!   trainer has clipped the gradients (as Hugging Face's trainer clips before the reference
//!   optimizer masks). Per-step masks from a [`super::subnet::MaskProvider`] are applied by the
//!   trainer with the same meaning.

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::Module;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::TrainError;
use super::params::{GradStore, from_safetensors, to_safetensors};
use super::subnet::{BitMask, ParamMasks};
use update::{GradientMask, MomentValues, Moments, Update};

mod update;

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

/// Which published AdamW update [`AdamW`] computes; the two differ in where `ε` goes and in
/// the order of the Adam step and the weight decay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdamWStyle {
    /// `torch.optim.AdamW`: `p ← p − lr·wd·p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)`.
    #[default]
    Torch,
    /// `transformers.optimization.AdamW` with `correct_bias=True`, as copied by
    /// `ChildTuningAdamW`: `p ← p − lr·√(1 − β2ᵗ)/(1 − β1ᵗ) · m / (√v + ε)`, then
    /// `p ← p − lr·wd·p` on the updated weights.
    Transformers,
}

impl AdamWStyle {
    fn is_torch(&self) -> bool {
        *self == AdamWStyle::Torch
    }
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
    /// The update formula (absent from `config.json` when [`AdamWStyle::Torch`], so runs
    /// written before this setting existed still resume).
    #[serde(default, skip_serializing_if = "AdamWStyle::is_torch")]
    pub style: AdamWStyle,
}

impl AdamWConfig {
    /// The first hyperparameter that is not a finite number in its range (learning rates and
    /// weight decays non-negative, `eps` positive, betas in `[0, 1)`), as `(name, value)`.
    pub fn invalid_setting(&self) -> Option<(String, f64)> {
        let mut checks: Vec<(String, f64, bool)> = vec![
            ("lr".into(), self.lr, self.lr >= 0.0),
            ("beta1".into(), self.beta1, (0.0..1.0).contains(&self.beta1)),
            ("beta2".into(), self.beta2, (0.0..1.0).contains(&self.beta2)),
            ("eps".into(), self.eps, self.eps > 0.0),
            (
                "weight_decay".into(),
                self.weight_decay,
                self.weight_decay >= 0.0,
            ),
        ];
        for group in &self.groups {
            if let Some(lr) = group.lr {
                checks.push((format!("{}.lr", group.name), lr, lr >= 0.0));
            }
            if let Some(wd) = group.weight_decay {
                checks.push((format!("{}.weight_decay", group.name), wd, wd >= 0.0));
            }
        }
        checks
            .into_iter()
            .find(|(_, value, ok)| !value.is_finite() || !ok)
            .map(|(name, value, _)| (name, value))
    }

    /// PyTorch's defaults (`betas=(0.9, 0.999)`, `eps=1e-8`, `weight_decay=0.01`) with `lr`.
    pub fn new(lr: f64) -> Self {
        Self {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
            groups: Vec::new(),
            style: AdamWStyle::Torch,
        }
    }

    /// Sets the update formula.
    pub fn with_style(mut self, style: AdamWStyle) -> Self {
        self.style = style;
        self
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
            freeze_masks: BTreeMap::new(),
            gradient_masks: BTreeMap::new(),
            moments: BTreeMap::new(),
        }
    }
}

/// AdamW over path-addressed parameters.
#[derive(Debug, Clone)]
pub struct AdamW {
    config: AdamWConfig,
    frozen: Vec<String>,
    freeze_masks: BTreeMap<String, BitMask>,
    gradient_masks: BTreeMap<String, GradientMask>,
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

    /// Sets the freeze mask of one parameter (ESFT-style), replacing an earlier one: entries
    /// whose bit is clear never change, nor do their Adam moments, and weight decay skips
    /// them; their gradients are zeroed before clipping ([`AdamW::restrict`]). `mask` covers
    /// the flattened parameter (row-major).
    pub fn set_freeze_mask(&mut self, path: impl Into<String>, mask: BitMask) {
        self.freeze_masks.insert(path.into(), mask);
    }

    /// Removes the freeze mask of one parameter.
    pub fn clear_freeze_mask(&mut self, path: &str) {
        self.freeze_masks.remove(path);
    }

    /// Sets the gradient mask of one parameter (Child-Tuning), replacing an earlier one: at
    /// every step the gradient is multiplied by `scale` where the bit is set and by 0
    /// elsewhere, before the moment updates. Masked entries still move through momentum, and
    /// weight decay applies to them as to every entry of their group. `mask` covers the
    /// flattened parameter (row-major).
    pub fn set_gradient_mask(&mut self, path: impl Into<String>, mask: BitMask, scale: f64) {
        let mask = GradientMask {
            keep: mask,
            scale: scale as f32,
        };
        self.gradient_masks.insert(path.into(), mask);
    }

    /// Sets the gradient mask of every parameter in `masks` (with its scale), e.g. a
    /// Child-Tuning_D mask fixed for the whole run.
    pub fn set_gradient_masks(&mut self, masks: &ParamMasks) {
        for (path, mask) in masks.iter() {
            self.set_gradient_mask(path, mask.clone(), masks.scale());
        }
    }

    /// Removes the gradient mask of one parameter.
    pub fn clear_gradient_mask(&mut self, path: &str) {
        self.gradient_masks.remove(path);
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

    /// Drops gradients of frozen parameters and zeroes the entries freeze masks hold. Call
    /// before clipping so the global norm covers exactly what is updated. Gradient masks are
    /// not applied here but in [`AdamW::step`], after clipping.
    pub fn restrict(&self, grads: &mut GradStore) {
        let paths: Vec<String> = grads.paths().map(str::to_string).collect();
        for path in paths {
            if self.is_frozen(&path) {
                grads.remove(&path);
            } else if let Some(mask) = self.freeze_masks.get(&path) {
                let grad = grads.remove(&path).expect("listed");
                let multiplier = mask.to_tensor(1.0, &grad.device());
                grads.insert(path, grad * multiplier);
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
