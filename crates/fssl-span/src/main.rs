//! `fssl-span`: sample episodes, train, evaluate and apply ESD (or the token-level
//! prototypical baseline) for few-shot sequence labeling. Parsing only: the work is done by the
//! library.

use std::path::PathBuf;

use anyhow::{Context, Result};
use burnlp_core::cli::{DemoArgs, ModelArgs, RunArgs};
use burnlp_core::report::print_rows;
use burnlp_core::train::RunDir;
use clap::{Args, Parser, Subcommand, ValueEnum};
use fssl_span::data::write_fewnerd;
use fssl_span::sample::{
    SamplerConfig, corpus_from_episodes, read_bio_dir, read_conll_corpus, sample_episodes,
};
use fssl_span::{ExperimentConfig, F1Kind, Run, TrainConfig, load_episodes};

/// ESD span-based few-shot sequence labeling (Few-NERD, SNIPS episodes).
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sample N-way K~2K-shot episodes from a flat BIO corpus (greedy Few-NERD sampling).
    Episodes(EpisodesArgs),
    /// Train ESD (or the prototypical baseline) on episodes; keeps the best dev model.
    Train(TrainArgs),
    /// Score a trained model on episodes (micro or per-episode F1).
    Eval(EvalArgs),
    /// Label the query sentences of episodes (JSON lines of words, gold and predicted tags).
    Predict(PredictArgs),
    /// Train a tiny ESD on synthetic episodes, select it on dev episodes, report test F1.
    Demo(DemoCmd),
    /// Results suite: SNIPS held-out domains and Few-NERD episodes, ESD vs the baseline.
    Experiment(ExperimentConfig),
}

/// Corpus formats for `episodes`.
#[derive(Clone, Copy, ValueEnum)]
enum CorpusFormat {
    /// CoNLL file or directory (word first column, BIO tag last column).
    Conll,
    /// Directory with `seq.in` / `seq.out` (and `label` for `--domains`), e.g. SNIPS.
    Bio,
    /// Episode file (Few-NERD `.jsonl` or SNIPS few-shot `.json`): its distinct sentences.
    Episodes,
}

#[derive(Args)]
struct EpisodesArgs {
    /// Input format.
    #[arg(long = "from", value_enum)]
    format: CorpusFormat,
    /// Corpus file or directory.
    input: PathBuf,
    /// Types per episode (N).
    #[arg(long, default_value_t = 5, value_parser = burnlp_core::cli::positive)]
    n_way: usize,
    /// Minimum support mentions per type (K; at most 2K).
    #[arg(long, default_value_t = 1, value_parser = burnlp_core::cli::positive)]
    k_shot: usize,
    /// Minimum query mentions per type (default: K).
    #[arg(long, value_parser = burnlp_core::cli::positive)]
    q_shot: Option<usize>,
    /// Number of episodes.
    #[arg(long, default_value_t = 100)]
    episodes: usize,
    /// Keep only sentences of these `label` values (comma-separated; `bio` format only).
    #[arg(long, value_delimiter = ',')]
    domains: Option<Vec<String>>,
    /// Also use sentences with non-target types, tagging those mentions O.
    #[arg(long)]
    relabel_other_types: bool,
    /// Output episodes (Few-NERD JSONL).
    #[arg(long)]
    out: PathBuf,
    /// Sampling seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Args)]
struct TrainArgs {
    /// Training episodes (Few-NERD `.jsonl` or SNIPS few-shot `.json`).
    #[arg(long)]
    train: PathBuf,
    /// Dev episodes.
    #[arg(long)]
    dev: PathBuf,
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    config: TrainConfig,
}

#[derive(Args)]
struct EvalArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Episodes (Few-NERD `.jsonl` or SNIPS few-shot `.json`).
    #[arg(long)]
    episodes: PathBuf,
    /// F1 definition (default: micro for IO episodes, per-episode for BIO).
    #[arg(long, value_enum)]
    f1: Option<F1Kind>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct PredictArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Episodes whose query sentences are labelled.
    #[arg(long)]
    episodes: PathBuf,
    /// Output JSON lines: one object per query sentence.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct DemoCmd {
    #[command(flatten)]
    demo: DemoArgs,
    /// Seed of the synthetic corpora, sampling and training.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() {
    burnlp_runtime::main(run, burnlp_core::cli::exit_code);
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Episodes(args) => episodes(&args),
        Command::Train(args) => train(&args),
        Command::Eval(args) => eval(&args),
        Command::Predict(args) => predict(&args),
        Command::Demo(args) => {
            let row = fssl_span::demo::demo(&args.demo.dir("fssl-span"), args.seed)
                .context("running the demo")?;
            Ok(print_rows(&[row], args.demo.json)?)
        }
        Command::Experiment(config) => {
            let text = fssl_span::experiment(&config).context("running the results suite")?;
            println!("{text}");
            Ok(())
        }
    }
}

fn episodes(args: &EpisodesArgs) -> Result<()> {
    let corpus = match args.format {
        CorpusFormat::Conll => read_conll_corpus(&args.input)?,
        CorpusFormat::Bio => read_bio_dir(&args.input, args.domains.as_deref())?,
        CorpusFormat::Episodes => {
            let episodes = load_episodes(&args.input)?;
            corpus_from_episodes(&episodes, std::iter::empty::<&str>())
                .with_context(|| format!("{} holds no episodes", args.input.display()))?
        }
    };
    let config = SamplerConfig {
        n_way: args.n_way,
        k_shot: args.k_shot,
        q_shot: args.q_shot.unwrap_or(args.k_shot),
        episodes: args.episodes,
        seed: args.seed,
        relabel_other_types: args.relabel_other_types,
    };
    let episodes = sample_episodes(&corpus, &config)
        .with_context(|| format!("sampling from {}", args.input.display()))?;
    write_fewnerd(&args.out, &episodes)?;
    eprintln!(
        "wrote {} episodes ({} sentences in the corpus) to {}",
        episodes.len(),
        corpus.sentences.len(),
        args.out.display()
    );
    Ok(())
}

fn train(args: &TrainArgs) -> Result<()> {
    let train = load_episodes(&args.train)?;
    let dev = load_episodes(&args.dev)?;
    let origin = serde_json::json!({"train": args.train, "dev": args.dev});
    let best = fssl_span::train(
        &args.config,
        &train,
        &dev,
        &args.run.out,
        &origin,
        args.run.resume,
    )
    .with_context(|| format!("training in {}", args.run.out.display()))?;
    eprintln!(
        "best dev f1 {:.4} at step {} (model in {})",
        best.value,
        best.step,
        RunDir::new(&args.run.out).best().display()
    );
    Ok(())
}

fn eval(args: &EvalArgs) -> Result<()> {
    let run = Run::load(&args.model.model, &args.model.device.inference()?)?;
    let episodes = load_episodes(&args.episodes)?;
    let what = args.episodes.display().to_string();
    let metrics = run.evaluate(&episodes, args.f1, &what)?;
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
    let episodes = load_episodes(&args.episodes)?;
    let records = run.predict(&episodes, &args.episodes.display().to_string())?;
    burnlp_core::data::write_jsonl(&args.out, &records)?;
    eprintln!(
        "wrote {} query predictions to {}",
        records.len(),
        args.out.display()
    );
    Ok(())
}
