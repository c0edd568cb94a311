//! The results suite: train on a split of an AMR corpus with and without intermediate training
//! on PseudoAMR (and optionally multitask), parse the test graphs, and report the Smatch of each
//! schedule as Markdown (`docs/results/amr-aux.md`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burnlp_core::burn::tensor::Device;

use super::{
    Example, Parser, ParserError, Result, Schedule, Task, TrainOptions, examples_from_amrs,
    load_aux, read_corpus, score, train,
};
use crate::penman::Amr;

/// Settings of [`run_experiment`].
#[derive(Debug, Clone)]
pub struct ExperimentConfig {
    /// The AMR corpus to split into train / dev / test (e.g. the Little Prince file).
    pub amr: PathBuf,
    /// Auxiliary PseudoAMR files for the intermediate (and multitask) runs.
    pub aux: Vec<PathBuf>,
    /// Graphs for training, from the start of the corpus.
    pub train_size: usize,
    /// Graphs for dev (model selection), after the training graphs.
    pub dev_size: usize,
    /// Graphs for the test, from the end of the corpus.
    pub test_size: usize,
    /// Use at most this many graphs of each auxiliary file (0: all).
    pub aux_limit: usize,
    /// AMR optimizer steps of every run.
    pub steps: usize,
    /// Auxiliary steps of the intermediate run.
    pub aux_steps: usize,
    /// Also run the multitask schedule (steps + aux steps on the mixture).
    pub multitask: bool,
    /// Beam size for the test.
    pub beam: usize,
    /// Model and optimisation settings of every run; the schedule and step counts are set per
    /// run.
    pub options: TrainOptions,
    /// Directory for the runs (one subdirectory per schedule).
    pub runs: PathBuf,
}

/// One schedule's result.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    /// The schedule.
    pub schedule: Schedule,
    /// Its steps, as the report writes them (`400 aux, then 800 AMR`).
    pub steps: String,
    /// Best dev metric (Smatch, or loss with `select_on_smatch` off); NaN if none.
    pub dev: f64,
    /// Test precision.
    pub precision: f64,
    /// Test recall.
    pub recall: f64,
    /// Test Smatch F1.
    pub f1: f64,
    /// Seconds for training and testing.
    pub wall_s: f64,
}

/// What [`run_experiment`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentResult {
    /// Auxiliary graphs used.
    pub aux_graphs: usize,
    /// One result per schedule: single, intermediate, then multitask when asked for.
    pub runs: Vec<RunResult>,
}

/// Trains every schedule on the same split (first `train_size` graphs, next `dev_size`, last
/// `test_size`) into `config.runs/<schedule>`, and scores each on the test graphs with beam
/// `config.beam`. The device must be an autodiff device.
///
/// # Errors
/// [`ParserError::TooFewGraphs`] when the corpus is too small for the split, and the errors of
/// loading the data, [`train()`] and parsing.
pub fn run_experiment(config: &ExperimentConfig, device: &Device) -> Result<ExperimentResult> {
    let amrs = read_corpus(&config.amr)?;
    let all = examples_from_amrs(&amrs, Task::Amr, &config.amr)?;
    let needed = config.train_size + config.dev_size + config.test_size;
    if all.len() < needed {
        return Err(ParserError::TooFewGraphs {
            path: config.amr.clone(),
            graphs: all.len(),
            needed,
        });
    }
    let train_set = &all[..config.train_size];
    let dev = &all[config.train_size..config.train_size + config.dev_size];
    let test = &all[all.len() - config.test_size..];
    let test_gold: Vec<Amr> = amrs[amrs.len() - config.test_size..].to_vec();
    let test_sentences: Vec<String> = test.iter().map(|e| e.sentence.clone()).collect();
    let aux = load_aux(&config.aux, config.aux_limit)?;
    let mut schedules = vec![Schedule::Single, Schedule::Intermediate];
    if config.multitask {
        schedules.push(Schedule::Multitask);
    }
    let mut runs = Vec::new();
    for schedule in schedules {
        let dir = config.runs.join(schedule.name());
        let data = Split {
            train: train_set,
            dev,
            aux: &aux,
            test_sentences: &test_sentences,
            test_gold: &test_gold,
        };
        let run = run_schedule(config, schedule, &data, &dir, device).map_err(|source| {
            ParserError::ExperimentRun {
                schedule: schedule.name(),
                dir: dir.clone(),
                source: Box::new(source),
            }
        })?;
        tracing::info!(
            schedule = schedule.name(),
            test_smatch = run.f1,
            wall_s = run.wall_s,
            "experiment run done"
        );
        runs.push(run);
    }
    Ok(ExperimentResult {
        aux_graphs: aux.iter().map(Vec::len).sum(),
        runs,
    })
}

/// The data of every run.
struct Split<'a> {
    train: &'a [Example],
    dev: &'a [Example],
    aux: &'a [Vec<Example>],
    test_sentences: &'a [String],
    test_gold: &'a [Amr],
}

/// Trains one schedule into `dir` and scores it on the test graphs.
fn run_schedule(
    config: &ExperimentConfig,
    schedule: Schedule,
    data: &Split<'_>,
    dir: &Path,
    device: &Device,
) -> Result<RunResult> {
    let started = Instant::now();
    let (options, steps) = run_options(config, schedule);
    let summary = train(data.train, data.dev, data.aux, &options, dir, device)?;
    let model = Parser::load(dir, &device.clone().inner())?;
    let pred = model.parse(data.test_sentences, config.beam, 32)?;
    let test_score = score(&pred, data.test_gold)?;
    let metric = if options.select_on_smatch {
        "smatch"
    } else {
        "loss"
    };
    Ok(RunResult {
        schedule,
        steps,
        dev: summary
            .best
            .and_then(|m| m.get(metric).copied())
            .unwrap_or(f64::NAN),
        precision: test_score.precision(),
        recall: test_score.recall(),
        f1: test_score.f1(),
        wall_s: started.elapsed().as_secs_f64(),
    })
}

/// A schedule's training settings and its steps as the report writes them.
fn run_options(config: &ExperimentConfig, schedule: Schedule) -> (TrainOptions, String) {
    let (steps, aux_steps, label) = match schedule {
        Schedule::Single => (config.steps, 0, format!("{} AMR", config.steps)),
        Schedule::Intermediate => (
            config.steps,
            config.aux_steps,
            format!("{} aux, then {} AMR", config.aux_steps, config.steps),
        ),
        Schedule::Multitask => (
            config.steps + config.aux_steps,
            0,
            format!("{} mixed", config.steps + config.aux_steps),
        ),
    };
    let options = TrainOptions {
        schedule,
        steps,
        aux_steps,
        ..config.options.clone()
    };
    (options, label)
}

/// The results as a Markdown report; `command` is the command line that produced them.
pub fn markdown(config: &ExperimentConfig, result: &ExperimentResult, command: &str) -> String {
    let options = &config.options;
    let metric = if options.select_on_smatch {
        "Smatch"
    } else {
        "loss"
    };
    let aux_files: Vec<String> = config
        .aux
        .iter()
        .map(|p| format!("`{}`", p.display()))
        .collect();
    let model = match &options.encoder {
        Some(dir) => format!(
            " decoder on the pretrained encoder `{}` (encoder lr {})",
            dir.display(),
            options.encoder_lr
        ),
        None => " trained from scratch".to_string(),
    };
    let mut out =
        String::from("# amr-aux: AMR parsing with and without intermediate PseudoAMR training\n\n");
    let _ = write!(
        out,
        "Produced by `amr-aux experiment` on `{}` (first {} graphs train, next {} dev, last {} \
         test) with {} auxiliary PseudoAMR graphs from {}.\n\
         Model: `{}` Transformer{model}, batch {}, lr {}, dropout {}, seed {}; \
         test decoding with beam {}; Smatch against gold graphs without `:wiki` roles. One seed \
         per schedule, so small differences may be seed noise.\n\n\
         Command: `{command}`\n\n",
        config.amr.display(),
        config.train_size,
        config.dev_size,
        config.test_size,
        result.aux_graphs,
        aux_files.join(", "),
        options.arch.name(),
        options.batch_size,
        options.lr,
        options.dropout,
        options.seed,
        config.beam,
    );
    let _ = write!(
        out,
        "| schedule | steps | best dev {metric} | test P | test R | test Smatch F1 | wall (s) |\n\
         |---|---|---|---|---|---|---|\n"
    );
    for r in &result.runs {
        let _ = writeln!(
            out,
            "| {} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.0} |",
            r.schedule.name(),
            r.steps,
            r.dev,
            r.precision,
            r.recall,
            r.f1,
            r.wall_s
        );
    }
    out
}

/// Writes a report atomically, creating its directory.
pub fn write_report(path: &Path, markdown: &str) -> Result<()> {
    Ok(burnlp_core::data::write_atomic(path, markdown.as_bytes())?)
}
