//! `arxiv-cap`: extract ArxivCap figure–caption rows from LaTeX sources, read and check
//! ArxivCap/ArxivQA files, and score captions and multiple-choice answers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use arxiv_cap::{
    CaptionPrediction, ExtractOptions, Format, MetaRecord, MissingInputs, Prediction, RowWriter,
    Task, cap_stats, caption_instances, extract_sources, mc_accuracy, read_arxivcap, read_arxivqa,
    score_captions,
};
use burnlp_core::cli::DemoArgs;
use burnlp_core::report::print_rows;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Multimodal ArXiv: ArxivCap figure–caption extraction from LaTeX sources, ArxivQA, metrics.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Extract figure–caption rows (ArxivCap schema) from source directories or tarballs.
    Extract(ExtractArgs),
    /// Validate and count an ArxivCap or ArxivQA JSON Lines file.
    Stats(StatsArgs),
    /// Write the task instances of ArxivCap rows (§5.2) as JSON Lines.
    Tasks(TasksArgs),
    /// Score predictions: BLEU-2, ROUGE-L, CIDEr-D for captions; accuracy for ArxivQA.
    Eval(EvalArgs),
    /// Compare extraction with hand-checked gold figures and write a Markdown report.
    Experiment(ExperimentArgs),
    /// Extract figures from an embedded LaTeX sample and parse embedded answers.
    Demo(DemoArgs),
}

#[derive(Args)]
struct ExtractArgs {
    /// Source packages: directories, `.tar.gz`/`.tgz`/`.tar` files, or gzipped `.tex` files.
    #[arg(long, num_args = 1.., required = true)]
    src: Vec<PathBuf>,
    /// Output directory (gets `arxiv_cap.parquet` or `arxiv_cap.jsonl`, and
    /// `extract_report.json`).
    #[arg(long)]
    out: PathBuf,
    /// Output format [default: parquet when built with the `parquet` feature, else jsonl].
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Metadata JSON Lines (`{"arxiv_id", "meta": {"meta_from_kaggle", "meta_from_s2"}}`).
    #[arg(long)]
    meta: Option<PathBuf>,
    /// Keep only papers with a journal reference or publication type in `--meta`.
    #[arg(long, requires = "meta")]
    require_venue: bool,
    /// Drop captions with fewer words.
    #[arg(long, default_value_t = 5)]
    min_caption_words: usize,
    /// Drop image files with fewer bytes.
    #[arg(long, default_value_t = 100)]
    min_image_bytes: usize,
    /// Drop PNG/JPEG/GIF images with a side shorter than this (pixels).
    #[arg(long, default_value_t = 32)]
    min_image_side: u32,
    /// Keep images whose bytes repeat an earlier image of the paper.
    #[arg(long)]
    keep_duplicates: bool,
    /// Fail on a missing `\input` file or an unreadable package instead of skipping it.
    #[arg(long)]
    strict: bool,
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct StatsInput {
    /// An ArxivCap file: JSON Lines (one paper per line) or `.parquet`.
    #[arg(long)]
    cap: Option<PathBuf>,
    /// An ArxivQA JSON Lines file.
    #[arg(long)]
    qa: Option<PathBuf>,
}

#[derive(Args)]
struct StatsArgs {
    #[command(flatten)]
    input: StatsInput,
    /// With `--qa`: the folder the `image` paths are relative to; every image must exist.
    #[arg(long, requires = "qa")]
    images: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// What `eval` scores.
#[derive(Clone, Copy, ValueEnum)]
enum EvalTask {
    /// Captions with one image; prediction ids `<arxiv_id>/<image_file>`.
    SingleFigure,
    /// Captions with several images; prediction ids `<arxiv_id>#<caption index>`.
    MultiFigure,
    /// Paper titles from figures; prediction ids are arXiv ids.
    Title,
    /// ArxivQA multiple choice; prediction ids are item ids.
    Mc,
}

#[derive(Args)]
struct TasksArgs {
    /// ArxivCap rows (JSON Lines or `.parquet`).
    #[arg(long)]
    cap: PathBuf,
    /// The task.
    #[arg(long, value_enum)]
    task: Task,
    /// Title generation: figures per paper.
    #[arg(long, default_value_t = 4, value_parser = burnlp_core::cli::positive)]
    max_figures: usize,
    /// Output JSON Lines (`{"id", "task", "images", "context", "target"}`).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct EvalArgs {
    /// The task.
    #[arg(long, value_enum)]
    task: EvalTask,
    /// Title generation: figures per paper (as given to `tasks`).
    #[arg(long, default_value_t = 4, value_parser = burnlp_core::cli::positive)]
    max_figures: usize,
    /// Gold: ArxivCap rows (caption and title tasks; JSON Lines or `.parquet`) or ArxivQA items
    /// (`mc`, JSON Lines).
    #[arg(long)]
    gold: PathBuf,
    /// Predictions, JSON Lines `{"id": …, "prediction": "…"}`.
    #[arg(long)]
    pred: PathBuf,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ExperimentArgs {
    /// Folder of paper source trees with `gold_pairs.jsonl` (e.g. ../shared/datasets/arxiv-latex).
    #[arg(long)]
    data: PathBuf,
    /// Markdown report to write.
    #[arg(long)]
    out: PathBuf,
    /// Also print the per-paper scores as JSON lines.
    #[arg(long)]
    json: bool,
}

fn main() {
    burnlp_runtime::main(run);
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Extract(args) => extract(&args),
        Command::Stats(args) => stats(&args),
        Command::Tasks(args) => {
            let rows = read_cap(&args.cap)?;
            let instances = arxiv_cap::instances(&rows, args.task, args.max_figures);
            burnlp_core::data::write_jsonl(&args.out, &instances)?;
            eprintln!(
                "wrote {} instances to {}",
                instances.len(),
                args.out.display()
            );
            Ok(())
        }
        Command::Eval(args) => eval(&args),
        Command::Experiment(args) => experiment(&args),
        Command::Demo(args) => {
            let rows = arxiv_cap::demo::demo(&args.dir("arxiv-cap"))?;
            Ok(print_rows(&rows, args.json)?)
        }
    }
}

fn extract(args: &ExtractArgs) -> Result<()> {
    let format = args.format.unwrap_or_else(Format::default_format);
    let options = ExtractOptions {
        min_caption_words: args.min_caption_words,
        min_image_bytes: args.min_image_bytes,
        min_image_side: args.min_image_side,
        dedup_images: !args.keep_duplicates,
        missing_inputs: if args.strict {
            MissingInputs::Error
        } else {
            MissingInputs::Skip
        },
        require_venue: args.require_venue,
        embed_images: format.embeds_images(),
    };
    let metas: HashMap<_, _> = match &args.meta {
        Some(path) => burnlp_core::data::read_jsonl::<MetaRecord>(path)
            .with_context(|| format!("reading metadata {}", path.display()))?
            .into_iter()
            .map(|r| (r.arxiv_id, r.meta))
            .collect(),
        None => HashMap::new(),
    };
    let rows_path = args.out.join(format.file_name());
    let mut writer = RowWriter::create(&rows_path, format)
        .with_context(|| format!("creating {}", rows_path.display()))?;
    let extraction = extract_sources(&args.src, &options, &metas, |row| writer.write(row))
        .with_context(|| format!("writing {}", rows_path.display()))?;
    for warning in &extraction.warnings {
        eprintln!("warning: {warning}");
    }
    match extraction.failures.first() {
        Some((path, error)) if args.strict || extraction.failures.len() == args.src.len() => {
            for (path, error) in extraction.failures.iter().skip(1) {
                eprintln!("also failed: {}: {error}", path.display());
            }
            bail!("cannot extract {}: {error}", path.display());
        }
        _ => {
            for (path, error) in &extraction.failures {
                eprintln!("skipped {}: {error}", path.display());
            }
        }
    }
    let written = writer
        .finish()
        .with_context(|| format!("writing {}", rows_path.display()))?;
    let report = serde_json::json!({
        "counts": extraction.counts,
        "failures": extraction.failures.iter().map(|(p, e)| format!("{}: {e}", p.display())).collect::<Vec<_>>(),
        "warnings": extraction.warnings,
    });
    let report_path = args.out.join("extract_report.json");
    burnlp_core::data::write_json(&report_path, &report, true)?;
    for line in extraction.counts.lines() {
        eprintln!("{line}");
    }
    eprintln!("wrote {written} papers to {}", rows_path.display());
    Ok(())
}

fn stats(args: &StatsArgs) -> Result<()> {
    let value = match (&args.input.cap, &args.input.qa) {
        (Some(path), _) => serde_json::to_value(cap_stats(&read_cap(path)?))?,
        (_, Some(path)) => {
            let items = read_arxivqa(path, args.images.as_deref())
                .with_context(|| format!("reading ArxivQA {}", path.display()))?;
            let mut labels: std::collections::BTreeMap<String, usize> = Default::default();
            for item in &items {
                *labels.entry(item.label.trim().to_string()).or_default() += 1;
            }
            serde_json::json!({"items": items.len(), "labels": labels})
        }
        _ => bail!("give --cap FILE or --qa FILE"),
    };
    print_value(&value, args.json);
    Ok(())
}

fn read_cap(path: &Path) -> Result<Vec<arxiv_cap::ArxivCapRow>> {
    read_arxivcap(path).with_context(|| format!("reading ArxivCap {}", path.display()))
}

fn eval(args: &EvalArgs) -> Result<()> {
    let value = match args.task {
        EvalTask::Mc => {
            let items = read_arxivqa(&args.gold, None)
                .with_context(|| format!("reading ArxivQA {}", args.gold.display()))?;
            let preds: Vec<Prediction> = burnlp_core::data::read_jsonl(&args.pred)
                .with_context(|| format!("reading predictions {}", args.pred.display()))?;
            serde_json::to_value(mc_accuracy(&items, &preds, &args.pred)?)?
        }
        EvalTask::SingleFigure | EvalTask::MultiFigure | EvalTask::Title => {
            let task = match args.task {
                EvalTask::SingleFigure => Task::SingleFigure,
                EvalTask::MultiFigure => Task::MultiFigure,
                _ => Task::Title,
            };
            let instances = caption_instances(&read_cap(&args.gold)?, task, args.max_figures);
            let preds: Vec<CaptionPrediction> = burnlp_core::data::read_jsonl(&args.pred)
                .with_context(|| format!("reading predictions {}", args.pred.display()))?;
            serde_json::to_value(score_captions(&instances, &preds, &args.pred)?)?
        }
    };
    print_value(&value, args.json);
    Ok(())
}

fn experiment(args: &ExperimentArgs) -> Result<()> {
    let gold = args.data.join("gold_pairs.jsonl");
    let scores = arxiv_cap::score_all(&args.data, &gold, &ExtractOptions::default())
        .with_context(|| format!("scoring extraction on {}", args.data.display()))?;
    let report = arxiv_cap::markdown(&scores, &args.data.display().to_string());
    burnlp_core::data::write_atomic(&args.out, report.as_bytes())?;
    if args.json {
        for s in &scores {
            println!("{}", serde_json::to_string(s)?);
        }
    } else {
        print!("{report}");
    }
    Ok(())
}

/// Prints a JSON object on one line, or its fields as `name value` lines.
fn print_value(value: &serde_json::Value, json: bool) {
    match value.as_object().filter(|_| !json) {
        Some(fields) => {
            for (name, v) in fields {
                println!("{name:>24} {v}");
            }
        }
        None => println!("{value}"),
    }
}
