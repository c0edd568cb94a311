//! The rows of `amr-aux demo` (and `cargo xtask demo`): Smatch of an embedded sample of four
//! AMR pairs against its known value, and a tiny parser trained on generated sentences and
//! tested on generated sentences that are not in its training data.

use std::path::Path;
use std::time::Instant;

use burnlp_core::report::DemoRow;

use crate::demo_data::{self, check_disjoint};
use crate::parser::{self, Parser, Task, TrainOptions, examples_from_amrs};
use crate::penman::{Amr, parse_amrs};
use crate::smatch::{SmatchConfig, compute_f, smatch_corpus};

/// The task name of the rows.
pub const TASK: &str = "amr-aux";

/// Gold graphs of the embedded sample.
pub const SAMPLE_GOLD: &str = include_str!("../data/demo_gold.txt");
/// Predicted graphs of the embedded sample.
pub const SAMPLE_PRED: &str = include_str!("../data/demo_pred.txt");
/// Smatch counts of the embedded sample: 47 matching triples of 52 predicted and 58 gold (the
/// reference tool's result, which is optimal for every pair).
pub const SAMPLE_COUNTS: (usize, usize, usize) = (47, 52, 58);

/// Scores the embedded sample, writes the result to `out/smatch.json`, and returns the row
/// (target: the F1 of [`SAMPLE_COUNTS`]).
pub fn smatch_row(out: &Path) -> crate::Result<DemoRow> {
    let started = Instant::now();
    let gold = parse_amrs(SAMPLE_GOLD)?;
    let pred = parse_amrs(SAMPLE_PRED)?;
    let config = SmatchConfig::default();
    let score = smatch_corpus(&pred, &gold, &config)?;
    let wall_s = started.elapsed().as_secs_f64();
    burnlp_core::data::write_json(
        out.join("smatch.json"),
        &score.summary(&config, wall_s),
        false,
    )?;
    let (matched, test, gold_triples) = SAMPLE_COUNTS;
    let dataset = format!("embedded sample ({} AMR pairs, test only)", gold.len());
    Ok(
        DemoRow::new(TASK, dataset, "smatch_f1", score.f1(), started)
            .with_target(compute_f(matched, test, gold_triples).2),
    )
}

/// The parser demo: split sizes, steps and seed.
#[derive(Debug, Clone, PartialEq)]
pub struct ParserDemo {
    /// Generated graphs for training (sentences may repeat).
    pub train: usize,
    /// Generated graphs for model selection, with sentences not in the training set.
    pub dev: usize,
    /// Generated graphs for the test, with sentences in neither the training nor the dev set.
    pub test: usize,
    /// Optimizer steps.
    pub steps: usize,
    /// Seed of the generated data.
    pub seed: u64,
    /// The test Smatch the row must reach.
    pub target: f64,
}

impl Default for ParserDemo {
    fn default() -> Self {
        Self {
            train: 1500,
            dev: 60,
            test: 200,
            steps: 400,
            seed: 2022,
            // Measured greedy Smatch 1.0000 (31 s, debug build with optimised dependencies)
            // with test sentences disjoint from the training ones; the former split, where 76
            // of the 200 test sentences were training sentences, also measured 1.0000. The
            // target leaves room for other seeds and hardware.
            target: 0.9,
        }
    }
}

impl ParserDemo {
    /// Trains a tiny parser (CPU) into `out/parser` and returns the row of its greedy test
    /// Smatch.
    ///
    /// # Errors
    /// [`crate::Error::SplitOverlap`] (as [`parser::ParserError::Amr`]) if a test sentence is
    /// also a training or dev sentence, and the errors of training and parsing.
    pub fn row(&self, out: &Path) -> parser::Result<DemoRow> {
        let started = Instant::now();
        let splits = demo_data::splits(self.train, self.dev, self.test, self.seed);
        check_disjoint(&splits.train, &splits.test)?;
        check_disjoint(&splits.dev, &splits.test)?;
        let generated = Path::new("generated");
        let train = examples_from_amrs(&splits.train, Task::Amr, generated)?;
        let dev = examples_from_amrs(&splits.dev, Task::Amr, generated)?;
        let test = examples_from_amrs(&splits.test, Task::Amr, generated)?;
        let options = TrainOptions {
            steps: self.steps,
            eval_every: 200,
            lr: 3e-3,
            dropout: 0.0,
            progress: false,
            ..TrainOptions::default()
        };
        let device = burnlp_core::device::cpu();
        let dir = out.join("parser");
        parser::train(
            &train,
            &dev,
            &[],
            &options,
            &dir,
            &device.clone().autodiff(),
        )?;
        let model = Parser::load(&dir, &device)?;
        let sentences: Vec<String> = test.iter().map(|e| e.sentence.clone()).collect();
        let gold: Vec<Amr> = test.iter().map(|e| e.graph.clone()).collect();
        let score = parser::score(&model.parse(&sentences, 1, 100)?, &gold)?;
        let dataset = format!(
            "generated sentences ({} train / {} dev / {} test, test sentences unseen), greedy",
            self.train, self.dev, self.test
        );
        Ok(DemoRow::new(TASK, dataset, "smatch_f1", score.f1(), started).with_target(self.target))
    }
}
