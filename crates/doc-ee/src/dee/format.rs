//! The Doc2EDAG data format (ChFinAnn `Data.zip`, DocEE's converted DuEE-fin): a JSON list of
//! `[doc_guid, detail]` pairs, `detail` holding `sentences`, `ann_valid_mspans`,
//! `ann_valid_dranges`, `ann_mspan2dranges`, `ann_mspan2guess_field`,
//! `recguid_eventname_eventdict_list` and optionally `doc_type`; other keys are kept as they
//! are. Ranges count characters (Unicode scalar values, Python's string indices).
//!
//! [`read_documents`] parses a file, [`validate`] checks it against a schema the way
//! Doc2EDAG's `DEEExample` does (and stricter: record arguments must be annotated spans), and
//! [`write_documents`] prints it back in Python's `json.dump` layout, keeping key order, so a
//! file read and written again is byte-identical.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::error::{DeeError, Drange, Result};
use super::json::{Json, JsonLayout, to_python_json};
use super::schema::DatasetSchema;

/// The detail keys this module knows, in the order Doc2EDAG's files and DocEE's build script
/// write them (`doc_type` first where present).
pub const KNOWN_KEYS: [&str; 7] = [
    "doc_type",
    "sentences",
    "ann_valid_mspans",
    "ann_valid_dranges",
    "ann_mspan2dranges",
    "ann_mspan2guess_field",
    "recguid_eventname_eventdict_list",
];

/// `ann_valid_dranges`: flat in ChFinAnn (every mention's range), one list per span in DocEE's
/// DuEE-fin conversion (`list(ann_mspan2dranges.values())`).
#[derive(Debug, Clone, PartialEq)]
pub enum ValidDranges {
    /// `[[sent, start, end], …]`.
    Flat(Vec<Drange>),
    /// `[[[sent, start, end], …], …]`.
    Nested(Vec<Vec<Drange>>),
}

impl ValidDranges {
    /// Every range, in order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = &Drange> + '_> {
        match self {
            ValidDranges::Flat(v) => Box::new(v.iter()),
            ValidDranges::Nested(v) => Box::new(v.iter().flatten()),
        }
    }
}

/// One event record: `[rec_guid, EventName, {Field: span text or null}]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The record id as written (an integer in ChFinAnn and DuEE-fin).
    pub guid: Json,
    /// The event type.
    pub event_type: String,
    /// `(role, argument)` pairs in file order.
    pub args: Vec<(String, Option<String>)>,
}

impl Record {
    /// The argument of `role` (`None` when null or absent).
    pub fn arg(&self, role: &str) -> Option<&str> {
        self.args
            .iter()
            .find(|(r, _)| r == role)
            .and_then(|(_, a)| a.as_deref())
    }

    /// The arguments in the schema's role order (absent roles are null).
    pub fn in_role_order<'a>(&'a self, roles: &[&str]) -> Vec<Option<&'a str>> {
        roles.iter().map(|r| self.arg(r)).collect()
    }
}

/// One document of a Doc2EDAG-format file.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The document guid.
    pub guid: String,
    /// `doc_type` (`o2o`, `o2m`, `m2m`, `unk` in DocEE's files), if present.
    pub doc_type: Option<String>,
    /// Sentences (character level).
    pub sentences: Vec<String>,
    /// `ann_valid_mspans`: annotated span texts (DocEE's DuEE-fin may repeat one).
    pub mspans: Vec<String>,
    /// `ann_valid_dranges`.
    pub valid_dranges: ValidDranges,
    /// `ann_mspan2dranges`: every mention range of each span, in file order.
    pub mspan2dranges: Vec<(String, Vec<Drange>)>,
    /// `ann_mspan2guess_field`: each span's entity field, in file order.
    pub mspan2field: Vec<(String, String)>,
    /// `recguid_eventname_eventdict_list`.
    pub records: Vec<Record>,
    /// Keys this module does not know, kept for writing.
    pub extra: Vec<(String, Json)>,
    /// The detail keys in file order (known and extra); the writer follows it.
    pub key_order: Vec<String>,
}

impl Document {
    /// A document with every known key, in the canonical order (`doc_type` only when given).
    pub fn new(guid: impl Into<String>, doc_type: Option<String>) -> Self {
        let key_order = KNOWN_KEYS
            .iter()
            .filter(|k| doc_type.is_some() || **k != "doc_type")
            .map(|k| k.to_string())
            .collect();
        Self {
            guid: guid.into(),
            doc_type,
            sentences: Vec::new(),
            mspans: Vec::new(),
            valid_dranges: ValidDranges::Flat(Vec::new()),
            mspan2dranges: Vec::new(),
            mspan2field: Vec::new(),
            records: Vec::new(),
            extra: Vec::new(),
            key_order,
        }
    }

    /// The mention ranges of `span`.
    pub fn dranges(&self, span: &str) -> Option<&[Drange]> {
        self.mspan2dranges
            .iter()
            .find(|(s, _)| s == span)
            .map(|(_, d)| d.as_slice())
    }

    /// The entity field of `span`.
    pub fn field(&self, span: &str) -> Option<&str> {
        self.mspan2field
            .iter()
            .find(|(s, _)| s == span)
            .map(|(_, f)| f.as_str())
    }

    /// Number of records after dropping those without any argument (Doc2EDAG's feature
    /// converter drops them); more than one makes a multi-event document (`is_multi_event`).
    pub fn num_records(&self) -> usize {
        self.records
            .iter()
            .filter(|r| r.args.iter().any(|(_, a)| a.is_some()))
            .count()
    }

    fn detail_json(&self) -> Json {
        let str_list =
            |v: &[String]| Json::Array(v.iter().map(|s| Json::from(s.as_str())).collect());
        let drange = |d: &Drange| Json::Array(d.iter().map(|&x| Json::from(x)).collect());
        let dlist = |v: &[Drange]| Json::Array(v.iter().map(drange).collect());
        let mut pairs = Vec::new();
        for key in &self.key_order {
            let value = match key.as_str() {
                "doc_type" => match &self.doc_type {
                    Some(t) => Json::from(t.as_str()),
                    None => continue,
                },
                "sentences" => str_list(&self.sentences),
                "ann_valid_mspans" => str_list(&self.mspans),
                "ann_valid_dranges" => match &self.valid_dranges {
                    ValidDranges::Flat(v) => dlist(v),
                    ValidDranges::Nested(v) => Json::Array(v.iter().map(|d| dlist(d)).collect()),
                },
                "ann_mspan2dranges" => Json::Object(
                    self.mspan2dranges
                        .iter()
                        .map(|(s, d)| (s.clone(), dlist(d)))
                        .collect(),
                ),
                "ann_mspan2guess_field" => Json::Object(
                    self.mspan2field
                        .iter()
                        .map(|(s, f)| (s.clone(), Json::from(f.as_str())))
                        .collect(),
                ),
                "recguid_eventname_eventdict_list" => Json::Array(
                    self.records
                        .iter()
                        .map(|r| {
                            let args = r
                                .args
                                .iter()
                                .map(|(k, v)| {
                                    (k.clone(), v.as_deref().map_or(Json::Null, Json::from))
                                })
                                .collect();
                            Json::Array(vec![
                                r.guid.clone(),
                                Json::from(r.event_type.as_str()),
                                Json::Object(args),
                            ])
                        })
                        .collect(),
                ),
                other => match self.extra.iter().find(|(k, _)| k == other) {
                    Some((_, v)) => v.clone(),
                    None => continue,
                },
            };
            pairs.push((key.clone(), value));
        }
        Json::Object(pairs)
    }
}

/// Builds typed-field errors for one document.
struct Ctx<'a> {
    path: &'a Path,
    doc: &'a str,
}

impl Ctx<'_> {
    fn err(&self, field: &str, problem: impl Into<String>) -> DeeError {
        DeeError::Malformed {
            path: self.path.to_path_buf(),
            doc: self.doc.to_string(),
            field: field.to_string(),
            problem: problem.into(),
        }
    }

    fn string(&self, field: &str, v: &Json) -> Result<String> {
        match v {
            Json::String(s) => Ok(s.clone()),
            other => Err(self.err(field, format!("expected a string, found {}", other.kind()))),
        }
    }

    fn strings(&self, field: &str, v: &Json) -> Result<Vec<String>> {
        match v {
            Json::Array(items) => items.iter().map(|i| self.string(field, i)).collect(),
            other => Err(self.err(
                field,
                format!("expected a list of strings, found {}", other.kind()),
            )),
        }
    }

    fn drange(&self, field: &str, v: &Json) -> Result<Drange> {
        if let Json::Array(items) = v
            && items.len() == 3
            && let (Some(a), Some(b), Some(c)) = (
                items[0].as_usize(),
                items[1].as_usize(),
                items[2].as_usize(),
            )
        {
            return Ok([a, b, c]);
        }
        Err(self.err(
            field,
            format!(
                "expected a range [sent, start, end] of three non-negative integers, found {}",
                compact(v)
            ),
        ))
    }

    fn dranges(&self, field: &str, v: &Json) -> Result<Vec<Drange>> {
        match v {
            Json::Array(items) => items.iter().map(|i| self.drange(field, i)).collect(),
            other => Err(self.err(
                field,
                format!("expected a list of ranges, found {}", other.kind()),
            )),
        }
    }

    fn object<'v>(&self, field: &str, v: &'v Json) -> Result<&'v [(String, Json)]> {
        match v {
            Json::Object(pairs) => Ok(pairs),
            other => Err(self.err(field, format!("expected an object, found {}", other.kind()))),
        }
    }
}

fn compact(v: &Json) -> String {
    let text = to_python_json(v, JsonLayout::PythonLine)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

fn parse_document(path: &Path, index: usize, item: &Json) -> Result<Document> {
    let fallback = format!("#{index}");
    let top = Ctx {
        path,
        doc: &fallback,
    };
    let Json::Array(pair) = item else {
        return Err(top.err(
            "[doc_guid, detail]",
            format!("expected a pair, found {}", item.kind()),
        ));
    };
    if pair.len() != 2 {
        return Err(top.err(
            "[doc_guid, detail]",
            format!("expected 2 entries, found {}", pair.len()),
        ));
    }
    let guid = match &pair[0] {
        Json::String(s) => s.clone(),
        Json::Number(n) => n.to_string(),
        other => {
            return Err(top.err(
                "doc_guid",
                format!("expected a string, found {}", other.kind()),
            ));
        }
    };
    let cx = Ctx { path, doc: &guid };
    let detail = cx.object("detail", &pair[1])?;
    let mut doc = Document::new(guid.clone(), None);
    doc.key_order.clear();
    for (key, value) in detail {
        doc.key_order.push(key.clone());
        match key.as_str() {
            "doc_type" => doc.doc_type = Some(cx.string(key, value)?),
            "sentences" => doc.sentences = cx.strings(key, value)?,
            "ann_valid_mspans" => doc.mspans = cx.strings(key, value)?,
            "ann_valid_dranges" => {
                let Json::Array(items) = value else {
                    return Err(cx.err(key, format!("expected a list, found {}", value.kind())));
                };
                let nested = matches!(items.first(), Some(Json::Array(inner)) if matches!(inner.first(), Some(Json::Array(_))) || inner.is_empty());
                doc.valid_dranges = if nested {
                    ValidDranges::Nested(
                        items
                            .iter()
                            .map(|i| cx.dranges(key, i))
                            .collect::<Result<_>>()?,
                    )
                } else {
                    ValidDranges::Flat(cx.dranges(key, value)?)
                };
            }
            "ann_mspan2dranges" => {
                doc.mspan2dranges = cx
                    .object(key, value)?
                    .iter()
                    .map(|(s, d)| Ok((s.clone(), cx.dranges(key, d)?)))
                    .collect::<Result<_>>()?;
            }
            "ann_mspan2guess_field" => {
                doc.mspan2field = cx
                    .object(key, value)?
                    .iter()
                    .map(|(s, f)| Ok((s.clone(), cx.string(key, f)?)))
                    .collect::<Result<_>>()?;
            }
            "recguid_eventname_eventdict_list" => {
                let Json::Array(items) = value else {
                    return Err(cx.err(key, format!("expected a list, found {}", value.kind())));
                };
                for (i, rec) in items.iter().enumerate() {
                    let field = format!("{key}[{i}]");
                    let Json::Array(parts) = rec else {
                        return Err(cx.err(
                            &field,
                            format!(
                                "expected [rec_guid, EventName, {{Field: span}}], found {}",
                                rec.kind()
                            ),
                        ));
                    };
                    if parts.len() != 3 {
                        return Err(
                            cx.err(&field, format!("expected 3 entries, found {}", parts.len()))
                        );
                    }
                    let event_type = cx.string(&field, &parts[1])?;
                    let args = cx
                        .object(&field, &parts[2])?
                        .iter()
                        .map(|(role, a)| match a {
                            Json::Null => Ok((role.clone(), None)),
                            Json::String(s) => Ok((role.clone(), Some(s.clone()))),
                            other => Err(cx.err(
                                &format!("{field}.{role}"),
                                format!("expected a span text or null, found {}", other.kind()),
                            )),
                        })
                        .collect::<Result<_>>()?;
                    doc.records.push(Record {
                        guid: parts[0].clone(),
                        event_type,
                        args,
                    });
                }
            }
            _ => doc.extra.push((key.clone(), value.clone())),
        }
    }
    Ok(doc)
}

/// Parses Doc2EDAG-format text (`path` only names the source in errors).
pub fn parse_documents(path: &Path, text: &str) -> Result<Vec<Document>> {
    let value: Json = serde_json::from_str(text).map_err(|source| DeeError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    let Json::Array(items) = value else {
        return Err(DeeError::Malformed {
            path: path.to_path_buf(),
            doc: "-".into(),
            field: "(top level)".into(),
            problem: format!(
                "expected a list of [doc_guid, detail] pairs, found {}",
                value.kind()
            ),
        });
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_document(path, i, item))
        .collect()
}

/// Reads a Doc2EDAG-format file (shape only; see [`validate`]).
pub fn read_documents(path: impl AsRef<Path>) -> Result<Vec<Document>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| DeeError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let documents = parse_documents(path, &text)?;
    if documents.is_empty() {
        return Err(DeeError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(documents)
}

/// The documents printed in `layout` (no trailing newline, as `json.dump`).
pub fn documents_to_bytes(docs: &[Document], layout: JsonLayout) -> Vec<u8> {
    let list = Json::Array(
        docs.iter()
            .map(|d| Json::Array(vec![Json::from(d.guid.as_str()), d.detail_json()]))
            .collect(),
    );
    // Serialising an in-memory tree of strings, numbers and containers cannot fail.
    to_python_json(&list, layout).unwrap_or_default()
}

/// Writes documents atomically in `layout`.
pub fn write_documents(
    path: impl AsRef<Path>,
    docs: &[Document],
    layout: JsonLayout,
) -> Result<()> {
    burnlp_core::data::write_atomic(path, &documents_to_bytes(docs, layout))?;
    Ok(())
}

/// How much [`validate`] checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Gold data: mention ranges against the sentences, spans against their annotations,
    /// records against the schema, record arguments against the annotated spans.
    Gold,
    /// Predictions: records against the schema only.
    Records,
}

/// What [`validate`] counted (problems Doc2EDAG itself tolerates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ValidationReport {
    /// Documents checked.
    pub documents: usize,
    /// Records checked.
    pub records: usize,
    /// Documents with more than one record.
    pub multi_event_documents: usize,
    /// Annotated spans whose guessed field is outside the NER label set (Doc2EDAG labels
    /// them `O`).
    pub unlabelled_spans: usize,
}

fn char_slice(sentence: &str, start: usize, end: usize) -> String {
    sentence.chars().skip(start).take(end - start).collect()
}

fn check_drange(path: &Path, doc: &Document, field: &str, span: &str, d: Drange) -> Result<String> {
    let out = |problem: String| {
        DeeError::DrangeOutOfRange(Box::new(super::error::OutOfRange {
            path: path.to_path_buf(),
            doc: doc.guid.clone(),
            field: field.to_string(),
            span: span.to_string(),
            drange: d,
            problem,
        }))
    };
    let [s, start, end] = d;
    let Some(sentence) = doc.sentences.get(s) else {
        return Err(out(format!(
            "names sentence {s} of {}",
            doc.sentences.len()
        )));
    };
    let len = sentence.chars().count();
    if start >= end || end > len {
        return Err(out(format!(
            "is not inside sentence {s} ({len} characters)"
        )));
    }
    Ok(char_slice(sentence, start, end))
}

/// Checks documents against `schema`; the first problem is returned as a typed error naming
/// the file, document and field.
pub fn validate(
    path: &Path,
    docs: &[Document],
    schema: &DatasetSchema,
    check: Check,
) -> Result<ValidationReport> {
    let mut report = ValidationReport::default();
    let mut seen = HashSet::new();
    for doc in docs {
        if !seen.insert(doc.guid.as_str()) {
            return Err(DeeError::DuplicateDocument {
                path: path.to_path_buf(),
                doc: doc.guid.clone(),
            });
        }
        report.documents += 1;
        report.records += doc.records.len();
        if doc.num_records() > 1 {
            report.multi_event_documents += 1;
        }
        let cx = Ctx {
            path,
            doc: &doc.guid,
        };
        if check == Check::Gold {
            for (span, dranges) in &doc.mspan2dranges {
                for &d in dranges {
                    let found = check_drange(path, doc, "ann_mspan2dranges", span, d)?;
                    if &found != span {
                        return Err(DeeError::SpanMismatch {
                            path: path.to_path_buf(),
                            doc: doc.guid.clone(),
                            span: span.clone(),
                            drange: d,
                            found: found.into(),
                        });
                    }
                }
            }
            for &d in doc.valid_dranges.iter() {
                check_drange(path, doc, "ann_valid_dranges", "", d)?;
            }
            let labelled: HashSet<&str> = schema.entity_fields().into_iter().collect();
            let mut counted = HashSet::new();
            for span in &doc.mspans {
                if doc.dranges(span).is_none() {
                    return Err(cx.err(
                        "ann_mspan2dranges",
                        format!("no ranges for the annotated span `{span}`"),
                    ));
                }
                let Some(field) = doc.field(span) else {
                    return Err(cx.err(
                        "ann_mspan2guess_field",
                        format!("no field for the annotated span `{span}`"),
                    ));
                };
                if !labelled.contains(field) && counted.insert(span.as_str()) {
                    report.unlabelled_spans += 1;
                }
            }
        }
        let spans: HashSet<&str> = doc.mspans.iter().map(String::as_str).collect();
        for rec in &doc.records {
            let Some((_, event)) = schema.event(&rec.event_type) else {
                return Err(DeeError::UnknownEventType {
                    path: path.to_path_buf(),
                    doc: doc.guid.clone(),
                    event_type: rec.event_type.clone(),
                    schema: schema.name,
                });
            };
            for (role, arg) in &rec.args {
                let Some(r) = event.role_index(role) else {
                    return Err(DeeError::UnknownRole {
                        path: path.to_path_buf(),
                        doc: doc.guid.clone(),
                        event_type: rec.event_type.clone(),
                        role: role.clone(),
                    });
                };
                if check == Check::Gold
                    && let Some(span) = arg
                    && !spans.contains(span.as_str())
                {
                    return Err(DeeError::UnannotatedArgument {
                        path: path.to_path_buf(),
                        doc: doc.guid.clone(),
                        event_type: event.name,
                        role: event.roles[r],
                        span: span.clone(),
                    });
                }
            }
        }
    }
    Ok(report)
}

/// Character-level BIO label ids per sentence, as Doc2EDAG's `NERExample` builds them from the
/// annotated spans' mention ranges (`B-` on a mention's first character, `I-` on the rest;
/// fields outside the label set stay `O`). Overlapping mentions in a sentence are an error, as
/// in `get_char_entity_labels`.
pub fn bio_labels(path: &Path, doc: &Document, schema: &DatasetSchema) -> Result<Vec<Vec<usize>>> {
    let mut per_sentence: HashMap<usize, Vec<(usize, usize, &str)>> = HashMap::new();
    let mut done = HashSet::new();
    for span in &doc.mspans {
        if !done.insert(span.as_str()) {
            continue;
        }
        let field = doc.field(span).unwrap_or("");
        for &[s, start, end] in doc.dranges(span).unwrap_or(&[]) {
            per_sentence.entry(s).or_default().push((start, end, field));
        }
    }
    let mut labels = Vec::with_capacity(doc.sentences.len());
    for (s, sentence) in doc.sentences.iter().enumerate() {
        let mut ids = vec![0usize; sentence.chars().count()];
        let mut mentions = per_sentence.remove(&s).unwrap_or_default();
        mentions.sort_by_key(|m| m.0);
        let mut covered = 0;
        for (start, end, field) in mentions {
            if start < covered || end > ids.len() {
                return Err(DeeError::Malformed {
                    path: path.to_path_buf(),
                    doc: doc.guid.clone(),
                    field: "ann_mspan2dranges".into(),
                    problem: format!(
                        "mention [{s}, {start}, {end}) overlaps another mention or leaves the sentence"
                    ),
                });
            }
            if let Some(b) = schema.begin_label(field) {
                ids[start] = b;
                for id in &mut ids[start + 1..end] {
                    *id = b + 1;
                }
            }
            covered = end;
        }
        labels.push(ids);
    }
    Ok(labels)
}
