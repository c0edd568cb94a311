//! Scoring a corpus: a [`BatchScorer`] (Model 1, margin, or none) plus optional rerank rules,
//! streamed in batches (rayon inside a batch) so memory does not grow with the corpus.

use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;

use crate::corpus::{CorpusReader, Pair, TextWriter, format_score};
use crate::error::Result;
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
    mut rerank_with: Option<Rerank<'_>>,
    batch: usize,
    progress: &indicatif::ProgressBar,
) -> Result<ScoreSummary> {
    let started = Instant::now();
    let mut reader = CorpusReader::open(input)?;
    let mut writer = TextWriter::create(output)?;
    loop {
        let pairs = reader.next_batch(batch.max(1))?;
        if pairs.is_empty() {
            break;
        }
        for score in score_chunk(&pairs, scorer, rerank_with.as_mut())? {
            writer.line(&format_score(score))?;
        }
        progress.inc(pairs.len() as u64);
        let seconds = started.elapsed().as_secs_f64().max(1e-9);
        progress.set_message(format!("{:.0} lines/s", writer.lines() as f64 / seconds));
    }
    let lines = writer.finish()?;
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
