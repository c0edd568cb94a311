//! One optimizer step's gradients: forward/backward passes over the step's micro-batches
//! (several passes for Bi-Drop), grouped by [`TrainTask::group`], then frozen parameters
//! removed, the gradient masks of the step's [`MaskProvider`] applied per group, and the
//! result clipped by global norm.

use std::collections::BTreeMap;
use std::ops::Range;

use burn::module::Module;
use burn::tensor::Device;

use super::subnet::MaskProvider;
use super::{AdamW, GradStore, TrainError, TrainState, TrainTask};

/// The gradients of one optimizer step, before masking and clipping.
pub(crate) struct StepGradients {
    /// One map per pass: batch group → the sum of the group's micro-batch gradients divided
    /// by the step's number of micro-batches (so the groups of a pass sum to its mean
    /// gradient). Without grouping every batch is in group `None`.
    pub passes: Vec<BTreeMap<Option<String>, GradStore>>,
    /// Mean loss of the micro-batches (over all passes).
    pub loss: f64,
    /// Examples seen (counted once, not per pass).
    pub examples: usize,
}

/// The gradients ready for [`AdamW::step`].
pub(crate) struct PreparedGradients {
    pub grads: GradStore,
    /// Global L2 norm before clipping (of the unmasked gradient).
    pub norm: f64,
    /// Kept fraction of the masked entries, when a provider masked any.
    pub kept: Option<f64>,
}

/// Forward and backward passes over `batches[range]` (the micro-batches of one step),
/// `passes` times; micro-batch gradients are summed per group when `by_group`. A non-finite
/// loss is an error naming the step, epoch and batch.
pub(crate) fn accumulate<M: Module, T: TrainTask<M>>(
    task: &T,
    model: &M,
    batches: &[T::Batch],
    range: Range<usize>,
    state: &TrainState,
    passes: usize,
    by_group: bool,
) -> Result<StepGradients, TrainError> {
    let micro = range.len();
    let mut out = Vec::with_capacity(passes);
    let mut loss_sum = 0.0;
    let mut examples = 0;
    for pass in 0..passes {
        let mut groups: BTreeMap<Option<String>, GradStore> = BTreeMap::new();
        for index in range.clone() {
            let batch = &batches[index];
            let loss = task.loss(model, batch);
            let value = loss.clone().into_scalar::<f64>();
            if !value.is_finite() {
                return Err(TrainError::NonFiniteLoss {
                    step: state.step,
                    epoch: state.epoch,
                    batch: index,
                    value,
                    last_checkpoint: None,
                });
            }
            loss_sum += value;
            if pass == 0 {
                examples += task.batch_len(batch);
            }
            let group = if by_group { task.group(batch) } else { None };
            groups
                .entry(group)
                .or_default()
                .accumulate(GradStore::collect(model, &loss.backward()));
        }
        for grads in groups.values_mut() {
            grads.scale(1.0 / micro as f64);
        }
        out.push(groups);
    }
    Ok(StepGradients {
        passes: out,
        loss: loss_sum / (micro * passes) as f64,
        examples,
    })
}

/// Removes frozen parameters (and applies freeze masks), computes the global norm of the
/// unmasked mean gradient, applies each group's gradient masks from `provider`, sums the
/// groups and clips to `clip_norm`.
pub(crate) fn prepare(
    step: StepGradients,
    optimizer: &AdamW,
    provider: Option<&dyn MaskProvider>,
    step_index: usize,
    clip_norm: Option<f64>,
) -> Result<PreparedGradients, TrainError> {
    let mut passes = step.passes;
    for groups in &mut passes {
        for grads in groups.values_mut() {
            optimizer.restrict(grads);
        }
    }
    let k = passes.len();
    let group_keys: Vec<Option<String>> = passes[0].keys().cloned().collect();
    // Per group: the gradient of every pass, and their mean.
    let mut per_group: Vec<(Option<String>, Vec<GradStore>, GradStore)> = Vec::new();
    for key in group_keys {
        let of_passes: Vec<GradStore> = passes
            .iter_mut()
            .map(|groups| groups.remove(&key).unwrap_or_default())
            .collect();
        let mean = if k == 1 {
            of_passes[0].clone()
        } else {
            let mut mean = GradStore::default();
            for grads in &of_passes {
                mean.accumulate(grads.clone());
            }
            mean.scale(1.0 / k as f64);
            mean
        };
        per_group.push((key, of_passes, mean));
    }
    let sum = |stores: Vec<GradStore>| {
        let mut stores = stores.into_iter();
        let mut total = stores.next().unwrap_or_default();
        for grads in stores {
            total.accumulate(grads);
        }
        total
    };
    let unmasked = sum(per_group.iter().map(|(_, _, mean)| mean.clone()).collect());
    let norm = unmasked.global_norm();
    let (mut grads, kept) = match provider {
        None => (unmasked, None),
        Some(provider) => {
            let (mut kept, mut total) = (0, 0);
            let mut masked = Vec::with_capacity(per_group.len());
            for (group, of_passes, mut mean) in per_group {
                let masks = provider.masks(step_index, group.as_deref(), &of_passes)?;
                kept += masks.kept();
                total += masks.total();
                masks.apply(&mut mean);
                masked.push(mean);
            }
            let fraction = (total > 0).then(|| kept as f64 / total as f64);
            (sum(masked), fraction)
        }
    };
    if let Some(max_norm) = clip_norm
        && norm > max_norm
    {
        grads.scale(max_norm / (norm + 1e-6));
    }
    Ok(PreparedGradients { grads, norm, kept })
}

/// The seed of the device generator for one optimizer step.
pub(crate) fn step_seed(seed: u64, step: usize) -> u64 {
    // SplitMix64 finaliser: distinct, well-mixed seeds for consecutive steps.
    let mut z = seed ^ (step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The device of a module's first parameter (the default device for a module without any).
pub(crate) fn first_device<M: Module>(model: &M) -> Device {
    model.devices().into_iter().next().unwrap_or_default()
}
