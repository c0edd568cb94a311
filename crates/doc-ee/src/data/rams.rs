//! RAMS 1.0 JSON Lines: `doc_key`, `sentences`, exactly one `evt_triggers` entry and its
//! `gold_evt_links` (inclusive document-level token spans).

use std::path::Path;

use serde::Deserialize;

use super::{Example, Link, read_json_lines};
use crate::error::{DocEeError, Result};

/// `[start, end, [[event_type, score], …]]`.
type Trigger = (usize, usize, Vec<(String, f64)>);
/// `[[trigger start, end], [argument start, end], role]`.
pub type GoldLink = ((i64, i64), (i64, i64), String);

/// The fields of a RAMS line the task uses (others, such as `ent_spans`, are ignored).
#[derive(Debug, Deserialize)]
struct RamsLine {
    doc_key: String,
    sentences: Vec<Vec<String>>,
    evt_triggers: Vec<Trigger>,
    #[serde(default)]
    gold_evt_links: Vec<GoldLink>,
}

/// Reads a RAMS file: one [`Example`] per line. A line without exactly one trigger, a trigger
/// or argument outside the document, a link whose trigger differs from the line's trigger, or
/// a repeated `doc_key` is an error naming the line.
pub fn read_rams(path: &Path) -> Result<Vec<Example>> {
    let mut seen = std::collections::HashMap::new();
    read_json_lines::<RamsLine>(path)?
        .into_iter()
        .map(|(line, record)| {
            let problem = |p: String| DocEeError::line(path, line, p);
            if let Some(first) = seen.insert(record.doc_key.clone(), line) {
                return Err(problem(format!(
                    "doc_key `{}` already used on line {first}",
                    record.doc_key
                )));
            }
            let example = rams_example(record).map_err(problem)?;
            Ok(example)
        })
        .collect()
}

fn rams_example(record: RamsLine) -> std::result::Result<Example, String> {
    let [(tb, te, types)] = record.evt_triggers.as_slice() else {
        return Err(format!(
            "{} event triggers, RAMS has exactly one per document",
            record.evt_triggers.len()
        ));
    };
    let event_type = types
        .first()
        .map(|(t, _)| t.clone())
        .ok_or("the trigger has no event type")?;
    let mut example = Example {
        doc_key: record.doc_key,
        sentences: record.sentences,
        trigger: (*tb, *te),
        event_type,
        links: Vec::new(),
        coref: Vec::new(),
        offset: 0,
    };
    if !example.contains(*tb as i64, *te as i64) {
        return Err(format!(
            "trigger [{tb}, {te}] outside the document's {} tokens",
            example.len()
        ));
    }
    for ((ls, le), (s, e), role) in record.gold_evt_links {
        if (ls, le) != (*tb as i64, *te as i64) {
            return Err(format!(
                "link [{ls}, {le}] → [{s}, {e}] `{role}` does not start at the trigger [{tb}, {te}]"
            ));
        }
        if !example.contains(s, e) {
            return Err(format!(
                "argument [{s}, {e}] `{role}` outside the document's {} tokens",
                example.len()
            ));
        }
        example.links.push(Link {
            start: s,
            end: e,
            role,
        });
    }
    Ok(example)
}
