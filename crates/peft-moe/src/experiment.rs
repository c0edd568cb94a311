//! The synthetic ESFT comparison: pretrain a tiny MoE LM on the task mix, measure routing per
//! task, then specialise it to one task with ESFT-Token, ESFT-Gate, LoRA and FFT.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::tensor::Device;
use burnlp_core::burn;
use burnlp_core::report::DemoRow;
use burnlp_core::train::{AdamWConfig, LrSchedule, TrainTask, Trainer, TrainerConfig};
use serde::Serialize;

use crate::error::MoeError;
use crate::moe::{MoeConfig, MoeLm};
use crate::routing::{
    Concentration, ExpertConfig, ScoreKind, Summary, concentration, heatmap_svg, overlap,
    select_experts,
};
use crate::tasks::{Example, TASKS, splits, vocab_size};
use crate::train::{LmTask, Method, TrainableReport, exact_match, prepare, route_stats};

/// A tiny DeepSeek-MoE for the synthetic tasks: 1 dense + 3 MoE layers, 16 routed experts
/// (top-2) and one shared expert per MoE layer.
pub fn tiny_config() -> MoeConfig {
    MoeConfig {
        vocab_size: vocab_size(),
        hidden_size: 64,
        intermediate_size: 128,
        moe_intermediate_size: 32,
        num_hidden_layers: 4,
        num_attention_heads: 4,
        num_key_value_heads: None,
        n_shared_experts: 1,
        n_routed_experts: 16,
        num_experts_per_tok: 2,
        first_k_dense_replace: 1,
        norm_topk_prob: false,
        routed_scaling_factor: 1.0,
        aux_loss_alpha: 0.001,
        rms_norm_eps: 1e-6,
        rope_theta: 10000.0,
        tie_word_embeddings: false,
        initializer_range: 0.05,
        scoring_func: "softmax".into(),
        moe_layer_freq: 1,
        topk_method: "greedy".into(),
        hidden_act: "silu".into(),
        v2: Default::default(),
    }
}

/// Sizes and settings of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// Training examples per task.
    pub train_per_task: usize,
    /// Share of the target task's training examples in the pretraining mix (the rest of the
    /// target data is only seen when specialising).
    pub target_pretrain_fraction: f64,
    /// Test examples per task.
    pub test_per_task: usize,
    /// Optimizer steps of pretraining on the mix.
    pub pretrain_steps: usize,
    /// Optimizer steps of each fine-tuning run.
    pub finetune_steps: usize,
    /// Sequences per batch.
    pub batch_size: usize,
    /// Pretraining learning rate.
    pub pretrain_lr: f64,
    /// Fine-tuning learning rate of FFT.
    pub finetune_lr: f64,
    /// Fine-tuning learning rate of ESFT (few parameters: a larger step, as LoRA's).
    pub esft_lr: f64,
    /// LoRA learning rate.
    pub lora_lr: f64,
    /// LoRA rank.
    pub lora_rank: usize,
    /// The task to specialise to.
    pub target: String,
    /// Selection threshold of ESFT-Token.
    pub token_p: f64,
    /// Selection threshold of ESFT-Gate.
    pub gate_p: f64,
    /// Tokens sampled per task for routing statistics.
    pub stats_tokens: usize,
    /// Seed of data and training.
    pub seed: u64,
}

impl Settings {
    /// The full comparison (≈ 10–20 minutes in release on 2 cores).
    pub fn full() -> Self {
        Self {
            train_per_task: 4000,
            target_pretrain_fraction: 0.05,
            test_per_task: 200,
            pretrain_steps: 3000,
            finetune_steps: 300,
            batch_size: 32,
            pretrain_lr: 3e-3,
            finetune_lr: 2e-3,
            esft_lr: 5e-3,
            lora_lr: 3e-3,
            lora_rank: 8,
            target: "tra".into(),
            token_p: 0.2,
            gate_p: 0.1,
            stats_tokens: 4096,
            seed: 7,
        }
    }

    /// The shortened demo (≤ about 2 minutes).
    pub fn demo() -> Self {
        Self {
            train_per_task: 1000,
            test_per_task: 48,
            pretrain_steps: 500,
            finetune_steps: 80,
            stats_tokens: 1024,
            ..Self::full()
        }
    }
}

/// Result of one fine-tuning method.
#[derive(Debug, Clone, Serialize)]
pub struct MethodResult {
    /// `esft-token`, `esft-gate`, `lora` or `fft`.
    pub method: String,
    /// Exact match on the target task's test set.
    pub task_score: f64,
    /// Exact match on each other task (forgetting).
    pub other_scores: BTreeMap<String, f64>,
    /// Trainable-parameter accounting.
    pub trainable: TrainableReport,
    /// Training wall time in seconds.
    pub train_s: f64,
    /// Mean wall time of one optimizer step in milliseconds.
    pub step_ms: f64,
}

/// Everything the comparison measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The settings.
    pub settings: Settings,
    /// Exact match of the pretrained model per task.
    pub base_scores: BTreeMap<String, f64>,
    /// Routing concentration per task and layer.
    pub concentration: BTreeMap<String, Vec<Concentration>>,
    /// ESFT-Token selections (p = `token_p`) per task.
    pub selections: BTreeMap<String, ExpertConfig>,
    /// Mean Jaccard overlap of the selections between task pairs.
    pub overlaps: BTreeMap<String, f64>,
    /// Experts selected for the target by each ESFT variant.
    pub selected_counts: BTreeMap<String, usize>,
    /// Per-method results.
    pub methods: Vec<MethodResult>,
    /// Seconds of pretraining.
    pub pretrain_s: f64,
    /// Routed experts of the model, all MoE layers together.
    pub routed_experts: usize,
}

fn trainer_config(steps: usize, batch_size: usize, n_train: usize, seed: u64) -> TrainerConfig {
    let steps_per_epoch = n_train.div_ceil(batch_size.max(1)).max(1);
    TrainerConfig {
        epochs: steps.div_ceil(steps_per_epoch).max(1),
        max_steps: Some(steps),
        eval_every: Some(steps),
        schedule: LrSchedule::Constant,
        seed,
        progress: true,
        log_every: 50,
        ..TrainerConfig::default()
    }
}

/// Trains `model` (on an autodiff device) with `method`; returns the trained model, its
/// accounting and timing. With `resume`, continues the newest checkpoint of `run_dir` (whose
/// `config.json` must match).
#[allow(clippy::too_many_arguments)]
pub fn finetune(
    model: MoeLm,
    method: &Method,
    train: &[Example],
    dev: &[Example],
    steps: usize,
    lr: f64,
    batch_size: usize,
    aux_alpha: f64,
    seed: u64,
    run_dir: &Path,
    device: &Device,
    resume: bool,
) -> Result<(MoeLm, TrainableReport, f64), MoeError> {
    let task = LmTask::new(train, dev, batch_size, aux_alpha, device);
    let run = FinetuneRun {
        steps,
        lr,
        batch_size,
        seed,
        run_dir,
        resume,
    };
    finetune_task(model, method, &task, train.len(), &run, device)
}

/// Settings of one fine-tuning run ([`finetune_task`]).
#[derive(Debug, Clone)]
pub struct FinetuneRun<'a> {
    /// Optimizer steps.
    pub steps: usize,
    /// Constant learning rate (AdamW, no weight decay).
    pub lr: f64,
    /// Sequences per batch (for the epoch count).
    pub batch_size: usize,
    /// Seed of batch order.
    pub seed: u64,
    /// Run directory (config, metrics, checkpoints).
    pub run_dir: &'a Path,
    /// Continue the newest checkpoint of `run_dir` (whose `config.json` must match).
    pub resume: bool,
}

/// Trains `model` (on an autodiff device) with `method` on any task with the core trainer;
/// `n_train` is the number of training sequences. Returns the trained model, its accounting
/// and the training seconds of this process.
pub fn finetune_task<T: TrainTask<MoeLm>>(
    model: MoeLm,
    method: &Method,
    task: &T,
    n_train: usize,
    run: &FinetuneRun<'_>,
    device: &Device,
) -> Result<(MoeLm, TrainableReport, f64), MoeError> {
    let optimizer = AdamWConfig::new(run.lr).with_weight_decay(0.0);
    let (model, adamw, report) = prepare(model, method, &optimizer, device);
    let trainer = Trainer::new(
        trainer_config(run.steps, run.batch_size, n_train, run.seed),
        run.run_dir,
    );
    let experiment = serde_json::json!({"method": method.name(), "trainable": report.trainable});
    trainer.write_config(&optimizer, &experiment, run.resume)?;
    let start = Instant::now();
    let outcome = trainer.fit(model, adamw, task, run.resume)?;
    let seconds = start.elapsed().as_secs_f64();
    Ok((outcome.model, report, seconds))
}

/// Exact match of the model on each task's test set.
pub fn score_tasks(model: &MoeLm, tests: &BTreeMap<String, Vec<Example>>) -> BTreeMap<String, f64> {
    let model = model.valid();
    tests
        .iter()
        .map(|(task, examples)| (task.clone(), exact_match(&model, examples)))
        .collect()
}

/// Runs the comparison, writing run directories, statistics and heat maps under `out`.
pub fn run(settings: &Settings, out: &Path, device: &Device) -> Result<Report, MoeError> {
    let io = |source, path: &Path| MoeError::Io {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(out).map_err(|e| io(e, out))?;
    if !TASKS.contains(&settings.target.as_str()) {
        return Err(MoeError::Invalid(format!(
            "unknown target task `{}` (expected one of {TASKS:?})",
            settings.target
        )));
    }
    // Test prompts are never training prompts (`splits` draws them from disjoint prompt sets
    // and checks it; an overlap is an error).
    let mut train: BTreeMap<String, Vec<Example>> = BTreeMap::new();
    let mut tests: BTreeMap<String, Vec<Example>> = BTreeMap::new();
    for task in TASKS {
        let (task_train, task_test) = splits(
            task,
            settings.train_per_task,
            settings.test_per_task,
            settings.seed,
        )?;
        train.insert(task.to_string(), task_train);
        tests.insert(task.to_string(), task_test);
    }
    let mix: Vec<Example> = train
        .iter()
        .flat_map(|(task, examples)| {
            let n = if *task == settings.target {
                (examples.len() as f64 * settings.target_pretrain_fraction).round() as usize
            } else {
                examples.len()
            };
            examples[..n].to_vec()
        })
        .collect();
    let dev_mix: Vec<Example> = tests
        .values()
        .flat_map(|t| t[..t.len().min(16)].to_vec())
        .collect();

    let config = tiny_config();
    let start = Instant::now();
    let (pretrained, _, _) = finetune(
        config.init(device),
        &Method::Fft,
        &mix,
        &dev_mix,
        settings.pretrain_steps,
        settings.pretrain_lr,
        settings.batch_size,
        config.aux_loss_alpha,
        settings.seed,
        &out.join("pretrain"),
        device,
        false,
    )?;
    let pretrain_s = start.elapsed().as_secs_f64();
    crate::moe::save_pretrained(&out.join("pretrained"), &config, &pretrained.valid())?;
    let base_scores = score_tasks(&pretrained, &tests);
    tracing::info!(?base_scores, pretrain_s, "pretrained");

    let mut summaries = BTreeMap::new();
    let mut conc = BTreeMap::new();
    let mut selections = BTreeMap::new();
    let valid = pretrained.valid();
    for (task, examples) in &train {
        let stats = route_stats(&valid, examples, settings.stats_tokens);
        let summary = stats.summary();
        let dir = out.join("stats").join(task);
        std::fs::create_dir_all(&dir).map_err(|e| io(e, &dir))?;
        let json = serde_json::to_string(&summary.to_json()).expect("json");
        burnlp_core::data::write_atomic(dir.join("summary.json"), json.as_bytes())?;
        for kind in [ScoreKind::Token, ScoreKind::Gate] {
            let svg = heatmap_svg(
                &format!("{task}: {}", kind.summary_key()),
                summary.scores(kind),
            );
            let name = format!("heatmap_{}.svg", kind.summary_key());
            burnlp_core::data::write_atomic(dir.join(name), svg.as_bytes())?;
        }
        conc.insert(task.clone(), concentration(&summary.token_scores));
        selections.insert(
            task.clone(),
            select_experts(&summary.token_scores, settings.token_p),
        );
        summaries.insert(task.clone(), summary);
    }
    let mut overlaps = BTreeMap::new();
    for (i, a) in TASKS.iter().enumerate() {
        for b in &TASKS[i + 1..] {
            overlaps.insert(
                format!("{a}-{b}"),
                overlap(&selections[*a], &selections[*b]),
            );
        }
    }

    let target: &Summary = &summaries[&settings.target];
    let token_cfg = select_experts(&target.token_scores, settings.token_p);
    let gate_cfg = select_experts(&target.gate_scores, settings.gate_p);
    let selected_counts = BTreeMap::from([
        ("esft-token".to_string(), token_cfg.count()),
        ("esft-gate".to_string(), gate_cfg.count()),
    ]);
    let methods_to_run = [
        ("esft-token", Method::Esft(token_cfg), settings.esft_lr),
        ("esft-gate", Method::Esft(gate_cfg), settings.esft_lr),
        (
            "lora",
            Method::Lora {
                rank: settings.lora_rank,
                alpha: 2.0 * settings.lora_rank as f64,
            },
            settings.lora_lr,
        ),
        ("fft", Method::Fft, settings.finetune_lr),
    ];
    let target_train = &train[&settings.target];
    let target_dev = &tests[&settings.target][..tests[&settings.target].len().min(32)];
    let mut methods = Vec::new();
    for (name, method, lr) in methods_to_run {
        let (model, trainable, train_s) = finetune(
            pretrained.clone(),
            &method,
            target_train,
            target_dev,
            settings.finetune_steps,
            lr,
            settings.batch_size,
            config.aux_loss_alpha,
            settings.seed,
            &out.join(name),
            device,
            false,
        )?;
        let mut scores = score_tasks(&model, &tests);
        let task_score = scores.remove(&settings.target).unwrap_or(0.0);
        tracing::info!(method = name, task_score, ?scores, "fine-tuned");
        methods.push(MethodResult {
            method: name.into(),
            task_score,
            other_scores: scores,
            trainable,
            train_s,
            step_ms: 1000.0 * train_s / settings.finetune_steps.max(1) as f64,
        });
    }
    Ok(Report {
        settings: settings.clone(),
        base_scores,
        concentration: conc,
        selections,
        overlaps,
        selected_counts,
        methods,
        pretrain_s,
        routed_experts: config.moe_layers().len() * config.n_routed_experts,
    })
}

/// The report as Markdown (heat maps linked relative to `figures`).
pub fn markdown(report: &Report, figures: &str) -> String {
    let s = &report.settings;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# ESFT on a synthetic multi-task setting\n\n\
         Generated by `peft-moe experiment`. A tiny DeepSeek-MoE (1 dense + 3 MoE layers, 16 \
         routed experts top-2 + 1 shared expert, hidden 64) is pretrained on the mix of tasks \
         {TASKS:?} ({} examples each, of the target task only a fraction {}; {} steps, batch {}), \
         then specialised to `{}` on its full training set for {} steps with each method \
         (learning rates: FFT {}, ESFT {}, LoRA {} with rank {}). Scores are greedy exact match \
         on {} held-out examples per task, whose prompts never occur in training (one prompt \
         in {}, by a hash of its text, is reserved for testing).\n",
        s.train_per_task,
        s.target_pretrain_fraction,
        s.pretrain_steps,
        s.batch_size,
        s.target,
        s.finetune_steps,
        s.finetune_lr,
        s.esft_lr,
        s.lora_lr,
        s.lora_rank,
        s.test_per_task,
        crate::tasks::TEST_BUCKETS
    );
    let _ = writeln!(md, "## Routing concentration (token selection ratio)\n");
    let _ = writeln!(
        md,
        "| task | layer | experts for 50% | experts for 80% | top-10% mass |\n|---|---|---|---|---|"
    );
    for (task, layers) in &report.concentration {
        for c in layers {
            let _ = writeln!(
                md,
                "| {task} | {} | {} | {} | {:.3} |",
                c.layer, c.experts_for_50, c.experts_for_80, c.top_decile_mass
            );
        }
    }
    let _ = writeln!(
        md,
        "\nESFT-Token selections (p = {}) overlap between tasks (mean Jaccard over layers):\n",
        s.token_p
    );
    let _ = writeln!(md, "| pair | overlap |\n|---|---|");
    for (pair, v) in &report.overlaps {
        let _ = writeln!(md, "| {pair} | {v:.3} |");
    }
    let _ = writeln!(md, "\nHeat maps (layers × experts):\n");
    for task in report.concentration.keys() {
        let _ = writeln!(
            md,
            "- {task}: [token]({figures}/{task}/heatmap_token_scores.svg), \
             [gate]({figures}/{task}/heatmap_gate_scores.svg)"
        );
    }
    let _ = writeln!(md, "\n## Methods (target task `{}`)\n", s.target);
    let others: Vec<&String> = report
        .base_scores
        .keys()
        .filter(|t| **t != s.target)
        .collect();
    let _ = write!(md, "| method | {} | ", s.target);
    for t in &others {
        let _ = write!(md, "{t} | ");
    }
    let _ = writeln!(
        md,
        "trainable params | optimizer MB | train s | ms/step |\n|---|---|{}---|---|---|---|",
        "---|".repeat(others.len())
    );
    let _ = write!(md, "| pretrained | {:.3} | ", report.base_scores[&s.target]);
    for t in &others {
        let _ = write!(md, "{:.3} | ", report.base_scores[*t]);
    }
    let _ = writeln!(md, "– | – | {:.1} | – |", report.pretrain_s);
    for m in &report.methods {
        let _ = write!(md, "| {} | {:.3} | ", m.method, m.task_score);
        for t in &others {
            let _ = write!(
                md,
                "{:.3} | ",
                m.other_scores.get(*t).copied().unwrap_or(0.0)
            );
        }
        let _ = writeln!(
            md,
            "{} / {} | {:.3} | {:.1} | {:.1} |",
            m.trainable.trainable,
            m.trainable.total,
            m.trainable.optimizer_bytes as f64 / 1e6,
            m.train_s,
            m.step_ms
        );
    }
    let _ = writeln!(
        md,
        "\nExperts selected for `{}`: {:?} (of {} routed experts in total).",
        s.target, report.selected_counts, report.routed_experts
    );
    md
}
/// Demo target: FFT learns the target task.
pub const FFT_TARGET: f64 = 0.5;
/// Demo target: ESFT-Token keeps the other tasks' scores.
pub const ESFT_RETENTION_TARGET: f64 = 0.8;

/// The demo's result rows: each method's exact match on the target task and its retention of
/// the other tasks' scores (relative to the pretrained model).
pub fn demo_rows(report: &Report, started: std::time::Instant) -> Vec<DemoRow> {
    let target = &report.settings.target;
    let mean = |scores: &mut dyn Iterator<Item = f64>| {
        let v: Vec<f64> = scores.collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    let base_other = mean(
        &mut report
            .base_scores
            .iter()
            .filter(|(t, _)| *t != target)
            .map(|(_, s)| *s),
    );
    let mut rows = Vec::new();
    for m in &report.methods {
        let other = mean(&mut m.other_scores.values().copied());
        let retention = other / base_other.max(1e-9);
        let task = format!("peft-moe-{}", m.method);
        let mut row = DemoRow::new(
            &task,
            format!(
                "synthetic {target} after specialising ({} train / {} test per task, seed {})",
                report.settings.train_per_task, report.settings.test_per_task, report.settings.seed
            ),
            "exact_match",
            m.task_score,
            started,
        );
        row.target = (m.method == "fft").then_some(FFT_TARGET);
        rows.push(row);
        let mut row = DemoRow::new(
            task,
            format!(
                "synthetic other tasks, forgetting ({} test per task, seed {})",
                report.settings.test_per_task, report.settings.seed
            ),
            "retention",
            retention,
            started,
        );
        row.target = (m.method == "esft-token").then_some(ESFT_RETENTION_TARGET);
        rows.push(row);
    }
    rows
}
