//! The official evaluation of RAMS and WikiEvents argument extraction, as TSAR runs it: the
//! RAMS scorer (`scorer.py`) on spans, and on spans rewritten by `transfer_results_rams.py` /
//! `transfer_results_wikievent.py` (heads, coreference, role erasure).
//!
//! - An item is `(trigger span, argument span, role)`; gold and predicted items of an example
//!   are multisets (Python `Counter`s): a duplicated prediction counts twice as predicted and
//!   matches at most as many gold items as there are. `tp`, `pred` and `gold` are summed over
//!   all gold examples (micro average); an example without predictions predicts nothing.
//! - Gold roles (and roles of predictions in a gold format) are cut to the text after their last
//!   run of digits (`evt089arg01victim` → `victim`); roles of TSAR-format predictions are
//!   compared as written, as the scorer does.
//! - **Span**: exact spans. **Head**: both spans replaced by their head word: from the span's
//!   first token, follow the dependency head while it stays inside the span (a root points to
//!   itself). **Coref** (WikiEvents): a span of a gold coreference cluster with more than one
//!   distinct in-window span is replaced by the cluster's first span, for gold and predictions.
//! - **Arg-I** replaces every role with `n/a`; **Arg-C** keeps roles.
//! - P = tp / pred, R = tp / gold (the reference code prints them under swapped names).
//!
//! [`predictions`] reads the three prediction formats; [`heads`] the dependency heads.

pub mod heads;
pub mod predictions;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::data::Example;
use crate::data::ontology::scorer_role;
use crate::error::{DocEeError, Result};

pub use heads::{HeadSource, Heads, read_heads};
pub use predictions::{Item, read_predictions, write_predictions};

/// The two data sets and their scoring variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
pub enum Dataset {
    /// RAMS 1.0: span and head F1.
    Rams,
    /// WikiEvents (TSAR windows): span, head and coreference F1.
    Wikievents,
}

/// Precision, recall and F1 (fractions) with their counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Metric {
    /// tp / pred (0 without predictions).
    pub p: f64,
    /// tp / gold (0 without gold items).
    pub r: f64,
    /// Harmonic mean of p and r (0 when both are 0).
    pub f1: f64,
    /// Matched items.
    pub tp: usize,
    /// Predicted items.
    pub pred: usize,
    /// Gold items.
    pub gold: usize,
}

impl Metric {
    /// The metric of the counts.
    pub fn from_counts(tp: usize, pred: usize, gold: usize) -> Self {
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let (p, r) = (ratio(tp, pred), ratio(tp, gold));
        let f1 = if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        };
        Self {
            p,
            r,
            f1,
            tp,
            pred,
            gold,
        }
    }
}

/// The span, head and (WikiEvents) coreference variants of one setting.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Variants {
    /// Exact spans.
    pub span: Metric,
    /// Head words.
    pub head: Metric,
    /// Coreference-resolved spans (WikiEvents only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub coref: Option<Metric>,
}

/// Argument classification (roles kept) and identification (roles erased).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Arg-C.
    pub arg_c: Variants,
    /// Arg-I.
    pub arg_i: Variants,
}

/// How an item's argument span is rewritten before matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SpanRule {
    Span,
    Head,
    Coref,
}

/// The gold items of an example (roles cut as the scorer cuts them).
pub fn gold_items(example: &Example) -> Vec<Item> {
    let (tb, te) = example.trigger;
    example
        .links
        .iter()
        .map(|l| Item {
            trigger: (tb as i64, te as i64),
            argument: (l.start, l.end),
            role: scorer_role(&l.role).to_string(),
        })
        .collect()
}

/// Span → the first span of its coreference cluster (clusters with more than one distinct
/// span; a later cluster overrides an earlier one, as the reference's dictionary does).
pub fn coref_map(example: &Example) -> HashMap<(i64, i64), (i64, i64)> {
    let mut map = HashMap::new();
    for cluster in &example.coref {
        let mut distinct: Vec<(i64, i64)> = Vec::new();
        for span in cluster {
            if !distinct.contains(span) {
                distinct.push(*span);
            }
        }
        if distinct.len() > 1 {
            for span in &distinct {
                map.insert(*span, distinct[0]);
            }
        }
    }
    map
}

/// Scores `predictions` (`doc_key` → items) against `gold` (one example per `doc_key`).
pub fn score(
    dataset: Dataset,
    gold: &[Example],
    predictions: &HashMap<String, Vec<Item>>,
    heads: &HeadSource,
) -> Result<Scores> {
    let rules: &[SpanRule] = match dataset {
        Dataset::Rams => &[SpanRule::Span, SpanRule::Head],
        Dataset::Wikievents => &[SpanRule::Span, SpanRule::Head, SpanRule::Coref],
    };
    // [classification, identification] × rule → (tp, pred, gold)
    let mut counts = [[(0usize, 0usize, 0usize); 3]; 2];
    for example in gold {
        let gold_items = gold_items(example);
        let empty = Vec::new();
        let pred_items = predictions.get(&example.doc_key).unwrap_or(&empty);
        let coref = coref_map(example);
        for (r, rule) in rules.iter().enumerate() {
            for (c, erase) in [false, true].into_iter().enumerate() {
                let rewrite = |item: &Item| -> Result<Item> {
                    let argument = match rule {
                        SpanRule::Span => item.argument,
                        SpanRule::Head => {
                            let h = heads.head(example, item.argument)?;
                            (h, h)
                        }
                        SpanRule::Coref => {
                            coref.get(&item.argument).copied().unwrap_or(item.argument)
                        }
                    };
                    Ok(Item {
                        trigger: item.trigger,
                        argument,
                        role: if erase {
                            "n/a".into()
                        } else {
                            item.role.clone()
                        },
                    })
                };
                let g = gold_items
                    .iter()
                    .map(&rewrite)
                    .collect::<Result<Vec<_>>>()?;
                let p = pred_items
                    .iter()
                    .map(&rewrite)
                    .collect::<Result<Vec<_>>>()?;
                let tp = multiset_matches(&g, &p);
                let slot = &mut counts[c][r];
                slot.0 += tp;
                slot.1 += p.len();
                slot.2 += g.len();
            }
        }
    }
    let variants = |c: usize| {
        let m = |r: usize| Metric::from_counts(counts[c][r].0, counts[c][r].1, counts[c][r].2);
        Variants {
            span: m(0),
            head: m(1),
            coref: (dataset == Dataset::Wikievents).then(|| m(2)),
        }
    };
    Ok(Scores {
        arg_c: variants(0),
        arg_i: variants(1),
    })
}

/// Size of the multiset intersection of `gold` and `pred` (`sum((Counter(g) & Counter(p)).values())`).
pub fn multiset_matches(gold: &[Item], pred: &[Item]) -> usize {
    let mut available: HashMap<&Item, usize> = HashMap::new();
    for item in gold {
        *available.entry(item).or_default() += 1;
    }
    let mut tp = 0;
    for item in pred {
        if let Some(n) = available.get_mut(item).filter(|n| **n > 0) {
            *n -= 1;
            tp += 1;
        }
    }
    tp
}

/// The scores as a table for a person (percentages).
pub fn format_scores(scores: &Scores) -> String {
    let mut out = String::from("setting  variant      P      R     F1     tp   pred   gold\n");
    for (name, v) in [("Arg-C", &scores.arg_c), ("Arg-I", &scores.arg_i)] {
        let mut rows = vec![("span", v.span), ("head", v.head)];
        if let Some(c) = v.coref {
            rows.push(("coref", c));
        }
        for (variant, m) in rows {
            out.push_str(&format!(
                "{name:<8} {variant:<8} {:>6.2} {:>6.2} {:>6.2} {:>6} {:>6} {:>6}\n",
                100.0 * m.p,
                100.0 * m.r,
                100.0 * m.f1,
                m.tp,
                m.pred,
                m.gold
            ));
        }
    }
    out
}

/// Gold examples keyed by `doc_key` (a repeated key is an error).
pub fn index_gold(gold: &[Example]) -> Result<HashMap<&str, &Example>> {
    let mut map = HashMap::new();
    for ex in gold {
        if map.insert(ex.doc_key.as_str(), ex).is_some() {
            return Err(DocEeError::invalid(
                "the gold examples",
                format!("doc_key `{}` appears twice", ex.doc_key),
            ));
        }
    }
    Ok(map)
}
