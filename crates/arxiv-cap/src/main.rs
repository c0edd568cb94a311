//! `arxiv-cap`: extract ArxivCap figure–caption rows from LaTeX sources, read and check
//! ArxivCap/ArxivQA files, and score captions and multiple-choice answers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use arxiv_cap::bertscore::BertScorer;
use arxiv_cap::captioner::experiment::ChartSplits;
use arxiv_cap::captioner::{self, CaptionExample, CaptionerRun, CaptionerSpec};
use arxiv_cap::eval::score_captions_with_bertscore;
use arxiv_cap::images::Rasterizer;
use arxiv_cap::resume::{ExtractControl, extract_resumable};
use arxiv_cap::{
    CaptionPrediction, ExtractOptions, Format, MetaRecord, MissingInputs, Prediction, Task,
    cap_stats, caption_instances, mc_accuracy, read_arxivcap, read_arxivqa, score_captions,
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
    /// Generate ArxivQA-style questions about figures with a vision model behind an
    /// OpenAI-compatible endpoint (resumable).
    QaGen(QaGenArgs),
    /// Run a served vision-language model over a task's instances or ArxivQA items and score it
    /// (resumable).
    BenchLvlm(BenchArgs),
    /// Train the tiny captioner (patch encoder + Transformer decoder) on generated charts and
    /// optionally extracted real pairs; scores it on held-out generated charts.
    TrainCaptioner(TrainCaptionerArgs),
    /// Caption images, generated charts or ArxivCap rows with a trained captioner.
    Caption(CaptionArgs),
    /// Extract figures from an embedded LaTeX sample, parse embedded answers, and train the
    /// tiny captioner for a few steps on generated charts.
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
    /// Keep PDF/EPS figures as they are (unmeasured, embedded as PDF/EPS) instead of
    /// rasterising them with `pdftoppm` / `gs`.
    #[arg(long)]
    no_rasterize: bool,
    /// Resolution of rasterised PDF/EPS figures.
    #[arg(long, default_value_t = 100, value_parser = positive_u32)]
    dpi: u32,
    /// Continue an interrupted run of --out: the sources already done are skipped (their
    /// rows are kept in `OUT/.NAME.partial`, with `OUT/.NAME.progress.json`); the sources and
    /// settings must be the same. The output equals an uninterrupted run's.
    #[arg(long)]
    resume: bool,
}

fn positive_u32(s: &str) -> std::result::Result<u32, String> {
    let n = burnlp_core::cli::positive(s)?;
    u32::try_from(n).map_err(|e| format!("`{s}`: {e}"))
}

/// The endpoint and sampling flags of `qa-gen` and `bench-lvlm`.
#[derive(Args)]
struct EndpointArgs {
    /// Base URL of the OpenAI-compatible server (e.g. http://127.0.0.1:8000).
    #[arg(long)]
    endpoint: String,
    /// The served model's name.
    #[arg(long)]
    model: String,
    /// Environment variable holding the API key (sent as a bearer token when set).
    #[arg(long, default_value = "OPENAI_API_KEY")]
    api_key_env: String,
    /// Retries of a failed request (connection errors, 429, 5xx).
    #[arg(long, default_value_t = 3)]
    retries: usize,
    /// Most generated tokens per answer.
    #[arg(long, default_value_t = 512, value_parser = burnlp_core::cli::positive)]
    max_tokens: usize,
    /// Sampling temperature (0: greedy).
    #[arg(long, default_value_t = 0.0, value_parser = burnlp_core::cli::non_negative_f64)]
    temperature: f64,
    /// Sampling seed, where the server supports one.
    #[arg(long)]
    seed: Option<u64>,
    /// Resolution for rasterising PDF/EPS images before sending them.
    #[arg(long, default_value_t = 100, value_parser = positive_u32)]
    dpi: u32,
}

impl EndpointArgs {
    fn client(&self) -> burnlp_core::openai::OpenAiClient {
        let settings = burnlp_core::openai::ClientSettings {
            retries: self.retries,
            ..Default::default()
        }
        .with_env_key(&self.api_key_env);
        burnlp_core::openai::OpenAiClient::new(&self.endpoint, settings)
    }

    fn config(&self) -> arxiv_cap::lvlm::LvlmConfig {
        arxiv_cap::lvlm::LvlmConfig {
            model: self.model.clone(),
            max_tokens: self.max_tokens,
            temperature: self.temperature,
            seed: self.seed,
        }
    }
}

#[derive(Args)]
struct QaGenArgs {
    /// ArxivCap rows with embedded images (`.parquet`).
    #[arg(long)]
    cap: PathBuf,
    /// Output folder: `arxivqa.jsonl`, `rejected.jsonl`, `images/` (an earlier run's items are
    /// kept and skipped).
    #[arg(long)]
    out: PathBuf,
    /// At most this many figures (single-image captions, in row order).
    #[arg(long, value_parser = burnlp_core::cli::positive)]
    limit: Option<usize>,
    #[command(flatten)]
    endpoint: EndpointArgs,
}

#[derive(Args)]
struct BenchArgs {
    /// The task.
    #[arg(long, value_enum)]
    task: EvalTask,
    /// Caption tasks: ArxivCap rows with embedded images (`.parquet`); `mc`: ArxivQA items.
    #[arg(long)]
    gold: PathBuf,
    /// `mc`: the folder the items' `image` paths are relative to.
    #[arg(long)]
    images: Option<PathBuf>,
    /// Title generation: figures per paper.
    #[arg(long, default_value_t = 4, value_parser = burnlp_core::cli::positive)]
    max_figures: usize,
    /// Predictions (`{"id", "prediction"}` JSON Lines; an earlier run's lines are kept and
    /// skipped).
    #[arg(long)]
    pred: PathBuf,
    #[command(flatten)]
    endpoint: EndpointArgs,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct TrainCaptionerArgs {
    /// Run directory (model.json, vocab.json, best/, last/, metrics.jsonl, held_out.json).
    #[arg(long)]
    out: PathBuf,
    /// Real training pairs: ArxivCap rows with embedded images (`.parquet` from `extract`).
    #[arg(long)]
    cap: Vec<PathBuf>,
    /// Resolution for rasterising PDF/EPS images of `--cap` rows that were not rasterised.
    #[arg(long, default_value_t = 100, value_parser = positive_u32)]
    dpi: u32,
    /// Continue the newest checkpoint of `--out` (same settings and data required).
    #[arg(long)]
    resume: bool,
    #[command(flatten)]
    captioner: CaptionerArgs,
    #[command(flatten)]
    device: burnlp_core::cli::DeviceArgs,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

/// Settings of the captioner experiment.
#[derive(Args)]
struct CaptionerArgs {
    /// Generated training charts (seeds 0..N).
    #[arg(long, default_value_t = 4000, value_parser = burnlp_core::cli::positive)]
    train_charts: usize,
    /// Generated validation charts (the next seeds), for model selection.
    #[arg(long, default_value_t = 300, value_parser = burnlp_core::cli::positive)]
    valid_charts: usize,
    /// Held-out test charts (seeds from 1,000,000: never trained on or selected with).
    #[arg(long, default_value_t = 500, value_parser = burnlp_core::cli::positive)]
    test_charts: usize,
    /// Optimizer steps.
    #[arg(long, default_value_t = 1500, value_parser = burnlp_core::cli::positive)]
    steps: usize,
    /// Examples per batch.
    #[arg(long, default_value_t = 32, value_parser = burnlp_core::cli::positive)]
    batch_size: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 2e-3, value_parser = burnlp_core::cli::positive_f64)]
    lr: f64,
    /// Evaluate every N steps.
    #[arg(long, default_value_t = 250, value_parser = burnlp_core::cli::positive)]
    eval_every: usize,
    /// Model size.
    #[arg(long, default_value_t = 64, value_parser = burnlp_core::cli::positive)]
    d_model: usize,
    /// Encoder and decoder layers (each).
    #[arg(long, default_value_t = 2, value_parser = burnlp_core::cli::positive)]
    layers: usize,
    /// Image side in pixels (charts are drawn at this size, real images resized to it).
    #[arg(long, default_value_t = 32, value_parser = burnlp_core::cli::positive)]
    image_size: usize,
    /// Patch side; must divide the image side.
    #[arg(long, default_value_t = 8, value_parser = burnlp_core::cli::positive)]
    patch: usize,
    /// Seed of initialisation and batch order.
    #[arg(long, default_value_t = 13)]
    seed: u64,
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct CaptionInput {
    /// Image files (PNG, JPEG, PDF, EPS).
    #[arg(long, num_args = 1..)]
    images: Vec<PathBuf>,
    /// Caption this many generated charts (seeds from `--seed`) and score them.
    #[arg(long, value_parser = burnlp_core::cli::positive)]
    charts: Option<usize>,
    /// Caption every single-figure instance of ArxivCap rows with embedded images; ids as
    /// `eval --task single-figure` expects.
    #[arg(long)]
    cap: Option<PathBuf>,
}

#[derive(Args)]
struct CaptionArgs {
    #[command(flatten)]
    model: burnlp_core::cli::ModelArgs,
    #[command(flatten)]
    input: CaptionInput,
    /// First chart seed for `--charts`.
    #[arg(long, default_value_t = 2_000_000)]
    seed: u64,
    /// Write predictions (`{"id", "prediction"}` JSON Lines) here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Resolution for rasterising PDF/EPS inputs.
    #[arg(long, default_value_t = 100, value_parser = positive_u32)]
    dpi: u32,
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
    /// Descriptions of consecutive figure pairs; prediction ids `<arxiv_id>#<k>+<k+1>`.
    Contrastive,
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
    /// Also compute BERTScore with this BERT-family encoder (a Hugging Face directory such as
    /// ../shared/models/all-minilm-l6-v2, or any core encoder reference); caption tasks only.
    #[arg(long)]
    bertscore_model: Option<String>,
    #[command(flatten)]
    device: burnlp_core::cli::DeviceArgs,
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
    /// Keep PDF/EPS figures unrasterised (no pixel sizes, no rasterisation counts).
    #[arg(long)]
    no_rasterize: bool,
    /// Resolution of rasterised PDF/EPS figures.
    #[arg(long, default_value_t = 100, value_parser = positive_u32)]
    dpi: u32,
    /// Also train the tiny captioner and report its held-out chart scores, with its run here.
    #[arg(long)]
    captioner_out: Option<PathBuf>,
    #[command(flatten)]
    captioner: CaptionerArgs,
}

fn main() {
    burnlp_runtime::main(run, burnlp_core::cli::exit_code);
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
        Command::Eval(args) => eval_command(&args),
        Command::Experiment(args) => experiment(&args),
        Command::QaGen(args) => {
            let rows = read_cap(&args.cap)?;
            let rasterizer = Rasterizer {
                dpi: args.endpoint.dpi,
            };
            let report = arxiv_cap::lvlm::qa_gen(
                &args.endpoint.client(),
                &rows,
                &args.out,
                &args.endpoint.config(),
                &rasterizer,
                args.limit,
            )?;
            print_value(&serde_json::to_value(report)?, false);
            Ok(())
        }
        Command::BenchLvlm(args) => bench(&args),
        Command::TrainCaptioner(args) => train_captioner(&args),
        Command::Caption(args) => caption(&args),
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
        rasterizer: (!args.no_rasterize).then_some(Rasterizer { dpi: args.dpi }),
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
    let control = ExtractControl {
        resume: args.resume,
        settings: serde_json::json!({
            "meta": args.meta,
            "require_venue": args.require_venue,
            "min_caption_words": args.min_caption_words,
            "min_image_bytes": args.min_image_bytes,
            "min_image_side": args.min_image_side,
            "keep_duplicates": args.keep_duplicates,
            "strict": args.strict,
            "rasterize": !args.no_rasterize,
            "dpi": args.dpi,
        }),
        halt_after: None,
    };
    let work = extract_resumable(&args.src, &options, &metas, &rows_path, &control)
        .with_context(|| format!("extracting into {}", rows_path.display()))?;
    for warning in &work.warnings {
        eprintln!("warning: {warning}");
    }
    match work.failures.first() {
        Some((path, error)) if args.strict || work.failures.len() == args.src.len() => {
            for (path, error) in work.failures.iter().skip(1) {
                eprintln!("also failed: {path}: {error}");
            }
            bail!("cannot extract {path}: {error}");
        }
        _ => {
            for (path, error) in &work.failures {
                eprintln!("skipped {path}: {error}");
            }
        }
    }
    let counts = work.counts.clone();
    let report_path = args.out.join("extract_report.json");
    let written = work
        .finish(&rows_path, format, &report_path)
        .with_context(|| format!("writing {}", rows_path.display()))?;
    for line in counts.lines() {
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

fn eval_command(args: &EvalArgs) -> Result<()> {
    let value = eval(args)?;
    print_value(&value, args.json);
    Ok(())
}

/// The scores of `eval` as JSON.
fn eval(args: &EvalArgs) -> Result<serde_json::Value> {
    let value = match args.task {
        EvalTask::Mc => {
            let items = read_arxivqa(&args.gold, None)
                .with_context(|| format!("reading ArxivQA {}", args.gold.display()))?;
            let preds: Vec<Prediction> = read_predictions(&args.pred)?;
            serde_json::to_value(mc_accuracy(&items, &preds, &args.pred)?)?
        }
        EvalTask::SingleFigure
        | EvalTask::MultiFigure
        | EvalTask::Contrastive
        | EvalTask::Title => {
            let task = caption_task(args.task);
            let instances = caption_instances(&read_cap(&args.gold)?, task, args.max_figures);
            let preds: Vec<CaptionPrediction> = read_predictions(&args.pred)?;
            let report = match &args.bertscore_model {
                Some(reference) => {
                    let scorer = BertScorer::load(reference, &args.device.inference()?)?;
                    score_captions_with_bertscore(&instances, &preds, &args.pred, &scorer)?
                }
                None => score_captions(&instances, &preds, &args.pred)?,
            };
            serde_json::to_value(report)?
        }
    };
    Ok(value)
}

/// A JSON Lines prediction file with at least one record.
fn read_predictions<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let preds: Vec<T> = burnlp_core::data::read_jsonl(path)
        .with_context(|| format!("reading predictions {}", path.display()))?;
    if preds.is_empty() {
        bail!("{} holds no predictions", path.display());
    }
    Ok(preds)
}

fn experiment(args: &ExperimentArgs) -> Result<()> {
    let gold = args.data.join("gold_pairs.jsonl");
    let options = ExtractOptions {
        rasterizer: (!args.no_rasterize).then_some(Rasterizer { dpi: args.dpi }),
        ..ExtractOptions::default()
    };
    if let Some(rasterizer) = &options.rasterizer {
        rasterizer.check_tools()?;
    }
    let scores = arxiv_cap::score_all(&args.data, &gold, &options)
        .with_context(|| format!("scoring extraction on {}", args.data.display()))?;
    let mut report = arxiv_cap::markdown(&scores, &args.data.display().to_string());
    let counts = scores.last().map(|s| s.counts.clone()).unwrap_or_default();
    report.push_str("\n## Rasterised figures\n\n");
    report.push_str(&match &options.rasterizer {
        Some(r) => format!(
            "PDF figures are rasterised by poppler's `pdftoppm` (first page) and EPS figures by \
             Ghostscript's `gs` (bounding box) at {} DPI, after the byte-size and duplicate \
             filters: {} rasterised, {} failed (dropped); the minimum-size filter then saw their \
             pixel sizes ({} images too small in all).\n",
            r.dpi, counts.images_rasterized, counts.images_raster_failed, counts.images_too_small
        ),
        None => "PDF/EPS figures were not rasterised (`--no-rasterize`).\n".to_string(),
    });
    if let Some(out) = &args.captioner_out {
        let (splits, spec, config) = captioner_settings(&args.captioner);
        let run = captioner::experiment::run(
            splits,
            Vec::new(),
            &spec,
            &config,
            out,
            &burnlp_core::device::cpu(),
        )
        .with_context(|| format!("training the captioner into {}", out.display()))?;
        report.push('\n');
        report.push_str(&captioner::experiment::markdown(&run, &spec, &config));
    }
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

fn captioner_settings(
    args: &CaptionerArgs,
) -> (ChartSplits, CaptionerSpec, captioner::TrainConfig) {
    let splits = ChartSplits {
        train: args.train_charts,
        valid: args.valid_charts,
        test: args.test_charts,
    };
    let spec = CaptionerSpec {
        image_size: args.image_size,
        patch: args.patch,
        d_model: args.d_model,
        ffn_dim: args.d_model * 2,
        encoder_layers: args.layers,
        decoder_layers: args.layers,
        ..CaptionerSpec::tiny(0)
    };
    let config = captioner::TrainConfig {
        steps: args.steps,
        batch_size: args.batch_size,
        lr: args.lr,
        eval_every: args.eval_every.min(args.steps),
        warmup: (args.steps / 10).max(1),
        seed: args.seed,
        ..Default::default()
    };
    (splits, spec, config)
}

/// Real training pairs of `--cap` files; unusable images are reported, not silently skipped.
fn real_pairs(paths: &[PathBuf], size: usize, dpi: u32) -> Result<Vec<CaptionExample>> {
    let rasterizer = Rasterizer { dpi };
    let mut out = Vec::new();
    for path in paths {
        let rows = read_cap(path)?;
        let (examples, failed) = captioner::real_examples(&rows, size, &rasterizer);
        for (id, why) in &failed {
            eprintln!("warning: {}: {id}: not used: {why}", path.display());
        }
        eprintln!(
            "{}: {} real pairs, {} images not usable",
            path.display(),
            examples.len(),
            failed.len()
        );
        out.extend(examples);
    }
    Ok(out)
}

fn train_captioner(args: &TrainCaptionerArgs) -> Result<()> {
    let device = args.device.inference()?;
    let (splits, spec, mut config) = captioner_settings(&args.captioner);
    config.resume = args.resume;
    let real = real_pairs(&args.cap, spec.image_size, args.dpi)?;
    let report = captioner::experiment::run(splits, real, &spec, &config, &args.out, &device)
        .with_context(|| format!("training the captioner into {}", args.out.display()))?;
    print_value(&serde_json::to_value(&report)?, args.json);
    Ok(())
}

fn caption(args: &CaptionArgs) -> Result<()> {
    let device = args.model.device.inference()?;
    let run = CaptionerRun::load(&args.model.model, &device)
        .with_context(|| format!("loading the captioner {}", args.model.model.display()))?;
    let size = run.spec.image_size;
    let rasterizer = Rasterizer { dpi: args.dpi };
    let examples: Vec<CaptionExample> = if let Some(n) = args.input.charts {
        captioner::charts(args.seed, n, size)
            .into_iter()
            .map(CaptionExample::from)
            .collect()
    } else if let Some(path) = &args.input.cap {
        let rows = read_cap(path)?;
        let wanted: std::collections::HashSet<String> =
            arxiv_cap::instances(&rows, Task::SingleFigure, 1)
                .into_iter()
                .map(|i| i.id)
                .collect();
        let (examples, failed) = captioner::real_examples(&rows, size, &rasterizer);
        for (id, why) in failed.iter().filter(|(id, _)| wanted.contains(id)) {
            eprintln!("warning: {id}: not captioned: {why}");
        }
        examples
            .into_iter()
            .filter(|e| wanted.contains(&e.id))
            .collect()
    } else {
        args.input
            .images
            .iter()
            .map(|path| {
                let bytes =
                    std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
                let image = arxiv_cap::images::load_raster(&bytes, path, size, &rasterizer)?;
                Ok(CaptionExample {
                    id: path.display().to_string(),
                    image,
                    caption: String::new(),
                })
            })
            .collect::<Result<_>>()?
    };
    let images: Vec<_> = examples.iter().map(|e| &e.image).collect();
    let mut predictions = Vec::with_capacity(images.len());
    for (chunk, ids) in images.chunks(64).zip(examples.chunks(64)) {
        for (text, e) in run.caption(chunk, 64).into_iter().zip(ids) {
            predictions.push(serde_json::json!({"id": e.id, "prediction": text}));
        }
        tracing::info!(done = predictions.len(), total = images.len(), "captioning");
    }
    match &args.out {
        Some(path) => {
            burnlp_core::data::write_jsonl(path, &predictions)?;
            eprintln!("wrote {} captions to {}", predictions.len(), path.display());
        }
        None => {
            for p in &predictions {
                println!("{p}");
            }
        }
    }
    if args.input.charts.is_some() {
        let instances: Vec<_> = examples
            .iter()
            .map(|e| arxiv_cap::eval::CaptionInstance {
                id: e.id.clone(),
                reference: e.caption.clone(),
            })
            .collect();
        let preds: Vec<CaptionPrediction> =
            serde_json::from_value(serde_json::Value::Array(predictions))?;
        let report = score_captions(&instances, &preds, Path::new("<generated charts>"))?;
        eprintln!("{}", serde_json::to_string(&report)?);
    }
    Ok(())
}

fn bench(args: &BenchArgs) -> Result<()> {
    let client = args.endpoint.client();
    let config = args.endpoint.config();
    let rasterizer = Rasterizer {
        dpi: args.endpoint.dpi,
    };
    let run = match args.task {
        EvalTask::Mc => {
            let Some(images) = &args.images else {
                bail!("--task mc needs --images DIR (the folder of the items' images)");
            };
            let items = read_arxivqa(&args.gold, Some(images))
                .with_context(|| format!("reading ArxivQA {}", args.gold.display()))?;
            arxiv_cap::lvlm::bench_mc(&client, &items, images, &args.pred, &config, &rasterizer)?
        }
        task => {
            let rows = read_cap(&args.gold)?;
            arxiv_cap::lvlm::bench_captions(
                &client,
                &rows,
                caption_task(task),
                args.max_figures,
                &args.pred,
                &config,
                &rasterizer,
            )?
        }
    };
    for line in &run.unusable {
        eprintln!("left out: {line}");
    }
    let scores = eval(&EvalArgs {
        task: args.task,
        max_figures: args.max_figures,
        gold: args.gold.clone(),
        pred: args.pred.clone(),
        bertscore_model: None,
        device: burnlp_core::cli::DeviceArgs::default(),
        json: true,
    })?;
    let value = serde_json::json!({"run": run, "scores": scores});
    print_value(&value, args.json);
    Ok(())
}

/// The caption task of an `--task` value (not `mc`).
fn caption_task(task: EvalTask) -> Task {
    match task {
        EvalTask::SingleFigure => Task::SingleFigure,
        EvalTask::MultiFigure => Task::MultiFigure,
        EvalTask::Contrastive => Task::Contrastive,
        _ => Task::Title,
    }
}
