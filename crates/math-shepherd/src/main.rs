//! `math-shepherd` command-line interface.

mod args;

use args::*;
use burnlp_core::cli::DemoArgs;
use burnlp_core::report::print_rows;

use anyhow::{Context, Result};
use std::time::Instant;

use burnlp_core::data::write_jsonl;
use burnlp_core::device::{cpu, parse_device, training_device};
use indicatif::ProgressBar;
use math_shepherd::annotate::{
    AnnotateSettings, ProblemRecord, annotate, read_annotated, read_inputs, read_problems,
};
use math_shepherd::check_answers;
use math_shepherd::demo_real::{RealDemoSettings, real_model_path, run_real_demo};
use math_shepherd::experiment::{
    PipelineSettings, run_pipeline, sample_candidates, synthetic_test_problems, write_report,
};
use math_shepherd::lm::{LanguageModel, SOLUTION_STOP, SampleParams, context_length};
use math_shepherd::lm::{PolicySettings, train_policy};
use math_shepherd::ppo::{PpoCheckpoints, PpoSettings, ppo, test_accuracy};
use math_shepherd::prm::{RewardKind, RewardModel, RewardSettings, train_reward_model};
use math_shepherd::prm800k::convert_prm800k;
use math_shepherd::sample::{SampleControl, SampleSettings, sample_solutions};
use math_shepherd::server::{ServerLimits, start_server};
use math_shepherd::synth::{SynthConfig, generate_problems};
use math_shepherd::verify::{curves, write_verification};

fn main() {
    burnlp_runtime::main(run, burnlp_core::cli::exit_code);
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Answers(args) => answers(&args),
        Command::Generate(args) => {
            let problems = generate_problems(args.count, args.seed, &SynthConfig::default());
            write_jsonl(&args.out, &problems)?;
            Ok(())
        }
        Command::TrainPolicy(args) => train_policy_cmd(&args),
        Command::Sample(args) => sample_cmd(&args),
        Command::Serve(args) => serve_cmd(&args),
        Command::Annotate(args) => annotate_cmd(&args),
        Command::TrainPrm(args) => train_reward_cmd(&args, RewardKind::Prm),
        Command::TrainOrm(args) => train_reward_cmd(&args, RewardKind::Orm),
        Command::Verify(args) => verify_cmd(&args),
        Command::Ppo(args) => ppo_cmd(&args),
        Command::Demo(args) => demo_cmd(&args),
        Command::Experiment(args) => experiment_cmd(&args),
        Command::ConvertPrm800k(args) => {
            let records = convert_prm800k(&args.input, !args.neutral_bad)
                .with_context(|| format!("converting {}", args.input.display()))?;
            write_jsonl(&args.out, &records)?;
            println!(
                "{} trajectories written to {}",
                records.len(),
                args.out.display()
            );
            Ok(())
        }
    }
}

fn sample_cmd(args: &SampleArgs) -> Result<()> {
    let mut problems: Vec<ProblemRecord> = read_problems(&args.problems)?;
    if let Some(limit) = args.limit {
        problems.truncate(limit);
    }
    let completer = args.completer.build()?;
    let settings = SampleSettings {
        params: SampleParams {
            n: args.n,
            max_tokens: args.max_tokens,
            temperature: args.temperature,
            seed: args.seed,
            stop: vec![SOLUTION_STOP.into()],
            ..SampleParams::default()
        },
        block: args.block,
        format: args.format,
    };
    let c = &args.completer;
    let control = SampleControl {
        resume: args.resume,
        // What else decides the solutions (a local model's batches are seeded per batch).
        settings: serde_json::json!({
            "problems": args.problems,
            "completer": c.completer,
            "batch_rows": c.batch_rows,
            "model_name": c.model_name,
            "prompts_per_request": c.prompts_per_request,
            "prompt_template": c.prompt_template,
            "chat_template": c.chat_template,
        }),
        halt_after: None,
    };
    let summary = sample_solutions(
        &problems,
        completer.as_ref(),
        &settings,
        &args.out,
        &control,
    )
    .with_context(|| format!("sampling solutions into {}", args.out.display()))?;
    println!(
        "{} solutions written to {} ({:.3} correct)",
        summary.solutions,
        args.out.display(),
        summary.correct as f64 / summary.solutions.max(1) as f64
    );
    Ok(())
}

fn serve_cmd(args: &ServeArgs) -> Result<()> {
    let device = parse_device(&args.device)?;
    let lm = LanguageModel::load(&args.model, &device)
        .with_context(|| format!("loading {}", args.model))?;
    let context = context_length(&args.model);
    let max_prompt_tokens = match (args.max_prompt_tokens, context) {
        (Some(limit), Some(context)) if limit > context => {
            anyhow::bail!(
                "--max-prompt-tokens {limit} is over the model's context length {context}"
            )
        }
        (Some(limit), _) => limit,
        (None, Some(context)) => context,
        (None, None) => ServerLimits::default().max_prompt_tokens,
    };
    // Freed memory stays for reuse, but a large request's can be handed back afterwards.
    burnlp_runtime::keep_freed_memory_until_released();
    let limits = ServerLimits {
        max_body_bytes: args.max_body_bytes,
        max_n: args.max_n,
        max_tokens: args.max_tokens,
        max_prompt_tokens,
        request_timeout: std::time::Duration::from_secs_f64(args.request_timeout),
        queue: args.queue,
        release_memory: Some(burnlp_runtime::release_freed_memory),
        ..ServerLimits::default()
    };
    let name = args.model.clone();
    let handle = start_server(lm, &name, &args.addr, args.workers, limits)?;
    // SIGINT or SIGTERM: stop accepting, answer what was accepted, exit 0; a second signal
    // exits at once.
    let stop = handle.shutdown_flag();
    ctrlc::set_handler(move || {
        if stop.swap(true, std::sync::atomic::Ordering::Relaxed) {
            std::process::exit(130);
        }
        eprintln!("shutting down: finishing accepted requests");
    })
    .context("installing the SIGINT/SIGTERM handler")?;
    eprintln!(
        "serving {name} on http://{}/v1/completions (prompts up to {max_prompt_tokens} tokens)",
        handle.addr()
    );
    handle.join();
    eprintln!("shut down");
    Ok(())
}

fn annotate_cmd(args: &AnnotateArgs) -> Result<()> {
    let (problems, solutions) = read_inputs(&args.problems, &args.solutions)?;
    let completer = args.completer.build()?;
    let settings = AnnotateSettings {
        n: args.n,
        sampling: SampleParams {
            max_tokens: args.max_tokens,
            temperature: args.temperature,
            seed: args.seed,
            stop: vec![SOLUTION_STOP.into()],
            ..SampleParams::default()
        },
        format: args.format,
        task: args.task.clone(),
        limit: args.limit,
        parallel: args.parallel,
    };
    let bar = ProgressBar::new(solutions.len() as u64);
    let start = Instant::now();
    let summary = annotate(
        completer.as_ref(),
        &problems,
        &solutions,
        &settings,
        &args.out,
        |done, _| bar.set_position(done as u64),
    )?;
    bar.finish_and_clear();
    println!(
        "{}",
        serde_json::json!({
            "skipped": summary.skipped, "annotated": summary.annotated,
            "remaining": summary.remaining, "seconds": start.elapsed().as_secs_f64(),
        })
    );
    Ok(())
}

fn train_policy_cmd(args: &TrainPolicyArgs) -> Result<()> {
    let device = training_device(&args.device)?;
    let settings = PolicySettings {
        hidden: args.hidden,
        layers: args.layers,
        steps: args.steps,
        batch_size: args.batch_size,
        lr: args.lr,
        seed: args.seed,
        ..PolicySettings::default()
    };
    let start = Instant::now();
    let (_, accuracy) = train_policy(
        &settings,
        &SynthConfig::default(),
        &args.out,
        &device,
        true,
        args.resume,
    )
    .with_context(|| format!("training the policy in {}", args.out.display()))?;
    println!(
        "policy written to {}: greedy dev accuracy {accuracy:.3} ({:.1}s)",
        args.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn answers(args: &AnswersArgs) -> Result<()> {
    let report = check_answers(&args.file, args.format)
        .with_context(|| format!("checking answers of {}", args.file.display()))?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    println!(
        "{}: {}/{} extracted answers match ({:.2}%)",
        args.file.display(),
        report.matched,
        report.total,
        100.0 * report.share
    );
    if let Some(marker) = report.marker_matched {
        println!(
            "(from the body without the #### line; with it: {marker}/{} match)",
            report.total
        );
    }
    for m in &report.mismatches {
        println!(
            "  record {}: extracted {:?}, gold {:?}",
            m.index, m.extracted, m.gold
        );
    }
    Ok(())
}

fn train_reward_cmd(args: &TrainRewardArgs, kind: RewardKind) -> Result<()> {
    let records = read_annotated(&args.data)?;
    let device = training_device(&args.device)?;
    let settings = RewardSettings {
        kind,
        labels: args.labels,
        steps: args.steps,
        batch_size: args.batch_size,
        lr: args.lr,
        dev_share: 0.1,
        seed: args.seed,
        lora: args.lora(),
    };
    let (_, metrics) = train_reward_model(
        &records,
        &args.backbone,
        &settings,
        &args.out,
        &device,
        true,
        args.resume,
    )
    .with_context(|| format!("training a reward model in {}", args.out.display()))?;
    println!("{}", serde_json::to_string(&metrics)?);
    Ok(())
}

fn verify_cmd(args: &VerifyArgs) -> Result<()> {
    let device = parse_device(&args.device)?;
    let mut problems: Vec<ProblemRecord> = match &args.problems {
        Some(path) => read_problems(path)?,
        None => synthetic_test_problems(args.synthetic),
    };
    if let Some(limit) = args.limit {
        problems.truncate(limit);
    }
    let policy = LanguageModel::load(&args.policy, &device)
        .with_context(|| format!("loading {}", args.policy))?;
    let prm = args
        .prm
        .as_ref()
        .map(|d| RewardModel::load(d, &device))
        .transpose()?;
    let orm = args
        .orm
        .as_ref()
        .map(|d| RewardModel::load(d, &device))
        .transpose()?;
    let max_n = args.n.iter().copied().max().unwrap_or(1);
    let start = Instant::now();
    let params = SampleParams {
        n: max_n,
        temperature: args.temperature,
        seed: args.seed,
        max_tokens: args.max_tokens,
        ..SampleParams::default()
    };
    let candidates = sample_candidates(&policy, &problems, &params, prm.as_ref(), orm.as_ref())?;
    let points = curves(&candidates, &args.n, args.format);
    let table = write_verification(&points, &args.out)
        .with_context(|| format!("writing to {}", args.out.display()))?;
    println!(
        "{table}\n({} problems, {:.1}s)",
        problems.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn demo_cmd(args: &DemoArgs) -> Result<()> {
    let dir = args.dir("math-shepherd");
    std::fs::create_dir_all(&dir)?;
    let device = training_device("cpu")?;
    let mut rows = run_pipeline(&PipelineSettings::demo(), &dir, &device, !args.json)?.rows;
    match real_model_path() {
        Ok(model) => {
            let report = run_real_demo(&model, &RealDemoSettings::demo(), &cpu())
                .with_context(|| format!("the real-model rows on {}", model.display()))?;
            rows.extend(report.rows);
        }
        Err(missing) => eprintln!(
            "skipped the real-model rows: {} is absent",
            missing.display()
        ),
    }
    Ok(print_rows(&rows, args.json)?)
}

fn experiment_cmd(args: &ExperimentArgs) -> Result<()> {
    let settings = if args.quick {
        PipelineSettings::demo()
    } else {
        PipelineSettings::full()
    };
    std::fs::create_dir_all(&args.work_dir)?;
    let device = training_device(&args.device)?;
    let start = Instant::now();
    let report = run_pipeline(&settings, &args.work_dir, &device, true)?;
    let command = format!(
        "math-shepherd experiment{}",
        if args.quick { " --quick" } else { "" }
    );
    let header = format!(
        "Generated by `{command}` in {:.0} s ({}).",
        start.elapsed().as_secs_f64(),
        args.device
    );
    write_report(&report, &settings, &header, &args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!("report written to {}", args.out.display());
    Ok(())
}

fn ppo_cmd(args: &PpoArgs) -> Result<()> {
    let device = training_device(&args.device)?;
    let plain = parse_device(&args.device)?;
    let rm = RewardModel::load(&args.reward, &plain)
        .with_context(|| format!("loading {}", args.reward.display()))?;
    let before = test_accuracy(
        &LanguageModel::load(&args.policy.to_string_lossy(), &plain)?,
        args.test_problems,
    )?;
    let settings = PpoSettings {
        iterations: args.iterations,
        batch_size: args.batch_size,
        lr: args.lr,
        kl_coef: args.kl_coef,
        ..PpoSettings::default()
    };
    let checkpoints = PpoCheckpoints {
        run_dir: &args.out,
        resume: args.resume,
    };
    let (tuned, stats) = ppo(
        &args.policy,
        &rm,
        &settings,
        &device,
        Some(checkpoints),
        |s| eprintln!("{}", serde_json::to_string(s).unwrap_or_default()),
    )?;
    tuned.save(&args.out)?;
    write_jsonl(args.out.join("ppo.jsonl"), &stats)?;
    let after = test_accuracy(&tuned, args.test_problems)?;
    println!(
        "{}",
        serde_json::json!({"greedy_accuracy_before": before, "greedy_accuracy_after": after})
    );
    Ok(())
}
