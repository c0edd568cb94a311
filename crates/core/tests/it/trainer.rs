//! The shared trainer: learning, exact resumption, accumulation, masks, freezing, NaN detection.

use burnlp_core::burn;
use burnlp_core::burn::module::Module;
use burnlp_core::burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burnlp_core::burn::tensor::activation::relu;
use burnlp_core::burn::tensor::loss::cross_entropy_with_logits;
use burnlp_core::burn::tensor::{Device, Int, Tensor, TensorData};
use burnlp_core::device;
use burnlp_core::train::params::parameter_values;
use burnlp_core::train::{
    AdamWConfig, BitMask, LrSchedule, Metrics, ParamGroup, StopReason, TrainError, TrainTask,
    Trainer, TrainerConfig,
};

/// burn's CPU random generator is process-wide: tests that compare seeded runs must not
/// interleave with other tests drawing from it.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub(crate) fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Module, Debug)]
pub(crate) struct Mlp {
    pub(crate) hidden: Linear,
    pub(crate) out: Linear,
    pub(crate) dropout: Dropout,
}

impl Mlp {
    pub(crate) fn new(device: &Device) -> Self {
        device.seed(7);
        Self {
            hidden: LinearConfig::new(4, 16).init(device),
            out: LinearConfig::new(16, 3).init(device),
            dropout: DropoutConfig::new(0.1).init(),
        }
    }

    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.out
            .forward(self.dropout.forward(relu(self.hidden.forward(x))))
    }
}

/// Three Gaussian-ish clusters in 4-d, generated deterministically.
pub(crate) struct Blobs {
    features: Vec<[f32; 4]>,
    labels: Vec<i64>,
    pub(crate) batch_size: usize,
    nan_at_batch: Option<usize>,
}

impl Blobs {
    pub(crate) fn new(n: usize) -> Self {
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let centers = [
            [2.0, 0.0, 0.0, 1.0],
            [0.0, 2.0, -1.0, 0.0],
            [-2.0, -2.0, 1.0, 0.0],
        ];
        let mut features = Vec::new();
        let mut labels = Vec::new();
        for i in 0..n {
            let label = i % 3;
            let c = centers[label];
            features.push([c[0] + next(), c[1] + next(), c[2] + next(), c[3] + next()]);
            labels.push(label as i64);
        }
        Self {
            features,
            labels,
            batch_size: 8,
            nan_at_batch: None,
        }
    }

    fn tensors(&self, indices: &[usize], device: &Device) -> (Tensor<2>, Tensor<1, Int>) {
        let x: Vec<f32> = indices.iter().flat_map(|&i| self.features[i]).collect();
        let y: Vec<i64> = indices.iter().map(|&i| self.labels[i]).collect();
        (
            Tensor::from_data(TensorData::new(x, [indices.len(), 4]), device),
            Tensor::from_data(TensorData::new(y, [indices.len()]), device),
        )
    }
}

impl TrainTask<Mlp> for Blobs {
    type Batch = Vec<usize>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Vec<usize>> {
        let mut order: Vec<usize> = (0..self.labels.len()).collect();
        // A simple deterministic rotation per epoch and seed.
        order.rotate_left((epoch * 5 + seed as usize) % self.labels.len());
        order
            .chunks(self.batch_size)
            .map(<[usize]>::to_vec)
            .collect()
    }

    fn loss(&self, model: &Mlp, batch: &Vec<usize>) -> Tensor<1> {
        let device = model.devices()[0].clone();
        let (x, y) = self.tensors(batch, &device);
        let logits = model.forward(x);
        let targets = y.one_hot(3).float();
        let loss = cross_entropy_with_logits(logits, targets);
        if self.nan_at_batch == Some(batch[0]) {
            loss * f32::NAN
        } else {
            loss
        }
    }

    fn evaluate(&self, model: &Mlp) -> Metrics {
        let device = model.devices()[0].clone();
        let all: Vec<usize> = (0..self.labels.len()).collect();
        let (x, y) = self.tensors(&all, &device);
        let predicted = model.forward(x).argmax(1).squeeze_dim::<1>(1);
        let correct = predicted.equal(y).int().sum().into_scalar::<i64>();
        Metrics::from([("accuracy".to_string(), correct as f64 / all.len() as f64)])
    }

    fn batch_len(&self, batch: &Vec<usize>) -> usize {
        batch.len()
    }
}

pub(crate) fn config() -> TrainerConfig {
    TrainerConfig {
        epochs: 6,
        metric: "accuracy".into(),
        higher_is_better: true,
        schedule: LrSchedule::Linear {
            warmup: 5,
            total: 60,
        },
        eval_every: Some(10),
        progress: false,
        log_every: 1,
        ..TrainerConfig::default()
    }
}

pub(crate) fn values(model: &Mlp) -> Vec<f32> {
    parameter_values(model)
        .into_iter()
        .flat_map(|(_, _, v)| v)
        .collect()
}

#[test]
fn learns_blobs_and_writes_run_artifacts() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let device = device::cpu().autodiff();
    let task = Blobs::new(80);
    let trainer = Trainer::new(config(), dir.path());
    let optimizer = AdamWConfig::new(1e-2);
    trainer
        .write_config(&optimizer, &serde_json::json!({"task": "blobs"}), false)
        .unwrap();
    let outcome = trainer
        .fit(Mlp::new(&device), optimizer.init(), &task, false)
        .unwrap();
    assert_eq!(outcome.stop, StopReason::Completed);
    assert_eq!(outcome.state.step, 60);
    let best = outcome.state.best.unwrap();
    assert!(best.value >= 0.95, "best accuracy {}", best.value);
    for file in [
        "config.json",
        "metrics.jsonl",
        "curves.svg",
        "best/model.safetensors",
        "last/model.safetensors",
        "checkpoints/latest",
    ] {
        assert!(dir.path().join(file).exists(), "{file} missing");
    }
    let lines = std::fs::read_to_string(dir.path().join("metrics.jsonl")).unwrap();
    assert_eq!(lines.lines().filter(|l| l.contains("\"eval\"")).count(), 6);
    assert_eq!(
        lines.lines().filter(|l| l.contains("\"train\"")).count(),
        60
    );
}

#[test]
fn resumed_run_equals_uninterrupted_run() {
    let _serial = serial();
    let device = device::cpu().autodiff();
    let task = Blobs::new(48);
    let optimizer = AdamWConfig::new(5e-3);

    let full_dir = tempfile::tempdir().unwrap();
    let full = Trainer::new(config(), full_dir.path())
        .fit(Mlp::new(&device), optimizer.init(), &task, false)
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut halted = config();
    halted.halt_after = Some(13);
    let first = Trainer::new(halted.clone(), dir.path())
        .fit(Mlp::new(&device), optimizer.init(), &task, false)
        .unwrap();
    assert_eq!(first.stop, StopReason::Halted);
    assert_eq!(first.state.step, 13);
    // The killed process's model is gone; resume from disk with a freshly initialised one.
    let second = Trainer::new(halted, dir.path())
        .fit(Mlp::new(&device), optimizer.init(), &task, true)
        .unwrap();
    assert_eq!(second.stop, StopReason::Halted);
    let third = Trainer::new(config(), dir.path())
        .fit(Mlp::new(&device), optimizer.init(), &task, true)
        .unwrap();
    assert_eq!(third.stop, StopReason::Completed);
    assert_eq!(third.state, full.state);
    assert_eq!(third.last_eval, full.last_eval);
    assert_eq!(values(&third.model), values(&full.model));
    let log = |d: &std::path::Path| std::fs::read_to_string(d.join("metrics.jsonl")).unwrap();
    let strip = |s: String| -> Vec<String> {
        s.lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("examples_per_sec");
                v.to_string()
            })
            .collect()
    };
    assert_eq!(strip(log(dir.path())), strip(log(full_dir.path())));
}

#[test]
fn resuming_without_a_checkpoint_starts_a_clean_log() {
    // A process killed before its first checkpoint leaves metrics lines and no checkpoint;
    // `--resume` then starts afresh and must not keep the dead process's lines (found by
    // `cargo xtask faults`: text-cls's log held steps 1–50 twice).
    let _serial = serial();
    let device = device::cpu().autodiff();
    let task = Blobs::new(48);
    let optimizer = AdamWConfig::new(5e-3);
    let full_dir = tempfile::tempdir().unwrap();
    Trainer::new(config(), full_dir.path())
        .fit(Mlp::new(&device), optimizer.init(), &task, false)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("metrics.jsonl"),
        "{\"split\":\"train\",\"step\":1,\"loss\":9.0,\"stale\":true}\n",
    )
    .unwrap();
    Trainer::new(config(), dir.path())
        .fit(Mlp::new(&device), optimizer.init(), &task, true)
        .unwrap();
    let log = |d: &std::path::Path| std::fs::read_to_string(d.join("metrics.jsonl")).unwrap();
    assert!(
        !log(dir.path()).contains("\"stale\""),
        "the stale line survived"
    );
    assert_eq!(
        log(dir.path()).lines().count(),
        log(full_dir.path()).lines().count()
    );
}

#[test]
fn accumulation_equals_larger_batches() {
    let _serial = serial();
    let device = device::cpu().autodiff();
    let mut big = Blobs::new(32);
    big.batch_size = 8;
    let mut small = Blobs::new(32);
    small.batch_size = 4;
    let mut cfg = config();
    cfg.epochs = 2;
    cfg.clip_norm = None;
    cfg.eval_every = None;
    let no_dropout = |m: Mlp| Mlp {
        dropout: DropoutConfig::new(0.0).init(),
        ..m
    };
    let optimizer = AdamWConfig::new(1e-2);
    let a = Trainer::new(cfg.clone(), tempfile::tempdir().unwrap().path())
        .fit(no_dropout(Mlp::new(&device)), optimizer.init(), &big, false)
        .unwrap();
    cfg.grad_accum = 2;
    let b = Trainer::new(cfg, tempfile::tempdir().unwrap().path())
        .fit(
            no_dropout(Mlp::new(&device)),
            optimizer.init(),
            &small,
            false,
        )
        .unwrap();
    assert_eq!(a.state.step, b.state.step);
    let max_diff = values(&a.model)
        .iter()
        .zip(values(&b.model))
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    assert!(max_diff < 1e-5, "accumulated update differs by {max_diff}");
}

#[test]
fn freeze_masks_and_freezing_restrict_updates() {
    let _serial = serial();
    let device = device::cpu().autodiff();
    let task = Blobs::new(24);
    let model = Mlp::new(&device);
    let before = parameter_values(&model);
    let mut optimizer = AdamWConfig::new(1e-2)
        .with_group(ParamGroup::new("head", &["out"]).with_lr(1e-1))
        .init();
    optimizer.freeze("hidden.bias");
    // Only the first row of the hidden weight ([4, 16], burn's [in, out]) may change.
    optimizer.set_freeze_mask("hidden.weight", BitMask::from_fn(4 * 16, |i| i < 16));
    let mut cfg = config();
    cfg.epochs = 1;
    let outcome = Trainer::new(cfg, tempfile::tempdir().unwrap().path())
        .fit(model, optimizer, &task, false)
        .unwrap();
    let after = parameter_values(&outcome.model);
    for ((path, _, old), (_, _, new)) in before.iter().zip(&after) {
        match path.as_str() {
            "hidden.bias" => assert_eq!(old, new, "frozen bias changed"),
            "hidden.weight" => {
                assert_eq!(old[16..], new[16..], "masked entries changed");
                assert_ne!(old[..16], new[..16], "unmasked row did not train");
            }
            _ => assert_ne!(old, new, "{path} did not train"),
        }
    }
}

#[test]
fn non_finite_loss_stops_with_clear_error_and_keeps_checkpoint() {
    let _serial = serial();
    let device = device::cpu().autodiff();
    let mut task = Blobs::new(48);
    let batches = task.train_batches(1, 42);
    task.nan_at_batch = Some(batches[2][0]);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.eval_every = None;
    let error = Trainer::new(cfg, dir.path())
        .fit(
            Mlp::new(&device),
            AdamWConfig::new(1e-2).init(),
            &task,
            false,
        )
        .unwrap_err();
    match &error {
        TrainError::NonFiniteLoss {
            step,
            epoch,
            batch,
            last_checkpoint,
            ..
        } => {
            assert_eq!((*step, *epoch, *batch), (8, 1, 2));
            assert!(last_checkpoint.as_ref().unwrap().ends_with("step-00000006"));
        }
        other => panic!("unexpected error {other}"),
    }
    assert!(
        error.to_string().contains("loss is NaN at step 8"),
        "{error}"
    );
}

#[test]
fn resume_refuses_a_different_config() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let optimizer = AdamWConfig::new(1e-2);
    let trainer = Trainer::new(config(), dir.path());
    trainer
        .write_config(&optimizer, &serde_json::json!({"a": 1}), false)
        .unwrap();
    trainer
        .write_config(&optimizer, &serde_json::json!({"a": 1}), true)
        .unwrap();
    let error = trainer
        .write_config(&optimizer, &serde_json::json!({"a": 2}), true)
        .unwrap_err();
    assert!(matches!(error, TrainError::ConfigMismatch { .. }));
}

#[test]
fn early_stopping_after_patience_evaluations_without_improvement() {
    let _serial = serial();
    let device = device::cpu().autodiff();
    let task = Blobs::new(48);
    let mut cfg = config();
    cfg.eval_every = Some(2);
    cfg.patience = Some(2);
    // A zero learning rate never improves on the first evaluation.
    let outcome = Trainer::new(cfg, tempfile::tempdir().unwrap().path())
        .fit(
            Mlp::new(&device),
            AdamWConfig::new(0.0).init(),
            &task,
            false,
        )
        .unwrap();
    assert_eq!(outcome.stop, StopReason::EarlyStopped);
    assert_eq!(outcome.state.step, 6);
    assert_eq!(outcome.state.best.unwrap().step, 2);
}

/// A diverged update never becomes a checkpoint or `best/`, and a non-finite learning rate is
/// refused before training.
#[test]
fn non_finite_weights_are_never_saved_and_nan_settings_are_refused() {
    let _serial = serial();
    let device = device::cpu().autodiff();
    let task = Blobs::new(48);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.eval_every = Some(1);
    // An update of ~1e39 overflows f32: weights become infinite once the warm-up lets the
    // learning rate above zero.
    let error = Trainer::new(cfg.clone(), dir.path())
        .fit(
            Mlp::new(&device),
            AdamWConfig::new(1e39).with_weight_decay(0.0).init(),
            &task,
            false,
        )
        .unwrap_err();
    assert!(
        matches!(
            error,
            TrainError::NonFiniteParameter { .. } | TrainError::NonFiniteMetric { .. }
        ),
        "{error}"
    );
    // What was saved before the divergence (the warm-up's first step) is finite.
    let best = dir.path().join("best/model.safetensors");
    if best.exists() {
        let model = burnlp_core::train::load_parameters(Mlp::new(&device), &best).unwrap();
        for (name, _, values) in parameter_values(&model) {
            assert!(
                values.iter().all(|v| v.is_finite()),
                "{name} saved non-finite"
            );
        }
    }

    for lr in [f64::NAN, f64::INFINITY, -1e-3] {
        let error = Trainer::new(cfg.clone(), tempfile::tempdir().unwrap().path())
            .fit(Mlp::new(&device), AdamWConfig::new(lr).init(), &task, false)
            .unwrap_err();
        assert!(
            matches!(&error, TrainError::InvalidSetting { name, .. } if name == "lr"),
            "{error}"
        );
    }
}
