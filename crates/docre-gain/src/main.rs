//! `docre-gain`: train GAIN, predict relations, score predictions with the official DocRED
//! scorer, validate and split DocRED files, run the synthetic demo and the experiment on the
//! shared DocRED sample.

mod experiment;
mod run;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use docre_gain::{
    EvalOptions, Relations, TrainFacts, Validation, evaluate, read_documents, read_predictions,
    validate,
};

/// Document-level relation extraction on DocRED (GAIN): training, prediction, the official
/// scorer and data checks.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train GAIN and keep the best model (and its threshold θ) on the dev set.
    Train(run::TrainArgs),
    /// Predict relations with a trained model (DocRED submission format, with scores).
    Predict(run::PredictArgs),
    /// Split a DocRED file into training and dev portions (the last documents go to dev).
    Split(run::SplitArgs),
    /// Train and evaluate a tiny GAIN on embedded synthetic documents.
    Demo(run::DemoArgs),
    /// Split the shared DocRED sample, train GAIN with a BERT-family encoder and the BiLSTM
    /// baseline, score both on the dev portion and write a markdown report and JSON.
    Experiment(experiment::ExperimentArgs),
    /// Write synthetic DocRED-format documents (the demo's generator).
    Generate(run::GenerateArgs),
    /// Score predictions (DocRED submission format) against gold documents.
    Eval(EvalArgs),
    /// Validate a DocRED file and print its counts.
    Check(CheckArgs),
}

#[derive(Args)]
struct RelationArgs {
    /// Relation inventory `rel_info.json` (id → name): checks relation ids, names the table rows.
    #[arg(long, conflicts_with = "rel2id")]
    rel_info: Option<PathBuf>,
    /// Relation inventory `rel2id.json` (id → index): checks relation ids.
    #[arg(long)]
    rel2id: Option<PathBuf>,
}

impl RelationArgs {
    fn load(&self) -> Result<Option<Relations>> {
        match (&self.rel_info, &self.rel2id) {
            (Some(path), _) => Relations::from_rel_info(path)
                .map(Some)
                .with_context(|| format!("reading relations from {}", path.display())),
            (None, Some(path)) => Relations::from_rel2id(path)
                .map(Some)
                .with_context(|| format!("reading relations from {}", path.display())),
            (None, None) => Ok(None),
        }
    }
}

#[derive(Args)]
struct EvalArgs {
    /// Gold documents (DocRED JSON with labels, e.g. dev.json).
    #[arg(long)]
    gold: PathBuf,
    /// Predictions: a JSON list of {title, h_idx, t_idx, r[, evidence][, score]}.
    #[arg(long)]
    pred: PathBuf,
    /// Training documents (train_annotated.json) whose facts define the Ign scores.
    #[arg(long)]
    train_facts: Option<PathBuf>,
    #[command(flatten)]
    relations: RelationArgs,
    /// Score repeated predictions as often as they occur (the scorer's first revision) instead
    /// of once.
    #[arg(long)]
    keep_duplicates: bool,
    /// Print one JSON object instead of a report.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct CheckArgs {
    /// The DocRED file to check.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    relations: RelationArgs,
    /// Print one JSON object instead of a summary.
    #[arg(long)]
    json: bool,
}

fn main() {
    burnlp_runtime::init();
    burnlp_runtime::exit_on_error(run(Cli::parse()));
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Train(args) => run::train(&args).map(|_| ()),
        Command::Predict(args) => run::predict(&args),
        Command::Split(args) => run::split(&args),
        Command::Demo(args) => run::demo(&args),
        Command::Generate(args) => run::generate(&args),
        Command::Experiment(args) => experiment::experiment(&args),
        Command::Eval(args) => eval(&args),
        Command::Check(args) => check(&args),
    }
}

/// Reads and validates a DocRED file.
pub(crate) fn load(
    path: &Path,
    relations: Option<&Relations>,
) -> Result<(Vec<docre_gain::Document>, Validation)> {
    let documents = read_documents(path).with_context(|| format!("reading {}", path.display()))?;
    let validation = validate(&documents, relations)
        .with_context(|| format!("validating {}", path.display()))?;
    for warning in &validation.warnings {
        eprintln!("warning: {}: {warning}", path.display());
    }
    Ok((documents, validation))
}

fn eval(args: &EvalArgs) -> Result<()> {
    let relations = args.relations.load()?;
    let (gold, _) = load(&args.gold, relations.as_ref())?;
    let predictions = read_predictions(&args.pred)
        .with_context(|| format!("reading predictions {}", args.pred.display()))?;
    let train_facts = match &args.train_facts {
        Some(path) => Some(TrainFacts::from_documents(
            &load(path, relations.as_ref())?.0,
        )),
        None => None,
    };
    let options = EvalOptions {
        train_facts: train_facts.as_ref(),
        relations: relations.as_ref(),
        keep_duplicates: args.keep_duplicates,
    };
    let report = evaluate(&gold, &predictions, &options)
        .with_context(|| format!("scoring {}", args.pred.display()))?;
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    Ok(())
}

fn check(args: &CheckArgs) -> Result<()> {
    let relations = args.relations.load()?;
    let (_, validation) = load(&args.data, relations.as_ref())?;
    if args.json {
        println!("{}", serde_json::to_string(&validation)?);
        return Ok(());
    }
    let v = &validation;
    println!("{}: valid", args.data.display());
    println!(
        "documents {}  sentences {}  tokens {} (longest document {})",
        v.documents, v.sentences, v.tokens, v.max_document_tokens
    );
    println!(
        "entities {}  mentions {}  labels {} over {} relations",
        v.entities, v.mentions, v.labels, v.relation_types
    );
    println!("warnings {}", v.warnings.len());
    Ok(())
}
