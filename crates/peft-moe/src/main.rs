//! `peft-moe` command-line interface: routing statistics, expert selection, ESFT / LoRA / FFT
//! training, evaluation, the demo and the full synthetic comparison.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::{Int, Tensor, TensorData};
use burnlp_core::device::{parse_device, training_device};
use burnlp_core::nn::llama::{CausalLm, LlamaInput};
use burnlp_core::report::print_rows;
use peft_moe::demo_real::{self, RealDemoSettings};
use peft_moe::esft_score::{EsftTask, score_completions};
use peft_moe::experiment::{self, Settings, tiny_config};
use peft_moe::moe::{MoeConfig, load_pretrained, save_pretrained};
use peft_moe::real::{self};
use peft_moe::real_experiment::{self, RealInputs, RealSettings, read_expert_config};
use peft_moe::routing::{
    RouteStats, ScoreKind, Summary, concentration, heatmap_svg, select_experts,
};
use peft_moe::tasks::{TASKS, read_examples, splits, write_examples};
use peft_moe::train::{Method, exact_match, route_stats};
use peft_moe::upcycle::{
    ChatTemplateSource, UpcycleConfig, load_with_tokenizer, param_counts, save_tokenizer, upcycle,
};

mod args;

use args::{
    BenchStepArgs, Cli, Command, DataArgs, DemoCmdArgs, EvalArgs, ExperimentArgs,
    ExperimentEsftArgs, PerplexityArgs, RouteStatsArgs, ScoreArgs, SelectArgs, TrainArgs,
    UpcycleArgs,
};

fn main() {
    burnlp_runtime::main(run, burnlp_core::cli::exit_code);
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::RouteStats(args) => route_stats_cmd(&args),
        Command::Select(args) => select_cmd(&args),
        Command::Data(args) => data_cmd(&args),
        Command::Train(args) => train_cmd(&args),
        Command::Eval(args) => eval_cmd(&args),
        Command::Demo(args) => demo_cmd(&args),
        Command::Experiment(args) => experiment_cmd(&args),
        Command::Score(args) => score_cmd(&args),
        Command::Upcycle(args) => upcycle_cmd(&args),
        Command::Perplexity(args) => perplexity_cmd(&args),
        Command::BenchStep(args) => bench_step_cmd(&args),
        Command::ExperimentEsft(args) => experiment_esft_cmd(&args),
    }
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    burnlp_core::data::write_atomic(path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

fn route_stats_cmd(args: &RouteStatsArgs) -> Result<()> {
    let stats = match (&args.from_logs, &args.model, &args.data) {
        (Some(dir), _, _) => RouteStats::from_logs(dir, args.top_k, 0)
            .with_context(|| format!("reading routing logs in {}", dir.display()))?,
        (None, Some(model), Some(data)) => {
            let device = parse_device(&args.device)?;
            let (_, model) = load_pretrained(model, &device)
                .with_context(|| format!("loading {}", model.display()))?;
            let examples = read_examples(data)?;
            route_stats(&model, &examples, args.tokens)
        }
        (None, Some(dir), None) if args.esft_train.is_some() => {
            let train = args.esft_train.as_deref().context("--esft-train")?;
            let device = parse_device(&args.device)?;
            let loaded = load_with_tokenizer(dir, &device)
                .with_context(|| format!("loading {}", dir.display()))?;
            let ids = real::chat_ids(dir, &loaded.tokenizer)?;
            let data = real::training_data(train, &loaded.tokenizer, ids, None, 0)?;
            real::sample_route_stats(&loaded.model, &data.train, args.tokens, args.seed)
        }
        _ => {
            bail!(
                "give either --from-logs DIR or --model M with --data task.jsonl or --esft-train F"
            )
        }
    };
    let summary = stats.summary();
    write(
        &args.out.join("summary.json"),
        &serde_json::to_string(&summary.to_json())?,
    )?;
    write(
        &args.out.join("counts.json"),
        &serde_json::to_string(&stats)?,
    )?;
    let conc = concentration(&summary.token_scores);
    write(
        &args.out.join("concentration.json"),
        &serde_json::to_string_pretty(&conc)?,
    )?;
    for kind in [ScoreKind::Token, ScoreKind::Gate] {
        let svg = heatmap_svg(kind.summary_key(), summary.scores(kind));
        write(
            &args.out.join(format!("heatmap_{}.svg", kind.summary_key())),
            &svg,
        )?;
    }
    let tokens: Vec<u64> = stats.layers.values().map(|c| c.tokens).collect();
    eprintln!(
        "{} MoE layers, {} tokens per layer; wrote {}",
        stats.layers.len(),
        tokens.first().copied().unwrap_or(0),
        args.out.display()
    );
    for c in conc {
        println!("{}", serde_json::to_string(&c)?);
    }
    Ok(())
}

fn select_cmd(args: &SelectArgs) -> Result<()> {
    if !(args.p > 0.0 && args.p <= 1.0) {
        bail!("--p must be in (0, 1], got {}", args.p);
    }
    let path = args.stats.join("summary.json");
    let summary = Summary::read(&path)?;
    let config = select_experts(summary.scores(args.score), args.p);
    write(&args.out, &serde_json::to_string(&config)?)?;
    eprintln!(
        "selected {} experts over {} layers -> {}",
        config.count(),
        config.experts.len(),
        args.out.display()
    );
    Ok(())
}

fn data_cmd(args: &DataArgs) -> Result<()> {
    std::fs::create_dir_all(&args.out)?;
    for task in TASKS {
        let (train, test) = splits(task, args.train, args.test, args.seed)?;
        write_examples(&args.out.join(format!("{task}.train.jsonl")), &train)?;
        write_examples(&args.out.join(format!("{task}.test.jsonl")), &test)?;
    }
    eprintln!("wrote {} tasks to {}", TASKS.len(), args.out.display());
    Ok(())
}

fn train_cmd(args: &TrainArgs) -> Result<()> {
    let device = training_device(&args.device)?;
    let (config, model) = match (&args.model, &args.init) {
        (Some(dir), _) => {
            load_pretrained(dir, &device).with_context(|| format!("loading {}", dir.display()))?
        }
        (None, Some(init)) => {
            let config = if init == "tiny" {
                tiny_config()
            } else {
                MoeConfig::from_file(Path::new(init))?
            };
            let model = config.init(&device);
            (config, model)
        }
        (None, None) => bail!("give --model DIR to fine-tune or --init CONFIG|tiny to pretrain"),
    };
    let method = match args.method.as_str() {
        "esft" | "esft-token" | "esft-gate" => {
            let path = args
                .experts
                .as_ref()
                .context("--method esft needs --experts experts.json")?;
            Method::Esft(read_expert_config(path, &config)?)
        }
        "lora" => Method::Lora {
            rank: args.rank,
            alpha: args.alpha,
        },
        "fft" => Method::Fft,
        other => {
            bail!("unknown --method `{other}` (expected esft, esft-token, esft-gate, lora or fft)")
        }
    };
    if let Some(esft_train) = &args.esft_train {
        return train_esft_cmd(args, esft_train, config, model, &method, &device);
    }
    let dev = args.dev.as_ref().context("--dev is required")?;
    let mut train = Vec::new();
    for path in &args.data {
        train.extend(read_examples(path)?);
    }
    let dev = read_examples(dev)?;
    let (model, report, seconds) = experiment::finetune(
        model,
        &method,
        &train,
        &dev,
        args.steps,
        args.lr,
        args.batch_size,
        args.aux_alpha.unwrap_or(config.aux_loss_alpha),
        args.seed,
        &args.out,
        &device,
        args.resume,
    )?;
    let model = model.valid();
    let target = model_dir(&args.out);
    save_pretrained(&target, &config, &model)?;
    if let Method::Esft(experts) = &method {
        write(
            &args.out.join("expert_cfg.json"),
            &serde_json::to_string(experts)?,
        )?;
    }
    let row = serde_json::json!({
        "method": method.name(),
        "trainable_params": report.trainable,
        "total_params": report.total,
        "optimizer_bytes": report.optimizer_bytes,
        "train_s": seconds,
        "step_ms": 1000.0 * seconds / args.steps.max(1) as f64,
        "model": target,
    });
    println!("{row}");
    Ok(())
}

/// `train --esft-train`: the official conversations, answer-only loss from the labels.
fn train_esft_cmd(
    args: &TrainArgs,
    esft_train: &Path,
    config: MoeConfig,
    model: peft_moe::moe::MoeLm,
    method: &Method,
    device: &burnlp_core::burn::tensor::Device,
) -> Result<()> {
    let dir = args
        .model
        .as_deref()
        .context("--esft-train needs --model")?;
    let tokenizer = burnlp_core::tokenize::Tokenizer::from_file(dir.join("tokenizer.json"))
        .with_context(|| format!("reading {}", dir.join("tokenizer.json").display()))?;
    let ids = real::chat_ids(dir, &tokenizer)?;
    let eval = args
        .exclude_eval
        .as_ref()
        .map(peft_moe::esft_data::read_eval)
        .transpose()?;
    let data = real::training_data(esft_train, &tokenizer, ids, eval.as_deref(), args.dev_size)?;
    eprintln!(
        "{} conversations: {} trained on, {} held out for the development loss, {} dropped \
         (query in the evaluation file)",
        data.records,
        data.train.len(),
        data.dev.len(),
        data.dropped
    );
    let n_train = data.train.len();
    let task = real::ChatLmTask {
        train: data.train,
        dev: data.dev,
        batch_size: args.batch_size,
        aux_alpha: args.aux_alpha.unwrap_or(config.aux_loss_alpha),
    };
    let run = experiment::FinetuneRun {
        steps: args.steps,
        lr: args.lr,
        batch_size: args.batch_size,
        seed: args.seed,
        run_dir: &args.out,
        resume: args.resume,
    };
    let (model, report, seconds) =
        experiment::finetune_task(model, method, &task, n_train, &run, device)?;
    let target = model_dir(&args.out);
    real::save_with_tokenizer(dir, &target, &config, &model.valid())?;
    if let Method::Esft(experts) = method {
        write(
            &args.out.join("expert_cfg.json"),
            &serde_json::to_string(experts)?,
        )?;
    }
    let row = serde_json::json!({
        "method": args.method,
        "trainable_params": report.trainable,
        "total_params": report.total,
        "optimizer_bytes": report.optimizer_bytes,
        "train_s": seconds,
        "step_ms": 1000.0 * seconds / args.steps.max(1) as f64,
        "dropped_overlap": data.dropped,
        "model": target,
    });
    println!("{row}");
    Ok(())
}

fn model_dir(run: &Path) -> PathBuf {
    run.join("model")
}

fn eval_cmd(args: &EvalArgs) -> Result<()> {
    let device = parse_device(&args.device)?;
    if let Some(eval) = &args.esft_eval {
        if args.task != EsftTask::Intent {
            bail!("--esft-eval scores only --task intent (the other tasks need a judge model)");
        }
        let out = args.out.as_ref().context("--esft-eval needs --out")?;
        let completions = real::eval_model_dir(
            &args.model,
            eval,
            args.limit,
            args.prompt,
            args.max_new_tokens,
            args.batch_size,
            &device,
        )?;
        real::write_completions(out, &completions)?;
        let scores: Vec<f64> = completions.iter().map(|c| c.score).collect();
        let row = serde_json::json!({
            "esft_task": args.task.name(),
            "n": completions.len(),
            "score": peft_moe::esft_score::task_score(&scores),
            "prompt": args.prompt,
            "completions": out,
        });
        println!("{row}");
        return Ok(());
    }
    let (_, model) = load_pretrained(&args.model, &device)
        .with_context(|| format!("loading {}", args.model.display()))?;
    for path in &args.data {
        let examples = read_examples(path)?;
        let score = exact_match(&model, &examples);
        let row = serde_json::json!({
            "data": path, "metric": "exact_match", "score": score, "examples": examples.len(),
        });
        println!("{row}");
    }
    Ok(())
}

fn demo_cmd(args: &DemoCmdArgs) -> Result<()> {
    let start = Instant::now();
    let device = training_device("cpu")?;
    let settings = Settings {
        seed: args.seed,
        ..Settings::demo()
    };
    let report = experiment::run(&settings, &args.demo.dir("peft-moe"), &device)?;
    let mut rows = experiment::demo_rows(&report, start);
    match demo_real::find_smollm2() {
        Ok(gguf) => rows.extend(demo_real::rows(
            &gguf,
            &RealDemoSettings::new(args.seed),
            &device,
        )?),
        Err(missing) => eprintln!("demo: {missing}; SmolLM2 rows skipped"),
    }
    Ok(print_rows(&rows, args.demo.json)?)
}

fn experiment_cmd(args: &ExperimentArgs) -> Result<()> {
    let device = training_device(&args.device)?;
    let mut settings = if args.quick {
        Settings::demo()
    } else {
        Settings::full()
    };
    if let Some(steps) = args.pretrain_steps {
        settings.pretrain_steps = steps;
    }
    if let Some(steps) = args.finetune_steps {
        settings.finetune_steps = steps;
    }
    let start = Instant::now();
    let report = experiment::run(&settings, &args.runs, &device)?;
    let figures = copy_figures(&args.out, &args.runs.join("stats"))?;
    let mut md = experiment::markdown(&report, &figures);
    md.push_str(&format!(
        "\nTotal wall time {:.0} s. Raw numbers: `{}`.\n",
        start.elapsed().as_secs_f64(),
        args.runs.join("report.json").display()
    ));
    write(
        &args.runs.join("report.json"),
        &serde_json::to_string_pretty(&report)?,
    )?;
    write(&args.out, &md)?;
    let scores: BTreeMap<_, _> = report
        .methods
        .iter()
        .map(|m| (m.method.clone(), m.task_score))
        .collect();
    eprintln!(
        "wrote {}; target-task scores {scores:?}",
        args.out.display()
    );
    Ok(())
}

/// Copies the heat maps (`stats/<task>/heatmap_*.svg`) into a folder named after the report
/// (`docs/results/peft-moe.md` → `docs/results/peft-moe/<task>/`), so the report's links work
/// wherever it is read; returns that folder relative to the report.
fn copy_figures(report: &Path, stats: &Path) -> Result<String> {
    let name = report
        .file_stem()
        .context("the report path has no file name")?
        .to_string_lossy()
        .to_string();
    let target = report.with_file_name(&name);
    for entry in std::fs::read_dir(stats).with_context(|| format!("reading {}", stats.display()))? {
        let task_dir = entry?.path();
        if !task_dir.is_dir() {
            continue;
        }
        let task = task_dir.file_name().context("task folder name")?;
        for svg in std::fs::read_dir(&task_dir)? {
            let svg = svg?.path();
            if svg.extension().is_some_and(|e| e == "svg") {
                let dest = target
                    .join(task)
                    .join(svg.file_name().context("figure name")?);
                std::fs::create_dir_all(dest.parent().context("figure folder")?)?;
                std::fs::copy(&svg, &dest)
                    .with_context(|| format!("copying {} to {}", svg.display(), dest.display()))?;
            }
        }
    }
    Ok(name)
}

/// Median milliseconds of three forward passes (after one warm-up) of `ids` through `model`.
fn time_forward<
    F: burnlp_core::nn::llama::FeedForward,
    A: burnlp_core::nn::llama::SelfAttention,
>(
    model: &burnlp_core::nn::llama::Llama<F, A>,
    ids: &[u32],
) -> f64 {
    let run = || {
        let start = Instant::now();
        let logits = model.forward(token_input(ids, &model.device()), None);
        let _ = logits.into_data();
        start.elapsed().as_secs_f64() * 1000.0
    };
    run();
    let mut times: Vec<f64> = (0..3).map(|_| run()).collect();
    times.sort_by(f64::total_cmp);
    times[1]
}

fn token_input(ids: &[u32], device: &burnlp_core::burn::tensor::Device) -> LlamaInput {
    LlamaInput::new(Tensor::<2, Int>::from_data(
        TensorData::new(ids.iter().map(|&i| i as i64).collect(), [1, ids.len()]),
        device,
    ))
}

fn upcycle_cmd(args: &UpcycleArgs) -> Result<()> {
    let device = args.device.inference()?;
    let start = Instant::now();
    let config = UpcycleConfig {
        experts: args.experts,
        top_k: args.top_k,
        noise_std: args.noise_std,
        router_std: args.router_std,
        seed: args.seed,
        dense_layers: args.dense_layers,
        shared_expert: args.shared_expert,
    };
    // The settings first (before the time a large model takes to load), then against the
    // model's depth.
    config.validate(usize::MAX).map_err(anyhow::Error::msg)?;
    let lm =
        CausalLm::load(&args.model, &device).with_context(|| format!("loading {}", args.model))?;
    let template = ChatTemplateSource::of_location(&lm.location, &lm.tokenizer, &lm.config)?;
    config
        .validate(lm.model.layers.len())
        .map_err(anyhow::Error::msg)?;
    let prompt = lm.tokenizer.encode(&args.check_prompt, true)?.ids;
    if prompt.is_empty() {
        bail!("--check-prompt encodes to no tokens");
    }
    let bench: Vec<u32> = prompt
        .iter()
        .copied()
        .cycle()
        .take(args.bench_tokens)
        .collect();
    let dense_params = lm.model.num_params();
    let dense_logits = lm.model.forward(token_input(&prompt, &device), None);
    let dense_ms = (!bench.is_empty()).then(|| time_forward(&lm.model, &bench));
    let (model, moe_config) = upcycle(lm.model, &config, &device)?;
    let moe_logits = model.forward(token_input(&prompt, &device), None);
    let max_abs_diff = (moe_logits - dense_logits.clone())
        .abs()
        .max()
        .into_scalar::<f32>();
    let max_abs_logit = dense_logits.abs().max().into_scalar::<f32>();
    let moe_ms = (!bench.is_empty()).then(|| time_forward(&model, &bench));
    let counts = param_counts(&model);
    save_pretrained(&args.out, &moe_config, &model)?;
    save_tokenizer(&args.out, &lm.tokenizer, template.as_ref())?;
    let bytes = std::fs::metadata(args.out.join("model.safetensors"))
        .map(|m| m.len())
        .unwrap_or(0);
    let row = serde_json::json!({
        "model": args.out,
        "experts": args.experts,
        "top_k": args.top_k,
        "dense_params": dense_params,
        "total_params": counts.total,
        "active_params_per_token": counts.active_per_token,
        "safetensors_bytes": bytes,
        "check_tokens": prompt.len(),
        "max_abs_logit_diff": max_abs_diff,
        "max_abs_logit": max_abs_logit,
        "bench_tokens": args.bench_tokens,
        "dense_forward_ms": dense_ms,
        "moe_forward_ms": moe_ms,
        "chat_template": template.is_some(),
        "wall_s": start.elapsed().as_secs_f64(),
    });
    println!("{row}");
    Ok(())
}

fn bench_step_cmd(args: &BenchStepArgs) -> Result<()> {
    let device = training_device(&args.device)?;
    let loaded = load_with_tokenizer(&args.model, &device)
        .with_context(|| format!("loading {}", args.model.display()))?;
    let method = match args.method.as_str() {
        "esft" | "esft-token" | "esft-gate" => {
            let path = args
                .experts
                .as_ref()
                .context("--method esft needs --experts")?;
            Method::Esft(read_expert_config(path, &loaded.config)?)
        }
        "lora" => Method::Lora {
            rank: 8,
            alpha: 16.0,
        },
        "fft" => Method::Fft,
        other => bail!("unknown --method `{other}` (expected esft, lora or fft)"),
    };
    let ids = real::chat_ids(&args.model, &loaded.tokenizer)?;
    let data = real::training_data(&args.esft_train, &loaded.tokenizer, ids, None, 0)?;
    let task = real::ChatLmTask {
        train: data.train,
        dev: Vec::new(),
        batch_size: args.batch_size,
        aux_alpha: loaded.config.aux_loss_alpha,
    };
    let (_, report, log) = real::train_steps(
        loaded.model,
        &method,
        &task,
        args.steps,
        args.lr,
        Some(1.0),
        args.seed,
        &device,
    );
    let row = serde_json::json!({
        "method": args.method, "batch_size": args.batch_size,
        "trainable_params": report.trainable, "total_params": report.total,
        "losses": log.losses, "step_s": log.seconds,
    });
    println!("{row}");
    Ok(())
}

fn perplexity_cmd(args: &PerplexityArgs) -> Result<()> {
    let device = parse_device(&args.device)?;
    let (ppl, lines, tokens) = real::perplexity_of_dir(
        &args.model,
        &args.text,
        args.limit,
        args.batch_size,
        &device,
    )?;
    let row = serde_json::json!({
        "model": args.model, "text": args.text, "lines": lines, "tokens": tokens,
        "perplexity": ppl,
    });
    println!("{row}");
    Ok(())
}

fn experiment_esft_cmd(args: &ExperimentEsftArgs) -> Result<()> {
    let device = training_device(&args.device)?;
    let mut settings = RealSettings::new(
        args.methods.clone(),
        args.seeds.clone(),
        args.steps,
        args.batch_size,
    );
    settings.eval_limit = args.eval_limit;
    settings.general_limit = args.general_limit;
    settings.stats_tokens = args.stats_tokens;
    settings.max_new_tokens = args.max_new_tokens;
    for (method, lr) in &args.lrs {
        settings.lrs.insert(method.name().to_string(), *lr);
    }
    let inputs = RealInputs {
        model: args.model.clone(),
        train: args.esft_train.clone(),
        eval: args.esft_eval.clone(),
        general_text: args.general_text.clone(),
    };
    let results = real_experiment::run(&inputs, &settings, &args.out, &device)?;
    for r in &results {
        println!("{}", serde_json::to_string(r)?);
    }
    eprintln!("wrote {}", args.out.join("report.md").display());
    Ok(())
}

fn score_cmd(args: &ScoreArgs) -> Result<()> {
    let report = score_completions(args.task, &args.completions)?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    let source = if report.rescored {
        "re-scored"
    } else {
        "stored judge scores"
    };
    println!(
        "{}: n = {}, score = {:.2} ({source}), stored = {:.2}, mismatches = {}",
        report.task,
        report.n,
        report.score,
        report.stored_score,
        report.mismatches.len()
    );
    for m in report.mismatches.iter().take(10) {
        println!(
            "  line {}: stored {}, computed {}",
            m.line, m.stored, m.computed
        );
    }
    Ok(())
}
