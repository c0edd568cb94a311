//! Scoring a corpus: a [`BatchScorer`] (Model 1, margin, or none) plus optional rerank rules,
//! streamed in batches (rayon inside a batch) so memory does not grow with the corpus.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use burnlp_core::data::{WorkProgress, resume_work, write_json};
use serde::{Deserialize, Serialize};

use rayon::prelude::*;

use crate::corpus::{CorpusReader, Pair, TextWriter, format_score};
use crate::error::{ParaFilterError, Result};
use crate::ibm1::Ibm1Model;
use crate::margin::MarginScorer;
use crate::rules::{Rule, RuleSet, rerank};

/// Something that scores sentence pairs a batch at a time (higher = better).
pub trait BatchScorer: Sync {
    /// Scores of the pairs, in order.
    fn score_batch(&self, pairs: &[Pair]) -> Result<Vec<f64>>;
}

impl BatchScorer for Ibm1Model {
    fn score_batch(&self, pairs: &[Pair]) -> Result<Vec<f64>> {
        Ok(pairs.par_iter().map(|p| self.score(p).total()).collect())
    }
}

impl BatchScorer for MarginScorer {
    fn score_batch(&self, pairs: &[Pair]) -> Result<Vec<f64>> {
        MarginScorer::score_batch(self, pairs)
    }
}

/// The scorer that gives every pair 0 (rules alone then decide).
#[derive(Debug, Clone, Copy, Default)]
pub struct Constant;

impl BatchScorer for Constant {
    fn score_batch(&self, pairs: &[Pair]) -> Result<Vec<f64>> {
        Ok(vec![0.0; pairs.len()])
    }
}

/// Rules applied on top of a scorer: each broken rule subtracts `penalty`.
pub struct Rerank<'a> {
    /// The rules (their state holds the pairs seen, for duplicates).
    pub rules: &'a mut RuleSet,
    /// Subtracted per broken rule.
    pub penalty: f64,
}

/// Scores one batch: the scorer, then the rules (stateless ones in parallel, duplicates in
/// order).
pub fn score_chunk(
    pairs: &[Pair],
    scorer: &dyn BatchScorer,
    rerank_with: Option<&mut Rerank<'_>>,
) -> Result<Vec<f64>> {
    let mut scores = scorer.score_batch(pairs)?;
    if let Some(rr) = rerank_with {
        let hits: Vec<_> = {
            let rules: &RuleSet = rr.rules;
            pairs.par_iter().map(|p| rules.check_stateless(p)).collect()
        };
        for ((score, pair), hit) in scores.iter_mut().zip(pairs).zip(hits) {
            let hit = rr.rules.finish(pair, hit);
            *score = rerank(*score, hit, rr.penalty);
        }
    }
    Ok(scores)
}

/// Scores pairs held in memory, in batches of `batch`.
pub fn score_pairs(
    pairs: &[Pair],
    scorer: &dyn BatchScorer,
    mut rerank_with: Option<Rerank<'_>>,
    batch: usize,
) -> Result<Vec<f64>> {
    let mut out = Vec::with_capacity(pairs.len());
    for chunk in pairs.chunks(batch.max(1)) {
        out.extend(score_chunk(chunk, scorer, rerank_with.as_mut())?);
    }
    Ok(out)
}

/// What a streamed scoring run did.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreSummary {
    /// Lines scored.
    pub lines: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// How often each rule fired (empty without rules).
    pub rule_counts: Vec<(Rule, usize)>,
}

/// Streams a corpus file through a scorer, writing one score per line to `output`.
pub fn score_file(
    input: &Path,
    output: &Path,
    scorer: &dyn BatchScorer,
    rerank_with: Option<Rerank<'_>>,
    batch: usize,
    progress: &indicatif::ProgressBar,
) -> Result<ScoreSummary> {
    let resume = ScoreResume {
        resume: false,
        settings: serde_json::Value::Null,
    };
    score_file_with(input, output, scorer, rerank_with, batch, progress, &resume)
}

/// Whether [`score_file_with`] continues an interrupted run, and the settings that must match.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreResume {
    /// Continue from the last batch an earlier (killed) run of the same output recorded.
    pub resume: bool,
    /// Everything besides the input, the output and the batch size that decides the scores
    /// (the scorer, its runs, the rules): a resumed run must be given the same.
    pub settings: serde_json::Value,
}

/// How far a scoring run got (`.OUT.progress.json` beside the output): the scores of the first
/// `lines` lines fill the first `bytes` bytes of `.OUT.partial`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ScoreProgress {
    lines: usize,
    bytes: u64,
    batch: usize,
    input: PathBuf,
    input_bytes: u64,
    settings: serde_json::Value,
}

impl WorkProgress for ScoreProgress {
    fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// [`score_file`], crash-safe: the scores go to `.OUT.partial` batch by batch, with
/// `.OUT.progress.json` (rewritten atomically after each batch) saying how many lines are
/// done; the output appears under its own name only when complete. With
/// [`ScoreResume::resume`] a killed run continues after its last recorded batch (the rules'
/// state replayed over the lines already scored, batches cut where the first run cut them), so
/// the output equals an uninterrupted run's; without, any earlier partial work is discarded.
pub fn score_file_with(
    input: &Path,
    output: &Path,
    scorer: &dyn BatchScorer,
    mut rerank_with: Option<Rerank<'_>>,
    batch: usize,
    progress: &indicatif::ProgressBar,
    resume: &ScoreResume,
) -> Result<ScoreSummary> {
    let started = Instant::now();
    let batch = batch.max(1);
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let partial = output.with_file_name(format!(".{name}.partial"));
    let state_path = output.with_file_name(format!(".{name}.progress.json"));
    let input_bytes = std::fs::metadata(input)
        .map_err(|source| ParaFilterError::Read {
            path: input.to_owned(),
            source,
        })?
        .len();
    let fresh = ScoreProgress {
        lines: 0,
        bytes: 0,
        batch,
        input: input.to_owned(),
        input_bytes,
        settings: resume.settings.clone(),
    };
    // Scores written after the last recorded batch (a kill between the two writes) go.
    let (mut state, file) = resume_work(
        &state_path,
        &partial,
        resume.resume,
        fresh,
        |stored: &ScoreProgress, fresh| {
            *stored
                == ScoreProgress {
                    lines: stored.lines,
                    bytes: stored.bytes,
                    ..fresh.clone()
                }
        },
        "an interrupted scoring run with another input, batch size or scorer; rerun without \
         --resume to start over",
    )?;
    let write_error = |path: &Path| {
        let path = path.to_owned();
        move |source| ParaFilterError::Write { path, source }
    };
    let mut file = std::io::BufWriter::new(file);

    let mut reader = CorpusReader::open(input)?;
    if state.lines > 0 {
        tracing::info!(lines = state.lines, "resuming the scoring");
        // The lines already scored: read past them, replaying the rules' state (duplicates).
        let mut left = state.lines;
        while left > 0 {
            let pairs = reader.next_batch(left.min(batch))?;
            if pairs.is_empty() {
                return Err(ParaFilterError::invalid(
                    format!("`{}`", state_path.display()),
                    format!("records {} lines scored, the input has fewer", state.lines),
                ));
            }
            if let Some(rr) = rerank_with.as_mut() {
                for pair in &pairs {
                    let hits = rr.rules.check_stateless(pair);
                    rr.rules.finish(pair, hits);
                }
            }
            left -= pairs.len();
        }
        progress.inc(state.lines as u64);
    }
    loop {
        let pairs = reader.next_batch(batch)?;
        if pairs.is_empty() {
            break;
        }
        let mut text = String::new();
        for score in score_chunk(&pairs, scorer, rerank_with.as_mut())? {
            text.push_str(&format_score(score));
            text.push('\n');
        }
        file.write_all(text.as_bytes())
            .and_then(|()| file.flush())
            .map_err(write_error(&partial))?;
        state.lines += pairs.len();
        state.bytes += text.len() as u64;
        write_json(&state_path, &state, false)?;
        progress.inc(pairs.len() as u64);
        let seconds = started.elapsed().as_secs_f64().max(1e-9);
        progress.set_message(format!("{:.0} lines/s", state.lines as f64 / seconds));
    }
    drop(file);

    // The output under its own name (compressed as its extension says), then the work files go.
    let mut writer = TextWriter::create(output)?;
    let read_error = |source| ParaFilterError::Read {
        path: partial.clone(),
        source,
    };
    let scores = std::io::BufReader::new(std::fs::File::open(&partial).map_err(read_error)?);
    for line in scores.lines() {
        writer.line(&line.map_err(read_error)?)?;
    }
    let lines = writer.finish()?;
    for path in [&state_path, &partial] {
        std::fs::remove_file(path).map_err(write_error(path))?;
    }
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(
        lines,
        seconds,
        lines_per_s = lines as f64 / seconds.max(1e-9),
        "scored corpus"
    );
    Ok(ScoreSummary {
        lines,
        seconds,
        rule_counts: rerank_with.map(|r| r.rules.counts().0).unwrap_or_default(),
    })
}
