//! `doc-ee`: document-level event argument extraction (TSAR) on RAMS and WikiEvents: the
//! official scorer, the WikiEvents window conversion, training, prediction and evaluation;
//! and the GIT / IPGPF data half: Doc2EDAG-format validation, the record-level metric
//! (`score --dataset chfinann|duee-fin`), DuEE-fin conversion and generated announcements.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burnlp_core::cli::{DemoArgs, DeviceArgs, RunArgs};
use burnlp_core::report::print_rows;
use clap::{Args, Parser, Subcommand};
use doc_ee::data::wikievents::{DEFAULT_WINDOW, read_wikievents_examples};
use doc_ee::data::{Example, Ontology, read_rams, write_examples};
use doc_ee::dee::json::JsonLayout;
use doc_ee::dee::synth::{SynthConfig, duee_to_jsonl, synth_chfinann, synth_duee};
use doc_ee::dee::train::{DeeRun, DeeTrainConfig};
use doc_ee::dee::vocab::CharVocab;
use doc_ee::dee::{CHFINANN, Check, DUEE_FIN, DatasetSchema, read_documents, validate};
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
    /// Read and validate a Doc2EDAG-format file (ChFinAnn, converted DuEE-fin) and print its
    /// statistics.
    Validate(ValidateArgs),
    /// Convert DuEE-fin JSON Lines into the Doc2EDAG format without triggers (DocEE's build).
    ConvertDuee(ConvertDueeArgs),
    /// Generate announcements: ChFinAnn in the Doc2EDAG format, DuEE-fin as JSON Lines.
    Synth(SynthArgs),
    /// Train GIT or the per-type record-filling baseline on Doc2EDAG-format files, selecting
    /// on the dev record-level micro F1.
    TrainDee(TrainDeeArgs),
    /// Predict event records with a `train-dee` run; writes the Doc2EDAG format that
    /// `score --dataset chfinann` reads.
    PredictDee(PredictDeeArgs),
    /// Predict and score a Doc2EDAG gold file with a `train-dee` run (record-level metric).
    EvalDee(EvalDeeArgs),
}

#[derive(Args)]
struct TrainDeeArgs {
    /// The data set (its event schema).
    #[arg(long, value_enum, default_value = "chfinann")]
    dataset: DeeDataset,
    /// Training file (Doc2EDAG JSON).
    #[arg(long)]
    train: PathBuf,
    /// Dev file (checkpoint selection).
    #[arg(long)]
    dev: PathBuf,
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    config: DeeTrainConfig,
}

#[derive(Args)]
struct PredictDeeArgs {
    /// Run directory written by `train-dee`.
    #[arg(long)]
    run: PathBuf,
    /// Input documents (Doc2EDAG JSON; their records, if any, are replaced).
    #[arg(long)]
    input: PathBuf,
    /// Output: the input documents with the predicted records.
    #[arg(long)]
    out: PathBuf,
    /// JSON layout of the output.
    #[arg(long, value_enum, default_value = "line")]
    layout: LayoutArg,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct EvalDeeArgs {
    /// Run directory written by `train-dee`.
    #[arg(long)]
    run: PathBuf,
    /// Gold documents (Doc2EDAG JSON).
    #[arg(long)]
    gold: PathBuf,
    /// Also write the predictions here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    device: DeviceArgs,
}

/// Data sets `score` understands.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ScoreDataset {
    /// RAMS 1.0 (TSAR).
    Rams,
    /// WikiEvents (TSAR windows).
    Wikievents,
    /// ChFinAnn in the Doc2EDAG format (record-level metric).
    Chfinann,
    /// DuEE-fin converted to the Doc2EDAG format (record-level metric).
    DueeFin,
}

/// The Doc2EDAG-format data sets.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DeeDataset {
    /// ChFinAnn (5 event types).
    Chfinann,
    /// DuEE-fin (13 event types).
    DueeFin,
}

impl DeeDataset {
    fn schema(self) -> &'static DatasetSchema {
        match self {
            DeeDataset::Chfinann => &CHFINANN,
            DeeDataset::DueeFin => &DUEE_FIN,
        }
    }
}

/// JSON layouts of written Doc2EDAG files.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LayoutArg {
    /// One line, Python's `json.dump(obj, f, ensure_ascii=False)`.
    Line,
    /// Python's `json.dump(obj, f, ensure_ascii=False, indent=2)`.
    Indent2,
}

impl From<LayoutArg> for JsonLayout {
    fn from(l: LayoutArg) -> Self {
        match l {
            LayoutArg::Line => JsonLayout::PythonLine,
            LayoutArg::Indent2 => JsonLayout::PythonIndent2,
        }
    }
}

#[derive(Args)]
struct ValidateArgs {
    /// The data set (its event schema).
    #[arg(long, value_enum)]
    dataset: DeeDataset,
    /// A Doc2EDAG-format file (`train.json`, `dev.json`, `test.json`, `dueefin_*_wo_tgg.json`).
    #[arg(long)]
    input: PathBuf,
    /// Check records only (prediction files without span annotations).
    #[arg(long)]
    records_only: bool,
    /// Also tokenize every sentence with this BERT vocabulary character by character (a
    /// directory with `tokenizer.json`, e.g. shared/models/bert-base-chinese-tokenizer) and
    /// report the share of `[UNK]` characters.
    #[arg(long)]
    vocab: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ConvertDueeArgs {
    /// DuEE-fin JSON Lines (`duee_fin_train.json`, `duee_fin_dev.json`, …).
    #[arg(long)]
    input: PathBuf,
    /// Output in the Doc2EDAG format.
    #[arg(long)]
    out: PathBuf,
    /// Keep every document with empty annotations (test files without `event_list`).
    #[arg(long)]
    inference: bool,
    /// Sentence length the build script merges and cuts to.
    #[arg(long, default_value_t = 128, value_parser = burnlp_core::cli::positive)]
    max_len: usize,
    /// Output layout.
    #[arg(long, value_enum, default_value = "line")]
    layout: LayoutArg,
}

#[derive(Args)]
struct SynthArgs {
    /// Which format and schema to generate.
    #[arg(long, value_enum)]
    dataset: DeeDataset,
    /// Documents.
    #[arg(long, default_value_t = 100, value_parser = burnlp_core::cli::positive)]
    docs: usize,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Share of multi-event documents (Doc2EDAG reports about 29% for ChFinAnn).
    #[arg(long, default_value_t = 0.29, value_parser = burnlp_core::cli::fraction)]
    multi_share: f64,
    /// Share of multi-event documents mixing event types.
    #[arg(long, default_value_t = 0.3, value_parser = burnlp_core::cli::fraction)]
    mixed_share: f64,
    /// Most records in one document.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=50))]
    max_records: u16,
    /// Probability that a non-key role is filled.
    #[arg(long, default_value_t = 0.7, value_parser = burnlp_core::cli::fraction)]
    fill: f64,
    /// Probability of each distractor sentence.
    #[arg(long, default_value_t = 0.6, value_parser = burnlp_core::cli::fraction)]
    distractors: f64,
    /// Output: a Doc2EDAG JSON file (chfinann) or JSON Lines (duee-fin).
    #[arg(long)]
    out: PathBuf,
    /// Layout of a Doc2EDAG output.
    #[arg(long, value_enum, default_value = "line")]
    layout: LayoutArg,
    /// Print the statistics as one JSON object.
    #[arg(long)]
    json: bool,
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
    /// The data set: rams / wikievents (TSAR's scorer) or chfinann / duee-fin (the Doc2EDAG
    /// record-level metric on Doc2EDAG-format files).
    #[arg(long, value_enum)]
    dataset: ScoreDataset,
    /// WikiEvents coreference file (`coref/{split}.jsonlines`).
    #[arg(long)]
    coref: Option<PathBuf>,
    /// WikiEvents window length in tokens (600 reproduces the published converted files).
    #[arg(long, default_value_t = DEFAULT_WINDOW, value_parser = burnlp_core::cli::positive)]
    window: usize,
    /// Gold file (RAMS jsonlines, WikiEvents jsonl, or a Doc2EDAG JSON file).
    #[arg(long)]
    gold: PathBuf,
    /// Predictions (TSAR format, the gold layout, or WikiEvents documents, detected per line;
    /// for chfinann / duee-fin a Doc2EDAG JSON file whose records are the predictions).
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
            let mut rows = doc_ee::demo::demo(&dir, 12)
                .with_context(|| format!("running the demo in {}", dir.display()))?;
            let git_dir = dir.join("git");
            rows.extend(
                doc_ee::demo::git_demo(&git_dir, 12)
                    .with_context(|| format!("running the GIT demo in {}", git_dir.display()))?,
            );
            Ok(print_rows(&rows, args.json)?)
        }
        Command::Validate(args) => validate_cmd(&args),
        Command::ConvertDuee(args) => {
            let docs = doc_ee::dee::duee::read_duee(&args.input)?;
            let (out, stats) = doc_ee::dee::duee::convert_duee(&docs, args.max_len, args.inference);
            let check = if args.inference {
                Check::Records
            } else {
                Check::Gold
            };
            validate(&args.out, &out, &DUEE_FIN, check)?;
            doc_ee::dee::write_documents(&args.out, &out, args.layout.into())?;
            eprintln!(
                "{} documents read, {} written to {}; skipped {} without events, dropped {} events whose trigger is not found, {} arguments not found, {} overwritten by a later argument of the same role",
                stats.documents,
                out.len(),
                args.out.display(),
                stats.skipped_documents,
                stats.dropped_events,
                stats.dropped_arguments,
                stats.overwritten_arguments
            );
            Ok(())
        }
        Command::Synth(args) => synth_cmd(&args),
        Command::TrainDee(args) => train_dee_cmd(&args),
        Command::PredictDee(args) => {
            let (run, schema) = load_dee_run(&args.run, &args.device)?;
            let docs = read_documents(&args.input)?;
            let pred = run.predict(&args.input, &docs, schema)?;
            doc_ee::dee::write_documents(&args.out, &pred, args.layout.into())?;
            let records: usize = pred.iter().map(|d| d.records.len()).sum();
            eprintln!(
                "wrote {} documents with {records} predicted records to {}",
                pred.len(),
                args.out.display()
            );
            Ok(())
        }
        Command::EvalDee(args) => eval_dee_cmd(&args),
    }
}

fn load_dee_run(dir: &Path, device: &DeviceArgs) -> Result<(DeeRun, &'static DatasetSchema)> {
    let run = DeeRun::load(dir, &device.inference()?)
        .with_context(|| format!("loading the run {}", dir.display()))?;
    let name = run.info().dataset.clone();
    let schema = [&CHFINANN, &DUEE_FIN]
        .into_iter()
        .find(|s| s.name == name)
        .with_context(|| {
            format!(
                "the run {} names an unknown data set `{name}`",
                dir.display()
            )
        })?;
    Ok((run, schema))
}

fn train_dee_cmd(args: &TrainDeeArgs) -> Result<()> {
    let schema = args.dataset.schema();
    let train_docs = read_documents(&args.train)?;
    let dev_docs = read_documents(&args.dev)?;
    let text =
        |d: &[doc_ee::dee::Document]| d.iter().map(|d| d.sentences.concat()).collect::<Vec<_>>();
    let sizes =
        burnlp_core::data::check_disjoint("train/dev", &text(&train_docs), &text(&dev_docs))?;
    eprintln!(
        "training {:?} on {} documents, selecting on {}",
        args.config.model, sizes.train, sizes.eval
    );
    let origin = serde_json::json!({
        "train": args.train, "dev": args.dev, "dataset": schema.name,
        "train_documents": sizes.train, "dev_documents": sizes.eval,
    });
    let best = doc_ee::dee::train::train(
        &args.config,
        schema,
        &args.train,
        &train_docs,
        &args.dev,
        &dev_docs,
        &args.run.out,
        &origin,
        args.run.resume,
    )?;
    eprintln!(
        "best dev record-level micro F1 {:.4} at step {}",
        best.value, best.step
    );
    println!("{}", serde_json::to_string(&best.metrics)?);
    Ok(())
}

fn eval_dee_cmd(args: &EvalDeeArgs) -> Result<()> {
    let (run, schema) = load_dee_run(&args.run, &args.device)?;
    let gold = read_documents(&args.gold)?;
    validate(&args.gold, &gold, schema, Check::Gold)?;
    let pred = run.predict(&args.gold, &gold, schema)?;
    if let Some(out) = &args.out {
        doc_ee::dee::write_documents(out, &pred, JsonLayout::PythonLine)?;
    }
    let (scores, _) = doc_ee::dee::metric::score(schema, &gold, &pred);
    if args.json {
        println!("{}", serde_json::to_string(&scores)?);
    } else {
        print!("{}", doc_ee::dee::metric::format_scores(&scores));
    }
    Ok(())
}

fn validate_cmd(args: &ValidateArgs) -> Result<()> {
    let docs = read_documents(&args.input)?;
    let check = if args.records_only {
        Check::Records
    } else {
        Check::Gold
    };
    let schema = args.dataset.schema();
    let report = validate(&args.input, &docs, schema, check)?;
    let sentences: usize = docs.iter().map(|d| d.sentences.len()).sum();
    let chars: usize = docs
        .iter()
        .flat_map(|d| d.sentences.iter())
        .map(|s| s.chars().count())
        .sum();
    let unk = match &args.vocab {
        Some(dir) => {
            let vocab = CharVocab::load(dir)?;
            let unk: usize = docs
                .iter()
                .flat_map(|d| d.sentences.iter())
                .map(|s| {
                    vocab
                        .encode(s)
                        .iter()
                        .filter(|&&id| id == vocab.unk())
                        .count()
                })
                .sum();
            Some(unk as f64 / chars.max(1) as f64)
        }
        None => None,
    };
    let summary = serde_json::json!({
        "documents": report.documents,
        "records": report.records,
        "multi_event_documents": report.multi_event_documents,
        "multi_event_share": report.multi_event_documents as f64 / report.documents.max(1) as f64,
        "sentences": sentences,
        "characters": chars,
        "unlabelled_spans": report.unlabelled_spans,
        "ner_labels": schema.ner_labels().len(),
        "unk_share": unk,
    });
    if args.json {
        println!("{summary}");
    } else {
        println!(
            "{}: {} documents, {} records, {} multi-event documents ({:.1}%), {} sentences, {} characters",
            args.input.display(),
            report.documents,
            report.records,
            report.multi_event_documents,
            100.0 * report.multi_event_documents as f64 / report.documents.max(1) as f64,
            sentences,
            chars
        );
        println!(
            "{} NER labels; {} annotated spans with a field outside them (tagged O)",
            schema.ner_labels().len(),
            report.unlabelled_spans
        );
        if let Some(u) = unk {
            println!("[UNK] characters: {:.3}%", 100.0 * u);
        }
    }
    Ok(())
}

fn synth_cmd(args: &SynthArgs) -> Result<()> {
    let cfg = SynthConfig {
        docs: args.docs,
        seed: args.seed,
        multi_share: args.multi_share,
        mixed_share: args.mixed_share,
        max_records: usize::from(args.max_records),
        fill: args.fill,
        distractors: args.distractors,
    };
    let stats = match args.dataset {
        DeeDataset::Chfinann => {
            let (docs, stats) = synth_chfinann(&cfg);
            validate(&args.out, &docs, &CHFINANN, Check::Gold)?;
            doc_ee::dee::write_documents(&args.out, &docs, args.layout.into())?;
            stats
        }
        DeeDataset::DueeFin => {
            let (docs, stats) = synth_duee(&cfg);
            burnlp_core::data::write_atomic(&args.out, duee_to_jsonl(&docs).as_bytes())?;
            stats
        }
    };
    eprintln!(
        "wrote {} documents to {}",
        stats.documents,
        args.out.display()
    );
    if args.json {
        println!("{}", serde_json::to_string(&stats)?);
    } else {
        print!("{}", stats.summary());
    }
    Ok(())
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
    let dataset = match args.dataset {
        ScoreDataset::Rams => Dataset::Rams,
        ScoreDataset::Wikievents => Dataset::Wikievents,
        ScoreDataset::Chfinann => return score_dee(args, &CHFINANN),
        ScoreDataset::DueeFin => return score_dee(args, &DUEE_FIN),
    };
    let data = DataArgs {
        dataset,
        coref: args.coref.clone(),
        window: args.window,
    };
    let gold = data.load(&args.gold)?;
    let predictions = read_predictions(&args.pred, &gold)?;
    let heads = heads_of(&args.heads, &gold, &args.device)?;
    let scores = score(dataset, &gold, &predictions, &heads)?;
    if args.json {
        println!("{}", serde_json::to_string(&scores)?);
    } else {
        print!("{}", format_scores(&scores));
    }
    Ok(())
}

fn score_dee(args: &ScoreArgs, schema: &DatasetSchema) -> Result<()> {
    let gold = read_documents(&args.gold)?;
    validate(&args.gold, &gold, schema, Check::Gold)?;
    let pred = read_documents(&args.pred)?;
    validate(&args.pred, &pred, schema, Check::Records)?;
    let (scores, align) = doc_ee::dee::metric::score(schema, &gold, &pred);
    if align.ignored_predictions > 0 {
        eprintln!(
            "warning: {} predicted documents are not in the gold file and were ignored",
            align.ignored_predictions
        );
    }
    if align.missing_predictions > 0 {
        eprintln!(
            "note: {} gold documents have no prediction (scored as predicting no records)",
            align.missing_predictions
        );
    }
    if args.json {
        println!("{}", serde_json::to_string(&scores)?);
    } else {
        print!("{}", doc_ee::dee::metric::format_scores(&scores));
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
