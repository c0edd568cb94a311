//! Event types and their roles (`meta.json`: a list of `[event_type, [role, …]]`) and TSAR's
//! label space: label 0 is "no argument" (NA), then every event type's roles numbered
//! consecutively over all types, so `num_labels = 1 + Σ |roles|`.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{DocEeError, Result};

/// The event types with their roles and label ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ontology {
    /// `(event type, roles)` in file order.
    pub events: Vec<(String, Vec<String>)>,
}

impl Ontology {
    /// An ontology from `(event type, roles)` pairs; a repeated type is an error.
    pub fn new(events: Vec<(String, Vec<String>)>) -> Result<Self> {
        let mut seen = std::collections::HashSet::new();
        for (event, _) in &events {
            if !seen.insert(event.as_str()) {
                return Err(DocEeError::invalid(
                    "the ontology",
                    format!("event type `{event}` is listed twice"),
                ));
            }
        }
        Ok(Self { events })
    }

    /// Reads `meta.json`.
    pub fn read(path: &Path) -> Result<Self> {
        let events: Vec<(String, Vec<String>)> = burnlp_core::data::read_json_document(path)?;
        Self::new(events)
            .map_err(|e| DocEeError::invalid(path.display().to_string(), e.to_string()))
    }

    /// Number of labels, NA included.
    pub fn num_labels(&self) -> usize {
        1 + self.events.iter().map(|(_, r)| r.len()).sum::<usize>()
    }

    /// Number of event types.
    pub fn num_events(&self) -> usize {
        self.events.len()
    }

    /// The id of an event type.
    pub fn event_id(&self, event: &str) -> Option<usize> {
        self.events.iter().position(|(e, _)| e == event)
    }

    /// The label ids of an event type's roles (a contiguous range).
    pub fn role_labels(&self, event_id: usize) -> std::ops::Range<usize> {
        let first = 1 + self.events[..event_id]
            .iter()
            .map(|(_, r)| r.len())
            .sum::<usize>();
        first..first + self.events[event_id].1.len()
    }

    /// Role name → label id of an event type.
    pub fn role_ids(&self, event_id: usize) -> HashMap<&str, usize> {
        let range = self.role_labels(event_id);
        self.events[event_id]
            .1
            .iter()
            .map(String::as_str)
            .zip(range)
            .collect()
    }

    /// The role of a label id of an event type (`None` for NA or another type's label).
    pub fn role_name(&self, event_id: usize, label: usize) -> Option<&str> {
        let range = self.role_labels(event_id);
        range
            .contains(&label)
            .then(|| self.events[event_id].1[label - range.start].as_str())
    }

    /// The ontology of the events and roles that occur in `examples`, in order of appearance.
    pub fn from_examples(examples: &[super::Example]) -> Self {
        let mut events: Vec<(String, Vec<String>)> = Vec::new();
        for ex in examples {
            let index = match events.iter().position(|(e, _)| *e == ex.event_type) {
                Some(i) => i,
                None => {
                    events.push((ex.event_type.clone(), Vec::new()));
                    events.len() - 1
                }
            };
            for link in &ex.links {
                if !events[index].1.contains(&link.role) {
                    events[index].1.push(link.role.clone());
                }
            }
        }
        Self { events }
    }
}

/// The role name a RAMS prediction carries: TSAR keeps what follows `argNN`
/// (`evt089arg01victim` → `victim`); other roles are unchanged.
pub fn short_role(role: &str) -> &str {
    match role.find("arg0") {
        Some(i) if role.len() >= i + 5 => &role[i + 5..],
        _ => role,
    }
}

/// The official RAMS scorer's role label: the text after the last run of digits
/// (`re.split(r'\d+', role)[-1]`), so `evt089arg01victim` → `victim` and `Victim` → `Victim`.
pub fn scorer_role(role: &str) -> &str {
    match role.rfind(|c: char| c.is_ascii_digit()) {
        Some(i) => &role[i + 1..],
        None => role,
    }
}
