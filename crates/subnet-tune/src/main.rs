//! `subnet-tune`: fine-tune an encoder with Child-Tuning, Bi-Drop or S4-Tuning.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use burnlp_core::cli::{DemoArgs, ModelArgs, RunArgs};
use burnlp_core::report::print_rows;
use clap::{Args, Parser, Subcommand};
use subnet_tune::experiment::{self, ExperimentConfig};
use subnet_tune::{DataFile, SubnetConfig, Task, masks, read_files};
use text_cls::Run;

/// Sub-network fine-tuning: Child-Tuning (F and D), Bi-Drop and S4-Tuning.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fine-tune with a strategy and keep the best model on the dev set.
    Train(TrainArgs),
    /// Score a trained model with the task's GLUE metrics.
    Eval(EvalArgs),
    /// Label data with a trained model (JSON lines: text, pair, label, probabilities).
    Predict(PredictArgs),
    /// Print a run's fixed masks: density per layer, and overlap between languages (S4).
    Masks(MasksArgs),
    /// Compare strategies over seeds and training sizes; write a Markdown table.
    Experiment(ExperimentArgs),
    /// S4-Tuning's Tatoeba setting: per-language vs shared sub-networks vs vanilla, few-shot.
    Tatoeba(TatoebaArgs),
    /// Child-Tuning_D against vanilla fine-tuning on the embedded synthetic task.
    Demo(DemoArgs),
}

#[derive(Args)]
struct TrainArgs {
    /// The task: decides the reader, the head and the dev metric.
    #[arg(long, value_enum)]
    task: Task,
    /// Training data: `PATH`, or `LANG=PATH` to mark its language (repeat for several).
    #[arg(long, required = true)]
    train: Vec<DataFile>,
    /// Development data for model selection (`PATH` or `LANG=PATH`, repeatable).
    #[arg(long, required = true)]
    dev: Vec<DataFile>,
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    config: SubnetConfig,
}

#[derive(Args)]
struct EvalArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// The task of the data.
    #[arg(long, value_enum)]
    task: Task,
    /// Labelled data (`PATH` or `LANG=PATH`, repeatable; scores are given per language too).
    #[arg(long, required = true)]
    data: Vec<DataFile>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct PredictArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// The task of the data (its label column, if any, is ignored).
    #[arg(long, value_enum)]
    task: Task,
    /// Input data.
    #[arg(long)]
    input: DataFile,
    /// Output JSON lines file.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct MasksArgs {
    /// Run directory of a child-d or s4 run.
    #[arg(long)]
    run: PathBuf,
}

#[derive(Args)]
struct ExperimentArgs {
    #[command(flatten)]
    experiment: ExperimentConfig,
    #[command(flatten)]
    config: SubnetConfig,
    /// Markdown report to write (the table also goes to stdout).
    #[arg(long)]
    report: Option<PathBuf>,
}

#[derive(Args)]
struct TatoebaArgs {
    #[command(flatten)]
    config: experiment::tatoeba::TatoebaConfig,
    /// Markdown report to write (the table also goes to stdout), with a JSON file beside it.
    #[arg(long)]
    report: Option<PathBuf>,
}

fn main() {
    burnlp_runtime::main(run, burnlp_core::cli::exit_code);
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Train(args) => train(args),
        Command::Eval(args) => eval(&args),
        Command::Predict(args) => predict(&args),
        Command::Masks(args) => {
            let masks = masks::load_masks(&args.run)?;
            print!("{}", masks::report(&masks));
            Ok(())
        }
        Command::Experiment(args) => run_experiment(&args),
        Command::Tatoeba(args) => {
            let report = experiment::tatoeba::run(&args.config)?;
            let table = experiment::tatoeba::table(&args.config, &report);
            print!("{table}");
            if let Some(path) = &args.report {
                burnlp_core::data::write_atomic(path, table.as_bytes())
                    .with_context(|| format!("writing {}", path.display()))?;
                burnlp_core::data::write_json(path.with_extension("json"), &report, true)?;
            }
            Ok(())
        }
        Command::Demo(args) => {
            let rows = subnet_tune::demo::demo(&args.dir("subnet-tune"))?;
            Ok(print_rows(&rows, args.json)?)
        }
    }
}

fn train(args: TrainArgs) -> Result<()> {
    let train = read_files(args.task, &args.train)?;
    let dev = read_files(args.task, &args.dev)?;
    if args.task.head() != text_cls::Head::Regression {
        let names = |files: &[DataFile]| {
            let names: Vec<String> = files.iter().map(ToString::to_string).collect();
            std::path::PathBuf::from(names.join(", "))
        };
        text_cls::check_classes(&train, &names(&args.train), &dev, &names(&args.dev))?;
    }
    let config = args.config.for_task(args.task);
    let origin = serde_json::json!({
        "task": args.task,
        "train": args.train.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "dev": args.dev.iter().map(ToString::to_string).collect::<Vec<_>>(),
    });
    let best = subnet_tune::train(
        &config,
        &train,
        &dev,
        &args.run.out,
        &origin,
        args.run.resume,
    )
    .with_context(|| format!("training in {}", args.run.out.display()))?;
    eprintln!(
        "best dev {} {:.4} at step {} (model in {})",
        config.fine_tune.selection_metric(),
        best.value,
        best.step,
        burnlp_core::train::RunDir::new(&args.run.out)
            .best()
            .display()
    );
    Ok(())
}

fn eval(args: &EvalArgs) -> Result<()> {
    let run = Run::load(&args.model.model, &args.model.device.inference()?)?;
    let mut results = std::collections::BTreeMap::new();
    let all = read_files(args.task, &args.data)?;
    results.insert(
        "all".to_string(),
        run.evaluate(&all, "the evaluation data")?,
    );
    if args.data.len() > 1 {
        for file in &args.data {
            let examples = read_files(args.task, std::slice::from_ref(file))?;
            results.insert(
                file.to_string(),
                run.evaluate(&examples, &file.to_string())?,
            );
        }
    }
    if args.json {
        println!("{}", serde_json::to_string(&results)?);
        return Ok(());
    }
    for (name, metrics) in &results {
        println!("{name}");
        for (metric, value) in metrics {
            println!("  {metric:>10} {value:.4}");
        }
    }
    Ok(())
}

fn predict(args: &PredictArgs) -> Result<()> {
    let run = Run::load(&args.model.model, &args.model.device.inference()?)?;
    let mut examples = read_files(args.task, std::slice::from_ref(&args.input))?;
    if run.spec.head == text_cls::Head::Classification {
        // Labels are ignored: a label the model does not know must not stop prediction.
        for example in &mut examples {
            example.label = run.spec.labels[0].clone();
        }
    }
    let predictions = run.predict(&examples, &args.input.to_string())?;
    burnlp_core::data::write_jsonl(&args.out, &predictions)?;
    eprintln!(
        "wrote {} predictions to {}",
        predictions.len(),
        args.out.display()
    );
    Ok(())
}

fn run_experiment(args: &ExperimentArgs) -> Result<()> {
    if args.experiment.seeds.is_empty() || args.experiment.lrs.is_empty() {
        bail!("give at least one seed and one learning rate");
    }
    let cells = experiment::run(&args.experiment, &args.config)?;
    let metric = args.experiment.task.metric();
    let table = experiment::table(&args.experiment, &cells, metric);
    print!("{table}");
    if let Some(report) = &args.report {
        burnlp_core::data::write_atomic(report, table.as_bytes())
            .with_context(|| format!("writing {}", report.display()))?;
        let json = report.with_extension("json");
        burnlp_core::data::write_json(&json, &cells, true)?;
    }
    Ok(())
}
