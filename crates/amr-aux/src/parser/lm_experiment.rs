//! The results suite of the LM parser: AMR-only and intermediate (PseudoAMR, then AMR)
//! fine-tuning of a pretrained decoder LM on disjoint splits of an AMR corpus, over several
//! seeds, reported as Markdown (`docs/results/amr-aux-lm.md`).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use burnlp_core::burn::tensor::Device;
use serde::Serialize;

use super::lm::{LmParser, LmTrainOptions, train_lm};
use super::{
    Example, ParserError, Result, Schedule, Task, examples_from_amrs, load_aux, read_corpus, score,
};
use crate::demo_data::{check_disjoint, normalize_sentence};
use crate::penman::Amr;

/// Settings of [`run_lm_experiment`].
#[derive(Debug, Clone)]
pub struct LmExperimentConfig {
    /// The AMR corpus: first `train_size` graphs train, next `dev_size` dev, last `test_size`
    /// test.
    pub amr: PathBuf,
    /// Auxiliary PseudoAMR files for the intermediate runs.
    pub aux: Vec<PathBuf>,
    /// Training graphs.
    pub train_size: usize,
    /// Dev graphs (dev loss only).
    pub dev_size: usize,
    /// Test graphs.
    pub test_size: usize,
    /// Use at most this many auxiliary graphs (0: all).
    pub aux_limit: usize,
    /// The pretrained LM.
    pub lm: PathBuf,
    /// One run of each schedule per seed.
    pub seeds: Vec<u64>,
    /// Training settings (schedule and seed are set per run).
    pub options: LmTrainOptions,
    /// Most generated tokens per test graph.
    pub max_new_tokens: usize,
    /// Sentences decoded together.
    pub decode_batch: usize,
    /// Directory for the runs (`<schedule>-seed<N>/`).
    pub runs: PathBuf,
}

/// The split actually used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitSizes {
    /// Training graphs (after removing sentences that also occur in the test).
    pub train: usize,
    /// Dev graphs (likewise).
    pub dev: usize,
    /// Test graphs.
    pub test: usize,
    /// Training or dev graphs removed because their sentence is also a test sentence.
    pub removed_overlap: usize,
    /// Auxiliary graphs.
    pub aux: usize,
}

/// One run's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LmRunResult {
    /// `single` or `intermediate`.
    pub schedule: String,
    /// The seed.
    pub seed: u64,
    /// Training rows of the AMR stage (after the length limit).
    pub amr_rows: usize,
    /// Training rows of the auxiliary stage (0 for single).
    pub aux_rows: usize,
    /// Dev loss at the end.
    pub dev_loss: Option<f64>,
    /// Test precision.
    pub precision: f64,
    /// Test recall.
    pub recall: f64,
    /// Test Smatch F1.
    pub f1: f64,
    /// Seconds for training and testing.
    pub wall_s: f64,
}

/// What [`run_lm_experiment`] measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LmExperimentResult {
    /// The split.
    pub split: SplitSizes,
    /// One result per seed and schedule, seeds outer.
    pub runs: Vec<LmRunResult>,
}

/// A split of an AMR corpus whose training and dev sentences are not test sentences.
#[derive(Debug, Clone)]
pub struct DisjointSplit {
    /// Training examples.
    pub train: Vec<Example>,
    /// Dev examples.
    pub dev: Vec<Example>,
    /// Test examples.
    pub test: Vec<Example>,
    /// Training and dev examples removed because their sentence is a test sentence.
    pub removed: usize,
}

/// Train, dev and test examples with no dev or training sentence equal to a test sentence
/// (after whitespace and case normalisation), the removed count, checked with
/// [`check_disjoint`].
///
/// # Errors
/// [`ParserError::TooFewGraphs`] when the corpus is smaller than the three sizes.
pub fn disjoint_split(
    all: &[Example],
    path: &std::path::Path,
    sizes: (usize, usize, usize),
) -> Result<DisjointSplit> {
    let (train_size, dev_size, test_size) = sizes;
    let needed = train_size + dev_size + test_size;
    if all.len() < needed {
        return Err(ParserError::TooFewGraphs {
            path: path.to_path_buf(),
            graphs: all.len(),
            needed,
        });
    }
    let test = all[all.len() - test_size..].to_vec();
    let test_sentences: HashSet<String> = test
        .iter()
        .map(|e| normalize_sentence(&e.sentence))
        .collect();
    let unseen = |e: &&Example| !test_sentences.contains(&normalize_sentence(&e.sentence));
    let train: Vec<Example> = all[..train_size].iter().filter(unseen).cloned().collect();
    let dev: Vec<Example> = all[train_size..train_size + dev_size]
        .iter()
        .filter(unseen)
        .cloned()
        .collect();
    let removed = train_size + dev_size - train.len() - dev.len();
    let graphs = |list: &[Example]| list.iter().map(|e| e.graph.clone()).collect::<Vec<Amr>>();
    let test_graphs = graphs(&test);
    check_disjoint(&graphs(&train), &test_graphs)?;
    check_disjoint(&graphs(&dev), &test_graphs)?;
    Ok(DisjointSplit {
        train,
        dev,
        test,
        removed,
    })
}

/// Runs `single` and `intermediate` for every seed on the same disjoint split, each from the
/// pretrained LM, and scores each on the test graphs (greedy decoding). `device` must be an
/// autodiff device. Every run also writes its `result.json` into its directory.
///
/// # Errors
/// The split's, loading's, training's and scoring's errors.
pub fn run_lm_experiment(
    config: &LmExperimentConfig,
    device: &Device,
) -> Result<LmExperimentResult> {
    let amrs = read_corpus(&config.amr)?;
    let all = examples_from_amrs(&amrs, Task::Amr, &config.amr)?;
    let DisjointSplit {
        train,
        dev,
        test,
        removed,
    } = disjoint_split(
        &all,
        &config.amr,
        (config.train_size, config.dev_size, config.test_size),
    )?;
    let aux = load_aux(&config.aux, config.aux_limit)?;
    let aux_graphs: Vec<Amr> = aux.iter().flatten().map(|e| e.graph.clone()).collect();
    let test_gold: Vec<Amr> = test.iter().map(|e| e.graph.clone()).collect();
    check_disjoint(&aux_graphs, &test_gold)?;
    let test_sentences: Vec<String> = test.iter().map(|e| e.sentence.clone()).collect();
    let split = SplitSizes {
        train: train.len(),
        dev: dev.len(),
        test: test.len(),
        removed_overlap: removed,
        aux: aux_graphs.len(),
    };
    let mut runs = Vec::new();
    for &seed in &config.seeds {
        for schedule in [Schedule::Single, Schedule::Intermediate] {
            let started = Instant::now();
            let dir = config.runs.join(format!("{}-seed{seed}", schedule.name()));
            let options = LmTrainOptions {
                schedule,
                seed,
                ..config.options.clone()
            };
            device.seed(seed);
            let base = LmParser::pretrained(&config.lm, device)?;
            let (parser, stages) = train_lm(base, &train, &dev, &aux, &options, &dir)?;
            let pred = parser.parse(&test_sentences, config.decode_batch, config.max_new_tokens)?;
            burnlp_core::data::write_atomic(
                dir.join("test_pred.txt"),
                crate::penman::write_amrs(&pred).as_bytes(),
            )?;
            let s = score(&pred, &test_gold)?;
            let amr_stage = stages.last().expect("every schedule ends with AMR");
            let result = LmRunResult {
                schedule: schedule.name().into(),
                seed,
                amr_rows: amr_stage.rows,
                aux_rows: if stages.len() > 1 { stages[0].rows } else { 0 },
                dev_loss: amr_stage.dev_loss,
                precision: s.precision(),
                recall: s.recall(),
                f1: s.f1(),
                wall_s: started.elapsed().as_secs_f64(),
            };
            burnlp_core::data::write_json(dir.join("result.json"), &result, true)?;
            tracing::info!(
                schedule = schedule.name(),
                seed,
                test_smatch = result.f1,
                wall_s = result.wall_s,
                "LM experiment run done"
            );
            runs.push(result);
        }
    }
    Ok(LmExperimentResult { split, runs })
}

/// Mean and sample standard deviation (0 for fewer than two values; NaN for none).
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    burnlp_core::metrics::mean_std(values).unwrap_or((f64::NAN, f64::NAN))
}

/// The results as Markdown; `command` is the command line that produced them.
pub fn lm_markdown(
    config: &LmExperimentConfig,
    result: &LmExperimentResult,
    command: &str,
) -> String {
    let o = &config.options;
    let split = &result.split;
    let mut out =
        String::from("# amr-aux, LM parser: AMR-only vs intermediate PseudoAMR training\n\n");
    let layers = if o.train_layers == 0 {
        "all layers fine-tuned".to_string()
    } else {
        format!(
            "top {} decoder layers and the final norm fine-tuned",
            o.train_layers
        )
    };
    let _ = write!(
        out,
        "Produced by `amr-aux experiment --parser lm` on `{}`: the first {} graphs train ({} \
         used), the next {} dev ({} used; dev loss only), the last {} test; {} training/dev \
         graphs whose sentence is also a test sentence were removed, and the split was checked \
         disjoint. {} auxiliary PseudoAMR graphs from {}.\n\
         LM `{}` ({layers}), batch {}, lr {} (5% warm-up, linear decay), targets over {} tokens \
         skipped in training, greedy decoding of at most {} tokens; AMR steps {} in both \
         schedules, intermediate stage {} steps. Seeds {:?} (they set the batch order).\n\n\
         Command: `{command}`\n\n",
        config.amr.display(),
        config.train_size,
        split.train,
        config.dev_size,
        split.dev,
        split.test,
        split.removed_overlap,
        split.aux,
        config
            .aux
            .iter()
            .map(|p| format!("`{}`", p.display()))
            .collect::<Vec<_>>()
            .join(", "),
        config.lm.display(),
        o.batch_size,
        o.lr,
        o.max_target_tokens,
        config.max_new_tokens,
        o.steps,
        o.aux_steps,
        config.seeds,
    );
    out.push_str(
        "| schedule | seed | AMR rows | aux rows | dev loss | test P | test R | test Smatch F1 | wall (s) |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for r in &result.runs {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {:.4} | {:.4} | {:.4} | {:.0} |",
            r.schedule,
            r.seed,
            r.amr_rows,
            r.aux_rows,
            r.dev_loss.map_or("-".into(), |l| format!("{l:.4}")),
            r.precision,
            r.recall,
            r.f1,
            r.wall_s
        );
    }
    out.push_str("\n| schedule | runs | test Smatch F1 mean ± std |\n|---|---|---|\n");
    for schedule in ["single", "intermediate"] {
        let f1: Vec<f64> = result
            .runs
            .iter()
            .filter(|r| r.schedule == schedule)
            .map(|r| r.f1)
            .collect();
        let (mean, std) = mean_std(&f1);
        let _ = writeln!(out, "| {schedule} | {} | {mean:.4} ± {std:.4} |", f1.len());
    }
    out
}
