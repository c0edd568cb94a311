//! `mls-nmt`: prepare data, train with CE/LS/MLS/WLS, translate, score BLEU and calibration.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burnlp_core::cli::DeviceArgs;
use burnlp_core::device::parse_device;
use burnlp_core::metrics::bleu::{Bleu, BleuConfig, BleuTokenizer};
use burnlp_core::metrics::calibration::reliability_diagram_svg;
use burnlp_core::metrics::chrf::{Chrf, ChrfConfig};
use clap::{Args, Parser, Subcommand};
use mls_nmt::experiment::{ExperimentConfig, markdown, run_experiment};
use mls_nmt::score::{Metric, compound_split_bleu, fairseq_bleu};
use mls_nmt::{
    Arch, Checkpoint, DEFAULT_THRESHOLD, DecodeOptions, LossConfig, LossKind, PrepareConfig,
    PreparedData, TrainConfig, Translator, WlsRatio, average_parameters, prepare, train,
};

/// Transformer NMT with masked label smoothing over a shared vocabulary (BLEU, calibration).
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Learn the joint BPE and the source/target dictionaries, binarize the data, print the
    /// token-category statistics.
    Prepare(PrepareArgs),
    /// Train a Transformer with CE, LS, MLS or WLS.
    Train(TrainArgs),
    /// Translate a file (or stdin, streaming) with beam search.
    Translate(TranslateArgs),
    /// Corpus BLEU (sacreBLEU or the paper's compound-split BLEU) or chrF of a hypothesis
    /// file against a reference file.
    Bleu(BleuArgs),
    /// BLEU, compound-split BLEU, chrF, inference ECE and training-time ECE of a trained
    /// model, with a reliability diagram.
    Calibrate(CalibrateArgs),
    /// Average parameter files (checkpoint averaging).
    Average(AverageArgs),
    /// Train LS and MLS with the same seed and steps on one corpus and write a report.
    Experiment(Box<ExperimentArgs>),
    /// Train LS and MLS on an embedded made-up language pair and report BLEU.
    Demo(burnlp_core::cli::DemoArgs),
}

#[derive(Args)]
struct PrepareArgs {
    /// Source language code (file suffix, e.g. `de` for `train.de`).
    #[arg(long)]
    src_lang: String,
    /// Target language code.
    #[arg(long)]
    tgt_lang: String,
    /// Training files prefix (`PREFIX.SRC`, `PREFIX.TGT`, one sentence per line).
    #[arg(long)]
    train: PathBuf,
    /// Validation files prefix.
    #[arg(long)]
    valid: PathBuf,
    /// Output data directory.
    #[arg(long)]
    out: PathBuf,
    /// Size of the joint BPE vocabulary.
    #[arg(long, default_value_t = 8000)]
    vocab_size: usize,
    #[command(flatten)]
    thresholds: ThresholdArgs,
    /// Leave out training pairs with a side longer than this many subwords.
    #[arg(long, default_value_t = 250)]
    max_len: usize,
    /// Print the statistics as JSON.
    #[arg(long)]
    json: bool,
}

/// The dictionary thresholds (fairseq's `--thresholdsrc` / `--thresholdtgt`).
#[derive(Args, Clone, Copy)]
struct ThresholdArgs {
    /// A token is in the source dictionary when it occurs at least this often on the source
    /// side, and in the joined dictionary when it occurs this often on both sides together
    /// (fairseq's `--thresholdsrc`; the paper: 10).
    #[arg(long, default_value_t = DEFAULT_THRESHOLD, value_parser = clap::value_parser!(u64).range(1..))]
    threshold_src: u64,
    /// A token is in the target dictionary when it occurs at least this often on the target
    /// side (fairseq's `--thresholdtgt`; the paper: 10).
    #[arg(long, default_value_t = DEFAULT_THRESHOLD, value_parser = clap::value_parser!(u64).range(1..))]
    threshold_tgt: u64,
}

impl PrepareArgs {
    fn config(&self) -> PrepareConfig {
        PrepareConfig {
            src_lang: self.src_lang.clone(),
            tgt_lang: self.tgt_lang.clone(),
            train: self.train.clone(),
            valid: self.valid.clone(),
            vocab_size: self.vocab_size,
            threshold_src: self.thresholds.threshold_src,
            threshold_tgt: self.thresholds.threshold_tgt,
            max_len: self.max_len,
        }
    }
}

#[derive(Args, Clone)]
struct TrainOptions {
    /// Loss: ce, ls, mls (masked label smoothing) or wls (weighted label smoothing).
    #[arg(long, default_value = "mls")]
    loss: LossKind,
    /// Smoothing mass α.
    #[arg(long, default_value_t = 0.1)]
    alpha: f64,
    /// WLS split of the smoothing mass between target-only, common and source-only tokens.
    #[arg(long, default_value = "0.4,0.4,0.2")]
    wls_ratio: WlsRatio,
    /// Model size: tiny, small, transformer-iwslt or transformer-base.
    #[arg(long, default_value = "small")]
    arch: Arch,
    /// Dropout.
    #[arg(long, default_value_t = 0.3)]
    dropout: f64,
    /// Peak learning rate.
    #[arg(long, default_value_t = 7e-4)]
    lr: f64,
    /// Warm-up steps of the inverse-sqrt schedule.
    #[arg(long, default_value_t = 1000)]
    warmup: usize,
    /// Decoupled weight decay.
    #[arg(long, default_value_t = 1e-4)]
    weight_decay: f64,
    /// Clip gradients to this global norm (none by default, as fairseq).
    #[arg(long)]
    clip_norm: Option<f64>,
    /// Padded tokens per batch.
    #[arg(long, default_value_t = 4096)]
    max_tokens: usize,
    /// Batches accumulated into one optimizer step (fairseq's `--update-freq`).
    #[arg(long, default_value_t = 1)]
    update_freq: usize,
    /// Passes over the training data.
    #[arg(long, default_value_t = 20)]
    epochs: usize,
    /// Stop after this many optimizer steps.
    #[arg(long)]
    max_steps: Option<usize>,
    /// Stop after about this many minutes of training (`experiment`: the budget of the whole
    /// experiment, 70% of it split between the losses' training).
    #[arg(long)]
    minutes: Option<f64>,
    /// Evaluate and checkpoint every N steps.
    #[arg(long, default_value_t = 500)]
    eval_every: usize,
    /// Average N checkpoints into the final model: the last one and the preceding ones at
    /// multiples of --eval-every steps.
    #[arg(long, default_value_t = 3)]
    average_last: usize,
    /// Random seed.
    #[arg(long, default_value_t = 666)]
    seed: u64,
    /// Longest sequence the model handles.
    #[arg(long, default_value_t = 256)]
    max_positions: usize,
}

impl TrainOptions {
    fn config(&self) -> TrainConfig {
        TrainConfig {
            loss: LossConfig {
                kind: self.loss,
                alpha: self.alpha,
                wls_ratio: self.wls_ratio,
            },
            arch: self.arch,
            dropout: self.dropout,
            lr: self.lr,
            warmup: self.warmup,
            weight_decay: self.weight_decay,
            clip_norm: self.clip_norm,
            max_tokens: self.max_tokens,
            update_freq: self.update_freq,
            epochs: self.epochs,
            max_steps: self.max_steps,
            minutes: self.minutes,
            eval_every: self.eval_every,
            average_last: self.average_last,
            seed: self.seed,
            max_positions: self.max_positions,
            progress: true,
        }
    }
}

#[derive(Args)]
struct TrainArgs {
    /// Data directory written by `prepare`.
    #[arg(long)]
    data: PathBuf,
    /// Run directory (checkpoints, metrics, model).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    options: TrainOptions,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args, Clone)]
struct DecodeArgs {
    /// Beam size (1 = greedy).
    #[arg(long, default_value_t = 5)]
    beam: usize,
    /// Length penalty exponent.
    #[arg(long, default_value_t = 1.0)]
    lenpen: f64,
    /// Sentences decoded together.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Parameters to load: default (averaged, else last), best, last, averaged, or a file.
    #[arg(long, default_value = "default")]
    checkpoint: String,
    #[command(flatten)]
    device: DeviceArgs,
}

impl DecodeArgs {
    fn options(&self) -> DecodeOptions {
        DecodeOptions {
            beam: self.beam,
            lenpen: self.lenpen,
            batch_size: self.batch_size,
            ..DecodeOptions::default()
        }
    }

    fn load(&self, run: &Path) -> Result<Translator> {
        let device = parse_device(&self.device)?;
        Translator::load(run, &Checkpoint::parse(&self.checkpoint), &device)
            .with_context(|| format!("loading the model in {}", run.display()))
    }
}

#[derive(Args)]
struct TranslateArgs {
    /// Run directory written by `train`.
    #[arg(long)]
    model: PathBuf,
    /// Source sentences, one per line; stdin when absent (translated as lines arrive, a batch
    /// at a time).
    #[arg(long)]
    input: Option<PathBuf>,
    /// Output file; stdout when absent.
    #[arg(long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    decode: DecodeArgs,
}

#[derive(Args)]
struct BleuArgs {
    /// Reference file, one segment per line.
    #[arg(long)]
    r#ref: PathBuf,
    /// Hypothesis file, one segment per line.
    #[arg(long)]
    hyp: PathBuf,
    /// sacrebleu (sacreBLEU's BLEU), compound-split (fairseq's `compound_split_bleu.sh` on
    /// tokenised text: hyphens split, plain BLEU-4; the paper's metric), fairseq (the same
    /// BLEU-4 without the splitting, for files the script already split, such as the official
    /// `.sys`/`.ref` outputs) or chrf (sacreBLEU's chrF).
    #[arg(long, default_value = "sacrebleu")]
    metric: Metric,
    /// Tokenizer applied first: 13a, none, intl or zh (default: 13a for sacrebleu, none for
    /// compound-split and fairseq, whose input is already tokenised; chrf takes none).
    #[arg(long)]
    tokenize: Option<String>,
    /// Lowercase before scoring.
    #[arg(long)]
    lowercase: bool,
    /// Print one JSON object (the score on the 0-100 scale with its statistics).
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct CalibrateArgs {
    /// Run directory written by `train`.
    #[arg(long)]
    model: PathBuf,
    /// Source sentences.
    #[arg(long)]
    src: PathBuf,
    /// Reference translations.
    #[arg(long)]
    r#ref: PathBuf,
    /// Write the inference reliability diagram here (SVG).
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Write the training-time (teacher-forced) reliability diagram here (SVG).
    #[arg(long)]
    training_svg: Option<PathBuf>,
    /// Write the translations here.
    #[arg(long)]
    hyp_out: Option<PathBuf>,
    /// Print the full report as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    decode: DecodeArgs,
}

#[derive(Args)]
struct AverageArgs {
    /// Output parameter file.
    #[arg(long)]
    out: PathBuf,
    /// Parameter files or checkpoint directories (holding model.safetensors).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
}

#[derive(Args)]
struct ExperimentArgs {
    /// Source language code.
    #[arg(long, default_value = "de")]
    src_lang: String,
    /// Target language code.
    #[arg(long, default_value = "en")]
    tgt_lang: String,
    /// Corpus directory holding `TRAIN.LANG`, `VALID.LANG`, `TEST.LANG`.
    #[arg(long)]
    data_dir: PathBuf,
    /// Training files name.
    #[arg(long, default_value = "train")]
    train_name: String,
    /// Validation files name.
    #[arg(long, default_value = "val")]
    valid_name: String,
    /// Test files name.
    #[arg(long, default_value = "test_2016_flickr")]
    test_name: String,
    /// Score only the first N test pairs.
    #[arg(long)]
    max_test: Option<usize>,
    /// Joint BPE vocabulary size.
    #[arg(long, default_value_t = 8000)]
    vocab_size: usize,
    #[command(flatten)]
    thresholds: ThresholdArgs,
    /// Losses compared, in order (the first one's time budget fixes the steps of all).
    #[arg(long, value_delimiter = ',', default_value = "ls,mls")]
    losses: Vec<LossKind>,
    #[command(flatten)]
    options: TrainOptions,
    /// Beam size.
    #[arg(long, default_value_t = 5)]
    beam: usize,
    /// Markdown report.
    #[arg(long)]
    out: PathBuf,
    /// Working directory for the data and runs.
    #[arg(long, default_value = "target/mls-nmt-experiment")]
    work: PathBuf,
    #[command(flatten)]
    device: DeviceArgs,
}

fn main() {
    burnlp_runtime::main(run);
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Prepare(args) => run_prepare(args),
        Command::Train(args) => run_train(args),
        Command::Translate(args) => run_translate(args),
        Command::Bleu(args) => run_bleu(args),
        Command::Calibrate(args) => run_calibrate(args),
        Command::Average(args) => run_average(args),
        Command::Experiment(args) => run_experiment_cmd(*args),
        Command::Demo(args) => run_demo(args),
    }
}

fn run_prepare(args: PrepareArgs) -> Result<()> {
    let report = prepare(&args.config(), &args.out).context("preparing the data")?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{} training pairs ({} longer than {} left out), {} validation pairs",
            report.train_pairs, report.train_too_long, args.max_len, report.valid_pairs
        );
        println!("{}", report.stats);
    }
    Ok(())
}

fn run_train(args: TrainArgs) -> Result<()> {
    let data = PreparedData::load(&args.data)
        .with_context(|| format!("loading prepared data from {}", args.data.display()))?;
    let device = parse_device(&args.device)?;
    let report = train(&data, &args.options.config(), &args.out, &device).context("training")?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// Reads a text file's lines (empty lines kept), naming the file on error.
fn read_text_lines(path: &Path) -> Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect())
}

fn run_translate(args: TranslateArgs) -> Result<()> {
    let translator = args.decode.load(&args.model)?;
    let options = args.decode.options();
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut emit = |lines: &[String]| -> Result<()> {
        for t in translator.translate(lines, &options)? {
            writeln!(out, "{}", t.text)?;
        }
        out.flush()?;
        Ok(())
    };
    match &args.input {
        Some(path) => emit(&read_text_lines(path)?)?,
        None => {
            let mut pending = Vec::new();
            for line in std::io::stdin().lock().lines() {
                pending.push(line.context("reading stdin")?);
                if pending.len() >= options.batch_size.max(1) {
                    emit(&pending)?;
                    pending.clear();
                }
            }
            emit(&pending)?;
        }
    }
    Ok(())
}

fn run_bleu(args: BleuArgs) -> Result<()> {
    let refs = read_text_lines(&args.r#ref)?;
    let hyps = read_text_lines(&args.hyp)?;
    if refs.len() != hyps.len() {
        bail!(
            "{} has {} lines but {} has {}",
            args.hyp.display(),
            hyps.len(),
            args.r#ref.display(),
            refs.len()
        );
    }
    let tokenizer = |default: BleuTokenizer| -> Result<BleuTokenizer> {
        match &args.tokenize {
            Some(name) => name.parse().map_err(|e| anyhow::anyhow!("--tokenize: {e}")),
            None => Ok(default),
        }
    };
    match args.metric {
        Metric::Sacrebleu => {
            let tokenizer = tokenizer(BleuTokenizer::V13a)?;
            let bleu = Bleu::new(BleuConfig {
                tokenizer,
                lowercase: args.lowercase,
                ..BleuConfig::default()
            })?;
            let score = bleu.corpus_score(&hyps, &[&refs])?;
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({
                        "metric": "sacrebleu",
                        "bleu": score.score, "counts": score.counts, "totals": score.totals,
                        "precisions": score.precisions, "bp": score.bp, "sys_len": score.sys_len,
                        "ref_len": score.ref_len, "tokenize": tokenizer.name(),
                        "lowercase": args.lowercase,
                    })
                );
            } else {
                println!("{score}");
            }
        }
        Metric::CompoundSplit | Metric::Fairseq => {
            let tokenizer = tokenizer(BleuTokenizer::None)?;
            let tokenize = |lines: &[String]| -> Vec<String> {
                lines.iter().map(|l| tokenizer.tokenize(l)).collect()
            };
            let (hyps, refs) = (tokenize(&hyps), tokenize(&refs));
            let score = if args.metric == Metric::Fairseq {
                fairseq_bleu(&hyps, &refs, args.lowercase)
            } else {
                compound_split_bleu(&hyps, &refs, args.lowercase)
            };
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({
                        "metric": args.metric.name(),
                        "bleu": score.score, "counts": score.counts, "totals": score.totals,
                        "precisions": score.precisions, "bp": score.bp, "sys_len": score.sys_len,
                        "ref_len": score.ref_len, "tokenize": tokenizer.name(),
                        "lowercase": args.lowercase,
                    })
                );
            } else {
                println!("{score}");
            }
        }
        Metric::Chrf => {
            if args.tokenize.is_some() {
                bail!("--tokenize does not apply to chrf (it scores characters)");
            }
            let chrf = Chrf::new(ChrfConfig {
                lowercase: args.lowercase,
                ..ChrfConfig::default()
            })?;
            let score = chrf.corpus_score(&hyps, &[&refs])?;
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({
                        "metric": "chrf", "chrf": score.score, "char_order": score.char_order,
                        "word_order": score.word_order, "beta": score.beta,
                        "lowercase": args.lowercase,
                    })
                );
            } else {
                println!("{score}");
            }
        }
    }
    Ok(())
}

fn run_calibrate(args: CalibrateArgs) -> Result<()> {
    let translator = args.decode.load(&args.model)?;
    let sources = read_text_lines(&args.src)?;
    let references = read_text_lines(&args.r#ref)?;
    let (report, translations) = translator
        .calibrate(&sources, &references, &args.decode.options(), 4096)
        .context("calibration")?;
    for (path, cal, title) in [
        (&args.svg, &report.inference, "inference"),
        (&args.training_svg, &report.training, "training-time"),
    ] {
        if let Some(path) = path {
            let svg = reliability_diagram_svg(cal, &format!("{title} calibration"));
            burnlp_core::data::write_atomic(path, svg.as_bytes())?;
        }
    }
    if let Some(path) = &args.hyp_out {
        let text: String = translations
            .iter()
            .map(|t| format!("{}\n", t.text))
            .collect();
        burnlp_core::data::write_atomic(path, text.as_bytes())?;
    }
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "BLEU {:.2}  compound-split BLEU {:.2}  chrF {:.2}  inference ECE {:.2}%  training-time ECE {:.2}%  NLL {:.3}",
            report.bleu,
            report.compound_split_bleu,
            report.chrf,
            100.0 * report.inference.ece,
            100.0 * report.training.ece,
            report.nll
        );
    }
    Ok(())
}

fn run_average(args: AverageArgs) -> Result<()> {
    let inputs: Vec<PathBuf> = args
        .inputs
        .iter()
        .map(|p| {
            if p.is_dir() {
                p.join("model.safetensors")
            } else {
                p.clone()
            }
        })
        .collect();
    average_parameters(&inputs, &args.out).context("averaging")?;
    println!(
        "averaged {} files into {}",
        inputs.len(),
        args.out.display()
    );
    Ok(())
}

fn run_experiment_cmd(args: ExperimentArgs) -> Result<()> {
    let prefix = |name: &str| args.data_dir.join(name);
    let mut train = args.options.config();
    train.minutes = args
        .options
        .minutes
        .map(|m| 0.7 * m / args.losses.len().max(1) as f64);
    let config = ExperimentConfig {
        prepare: PrepareConfig {
            src_lang: args.src_lang.clone(),
            tgt_lang: args.tgt_lang.clone(),
            train: prefix(&args.train_name),
            valid: prefix(&args.valid_name),
            vocab_size: args.vocab_size,
            threshold_src: args.thresholds.threshold_src,
            threshold_tgt: args.thresholds.threshold_tgt,
            max_len: 250,
        },
        test: prefix(&args.test_name),
        max_test: args.max_test,
        train,
        losses: args.losses.clone(),
        decode: DecodeOptions {
            beam: args.beam,
            ..DecodeOptions::default()
        },
    };
    let device = parse_device(&args.device)?;
    let result = run_experiment(&config, &args.work, &device).context("experiment")?;
    let command: Vec<String> = std::env::args().collect();
    let report = markdown(&config, &result, &command.join(" "));
    burnlp_core::data::write_atomic(&args.out, report.as_bytes())?;
    print!("{report}");
    Ok(())
}

fn run_demo(args: burnlp_core::cli::DemoArgs) -> Result<()> {
    let device = burnlp_core::device::cpu();
    let rows = mls_nmt::demo::demo(&args.dir("mls-nmt"), &device).context("demo")?;
    Ok(burnlp_core::report::print_rows(&rows, args.json)?)
}
