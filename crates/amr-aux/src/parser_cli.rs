//! The parser's subcommands: `train`, `parse` and `experiment` (clap arguments, their
//! conversion to the library's settings, and printing).

use std::path::PathBuf;
use std::time::Instant;

use amr_aux::parser::experiment::{self, ExperimentConfig};
use amr_aux::parser::lm::{self, LmParser, LmTrainOptions};
use amr_aux::parser::lm_experiment::{self, LmExperimentConfig};
use amr_aux::parser::{
    self, Arch, ParseInput, Parser, Schedule, Task, TrainOptions, load_aux, load_examples,
};
use amr_aux::penman::write_amrs;
use anyhow::{Context, Result};
use burnlp_core::cli::{DeviceArgs, positive, positive_f64};
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

/// Parser variant.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ParserArg {
    /// The encoder-decoder Transformer (trained from scratch, or on `--encoder`).
    Seq2seq,
    /// A pretrained decoder LM (`--lm`) fine-tuned to continue the sentence with its graph.
    Lm,
}

/// Settings of the LM parser (`--parser lm`).
#[derive(Args)]
pub struct LmArgs {
    /// Parser variant.
    #[arg(long, value_enum, default_value_t = ParserArg::Seq2seq)]
    parser: ParserArg,
    /// `--parser lm`: the pretrained decoder LM (a GGUF file, a Hugging Face directory or id).
    #[arg(long, default_value = lm::DEFAULT_LM)]
    lm: PathBuf,
    /// `--parser lm`: train only the top N decoder layers and the final norm (0: the whole LM).
    #[arg(long, default_value_t = 0)]
    train_layers: usize,
    /// `--parser lm`: training graphs whose target is longer (LM tokens, EOS included) are
    /// skipped.
    #[arg(long, default_value_t = 192, value_parser = positive)]
    max_target_tokens: usize,
    /// `--parser lm`: most generated tokens per graph (dev and test decoding).
    #[arg(long, default_value_t = 256, value_parser = positive)]
    max_new_tokens: usize,
}

/// Settings shared by `train` and `experiment`.
#[derive(Args)]
pub struct ModelArgs {
    #[command(flatten)]
    lm: LmArgs,
    /// Model size.
    #[arg(long, value_enum, default_value_t = ArchArg::Tiny)]
    arch: ArchArg,
    /// Examples per batch [default: 32; 8 with --parser lm].
    #[arg(long, value_parser = positive)]
    batch_size: Option<usize>,
    /// Peak learning rate (linear warm-up over 5% of the steps, then linear decay)
    /// [default: 1e-3; 1e-4 with --parser lm].
    #[arg(long, value_parser = positive_f64)]
    lr: Option<f64>,
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
    fn is_lm(&self) -> bool {
        self.lm.parser == ParserArg::Lm
    }

    fn lm_options(&self, schedule: Schedule, steps: usize, aux_steps: usize) -> LmTrainOptions {
        LmTrainOptions {
            schedule,
            steps,
            aux_steps,
            batch_size: self.batch_size.unwrap_or(8),
            lr: self.lr.unwrap_or(1e-4),
            seed: self.seed,
            train_layers: self.lm.train_layers,
            max_target_tokens: self.lm.max_target_tokens,
            eval_every: self.eval_every,
            progress: true,
        }
    }

    fn options(&self, schedule: Schedule, steps: usize, aux_steps: usize) -> TrainOptions {
        TrainOptions {
            schedule,
            arch: self.arch.into(),
            steps,
            aux_steps,
            batch_size: self.batch_size.unwrap_or(32),
            lr: self.lr.unwrap_or(1e-3),
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
    #[command(flatten)]
    run: burnlp_core::cli::RunArgs,
}

/// `amr-aux parse`.
#[derive(Args)]
pub struct ParseArgs {
    #[command(flatten)]
    trained: burnlp_core::cli::ModelArgs,
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
    /// Most generated tokens per graph (LM parser).
    #[arg(long, default_value_t = 256, value_parser = positive)]
    max_new_tokens: usize,
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
    /// `--parser lm`: run both schedules once per seed (default: `--seed`).
    #[arg(long, value_delimiter = ',')]
    seeds: Vec<u64>,
    #[command(flatten)]
    model: ModelArgs,
    /// Directory for the runs.
    #[arg(long, default_value = "target/burnlp/amr-aux-experiment")]
    runs: PathBuf,
    /// The Markdown report to write.
    #[arg(long, default_value = "docs/results/amr-aux.md")]
    out: PathBuf,
}

/// Trains a parser.
pub fn train(args: &TrainArgs) -> Result<()> {
    let started = Instant::now();
    let train = load_examples(&args.train, Task::Amr).context("loading the training data")?;
    let dev = load_examples(&args.dev, Task::Amr).context("loading the dev data")?;
    let aux = load_aux(&args.aux, 0).context("loading the auxiliary data")?;
    if args.model.is_lm() {
        return train_lm(args, &train, &dev, &aux, started);
    }
    let options = TrainOptions {
        resume: args.run.resume,
        ..args
            .model
            .options(args.schedule.into(), args.steps, args.aux_steps)
    };
    let device = training_device(&args.model.device)?;
    let summary = parser::train(&train, &dev, &aux, &options, &args.run.out, &device)
        .with_context(|| format!("training into {}", args.run.out.display()))?;
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
        args.run.out.display()
    );
    Ok(())
}

/// `amr-aux train --parser lm`.
fn train_lm(
    args: &TrainArgs,
    train: &[parser::Example],
    dev: &[parser::Example],
    aux: &[Vec<parser::Example>],
    started: Instant,
) -> Result<()> {
    if args.run.resume {
        anyhow::bail!("--resume is not offered for --parser lm");
    }
    let options = args
        .model
        .lm_options(args.schedule.into(), args.steps, args.aux_steps);
    let device = training_device(&args.model.device)?;
    let base = LmParser::pretrained(&args.model.lm.lm, &device)
        .with_context(|| format!("loading {}", args.model.lm.lm.display()))?;
    let (_, stages) = lm::train_lm(base, train, dev, aux, &options, &args.run.out)
        .with_context(|| format!("training into {}", args.run.out.display()))?;
    for stage in &stages {
        println!(
            "stage {}: {} rows ({} skipped as too long), {} steps, dev loss {}",
            stage.name,
            stage.rows,
            stage.skipped,
            stage.steps,
            stage.dev_loss.map_or("-".into(), |l| format!("{l:.4}"))
        );
    }
    println!(
        "done ({:.1} s); model in {}",
        started.elapsed().as_secs_f64(),
        args.run.out.display()
    );
    Ok(())
}

/// Parses sentences with a trained parser.
pub fn parse(args: &ParseArgs) -> Result<()> {
    let started = Instant::now();
    let device = parse_device(&args.trained.device)?;
    let lm_parser = if LmParser::is_run_dir(&args.trained.model) {
        if args.beam > 1 {
            eprintln!(
                "note: the LM parser decodes greedily; --beam {} is ignored",
                args.beam
            );
        }
        Some(
            LmParser::load(&args.trained.model, &device).with_context(|| {
                format!("loading the LM parser in {}", args.trained.model.display())
            })?,
        )
    } else {
        None
    };
    let model =
        match lm_parser {
            Some(_) => None,
            None => Some(Parser::load(&args.trained.model, &device).with_context(|| {
                format!("loading the parser in {}", args.trained.model.display())
            })?),
        };
    let input = ParseInput::read(&args.input)?;
    let gold = args
        .gold
        .as_deref()
        .map(|path| input.read_gold(path))
        .transpose()?;
    let mut graphs = Vec::with_capacity(input.sentences.len());
    let progress = indicatif::ProgressBar::new(input.sentences.len() as u64);
    for chunk in input.sentences.chunks(args.batch_size.max(1)) {
        match (&model, &lm_parser) {
            (Some(model), _) => graphs.extend(model.parse(chunk, args.beam, args.batch_size)?),
            (None, Some(lm)) => {
                graphs.extend(lm.parse(chunk, args.batch_size, args.max_new_tokens)?);
            }
            (None, None) => unreachable!("one of the two parsers is loaded"),
        }
        progress.inc(chunk.len() as u64);
    }
    progress.finish_and_clear();
    input.annotate(&mut graphs);
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

impl ExperimentArgs {
    fn config(&self) -> ExperimentConfig {
        ExperimentConfig {
            amr: self.amr.clone(),
            aux: self.aux.clone(),
            train_size: self.train_size,
            dev_size: self.dev_size,
            test_size: self.test_size,
            aux_limit: self.aux_limit,
            steps: self.steps,
            aux_steps: self.aux_steps,
            multitask: self.multitask,
            beam: self.beam,
            options: self.model.options(Schedule::Single, self.steps, 0),
            runs: self.runs.clone(),
        }
    }
}

/// Trains on a split of an AMR corpus with and without intermediate training on PseudoAMR, and
/// writes the test Smatch of each to a Markdown report.
pub fn experiment(args: &ExperimentArgs) -> Result<()> {
    if args.model.is_lm() {
        return lm_experiment(args);
    }
    let config = args.config();
    let device = training_device(&args.model.device)?;
    let result = experiment::run_experiment(&config, &device).context("running the experiment")?;
    for run in &result.runs {
        println!(
            "{}: test Smatch {:.4} ({:.0} s)",
            run.schedule.name(),
            run.f1,
            run.wall_s
        );
    }
    let command = std::iter::once("amr-aux".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let report = experiment::markdown(&config, &result, &command);
    experiment::write_report(&args.out, &report)
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!("report written to {}", args.out.display());
    Ok(())
}

/// `amr-aux experiment --parser lm`.
fn lm_experiment(args: &ExperimentArgs) -> Result<()> {
    let seeds = if args.seeds.is_empty() {
        vec![args.model.seed]
    } else {
        args.seeds.clone()
    };
    let config = LmExperimentConfig {
        amr: args.amr.clone(),
        aux: args.aux.clone(),
        train_size: args.train_size,
        dev_size: args.dev_size,
        test_size: args.test_size,
        aux_limit: args.aux_limit,
        lm: args.model.lm.lm.clone(),
        seeds,
        options: args
            .model
            .lm_options(Schedule::Single, args.steps, args.aux_steps),
        max_new_tokens: args.model.lm.max_new_tokens,
        decode_batch: 16,
        runs: args.runs.clone(),
    };
    let device = training_device(&args.model.device)?;
    let result =
        lm_experiment::run_lm_experiment(&config, &device).context("running the LM experiment")?;
    for run in &result.runs {
        println!(
            "{} seed {}: test Smatch {:.4} ({:.0} s)",
            run.schedule, run.seed, run.f1, run.wall_s
        );
    }
    let command = std::iter::once("amr-aux".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let report = lm_experiment::lm_markdown(&config, &result, &command);
    experiment::write_report(&args.out, &report)
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!("report written to {}", args.out.display());
    Ok(())
}
