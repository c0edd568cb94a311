//! The parser's subcommands: `train`, `parse`, `experiment`, and the parser row of `demo`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use amr_aux::demo_data;
use amr_aux::parser::{
    self, Arch, Example, Parser, Schedule, Task, TrainOptions, examples_from_amrs, load_examples,
};
use amr_aux::penman::{Amr, parse_amrs, read_amr_file, write_amrs};
use anyhow::{Context, Result, bail};
use burnlp_core::cli::DeviceArgs;
use burnlp_core::device::{parse_device, training_device};
use clap::{Args, ValueEnum};

/// Training schedule.
#[derive(Clone, Copy, ValueEnum)]
pub enum ScheduleArg {
    /// AMR only.
    Single,
    /// AMR and the auxiliary PseudoAMR corpora jointly, with task tokens.
    Multitask,
    /// Auxiliary PseudoAMR first (`--aux-steps`), then AMR only (ATP).
    Intermediate,
}

impl From<ScheduleArg> for Schedule {
    fn from(value: ScheduleArg) -> Self {
        match value {
            ScheduleArg::Single => Schedule::Single,
            ScheduleArg::Multitask => Schedule::Multitask,
            ScheduleArg::Intermediate => Schedule::Intermediate,
        }
    }
}

/// Model size.
#[derive(Clone, Copy, ValueEnum)]
pub enum ArchArg {
    /// `d_model` 64, 2 + 2 layers (tests, demo, CPU experiments).
    Tiny,
    /// `d_model` 256, 3 + 3 layers.
    Small,
    /// fairseq's transformer_iwslt_de_en (`d_model` 512, 6 + 6 layers).
    Iwslt,
}

impl From<ArchArg> for Arch {
    fn from(value: ArchArg) -> Self {
        match value {
            ArchArg::Tiny => Arch::Tiny,
            ArchArg::Small => Arch::Small,
            ArchArg::Iwslt => Arch::Iwslt,
        }
    }
}

/// Settings shared by `train` and `experiment`.
#[derive(Args)]
pub struct ModelArgs {
    /// Model size.
    #[arg(long, value_enum, default_value_t = ArchArg::Tiny)]
    arch: ArchArg,
    /// Examples per batch.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Peak learning rate (linear warm-up over 5% of the steps, then linear decay).
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Dropout.
    #[arg(long, default_value_t = 0.1)]
    dropout: f64,
    /// Seed of initialisation, batch order and dropout.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Evaluate on the dev set every N steps (and at the end).
    #[arg(long, default_value_t = 250)]
    eval_every: usize,
    /// Select the model on dev loss instead of dev Smatch (faster evaluations).
    #[arg(long)]
    select_on_loss: bool,
    /// Source BPE vocabulary size.
    #[arg(long, default_value_t = 4000)]
    source_vocab: usize,
    /// Count from which a concept or constant is one target token (rarer ones are spelled in
    /// BPE pieces).
    #[arg(long, default_value_t = 2)]
    min_frequency: usize,
    /// A pretrained BERT-family model directory (config.json, model.safetensors,
    /// tokenizer.json) used as the encoder, e.g. ../shared/models/all-minilm-l6-v2; the
    /// decoder takes its hidden size.
    #[arg(long)]
    encoder: Option<PathBuf>,
    /// Learning rate of the pretrained encoder (0 freezes it).
    #[arg(long, default_value_t = 5e-5)]
    encoder_lr: f64,
    #[command(flatten)]
    device: DeviceArgs,
}

impl ModelArgs {
    fn options(&self, schedule: Schedule, steps: usize, aux_steps: usize) -> TrainOptions {
        TrainOptions {
            schedule,
            arch: self.arch.into(),
            steps,
            aux_steps,
            batch_size: self.batch_size,
            lr: self.lr,
            dropout: self.dropout,
            seed: self.seed,
            eval_every: self.eval_every,
            select_on_smatch: !self.select_on_loss,
            source_vocab_size: self.source_vocab,
            min_frequency: self.min_frequency,
            encoder: self.encoder.clone(),
            encoder_lr: self.encoder_lr,
            ..TrainOptions::default()
        }
    }
}

/// `amr-aux train`.
#[derive(Args)]
pub struct TrainArgs {
    /// Training AMR file (graphs with `# ::snt`).
    #[arg(long)]
    train: PathBuf,
    /// Dev AMR file for model selection.
    #[arg(long)]
    dev: PathBuf,
    /// Auxiliary PseudoAMR files (Penman with `# ::snt`), for multitask and intermediate.
    #[arg(long)]
    aux: Vec<PathBuf>,
    /// Training schedule.
    #[arg(long, value_enum, default_value_t = ScheduleArg::Single)]
    schedule: ScheduleArg,
    /// Optimizer steps on AMR (multitask: on the mixture).
    #[arg(long, default_value_t = 2000)]
    steps: usize,
    /// Optimizer steps on the auxiliary data before AMR (intermediate schedule).
    #[arg(long, default_value_t = 1000)]
    aux_steps: usize,
    #[command(flatten)]
    model: ModelArgs,
    /// Run directory (model.json, vocabularies, best/ weights, metrics.jsonl).
    #[arg(long)]
    out: PathBuf,
    /// Continue the run in `--out` from its newest checkpoints (same data and settings).
    #[arg(long)]
    resume: bool,
}

/// `amr-aux parse`.
#[derive(Args)]
pub struct ParseArgs {
    /// Run directory written by `amr-aux train`.
    #[arg(long)]
    model: PathBuf,
    /// Sentences, one per line, or an AMR file whose graphs' `# ::snt` are parsed.
    #[arg(long)]
    input: PathBuf,
    /// Output AMR file.
    #[arg(long)]
    out: PathBuf,
    /// Beam size (1: greedy).
    #[arg(long, default_value_t = 5)]
    beam: usize,
    /// Sentences decoded together.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Gold AMR file (one graph per input sentence): report Smatch (`:wiki` roles ignored).
    #[arg(long)]
    gold: Option<PathBuf>,
    /// Print the Smatch report as one JSON object.
    #[arg(long, requires = "gold")]
    json: bool,
    #[command(flatten)]
    device: DeviceArgs,
}

/// `amr-aux experiment`.
#[derive(Args)]
pub struct ExperimentArgs {
    /// AMR corpus to split into train / dev / test (e.g. the Little Prince file).
    #[arg(long)]
    amr: PathBuf,
    /// Auxiliary PseudoAMR files for the intermediate (and multitask) runs.
    #[arg(long, required = true)]
    aux: Vec<PathBuf>,
    /// Graphs for training, from the start of the corpus.
    #[arg(long, default_value_t = 1200)]
    train_size: usize,
    /// Graphs for dev (model selection), after the training graphs.
    #[arg(long, default_value_t = 100)]
    dev_size: usize,
    /// Graphs for the test, from the end of the corpus.
    #[arg(long, default_value_t = 200)]
    test_size: usize,
    /// Use at most this many auxiliary graphs (0: all).
    #[arg(long, default_value_t = 0)]
    aux_limit: usize,
    /// AMR optimizer steps of every run.
    #[arg(long, default_value_t = 800)]
    steps: usize,
    /// Auxiliary steps of the intermediate run.
    #[arg(long, default_value_t = 400)]
    aux_steps: usize,
    /// Also run the multitask schedule (steps + aux steps on the mixture).
    #[arg(long)]
    multitask: bool,
    /// Beam size for the test.
    #[arg(long, default_value_t = 5)]
    beam: usize,
    #[command(flatten)]
    model: ModelArgs,
    /// Directory for the runs.
    #[arg(long, default_value = "target/burnlp/amr-aux-experiment")]
    runs: PathBuf,
    /// The Markdown report to write.
    #[arg(long, default_value = "docs/results/amr-aux.md")]
    out: PathBuf,
}

fn load_aux(paths: &[PathBuf], limit: usize) -> Result<Vec<Vec<Example>>> {
    paths
        .iter()
        .enumerate()
        .map(|(i, path)| {
            let mut corpus = load_examples(path, Task::Aux(i + 1))
                .with_context(|| format!("loading auxiliary data {}", path.display()))?;
            if limit > 0 {
                corpus.truncate(limit);
            }
            Ok(corpus)
        })
        .collect()
}

/// Trains a parser.
pub fn train(args: &TrainArgs) -> Result<()> {
    let started = Instant::now();
    let train = load_examples(&args.train, Task::Amr)
        .with_context(|| format!("loading training data {}", args.train.display()))?;
    let dev = load_examples(&args.dev, Task::Amr)
        .with_context(|| format!("loading dev data {}", args.dev.display()))?;
    let aux = load_aux(&args.aux, 0)?;
    let options = TrainOptions {
        resume: args.resume,
        ..args
            .model
            .options(args.schedule.into(), args.steps, args.aux_steps)
    };
    let device = training_device(&args.model.device)?;
    let summary = parser::train(&train, &dev, &aux, &options, &args.out, &device)
        .with_context(|| format!("training into {}", args.out.display()))?;
    for stage in &summary.stages {
        let tasks: Vec<String> = stage.tasks.iter().map(Task::token).collect();
        println!(
            "stage {}: {} examples ({}), {} steps",
            stage.name,
            stage.examples,
            tasks.join(" "),
            stage.steps
        );
    }
    let best = summary.best.unwrap_or_default();
    println!(
        "best dev: {} ({:.1} s); model in {}",
        best.iter()
            .map(|(k, v)| format!("{k} {v:.4}"))
            .collect::<Vec<_>>()
            .join(", "),
        started.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(())
}

/// The sentences of an input file: an AMR file's `# ::snt` lines (a file with a line starting
/// with `(` or `# ::` is read as AMR), or one sentence per line. AMR inputs also return their
/// graphs' ids.
fn read_inputs(path: &Path) -> Result<(Vec<String>, Vec<Option<String>>)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    // A file with graph or metadata lines is an AMR file and must parse as one.
    let looks_like_amr = text.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with('(') || l.starts_with("# ::")
    });
    if looks_like_amr {
        let amrs = parse_amrs(&text).with_context(|| format!("{} is malformed", path.display()))?;
        let examples = examples_from_amrs(&amrs, Task::Amr, path)?;
        let ids = amrs.iter().map(|a| a.id().map(str::to_string)).collect();
        return Ok((examples.into_iter().map(|e| e.sentence).collect(), ids));
    }
    let sentences: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if sentences.is_empty() {
        bail!("{} holds no sentence", path.display());
    }
    let ids = vec![None; sentences.len()];
    Ok((sentences, ids))
}

/// Parses sentences with a trained parser.
pub fn parse(args: &ParseArgs) -> Result<()> {
    let started = Instant::now();
    let device = parse_device(&args.device)?;
    let model = Parser::load(&args.model, &device)
        .with_context(|| format!("loading the parser in {}", args.model.display()))?;
    let (sentences, ids) = read_inputs(&args.input)?;
    let gold = match &args.gold {
        Some(path) => {
            let gold =
                read_amr_file(path).with_context(|| format!("reading {}", path.display()))?;
            if gold.len() != sentences.len() {
                bail!(
                    "{} has {} graphs but {} has {} sentences",
                    path.display(),
                    gold.len(),
                    args.input.display(),
                    sentences.len()
                );
            }
            Some(gold)
        }
        None => None,
    };
    let mut graphs = Vec::with_capacity(sentences.len());
    let progress = indicatif::ProgressBar::new(sentences.len() as u64);
    for chunk in sentences.chunks(args.batch_size.max(1)) {
        graphs.extend(model.parse(chunk, args.beam, args.batch_size)?);
        progress.inc(chunk.len() as u64);
    }
    progress.finish_and_clear();
    for ((graph, sentence), id) in graphs.iter_mut().zip(&sentences).zip(&ids) {
        if let Some(id) = id {
            graph.metadata.push(("id".into(), id.clone()));
        }
        graph.metadata.push(("snt".into(), sentence.clone()));
    }
    burnlp_core::data::write_atomic(&args.out, write_amrs(&graphs).as_bytes())
        .with_context(|| format!("writing {}", args.out.display()))?;
    let wall_s = started.elapsed().as_secs_f64();
    let Some(gold) = gold else {
        println!(
            "parsed {} sentences into {} ({wall_s:.1} s)",
            graphs.len(),
            args.out.display()
        );
        return Ok(());
    };
    let score = parser::score(&graphs, &gold)?;
    if args.json {
        let row = serde_json::json!({
            "precision": score.precision(), "recall": score.recall(), "f1": score.f1(),
            "matched": score.matched, "test_triples": score.test, "gold_triples": score.gold,
            "graphs": graphs.len(), "beam": args.beam, "wiki_removed": true, "wall_s": wall_s,
        });
        println!("{row}");
    } else {
        println!("Precision: {:.4}", score.precision());
        println!("Recall: {:.4}", score.recall());
        println!("F-score: {:.4}", score.f1());
    }
    Ok(())
}

/// One experiment run's result.
struct RunResult {
    schedule: Schedule,
    steps: String,
    dev: f64,
    test: (f64, f64, f64),
    wall_s: f64,
}

/// Trains on a split of an AMR corpus with and without intermediate training on PseudoAMR, and
/// writes the test Smatch of each to a Markdown report.
pub fn experiment(args: &ExperimentArgs) -> Result<()> {
    let amrs =
        read_amr_file(&args.amr).with_context(|| format!("reading {}", args.amr.display()))?;
    let all = examples_from_amrs(&amrs, Task::Amr, &args.amr)?;
    let needed = args.train_size + args.dev_size + args.test_size;
    if all.len() < needed {
        bail!(
            "{} has {} graphs, fewer than train + dev + test = {needed}",
            args.amr.display(),
            all.len()
        );
    }
    let train = &all[..args.train_size];
    let dev = &all[args.train_size..args.train_size + args.dev_size];
    let test = &all[all.len() - args.test_size..];
    let test_gold: Vec<Amr> = amrs[amrs.len() - args.test_size..].to_vec();
    let test_sentences: Vec<String> = test.iter().map(|e| e.sentence.clone()).collect();
    let aux = load_aux(&args.aux, args.aux_limit)?;
    let aux_graphs: usize = aux.iter().map(Vec::len).sum();
    let device = training_device(&args.model.device)?;
    let mut schedules = vec![Schedule::Single, Schedule::Intermediate];
    if args.multitask {
        schedules.push(Schedule::Multitask);
    }
    let mut results = Vec::new();
    for schedule in schedules {
        let started = Instant::now();
        let (steps, aux_steps, label) = match schedule {
            Schedule::Single => (args.steps, 0, format!("{} AMR", args.steps)),
            Schedule::Intermediate => (
                args.steps,
                args.aux_steps,
                format!("{} aux, then {} AMR", args.aux_steps, args.steps),
            ),
            Schedule::Multitask => (
                args.steps + args.aux_steps,
                0,
                format!("{} mixed", args.steps + args.aux_steps),
            ),
        };
        let options = args.model.options(schedule, steps, aux_steps);
        let dir = args.runs.join(schedule.name());
        let summary =
            parser::train(train, dev, &aux, &options, &dir, &device).with_context(|| {
                format!("training the {} run in {}", schedule.name(), dir.display())
            })?;
        let model = Parser::load(&dir, &device.clone().inner())?;
        let pred = model.parse(&test_sentences, args.beam, 32)?;
        let score = parser::score(&pred, &test_gold)?;
        let metric = if options.select_on_smatch {
            "smatch"
        } else {
            "loss"
        };
        let result = RunResult {
            schedule,
            steps: label,
            dev: summary
                .best
                .and_then(|m| m.get(metric).copied())
                .unwrap_or(f64::NAN),
            test: (score.precision(), score.recall(), score.f1()),
            wall_s: started.elapsed().as_secs_f64(),
        };
        println!(
            "{}: test Smatch {:.4} ({:.0} s)",
            schedule.name(),
            result.test.2,
            result.wall_s
        );
        results.push(result);
    }
    let report = experiment_report(args, aux_graphs, &results);
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    burnlp_core::data::write_atomic(&args.out, report.as_bytes())
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!("report written to {}", args.out.display());
    Ok(())
}

fn experiment_report(args: &ExperimentArgs, aux_graphs: usize, results: &[RunResult]) -> String {
    let metric = if args.model.select_on_loss {
        "loss"
    } else {
        "Smatch"
    };
    let mut out =
        String::from("# amr-aux: AMR parsing with and without intermediate PseudoAMR training\n\n");
    out.push_str(&format!(
        "Produced by `amr-aux experiment` on `{}` (first {} graphs train, next {} dev, last {} \
         test) with {} auxiliary PseudoAMR graphs from {}.\n\
         Model: `{}` Transformer{}, batch {}, lr {}, dropout {}, seed {}; \
         test decoding with beam {}; Smatch against gold graphs without `:wiki` roles. One seed \
         per schedule, so small differences may be seed noise.\n\n\
         Command: `amr-aux {}`\n\n",
        args.amr.display(),
        args.train_size,
        args.dev_size,
        args.test_size,
        aux_graphs,
        args.aux
            .iter()
            .map(|p| format!("`{}`", p.display()))
            .collect::<Vec<_>>()
            .join(", "),
        Arch::from(args.model.arch).name(),
        match &args.model.encoder {
            Some(dir) => format!(
                " decoder on the pretrained encoder `{}` (encoder lr {})",
                dir.display(),
                args.model.encoder_lr
            ),
            None => " trained from scratch".to_string(),
        },
        args.model.batch_size,
        args.model.lr,
        args.model.dropout,
        args.model.seed,
        args.beam,
        std::env::args().skip(1).collect::<Vec<_>>().join(" "),
    ));
    out.push_str(&format!(
        "| schedule | steps | best dev {metric} | test P | test R | test Smatch F1 | wall (s) |\n\
         |---|---|---|---|---|---|---|\n"
    ));
    for r in results {
        out.push_str(&format!(
            "| {} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.0} |\n",
            r.schedule.name(),
            r.steps,
            r.dev,
            r.test.0,
            r.test.1,
            r.test.2,
            r.wall_s
        ));
    }
    out
}

/// Sizes of the parser demo: generated graphs for training, dev and test.
const DEMO_SIZES: (usize, usize, usize) = (1500, 60, 200);
/// Optimizer steps of the parser demo.
const DEMO_STEPS: usize = 400;
/// Test Smatch the parser demo reliably reaches.
pub const DEMO_PARSER_TARGET: f64 = 0.9;

/// Trains a tiny parser on generated sentences and returns the demo's JSON row (test Smatch).
pub fn demo_row(out: &Path) -> Result<serde_json::Value> {
    let started = Instant::now();
    let (n_train, n_dev, n_test) = DEMO_SIZES;
    let graphs = demo_data::generate(n_train + n_dev + n_test, 2022);
    let examples = examples_from_amrs(&graphs, Task::Amr, Path::new("generated"))?;
    let (train, rest) = examples.split_at(n_train);
    let (dev, test) = rest.split_at(n_dev);
    let options = TrainOptions {
        steps: DEMO_STEPS,
        eval_every: 200,
        lr: 3e-3,
        dropout: 0.0,
        progress: false,
        ..TrainOptions::default()
    };
    let device = burnlp_core::device::cpu();
    let dir = out.join("parser");
    parser::train(train, dev, &[], &options, &dir, &device.clone().autodiff())?;
    let model = Parser::load(&dir, &device)?;
    let sentences: Vec<String> = test.iter().map(|e| e.sentence.clone()).collect();
    let gold: Vec<Amr> = test.iter().map(|e| e.graph.clone()).collect();
    let score = parser::score(&model.parse(&sentences, 1, 100)?, &gold)?;
    Ok(serde_json::json!({
        "task": "amr-aux-parser",
        "dataset": format!("generated sentences ({n_train} train, {n_test} test graphs), greedy"),
        "metric": "smatch_f1", "score": score.f1(), "target": DEMO_PARSER_TARGET,
        "wall_s": started.elapsed().as_secs_f64(),
    }))
}
