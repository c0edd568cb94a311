//! `--method l0`: hard-concrete (L0) gates on heads and FFN neurons learned with the task
//! (Louizos et al., ICLR 2018; over heads and neurons as in Wang, Wohlwend and Lei, EMNLP 2020),
//! on core's [`HardConcreteGates`].
//!
//! A **reconstruction** of the spec's §4.4: starting from the fine-tuned classifier, gates
//! `[layers, units]` multiply every head's and neuron's output (`forward_masked`), and the
//! classifier and the gates' locations `log α` are trained together on
//! `L_task + λ · ((E[‖z‖₀] − t) / N)²` per pruned unit kind, where `t = (1 − s)·N` is the
//! number of units to keep and `N` their number (the normalisation makes `λ` independent of
//! the model size; the paper's exact objective was not found). The gates start almost open
//! (drop rate 0.1: deterministic gate ≈ 0.98), so training starts near the fine-tuned model;
//! the gates' `log α` get their own learning rate (`--l0-lr`) and no weight decay. Afterwards the units are ranked
//! by `log α` and the best `t` kept (the same global selection as the other methods, so every
//! method prunes to exactly the same sizes); each kept unit's deterministic gate value is folded
//! into its outgoing weights (`Bert::prune_masked`), so the pruned model computes what the
//! gated one computes on the kept units.

use std::path::Path;

use burnlp_core::burn;
use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::activation::softmax;
use burnlp_core::burn::tensor::{Device, Tensor, TensorData};
use burnlp_core::nn::bert::{BertInput, BertMasks};
use burnlp_core::nn::gates::{HardConcreteConfig, HardConcreteGates};
use burnlp_core::nn::prune::{UnitScores, UnitSelection};
use burnlp_core::train::{Metrics, ParamGroup, TrainTask, Trainer};
use text_cls::model::batch_input;
use text_cls::{ClassificationTask, Classifier, EncodedSet};

use crate::error::Result;
use crate::prune::{
    PruneConfig, RunControl, Units, batch_cross_entropy, fine_tune_trainer, halted,
    remove_checkpoints, select,
};

/// A classifier whose heads and / or FFN neurons are multiplied by hard-concrete gates.
#[derive(Module, Debug)]
pub struct GatedClassifier {
    /// The classifier.
    pub model: Classifier,
    /// Gates `[layers, max heads]`, when heads are pruned.
    pub head_gates: Option<HardConcreteGates>,
    /// Gates `[layers, max neurons]`, when neurons are pruned.
    pub neuron_gates: Option<HardConcreteGates>,
}

impl GatedClassifier {
    /// Gates for the unit kinds `units` prunes, opening with probability `1 − init_drop_rate`.
    pub fn new(model: Classifier, units: Units, init_drop_rate: f64, device: &Device) -> Self {
        let grid = |sizes: Vec<usize>| {
            HardConcreteConfig::new(sizes.len(), sizes.into_iter().max().unwrap_or(0))
                .with_init_drop_rate(init_drop_rate)
                .init(device)
        };
        let heads = (units != Units::Ffn).then(|| grid(model.encoder.layer_heads()));
        let neurons =
            (units != Units::Heads).then(|| grid(model.encoder.layer_intermediate_sizes()));
        Self {
            model,
            head_gates: heads,
            neuron_gates: neurons,
        }
    }

    /// The gates as encoder masks: sampled while training, deterministic otherwise.
    pub fn masks(&self) -> BertMasks {
        let mut masks = BertMasks::default();
        if let Some(gates) = &self.head_gates {
            masks = masks.with_heads(gates.forward());
        }
        if let Some(gates) = &self.neuron_gates {
            masks = masks.with_neurons(gates.forward());
        }
        masks
    }

    /// Class logits through the gated encoder.
    pub fn forward(&self, input: BertInput) -> Tensor<2> {
        self.model.forward_masked(input, &self.masks())
    }

    /// The gate locations `log α` as unit scores (a kind without gates scores 0 everywhere).
    pub fn scores(&self) -> UnitScores {
        let encoder = &self.model.encoder;
        let rows = |gates: &Option<HardConcreteGates>, sizes: Vec<usize>| -> Vec<Vec<f32>> {
            match gates {
                Some(g) => {
                    let [_, width] = g.log_alpha.val().dims();
                    let values = to_vec(g.log_alpha.val());
                    sizes
                        .iter()
                        .enumerate()
                        .map(|(l, &n)| values[l * width..l * width + n].to_vec())
                        .collect()
                }
                None => sizes.iter().map(|&n| vec![0.0; n]).collect(),
            }
        };
        UnitScores {
            heads: rows(&self.head_gates, encoder.layer_heads()),
            neurons: rows(&self.neuron_gates, encoder.layer_intermediate_sizes()),
        }
    }

    /// The classifier keeping the units of `selection` (original order), each kept unit's
    /// deterministic gate folded into its outgoing weights. A kept unit whose gate is exactly
    /// closed keeps a negligible scale (1e-6) so that the count stays the selection's.
    pub fn prune(&self, selection: &UnitSelection) -> Classifier {
        let device = self.model.devices()[0].clone();
        let mask = |gates: &Option<HardConcreteGates>, kept: &[Vec<usize>]| {
            let gates = gates.as_ref()?;
            let z = gates.deterministic();
            let [layers, width] = z.dims();
            let z = to_vec(z);
            let mut m = vec![0f32; layers * width];
            for (l, row) in kept.iter().enumerate() {
                for &i in row {
                    m[l * width + i] = z[l * width + i].max(1e-6);
                }
            }
            Some(Tensor::<2>::from_data(
                TensorData::new(m, [layers, width]),
                &device,
            ))
        };
        let mut masks = BertMasks::default();
        if let Some(m) = mask(&self.head_gates, &selection.heads) {
            masks = masks.with_heads(m);
        }
        if let Some(m) = mask(&self.neuron_gates, &selection.neurons) {
            masks = masks.with_neurons(m);
        }
        Classifier {
            encoder: self.model.encoder.prune_masked(&masks),
            dropout: self.model.dropout.clone(),
            head: self.model.head.clone(),
            pooling: self.model.pooling,
            regression: self.model.regression,
        }
    }

    /// Expected number of open heads and neurons (`E[‖z‖₀]`).
    pub fn expected_open(&self) -> (f64, f64) {
        let count = |g: &Option<HardConcreteGates>| {
            g.as_ref()
                .map_or(f64::NAN, |g| g.expected_l0().into_scalar::<f32>() as f64)
        };
        (count(&self.head_gates), count(&self.neuron_gates))
    }
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("float tensor")
}

/// The L0 training task: the classification batches, the task loss through the gates and the
/// normalised L0 penalty toward the unit budget.
pub struct L0Task<'a> {
    /// The classification task (batches, dev data).
    pub task: &'a ClassificationTask,
    /// Heads to keep (target of `E[‖z‖₀]`) and their number.
    pub heads: (f64, f64),
    /// Neurons to keep and their number.
    pub neurons: (f64, f64),
    /// Weight `λ` of the penalty.
    pub lambda: f64,
}

impl L0Task<'_> {
    fn penalty(&self, model: &GatedClassifier) -> Option<Tensor<1>> {
        let term = |gates: &Option<HardConcreteGates>, (target, n): (f64, f64)| {
            gates
                .as_ref()
                .map(|g| ((g.expected_l0() - target) / n.max(1.0)).square())
        };
        match (
            term(&model.head_gates, self.heads),
            term(&model.neuron_gates, self.neurons),
        ) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        }
    }
}

impl TrainTask<GatedClassifier> for L0Task<'_> {
    type Batch = Vec<usize>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Vec<usize>> {
        self.task.train_batches(epoch, seed)
    }

    fn loss(&self, model: &GatedClassifier, batch: &Vec<usize>) -> Tensor<1> {
        let device = model.devices()[0].clone();
        let input = batch_input(&self.task.train, batch, self.task.pad_id, &device);
        let loss = batch_cross_entropy(model.forward(input), &self.task.train, batch, &device);
        match self.penalty(model) {
            Some(p) => loss + p * self.lambda,
            None => loss,
        }
    }

    fn evaluate(&self, model: &GatedClassifier) -> Metrics {
        let device = model.devices()[0].clone();
        let mut metrics = Metrics::new();
        let accuracy = accuracy_with(&self.task.dev, self.task.pad_id, &device, |input| {
            model.forward(input)
        });
        metrics.insert("accuracy".into(), accuracy);
        let (heads, neurons) = model.expected_open();
        for (name, value) in [("open_heads", heads), ("open_neurons", neurons)] {
            if value.is_finite() {
                metrics.insert(name.into(), value);
            }
        }
        metrics
    }

    fn batch_len(&self, batch: &Vec<usize>) -> usize {
        batch.len()
    }
}

/// Accuracy of `logits` (a forward pass on a batch, on `device`) over a labelled set, in
/// batches of 64.
pub fn accuracy_with(
    set: &EncodedSet,
    pad_id: u32,
    device: &Device,
    logits: impl Fn(BertInput) -> Tensor<2>,
) -> f64 {
    let n = set.ids.len();
    if n == 0 {
        return f64::NAN;
    }
    let indices: Vec<usize> = (0..n).collect();
    let mut correct = 0usize;
    for chunk in indices.chunks(64) {
        let out = logits(batch_input(set, chunk, pad_id, device));
        let predicted = to_vec(softmax(out, 1).argmax(1).float());
        correct += chunk
            .iter()
            .zip(predicted)
            .filter(|&(&i, p)| set.labels[i] == p as usize)
            .count();
    }
    correct as f64 / n as f64
}

/// Learns L0 gates toward sparsity `s` on `model` (a fine-tuned classifier on the training
/// device) for `config.l0_epochs` epochs in the run directory `dir`, and returns the gated
/// model and the pruned classifier (the best `(1 − s)` of the gated units by `log α`, gate values
/// folded in).
pub fn learn_and_prune(
    model: &Classifier,
    task: &ClassificationTask,
    s: f64,
    config: &PruneConfig,
    dir: &Path,
) -> Result<(GatedClassifier, Classifier)> {
    let learned = learn_and_prune_with(model, task, s, config, dir, RunControl::default())?;
    remove_checkpoints(dir)?;
    Ok(learned)
}

/// [`learn_and_prune`], resuming the gate training in `dir` or halting as `control` says; the
/// optimizer checkpoints stay (the caller removes them once its stage is recorded).
pub fn learn_and_prune_with(
    model: &Classifier,
    task: &ClassificationTask,
    s: f64,
    config: &PruneConfig,
    dir: &Path,
    control: RunControl,
) -> Result<(GatedClassifier, Classifier)> {
    let device = model.devices()[0].clone();
    let fine_tune = &config.fine_tune;
    device.seed(fine_tune.seed);
    let gated = GatedClassifier::new(model.clone(), config.units, 0.1, &device);
    let total = |sizes: Vec<usize>| sizes.iter().sum::<usize>() as f64;
    let heads = total(model.encoder.layer_heads());
    let neurons = total(model.encoder.layer_intermediate_sizes());
    let keep = |n: f64| ((1.0 - s) * n).round();
    let l0 = L0Task {
        task,
        heads: (keep(heads), heads),
        neurons: (keep(neurons), neurons),
        lambda: config.l0_lambda,
    };
    let mut trainer_config =
        fine_tune_trainer(fine_tune, config.l0_epochs, task.batches_per_epoch());
    trainer_config.halt_after = control.halt_after;
    let trainer = Trainer::new(trainer_config, dir);
    // text-cls's optimizer, its encoder group re-rooted under `model.`, and the gates' own rate.
    let mut optimizer = text_cls::optimizer(fine_tune);
    if fine_tune.encoder.pretrained().is_some() {
        optimizer = optimizer.with_group(
            ParamGroup::new("encoder", &["model.encoder"]).with_lr(fine_tune.encoder_lr),
        );
    }
    let optimizer = optimizer.with_group(
        ParamGroup::new("gates", &["head_gates", "neuron_gates"])
            .with_lr(config.l0_lr)
            .with_weight_decay(0.0),
    );
    let experiment = serde_json::json!({
        "l0": {"sparsity": s, "lambda": config.l0_lambda, "lr": config.l0_lr,
               "epochs": config.l0_epochs, "target_heads": l0.heads.0,
               "target_neurons": l0.neurons.0},
    });
    trainer.write_config(&optimizer, &experiment, control.resume)?;
    let outcome = trainer.fit(gated, optimizer.init(), &l0, control.resume)?;
    halted(&outcome.stop, dir)?;
    // The last state (the one that met the budget), not the dev-selected one, on the training
    // device: the pruned model is re-fine-tuned next.
    let gated = outcome.model;
    let (open_heads, open_neurons) = gated.expected_open();
    tracing::info!(s, open_heads, open_neurons, "L0 gates learned");
    let selection = select(&gated.scores(), s, config.units);
    let pruned = gated.prune(&selection);
    Ok((gated, pruned))
}
