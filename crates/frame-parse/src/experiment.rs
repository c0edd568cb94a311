//! The measurements of `docs/results/frame-parse.md`: KID and its ablations (no FKG, no FSG,
//! teacher forcing on) against the most-frequent-frame baseline, trained on a prefix of the
//! shared fulltext train sample and evaluated on a held-out half of the shared dev file.
//!
//! The dev file's distinct sentences are split in two by a hash of their text: one half
//! selects the model (dev full-structure F1, §5), the other is the test set. Training and
//! test sentences are checked disjoint with `check_disjoint`; split sizes and seeds are in the
//! report.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burnlp_core::cli::{self, DeviceArgs};
use burnlp_core::data::check_disjoint;
use serde::{Deserialize, Serialize};

use crate::baseline::MostFrequentFrame;
use crate::conll::{Instance, read_conll};
use crate::error::{FrameParseError, Result};
use crate::lexicon::{CandidateFrames, Lexicon};
use crate::run::TrainedRun;
use crate::score::{Score, ScoreOptions, score};
use crate::train::{TrainConfig, train};

/// Flags of `frame-parse experiment`.
#[derive(clap::Args, Debug, Clone)]
pub struct ExperimentArgs {
    /// The shared folder with datasets/framenet17.
    #[arg(long, default_value = "../shared")]
    pub shared: PathBuf,
    /// Training blocks taken from the start of the fulltext train sample (15,592 in all).
    #[arg(long, default_value_t = 3000, value_parser = cli::positive)]
    pub train_blocks: usize,
    /// Epochs per run.
    #[arg(long, default_value_t = 8, value_parser = cli::positive)]
    pub epochs: usize,
    /// Hidden sizes (word embedding, BiLSTM per direction, FKG nodes).
    #[arg(long, default_value_t = 64, value_parser = cli::positive)]
    pub dim: usize,
    /// Seeds (repeatable).
    #[arg(long = "seed", default_values_t = [1116u64])]
    pub seeds: Vec<u64>,
    /// Also train KID with this BERT-family encoder (e.g. ../shared/models/all-minilm-l6-v2).
    #[arg(long)]
    pub bert: Option<String>,
    /// Systems to train (repeatable): kid, teacher-forcing, no-fkg, no-fsg, bert (bert needs
    /// `--bert`). Default: all of them.
    #[arg(long = "variant", value_parser = ["kid", "teacher-forcing", "no-fkg", "no-fsg", "bert"])]
    pub variants: Vec<String>,
    /// Run directories, and `results.jsonl`: one line per finished run. A run already recorded
    /// there for the same setting (blocks, epochs, sizes) is not trained again, and the report
    /// shows every recorded run of the setting, so seeds and systems can be added later.
    #[arg(long, default_value = "target/burnlp/experiment/frame-parse")]
    pub runs: PathBuf,
    /// Report file.
    #[arg(long, default_value = "docs/results/frame-parse.md")]
    pub out: PathBuf,
    /// Where training runs.
    #[command(flatten)]
    pub device: DeviceArgs,
}

/// One measured system, as recorded in `results.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The training setting (`blocks=… epochs=… dim=…`); only rows of the current setting are
    /// reported together.
    pub setting: String,
    /// System name.
    pub system: String,
    /// Encoder.
    pub encoder: String,
    /// Seed (none for the baseline).
    pub seed: Option<u64>,
    /// Best dev full-structure F1 (none for the baseline).
    pub dev_full_f1: Option<f64>,
    /// Test frame accuracy.
    pub frame_acc: f64,
    /// Test argument precision (weighted).
    pub arg_p: f64,
    /// Test argument recall (weighted).
    pub arg_r: f64,
    /// Test argument F1.
    pub arg_f1: f64,
    /// Test full-structure F1.
    pub full_f1: f64,
    /// Seconds for training and prediction.
    pub seconds: f64,
}

impl Row {
    fn new(
        setting: &str,
        system: &str,
        encoder: &str,
        seed: Option<u64>,
        dev: Option<f64>,
        test: &Score,
        seconds: f64,
    ) -> Self {
        Self {
            setting: setting.to_string(),
            system: system.to_string(),
            encoder: encoder.to_string(),
            seed,
            dev_full_f1: dev,
            frame_acc: test.frame.acc,
            arg_p: test.arg.p,
            arg_r: test.arg.r,
            arg_f1: test.arg.f1,
            full_f1: test.full.f1,
            seconds,
        }
    }
}

/// The rows recorded in `path` (none when it does not exist).
pub fn read_rows(path: &Path) -> Result<Vec<Row>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(FrameParseError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line).map_err(|e| FrameParseError::Line {
                path: path.to_path_buf(),
                line: i + 1,
                problem: format!("not a result row: {e}"),
            })
        })
        .collect()
}

fn append_row(path: &Path, row: &Row) -> Result<()> {
    use std::io::Write as _;
    let write = |source| FrameParseError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(write)?;
    let line = serde_json::to_string(row).expect("rows serialise");
    writeln!(file, "{line}").map_err(write)
}

/// Mean and sample standard deviation (NaN mean and 0 for no values).
fn mean_std(values: &[f64]) -> (f64, f64) {
    burnlp_core::metrics::mean_std(values).unwrap_or((f64::NAN, 0.0))
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Splits blocks into two halves by a hash of their sentence (all blocks of a sentence go
/// together): `(select, test)`.
pub fn split_by_sentence(blocks: &[Instance]) -> (Vec<Instance>, Vec<Instance>) {
    blocks
        .iter()
        .cloned()
        .partition(|b| fnv(&b.text()).is_multiple_of(2))
}

fn texts(blocks: &[Instance]) -> Vec<String> {
    let mut t: Vec<String> = blocks.iter().map(Instance::text).collect();
    t.sort();
    t.dedup();
    t
}

/// Runs the suite and writes the report; returns its path.
pub fn run(args: &ExperimentArgs) -> Result<PathBuf> {
    let root = args.shared.join("datasets/framenet17");
    let lexicon = Lexicon::load(&root)?;
    let (_, mut train_set) = read_conll(&root.join("fn1.7.fulltext.train.sample.syntaxnet.conll"))?;
    let total_train = train_set.len();
    train_set.truncate(args.train_blocks);
    let (_, dev_all) = read_conll(&root.join("fn1.7.dev.syntaxnet.conll"))?;
    let (select, test) = split_by_sentence(&dev_all);
    let train_texts = texts(&train_set);
    let sizes = check_disjoint(
        "frame-parse experiment train/test",
        &train_texts,
        &texts(&test),
    )?;
    check_disjoint(
        "frame-parse experiment train/dev",
        &train_texts,
        &texts(&select),
    )?;
    let setting = format!(
        "blocks={} epochs={} dim={}",
        args.train_blocks, args.epochs, args.dim
    );
    std::fs::create_dir_all(&args.runs).map_err(|source| FrameParseError::Write {
        path: args.runs.clone(),
        source,
    })?;
    let results = args.runs.join("results.jsonl");
    let mut rows: Vec<Row> = read_rows(&results)?
        .into_iter()
        .filter(|r| r.setting == setting && r.seed.is_some())
        .collect();

    let started = Instant::now();
    let mut candidates = lexicon.candidates().unwrap_or_default();
    candidates.merge(&CandidateFrames::from_instances(&train_set));
    let baseline = MostFrequentFrame::fit(&train_set);
    let predicted = baseline.predict(&test, &candidates);
    rows.insert(
        0,
        Row::new(
            &setting,
            "most frequent frame of the LU (no arguments)",
            "-",
            None,
            None,
            &score(&test, &predicted, &lexicon, ScoreOptions::default()),
            started.elapsed().as_secs_f64(),
        ),
    );

    let base = TrainConfig {
        epochs: args.epochs,
        d_word: args.dim,
        d_lstm: args.dim,
        d_node: args.dim,
        fkg_scope: "data".into(),
        device: args.device.clone(),
        ..TrainConfig::default()
    };
    let mut variants: Vec<(&str, &str, TrainConfig)> = vec![
        (
            "kid",
            "KID (reference code: no teacher forcing)",
            base.clone(),
        ),
        (
            "teacher-forcing",
            "KID + teacher forcing",
            TrainConfig {
                teacher_forcing: true,
                ..base.clone()
            },
        ),
        (
            "no-fkg",
            "KID − FKG",
            TrainConfig {
                no_fkg: true,
                ..base.clone()
            },
        ),
        (
            "no-fsg",
            "KID − FSG (independent arguments)",
            TrainConfig {
                no_fsg: true,
                ..base.clone()
            },
        ),
    ];
    if let Some(bert) = &args.bert {
        variants.push((
            "bert",
            "KID (BERT-family encoder)",
            TrainConfig {
                encoder: bert.clone(),
                batch_size: 16,
                ..base.clone()
            },
        ));
    } else if args.variants.iter().any(|v| v == "bert") {
        return Err(FrameParseError::invalid(
            "--variant bert",
            "needs `--bert ENCODER`",
        ));
    }
    variants
        .retain(|(key, _, _)| args.variants.is_empty() || args.variants.iter().any(|v| v == key));
    for &seed in &args.seeds {
        for (i, (_, name, config)) in variants.iter().enumerate() {
            let config = TrainConfig {
                seed,
                ..config.clone()
            };
            if rows
                .iter()
                .any(|r| r.system == *name && r.encoder == config.encoder && r.seed == Some(seed))
            {
                tracing::info!(
                    system = name,
                    seed,
                    "already recorded in {}",
                    results.display()
                );
                continue;
            }
            let dir = args.runs.join(format!("v{i}-seed{seed}"));
            if dir.exists() {
                std::fs::remove_dir_all(&dir).map_err(|source| FrameParseError::Write {
                    path: dir.clone(),
                    source,
                })?;
            }
            let started = Instant::now();
            tracing::info!(system = name, seed, "training");
            let report = train(&config, &lexicon, &train_set, &select, &dir, false)?;
            let trained = TrainedRun::load(&dir, &lexicon, &config.device.inference()?)?;
            let predicted = trained.predict(&test, false)?;
            let row = Row::new(
                &setting,
                name,
                &config.encoder,
                Some(seed),
                Some(report.best.value),
                &score(&test, &predicted, &lexicon, ScoreOptions::default()),
                started.elapsed().as_secs_f64(),
            );
            append_row(&results, &row)?;
            rows.push(row);
            // The scores are recorded; the checkpoints are not needed again.
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    let report = render(
        args,
        &rows,
        total_train,
        train_set.len(),
        select.len(),
        test.len(),
        sizes.eval,
        sizes.train,
    );
    burnlp_core::data::write_atomic(&args.out, report.as_bytes())?;
    Ok(args.out.clone())
}

/// One system's test scores over the seeds it ran: (mean, sample std) each.
struct Summary<'a> {
    system: &'a str,
    encoder: &'a str,
    n: usize,
    frame: (f64, f64),
    arg: (f64, f64),
    full: (f64, f64),
}

/// The rows grouped by system and encoder, in first-seen order.
fn summaries(rows: &[Row]) -> Vec<Summary<'_>> {
    let mut systems: Vec<(&str, &str)> = Vec::new();
    for r in rows {
        if !systems.contains(&(r.system.as_str(), r.encoder.as_str())) {
            systems.push((&r.system, &r.encoder));
        }
    }
    systems
        .into_iter()
        .map(|(system, encoder)| {
            let of: Vec<&Row> = rows
                .iter()
                .filter(|r| r.system == system && r.encoder == encoder)
                .collect();
            let stat = |f: fn(&Row) -> f64| mean_std(&of.iter().map(|r| f(r)).collect::<Vec<_>>());
            Summary {
                system,
                encoder,
                n: of.len(),
                frame: stat(|r| r.frame_acc),
                arg: stat(|r| r.arg_f1),
                full: stat(|r| r.full_f1),
            }
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn render(
    args: &ExperimentArgs,
    rows: &[Row],
    total_train: usize,
    train_blocks: usize,
    select_blocks: usize,
    test_blocks: usize,
    test_sentences: usize,
    train_sentences: usize,
) -> String {
    let mut seeds: Vec<u64> = rows.iter().filter_map(|r| r.seed).collect();
    seeds.sort_unstable();
    seeds.dedup();
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# frame-parse: KID on the shared FrameNet 1.7 annotations\n"
    );
    let _ = writeln!(
        md,
        "Written by `frame-parse experiment` (`cargo run -p frame-parse -- experiment --train-blocks {} --epochs {} --dim {}{} --seed S…`; \
each finished run is recorded in `results.jsonl` in the runs folder and the report shows every recorded run of this setting, \
so seeds and systems are added by later invocations). Seeds: {}.\n",
        args.train_blocks,
        args.epochs,
        args.dim,
        args.bert
            .as_ref()
            .map(|b| format!(" --bert {b}"))
            .unwrap_or_default(),
        seeds
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        md,
        "- Training: the first {train_blocks} of the {total_train} blocks of `fn1.7.fulltext.train.sample.syntaxnet.conll` ({train_sentences} distinct sentences). \
The paper trains on the full FN1.7 fulltext train split (19,391 blocks after open-SESAME preprocessing) for 100 epochs, optionally after exemplar pre-training; \
these runs see {:.0} % of it for {} epochs, on CPU.",
        100.0 * train_blocks as f64 / 19_391.0,
        args.epochs
    );
    let _ = writeln!(
        md,
        "- Evaluation: `fn1.7.dev.syntaxnet.conll` split in two by a hash of each sentence (all targets of a sentence together): \
{select_blocks} blocks select the model (dev full-structure F1), {test_blocks} blocks ({test_sentences} sentences) are the test set reported below. \
No test sentence is a training sentence (`check_disjoint`). The official FN1.7 test file is not in the shared folder."
    );
    let _ = writeln!(
        md,
        "- Model: word embeddings (random init, no GloVe vectors are shared) + BiLSTM, sizes {d} (paper: 200/256/256), FKG restricted to the frames of the data and their LUs' candidates, \
Adam lr 1e-3 constant (paper: 1e-4 with StepLR), batch 32; no dependency GCN (no parses in the shared data). Frames are chosen among the LU's candidates from `lu_index.tsv`.",
        d = args.dim
    );
    if let Some(bert) = &args.bert {
        let _ = writeln!(
            md,
            "- The BERT-family rows replace the word embeddings by the first-subword vectors of `{bert}` (the BiLSTM runs over them), fine-tuned with learning rate {:e} (the rest of KID {:e}), batch 16.",
            TrainConfig::default().encoder_lr,
            TrainConfig::default().lr,
        );
    }
    let _ = writeln!(
        md,
        "- Scores: the crate's scorer (KID's `evaluate.py` with exact matching; Core FEs weigh 1, other FEs 0.5; predicted frames are used for argument scoring).\n"
    );
    let summaries = summaries(rows);
    let _ = writeln!(
        md,
        "Mean ± sample standard deviation over the seeds each system ran (n):\n"
    );
    let _ = writeln!(
        md,
        "| system | encoder | n | test frame acc | test arg F1 | test full F1 |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    for sum in &summaries {
        let cell = |(m, sd): (f64, f64)| {
            if sum.n > 1 {
                format!("{m:.4} ± {sd:.4}")
            } else {
                format!("{m:.4}")
            }
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            sum.system,
            sum.encoder,
            sum.n,
            cell(sum.frame),
            cell(sum.arg),
            cell(sum.full)
        );
    }
    if let Some(kid) = summaries
        .iter()
        .find(|sum| sum.system.starts_with("KID (reference"))
    {
        let mut lines = Vec::new();
        for sum in summaries.iter().filter(|sum| {
            sum.system.starts_with("KID") && !sum.system.starts_with("KID (reference")
        }) {
            let diff = sum.full.0 - kid.full.0;
            let verdict = if sum.n < 2 || kid.n < 2 {
                "one seed: no noise estimate"
            } else if diff.abs() > sum.full.1 + kid.full.1 {
                "larger than the two standard deviations together"
            } else {
                "within the two standard deviations together: not a difference at this scale"
            };
            lines.push(format!(
                "{} ({}) {diff:+.4} ({verdict})",
                sum.system, sum.encoder
            ));
        }
        let _ = writeln!(
            md,
            "\nTest full-structure F1 of each variant minus KID's (means over seeds): {}.",
            lines.join("; ")
        );
    }
    let _ = writeln!(md, "\nEvery run:\n");
    let _ = writeln!(
        md,
        "| system | encoder | seed | dev full F1 | test frame acc | test arg P | test arg R | test arg F1 | test full F1 | seconds |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.0} |",
            r.system,
            r.encoder,
            r.seed.map_or("-".into(), |s| s.to_string()),
            r.dev_full_f1.map_or("-".into(), |v| format!("{v:.4}")),
            r.frame_acc,
            r.arg_p,
            r.arg_r,
            r.arg_f1,
            r.full_f1,
            r.seconds
        );
    }
    let baseline = rows.iter().find(|r| r.seed.is_none());
    // Each trained system's mean over its seeds; the conclusions compare means, not best runs.
    let means: Vec<(String, usize, f64, f64, f64)> = summaries
        .iter()
        .filter(|sum| sum.system.starts_with("KID"))
        .map(|sum| {
            (
                format!("{} ({})", sum.system, sum.encoder),
                sum.n,
                sum.frame.0,
                sum.arg.0,
                sum.full.0,
            )
        })
        .collect();
    if let Some(b) = baseline {
        let best = |k: fn(&(String, usize, f64, f64, f64)) -> f64| {
            means
                .iter()
                .max_by(|x, y| k(x).total_cmp(&k(y)))
                .map(|m| (m.0.clone(), m.1, k(m)))
        };
        if let (Some(frame), Some(full), Some(arg)) = (best(|m| m.2), best(|m| m.4), best(|m| m.3))
        {
            let _ = writeln!(
                md,
                "\nFrame identification: the most-frequent-frame baseline reaches {:.4} test frame accuracy; the best KID system by its mean over seeds, {} (n = {}), {:.4} ({}). \
Full-structure F1: baseline {:.4} (frames only, no arguments), best mean {:.4}, {} (n = {}) ({}). Best mean argument F1: {:.4}, {}.",
                b.frame_acc,
                frame.0,
                frame.1,
                frame.2,
                if frame.2 > b.frame_acc {
                    "KID is better"
                } else {
                    "KID does not beat counting at this training size"
                },
                b.full_f1,
                full.2,
                full.0,
                full.1,
                if full.2 > b.full_f1 {
                    "better than the baseline"
                } else {
                    "KID's arguments do not make up for its frame errors"
                },
                arg.2,
                arg.0,
            );
        }
    }
    let _ = writeln!(
        md,
        "\nThe paper reports (abstract) gains of up to +1.7 F1 over the previous state of the art on FN1.5 and FN1.7; \
its per-metric numbers were not found (spec §8), so no row here can be compared with a paper number, and the paper's claim is neither reproduced nor refuted here. \
The runs use a fraction of the training data, few epochs and small random embeddings (dev selection often picks early checkpoints), so the ablation differences above, \
judged against the seed-to-seed spread, say what these small models do, not what the paper's full-size models do. Seconds are wall time of a dev build on 2 CPU cores shared with other jobs."
    );
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_std() {
        let (m, sd) = mean_std(&[0.5, 0.7]);
        assert!((m - 0.6).abs() < 1e-12);
        assert!((sd - 0.1414213562373095).abs() < 1e-12);
        assert_eq!(mean_std(&[0.3]), (0.3, 0.0));
    }

    #[test]
    fn recorded_rows_round_trip_and_bad_lines_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.jsonl");
        assert!(read_rows(&path).unwrap().is_empty());
        let row = Row {
            setting: "blocks=1 epochs=1 dim=8".into(),
            system: "KID".into(),
            encoder: "lstm".into(),
            seed: Some(3),
            dev_full_f1: Some(0.25),
            frame_acc: 0.5,
            arg_p: 0.1,
            arg_r: 0.2,
            arg_f1: 0.13,
            full_f1: 0.3,
            seconds: 12.0,
        };
        append_row(&path, &row).unwrap();
        append_row(&path, &row).unwrap();
        assert_eq!(read_rows(&path).unwrap(), vec![row.clone(), row]);
        std::fs::write(&path, "{\"setting\": 1}\n").unwrap();
        let err = read_rows(&path).unwrap_err().to_string();
        assert!(
            err.contains("results.jsonl") && err.contains("line 1"),
            "{err}"
        );
    }
}
