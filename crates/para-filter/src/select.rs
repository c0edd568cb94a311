//! The organisers' subsampling rule: take sentence pairs by descending score until the budget
//! of English words is reached.
//!
//! Reconstructed from the WMT filtering tasks' `subsample.perl` as it circulates (the 2020
//! version itself was not found): English words are the fields of Perl's `split(/ /, $e)`
//! (single spaces; trailing empty fields dropped, so `"a  b"` has 3 and `""` has 0). Words are
//! summed per distinct score in descending order; the *cut-off* is the first score at which the
//! running total exceeds the budget (the lowest score when it never does). Every pair scoring
//! above the cut-off is selected; pairs scoring exactly the cut-off are taken in line order
//! while the words already taken at the cut-off do not exceed what was left of the budget —
//! so the pair that crosses the budget is included, and the first pair at the cut-off always
//! is (even when the budget was met exactly by the higher scores).

use serde::{Deserialize, Serialize};

use crate::error::{ParaFilterError, Result};

/// English words of a sentence as the organisers' script counts them.
pub fn english_words(en: &str) -> usize {
    let mut fields: Vec<&str> = en.split(' ').collect();
    while fields.last().is_some_and(|f| f.is_empty()) {
        fields.pop();
    }
    fields.len()
}

/// The result of a selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// Whether each line is selected, in corpus order.
    pub selected: Vec<bool>,
    /// English words selected.
    pub words: usize,
    /// The cut-off score (`None` for an empty corpus).
    pub cutoff: Option<f64>,
}

impl Selection {
    /// Number of selected lines.
    pub fn lines(&self) -> usize {
        self.selected.iter().filter(|s| **s).count()
    }
}

/// Applies the rule to per-line scores and English word counts.
pub fn select(scores: &[f64], words: &[usize], budget: usize) -> Result<Selection> {
    if scores.len() != words.len() {
        return Err(ParaFilterError::invalid(
            "selection",
            format!("{} scores for {} lines", scores.len(), words.len()),
        ));
    }
    if let Some(line) = scores.iter().position(|s| !s.is_finite()) {
        return Err(ParaFilterError::invalid(
            format!("score of line {}", line + 1),
            "not a finite number",
        ));
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    // Group by distinct score, descending; find the cut-off and the words left for it.
    let mut cutoff = None;
    let mut left_at_cutoff = 0usize;
    let mut above = 0usize;
    let mut start = 0;
    while start < order.len() {
        let score = scores[order[start]];
        let end = start
            + order[start..]
                .iter()
                .take_while(|&&i| scores[i] == score)
                .count();
        let group: usize = order[start..end].iter().map(|&i| words[i]).sum();
        cutoff = Some(score);
        if above + group > budget {
            left_at_cutoff = budget - above;
            break;
        }
        above += group;
        left_at_cutoff = group;
        start = end;
    }
    let mut selected = vec![false; scores.len()];
    let mut taken_at_cutoff: Option<usize> = None;
    let mut total = 0;
    if let Some(cut) = cutoff {
        for (line, &score) in scores.iter().enumerate() {
            if score < cut {
                continue;
            }
            if score == cut {
                if taken_at_cutoff.is_some_and(|t| t > left_at_cutoff) {
                    continue;
                }
                *taken_at_cutoff.get_or_insert(0) += words[line];
            }
            selected[line] = true;
            total += words[line];
        }
    }
    Ok(Selection {
        selected,
        words: total,
        cutoff,
    })
}
