//! `doc-ee`: document-level event argument extraction (TSAR) on RAMS and WikiEvents: the
//! official scorer, the WikiEvents window conversion, training, prediction and evaluation.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burnlp_core::cli::{DemoArgs, DeviceArgs, RunArgs};
use burnlp_core::report::print_rows;
use clap::{Args, Parser, Subcommand};
use doc_ee::data::wikievents::{DEFAULT_WINDOW, read_wikievents_examples};
use doc_ee::data::{Example, Ontology, read_rams, write_examples};
use doc_ee::graph::parse::{parse_examples, trees_to_heads};
use doc_ee::graph::{GraphSource, load_graphs};
use doc_ee::score::{
    Dataset, HeadSource, format_scores, read_heads, read_predictions, score, write_predictions,
};
use doc_ee::train::{TrainConfig, TrainedRun, score_predictions, train};

/// Document-level event argument extraction: TSAR on RAMS and WikiEvents.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Score predictions with the official scorer's semantics (span / head / coref F1, Arg-I/C).
    Score(ScoreArgs),
    /// Convert WikiEvents documents into TSAR's per-event windows (transfer-{split}.jsonl).
    Convert(ConvertArgs),
    /// Split a data file by lines: the first N documents and the rest.
    Split(SplitArgs),
    /// Train TSAR.
    Train(TrainArgs),
    /// Predict arguments with a trained run (TSAR's prediction format).
    Predict(PredictArgs),
    /// Predict and score a gold file with a trained run.
    Eval(EvalArgs),
    /// Train a tiny TSAR on generated RAMS-format documents and score it.
    Demo(DemoArgs),
}

/// The data a command reads.
#[derive(Args)]
struct DataArgs {
    /// The data set.
    #[arg(long, value_enum)]
    dataset: Dataset,
    /// WikiEvents coreference file (`coref/{split}.jsonlines`).
    #[arg(long)]
    coref: Option<PathBuf>,
    /// WikiEvents window length in tokens (600 reproduces the published converted files).
    #[arg(long, default_value_t = DEFAULT_WINDOW, value_parser = burnlp_core::cli::positive)]
    window: usize,
}

impl DataArgs {
    fn load(&self, path: &Path) -> Result<Vec<Example>> {
        Ok(match self.dataset {
            Dataset::Rams => read_rams(path)?,
            Dataset::Wikievents => {
                let Some(coref) = &self.coref else {
                    bail!(
                        "--dataset wikievents needs --coref (the coreference file of {})",
                        path.display()
                    )
                };
                read_wikievents_examples(path, coref, self.window)?
            }
        })
    }
}

#[derive(Args)]
struct ScoreArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Gold file (RAMS jsonlines or WikiEvents jsonl).
    #[arg(long)]
    gold: PathBuf,
    /// Predictions (TSAR format, the gold layout, or WikiEvents documents), detected per line.
    #[arg(long)]
    pred: PathBuf,
    #[command(flatten)]
    heads: HeadArgs,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    device: DeviceArgs,
}

/// Where head words come from (head F1).
#[derive(Args)]
struct HeadArgs {
    /// Dependency heads per example (JSON Lines {"doc_key", "heads"}, 0-based, a root pointing
    /// to itself).
    #[arg(long, conflicts_with = "parser")]
    heads: Option<PathBuf>,
    /// Without --heads: parse the examples with this dependency parser (an `amr-aux depparse
    /// train` run directory) and take its heads. Without either, a span's last token is its head.
    #[arg(long)]
    parser: Option<PathBuf>,
}

#[derive(Args)]
struct ConvertArgs {
    /// WikiEvents documents.
    #[arg(long)]
    input: PathBuf,
    /// Their coreference file.
    #[arg(long)]
    coref: PathBuf,
    /// Window length in tokens.
    #[arg(long, default_value_t = DEFAULT_WINDOW, value_parser = burnlp_core::cli::positive)]
    window: usize,
    /// Output (one example per event mention).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct SplitArgs {
    /// A JSON Lines data file.
    #[arg(long)]
    input: PathBuf,
    /// Documents (non-blank lines) in the first part; later documents with the same text
    /// (RAMS repeats a passage for its different triggers) join them, so the parts share no text.
    #[arg(long, value_parser = burnlp_core::cli::positive)]
    first: usize,
    /// The first part.
    #[arg(long)]
    out_first: PathBuf,
    /// The rest.
    #[arg(long)]
    out_rest: PathBuf,
}

#[derive(Args)]
struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Training file.
    #[arg(long)]
    train: PathBuf,
    /// Dev file (checkpoint selection).
    #[arg(long)]
    dev: PathBuf,
    /// Event types and roles (`meta.json`); default: those of the training and dev data.
    #[arg(long)]
    meta: Option<PathBuf>,
    /// Graphs: `none`, `amr:DIR` (DIR/{doc_key}.amr), `conllu:FILE` or `parse:RUN` (parse with
    /// an `amr-aux depparse train` run).
    #[arg(long, default_value = "none")]
    graphs: GraphSource,
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    config: TrainConfig,
}

#[derive(Args)]
struct PredictArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Run directory of a trained model.
    #[arg(long)]
    model: PathBuf,
    /// Input file.
    #[arg(long)]
    input: PathBuf,
    /// Graphs (required when the model was trained with graphs).
    #[arg(long, default_value = "none")]
    graphs: GraphSource,
    /// Add the gold spans to the candidates (the reference's evaluation quirk).
    #[arg(long)]
    gold_spans: bool,
    /// Predictions (TSAR format).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct EvalArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Run directory of a trained model.
    #[arg(long)]
    model: PathBuf,
    /// Gold file.
    #[arg(long)]
    gold: PathBuf,
    /// Graphs (required when the model was trained with graphs).
    #[arg(long, default_value = "none")]
    graphs: GraphSource,
    /// Add the gold spans to the candidates (the reference's evaluation quirk; reported).
    #[arg(long)]
    gold_spans: bool,
    #[command(flatten)]
    heads: HeadArgs,
    /// Also write the predictions here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    device: DeviceArgs,
}

fn main() {
    burnlp_runtime::main(run, burnlp_core::cli::exit_code);
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Score(args) => score_cmd(&args),
        Command::Convert(args) => {
            let examples = read_wikievents_examples(&args.input, &args.coref, args.window)?;
            write_examples(&args.out, &examples)?;
            eprintln!(
                "wrote {} examples to {}",
                examples.len(),
                args.out.display()
            );
            Ok(())
        }
        Command::Split(args) => split(&args),
        Command::Train(args) => train_cmd(&args),
        Command::Predict(args) => {
            let examples = args.data.load(&args.input)?;
            let device = args.device.inference()?;
            let graphs = load_graphs(&args.graphs, &examples, &device)?;
            let run = TrainedRun::load(&args.model, &device)
                .with_context(|| format!("loading the run {}", args.model.display()))?;
            let predictions = run.predict(&examples, graphs.as_ref(), args.gold_spans)?;
            write_predictions(&args.out, &examples, &predictions)?;
            eprintln!(
                "wrote predictions for {} examples to {}",
                examples.len(),
                args.out.display()
            );
            Ok(())
        }
        Command::Eval(args) => eval_cmd(&args),
        Command::Demo(args) => {
            let dir = args.dir("doc-ee");
            let rows = doc_ee::demo::demo(&dir, 12)
                .with_context(|| format!("running the demo in {}", dir.display()))?;
            Ok(print_rows(&rows, args.json)?)
        }
    }
}

fn heads_of(args: &HeadArgs, gold: &[Example], device: &DeviceArgs) -> Result<HeadSource> {
    Ok(match (&args.heads, &args.parser) {
        (Some(p), _) => {
            eprintln!("heads: from {}", p.display());
            HeadSource::Given(read_heads(p, gold)?)
        }
        (None, Some(run)) => {
            eprintln!(
                "heads: from the dependency parser {} (amr-aux depparse)",
                run.display()
            );
            let trees = parse_examples(run, gold, &device.inference()?)?;
            HeadSource::Given(trees_to_heads(&trees, gold)?)
        }
        (None, None) => {
            eprintln!(
                "note: no --heads or --parser: the head of a span is its last token (a stand-in for a dependency parse)"
            );
            HeadSource::LastToken
        }
    })
}

fn score_cmd(args: &ScoreArgs) -> Result<()> {
    let gold = args.data.load(&args.gold)?;
    let predictions = read_predictions(&args.pred, &gold)?;
    let heads = heads_of(&args.heads, &gold, &args.device)?;
    let scores = score(args.data.dataset, &gold, &predictions, &heads)?;
    if args.json {
        println!("{}", serde_json::to_string(&scores)?);
    } else {
        print!("{}", format_scores(&scores));
    }
    Ok(())
}

fn split(args: &SplitArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.input)
        .with_context(|| format!("reading {}", args.input.display()))?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if args.first >= lines.len() {
        bail!(
            "--first {} leaves nothing for the rest: {} has {} documents",
            args.first,
            args.input.display(),
            lines.len()
        );
    }
    let (first, rest) = doc_ee::data::split_documents(&lines, args.first);
    if rest.is_empty() {
        bail!("--first {} leaves nothing for the rest", args.first);
    }
    let write = |path: &Path, part: &[&str]| -> Result<()> {
        let mut body = part.join("\n");
        body.push('\n');
        burnlp_core::data::write_atomic(path, body.as_bytes())?;
        Ok(())
    };
    write(&args.out_first, &first)?;
    write(&args.out_rest, &rest)?;
    eprintln!(
        "{} documents to {}, {} to {}",
        first.len(),
        args.out_first.display(),
        rest.len(),
        args.out_rest.display()
    );
    Ok(())
}

fn train_cmd(args: &TrainArgs) -> Result<()> {
    let train_examples = args.data.load(&args.train)?;
    let dev_examples = args.data.load(&args.dev)?;
    let texts = |e: &[Example]| e.iter().map(Example::text).collect::<Vec<_>>();
    let sizes = burnlp_core::data::check_disjoint(
        "train/dev",
        &texts(&train_examples),
        &texts(&dev_examples),
    )?;
    let ontology = match &args.meta {
        Some(path) => Ontology::read(path)?,
        None => {
            let all: Vec<Example> = train_examples
                .iter()
                .chain(&dev_examples)
                .cloned()
                .collect();
            Ontology::from_examples(&all)
        }
    };
    let all: Vec<Example> = train_examples
        .iter()
        .chain(&dev_examples)
        .cloned()
        .collect();
    let graphs = load_graphs(&args.graphs, &all, &args.config.device.inference()?)?;
    eprintln!(
        "training on {} examples, selecting on {} (graphs: {})",
        sizes.train, sizes.eval, args.graphs
    );
    let origin = serde_json::json!({
        "train": args.train, "dev": args.dev, "dataset": args.data.dataset,
        "window": args.data.window, "graphs": args.graphs.to_string(),
        "train_examples": sizes.train, "dev_examples": sizes.eval,
    });
    let best = train(
        &args.config,
        args.data.dataset,
        &train_examples,
        &dev_examples,
        &ontology,
        graphs.as_ref(),
        &args.run.out,
        &origin,
        args.run.resume,
    )?;
    eprintln!(
        "best dev Arg-C span F1 {:.4} at step {}",
        best.value, best.step
    );
    println!("{}", serde_json::to_string(&best.metrics)?);
    Ok(())
}

fn eval_cmd(args: &EvalArgs) -> Result<()> {
    let gold = args.data.load(&args.gold)?;
    let device = args.device.inference()?;
    let graphs = load_graphs(&args.graphs, &gold, &device)?;
    let run = TrainedRun::load(&args.model, &device)
        .with_context(|| format!("loading the run {}", args.model.display()))?;
    let predictions = run.predict(&gold, graphs.as_ref(), args.gold_spans)?;
    if let Some(out) = &args.out {
        write_predictions(out, &gold, &predictions)?;
    }
    let heads = heads_of(&args.heads, &gold, &args.device)?;
    let scores = score_predictions(args.data.dataset, &gold, &predictions, &heads)?;
    if args.gold_spans {
        eprintln!("note: gold spans were added to the candidates (--gold-spans)");
    }
    if args.json {
        println!("{}", serde_json::to_string(&scores)?);
    } else {
        print!("{}", format_scores(&scores));
    }
    Ok(())
}
