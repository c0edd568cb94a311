//! `newsbot`: tables to articles, fact checking, summaries, speech and the whole chain.

use std::path::PathBuf;

use anyhow::{Context, Result};
use burnlp_core::cli::{DemoArgs, DeviceArgs};
use burnlp_core::report::print_rows;
use clap::{Args, Parser, Subcommand};
use newsbot::{Lang, TemplateStore, read_table, write_article};

/// A news robot: sports tables to Chinese and English articles with provenance.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write an article from a table (Markdown on stdout, or files with --out).
    Write(WriteArgs),
    /// Find statements in a game report that the box score contradicts.
    Check(CheckArgs),
    /// Score the checker on the RotoWire accuracy shared task annotations.
    EvalCheck(EvalCheckArgs),
    /// Summarise the article written from a table: the top-k sentences of a scorer.
    Summarize(SummarizeArgs),
    /// Train the BERT sentence scorer on oracle labels and report ROUGE on held-out games.
    TrainSummarizer(TrainSummarizerArgs),
    /// Read English or Chinese aloud with espeak-ng into a WAV file, with phoneme timings and visemes.
    Speak(SpeakArgs),
    /// The whole chain: articles, check, summary, speech, visemes and index.html.
    Run(RunArgs),
    /// Measure generation, the checker and summarisation on the shared RotoWire data.
    Experiment(ExperimentArgs),
    /// Write, check, summarise and run the whole chain on an embedded table (result rows).
    Demo(DemoArgs),
}

#[derive(Args)]
struct TableArgs {
    /// The table: a soccer match JSON, a RotoWire record, or a file of records (JSON Lines).
    #[arg(long)]
    table: PathBuf,
    /// Which record of a multi-record file: a 0-based index or a text id like S001.
    #[arg(long)]
    game: Option<String>,
}

#[derive(Args)]
struct WriteArgs {
    #[command(flatten)]
    table: TableArgs,
    /// Output language.
    #[arg(long, value_enum, default_value = "zh")]
    lang: Lang,
    /// Seed of the template choice.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// A template store (TOML) replacing the embedded one.
    #[arg(long)]
    templates: Option<PathBuf>,
    /// Write `article.md` and `article.json` (with provenance) here instead of printing.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the JSON with provenance instead of Markdown.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    table: TableArgs,
    /// The report to check (English plain text).
    #[arg(long)]
    text: PathBuf,
    /// Print the findings as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct EvalCheckArgs {
    /// The shared task folder (shared_task.jsonl, games.csv, gsml.csv).
    #[arg(
        long,
        default_value = "../shared/datasets/data2text/rotowire/accuracy_shared_task"
    )]
    task: PathBuf,
    /// Also write every finding as JSON Lines here.
    #[arg(long)]
    findings: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct SummarizeArgs {
    #[command(flatten)]
    table: TableArgs,
    /// Output language of the article (the BERT scorer is trained on English).
    #[arg(long, value_enum, default_value = "en")]
    lang: Lang,
    /// Seed of the template choice.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// A trained scorer run directory (from train-summarizer); lead-k without it.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Sentences in the summary.
    #[arg(long, default_value_t = 3, value_parser = burnlp_core::cli::positive)]
    k: usize,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct TrainSummarizerArgs {
    /// RotoWire records with human summaries (JSON Lines).
    #[arg(
        long,
        default_value = "../shared/datasets/data2text/rotowire/accuracy_shared_task/shared_task.jsonl"
    )]
    data: PathBuf,
    /// Run directory of the scorer.
    #[arg(long)]
    out: PathBuf,
    /// Training games (the first N records).
    #[arg(long, default_value_t = 40, value_parser = burnlp_core::cli::positive)]
    train_games: usize,
    /// Dev games (the next N records); the rest are test games.
    #[arg(long, default_value_t = 8, value_parser = burnlp_core::cli::positive)]
    dev_games: usize,
    /// Sentences per summary (and the oracle's maximum).
    #[arg(long, default_value_t = 3, value_parser = burnlp_core::cli::positive)]
    k: usize,
    /// Only the baselines and the oracle (no training).
    #[arg(long)]
    no_train: bool,
    /// The articles the scorer reads (zh: scored through the aligned English sentences; use a
    /// multilingual encoder such as the E5S1 file).
    #[arg(long, value_enum, default_value = "en")]
    lang: Lang,
    /// Write the Markdown report here too.
    #[arg(long)]
    report: Option<PathBuf>,
    #[command(flatten)]
    train: text_cls::TrainConfig,
}

#[derive(Args)]
struct SpeakArgs {
    /// The text to read (a file).
    #[arg(long)]
    text: PathBuf,
    /// Its language (Chinese is read through pinyin).
    #[arg(long, value_enum, default_value = "en")]
    lang: Lang,
    /// The WAV file to write.
    #[arg(long)]
    out: PathBuf,
    /// Also write the phoneme timings and viseme track (JSON) here.
    #[arg(long)]
    visemes: Option<PathBuf>,
    /// Frame rate of the viseme frames.
    #[arg(long, default_value_t = 30, value_parser = positive_u32)]
    fps: u32,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    table: TableArgs,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// Seed of the template choice.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Sentences in the summaries.
    #[arg(long, default_value_t = 3, value_parser = burnlp_core::cli::positive)]
    k: usize,
    /// A trained scorer run directory for the English summary (lead-k without it).
    #[arg(long)]
    summarizer: Option<PathBuf>,
    /// Skip speech.
    #[arg(long)]
    no_speech: bool,
    /// A template store (TOML) replacing the embedded one.
    #[arg(long)]
    templates: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceArgs,
}

fn positive_u32(s: &str) -> Result<u32, String> {
    let n = burnlp_core::cli::positive(s)?;
    u32::try_from(n).map_err(|_| format!("`{s}` is too large"))
}

#[derive(Args)]
struct ExperimentArgs {
    /// The shared folder.
    #[arg(long, default_value = "../shared")]
    shared: PathBuf,
    /// Report file.
    #[arg(long, default_value = "docs/results/newsbot.md")]
    report: PathBuf,
    /// Run directory of the sentence scorer (trained when --encoder names a model).
    #[arg(long, default_value = "target/burnlp/newsbot/scorer")]
    scorer_dir: PathBuf,
    /// Sentence-scorer training (the scorer is skipped with the default `tiny` encoder).
    #[command(flatten)]
    train: text_cls::TrainConfig,
}

fn main() {
    burnlp_runtime::main(run);
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Write(args) => write(&args),
        Command::Check(args) => check(&args),
        Command::EvalCheck(args) => eval_check(&args),
        Command::Summarize(args) => summarize(&args),
        Command::TrainSummarizer(args) => train_summarizer(&args),
        Command::Speak(args) => speak(&args),
        Command::Run(args) => run_chain(&args),
        Command::Experiment(args) => experiment(&args),
        Command::Demo(args) => {
            let dir = args.dir("newsbot");
            let rows = newsbot::demo::demo(&dir)
                .with_context(|| format!("running the demo in {}", dir.display()))?;
            Ok(print_rows(&rows, args.json)?)
        }
    }
}

fn store(path: Option<&PathBuf>) -> Result<TemplateStore> {
    Ok(match path {
        Some(p) => TemplateStore::load(p)?,
        None => TemplateStore::embedded(),
    })
}

fn write(args: &WriteArgs) -> Result<()> {
    let store = store(args.templates.as_ref())?;
    let table = read_table(&args.table.table, args.table.game.as_deref())?;
    let source = args.table.table.display().to_string();
    let article = write_article(&table, &source, &store, args.lang, args.seed)
        .with_context(|| format!("writing an article about {source}"))?;
    let json = serde_json::to_string_pretty(&article)?;
    match &args.out {
        Some(dir) => {
            burnlp_core::data::write_atomic(dir.join("article.md"), article.markdown().as_bytes())?;
            burnlp_core::data::write_atomic(dir.join("article.json"), json.as_bytes())?;
            eprintln!("wrote {}/article.md and article.json", dir.display());
        }
        None if args.json => println!("{json}"),
        None => print!("{}", article.markdown()),
    }
    Ok(())
}

fn check(args: &CheckArgs) -> Result<()> {
    let table = read_table(&args.table.table, args.table.game.as_deref())?;
    let newsbot::Table::Basketball(game) = table else {
        anyhow::bail!(
            "{}: the checker reads basketball box scores (RotoWire); soccer is not supported",
            args.table.table.display()
        );
    };
    let text = std::fs::read_to_string(&args.text)
        .with_context(|| format!("reading {}", args.text.display()))?;
    let findings = newsbot::check::check_text(&game, &text);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&findings)?);
    } else if findings.is_empty() {
        println!("no contradiction found");
    } else {
        for f in &findings {
            println!(
                "sentence {} tokens {}-{} {} `{}`{}: {}",
                f.sentence + 1,
                f.start,
                f.end,
                f.category.label(),
                f.tokens,
                f.correction
                    .as_ref()
                    .map(|c| format!(" (table: {c})"))
                    .unwrap_or_default(),
                f.reason
            );
        }
    }
    Ok(())
}

fn eval_check(args: &EvalCheckArgs) -> Result<()> {
    let (report, findings) = newsbot::accuracy::evaluate(&args.task)
        .with_context(|| format!("evaluating the checker on {}", args.task.display()))?;
    if let Some(path) = &args.findings {
        let rows = findings.iter().flat_map(|(id, fs)| {
            fs.iter()
                .map(move |f| serde_json::json!({"text_id": id, "finding": f}))
        });
        burnlp_core::data::write_jsonl(path, rows)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.markdown());
    }
    Ok(())
}

fn summarize(args: &SummarizeArgs) -> Result<()> {
    use newsbot::summarize::{BertScorer, Lead, SentenceScorer, top_k};
    let table = read_table(&args.table.table, args.table.game.as_deref())?;
    let source = args.table.table.display().to_string();
    let article = write_article(
        &table,
        &source,
        &TemplateStore::embedded(),
        args.lang,
        args.seed,
    )?;
    let sentences: Vec<String> = article.sentences.iter().map(|s| s.text.clone()).collect();
    let scorer: Box<dyn SentenceScorer> = match &args.model {
        Some(dir) => Box::new(
            BertScorer::load(dir, &args.device.inference()?)
                .with_context(|| format!("loading the scorer {}", dir.display()))?,
        ),
        None => Box::new(Lead),
    };
    let scores = scorer.score(&sentences, &article.title.text)?;
    let chosen = top_k(&scores, args.k);
    println!("# {}\n", article.title.text);
    println!(
        "{}",
        chosen
            .iter()
            .map(|&i| sentences[i].as_str())
            .collect::<Vec<_>>()
            .join(args.lang.sentence_separator())
    );
    Ok(())
}

fn train_summarizer(args: &TrainSummarizerArgs) -> Result<()> {
    let tables = newsbot::read_tables(&args.data)?;
    let split = newsbot::summarize::GameSplit {
        train: args.train_games,
        dev: args.dev_games,
    };
    let config = (!args.no_train).then_some(&args.train);
    let report = newsbot::summarize::experiment(
        &tables,
        &TemplateStore::embedded(),
        config,
        &args.out,
        split,
        args.k,
        args.lang,
    )
    .context("running the summarisation experiment")?;
    let md = report.markdown();
    if let Some(path) = &args.report {
        burnlp_core::data::write_atomic(path, md.as_bytes())?;
    }
    print!("{md}");
    Ok(())
}

fn speak(args: &SpeakArgs) -> Result<()> {
    use newsbot::speech::{Espeak, speak_to_file, viseme_track, visemes_json};
    let text = std::fs::read_to_string(&args.text)
        .with_context(|| format!("reading {}", args.text.display()))?;
    let espeak = Espeak::default();
    let speech = speak_to_file(&espeak, &text, args.lang, &args.out)?;
    let track = viseme_track(&speech.timings);
    let seconds = speech.waveform.seconds();
    if let Some(path) = &args.visemes {
        let mut doc = visemes_json(&track, args.fps, seconds);
        doc["phonemes"] = serde_json::to_value(&speech.timings)?;
        burnlp_core::data::write_atomic(path, serde_json::to_string(&doc)?.as_bytes())?;
    }
    eprintln!(
        "wrote {:.1} s of speech ({} phonemes, {} viseme keyframes) to {}",
        seconds,
        speech.timings.len(),
        track.len(),
        args.out.display()
    );
    Ok(())
}

fn run_chain(args: &RunArgs) -> Result<()> {
    use newsbot::speech::Espeak;
    use newsbot::summarize::BertScorer;
    let store = store(args.templates.as_ref())?;
    let table = read_table(&args.table.table, args.table.game.as_deref())?;
    let source = args.table.table.display().to_string();
    let scorer = match &args.summarizer {
        Some(dir) => Some(
            BertScorer::load(dir, &args.device.inference()?)
                .with_context(|| format!("loading the scorer {}", dir.display()))?,
        ),
        None => None,
    };
    let espeak = Espeak::default();
    let config = newsbot::chain::ChainConfig {
        seed: args.seed,
        k: args.k,
        scorer: scorer
            .as_ref()
            .map(|s| s as &dyn newsbot::summarize::SentenceScorer),
        espeak: (!args.no_speech).then_some(&espeak),
        fps: 30,
    };
    let outcome = newsbot::chain::run(&table, &source, &store, &config, &args.out)
        .with_context(|| format!("running the chain on {source}"))?;
    for f in &outcome.files {
        eprintln!("wrote {}", f.display());
    }
    if let Some(n) = outcome.contradictions {
        eprintln!("fact check of the English article: {n} contradiction(s)");
    }
    match &outcome.speech {
        Ok(s) => eprintln!("speech: {s:.1} s"),
        Err(why) => eprintln!("speech not produced: {why}"),
    }
    Ok(())
}

fn experiment(args: &ExperimentArgs) -> Result<()> {
    let config = newsbot::experiment::ExperimentConfig {
        shared: args.shared.clone(),
        scorer: args
            .train
            .encoder
            .pretrained()
            .is_some()
            .then(|| args.train.clone()),
        scorer_dir: args.scorer_dir.clone(),
    };
    let words: Vec<String> = std::env::args().skip(1).collect();
    let command = format!("cargo run -p newsbot -- {}", words.join(" "));
    let report =
        newsbot::experiment::run(&config, &command).context("running the newsbot measurements")?;
    burnlp_core::data::write_atomic(&args.report, report.as_bytes())?;
    print!("{report}");
    Ok(())
}
