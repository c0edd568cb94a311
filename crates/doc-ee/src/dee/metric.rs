//! The Doc2EDAG record-level metric (`dee_metric.py` of dolphin-zs/Doc2EDAG, copied into
//! RunxinXu/GIT and IPGPF), arguments compared as span text.
//!
//! Per document and event type (`agg_event_role_tpfpfn_stats`):
//! 1. predicted records are sorted by their count of non-null arguments, descending (stable:
//!    ties keep the prediction order);
//! 2. each in turn is matched to the remaining gold record with the most equal arguments —
//!    **a role null in both counts as equal** (Python's `None == None`; spec A.3 leaves this
//!    out) — ties to the first remaining gold record;
//! 3. per role of a matched pair: TP if both are the same span; FP and FN if both are filled
//!    but differ; FP if only the prediction is filled; FN if only the gold is;
//! 4. unmatched predicted records count all their arguments FP, unmatched gold records all
//!    theirs FN; a type predicted but absent from gold counts its arguments FP.
//!
//! `measure_event_table_filling`: micro P/R/F1 from TP/FP/FN summed over roles (per type) and
//! over types (overall); macro per type = the mean over its roles of each role's P, R and F1;
//! overall macro = the mean of the per-type macro values over all event types of the schema.
//! Single- / multi-event documents: `DEEFeature.is_multi_event` (more than one gold record with
//! an argument; documents without any gold record count as single).
//!
//! Gold records without any argument are dropped first, as Doc2EDAG's feature converter
//! does. A gold document without a prediction predicts no records; predicted documents that
//! are not in gold are ignored (and counted).

use std::collections::HashMap;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::format::Document;
use super::schema::DatasetSchema;

/// True positives, false positives and false negatives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Matching arguments.
    pub tp: usize,
    /// Predicted arguments that are wrong or extra.
    pub fp: usize,
    /// Gold arguments missed or filled wrongly.
    pub fn_: usize,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Self) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.fn_ += o.fn_;
    }
}

/// `get_prec_recall_f1`: p = tp/(tp+fp), r = tp/(tp+fn) (0 on empty denominators),
/// f1 = 2/(1/p + 1/r) when both are positive, else 0.
pub fn prf(c: Counts) -> (f64, f64, f64) {
    let a = c.tp + c.fp;
    let p = if a > 0 { c.tp as f64 / a as f64 } else { 0.0 };
    let b = c.tp + c.fn_;
    let r = if b > 0 { c.tp as f64 / b as f64 } else { 0.0 };
    let f1 = if p > 0.0 && r > 0.0 {
        2.0 / (1.0 / p + 1.0 / r)
    } else {
        0.0
    };
    (p, r, f1)
}

/// Records of one event type as argument lists in role order.
pub type Records<'a> = Vec<Vec<Option<&'a str>>>;

/// Per-role counts of one document and event type (`agg_event_role_tpfpfn_stats`).
pub fn match_records(pred: &Records<'_>, gold: &Records<'_>, num_roles: usize) -> Vec<Counts> {
    let mut stats = vec![Counts::default(); num_roles];
    let mut preds: Vec<&Vec<Option<&str>>> = pred.iter().collect();
    // Stable sort: equal counts keep the prediction order (Python's `sorted`).
    preds.sort_by_key(|r| std::cmp::Reverse(r.iter().filter(|a| a.is_some()).count()));
    let mut golds: Vec<&Vec<Option<&str>>> = gold.iter().collect();
    let mut unmatched_preds = Vec::new();
    for p in preds {
        if golds.is_empty() {
            unmatched_preds.push(p);
            continue;
        }
        // Most equal arguments (null == null counts), first maximum wins (Python's `max`).
        let mut best = 0;
        let mut best_score = None;
        for (i, g) in golds.iter().enumerate() {
            let score = p.iter().zip(g.iter()).filter(|(a, b)| a == b).count();
            if best_score.is_none_or(|s| score > s) {
                best = i;
                best_score = Some(score);
            }
        }
        let g = golds.remove(best);
        for (role, (pa, ga)) in p.iter().zip(g.iter()).enumerate() {
            let s = &mut stats[role];
            match (pa, ga) {
                (Some(_), None) => s.fp += 1,
                (None, Some(_)) => s.fn_ += 1,
                (Some(x), Some(y)) if x == y => s.tp += 1,
                (Some(_), Some(_)) => {
                    s.fp += 1;
                    s.fn_ += 1;
                }
                (None, None) => {}
            }
        }
    }
    for p in unmatched_preds {
        for (role, a) in p.iter().enumerate() {
            if a.is_some() {
                stats[role].fp += 1;
            }
        }
    }
    for g in golds {
        for (role, a) in g.iter().enumerate() {
            if a.is_some() {
                stats[role].fn_ += 1;
            }
        }
    }
    stats
}

/// Micro scores with counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Micro {
    /// Precision (fraction).
    pub p: f64,
    /// Recall (fraction).
    pub r: f64,
    /// F1 (fraction).
    pub f1: f64,
    /// True positives.
    pub tp: usize,
    /// False positives.
    pub fp: usize,
    /// False negatives.
    #[serde(rename = "fn")]
    pub fn_: usize,
}

impl Micro {
    fn of(c: Counts) -> Self {
        let (p, r, f1) = prf(c);
        Self {
            p,
            r,
            f1,
            tp: c.tp,
            fp: c.fp,
            fn_: c.fn_,
        }
    }
}

/// Macro-averaged precision, recall and F1 (each averaged on its own).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Macro {
    /// Precision (fraction).
    pub p: f64,
    /// Recall (fraction).
    pub r: f64,
    /// F1 (fraction).
    pub f1: f64,
}

/// Micro and macro scores of one slice (overall, one event type, single or multi).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Slice {
    /// Micro scores.
    pub micro: Micro,
    /// Macro scores.
    #[serde(rename = "macro")]
    pub macro_: Macro,
}

/// Per-type scores in schema order (serialised as an object keyed by type).
#[derive(Debug, Clone, PartialEq)]
pub struct PerType(pub Vec<(String, Slice)>);

impl Serialize for PerType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Everything `doc-ee score --dataset chfinann` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeeScores {
    /// Overall micro scores.
    pub micro: Micro,
    /// Overall macro scores.
    #[serde(rename = "macro")]
    pub macro_: Macro,
    /// Per event type, in schema order.
    pub per_type: PerType,
    /// Documents with at most one gold record.
    pub single: Slice,
    /// Documents with more than one gold record.
    pub multi: Slice,
}

/// Counts per event type and role.
type Table = Vec<Vec<Counts>>;

fn empty_table(schema: &DatasetSchema) -> Table {
    schema
        .events
        .iter()
        .map(|e| vec![Counts::default(); e.roles.len()])
        .collect()
}

/// `measure_event_table_filling` over accumulated counts: (overall, per type).
fn measure(schema: &DatasetSchema, table: &Table) -> (Slice, Vec<Slice>) {
    let mut total = Counts::default();
    let mut macro_sum = Macro::default();
    let mut per_type = Vec::new();
    for roles in table {
        let mut event = Counts::default();
        let mut m = Macro::default();
        for &c in roles {
            event += c;
            let (p, r, f1) = prf(c);
            m.p += p;
            m.r += r;
            m.f1 += f1;
        }
        let n = roles.len().max(1) as f64;
        let m = Macro {
            p: m.p / n,
            r: m.r / n,
            f1: m.f1 / n,
        };
        macro_sum.p += m.p;
        macro_sum.r += m.r;
        macro_sum.f1 += m.f1;
        total += event;
        per_type.push(Slice {
            micro: Micro::of(event),
            macro_: m,
        });
    }
    let n = schema.events.len().max(1) as f64;
    let overall = Slice {
        micro: Micro::of(total),
        macro_: Macro {
            p: macro_sum.p / n,
            r: macro_sum.r / n,
            f1: macro_sum.f1 / n,
        },
    };
    (overall, per_type)
}

fn records_by_type<'a>(
    schema: &DatasetSchema,
    doc: Option<&'a Document>,
    drop_empty: bool,
) -> Vec<Records<'a>> {
    let mut out: Vec<Records<'a>> = vec![Vec::new(); schema.events.len()];
    if let Some(doc) = doc {
        for rec in &doc.records {
            if let Some((i, event)) = schema.event(&rec.event_type) {
                let args = rec.in_role_order(event.roles);
                if drop_empty && args.iter().all(Option::is_none) {
                    continue;
                }
                out[i].push(args);
            }
        }
    }
    out
}

/// Notes on how predictions lined up with gold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Alignment {
    /// Predicted documents whose guid is not in gold (ignored).
    pub ignored_predictions: usize,
    /// Gold documents without a prediction (scored as predicting no records).
    pub missing_predictions: usize,
}

/// Scores `pred` against `gold` (documents matched by guid; records of event types outside
/// the schema are skipped — validate first to reject them).
pub fn score(
    schema: &DatasetSchema,
    gold: &[Document],
    pred: &[Document],
) -> (DeeScores, Alignment) {
    let by_guid: HashMap<&str, &Document> = pred.iter().map(|d| (d.guid.as_str(), d)).collect();
    let gold_guids: std::collections::HashSet<&str> =
        gold.iter().map(|d| d.guid.as_str()).collect();
    let mut align = Alignment {
        ignored_predictions: pred
            .iter()
            .filter(|d| !gold_guids.contains(d.guid.as_str()))
            .count(),
        missing_predictions: 0,
    };
    let mut all = empty_table(schema);
    let mut single = empty_table(schema);
    let mut multi = empty_table(schema);
    for g in gold {
        let p = by_guid.get(g.guid.as_str()).copied();
        if p.is_none() {
            align.missing_predictions += 1;
        }
        let gold_recs = records_by_type(schema, Some(g), true);
        let pred_recs = records_by_type(schema, p, false);
        let is_multi = gold_recs.iter().map(Vec::len).sum::<usize>() > 1;
        for (t, event) in schema.events.iter().enumerate() {
            let stats = match_records(&pred_recs[t], &gold_recs[t], event.roles.len());
            for (role, c) in stats.into_iter().enumerate() {
                all[t][role] += c;
                if is_multi {
                    multi[t][role] += c;
                } else {
                    single[t][role] += c;
                }
            }
        }
    }
    let (overall, per_type) = measure(schema, &all);
    let scores = DeeScores {
        micro: overall.micro,
        macro_: overall.macro_,
        per_type: PerType(
            schema
                .events
                .iter()
                .zip(per_type)
                .map(|(e, s)| (e.name.to_string(), s))
                .collect(),
        ),
        single: measure(schema, &single).0,
        multi: measure(schema, &multi).0,
    };
    (scores, align)
}

/// A plain-text table of the scores (percentages).
pub fn format_scores(s: &DeeScores) -> String {
    let mut out = String::new();
    let row = |out: &mut String, name: &str, sl: &Slice| {
        out.push_str(&format!(
            "{name:<20} {:>6.2} {:>6.2} {:>6.2} {:>7} {:>7} {:>7}   {:>6.2} {:>6.2} {:>6.2}\n",
            100.0 * sl.micro.p,
            100.0 * sl.micro.r,
            100.0 * sl.micro.f1,
            sl.micro.tp,
            sl.micro.fp,
            sl.micro.fn_,
            100.0 * sl.macro_.p,
            100.0 * sl.macro_.r,
            100.0 * sl.macro_.f1,
        ));
    };
    out.push_str(&format!(
        "{:<20} {:>6} {:>6} {:>6} {:>7} {:>7} {:>7}   {:>6} {:>6} {:>6}\n",
        "slice", "P", "R", "F1", "TP", "FP", "FN", "macroP", "macroR", "macroF"
    ));
    for (name, sl) in &s.per_type.0 {
        row(&mut out, name, sl);
    }
    row(&mut out, "single-event docs", &s.single);
    row(&mut out, "multi-event docs", &s.multi);
    row(
        &mut out,
        "overall",
        &Slice {
            micro: s.micro,
            macro_: s.macro_,
        },
    );
    out
}
