//! `frame-parse`: FrameNet lexicon, KID training and prediction, and the SemEval-style scorer.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use burnlp_core::cli::{DemoArgs, ModelArgs, RunArgs};
use burnlp_core::report::print_rows;
use clap::{Args, Parser, Subcommand};
use frame_parse::run::TrainedRun;
use frame_parse::train::TrainConfig;
use frame_parse::{CandidateFrames, Lexicon, ScoreOptions, read_conll, write_conll};

/// KID frame-semantic parsing on FrameNet.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read and validate a FrameNet XML release; print counts and LU-index coverage.
    Lexicon(LexiconArgs),
    /// Score predictions against gold annotations (KID's evaluate.py, exact matching).
    Score(ScoreArgs),
    /// Train KID on annotated targets; the best dev model (full-structure F1) is kept.
    Train(TrainArgs),
    /// Parse the targets of a CoNLL file with a trained run; writes the same format.
    Predict(PredictArgs),
    /// Predict and score a gold CoNLL file with a trained run.
    Eval(EvalArgs),
    /// Train a tiny KID on an embedded FrameNet-format sample and score it on unseen sentences.
    Demo(DemoArgs),
    /// KID vs ablations vs the most-frequent-frame baseline on the shared annotations;
    /// writes a Markdown report.
    Experiment(frame_parse::experiment::ExperimentArgs),
}

#[derive(Args)]
struct TrainArgs {
    /// FrameNet release directory (frame/*.xml, frRelation.xml, LU index).
    #[arg(long)]
    framenet: PathBuf,
    /// Training targets (CoNLL, 5 or 15 columns).
    #[arg(long)]
    train: PathBuf,
    /// Dev targets for model selection.
    #[arg(long)]
    dev: PathBuf,
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    config: TrainConfig,
}

#[derive(Args)]
struct PredictArgs {
    /// FrameNet release directory the run was trained with.
    #[arg(long)]
    framenet: PathBuf,
    /// Targets to parse (CoNLL; frames and FEs in it are ignored unless --gold-frames).
    #[arg(long)]
    input: PathBuf,
    /// Predictions (same format as the input).
    #[arg(long)]
    out: PathBuf,
    /// Use the input's frames and predict only the arguments.
    #[arg(long)]
    gold_frames: bool,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Args)]
struct EvalArgs {
    /// FrameNet release directory the run was trained with.
    #[arg(long)]
    framenet: PathBuf,
    /// Gold targets (CoNLL).
    #[arg(long)]
    gold: PathBuf,
    /// Use the gold frames and score only the arguments' prediction.
    #[arg(long)]
    gold_frames: bool,
    /// Print exactly {"frame", "arg", "full"} as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Args)]
struct LexiconArgs {
    /// The release directory (frame/*.xml, frRelation.xml, frameIndex.xml, luIndex.xml, ...).
    #[arg(long)]
    framenet: PathBuf,
    /// Annotated CoNLL files whose targets the LU index must cover [default: the release's
    /// fn1.7.dev.syntaxnet.conll when present].
    #[arg(long = "targets")]
    targets: Vec<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ScoreArgs {
    /// Gold CoNLL file.
    #[arg(long)]
    gold: PathBuf,
    /// Predicted CoNLL file (same blocks, tokens and targets as the gold file).
    #[arg(long)]
    pred: PathBuf,
    /// FrameNet release directory (FE core types from frame/*.xml).
    #[arg(long)]
    frames: PathBuf,
    /// Print exactly {"frame", "arg", "full"} as JSON.
    #[arg(long)]
    json: bool,
    /// Partial frame credit 0.8^d over frRelation.xml distances (ours; off in KID's default).
    #[arg(long)]
    partial_credit: bool,
}

fn main() {
    burnlp_runtime::main(run, burnlp_core::cli::exit_code);
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Lexicon(args) => lexicon(&args),
        Command::Score(args) => score(&args),
        Command::Train(args) => train(&args),
        Command::Predict(args) => predict(&args),
        Command::Eval(args) => eval(&args),
        Command::Demo(args) => {
            let dir = args.dir("frame-parse");
            let rows = frame_parse::demo::demo(&dir)
                .with_context(|| format!("running the demo in {}", dir.display()))?;
            Ok(print_rows(&rows, args.json)?)
        }
        Command::Experiment(args) => {
            let report = frame_parse::experiment::run(&args).context("running the experiment")?;
            eprintln!("wrote {}", report.display());
            Ok(())
        }
    }
}

fn load_lexicon(dir: &std::path::Path) -> Result<Lexicon> {
    Lexicon::load(dir).with_context(|| format!("loading the FrameNet release {}", dir.display()))
}

fn train(args: &TrainArgs) -> Result<()> {
    let lexicon = load_lexicon(&args.framenet)?;
    let (_, train) = read_conll(&args.train)?;
    let (_, dev) = read_conll(&args.dev)?;
    let report = frame_parse::train::train(
        &args.config,
        &lexicon,
        &train,
        &dev,
        &args.run.out,
        args.run.resume,
    )
    .with_context(|| format!("training into {}", args.run.out.display()))?;
    eprintln!(
        "trained on {} of {} targets (dropped: {:?}); FKG {} frames, {} FE nodes",
        report.train_used,
        train.len(),
        report.dropped,
        report.fkg_nodes.0,
        report.fkg_nodes.1
    );
    println!("{}", serde_json::to_string(&report.best)?);
    Ok(())
}

fn predict(args: &PredictArgs) -> Result<()> {
    let lexicon = load_lexicon(&args.framenet)?;
    let device = args.model.device.inference()?;
    let run = TrainedRun::load(&args.model.model, &lexicon, &device)
        .with_context(|| format!("loading the run {}", args.model.model.display()))?;
    let (format, input) = read_conll(&args.input)?;
    let unseen = run.unseen_lus(&input);
    if !unseen.is_empty() {
        eprintln!(
            "{} LUs have no candidate frames (chosen among all frames): {}",
            unseen.len(),
            unseen.join(", ")
        );
    }
    let predicted = run.predict(&input, args.gold_frames)?;
    write_conll(&args.out, format, &predicted)?;
    eprintln!(
        "wrote {} parsed targets to {}",
        predicted.len(),
        args.out.display()
    );
    Ok(())
}

fn eval(args: &EvalArgs) -> Result<()> {
    let lexicon = load_lexicon(&args.framenet)?;
    let device = args.model.device.inference()?;
    let run = TrainedRun::load(&args.model.model, &lexicon, &device)
        .with_context(|| format!("loading the run {}", args.model.model.display()))?;
    let (_, gold) = read_conll(&args.gold)?;
    if gold.is_empty() {
        bail!("{} holds no targets", args.gold.display());
    }
    let predicted = run.predict(&gold, args.gold_frames)?;
    let s = frame_parse::score(&gold, &predicted, &lexicon, ScoreOptions::default());
    print_score(&s, args.json)
}

fn lexicon(args: &LexiconArgs) -> Result<()> {
    let lexicon = load_lexicon(&args.framenet)?;
    let counts = lexicon.counts();
    let mut targets = args.targets.clone();
    if targets.is_empty() {
        let dev = args.framenet.join("fn1.7.dev.syntaxnet.conll");
        if dev.exists() {
            targets.push(dev);
        }
    }
    let sources = frame_parse::lexicon::lu_sources(&args.framenet)?;
    let mut coverage = Vec::new();
    for path in &targets {
        let (_, instances) = read_conll(path)?;
        if sources.is_empty() {
            let map = CandidateFrames::default();
            coverage.push((
                path.clone(),
                "no LU index".to_string(),
                map.coverage(&instances),
            ));
        }
        for (source, lus) in &sources {
            let map = CandidateFrames::from_lexical_units(lus);
            let name = source
                .path()
                .file_name()
                .map(|n| n.to_string_lossy().to_string());
            coverage.push((
                path.clone(),
                name.unwrap_or_default(),
                map.coverage(&instances),
            ));
        }
    }
    let source = lexicon
        .lexical_units
        .as_ref()
        .map(|(s, _)| s.path().display().to_string());
    if args.json {
        let value = serde_json::json!({
            "counts": counts,
            "lu_source": source,
            "coverage": coverage.iter().map(|(p, s, c)| serde_json::json!({
                "file": p.display().to_string(), "lu_index": s, "coverage": c
            })).collect::<Vec<_>>(),
        });
        println!("{value}");
        return Ok(());
    }
    println!("frames            {}", counts.frames);
    println!(
        "frame elements    {} ({} distinct names)",
        counts.fes, counts.fe_names
    );
    for (kind, n) in &counts.core_types {
        println!("  {kind:<17} {n}");
    }
    println!(
        "frame relations   {} ({} types, {} FE relations)",
        counts.frame_relations, counts.relation_types, counts.fe_relations
    );
    println!("semantic types    {}", counts.sem_types);
    println!("frameIndex.xml    {} frames", counts.indexed_frames);
    match &source {
        Some(source) => println!(
            "lexical units     {} ({} distinct names) from {source}",
            counts.lexical_units, counts.lu_names
        ),
        None => println!(
            "lexical units     none (no lu_index.tsv or luIndex.xml): candidates come from training annotations"
        ),
    }
    for (path, source, c) in &coverage {
        println!(
            "coverage of {} by {source}: LUs {}/{} ({:.2} %), (LU, frame) pairs {}/{}, targets {}/{}",
            path.display(),
            c.lus_covered,
            c.lus,
            100.0 * c.lus_covered as f64 / c.lus.max(1) as f64,
            c.pairs_covered,
            c.pairs,
            c.targets_covered,
            c.targets
        );
        if !c.unseen_lus.is_empty() {
            println!("  unseen LUs: {}", c.unseen_lus.join(", "));
        }
        for (lu, frame) in c.unseen_pairs.iter().take(20) {
            println!("  frame not listed for its LU: {lu} -> {frame}");
        }
    }
    Ok(())
}

fn score(args: &ScoreArgs) -> Result<()> {
    let lexicon = load_lexicon(&args.frames)?;
    let (_, gold) = read_conll(&args.gold)?;
    let (_, pred) = read_conll(&args.pred)?;
    frame_parse::check_aligned(&gold, &pred, &args.gold, &args.pred)?;
    let options = ScoreOptions {
        partial_credit: args.partial_credit,
    };
    let s = frame_parse::score(&gold, &pred, &lexicon, options);
    if s.normalised_fes > 0 || s.unknown_fes > 0 || s.unknown_frames > 0 {
        eprintln!(
            "FE labels normalised (_ for -): {}; FE labels in neither frame (weight 0.5): {}; frames missing from the lexicon: {}",
            s.normalised_fes, s.unknown_fes, s.unknown_frames
        );
    }
    print_score(&s, args.json)
}

fn print_score(s: &frame_parse::Score, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(s)?);
        return Ok(());
    }
    println!(
        "frame  acc {:.4} ({} / {})",
        s.frame.acc, s.frame.correct, s.frame.total
    );
    println!(
        "arg    P {:.4} R {:.4} F1 {:.4} (weighted TP {} / pred {} / gold {}; spans {} / {} / {})",
        s.arg.p,
        s.arg.r,
        s.arg.f1,
        s.arg.tp_w,
        s.arg.pred_w,
        s.arg.gold_w,
        s.arg.tp,
        s.arg.pred,
        s.arg.gold
    );
    println!(
        "full   P {:.4} R {:.4} F1 {:.4}",
        s.full.p, s.full.r, s.full.f1
    );
    Ok(())
}
