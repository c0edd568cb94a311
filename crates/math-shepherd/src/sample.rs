//! Sampling solutions of many problems (`sample`), crash-safe and resumable.
//!
//! Problems are sampled in blocks of [`SampleSettings::block`] problems; each block is one call
//! of the completer, seeded from the base seed and the index of the block's first problem
//! ([`block_seed`]), so a block's solutions do not depend on which process sampled it. The
//! solutions go block by block to the work file `.OUT.partial` beside the output, and
//! `.OUT.progress.json` (rewritten atomically after each block) records how many problems and
//! bytes are done; the output appears under its own name only when complete, and the work
//! files are then removed. With [`SampleControl::resume`] a killed run continues after its
//! last recorded block and writes the same bytes an uninterrupted run writes; without, any
//! earlier partial work is discarded.

use std::io::Write;
use std::path::{Path, PathBuf};

use burnlp_core::data::{WorkProgress, epoch_seed, resume_work, write_json};
use serde::{Deserialize, Serialize};

use crate::annotate::{ProblemRecord, SolutionRecord};
use crate::answer::{AnswerFormat, answers_equal};
use crate::complete::Completer;
use crate::error::{Error, Result};
use crate::lm::{SampleParams, final_answer};

/// What decides the sampled solutions.
#[derive(Debug, Clone)]
pub struct SampleSettings {
    /// Sampling parameters; `seed` is the base seed of every block.
    pub params: SampleParams,
    /// Problems per block (one completer call, one seed, one step of the work file).
    pub block: usize,
    /// Answer conventions of the counted accuracy.
    pub format: AnswerFormat,
}

/// How [`sample_solutions`] runs.
#[derive(Debug, Clone, Default)]
pub struct SampleControl {
    /// Continue an interrupted run of the same output.
    pub resume: bool,
    /// Everything else that decides the solutions (the completer and its settings, the
    /// problems file): a resumed run must be given the same.
    pub settings: serde_json::Value,
    /// Stop after this many blocks of this process, leaving the work files (tests; a killed
    /// run leaves the same).
    pub halt_after: Option<usize>,
}

/// What a sampling run did.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleSummary {
    /// Problems sampled so far (all of them unless halted).
    pub problems: usize,
    /// Solutions written so far.
    pub solutions: usize,
    /// Solutions whose final answer equals the gold answer.
    pub correct: usize,
    /// Whether the run stopped at [`SampleControl::halt_after`] (continue with `resume`).
    pub halted: bool,
}

/// How far a run got (`.OUT.progress.json`): the solutions of the first `problems` problems
/// fill the first `bytes` bytes of `.OUT.partial`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SampleProgress {
    problems: usize,
    bytes: u64,
    solutions: usize,
    correct: usize,
    block: usize,
    n: usize,
    max_tokens: usize,
    temperature: f64,
    top_p: f64,
    seed: u64,
    stop: Vec<String>,
    problem_ids: u64,
    settings: serde_json::Value,
}

impl WorkProgress for SampleProgress {
    fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// The seed of the block whose first problem has index `first`.
pub fn block_seed(seed: u64, first: usize) -> u64 {
    epoch_seed(seed, first as u64)
}

/// A fingerprint of the problems' ids (FNV-1a), so a resumed run is refused on other problems.
fn ids_hash(problems: &[ProblemRecord]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in problems {
        for b in p.id.bytes().chain([0xff]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// The work files of `out`: `.OUT.partial` and `.OUT.progress.json`.
pub fn work_files(out: &Path) -> (PathBuf, PathBuf) {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (
        out.with_file_name(format!(".{name}.partial")),
        out.with_file_name(format!(".{name}.progress.json")),
    )
}

/// Samples `settings.params.n` solutions of every problem with `completer` and writes them to
/// `out` (JSON lines `id`, `problem_id`, `solution`; ids `PROBLEM-j`), crash-safe and
/// resumable as the module documentation says.
pub fn sample_solutions(
    problems: &[ProblemRecord],
    completer: &dyn Completer,
    settings: &SampleSettings,
    out: &Path,
    control: &SampleControl,
) -> Result<SampleSummary> {
    let block = settings.block.max(1);
    let (partial, state_path) = work_files(out);
    let p = &settings.params;
    let fresh = SampleProgress {
        problems: 0,
        bytes: 0,
        solutions: 0,
        correct: 0,
        block,
        n: p.n,
        max_tokens: p.max_tokens,
        temperature: p.temperature,
        top_p: p.top_p,
        seed: p.seed,
        stop: p.stop.clone(),
        problem_ids: ids_hash(problems),
        settings: control.settings.clone(),
    };
    // Solutions written after the last recorded block (a kill between the two writes) go.
    let (mut state, mut file) = resume_work(
        &state_path,
        &partial,
        control.resume,
        fresh,
        |stored, fresh| {
            stored.problems <= problems.len()
                && *stored
                    == SampleProgress {
                        problems: stored.problems,
                        bytes: stored.bytes,
                        solutions: stored.solutions,
                        correct: stored.correct,
                        ..fresh.clone()
                    }
        },
        "an interrupted sampling run with other problems or settings; rerun without --resume \
         to start over",
    )?;
    if state.problems > 0 {
        tracing::info!(problems = state.problems, "resuming the sampling");
    }

    let mut blocks_done = 0;
    while state.problems < problems.len() {
        if control.halt_after.is_some_and(|n| blocks_done >= n) {
            return Ok(SampleSummary {
                problems: state.problems,
                solutions: state.solutions,
                correct: state.correct,
                halted: true,
            });
        }
        let first = state.problems;
        let chunk = &problems[first..(first + block).min(problems.len())];
        let prompts = chunk
            .iter()
            .map(|p| completer.solution_prompt(&p.question, &[]))
            .collect::<Result<Vec<_>>>()?;
        let params = SampleParams {
            seed: block_seed(p.seed, first),
            ..p.clone()
        };
        let outputs = completer.complete(&prompts, &params)?;
        let mut text = String::new();
        for (problem, samples) in chunk.iter().zip(outputs) {
            for (j, c) in samples.into_iter().enumerate() {
                state.correct += usize::from(
                    final_answer(&c.text, settings.format)
                        .is_some_and(|a| answers_equal(&a, &problem.answer, settings.format)),
                );
                let record = SolutionRecord {
                    id: format!("{}-{j}", problem.id),
                    problem_id: problem.id.clone(),
                    solution: c.text,
                };
                text.push_str(&serde_json::to_string(&record).map_err(|e| Error::Record {
                    path: out.to_owned(),
                    record: state.solutions,
                    message: e.to_string(),
                })?);
                text.push('\n');
                state.solutions += 1;
            }
        }
        // One write of an append position, then the record saying it is complete.
        file.write_all(text.as_bytes())
            .map_err(io_error(&partial))?;
        state.problems += chunk.len();
        state.bytes += text.len() as u64;
        // The solutions reach the disk before the record that counts them.
        file.sync_data().map_err(io_error(&partial))?;
        write_json(&state_path, &state, false)?;
        blocks_done += 1;
        tracing::debug!(problems = state.problems, "sampled a block");
    }
    drop(file);

    // The output under its own name, then the work files go.
    let bytes = std::fs::read(&partial).map_err(io_error(&partial))?;
    burnlp_core::data::write_atomic(out, &bytes)?;
    for path in [&state_path, &partial] {
        std::fs::remove_file(path).map_err(io_error(path))?;
    }
    Ok(SampleSummary {
        problems: state.problems,
        solutions: state.solutions,
        correct: state.correct,
        halted: false,
    })
}
