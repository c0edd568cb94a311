//! Sub-network training: freeze versus gradient masks in AdamW, Child-Tuning's optimizer and
//! percentile rule against the PyTorch reference, the mask providers (Bernoulli, Fisher,
//! dropout sub-nets, per-group masks) and the trainer running them (exact resume).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use burnlp_core::burn;
use burnlp_core::burn::module::{Module, Param};
use burnlp_core::burn::nn::DropoutConfig;
use burnlp_core::burn::tensor::{Device, Tensor, TensorData};
use burnlp_core::device;
use burnlp_core::train::params::{from_safetensors, parameter_values};
use burnlp_core::train::subnet::{
    Bernoulli, DropoutSubnets, FisherOptions, FixedMasks, Threshold, fisher_information,
    percentile, top_fraction,
};
use burnlp_core::train::{
    AdamW, AdamWConfig, AdamWStyle, BitMask, GradStore, MaskProvider, Metrics, ParamGroup,
    ParamMasks, StopReason, TrainError, TrainTask, Trainer, TrainerConfig,
};

use crate::trainer::{Blobs, Mlp, config, serial, values};

/// A weight in a decay group and a bias without decay: paths `w` and `b`.
#[derive(Module, Debug)]
struct Pair {
    w: Param<Tensor<2>>,
    b: Param<Tensor<1>>,
}

fn tensor<const D: usize>(values: &[f32], shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), device)
}

fn pair(w: &[f32], b: &[f32]) -> Pair {
    let device = device::cpu().autodiff();
    Pair {
        w: Param::from_tensor(tensor(w, [4, 3], &device).require_grad()),
        b: Param::from_tensor(tensor(b, [3], &device).require_grad()),
    }
}

fn pair_values(model: &Pair) -> BTreeMap<String, Vec<f32>> {
    parameter_values(model)
        .into_iter()
        .map(|(path, _, v)| (path, v))
        .collect()
}

fn grads(w: &[f32], b: &[f32]) -> GradStore {
    let device = device::cpu();
    let mut grads = GradStore::default();
    grads.insert("w".into(), tensor(w, [w.len()], &device));
    grads.insert("b".into(), tensor(b, [b.len()], &device));
    grads
}

fn optimizer(lr: f64, weight_decay: f64, eps: f64, style: AdamWStyle) -> AdamW {
    let mut config = AdamWConfig::new(lr)
        .with_weight_decay(weight_decay)
        .with_group(ParamGroup::new("no-decay", &["b"]).with_weight_decay(0.0))
        .with_style(style);
    config.eps = eps;
    config.init()
}

fn bits(values: &[f64]) -> BitMask {
    values.iter().map(|&v| v != 0.0).collect()
}

fn floats(value: &serde_json::Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn f32s(value: &serde_json::Value) -> Vec<f32> {
    floats(value).into_iter().map(|v| v as f32).collect()
}

fn golden() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/subnet/child_tuning_adamw.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Replays one golden `ChildTuningAdamW` case; returns the largest deviation from the
/// reference weights over all steps.
fn replay(case: &serde_json::Value, style: AdamWStyle) -> f32 {
    let mut model = pair(&f32s(&case["init"]["w"]), &f32s(&case["init"]["b"]));
    let mut adamw = optimizer(
        case["lr"].as_f64().unwrap(),
        case["weight_decay"].as_f64().unwrap(),
        case["eps"].as_f64().unwrap(),
        style,
    );
    let reserve_p = case["reserve_p"].as_f64().unwrap();
    if case["mode"] == "ChildTuning-D" {
        adamw.set_gradient_mask("w", bits(&floats(&case["fixed_mask"]["w"])), 1.0);
    }
    let mut worst = 0f32;
    for step in case["steps"].as_array().unwrap() {
        if case["mode"] == "ChildTuning-F" {
            for path in ["w", "b"] {
                let mask = bits(&floats(&step["masks"][path]));
                adamw.set_gradient_mask(path, mask, 1.0 / reserve_p);
            }
        }
        let g = grads(&f32s(&step["grads"]["w"]), &f32s(&step["grads"]["b"]));
        model = adamw.step(model, g, 1.0);
        let after = pair_values(&model);
        for path in ["w", "b"] {
            for (ours, reference) in after[path].iter().zip(f32s(&step["after"][path])) {
                worst = worst.max((ours - reference).abs());
            }
        }
    }
    worst
}

#[test]
fn child_tuning_adamw_matches_the_pytorch_reference() {
    let golden = golden();
    for case in golden["adamw"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let worst = replay(case, AdamWStyle::Transformers);
        // Within an ulp or two of the reference (weights of magnitude ~1).
        assert!(worst < 5e-7, "{name}: off by {worst}");
    }
    // The fixture tells the two formulas apart: torch.optim.AdamW puts ε inside the bias
    // correction and decays the old weights.
    let torch = replay(&golden["adamw"][0], AdamWStyle::Torch);
    assert!(torch > 1e-4, "torch-style AdamW is off by only {torch}");
}

#[test]
fn fisher_percentile_matches_numpy() {
    for case in golden()["percentile"].as_array().unwrap() {
        let scores = f32s(&case["scores"]);
        let keep = case["reserve_p"].as_f64().unwrap();
        let polar = percentile(&scores, (1.0 - keep) * 100.0);
        assert_eq!(polar, case["polar"].as_f64().unwrap() as f32, "{case}");
        let all = BTreeMap::from([("layer.w".to_string(), scores)]);
        let masks = top_fraction(&all, keep, Threshold::Global);
        let expected: Vec<bool> = case["mask"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_bool().unwrap())
            .collect();
        let kept: Vec<bool> = masks.get("layer.w").unwrap().iter().collect();
        assert_eq!(kept, expected, "{case}");
    }
}

const W: [f32; 12] = [
    0.5, -0.2, 0.1, 0.9, -1.0, 0.3, 0.0, 0.7, -0.4, 0.2, 0.6, -0.8,
];
const B: [f32; 3] = [0.1, -0.3, 0.2];

fn gradient(step: usize) -> GradStore {
    let w: Vec<f32> = (0..12)
        .map(|i| ((i * 7 + step * 3) % 11) as f32 * 0.1 - 0.5)
        .collect();
    let b: Vec<f32> = (0..3).map(|i| (i + step) as f32 * 0.2 - 0.3).collect();
    grads(&w, &b)
}

#[test]
fn all_ones_gradient_mask_is_plain_adamw() {
    for style in [AdamWStyle::Torch, AdamWStyle::Transformers] {
        let mut plain = optimizer(1e-2, 0.1, 1e-8, style);
        let mut masked = optimizer(1e-2, 0.1, 1e-8, style);
        masked.set_gradient_mask("w", BitMask::ones(12), 1.0);
        masked.set_gradient_mask("b", BitMask::ones(3), 1.0);
        let (mut a, mut b) = (pair(&W, &B), pair(&W, &B));
        for step in 0..5 {
            a = plain.step(a, gradient(step), 0.5);
            b = masked.step(b, gradient(step), 0.5);
        }
        assert_eq!(pair_values(&a), pair_values(&b), "{style:?}");
        assert_ne!(pair_values(&a)["w"], W.to_vec());
    }
}

#[test]
fn all_zeros_gradient_mask_moves_only_by_weight_decay() {
    let (lr, wd) = (1e-2, 0.1);
    let mut adamw = optimizer(lr, wd, 1e-8, AdamWStyle::Torch);
    adamw.set_gradient_mask("w", BitMask::zeros(12), 1.0);
    adamw.set_gradient_mask("b", BitMask::zeros(3), 1.0);
    let mut model = pair(&W, &B);
    let mut expected = W.to_vec();
    let decay = (lr * wd) as f32;
    for step in 0..4 {
        model = adamw.step(model, gradient(step), 1.0);
        for p in &mut expected {
            *p -= decay * *p;
        }
    }
    let after = pair_values(&model);
    for (ours, expected) in after["w"].iter().zip(&expected) {
        assert!((ours - expected).abs() < 1e-7, "{ours} vs {expected}");
    }
    assert_ne!(
        after["w"],
        W.to_vec(),
        "weight decay applies to masked entries"
    );
    assert_eq!(
        after["b"],
        B.to_vec(),
        "no decay group, no gradient: unchanged"
    );
}

fn moments(adamw: &AdamW, path: &str) -> (Vec<f32>, Vec<f32>) {
    let dir = tempfile::tempdir().unwrap();
    adamw.save(dir.path()).unwrap();
    let file = dir.path().join("optimizer.safetensors");
    let mut tensors = from_safetensors(&std::fs::read(&file).unwrap(), &file).unwrap();
    let mut take = |name: String| tensors.remove(&name).unwrap().1;
    (take(format!("m.{path}")), take(format!("v.{path}")))
}

#[test]
fn freeze_mask_leaves_entries_and_moments_untouched_unlike_a_gradient_mask() {
    // Train three steps unmasked so the moments are non-zero, then hold entries 0..6 of `w`.
    let held = BitMask::from_fn(12, |i| i >= 6);
    let mut frozen = optimizer(1e-2, 0.1, 1e-8, AdamWStyle::Torch);
    let mut model = pair(&W, &B);
    for step in 0..3 {
        model = frozen.step(model, gradient(step), 1.0);
    }
    let mut gradient_masked = frozen.clone();
    let mut other = model.clone();
    let before = pair_values(&model)["w"].clone();
    let (m_before, v_before) = moments(&frozen, "w");
    frozen.set_freeze_mask("w", held.clone());
    gradient_masked.set_gradient_mask("w", held, 1.0);
    for step in 3..6 {
        model = frozen.step(model, gradient(step), 1.0);
        other = gradient_masked.step(other, gradient(step), 1.0);
    }
    let after = pair_values(&model)["w"].clone();
    let (m_after, v_after) = moments(&frozen, "w");
    assert_eq!(after[..6], before[..6], "held entries changed");
    assert_eq!(m_after[..6], m_before[..6], "held first moments changed");
    assert_eq!(v_after[..6], v_before[..6], "held second moments changed");
    assert!(after[6..].iter().zip(&before[6..]).all(|(a, b)| a != b));
    // A gradient mask zeroes only the new gradients: momentum and decay still move entries.
    let moved = pair_values(&other)["w"].clone();
    assert!(moved[..6].iter().zip(&before[..6]).all(|(a, b)| a != b));
    let (m_grad, _) = moments(&gradient_masked, "w");
    assert_ne!(m_grad[..6], m_before[..6]);
}

#[test]
fn bernoulli_rescaling_keeps_the_mean_gradient() {
    let n = 2000;
    let device = device::cpu();
    let g: Vec<f32> = (0..n)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
        .collect();
    let mut store = GradStore::default();
    store.insert("layer.w".into(), tensor(&g, [n], &device));
    let bernoulli = Bernoulli::new(0.3, 11);
    let draws = 400;
    let mut sum = vec![0f64; n];
    let mut kept = 0;
    for step in 0..draws {
        let masks = bernoulli.masks(step, None, &[store.clone()]).unwrap();
        assert!((masks.scale() - 1.0 / 0.3).abs() < 1e-12);
        kept += masks.kept();
        let mut masked = store.clone();
        masks.apply(&mut masked);
        let values = masked.get("layer.w").unwrap().clone().into_data();
        for (s, v) in sum.iter_mut().zip(values.try_to_vec::<f32>().unwrap()) {
            *s += f64::from(v);
        }
    }
    let kept = kept as f64 / (n * draws) as f64;
    assert!((kept - 0.3).abs() < 0.005, "kept fraction {kept}");
    let mean: Vec<f64> = sum.iter().map(|s| s / draws as f64).collect();
    let dot: f64 = mean.iter().zip(&g).map(|(m, &g)| m * f64::from(g)).sum();
    let norm: f64 = g.iter().map(|&g| f64::from(g).powi(2)).sum();
    // E[g ⊙ M / p] = g: the projection is 1 up to sampling noise (sd ≈ 0.002 here).
    assert!((dot / norm - 1.0).abs() < 0.01, "projection {}", dot / norm);
    let error: f64 = mean
        .iter()
        .zip(&g)
        .map(|(m, &g)| (m - f64::from(g)).powi(2))
        .sum::<f64>()
        .sqrt();
    // Relative error of a 400-draw mean: sqrt((1 - p) / (p · 400)) ≈ 0.076.
    assert!(
        error / norm.sqrt() < 0.09,
        "relative error {}",
        error / norm.sqrt()
    );
}

#[test]
fn resumed_bernoulli_run_equals_uninterrupted_run() {
    let _serial = serial();
    let device = device::cpu().autodiff();
    let task = Blobs::new(48);
    let optimizer = AdamWConfig::new(5e-3);
    let provider = || Bernoulli::new(0.5, 3);
    let trainer = |cfg: TrainerConfig, dir: &std::path::Path| {
        Trainer::new(cfg, dir).with_mask_provider(provider())
    };

    let full_dir = tempfile::tempdir().unwrap();
    let full = trainer(config(), full_dir.path())
        .fit(Mlp::new(&device), optimizer.init(), &task, false)
        .unwrap();
    let plain = Trainer::new(config(), tempfile::tempdir().unwrap().path())
        .fit(Mlp::new(&device), optimizer.init(), &task, false)
        .unwrap();
    assert_ne!(
        values(&full.model),
        values(&plain.model),
        "masks had no effect"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut halted = config();
    halted.halt_after = Some(13);
    let first = trainer(halted, dir.path())
        .fit(Mlp::new(&device), optimizer.init(), &task, false)
        .unwrap();
    assert_eq!(first.stop, StopReason::Halted);
    let rest = trainer(config(), dir.path())
        .fit(Mlp::new(&device), optimizer.init(), &task, true)
        .unwrap();
    assert_eq!(rest.stop, StopReason::Completed);
    assert_eq!(rest.state, full.state);
    assert_eq!(values(&rest.model), values(&full.model));
    let log = |d: &std::path::Path| {
        std::fs::read_to_string(d.join("metrics.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("examples_per_sec");
                v.to_string()
            })
            .collect::<Vec<_>>()
    };
    let lines = log(dir.path());
    assert_eq!(lines, log(full_dir.path()));
    assert!(lines[0].contains("\"mask_kept\""), "{}", lines[0]);
}

/// Blobs whose batches are grouped by the parity of their first example ("even" / "odd").
struct Grouped(Blobs);

impl TrainTask<Mlp> for Grouped {
    type Batch = Vec<usize>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Vec<usize>> {
        self.0.train_batches(epoch, seed)
    }

    fn loss(&self, model: &Mlp, batch: &Vec<usize>) -> Tensor<1> {
        self.0.loss(model, batch)
    }

    fn evaluate(&self, model: &Mlp) -> Metrics {
        self.0.evaluate(model)
    }

    fn group(&self, batch: &Vec<usize>) -> Option<String> {
        Some(
            if batch[0].is_multiple_of(2) {
                "even"
            } else {
                "odd"
            }
            .into(),
        )
    }
}

#[test]
fn each_group_trains_only_its_own_sub_network() {
    let _serial = serial();
    let device = device::cpu().autodiff();
    // Hidden weight [4, 16]: "even" batches may update row 0, "odd" batches row 1.
    let row = |r: usize| {
        let mut masks = ParamMasks::new();
        masks.insert("hidden.weight", BitMask::from_fn(64, |i| i / 16 == r));
        masks
    };
    let groups = BTreeMap::from([("even".to_string(), row(0)), ("odd".to_string(), row(1))]);
    let mut blobs = Blobs::new(24);
    blobs.batch_size = 3;
    let task = Grouped(blobs);
    let batches = task.train_batches(0, 42);
    let parities: Vec<_> = batches.iter().map(|b| task.group(b)).collect();
    assert!(parities.windows(2).any(|w| w[0] != w[1]), "{parities:?}");
    let mut cfg = config();
    cfg.epochs = 1;
    cfg.grad_accum = 2;
    let model = Mlp::new(&device);
    let before = parameter_values(&model);
    // No weight decay: masked entries then stay exactly where they were.
    let optimizer = AdamWConfig::new(1e-2).with_weight_decay(0.0).init();
    let outcome = Trainer::new(cfg.clone(), tempfile::tempdir().unwrap().path())
        .with_mask_provider(FixedMasks::per_group(groups.clone()))
        .fit(model, optimizer.clone(), &task, false)
        .unwrap();
    let after = parameter_values(&outcome.model);
    let (old, new) = (&before[0].2, &after[0].2);
    assert_eq!(before[0].0, "hidden.weight");
    assert_ne!(old[..16], new[..16], "row of the even group did not train");
    assert_ne!(
        old[16..32],
        new[16..32],
        "row of the odd group did not train"
    );
    assert_eq!(
        old[32..],
        new[32..],
        "entries outside every group's mask changed"
    );
    assert_ne!(
        before[1].2, after[1].2,
        "unmasked parameters train normally"
    );

    let only_even = FixedMasks::per_group(BTreeMap::from([("even".to_string(), row(0))]));
    let error = Trainer::new(cfg, tempfile::tempdir().unwrap().path())
        .with_mask_provider(only_even)
        .fit(Mlp::new(&device), optimizer, &task, false)
        .unwrap_err();
    assert!(
        matches!(&error, TrainError::MissingMask { group: Some(g), .. } if g == "odd"),
        "{error}"
    );
}

/// Bi-Drop's provider, recording what the trainer hands it.
struct Recording {
    inner: DropoutSubnets,
    /// Per call: whether the passes' gradients of `hidden.weight` differed, and the kept
    /// fraction of the mask.
    seen: Arc<Mutex<Vec<(bool, f64)>>>,
}

impl MaskProvider for Recording {
    fn passes(&self) -> usize {
        self.inner.passes()
    }

    fn masks(
        &self,
        step: usize,
        group: Option<&str>,
        passes: &[GradStore],
    ) -> Result<std::borrow::Cow<'_, ParamMasks>, TrainError> {
        let host = |g: &GradStore| {
            let t = g.get("hidden.weight").unwrap().clone();
            t.into_data().try_to_vec::<f32>().unwrap()
        };
        let masks = self.inner.masks(step, group, passes)?;
        let differ = host(&passes[0]) != host(&passes[1]);
        let kept = masks.kept() as f64 / masks.total() as f64;
        self.seen.lock().unwrap().push((differ, kept));
        Ok(masks)
    }
}

#[test]
fn dropout_subnets_use_independent_passes_and_resume_exactly() {
    let _serial = serial();
    let device = device::cpu().autodiff();
    let task = Blobs::new(48);
    let optimizer = AdamWConfig::new(5e-3);
    let subnets = || DropoutSubnets::new(2, 0.3).with_patterns(&["hidden.weight"]);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut cfg = config();
    cfg.epochs = 2;
    let full_dir = tempfile::tempdir().unwrap();
    let recording = Recording {
        inner: subnets(),
        seen: seen.clone(),
    };
    let full = Trainer::new(cfg.clone(), full_dir.path())
        .with_mask_provider(recording)
        .fit(Mlp::new(&device), optimizer.init(), &task, false)
        .unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), full.state.step, "one mask per step");
    assert!(
        seen.iter().all(|(differ, _)| *differ),
        "passes shared dropout masks"
    );
    for (_, kept) in seen.iter() {
        assert!((kept - 0.3).abs() < 0.05, "kept {kept}");
    }

    let dir = tempfile::tempdir().unwrap();
    let mut halted = cfg.clone();
    halted.halt_after = Some(5);
    Trainer::new(halted, dir.path())
        .with_mask_provider(subnets())
        .fit(Mlp::new(&device), optimizer.init(), &task, false)
        .unwrap();
    let rest = Trainer::new(cfg, dir.path())
        .with_mask_provider(subnets())
        .fit(Mlp::new(&device), optimizer.init(), &task, true)
        .unwrap();
    assert_eq!(rest.state, full.state);
    assert_eq!(values(&rest.model), values(&full.model));
}

#[test]
fn fisher_information_is_the_mean_squared_clipped_gradient() {
    let _serial = serial();
    let device = device::cpu().autodiff();
    let task = Blobs::new(24);
    let model = Mlp {
        dropout: DropoutConfig::new(0.0).init(),
        ..Mlp::new(&device)
    };
    let batches = task.train_batches(0, 1)[..3].to_vec();
    let options = FisherOptions {
        patterns: vec!["hidden*".into()],
        clip_norm: None,
        seed: 5,
    };
    let scores = fisher_information(&model, &task, &batches, &options).unwrap();
    let paths: Vec<&str> = scores.iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["hidden.bias", "hidden.weight"]);
    // By hand: Σ_b g_b² / 3.
    let mut expected = vec![0f32; 64];
    for batch in &batches {
        let loss = task.loss(&model, batch);
        let grads = GradStore::collect(&model, &loss.backward());
        let g = grads.get("hidden.weight").unwrap().clone().into_data();
        for (e, g) in expected.iter_mut().zip(g.try_to_vec::<f32>().unwrap()) {
            *e += g * g / 3.0;
        }
    }
    let ours = scores.get("hidden.weight").unwrap();
    for (a, b) in ours.iter().zip(&expected) {
        assert!((a - b).abs() <= 1e-6 * b.abs().max(1e-3), "{a} vs {b}");
    }
    // Per-tensor clipping: with one batch, √F is that batch's gradient clipped to norm 1e-3.
    let clipped = FisherOptions {
        clip_norm: Some(1e-3),
        ..options
    };
    let one = fisher_information(&model, &task, &batches[..1], &clipped).unwrap();
    for (path, values) in one.iter() {
        let norm: f32 = values.iter().sum::<f32>().sqrt();
        assert!((norm - 1e-3).abs() < 1e-5, "{path}: norm {norm}");
    }
    // The top 30 % of the scored entries, one global threshold.
    let masks = scores.mask(0.3);
    let kept = masks.kept() as f64 / masks.total() as f64;
    assert!((kept - 0.3).abs() < 0.02, "kept {kept}");
    assert_eq!(
        masks.get("out.weight"),
        None,
        "unscored parameters are not masked"
    );
}
