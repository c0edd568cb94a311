//! `text-cls`: train, evaluate and apply a sentence(-pair) classifier.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burnlp_core::cli::{DemoArgs, ModelArgs, RunArgs};
use burnlp_core::report::print_rows;
use clap::{Args, Parser, Subcommand};
use text_cls::{Columns, Example, Run, TrainConfig, read_tsv, read_unlabelled, synthetic};

/// Sentence and sentence-pair classification with a BERT-family encoder.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fine-tune a classifier and keep the best model on the dev set.
    Train(TrainArgs),
    /// Score a trained model on labelled data.
    Eval(EvalArgs),
    /// Label data with a trained model (JSON lines: text, label, probabilities).
    Predict(PredictArgs),
    /// Train on the embedded synthetic negation task; report accuracy on unseen test sentences.
    Demo(DemoArgs),
}

#[derive(Args, Clone)]
struct ColumnArgs {
    /// Column holding the text.
    #[arg(long, default_value = "sentence")]
    text_column: String,
    /// Column holding the second text of a pair (e.g. `sentence2`).
    #[arg(long)]
    pair_column: Option<String>,
    /// Column holding the label.
    #[arg(long, default_value = "label")]
    label_column: String,
}

impl ColumnArgs {
    fn columns(&self) -> Columns {
        Columns {
            text: self.text_column.clone(),
            pair: self.pair_column.clone(),
            label: self.label_column.clone(),
        }
    }
}

#[derive(Args)]
struct TrainArgs {
    /// Training data (TSV with a header).
    #[arg(long, required_unless_present = "synthetic")]
    train: Option<PathBuf>,
    /// Development data (TSV with a header), for model selection.
    #[arg(long, required_unless_present = "synthetic")]
    dev: Option<PathBuf>,
    /// Use N synthetic training examples (and N/8 unseen dev examples) instead of files.
    #[arg(long, conflicts_with_all = ["train", "dev"], value_parser = burnlp_core::cli::positive)]
    synthetic: Option<usize>,
    #[command(flatten)]
    columns: ColumnArgs,
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    config: TrainConfig,
}

#[derive(Args)]
struct EvalArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Labelled data (TSV with a header).
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    columns: ColumnArgs,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct PredictArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Input TSV with a header (the label column, if any, is ignored).
    #[arg(long)]
    input: PathBuf,
    #[command(flatten)]
    columns: ColumnArgs,
    /// Output JSON lines file.
    #[arg(long)]
    out: PathBuf,
}

fn main() {
    burnlp_runtime::main(run, burnlp_core::cli::exit_code);
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Train(args) => train(&args),
        Command::Eval(args) => eval(&args),
        Command::Predict(args) => predict(&args),
        Command::Demo(args) => {
            let row = text_cls::demo::demo(&args.dir("text-cls"))?;
            Ok(print_rows(&[row], args.json)?)
        }
    }
}

fn load_examples(path: &Path, columns: &Columns) -> Result<Vec<Example>> {
    let examples =
        read_tsv(path, columns).with_context(|| format!("reading {}", path.display()))?;
    if examples.is_empty() {
        bail!("{} has no examples", path.display());
    }
    Ok(examples)
}

fn train(args: &TrainArgs) -> Result<()> {
    let columns = args.columns.columns();
    let (train, dev) = match (args.synthetic, &args.train, &args.dev) {
        (Some(n), _, _) => {
            let splits = synthetic::splits(n, (n / 8).max(1), 0, args.config.seed);
            (splits.train, splits.dev)
        }
        (None, Some(train_path), Some(dev_path)) => {
            let train = load_examples(train_path, &columns)?;
            let dev = load_examples(dev_path, &columns)?;
            if args.config.head != text_cls::Head::Regression {
                text_cls::check_classes(&train, train_path, &dev, dev_path)?;
            }
            (train, dev)
        }
        _ => bail!("give --train and --dev, or --synthetic N"),
    };
    let origin = serde_json::json!({
        "train": args.train, "dev": args.dev, "synthetic": args.synthetic, "columns": columns,
    });
    let best = text_cls::train(
        &args.config,
        &train,
        &dev,
        &args.run.out,
        &origin,
        args.run.resume,
    )
    .with_context(|| format!("training in {}", args.run.out.display()))?;
    eprintln!(
        "best dev accuracy {:.4} at step {} (model in {})",
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
    let examples = load_examples(&args.data, &args.columns.columns())?;
    let metrics = run.evaluate(&examples, &args.data.display().to_string())?;
    if args.json {
        println!("{}", serde_json::to_string(&metrics)?);
    } else {
        for (name, value) in &metrics {
            println!("{name:>10} {value:.4}");
        }
    }
    Ok(())
}

fn predict(args: &PredictArgs) -> Result<()> {
    let run = Run::load(&args.model.model, &args.model.device.inference()?)?;
    let examples = read_unlabelled(&args.input, &args.columns.columns())
        .with_context(|| format!("reading {}", args.input.display()))?;
    let predictions = run.predict(&examples, &args.input.display().to_string())?;
    burnlp_core::data::write_jsonl(&args.out, &predictions)?;
    eprintln!(
        "wrote {} predictions to {}",
        predictions.len(),
        args.out.display()
    );
    Ok(())
}
