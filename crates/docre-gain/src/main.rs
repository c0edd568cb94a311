//! `docre-gain`: train GAIN, predict relations, score predictions with the official DocRED
//! scorer, validate and split DocRED files, run the synthetic demo and the experiment on the
//! shared DocRED sample.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burnlp_core::cli::{self, DemoArgs, DeviceArgs, ModelArgs, RunArgs};
use burnlp_core::report::print_rows;
use burnlp_core::train::RunDir;
use clap::{Args, Parser, Subcommand};
use docre_gain::{
    Document, EvalOptions, ExperimentConfig, Relations, Threshold, TrainConfig, TrainFacts,
    TrainedRun, Validation, evaluate, read_predictions, synthetic,
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
    Train(TrainArgs),
    /// Predict relations with a trained model (DocRED submission format, with scores).
    Predict(PredictArgs),
    /// Split a DocRED file into training and dev portions (the last documents go to dev).
    Split(SplitArgs),
    /// Train a tiny GAIN on synthetic documents (model and θ selected on dev); report F1 and
    /// Ign F1 on unseen test documents.
    Demo(GainDemoArgs),
    /// Split the shared DocRED sample into train / dev / test, train GAIN with a BERT-family
    /// encoder and the BiLSTM baseline (checkpoint and θ selected on dev), score both on test
    /// and write a markdown report, its JSON and the test precision–recall curves (SVG).
    Experiment(ExperimentArgs),
    /// Write synthetic DocRED-format documents (the demo's generator).
    Generate(GenerateArgs),
    /// Score predictions (DocRED submission format) against gold documents.
    Eval(EvalArgs),
    /// Validate a DocRED file and print its counts.
    Check(CheckArgs),
}

#[derive(Args)]
struct TrainArgs {
    /// Training documents (DocRED JSON with labels).
    #[arg(long, required_unless_present = "synthetic")]
    train: Option<PathBuf>,
    /// Development documents (DocRED JSON with labels): model selection and θ.
    #[arg(long, required_unless_present = "synthetic")]
    dev: Option<PathBuf>,
    /// Use N synthetic training documents (and N/4 dev documents) instead of files.
    #[arg(long, conflicts_with_all = ["train", "dev"], value_parser = cli::positive)]
    synthetic: Option<usize>,
    /// Relation inventory `rel2id.json`: the model's classes (default: the relations of the
    /// training labels).
    #[arg(long)]
    rel2id: Option<PathBuf>,
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    config: TrainConfig,
}

#[derive(Args)]
struct PredictArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Documents (DocRED JSON; labels are ignored).
    #[arg(long)]
    input: PathBuf,
    /// Output: a JSON list of {title, h_idx, t_idx, r, score}, highest score first.
    #[arg(long)]
    out: PathBuf,
    /// Keep candidates with probability ≥ θ (default: the dev θ of the run).
    #[arg(long, value_parser = cli::fraction)]
    theta: Option<f64>,
    /// Write every candidate of the sweep instead (for `eval` to choose θ itself).
    #[arg(long, conflicts_with = "theta")]
    all: bool,
    /// Documents per forward pass.
    #[arg(long, default_value_t = 4, value_parser = cli::positive)]
    batch_size: usize,
}

#[derive(Args)]
struct SplitArgs {
    /// The DocRED file to split.
    #[arg(long)]
    input: PathBuf,
    /// Number of documents for the dev portion (the last ones).
    #[arg(long, value_parser = cli::positive)]
    dev_docs: usize,
    /// Output file of the training portion.
    #[arg(long)]
    train_out: PathBuf,
    /// Output file of the dev portion.
    #[arg(long)]
    dev_out: PathBuf,
}

#[derive(Args)]
struct GenerateArgs {
    /// Number of documents.
    #[arg(long, value_parser = cli::positive)]
    docs: usize,
    /// Seed of the generator.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Output DocRED JSON file.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct GainDemoArgs {
    #[command(flatten)]
    demo: DemoArgs,
    /// Seed of the data, initialisation and training.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

#[derive(Args)]
struct ExperimentArgs {
    /// DocRED directory holding `dev_sample.json` (and, if present, `rel2id.json` for the
    /// model's classes and `rel_info.json` for relation names), or a DocRED file (the relation
    /// files are looked up beside it).
    #[arg(long)]
    data: PathBuf,
    /// Encoder of the BERT variant: a BERT-family model reference (e.g.
    /// ../shared/models/all-minilm-l6-v2) or `tiny` (a small random BERT, for tests).
    #[arg(long)]
    encoder: String,
    /// Working directory: train.json, dev.json, test.json and, per variant, the run directory
    /// with its test predictions (result.json at the dev θ, scored.json with every candidate).
    #[arg(long)]
    out: PathBuf,
    /// Markdown report to write; the same numbers go to the file with extension `.json`, the
    /// test precision–recall curves to the file with extension `.svg`.
    #[arg(long)]
    report: PathBuf,
    /// Epochs of the BERT variant (MiniLM: about 90 s each on 2 busy CPU cores).
    #[arg(long, default_value_t = 5, value_parser = cli::positive)]
    epochs: usize,
    /// Epochs of the BiLSTM variant (about 17 s each on 2 busy CPU cores).
    #[arg(long, default_value_t = 15, value_parser = cli::positive)]
    lstm_epochs: usize,
    /// Documents of the dev portion, which selects the checkpoint and θ (the ones just before
    /// the test portion; the rest of the file, from its start, is the training portion).
    #[arg(long, default_value_t = 6, value_parser = cli::positive)]
    dev_docs: usize,
    /// Documents of the test portion, on which both variants are reported (the last ones of
    /// the file).
    #[arg(long, default_value_t = 8, value_parser = cli::positive)]
    test_docs: usize,
    /// Seed of initialisation, pair sampling, batch order and dropout (both variants).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Documents per batch (both variants; 5 in the paper's BERT runs).
    #[arg(long, default_value_t = 5, value_parser = cli::positive)]
    batch_size: usize,
    /// Learning rate of everything but the pretrained encoder (both variants).
    #[arg(long, default_value_t = 1e-3, value_parser = cli::positive_f64)]
    lr: f64,
    /// Learning rate of the pretrained encoder (the paper: 1e-5 over 300 epochs; higher here
    /// because the run is a few epochs long).
    #[arg(long, default_value_t = 1e-4, value_parser = cli::positive_f64)]
    encoder_lr: f64,
    /// Dropout (0.6 in the paper).
    #[arg(long, default_value_t = 0.6, value_parser = cli::fraction)]
    dropout: f64,
    /// Entity-type and entity-id embedding sizes (20 in the paper).
    #[arg(long, default_value_t = 20, value_parser = cli::positive)]
    embedding_dim: usize,
    /// Word-embedding size of the BiLSTM variant (GloVe's 100 in the paper).
    #[arg(long, default_value_t = 100, value_parser = cli::positive)]
    word_dim: usize,
    /// LSTM size per direction of the BiLSTM variant (256 in the paper; 128 keeps the run
    /// within minutes on a CPU).
    #[arg(long, default_value_t = 128, value_parser = cli::positive)]
    lstm_hidden: usize,
    /// Hidden size of the `tiny` encoder (only with `--encoder tiny`).
    #[arg(long, default_value_t = 64, value_parser = cli::positive)]
    tiny_hidden: usize,
    #[command(flatten)]
    device: DeviceArgs,
}

impl ExperimentArgs {
    fn config(&self) -> ExperimentConfig {
        ExperimentConfig {
            data: self.data.clone(),
            encoder: self.encoder.clone(),
            out: self.out.clone(),
            epochs: self.epochs,
            lstm_epochs: self.lstm_epochs,
            dev_docs: self.dev_docs,
            test_docs: self.test_docs,
            seed: self.seed,
            batch_size: self.batch_size,
            lr: self.lr,
            encoder_lr: self.encoder_lr,
            dropout: self.dropout,
            embedding_dim: self.embedding_dim,
            word_dim: self.word_dim,
            lstm_hidden: self.lstm_hidden,
            tiny_hidden: self.tiny_hidden,
            device: self.device.clone(),
            command: std::env::args().collect::<Vec<_>>().join(" "),
        }
    }
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
    burnlp_runtime::main(run, burnlp_core::cli::exit_code);
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Train(args) => train(&args),
        Command::Predict(args) => predict(&args),
        Command::Split(args) => split(&args),
        Command::Demo(args) => {
            let rows = docre_gain::demo::demo(&args.demo.dir("docre-gain"), args.seed)?;
            Ok(print_rows(&rows, args.demo.json)?)
        }
        Command::Generate(args) => {
            let docs = synthetic::generate(args.docs, args.seed);
            burnlp_core::data::write_json(&args.out, &docs, false)?;
            Ok(())
        }
        Command::Experiment(args) => experiment(&args),
        Command::Eval(args) => eval(&args),
        Command::Check(args) => check(&args),
    }
}

/// Reads and validates a DocRED file, printing its warnings.
fn load(path: &Path, relations: Option<&Relations>) -> Result<(Vec<Document>, Validation)> {
    let (documents, validation) = docre_gain::load_documents(path, relations)?;
    for warning in &validation.warnings {
        eprintln!("warning: {}: {warning}", path.display());
    }
    Ok((documents, validation))
}

fn train(args: &TrainArgs) -> Result<()> {
    let config = &args.config;
    let (train_docs, dev_docs, relations) = match (args.synthetic, &args.train, &args.dev) {
        (Some(n), _, _) => (
            synthetic::generate(n, config.seed),
            synthetic::generate((n / 4).max(1), config.seed + 1),
            synthetic::relation_ids(),
        ),
        (None, Some(train), Some(dev)) => {
            let train_docs = load(train, None)?.0;
            let relations = docre_gain::relation_ids(args.rel2id.as_deref(), &train_docs)
                .context("choosing the model's relations")?;
            (train_docs, load(dev, None)?.0, relations)
        }
        _ => anyhow::bail!("give --train and --dev, or --synthetic N"),
    };
    let origin = serde_json::json!({
        "train": args.train, "dev": args.dev, "synthetic": args.synthetic, "rel2id": args.rel2id,
    });
    let best = docre_gain::train(
        config,
        &train_docs,
        &dev_docs,
        relations,
        &args.run.out,
        &origin,
        args.run.resume,
    )
    .with_context(|| format!("training in {}", args.run.out.display()))?;
    eprintln!(
        "best dev {} {:.4} (θ {:.4}) at step {} (model in {})",
        config.selection_metric(),
        best.value,
        best.metrics.get("theta").copied().unwrap_or(f64::NAN),
        best.step,
        RunDir::new(&args.run.out).best().display()
    );
    Ok(())
}

fn predict(args: &PredictArgs) -> Result<()> {
    let run = TrainedRun::load(&args.model.model, &args.model.device.inference()?)?;
    let docs = load(&args.input, None)?.0;
    let threshold = match (args.all, args.theta) {
        (true, _) => Threshold::All,
        (false, Some(theta)) => Threshold::Given(theta),
        (false, None) => Threshold::Dev,
    };
    let origin = args.input.display().to_string();
    let candidates = run.score(&docs, &origin, threshold, args.batch_size)?;
    let written = candidates
        .write_json(&args.out, None)
        .with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!(
        "wrote {} predictions for {} documents to {}{}",
        written,
        docs.len(),
        args.out.display(),
        run.theta(threshold)
            .map(|t| format!(" (θ {t:.4})"))
            .unwrap_or_default()
    );
    Ok(())
}

fn split(args: &SplitArgs) -> Result<()> {
    let docs = load(&args.input, None)?.0;
    let (train, dev) =
        docre_gain::split_documents(&docs, args.dev_docs, &args.input.display().to_string())
            .with_context(|| format!("--dev-docs {}", args.dev_docs))?;
    burnlp_core::data::write_json(&args.train_out, train, false)?;
    burnlp_core::data::write_json(&args.dev_out, dev, false)?;
    eprintln!(
        "{} training documents in {}, {} dev documents in {}",
        train.len(),
        args.train_out.display(),
        dev.len(),
        args.dev_out.display()
    );
    Ok(())
}

fn experiment(args: &ExperimentArgs) -> Result<()> {
    docre_gain::experiment::check_report_path(&args.report)?;
    let summary = docre_gain::run_experiment(&args.config()).context("running the experiment")?;
    let files = docre_gain::write_report(&summary, &args.report)?;
    eprintln!(
        "wrote {}, {} and {} ({:.0} s)",
        files.markdown.display(),
        files.json.display(),
        files.svg.display(),
        summary.wall_s
    );
    Ok(())
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
