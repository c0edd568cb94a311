//! `para-filter`: align, mine, score, select and evaluate WMT20-style parallel corpora.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burnlp_core::cli::{DemoArgs, DeviceArgs, EncoderArgs};
use burnlp_core::report::print_rows;
use clap::{Args, Parser, Subcommand, ValueEnum};
use para_filter::corpus::{CorpusWriter, TextWriter, format_score, read_corpus, read_line_aligned};
use para_filter::noise::{NoiseConfig, NoiseKind, read_labels, write_labels};
use para_filter::score::{BatchScorer, Constant, Rerank};
use para_filter::{
    ClassifierScorer, Ensemble, Ibm1Config, Ibm1Model, MarginConfig, MarginScorer, MineConfig,
    Pair, RuleConfig, RuleSet, ScorerTrainConfig, check_scores, english_words, read_documents,
};

/// Parallel corpus filtering and alignment (WMT20 shared task reconstruction).
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Align the document pairs once with Model 1 tables trained on clean data.
    Align(MineArgs),
    /// Iterative mining: align, add confident pairs to the lexical data, retrain, re-align.
    Mine(MineArgs),
    /// Fine-tune the cross-lingual classifier scorer: clean pairs against synthetic negatives.
    TrainScorer(TrainScorerArgs),
    /// Score every line of a corpus (one score per line, same order).
    Score(ScoreArgs),
    /// Keep the best pairs up to a budget of English words (the organisers' rule).
    Select(SelectArgs),
    /// Inject labelled WMT-style noise into a clean corpus.
    Noise(NoiseArgs),
    /// ROC-AUC of a score file against noise labels, overall and per noise type.
    EvalNoise(EvalNoiseArgs),
    /// Measure noise detection (Multi30k) and mining (Tatoeba); writes a Markdown report.
    Experiment(ExperimentArgs),
    /// The shared task in miniature: build the noisy corpus and each condition's selection
    /// (`prepare`), then, after NMT systems are trained on them, the BLEU table (`report`).
    /// `cargo xtask results --only para-filter-nmt` runs the whole chain.
    #[command(subcommand)]
    SharedTask(SharedTaskCommand),
    /// Noise detection and mining on a generated toy bitext.
    Demo(DemoArgs),
}

#[derive(Subcommand)]
enum SharedTaskCommand {
    /// Noise Multi30k lines, score them under every condition, select the budget, write each
    /// condition's training data (`WORK/<condition>/train.{de,en}`) and `WORK/conditions.txt`.
    Prepare(SharedTaskArgs),
    /// The Markdown table of the conditions with their NMT BLEU (`WORK/<condition>/bleu.json`).
    Report(SharedTaskReportArgs),
}

#[derive(Args)]
struct SharedTaskArgs {
    /// The shared folder with datasets/multi30k.
    #[arg(long, default_value = "../shared")]
    shared: PathBuf,
    /// Work directory.
    #[arg(long)]
    work: PathBuf,
    /// Encoder of the margin and classifier scorers (E5S1 file or HF directory); without it,
    /// no margin condition and a tiny random classifier.
    #[arg(long)]
    encoder: Option<String>,
    /// Multi30k train lines used as clean data.
    #[arg(long, default_value_t = 9_000, value_parser = burnlp_core::cli::positive)]
    clean: usize,
    /// Multi30k train lines after them forming the noisy corpus.
    #[arg(long, default_value_t = 4_000, value_parser = burnlp_core::cli::positive)]
    corpus: usize,
    /// Fraction of corpus lines noised.
    #[arg(long, default_value_t = 0.5, value_parser = burnlp_core::cli::fraction)]
    rate: f64,
    /// Budget as a fraction of the corpus's English words.
    #[arg(long, default_value_t = 0.4, value_parser = burnlp_core::cli::fraction)]
    budget_fraction: f64,
    /// Clean pairs the classifier is trained on.
    #[arg(long, default_value_t = 2_000, value_parser = burnlp_core::cli::positive)]
    classifier_pairs: usize,
    /// Classifier fine-tuning epochs.
    #[arg(long, default_value_t = 1, value_parser = burnlp_core::cli::positive)]
    classifier_epochs: usize,
    /// Seeds of the classifier runs (comma-separated; the ensemble averages them).
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    classifier_seeds: Vec<u64>,
    /// Seed of the noise and of the random condition.
    #[arg(long, default_value_t = 13)]
    seed: u64,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct SharedTaskReportArgs {
    /// Work directory of `prepare`.
    #[arg(long)]
    work: PathBuf,
    /// How the NMT systems were trained (one line for the report).
    #[arg(long, default_value = "see the command that ran them")]
    nmt: String,
    /// Report file.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct MineArgs {
    /// Clean parallel data for the lexical model (`en<TAB>xx`, plain, .gz or .xz).
    #[arg(long)]
    clean: PathBuf,
    /// Document pairs (JSON Lines: {"id", "en", "xx"}, sides as sentence lists or texts).
    #[arg(long)]
    docs: PathBuf,
    /// Mined pairs (`en<TAB>xx`).
    #[arg(long)]
    out: PathBuf,
    /// Their scores, one per line (the submission of re-aligned pairs).
    #[arg(long)]
    scores: PathBuf,
    #[command(flatten)]
    config: MineConfig,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
enum ScorerKind {
    /// IBM Model 1 (needs --clean).
    Ibm1,
    /// LASER-style ratio margin with a multilingual encoder (needs --encoder).
    Margin,
    /// Minus the number of broken rerank rules.
    Rules,
    /// The probability of `clean` from classifier runs (needs --run; several are averaged).
    Classifier,
}

#[derive(Args)]
struct TrainScorerArgs {
    /// Clean parallel data (`en<TAB>xx`, plain, .gz or .xz).
    #[arg(long)]
    clean: PathBuf,
    /// Sentences of a third language, one per line (for wrong-language negatives).
    #[arg(long)]
    other: Option<PathBuf>,
    /// The run directory (text-cls's layout: model.json, tokenizer.json, best/, metrics).
    #[arg(long)]
    out: PathBuf,
    /// Continue an interrupted run in --out.
    #[arg(long)]
    resume: bool,
    #[command(flatten)]
    config: ScorerTrainConfig,
}

#[derive(Args)]
struct ScoreArgs {
    /// The corpus to score.
    #[arg(long)]
    input: PathBuf,
    /// Score file to write (one score per line).
    #[arg(long)]
    out: PathBuf,
    /// The scorer; repeat it for an ensemble (members z-normalised on the first
    /// --calibration-lines lines, then averaged; several classifier runs alone are averaged as
    /// probabilities).
    #[arg(long = "scorer", value_enum, default_value = "ibm1")]
    scorers: Vec<ScorerKind>,
    /// Lines at the start of the corpus that calibrate an ensemble's z-normalisation.
    #[arg(long, default_value_t = 10_000, value_parser = burnlp_core::cli::positive)]
    calibration_lines: usize,
    /// Clean parallel data for the IBM1 scorer.
    #[arg(long)]
    clean: Option<PathBuf>,
    /// A classifier run directory from `train-scorer` (repeatable: an ensemble, averaged).
    #[arg(long = "run")]
    runs: Vec<PathBuf>,
    /// Apply the rerank rules on top of the scorer, subtracting this per broken rule.
    #[arg(long, value_parser = burnlp_core::cli::positive_f64)]
    rerank_penalty: Option<f64>,
    /// Lines per batch.
    #[arg(long, default_value_t = 1024, value_parser = burnlp_core::cli::positive)]
    batch: usize,
    /// Continue a killed run of the same command from its last finished batch (the work so
    /// far is kept beside `--out` as `.OUT.partial` and `.OUT.progress.json`).
    #[arg(long)]
    resume: bool,
    #[command(flatten)]
    ibm1: Ibm1Config,
    #[command(flatten)]
    rules: RuleConfig,
    #[command(flatten)]
    margin: MarginConfig,
    #[command(flatten)]
    encoder: EncoderArgs,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct SelectArgs {
    /// The corpus.
    #[arg(long)]
    input: PathBuf,
    /// Its scores (one per line).
    #[arg(long)]
    scores: PathBuf,
    /// Budget of English words.
    #[arg(long, value_parser = burnlp_core::cli::positive)]
    budget: usize,
    /// Selected pairs, in corpus order.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct NoiseArgs {
    /// A clean corpus (`en<TAB>xx`).
    #[arg(long, required_unless_present = "en", conflicts_with_all = ["en", "xx"])]
    input: Option<PathBuf>,
    /// English side as a line-aligned file (with --xx).
    #[arg(long, requires = "xx")]
    en: Option<PathBuf>,
    /// Other-language side as a line-aligned file (with --en).
    #[arg(long, requires = "en")]
    xx: Option<PathBuf>,
    /// Sentences of a third language, one per line (for wrong-language noise).
    #[arg(long)]
    other: Option<PathBuf>,
    /// Fraction of lines to corrupt.
    #[arg(long, default_value_t = 0.5, value_parser = burnlp_core::cli::fraction)]
    rate: f64,
    /// Noise types (repeatable; default all, without wrong-language when --other is missing).
    #[arg(long = "kind", value_enum)]
    kinds: Vec<NoiseKind>,
    /// Random seed.
    #[arg(long, default_value_t = 13)]
    seed: u64,
    /// Noised corpus.
    #[arg(long)]
    out: PathBuf,
    /// Labels, one per line (`clean` or the noise type).
    #[arg(long)]
    labels: PathBuf,
}

#[derive(Args)]
struct EvalNoiseArgs {
    /// Scores, one per line.
    #[arg(long)]
    scores: PathBuf,
    /// Labels written by `noise`.
    #[arg(long)]
    labels: PathBuf,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ExperimentArgs {
    /// The shared folder with datasets/multi30k and datasets/tatoeba.
    #[arg(long, default_value = "../shared")]
    shared: PathBuf,
    /// Encoder for the margin scorer (an E5S1 file); skipped when absent.
    #[arg(long)]
    encoder: Option<String>,
    /// Clean Multi30k pairs for the lexical model.
    #[arg(long, default_value_t = 10_000, value_parser = burnlp_core::cli::positive)]
    clean: usize,
    /// Multi30k pairs noised and scored.
    #[arg(long, default_value_t = 2_000, value_parser = burnlp_core::cli::positive)]
    evaluation: usize,
    /// Clean pairs the classifier scorer is fine-tuned on (with as many negatives; 0: no
    /// classifier). It uses --encoder (a tiny random BERT without one).
    #[arg(long, default_value_t = 2_000)]
    classifier_pairs: usize,
    /// Fine-tuning epochs of the classifier scorer.
    #[arg(long, default_value_t = 1, value_parser = burnlp_core::cli::positive)]
    classifier_epochs: usize,
    /// Working directory (the classifier's run).
    #[arg(long, default_value = "target/para-filter-experiment")]
    work: PathBuf,
    /// Report file.
    #[arg(long, default_value = "docs/results/para-filter.md")]
    out: PathBuf,
    #[command(flatten)]
    device: DeviceArgs,
}

fn main() {
    burnlp_runtime::main(run, burnlp_core::cli::exit_code);
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Align(args) => mine(args, true),
        Command::Mine(args) => mine(args, false),
        Command::TrainScorer(args) => train_scorer(&args),
        Command::Score(args) => score(&args),
        Command::Select(args) => select(&args),
        Command::Noise(args) => noise(&args),
        Command::EvalNoise(args) => eval_noise(&args),
        Command::Experiment(args) => experiment(&args),
        Command::SharedTask(SharedTaskCommand::Prepare(args)) => shared_task(&args),
        Command::SharedTask(SharedTaskCommand::Report(args)) => shared_task_report(&args),
        Command::Demo(args) => {
            let dir = args.dir("para-filter");
            let rows = para_filter::demo::demo(&dir)
                .with_context(|| format!("running the demo in {}", dir.display()))?;
            Ok(print_rows(&rows, args.json)?)
        }
    }
}

fn mine(args: MineArgs, once: bool) -> Result<()> {
    let clean = read_corpus(&args.clean)?;
    let docs = read_documents(&args.docs)?;
    let mut config = args.config;
    if once {
        config.iterations = 1;
    }
    let outcome = para_filter::mine(&clean, &docs, &config).context("mining")?;
    let mut corpus = CorpusWriter::create(&args.out)?;
    let mut scores = TextWriter::create(&args.scores)?;
    for m in &outcome.mined {
        corpus.write(&m.pair)?;
        scores.line(&format_score(m.bead.score))?;
    }
    let n = corpus.finish()?;
    scores.finish()?;
    for (round, stats) in outcome.rounds.iter().enumerate() {
        eprintln!(
            "round {}: {} training pairs, {} mined, {} confident",
            round + 1,
            stats.training_pairs,
            stats.mined,
            stats.confident
        );
    }
    eprintln!(
        "wrote {n} pairs from {} document pairs to {}",
        docs.len(),
        args.out.display()
    );
    Ok(())
}

fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} lines [{elapsed}] {msg}")
            .expect("a valid template"),
    );
    bar
}

fn train_scorer(args: &TrainScorerArgs) -> Result<()> {
    let clean = read_corpus(&args.clean)?;
    let other = match &args.other {
        Some(path) => read_lines(path)?,
        None => Vec::new(),
    };
    let best = para_filter::train_scorer(&clean, &other, &args.config, &args.out, args.resume)
        .with_context(|| format!("training the scorer into {}", args.out.display()))?;
    eprintln!(
        "best dev {} {:.4} at step {} (run in {})",
        args.config.fine_tune.selection_metric(),
        best.value,
        best.step,
        args.out.display()
    );
    Ok(())
}

/// One scorer kind's members (a classifier kind gives one member per run).
fn scorer_members(kind: ScorerKind, args: &ScoreArgs) -> Result<Vec<Box<dyn BatchScorer>>> {
    Ok(match kind {
        ScorerKind::Ibm1 => {
            let Some(clean) = &args.clean else {
                bail!("--scorer ibm1 needs --clean (clean parallel data for the lexical model)")
            };
            let pairs = read_corpus(clean)?;
            vec![Box::new(Ibm1Model::train(&pairs, &args.ibm1)?)]
        }
        ScorerKind::Margin => {
            let Some(reference) = args.encoder.pretrained() else {
                bail!("--scorer margin needs --encoder (e.g. the multilingual-e5-small E5S1 file)")
            };
            let device = args.device.inference()?;
            vec![Box::new(MarginScorer::load(
                reference,
                &device,
                args.margin.clone(),
            )?)]
        }
        ScorerKind::Rules => vec![Box::new(Constant)],
        ScorerKind::Classifier => {
            if args.runs.is_empty() {
                bail!("--scorer classifier needs --run (a run directory from `train-scorer`)")
            }
            let device = args.device.inference()?;
            args.runs
                .iter()
                .map(|run| {
                    ClassifierScorer::load(run, &device)
                        .map(|s| Box::new(s) as Box<dyn BatchScorer>)
                        .with_context(|| format!("loading the scorer run {}", run.display()))
                })
                .collect::<Result<Vec<_>>>()?
        }
    })
}

fn score(args: &ScoreArgs) -> Result<()> {
    let mut kinds: Vec<ScorerKind> = Vec::new();
    for kind in &args.scorers {
        if !kinds.contains(kind) {
            kinds.push(*kind);
        }
    }
    if kinds.len() > 1 && kinds.contains(&ScorerKind::Rules) {
        bail!("--scorer rules cannot be combined with other scorers: use --rerank-penalty");
    }
    let mut members = Vec::new();
    for &kind in &kinds {
        members.extend(scorer_members(kind, args)?);
    }
    let scorer: Box<dyn BatchScorer> = if members.len() == 1 {
        members.pop().expect("one member")
    } else if kinds == [ScorerKind::Classifier] {
        // Classifier runs share a scale (probabilities): their plain mean.
        Box::new(Ensemble::new(members)?)
    } else {
        let calibration: Vec<Pair> = para_filter::CorpusReader::open(&args.input)?
            .take(args.calibration_lines)
            .map(|item| item.map(|(_, pair)| pair))
            .collect::<para_filter::Result<_>>()?;
        let ensemble = Ensemble::z_normalised(members, &calibration)
            .with_context(|| format!("calibrating the ensemble on {}", args.input.display()))?;
        tracing::info!(stats = ?ensemble.statistics(), "ensemble z-normalisation");
        Box::new(ensemble)
    };
    let penalty = match kinds.as_slice() {
        [ScorerKind::Rules] => Some(1.0),
        _ => args.rerank_penalty,
    };
    let mut rules = RuleSet::new(args.rules.clone())?;
    let rerank = penalty.map(|penalty| Rerank {
        rules: &mut rules,
        penalty,
    });
    let bar = progress_bar();
    // What decides the scores besides the input, the output and the batch size.
    let settings = serde_json::json!({
        "scorers": format!("{:?}", args.scorers),
        "calibration_lines": args.calibration_lines,
        "clean": args.clean,
        "runs": args.runs,
        "rerank_penalty": args.rerank_penalty,
        "ibm1": args.ibm1,
        "rules": args.rules,
        "margin": args.margin,
        "encoder": args.encoder.pretrained(),
    });
    let resume = para_filter::ScoreResume {
        resume: args.resume,
        settings,
    };
    let summary = para_filter::score_file_with(
        &args.input,
        &args.out,
        scorer.as_ref(),
        rerank,
        args.batch,
        &bar,
        &resume,
    )
    .with_context(|| format!("scoring {}", args.input.display()))?;
    bar.finish_and_clear();
    eprintln!(
        "scored {} lines in {:.1} s ({:.0} lines/s) into {}",
        summary.lines,
        summary.seconds,
        summary.lines as f64 / summary.seconds.max(1e-9),
        args.out.display()
    );
    for (rule, count) in summary.rule_counts {
        eprintln!("{:>16} {count}", rule.name());
    }
    Ok(())
}

fn select(args: &SelectArgs) -> Result<()> {
    let scores = check_scores(&args.scores, &args.input)?;
    let mut words = Vec::with_capacity(scores.len());
    for item in para_filter::CorpusReader::open(&args.input)? {
        words.push(english_words(&item?.1.en));
    }
    let selection = para_filter::select(&scores, &words, args.budget)?;
    let mut writer = CorpusWriter::create(&args.out)?;
    for (item, keep) in para_filter::CorpusReader::open(&args.input)?.zip(&selection.selected) {
        if *keep {
            writer.write(&item?.1)?;
        }
    }
    let n = writer.finish()?;
    eprintln!(
        "selected {n} of {} pairs, {} English words (budget {}), cut-off score {}",
        scores.len(),
        selection.words,
        args.budget,
        selection.cutoff.map_or("-".into(), |c| c.to_string())
    );
    Ok(())
}

fn read_lines(path: &Path) -> Result<Vec<String>> {
    Ok(para_filter::corpus::read_lines(path)?)
}

fn noise(args: &NoiseArgs) -> Result<()> {
    let clean: Vec<Pair> = match (&args.input, &args.en, &args.xx) {
        (Some(input), _, _) => read_corpus(input)?,
        (None, Some(en), Some(xx)) => read_line_aligned(en, xx)?,
        _ => bail!("give --input, or --en and --xx"),
    };
    let other = args
        .other
        .as_deref()
        .map(read_lines)
        .transpose()?
        .unwrap_or_default();
    let mut kinds = if args.kinds.is_empty() {
        NoiseKind::ALL.to_vec()
    } else {
        args.kinds.clone()
    };
    if other.is_empty() && args.kinds.is_empty() {
        kinds.retain(|k| *k != NoiseKind::WrongLanguage);
    }
    let config = NoiseConfig {
        rate: args.rate,
        kinds,
        seed: args.seed,
    };
    let noised = para_filter::inject(&clean, &other, &config)?;
    let (lines, labels): (Vec<Pair>, Vec<_>) = noised.into_iter().unzip();
    para_filter::corpus::write_corpus(&args.out, &lines)?;
    write_labels(&args.labels, &labels)?;
    let noisy = labels.iter().filter(|l| l.is_some()).count();
    eprintln!(
        "wrote {} lines ({noisy} noised) to {}",
        lines.len(),
        args.out.display()
    );
    Ok(())
}

fn eval_noise(args: &EvalNoiseArgs) -> Result<()> {
    let scores = para_filter::corpus::read_scores(&args.scores)?;
    let labels = read_labels(&args.labels)?;
    if scores.len() != labels.len() {
        bail!(
            "{} has {} scores but {} has {} labels",
            args.scores.display(),
            scores.len(),
            args.labels.display(),
            labels.len()
        );
    }
    let report = para_filter::noise_report(&scores, &labels)?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{:>16} {:.4} ({} clean / {} noisy)",
            "all", report.overall, report.clean, report.noisy
        );
        for (kind, auc) in &report.per_kind {
            println!("{kind:>16} {auc:.4}");
        }
    }
    Ok(())
}

fn shared_task(args: &SharedTaskArgs) -> Result<()> {
    let mut config = para_filter::shared_task::SharedTaskConfig::new(&args.shared, &args.work);
    config.encoder = args.encoder.clone();
    config.clean = args.clean;
    config.corpus = args.corpus;
    config.rate = args.rate;
    config.budget_fraction = args.budget_fraction;
    config.classifier_pairs = args.classifier_pairs;
    config.classifier_epochs = args.classifier_epochs;
    config.classifier_seeds = args.classifier_seeds.clone();
    config.seed = args.seed;
    let device = args.device.inference()?;
    let summaries = para_filter::shared_task::prepare(&config, &device)
        .context("preparing the shared-task conditions")?;
    for s in summaries {
        eprintln!(
            "{:>16} {:>6} lines {:>7} words  clean {:.3}",
            s.name, s.lines, s.words, s.clean_fraction
        );
    }
    Ok(())
}

fn shared_task_report(args: &SharedTaskReportArgs) -> Result<()> {
    let report = para_filter::shared_task::report(&args.work, &args.nmt)
        .with_context(|| format!("reporting on {}", args.work.display()))?;
    burnlp_core::data::write_atomic(&args.out, report.as_bytes())?;
    print!("{report}");
    Ok(())
}

fn experiment(args: &ExperimentArgs) -> Result<()> {
    let mut config = para_filter::experiment::ExperimentConfig::new(&args.shared);
    config.encoder = args.encoder.clone();
    config.clean = args.clean;
    config.evaluation = args.evaluation;
    config.classifier_pairs = args.classifier_pairs;
    config.classifier_epochs = args.classifier_epochs;
    config.work = args.work.clone();
    let args_text: Vec<String> = std::env::args().skip(1).collect();
    let command = format!("cargo run -p para-filter -- {}", args_text.join(" "));
    let device = args.device.inference()?;
    let report = para_filter::experiment::run(&config, &device, &command)
        .context("running the para-filter measurements")?;
    burnlp_core::data::write_atomic(&args.out, report.as_bytes())?;
    print!("{report}");
    Ok(())
}
