//! Prediction files, one JSON object per line, in any of three formats detected per line:
//!
//! - TSAR's: `{"doc_key", "predictions": [[[ts, te], [s, e, role, score], …]]}` (an empty
//!   `predictions` list predicts nothing); roles compared as written;
//! - the gold layout: `{"doc_key", "gold_evt_links": [[[ts, te], [s, e], role], …]}` (RAMS, or
//!   a WikiEvents window); roles cut like gold roles;
//! - a WikiEvents document (`doc_id`, `tokens`, `sentences`, `entity_mentions`,
//!   `event_mentions`): event mention `i` answers gold mention `i`, i.e. the window example
//!   `{doc_id}-{i}`; its spans are shifted by that window's offset (arguments outside the window
//!   are kept: they can only match gold arguments outside it).
//!
//! A prediction for an unknown `doc_key`, a `doc_key` predicted twice, a span outside its
//! example (its document for the document format), or a malformed line is an error naming the
//! line.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::index_gold;
use crate::data::ontology::scorer_role;
use crate::data::wikievents::WikiDocument;
use crate::data::{Example, read_json_lines};
use crate::error::{DocEeError, Result};

/// One scored item: trigger span, argument span (inclusive) and role.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Item {
    /// Trigger span.
    pub trigger: (i64, i64),
    /// Argument span.
    pub argument: (i64, i64),
    /// Role.
    pub role: String,
}

#[derive(Deserialize)]
struct TsarLine {
    doc_key: String,
    predictions: Vec<Vec<serde_json::Value>>,
}

#[derive(Deserialize)]
struct GoldLine {
    doc_key: String,
    gold_evt_links: Vec<crate::data::rams::GoldLink>,
}

/// Reads a prediction file against the gold examples: `doc_key` → predicted items.
pub fn read_predictions(path: &Path, gold: &[Example]) -> Result<HashMap<String, Vec<Item>>> {
    let index = index_gold(gold)?;
    let mut out: HashMap<String, Vec<Item>> = HashMap::new();
    let mut lines_of: HashMap<String, usize> = HashMap::new();
    for (line, value) in read_json_lines::<serde_json::Value>(path)? {
        let problem = |p: String| DocEeError::line(path, line, p);
        let from_document = value.get("event_mentions").is_some()
            && value.get("predictions").is_none()
            && value.get("gold_evt_links").is_none();
        let parsed: Vec<(String, Vec<Item>)> = if value.get("predictions").is_some() {
            let record: TsarLine =
                serde_json::from_value(value).map_err(|e| problem(e.to_string()))?;
            vec![(
                record.doc_key.clone(),
                tsar_items(&record).map_err(&problem)?,
            )]
        } else if value.get("gold_evt_links").is_some() {
            let record: GoldLine =
                serde_json::from_value(value).map_err(|e| problem(e.to_string()))?;
            let items = record
                .gold_evt_links
                .into_iter()
                .map(|(t, a, role)| Item {
                    trigger: t,
                    argument: a,
                    role: scorer_role(&role).to_string(),
                })
                .collect();
            vec![(record.doc_key, items)]
        } else if value.get("event_mentions").is_some() {
            let doc: WikiDocument =
                serde_json::from_value(value).map_err(|e| problem(e.to_string()))?;
            document_items(&doc, &index).map_err(&problem)?
        } else {
            return Err(problem(
                "neither `predictions`, `gold_evt_links` nor `event_mentions`: not a prediction"
                    .into(),
            ));
        };
        for (doc_key, items) in parsed {
            let Some(example) = index.get(doc_key.as_str()) else {
                return Err(problem(format!("unknown doc_key `{doc_key}`")));
            };
            if let Some(first) = lines_of.insert(doc_key.clone(), line) {
                return Err(problem(format!(
                    "doc_key `{doc_key}` was already predicted on line {first}"
                )));
            }
            for item in items.iter().filter(|_| !from_document) {
                for (what, (s, e)) in [("trigger", item.trigger), ("argument", item.argument)] {
                    if !example.contains(s, e) {
                        return Err(problem(format!(
                            "{what} span [{s}, {e}] outside the {} tokens of `{doc_key}`",
                            example.len()
                        )));
                    }
                }
            }
            out.insert(doc_key, items);
        }
    }
    Ok(out)
}

fn tsar_items(record: &TsarLine) -> std::result::Result<Vec<Item>, String> {
    let Some(event) = record.predictions.first() else {
        return Ok(Vec::new());
    };
    if record.predictions.len() > 1 {
        return Err(format!(
            "{} predicted events; each example has one",
            record.predictions.len()
        ));
    }
    let Some((trigger, arguments)) = event.split_first() else {
        return Err("a predicted event without its trigger span".into());
    };
    let trigger: (i64, i64) =
        serde_json::from_value(trigger.clone()).map_err(|e| format!("trigger span: {e}"))?;
    arguments
        .iter()
        .map(|a| {
            let (s, e, role, _score): (i64, i64, String, f64) = serde_json::from_value(a.clone())
                .map_err(|err| {
                format!("argument `{a}`: {err} (expected [start, end, role, score])")
            })?;
            Ok(Item {
                trigger,
                argument: (s, e),
                role,
            })
        })
        .collect()
}

/// The items of a predicted WikiEvents document, keyed by the window examples of its mentions.
fn document_items(
    doc: &WikiDocument,
    index: &HashMap<&str, &Example>,
) -> std::result::Result<Vec<(String, Vec<Item>)>, String> {
    let entities: HashMap<&str, (i64, i64)> = doc
        .entity_mentions
        .iter()
        .map(|e| (e.id.as_str(), (e.start as i64, e.end as i64 - 1)))
        .collect();
    let n = doc.tokens.len() as i64;
    let mut out = Vec::new();
    for (i, event) in doc.event_mentions.iter().enumerate() {
        let key = format!("{}-{i}", doc.doc_id);
        let Some(example) = index.get(key.as_str()) else {
            return Err(format!(
                "event mention {i} of `{}`: no gold example `{key}`",
                doc.doc_id
            ));
        };
        let offset = example.offset as i64;
        let t = &event.trigger;
        let (tb, te) = (t.start as i64, t.end as i64 - 1);
        if tb < 0 || te < tb || te >= n {
            return Err(format!("event mention {i}: trigger outside the document"));
        }
        let mut items = Vec::new();
        for a in &event.arguments {
            let &(s, e) = entities
                .get(a.entity_id.as_str())
                .ok_or_else(|| format!("event mention {i}: unknown entity `{}`", a.entity_id))?;
            if s < 0 || e < s || e >= n {
                return Err(format!("entity `{}` outside the document", a.entity_id));
            }
            items.push(Item {
                trigger: (tb - offset, te - offset),
                argument: (s - offset, e - offset),
                role: scorer_role(&a.role).to_string(),
            });
        }
        out.push((key, items));
    }
    Ok(out)
}

/// Writes predictions in TSAR's format, one line per example in the order of `examples`
/// (`predictions[doc_key]` = `(start, end, role)` word spans).
pub fn write_predictions(
    path: &Path,
    examples: &[Example],
    predictions: &HashMap<String, Vec<(usize, usize, String)>>,
) -> Result<()> {
    let lines: Vec<serde_json::Value> = examples
        .iter()
        .map(|ex| {
            let (tb, te) = ex.trigger;
            let mut event = vec![serde_json::json!([tb, te])];
            for (s, e, role) in predictions.get(&ex.doc_key).into_iter().flatten() {
                event.push(serde_json::json!([s, e, role, 1.0]));
            }
            serde_json::json!({"doc_key": ex.doc_key, "predictions": [event]})
        })
        .collect();
    burnlp_core::data::write_jsonl(path, &lines)?;
    Ok(())
}
