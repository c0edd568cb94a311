//! KID's evaluation (`evaluate.py`, SemEval-2007 style) with exact matching.
//!
//! - Frame accuracy given gold targets: Σ frame score / #instances, the frame score being 1 for
//!   the exact frame, else 0 — or, with [`ScoreOptions::partial_credit`] (ours: KID's distance
//!   tables were never released), `0.8^d` where `d ≤ 9` is the number of frame-relation edges
//!   between the two frames in `frRelation.xml` (all types, undirected).
//! - Arguments: a predicted span earns its gold FE's weight when a gold span of the instance has
//!   the same boundaries and the same FE (names compared with `_` = `-`); weights are 1 for
//!   `Core` FEs and 0.5 for all others (Core-Unexpressed included), read from the frame XML
//!   (the gold frame for gold FEs, the predicted frame for predicted FEs, falling back to the
//!   other frame; an FE in neither weighs 0.5 and is counted in [`Score::unknown_fes`]).
//!   P = Σ TP weight / Σ predicted weight, R = Σ TP weight / Σ gold weight; every span counts.
//! - Full structure: TP = Σ frame score + Σ FE TP weight, P over #instances + predicted weight,
//!   R over #instances + gold weight.

use std::collections::{HashMap, VecDeque};
use std::path::Path;

use serde::Serialize;

use crate::conll::Instance;
use crate::error::{FrameParseError, Result};
use crate::lexicon::{Lexicon, normalise_fe_name};

/// Scoring options.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ScoreOptions {
    /// Partial frame credit `0.8^d` over frame relations (ours, see the module docs).
    pub partial_credit: bool,
}

/// Frame identification.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FrameScore {
    /// Σ frame score / total.
    pub acc: f64,
    /// Σ frame score (a count without partial credit).
    pub correct: f64,
    /// Instances.
    pub total: usize,
}

/// Argument identification and classification.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ArgScore {
    /// Weighted precision.
    pub p: f64,
    /// Weighted recall.
    pub r: f64,
    /// Weighted F1.
    pub f1: f64,
    /// Σ weight of matched predicted spans.
    pub tp_w: f64,
    /// Σ weight of predicted spans.
    pub pred_w: f64,
    /// Σ weight of gold spans.
    pub gold_w: f64,
    /// Matched predicted spans.
    pub tp: usize,
    /// Predicted spans.
    pub pred: usize,
    /// Gold spans.
    pub gold: usize,
}

/// Full-structure P/R/F1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FullScore {
    /// Precision.
    pub p: f64,
    /// Recall.
    pub r: f64,
    /// F1.
    pub f1: f64,
}

/// The scorer's result; serialises to exactly `{"frame": …, "arg": …, "full": …}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// Frame identification.
    pub frame: FrameScore,
    /// Arguments.
    pub arg: ArgScore,
    /// Full structure.
    pub full: FullScore,
    /// FE labels (gold and predicted) whose spelling differed from the XML (`_` for `-`).
    #[serde(skip)]
    pub normalised_fes: usize,
    /// FE labels found in neither the gold nor the predicted frame (weighted 0.5).
    #[serde(skip)]
    pub unknown_fes: usize,
    /// Frames of either file that the lexicon does not define.
    #[serde(skip)]
    pub unknown_frames: usize,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    }
}

/// Checks that `pred` has the blocks of `gold`: same count, tokens and target positions.
pub fn check_aligned(
    gold: &[Instance],
    pred: &[Instance],
    gold_path: &Path,
    pred_path: &Path,
) -> Result<()> {
    let mismatch = |problem: String| FrameParseError::Mismatch {
        gold: gold_path.to_path_buf(),
        pred: pred_path.to_path_buf(),
        problem,
    };
    for (i, (g, p)) in gold.iter().zip(pred).enumerate() {
        if g.tokens != p.tokens {
            let t = g
                .tokens
                .iter()
                .zip(&p.tokens)
                .position(|(a, b)| a != b)
                .unwrap_or(g.tokens.len().min(p.tokens.len()));
            return Err(mismatch(format!(
                "block {} (gold line {}, prediction line {}): tokens differ at token {t} ({:?} vs {:?}; {} vs {} tokens)",
                i + 1,
                g.line,
                p.line,
                g.tokens.get(t),
                p.tokens.get(t),
                g.tokens.len(),
                p.tokens.len()
            )));
        }
        if g.target != p.target {
            return Err(mismatch(format!(
                "block {} (gold line {}, prediction line {}): target tokens {:?} vs {:?}",
                i + 1,
                g.line,
                p.line,
                g.target,
                p.target
            )));
        }
    }
    if gold.len() != pred.len() {
        return Err(mismatch(format!(
            "{} gold blocks, {} predicted blocks (the first unmatched is block {})",
            gold.len(),
            pred.len(),
            gold.len().min(pred.len()) + 1
        )));
    }
    Ok(())
}

/// Undirected frame-relation distances (all relation types), for partial credit.
struct FrameDistances<'a> {
    lexicon: &'a Lexicon,
    neighbours: HashMap<usize, Vec<usize>>,
}

impl<'a> FrameDistances<'a> {
    fn new(lexicon: &'a Lexicon) -> Self {
        let mut neighbours: HashMap<usize, Vec<usize>> = HashMap::new();
        for r in &lexicon.relations {
            if let (Some(a), Some(b)) =
                (lexicon.frame_by_id(r.sub_id), lexicon.frame_by_id(r.sup_id))
            {
                neighbours.entry(a).or_default().push(b);
                neighbours.entry(b).or_default().push(a);
            }
        }
        Self {
            lexicon,
            neighbours,
        }
    }

    /// Shortest distance up to `max`, or `None`.
    fn distance(&self, from: &str, to: &str, max: usize) -> Option<usize> {
        let (a, b) = (
            self.lexicon.frame_index_of(from)?,
            self.lexicon.frame_index_of(to)?,
        );
        if a == b {
            return Some(0);
        }
        let mut seen = std::collections::HashSet::from([a]);
        let mut queue = VecDeque::from([(a, 0)]);
        while let Some((node, d)) = queue.pop_front() {
            if d == max {
                continue;
            }
            for &next in self.neighbours.get(&node).map_or(&[][..], Vec::as_slice) {
                if next == b {
                    return Some(d + 1);
                }
                if seen.insert(next) {
                    queue.push_back((next, d + 1));
                }
            }
        }
        None
    }
}

/// The largest frame-relation distance that earns partial credit.
pub const MAX_PARTIAL_DISTANCE: usize = 9;

/// Scores `pred` against `gold` (which must be aligned, see [`check_aligned`]).
pub fn score(
    gold: &[Instance],
    pred: &[Instance],
    lexicon: &Lexicon,
    options: ScoreOptions,
) -> Score {
    let distances = options.partial_credit.then(|| FrameDistances::new(lexicon));
    let mut correct = 0.0;
    let (mut tp_w, mut pred_w, mut gold_w) = (0.0, 0.0, 0.0);
    let (mut tp, mut n_pred, mut n_gold) = (0, 0, 0);
    let (mut normalised, mut unknown, mut unknown_frames) = (0, 0, 0);
    // Weight of `fe` looked up in `first`, then `second`; counts spelling changes and misses.
    let mut weight = |fe: &str, first: &str, second: &str| -> f64 {
        for frame in [first, second] {
            if let Some((element, changed)) = lexicon.frame(frame).and_then(|f| f.fe(fe)) {
                if changed {
                    normalised += 1;
                }
                return element.core_type.weight();
            }
        }
        unknown += 1;
        0.5
    };
    for (g, p) in gold.iter().zip(pred) {
        for frame in [&g.frame, &p.frame] {
            if lexicon.frame(frame).is_none() {
                unknown_frames += 1;
            }
        }
        correct += if g.frame == p.frame {
            1.0
        } else if let Some(d) = distances
            .as_ref()
            .and_then(|d| d.distance(&g.frame, &p.frame, MAX_PARTIAL_DISTANCE))
        {
            0.8f64.powi(d as i32)
        } else {
            0.0
        };
        let gold_spans: HashMap<(usize, usize, String), f64> = g
            .fes
            .iter()
            .map(|s| {
                let w = weight(&s.fe, &g.frame, &p.frame);
                ((s.start, s.end, normalise_fe_name(&s.fe)), w)
            })
            .collect();
        n_gold += g.fes.len();
        gold_w += g
            .fes
            .iter()
            .map(|s| gold_spans[&(s.start, s.end, normalise_fe_name(&s.fe))])
            .sum::<f64>();
        for s in &p.fes {
            n_pred += 1;
            pred_w += weight(&s.fe, &p.frame, &g.frame);
            if let Some(w) = gold_spans.get(&(s.start, s.end, normalise_fe_name(&s.fe))) {
                tp += 1;
                tp_w += w;
            }
        }
    }
    let total = gold.len();
    let (p, r) = (ratio(tp_w, pred_w), ratio(tp_w, gold_w));
    let full_tp = correct + tp_w;
    let (fp, fr) = (
        ratio(full_tp, total as f64 + pred_w),
        ratio(full_tp, total as f64 + gold_w),
    );
    Score {
        frame: FrameScore {
            acc: ratio(correct, total as f64),
            correct,
            total,
        },
        arg: ArgScore {
            p,
            r,
            f1: f1(p, r),
            tp_w,
            pred_w,
            gold_w,
            tp,
            pred: n_pred,
            gold: n_gold,
        },
        full: FullScore {
            p: fp,
            r: fr,
            f1: f1(fp, fr),
        },
        normalised_fes: normalised,
        unknown_fes: unknown,
        unknown_frames,
    }
}
