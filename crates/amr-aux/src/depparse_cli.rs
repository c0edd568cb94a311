//! `amr-aux depparse train|parse|eval`: the biaffine dependency parser's subcommands.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use amr_aux::depparse::eval::{left_neighbour_baseline, most_frequent_relation};
use amr_aux::depparse::{
    DepTrainConfig, Run, attachment_scores, read_parse_input, read_treebank, train, write_parses,
};
use anyhow::{Context, Result, bail};
use burnlp_core::cli::{ModelArgs, RunArgs};
use clap::{Args, Subcommand};

/// The parser's subcommands.
#[derive(Subcommand)]
pub enum DepparseCommand {
    /// Train a parser on a CoNLL-U treebank; dev LAS selects the model.
    Train(TrainArgs),
    /// Parse CoNLL-U (`.conllu`, `.conll`) or raw text (one whitespace-tokenised sentence per
    /// line) into CoNLL-U.
    Parse(ParseArgs),
    /// UAS and LAS of a parsed file against gold, as CoNLL 2018's `conll18_ud_eval.py` with
    /// gold tokenisation (all words, punctuation included; LAS on the universal relation).
    Eval(EvalArgs),
}

/// `depparse train`.
#[derive(Args)]
pub struct TrainArgs {
    /// Training treebank (CoNLL-U).
    #[arg(long)]
    train: PathBuf,
    /// Development treebank (CoNLL-U) that selects the model.
    #[arg(long)]
    dev: PathBuf,
    /// Train on the first N sentences of the training file only.
    #[arg(long, value_parser = burnlp_core::cli::positive)]
    max_train: Option<usize>,
    #[command(flatten)]
    config: DepTrainConfig,
    #[command(flatten)]
    run: RunArgs,
}

/// `depparse parse`.
#[derive(Args)]
pub struct ParseArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Sentences to parse: CoNLL-U (by extension `.conllu` / `.conll`) or raw text.
    #[arg(long)]
    input: PathBuf,
    /// Output CoNLL-U file.
    #[arg(long)]
    out: PathBuf,
    /// Sentences per batch.
    #[arg(long, default_value_t = 32, value_parser = burnlp_core::cli::positive)]
    batch_size: usize,
}

/// `depparse eval`.
#[derive(Args)]
pub struct EvalArgs {
    /// Gold CoNLL-U.
    #[arg(long)]
    gold: PathBuf,
    /// Predicted CoNLL-U (same sentences and words as the gold file).
    #[arg(long, required_unless_present = "left_baseline")]
    pred: Option<PathBuf>,
    /// Score the left-neighbour baseline instead of a file: word 1 is the root, every other
    /// word is attached to its left neighbour with the gold file's most frequent relation.
    #[arg(long, conflicts_with = "pred")]
    left_baseline: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Runs a `depparse` subcommand.
pub fn run(command: &DepparseCommand) -> Result<()> {
    match command {
        DepparseCommand::Train(args) => run_train(args),
        DepparseCommand::Parse(args) => run_parse(args),
        DepparseCommand::Eval(args) => run_eval(args),
    }
}

fn run_train(args: &TrainArgs) -> Result<()> {
    let mut train_set = read_treebank(&args.train)?;
    let available = train_set.len();
    if let Some(n) = args.max_train {
        train_set.truncate(n);
    }
    let dev = read_treebank(&args.dev)?;
    let train_ids: HashSet<&str> = train_set.iter().filter_map(|s| s.id.as_deref()).collect();
    if let Some(s) = dev
        .iter()
        .find(|s| s.id.as_deref().is_some_and(|id| train_ids.contains(id)))
    {
        bail!(
            "{}:{}: dev sentence `{}` is also a training sentence",
            args.dev.display(),
            s.line,
            s.id.as_deref().unwrap_or_default()
        );
    }
    let words = |s: &[amr_aux::amrize::DepSentence]| s.iter().map(|s| s.words.len()).sum::<usize>();
    tracing::info!(
        train = train_set.len(),
        available,
        train_words = words(&train_set),
        dev = dev.len(),
        dev_words = words(&dev),
        "training the dependency parser"
    );
    let origin = serde_json::json!({
        "train": args.train, "train_sentences": train_set.len(), "train_available": available,
        "dev": args.dev, "dev_sentences": dev.len(),
    });
    let start = Instant::now();
    let best = train(
        &args.config,
        &train_set,
        &dev,
        (&args.train, &args.dev),
        &args.run.out,
        &origin,
        args.run.resume,
    )
    .context("training the dependency parser")?;
    println!(
        "best dev (step {}): UAS {:.2} LAS {:.2}  ({} training sentences, {} dev sentences, {:.0} s); model in {}",
        best.step,
        100.0 * best.metrics.get("uas").copied().unwrap_or(f64::NAN),
        100.0 * best.metrics.get("las").copied().unwrap_or(f64::NAN),
        train_set.len(),
        dev.len(),
        start.elapsed().as_secs_f64(),
        args.run.out.display()
    );
    Ok(())
}

fn run_parse(args: &ParseArgs) -> Result<()> {
    let device = args.model.device.inference()?;
    let run = Run::load(&args.model.model, &device)
        .with_context(|| format!("loading the parser {}", args.model.model.display()))?;
    let sentences = read_parse_input(&args.input)?;
    let words: Vec<(usize, Vec<String>)> = sentences.iter().map(|s| (s.line, s.words())).collect();
    let start = Instant::now();
    let parses = run.parse(&words, &args.input, args.batch_size)?;
    write(&args.out, &write_parses(&sentences, &parses))?;
    tracing::info!(
        sentences = sentences.len(),
        seconds = start.elapsed().as_secs_f64(),
        out = %args.out.display(),
        "parsed"
    );
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<()> {
    burnlp_core::data::write_atomic(path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

fn run_eval(args: &EvalArgs) -> Result<()> {
    let gold = read_treebank(&args.gold)?;
    let (pred, pred_path) = match &args.pred {
        Some(path) => (read_treebank(path)?, path.clone()),
        None => {
            let label = most_frequent_relation(&gold);
            (
                left_neighbour_baseline(&gold, &label),
                PathBuf::from("left-neighbour baseline"),
            )
        }
    };
    let scores = attachment_scores(&gold, &pred, &args.gold, &pred_path)?;
    if args.json {
        println!("{}", serde_json::to_string(&scores)?);
    } else {
        println!(
            "UAS {:.2} ({}/{})  LAS {:.2} ({}/{})  over {} sentences",
            100.0 * scores.uas,
            scores.uas_correct,
            scores.words,
            100.0 * scores.las,
            scores.las_correct,
            scores.words,
            scores.sentences
        );
    }
    Ok(())
}
