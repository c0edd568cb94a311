//! DocRED documents: typed records, reading and validation.
//!
//! A DocRED file is a JSON array of documents (`title`, `sents`, `vertexSet`, `labels`; see
//! [`Document`]). [`read_documents`] parses one with core's JSON reader, so a missing or mistyped
//! field is reported with the file, the record (document) index, the line, the column and the
//! field name. [`validate`] then checks what the types cannot express, and returns the first
//! problem as [`DataError::Invalid`], naming the document (index and title), the field
//! (e.g. `vertexSet[3][1].pos`) and the [`Problem`].
//!
//! Some inputs are accepted by the reference code but silently changed or skipped. They are not
//! errors here either, but each kind is counted and reported as a [`Warning`] in the
//! [`Validation`]:
//!
//! * [`WarningKind::DuplicateTitle`]: the official scorer keys documents by title; with two
//!   documents of the same title it merges their facts and keeps the entities of the last one;
//! * [`WarningKind::DuplicateLabel`]: the scorer keeps one fact per (title, r, h, t), with the
//!   evidence of the last label (its evidence total still counts every label);
//! * [`WarningKind::DuplicateMentionSpan`]: GAIN's preprocessing (`code/data.py`) skips a
//!   mention whose token span repeats one already registered in the document;
//! * [`WarningKind::SelfRelation`]: GAIN scores only pairs with h ≠ t, so such a fact is never
//!   predicted;
//! * [`WarningKind::LongDocument`]: GAIN truncates documents to [`MAX_TOKENS`] tokens, dropping
//!   the mentions beyond.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::path::Path;

use burnlp_core::data::{read_json, read_json_document};
use serde::{Deserialize, Serialize};

/// Entity types of DocRED (GAIN's `ner2id.json` without its padding entry).
pub const ENTITY_TYPES: [&str; 6] = ["PER", "ORG", "LOC", "TIME", "NUM", "MISC"];

/// Token limit of GAIN's preprocessing; longer documents are truncated.
pub const MAX_TOKENS: usize = 512;

/// The "no relation" label of `rel2id.json` (index 0), never a fact.
pub const NA_RELATION: &str = "Na";

/// One mention of an entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mention {
    /// Surface form (DocRED's names may differ from the tokens in spacing).
    pub name: String,
    /// Token span `[start, end)` inside the sentence.
    pub pos: [usize; 2],
    /// Index of the sentence holding the mention.
    pub sent_id: usize,
    /// Entity type, one of [`ENTITY_TYPES`].
    #[serde(rename = "type")]
    pub kind: String,
}

/// One relation fact between two entities of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// Head entity (index into `vertexSet`).
    pub h: usize,
    /// Tail entity (index into `vertexSet`).
    pub t: usize,
    /// Relation id (a Wikidata property such as `P17`).
    pub r: String,
    /// Indices of the sentences supporting the fact.
    pub evidence: Vec<usize>,
}

/// A DocRED document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Title, the document's key for the scorer.
    pub title: String,
    /// Tokenised sentences.
    pub sents: Vec<Vec<String>>,
    /// Entities, each a list of mentions (DocRED's `vertexSet`).
    #[serde(rename = "vertexSet")]
    pub vertex_set: Vec<Vec<Mention>>,
    /// Relation facts; absent in the test split, read as empty.
    #[serde(default)]
    pub labels: Vec<Label>,
}

impl Document {
    /// Number of tokens over all sentences.
    pub fn num_tokens(&self) -> usize {
        self.sents.iter().map(Vec::len).sum()
    }
}

/// The set of known relation ids, with their English names where known.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Relations {
    names: BTreeMap<String, Option<String>>,
}

impl Relations {
    /// Relations from `(id, name)` pairs.
    pub fn new<I, S>(entries: I) -> Self
    where
        I: IntoIterator<Item = (S, Option<String>)>,
        S: Into<String>,
    {
        Self {
            names: entries.into_iter().map(|(id, n)| (id.into(), n)).collect(),
        }
    }

    /// Reads DocRED's `rel_info.json` (relation id → English name).
    pub fn from_rel_info(path: impl AsRef<Path>) -> Result<Self, DataError> {
        let map: BTreeMap<String, String> = read_json_document(path)?;
        Ok(Self::new(
            map.into_iter().map(|(id, name)| (id, Some(name))),
        ))
    }

    /// Reads a `rel2id.json` (relation id → class index); [`NA_RELATION`] is left out.
    pub fn from_rel2id(path: impl AsRef<Path>) -> Result<Self, DataError> {
        let map: BTreeMap<String, usize> = read_json_document(path)?;
        Ok(Self::new(
            map.into_keys()
                .filter(|id| id != NA_RELATION)
                .map(|id| (id, None)),
        ))
    }

    /// Whether `id` is a known relation.
    pub fn contains(&self, id: &str) -> bool {
        self.names.contains_key(id)
    }

    /// The English name of `id`, if known.
    pub fn name(&self, id: &str) -> Option<&str> {
        self.names.get(id).and_then(|n| n.as_deref())
    }

    /// Number of relations.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there is no relation.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// What is wrong with a field of a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The document has no sentence.
    #[error("the document has no sentences")]
    NoSentences,
    /// `vertexSet` is empty.
    #[error("the document has no entities (empty vertexSet)")]
    NoEntities,
    /// An entity has no mention.
    #[error("the entity has no mentions")]
    NoMentions,
    /// A sentence index (of a mention or of evidence) is out of range.
    #[error("sentence {sent_id} does not exist (the document has {sentences} sentences)")]
    NoSuchSentence {
        /// The index found.
        sent_id: usize,
        /// Number of sentences of the document.
        sentences: usize,
    },
    /// A mention span is empty or reversed.
    #[error("span [{start}, {end}) is empty or reversed")]
    EmptySpan {
        /// Start token.
        start: usize,
        /// End token (exclusive).
        end: usize,
    },
    /// A mention span runs past the end of its sentence.
    #[error("span [{start}, {end}) ends after sentence {sent_id}, which has {tokens} tokens")]
    SpanOutsideSentence {
        /// Start token.
        start: usize,
        /// End token (exclusive).
        end: usize,
        /// The mention's sentence.
        sent_id: usize,
        /// Length of that sentence.
        tokens: usize,
    },
    /// An entity type outside [`ENTITY_TYPES`].
    #[error("unknown entity type `{0}` (expected one of PER, ORG, LOC, TIME, NUM, MISC)")]
    UnknownType(String),
    /// A label's head or tail is not an entity of the document.
    #[error("entity {entity} does not exist (vertexSet has {entities} entities)")]
    NoSuchEntity {
        /// The index found.
        entity: usize,
        /// Number of entities of the document.
        entities: usize,
    },
    /// A relation id missing from the relation inventory.
    #[error("unknown relation `{0}`")]
    UnknownRelation(String),
}

/// Errors of reading and validating DocRED data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be read or parsed (file, record, line, column and field are in the
    /// message).
    #[error(transparent)]
    Read(#[from] burnlp_core::data::DataError),
    /// A document is invalid.
    #[error("document {index} (`{title}`), {field}: {problem}")]
    Invalid {
        /// 0-based index of the document in the file.
        index: usize,
        /// Its title.
        title: String,
        /// The offending field, e.g. `vertexSet[3][1].pos` or `labels[0].r`.
        field: String,
        /// What is wrong.
        problem: Problem,
    },
    /// The file holds no document (`[]`): nothing to train on, check or score.
    #[error("the file holds no documents")]
    Empty,
}

/// Reads a DocRED file (a JSON array of documents).
pub fn read_documents(path: impl AsRef<Path>) -> Result<Vec<Document>, DataError> {
    Ok(read_json(path)?)
}

/// Something the reference code accepts but silently changes or skips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// A title already used by an earlier document.
    DuplicateTitle,
    /// A mention whose span repeats an earlier mention's span in the same document.
    DuplicateMentionSpan,
    /// A label repeating the (h, t, r) of an earlier label of the same document.
    DuplicateLabel,
    /// A label with h = t.
    SelfRelation,
    /// A document longer than [`MAX_TOKENS`] tokens.
    LongDocument,
}

impl WarningKind {
    /// What happens to such items in the reference code.
    pub fn description(self) -> &'static str {
        match self {
            Self::DuplicateTitle => {
                "documents repeat an earlier title (the scorer merges their facts and keeps the \
                 entities of the last one)"
            }
            Self::DuplicateMentionSpan => {
                "mentions repeat an earlier mention span (GAIN's preprocessing skips them)"
            }
            Self::DuplicateLabel => {
                "labels repeat an earlier (h, t, r) (the scorer counts one fact, with the \
                 evidence of the last label)"
            }
            Self::SelfRelation => "labels have h = t (GAIN never predicts such a fact)",
            Self::LongDocument => {
                "documents are longer than 512 tokens (GAIN truncates them and drops the \
                 mentions beyond)"
            }
        }
    }
}

/// A counted warning: how many items of one kind, and where the first one is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The kind of item.
    pub kind: WarningKind,
    /// How many there are.
    pub count: usize,
    /// Location of the first one (document index, title and field).
    pub first: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} (first: {})",
            self.count,
            self.kind.description(),
            self.first
        )
    }
}

/// Counts warnings by kind, keeping the first location of each.
#[derive(Default)]
struct Warnings(BTreeMap<WarningKind, Warning>);

impl Warnings {
    fn note(&mut self, kind: WarningKind, location: impl FnOnce() -> String) {
        self.0
            .entry(kind)
            .and_modify(|w| w.count += 1)
            .or_insert_with(|| Warning {
                kind,
                count: 1,
                first: location(),
            });
    }

    fn finish(self) -> Vec<Warning> {
        self.0.into_values().collect()
    }
}

/// Statistics of a validated file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Validation {
    /// Number of documents.
    pub documents: usize,
    /// Number of sentences.
    pub sentences: usize,
    /// Number of tokens.
    pub tokens: usize,
    /// Tokens of the longest document.
    pub max_document_tokens: usize,
    /// Number of entities.
    pub entities: usize,
    /// Number of mentions.
    pub mentions: usize,
    /// Number of labels (relation facts as listed).
    pub labels: usize,
    /// Number of distinct relation ids among the labels.
    pub relation_types: usize,
    /// Counted warnings, by kind.
    pub warnings: Vec<Warning>,
}

fn location(index: usize, doc: &Document, field: &str) -> String {
    format!("document {index} (`{}`) {field}", doc.title)
}

/// The error for `field` of document `index`.
fn invalid(index: usize, doc: &Document, field: String, problem: Problem) -> DataError {
    DataError::Invalid {
        index,
        title: doc.title.clone(),
        field,
        problem,
    }
}

/// Checks every document and counts what the reference code silently changes.
///
/// With `relations`, every label's relation must be one of them. Documents are checked in
/// order and the first problem is returned.
pub fn validate(
    documents: &[Document],
    relations: Option<&Relations>,
) -> Result<Validation, DataError> {
    if documents.is_empty() {
        return Err(DataError::Empty);
    }
    let mut stats = Validation {
        documents: documents.len(),
        ..Validation::default()
    };
    let mut warnings = Warnings::default();
    let mut titles = HashSet::new();
    let mut relation_ids = BTreeSet::new();
    for (index, doc) in documents.iter().enumerate() {
        if !titles.insert(doc.title.as_str()) {
            warnings.note(WarningKind::DuplicateTitle, || {
                location(index, doc, "title")
            });
        }
        if doc.sents.is_empty() {
            return Err(invalid(index, doc, "sents".into(), Problem::NoSentences));
        }
        if doc.vertex_set.is_empty() {
            return Err(invalid(index, doc, "vertexSet".into(), Problem::NoEntities));
        }
        let tokens = doc.num_tokens();
        if tokens > MAX_TOKENS {
            warnings.note(WarningKind::LongDocument, || location(index, doc, "sents"));
        }
        stats.sentences += doc.sents.len();
        stats.tokens += tokens;
        stats.max_document_tokens = stats.max_document_tokens.max(tokens);
        stats.entities += doc.vertex_set.len();
        stats.mentions += check_entities(index, doc, &mut warnings)?;
        check_labels(index, doc, relations, &mut warnings)?;
        relation_ids.extend(doc.labels.iter().map(|l| l.r.as_str()));
        stats.labels += doc.labels.len();
    }
    stats.relation_types = relation_ids.len();
    stats.warnings = warnings.finish();
    Ok(stats)
}

/// Checks the mentions of document `index`; returns their number.
fn check_entities(
    index: usize,
    doc: &Document,
    warnings: &mut Warnings,
) -> Result<usize, DataError> {
    let mut mentions = 0;
    let mut spans = HashSet::new();
    for (e, entity) in doc.vertex_set.iter().enumerate() {
        if entity.is_empty() {
            return Err(invalid(
                index,
                doc,
                format!("vertexSet[{e}]"),
                Problem::NoMentions,
            ));
        }
        mentions += entity.len();
        for (m, mention) in entity.iter().enumerate() {
            let field = |name: &str| format!("vertexSet[{e}][{m}].{name}");
            let Some(sentence) = doc.sents.get(mention.sent_id) else {
                return Err(invalid(
                    index,
                    doc,
                    field("sent_id"),
                    Problem::NoSuchSentence {
                        sent_id: mention.sent_id,
                        sentences: doc.sents.len(),
                    },
                ));
            };
            let [start, end] = mention.pos;
            if start >= end {
                return Err(invalid(
                    index,
                    doc,
                    field("pos"),
                    Problem::EmptySpan { start, end },
                ));
            }
            if end > sentence.len() {
                return Err(invalid(
                    index,
                    doc,
                    field("pos"),
                    Problem::SpanOutsideSentence {
                        start,
                        end,
                        sent_id: mention.sent_id,
                        tokens: sentence.len(),
                    },
                ));
            }
            if !ENTITY_TYPES.contains(&mention.kind.as_str()) {
                return Err(invalid(
                    index,
                    doc,
                    field("type"),
                    Problem::UnknownType(mention.kind.clone()),
                ));
            }
            if !spans.insert((mention.sent_id, start, end)) {
                warnings.note(WarningKind::DuplicateMentionSpan, || {
                    location(index, doc, &field("pos"))
                });
            }
        }
    }
    Ok(mentions)
}

/// Checks the labels of document `index` (its entities already checked).
fn check_labels(
    index: usize,
    doc: &Document,
    relations: Option<&Relations>,
    warnings: &mut Warnings,
) -> Result<(), DataError> {
    let mut facts = HashMap::new();
    for (l, label) in doc.labels.iter().enumerate() {
        let field = |name: &str| format!("labels[{l}].{name}");
        for (name, entity) in [("h", label.h), ("t", label.t)] {
            if entity >= doc.vertex_set.len() {
                return Err(invalid(
                    index,
                    doc,
                    field(name),
                    Problem::NoSuchEntity {
                        entity,
                        entities: doc.vertex_set.len(),
                    },
                ));
            }
        }
        if relations.is_some_and(|known| !known.contains(&label.r)) {
            return Err(invalid(
                index,
                doc,
                field("r"),
                Problem::UnknownRelation(label.r.clone()),
            ));
        }
        if let Some(&sent_id) = label.evidence.iter().find(|&&s| s >= doc.sents.len()) {
            return Err(invalid(
                index,
                doc,
                field("evidence"),
                Problem::NoSuchSentence {
                    sent_id,
                    sentences: doc.sents.len(),
                },
            ));
        }
        if label.h == label.t {
            warnings.note(WarningKind::SelfRelation, || {
                location(index, doc, &format!("labels[{l}]"))
            });
        }
        if facts
            .insert((label.h, label.t, label.r.as_str()), l)
            .is_some()
        {
            warnings.note(WarningKind::DuplicateLabel, || {
                location(index, doc, &format!("labels[{l}]"))
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Document {
        serde_json::from_str(
            r#"{"title": "T", "sents": [["A", "b", "C", "."]],
                "vertexSet": [[{"name": "A", "pos": [0, 1], "sent_id": 0, "type": "PER"}],
                              [{"name": "C", "pos": [2, 3], "sent_id": 0, "type": "LOC"}]],
                "labels": [{"h": 0, "t": 1, "r": "P19", "evidence": [0]}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn counts_and_warnings() {
        let mut d = doc();
        let mention = d.vertex_set[1][0].clone();
        d.vertex_set[1].push(mention);
        let label = d.labels[0].clone();
        d.labels.push(label);
        let stats = validate(&[d.clone(), d], None).unwrap();
        assert_eq!(
            (
                stats.documents,
                stats.tokens,
                stats.entities,
                stats.mentions,
                stats.labels
            ),
            (2, 8, 4, 6, 4)
        );
        let kinds: Vec<_> = stats.warnings.iter().map(|w| (w.kind, w.count)).collect();
        assert_eq!(
            kinds,
            [
                (WarningKind::DuplicateTitle, 1),
                (WarningKind::DuplicateMentionSpan, 2),
                (WarningKind::DuplicateLabel, 2)
            ]
        );
        assert_eq!(
            stats.warnings[1].first,
            "document 0 (`T`) vertexSet[1][1].pos"
        );
    }

    #[test]
    fn relations_from_pairs() {
        let rels = Relations::new([("P17", Some("country".to_owned())), ("P19", None)]);
        assert!(rels.contains("P19") && !rels.contains("Na"));
        assert_eq!(
            (rels.name("P17"), rels.name("P19"), rels.len()),
            (Some("country"), None, 2)
        );
    }
}
