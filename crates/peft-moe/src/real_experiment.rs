//! The ESFT / LoRA / FFT comparison on real data (issue 17): an upcycled SmolLM2 MoE
//! fine-tuned on ESFT's official intent training file, scored on the official intent
//! evaluation prompts (zero-shot rewrite, [`crate::real::PromptMode`]) and on held-out
//! general-text perplexity (general-ability retention).
//!
//! Each run trains with [`train_steps`] (the core trainer's AdamW update and clipping, without
//! its multi-GB checkpoints of a 700M-parameter model), then is scored; its row is appended to
//! `OUT/results.jsonl` and `OUT/report.md` is rewritten from all rows. A rerun skips the
//! finished runs (an interrupted run restarts from the upcycled weights).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::tensor::Device;
use burnlp_core::burn;
use serde::{Deserialize, Serialize};

use crate::error::MoeError;
use crate::esft_data::{ChatIds, TokenizedExample, read_eval};
use crate::moe::MoeLm;
use crate::real::{
    ChatLmTask, GenerateSettings, PromptMode, RealError, StepLog, chat_ids, generate_completions,
    mean_nll, perplexity, read_text_lines, sample_route_stats, stop_ids, text_examples,
    train_steps, training_data, write_completions,
};
use crate::routing::{ExpertConfig, ScoreKind, Summary, select_experts};
use crate::train::Method;
use crate::upcycle::load_with_tokenizer;

/// A method of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RealMethod {
    /// ESFT with the token-selection-ratio selection (p = 0.2).
    EsftToken,
    /// ESFT with the average-gate-score selection (p = 0.1).
    EsftGate,
    /// LoRA on every SwiGLU projection.
    Lora,
    /// Full fine-tuning.
    Fft,
}

impl RealMethod {
    /// All methods, in report order.
    pub const ALL: [Self; 4] = [Self::EsftToken, Self::EsftGate, Self::Lora, Self::Fft];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::EsftToken => "esft-token",
            Self::EsftGate => "esft-gate",
            Self::Lora => "lora",
            Self::Fft => "fft",
        }
    }

    /// The learning rate of the stated policy ([`LR_POLICY`]).
    pub fn default_lr(self) -> f64 {
        match self {
            Self::EsftToken | Self::EsftGate => 1e-4,
            Self::Lora => 2e-4,
            Self::Fft => 2e-5,
        }
    }
}

impl std::str::FromStr for RealMethod {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                format!("unknown method `{s}` (expected esft-token, esft-gate, lora or fft)")
            })
    }
}

/// The learning-rate policy, as stated in the report.
pub const LR_POLICY: &str = "The official ESFT code trains every method with lr 1e-5 (AdamW, \
DeepSeek-V2-Lite, 16B parameters, batch 32 × 4096 packed tokens, 500 steps). At our scale \
(an upcycled 135M-parameter SmolLM2, a few hundred steps of batch 4–8 unpacked conversations) \
one constant rate per method, chosen a priori (not tuned here), AdamW without weight decay, \
gradients clipped at norm 1: **FFT 2e-5** (every weight moves; the usual full fine-tuning rate \
for models of this size, kept low to limit forgetting), **ESFT 1e-4** (only the selected \
routed-expert FFNs move, 10–25% of the weights here, so a larger step than FFT; the experts are \
full-rank copies of the dense FFN, so not as large as LoRA's), **LoRA 2e-4** (the usual LoRA \
rate: the adapters start at B = 0 and need the larger step). The same data order (per seed), \
batch size and number of steps for all methods; `--lr METHOD=LR` overrides a rate.";

/// Sizes and settings of the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct RealSettings {
    /// Methods to run.
    pub methods: Vec<RealMethod>,
    /// Seeds (data order; the model starts from the same upcycled weights).
    pub seeds: Vec<u64>,
    /// Optimizer steps per run.
    pub steps: usize,
    /// Conversations per batch.
    pub batch_size: usize,
    /// Learning rate per method (defaults from [`RealMethod::default_lr`]).
    pub lrs: BTreeMap<String, f64>,
    /// LoRA rank.
    pub lora_rank: usize,
    /// LoRA scale numerator.
    pub lora_alpha: f64,
    /// Balance-loss weight (the model config's `aux_loss_alpha` when `None`).
    pub aux_alpha: Option<f64>,
    /// Evaluation items (the first ones of the evaluation file).
    pub eval_limit: usize,
    /// General-text lines (the first ones of the file).
    pub general_limit: usize,
    /// Generated tokens at most per evaluation item.
    pub max_new_tokens: usize,
    /// Prompts per generation batch.
    pub eval_batch_size: usize,
    /// Training tokens sampled for the routing statistics.
    pub stats_tokens: usize,
    /// Seed of that sample.
    pub stats_seed: u64,
    /// Held-out training conversations for the development loss.
    pub dev_size: usize,
    /// ESFT-Token threshold.
    pub token_p: f64,
    /// ESFT-Gate threshold.
    pub gate_p: f64,
}

impl RealSettings {
    /// Defaults for `methods`, `seeds`, `steps` and `batch_size`.
    pub fn new(methods: Vec<RealMethod>, seeds: Vec<u64>, steps: usize, batch_size: usize) -> Self {
        Self {
            lrs: RealMethod::ALL
                .iter()
                .map(|m| (m.name().to_string(), m.default_lr()))
                .collect(),
            methods,
            seeds,
            steps,
            batch_size,
            lora_rank: 8,
            lora_alpha: 16.0,
            aux_alpha: None,
            eval_limit: 100,
            general_limit: 200,
            max_new_tokens: 96,
            eval_batch_size: 8,
            stats_tokens: 32768,
            stats_seed: 5_934_875,
            dev_size: 16,
            token_p: 0.2,
            gate_p: 0.1,
        }
    }

    /// The learning rate of a method.
    pub fn lr(&self, method: RealMethod) -> f64 {
        self.lrs
            .get(method.name())
            .copied()
            .unwrap_or(method.default_lr())
    }
}

/// The input files.
#[derive(Debug, Clone)]
pub struct RealInputs {
    /// Upcycled model directory (with tokenizer files).
    pub model: PathBuf,
    /// Official training file (`data/train/intent.jsonl`).
    pub train: PathBuf,
    /// Official evaluation file (`data/eval/intent.jsonl`).
    pub eval: PathBuf,
    /// Held-out general text (one sentence per line).
    pub general_text: PathBuf,
}

/// One line of `results.jsonl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    /// `base` (the untrained upcycled model) or a method name.
    pub method: String,
    /// Seed (0 for `base`).
    pub seed: u64,
    /// Learning rate (0 for `base`).
    pub lr: f64,
    /// Optimizer steps.
    pub steps: usize,
    /// Trainable parameters.
    pub trainable_params: usize,
    /// All parameters (with adapters).
    pub total_params: usize,
    /// Training seconds (the optimizer steps only).
    pub train_s: f64,
    /// `train_s / steps`.
    pub step_s: f64,
    /// Intent task score (exact match × 100) on the evaluation items.
    pub intent_score: f64,
    /// Evaluation items.
    pub intent_n: usize,
    /// General-text perplexity.
    pub general_ppl: f64,
    /// Seconds of the intent evaluation.
    pub eval_s: f64,
    /// Training loss of the first step.
    pub first_loss: Option<f64>,
    /// Training loss of the last step.
    pub last_loss: Option<f64>,
    /// Answer-token loss on the held-out development conversations after training.
    pub dev_loss: Option<f64>,
}

/// What the comparison shares between runs (written as `OUT/setup.json`).
#[derive(Debug, Clone, Serialize)]
pub struct Setup {
    /// The settings.
    pub settings: RealSettings,
    /// Training conversations in the file.
    pub train_records: usize,
    /// Training conversations dropped because their query is an evaluation query.
    pub dropped_overlap: usize,
    /// Conversations trained on.
    pub train_used: usize,
    /// Training tokens the routing statistics were measured on.
    pub stats_tokens_used: u64,
    /// Experts selected per ESFT variant (all MoE layers together).
    pub selected: BTreeMap<String, usize>,
    /// Routed experts of the model (all MoE layers together).
    pub routed_experts: usize,
    /// General-text lines and tokens.
    pub general_lines: usize,
    /// Tokens of those lines.
    pub general_tokens: usize,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MoeError + '_ {
    move |source| MoeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads the finished runs of `results.jsonl` (none when absent).
pub fn read_results(path: &Path) -> Result<Vec<RunResult>, MoeError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(path)(e)),
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| MoeError::Format {
                path: path.to_path_buf(),
                message: format!("line {}: {e}", i + 1),
            })
        })
        .collect()
}

fn append_result(path: &Path, result: &RunResult) -> Result<(), MoeError> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io(path))?;
    let line = serde_json::to_string(result).expect("serialisable");
    writeln!(file, "{line}").map_err(io(path))?;
    file.sync_all().map_err(io(path))
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<(), MoeError> {
    let text = serde_json::to_string_pretty(value).expect("serialisable");
    burnlp_core::data::write_atomic(path, text.as_bytes())?;
    Ok(())
}

/// Data shared by every run.
struct Shared {
    ids: ChatIds,
    eos_ids: Vec<u32>,
    tokenizer: burnlp_core::tokenize::Tokenizer,
    train: Vec<TokenizedExample>,
    dev: Vec<TokenizedExample>,
    eval: Vec<crate::esft_data::EvalRecord>,
    general: Vec<TokenizedExample>,
}

/// Scores a model: intent completions (written to `completions`) and general perplexity.
fn score(
    model: &MoeLm,
    shared: &Shared,
    settings: &RealSettings,
    inputs: &RealInputs,
    completions: &Path,
) -> Result<(f64, f64, f64), RealError> {
    let start = Instant::now();
    let generated = generate_completions(
        model,
        &shared.tokenizer,
        shared.ids,
        &shared.eval,
        &GenerateSettings {
            mode: PromptMode::ZeroShot,
            max_new_tokens: settings.max_new_tokens,
            batch_size: settings.eval_batch_size,
            eos_ids: shared.eos_ids.clone(),
        },
        &inputs.eval,
    )?;
    let eval_s = start.elapsed().as_secs_f64();
    write_completions(completions, &generated)?;
    let scores: Vec<f64> = generated.iter().map(|c| c.score).collect();
    let intent = crate::esft_score::task_score(&scores).unwrap_or(0.0);
    let ppl = perplexity(model, &shared.general, settings.eval_batch_size);
    Ok((intent, ppl, eval_s))
}

/// Runs the comparison (skipping runs already in `OUT/results.jsonl`) and writes
/// `OUT/report.md`; returns all results.
pub fn run(
    inputs: &RealInputs,
    settings: &RealSettings,
    out: &Path,
    device: &Device,
) -> Result<Vec<RunResult>, RealError> {
    std::fs::create_dir_all(out).map_err(io(out))?;
    let results_path = out.join("results.jsonl");
    let mut results = read_results(&results_path)?;

    let crate::upcycle::MoeWithTokenizer {
        config: model_config,
        model: loaded_model,
        tokenizer,
        eos_token_ids,
        ..
    } = load_with_tokenizer(&inputs.model, device)?;
    let ids = chat_ids(&inputs.model, &tokenizer)?;
    let eos_ids = stop_ids(ids, &eos_token_ids);
    let mut eval = read_eval(&inputs.eval)?;
    // The overlap check covers the whole evaluation file, not only the items scored.
    let data = training_data(
        &inputs.train,
        &tokenizer,
        ids,
        Some(&eval),
        settings.dev_size,
    )?;
    eval.truncate(settings.eval_limit);
    let (train, dev) = (data.train, data.dev);
    let lines = read_text_lines(&inputs.general_text, Some(settings.general_limit))?;
    let general = text_examples(&lines, &tokenizer, ids.bos)?;
    let general_tokens = general.iter().map(|g| g.len() - 1).sum();

    // Routing statistics and the selections, once.
    let model = loaded_model.valid();
    drop(loaded_model);
    let stats_dir = out.join("stats");
    std::fs::create_dir_all(&stats_dir).map_err(io(&stats_dir))?;
    let summary_path = stats_dir.join("summary.json");
    let stats_tokens_used = if summary_path.exists() {
        let tokens: serde_json::Value = crate::routing::read_json(&stats_dir.join("tokens.json"))?;
        tokens["tokens"].as_u64().unwrap_or(0)
    } else {
        let stats = sample_route_stats(&model, &train, settings.stats_tokens, settings.stats_seed);
        let tokens = stats.layers.values().next().map_or(0, |c| c.tokens);
        let summary = stats.summary();
        let json = serde_json::to_string(&summary.to_json()).expect("json");
        burnlp_core::data::write_atomic(&summary_path, json.as_bytes()).map_err(MoeError::from)?;
        write_json(
            &stats_dir.join("tokens.json"),
            &serde_json::json!({"tokens": tokens, "seed": settings.stats_seed}),
        )?;
        tokens
    };
    let summary = Summary::read(&summary_path)?;
    let token_cfg = select_experts(summary.scores(ScoreKind::Token), settings.token_p);
    let gate_cfg = select_experts(summary.scores(ScoreKind::Gate), settings.gate_p);
    write_json(&out.join("experts-token.json"), &token_cfg)?;
    write_json(&out.join("experts-gate.json"), &gate_cfg)?;
    let routed_experts = model_config.moe_layers().len() * model_config.n_routed_experts;
    let setup = Setup {
        settings: settings.clone(),
        train_records: data.records,
        dropped_overlap: data.dropped,
        train_used: train.len(),
        stats_tokens_used,
        selected: BTreeMap::from([
            ("esft-token".into(), token_cfg.count()),
            ("esft-gate".into(), gate_cfg.count()),
        ]),
        routed_experts,
        general_lines: general.len(),
        general_tokens,
    };
    write_json(&out.join("setup.json"), &setup)?;
    let shared = Shared {
        ids,
        eos_ids,
        tokenizer,
        train,
        dev,
        eval,
        general,
    };
    let aux_alpha = settings.aux_alpha.unwrap_or(model_config.aux_loss_alpha);

    if !results.iter().any(|r| r.method == "base") {
        let completions = out.join("runs").join("base").join("completions.jsonl");
        let (intent, ppl, eval_s) = score(&model, &shared, settings, inputs, &completions)?;
        let total = model.num_params();
        let result = RunResult {
            method: "base".into(),
            seed: 0,
            lr: 0.0,
            steps: 0,
            trainable_params: 0,
            total_params: total,
            train_s: 0.0,
            step_s: 0.0,
            intent_score: intent,
            intent_n: shared.eval.len(),
            general_ppl: ppl,
            eval_s,
            first_loss: None,
            last_loss: None,
            dev_loss: Some(mean_nll(&model, &shared.dev, settings.batch_size)),
        };
        tracing::info!(?result, "base model scored");
        append_result(&results_path, &result)?;
        results.push(result);
        write_report(out, &setup, &results)?;
    }
    drop(model);

    for &method in &settings.methods {
        for &seed in &settings.seeds {
            if results
                .iter()
                .any(|r| r.method == method.name() && r.seed == seed)
            {
                continue;
            }
            let run_dir = out
                .join("runs")
                .join(format!("{}-seed{seed}", method.name()));
            let (_, model) = crate::moe::load_pretrained(&inputs.model, device)?;
            let lr = settings.lr(method);
            let method_spec = match method {
                RealMethod::EsftToken => Method::Esft(token_cfg.clone()),
                RealMethod::EsftGate => Method::Esft(gate_cfg.clone()),
                RealMethod::Lora => Method::Lora {
                    rank: settings.lora_rank,
                    alpha: settings.lora_alpha,
                },
                RealMethod::Fft => Method::Fft,
            };
            let task = ChatLmTask {
                train: shared.train.clone(),
                dev: shared.dev.clone(),
                batch_size: settings.batch_size,
                aux_alpha,
            };
            let start = Instant::now();
            let (trained, report, log) = train_steps(
                model,
                &method_spec,
                &task,
                settings.steps,
                lr,
                Some(CLIP_NORM),
                seed,
                device,
            );
            let train_s = start.elapsed().as_secs_f64();
            let trained = trained.valid();
            let dev_loss = mean_nll(&trained, &shared.dev, settings.batch_size);
            write_step_log(&run_dir, &log)?;
            let (intent, ppl, eval_s) = score(
                &trained,
                &shared,
                settings,
                inputs,
                &run_dir.join("completions.jsonl"),
            )?;
            drop(trained);
            let result = RunResult {
                method: method.name().into(),
                seed,
                lr,
                steps: settings.steps,
                trainable_params: report.trainable,
                total_params: report.total,
                train_s,
                step_s: train_s / settings.steps.max(1) as f64,
                intent_score: intent,
                intent_n: shared.eval.len(),
                general_ppl: ppl,
                eval_s,
                first_loss: log.losses.first().copied(),
                last_loss: log.losses.last().copied(),
                dev_loss: Some(dev_loss),
            };
            tracing::info!(?result, "run finished");
            append_result(&results_path, &result)?;
            results.push(result);
            write_report(out, &setup, &results)?;
        }
    }
    write_report(out, &setup, &results)?;
    Ok(results)
}

/// Gradient clipping of every run (the core trainer's default).
pub const CLIP_NORM: f64 = 1.0;

fn write_step_log(run_dir: &Path, log: &StepLog) -> Result<(), MoeError> {
    std::fs::create_dir_all(run_dir).map_err(io(run_dir))?;
    let mut text = String::new();
    for (step, (loss, seconds)) in log.losses.iter().zip(&log.seconds).enumerate() {
        let row = serde_json::json!({"step": step + 1, "loss": loss, "seconds": seconds});
        let _ = writeln!(text, "{row}");
    }
    burnlp_core::data::write_atomic(run_dir.join("steps.jsonl"), text.as_bytes())?;
    Ok(())
}

/// Mean and sample standard deviation (0 for one value; 0 and 0 for none).
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    burnlp_core::metrics::mean_std(values).unwrap_or((0.0, 0.0))
}

/// The Markdown report of the results.
pub fn markdown(setup: &Setup, results: &[RunResult]) -> String {
    let s = &setup.settings;
    let mut md = String::from(
        "# ESFT vs LoRA vs FFT on the upcycled SmolLM2 MoE (official intent data)\n\n",
    );
    let _ = writeln!(
        md,
        "Training: {} of {} official intent conversations ({} dropped: their query is an \
         evaluation query; {} held out for the development loss), {} steps × batch {}, seeds {:?}. \
         Routing statistics on {} training tokens (official sampling: conversations shuffled \
         with seed {}, one at a time in the training format); ESFT-Token p = {} selects {} and \
         ESFT-Gate p = {} selects {} of {} routed experts.\n",
        setup.train_used,
        setup.train_records,
        setup.dropped_overlap,
        s.dev_size,
        s.steps,
        s.batch_size,
        s.seeds,
        setup.stats_tokens_used,
        s.stats_seed,
        s.token_p,
        setup.selected.get("esft-token").copied().unwrap_or(0),
        s.gate_p,
        setup.selected.get("esft-gate").copied().unwrap_or(0),
        setup.routed_experts,
    );
    let _ = writeln!(
        md,
        "Task score: the official intent scorer (exact match of intent and slots × 100) on the \
         first {} official evaluation items, greedy, at most {} new tokens, **zero-shot**: each \
         official few-shot prompt rewritten to its final query block in the training format \
         (the few-shot prompts are ≈ 1,880 tokens, ~16× a training conversation, too slow to decode on this CPU). General \
         ability: token perplexity of the first {} lines ({} tokens) of held-out English text, \
         never trained on.\n",
        s.eval_limit, s.max_new_tokens, setup.general_lines, setup.general_tokens,
    );
    let _ = writeln!(md, "Learning rates. {LR_POLICY}\n");
    md.push_str(
        "| method | lr | trainable params | intent score | general ppl | dev loss | seeds | train s/step |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    let mut order: Vec<String> = vec!["base".into()];
    order.extend(RealMethod::ALL.iter().map(|m| m.name().to_string()));
    for name in order {
        let runs: Vec<&RunResult> = results.iter().filter(|r| r.method == name).collect();
        let Some(first) = runs.first() else { continue };
        let (score, score_sd) = mean_std(&runs.iter().map(|r| r.intent_score).collect::<Vec<_>>());
        let (ppl, ppl_sd) = mean_std(&runs.iter().map(|r| r.general_ppl).collect::<Vec<_>>());
        let (step, _) = mean_std(&runs.iter().map(|r| r.step_s).collect::<Vec<_>>());
        let (dev, _) = mean_std(
            &runs
                .iter()
                .map(|r| r.dev_loss.unwrap_or(f64::NAN))
                .collect::<Vec<_>>(),
        );
        let seeds: Vec<String> = runs.iter().map(|r| r.seed.to_string()).collect();
        let (lr, trainable, step) = if name == "base" {
            ("—".to_string(), "—".to_string(), "—".to_string())
        } else {
            (
                format!("{:.0e}", first.lr),
                format!(
                    "{} ({:.1}%)",
                    first.trainable_params,
                    100.0 * first.trainable_params as f64 / first.total_params.max(1) as f64
                ),
                format!("{step:.2}"),
            )
        };
        let _ = writeln!(
            md,
            "| {name} | {lr} | {trainable} | {score:.1} ± {score_sd:.1} | {ppl:.2} ± {ppl_sd:.2} | {dev:.3} | {} | {step} |",
            seeds.join(","),
        );
    }
    md.push_str(
        "\nMean ± sample standard deviation over seeds (± 0 with one seed); dev loss: answer-token \
         cross-entropy on the held-out training conversations; train s/step: the optimizer steps \
         only (forward, backward, AdamW update; runs use the core AdamW update and clipping \
         without the trainer's multi-GB checkpoints, so an interrupted run restarts). Raw rows: \
         `results.jsonl`; completions per run: `runs/<method>-seed<s>/completions.jsonl` (official \
         format, re-scorable with `peft-moe score --task intent`).\n",
    );
    md
}

fn write_report(out: &Path, setup: &Setup, results: &[RunResult]) -> Result<(), MoeError> {
    burnlp_core::data::write_atomic(out.join("report.md"), markdown(setup, results).as_bytes())?;
    Ok(())
}

/// The expert configuration of an ESFT method from a selection file, checked against the
/// model's MoE layers.
pub fn read_expert_config(
    path: &Path,
    config: &crate::moe::MoeConfig,
) -> Result<ExpertConfig, MoeError> {
    let experts = ExpertConfig::read(path)?;
    for layer in experts.experts.keys() {
        let id: usize = layer.parse().map_err(|_| MoeError::Format {
            path: path.to_path_buf(),
            message: format!("layer `{layer}` is not a number"),
        })?;
        if !config.is_moe_layer(id) || id >= config.num_hidden_layers {
            return Err(MoeError::Format {
                path: path.to_path_buf(),
                message: format!("layer {id} is not a MoE layer of the model"),
            });
        }
    }
    Ok(experts)
}
