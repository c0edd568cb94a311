//! DuEE-fin (Baidu, LIC 2021): the JSON Lines reader and the conversion into the Doc2EDAG
//! format "without triggers", as DocEE's `Data/DuEEData/build_data.py` `build` does (the
//! script IPGPF adapts as `dee/build_duee_data.py`, producing `dueefin_{train,dev}_wo_tgg.json`).
//!
//! A line: `{"id", "title", "text", "event_list": [{"event_type", "trigger", "arguments":
//! [{"role", "argument"}]}]}`; `event_list` is absent in the test files.
//!
//! Conversion, step by step as the script:
//! 1. `sent_seg(text, punctuations={"；"})`: a newline after every run of `。？！…；` (and any
//!    closing quotes `’”`'"` right after it), split on newlines, strip, drop empty pieces;
//! 2. `reorganise_sents(…, 128, concat=True)`: greedy merging into pieces shorter than 128
//!    characters (a space goes between two pieces when the first ends in a CJK ideograph); a
//!    sentence over 128 characters is split again at `，`/`、` and re-merged, a piece still over
//!    128 characters is cut to its first 128 (the rest is lost);
//! 3. sentences shorter than 5 characters are dropped, the title becomes sentence 0;
//! 4. documents without events are skipped; an event whose trigger is found nowhere is
//!    dropped (even though triggers are not kept); an argument found nowhere is dropped;
//! 5. mentions are found by `get_span_drange`: every non-overlapping occurrence in every
//!    sentence, skipping occurrences glued to a neighbouring digit (or to a digit across a
//!    `.`) when the span starts or ends with a digit;
//! 6. a role given twice keeps the last argument; `ann_valid_mspans` keeps every found
//!    argument (repeats included); `ann_valid_dranges` is the list of each span's ranges;
//!    `doc_type` is `o2o` (one record), `o2m` (several, one type), `m2m` (several types).
//!
//! Differences: the script searches with a partly escaped regular expression (`^$|{}\` stay
//! special); this module searches literally. A missing `title` gives no title sentence (the
//! script fails on it). A role outside the schema is an error (the script adds it silently).

use std::path::Path;

use super::error::{DeeError, Drange, Result};
use super::format::{Document, Record, ValidDranges};
use super::json::Json;
use super::schema::{DUEE_FIN, DatasetSchema};

/// One argument.
#[derive(Debug, Clone, PartialEq)]
pub struct DueeArgument {
    /// The role.
    pub role: String,
    /// The argument text.
    pub argument: String,
}

/// One event.
#[derive(Debug, Clone, PartialEq)]
pub struct DueeEvent {
    /// The event type.
    pub event_type: String,
    /// The trigger text.
    pub trigger: String,
    /// The arguments in file order.
    pub arguments: Vec<DueeArgument>,
}

/// One DuEE-fin document.
#[derive(Debug, Clone, PartialEq)]
pub struct DueeDocument {
    /// `id`.
    pub id: String,
    /// `title`, if present.
    pub title: Option<String>,
    /// `text`.
    pub text: String,
    /// `event_list` (`None` when absent, as in the test files).
    pub events: Option<Vec<DueeEvent>>,
}

struct LineCtx<'a> {
    path: &'a Path,
    line: usize,
}

impl LineCtx<'_> {
    fn err(&self, field: &str, problem: impl Into<String>) -> DeeError {
        DeeError::Line {
            path: self.path.to_path_buf(),
            line: self.line,
            field: field.to_string(),
            problem: problem.into(),
        }
    }

    fn get<'v>(&self, obj: &'v [(String, Json)], field: &str, prefix: &str) -> Result<&'v Json> {
        obj.iter()
            .rev()
            .find(|(k, _)| k == field)
            .map(|(_, v)| v)
            .ok_or_else(|| self.err(&format!("{prefix}{field}"), "missing"))
    }

    fn string(&self, v: &Json, field: &str) -> Result<String> {
        match v {
            Json::String(s) => Ok(s.clone()),
            other => Err(self.err(field, format!("expected a string, found {}", other.kind()))),
        }
    }

    fn object<'v>(&self, v: &'v Json, field: &str) -> Result<&'v [(String, Json)]> {
        match v {
            Json::Object(p) => Ok(p),
            other => Err(self.err(field, format!("expected an object, found {}", other.kind()))),
        }
    }

    fn list<'v>(&self, v: &'v Json, field: &str) -> Result<&'v [Json]> {
        match v {
            Json::Array(p) => Ok(p),
            other => Err(self.err(field, format!("expected a list, found {}", other.kind()))),
        }
    }
}

fn parse_line(cx: &LineCtx<'_>, text: &str, schema: &DatasetSchema) -> Result<DueeDocument> {
    let value: Json =
        serde_json::from_str(text).map_err(|e| cx.err("(line)", format!("not JSON: {e}")))?;
    let obj = cx.object(&value, "(line)")?;
    let id = match cx.get(obj, "id", "")? {
        Json::String(s) => s.clone(),
        Json::Number(n) => n.to_string(),
        other => return Err(cx.err("id", format!("expected a string, found {}", other.kind()))),
    };
    let title = match obj.iter().find(|(k, _)| k == "title") {
        Some((_, v)) => Some(cx.string(v, "title")?),
        None => None,
    };
    let body = cx.string(cx.get(obj, "text", "")?, "text")?;
    let events = match obj.iter().find(|(k, _)| k == "event_list") {
        None => None,
        Some((_, v)) => {
            let mut events = Vec::new();
            for (i, ev) in cx.list(v, "event_list")?.iter().enumerate() {
                let prefix = format!("event_list[{i}].");
                let ev = cx.object(ev, &format!("event_list[{i}]"))?;
                let event_type = cx.string(
                    cx.get(ev, "event_type", &prefix)?,
                    &format!("{prefix}event_type"),
                )?;
                let Some((_, event)) = schema.event(&event_type) else {
                    return Err(cx.err(
                        &format!("{prefix}event_type"),
                        format!("unknown event type `{event_type}` (schema {})", schema.name),
                    ));
                };
                let trigger =
                    cx.string(cx.get(ev, "trigger", &prefix)?, &format!("{prefix}trigger"))?;
                let mut arguments = Vec::new();
                let args = cx.list(
                    cx.get(ev, "arguments", &prefix)?,
                    &format!("{prefix}arguments"),
                )?;
                for (j, a) in args.iter().enumerate() {
                    let ap = format!("{prefix}arguments[{j}].");
                    let a = cx.object(a, &format!("{prefix}arguments[{j}]"))?;
                    let role = cx.string(cx.get(a, "role", &ap)?, &format!("{ap}role"))?;
                    if event.role_index(&role).is_none() {
                        return Err(cx.err(
                            &format!("{ap}role"),
                            format!("{event_type} has no role `{role}`"),
                        ));
                    }
                    let argument =
                        cx.string(cx.get(a, "argument", &ap)?, &format!("{ap}argument"))?;
                    if argument.is_empty() {
                        return Err(cx.err(&format!("{ap}argument"), "empty argument"));
                    }
                    arguments.push(DueeArgument { role, argument });
                }
                events.push(DueeEvent {
                    event_type,
                    trigger,
                    arguments,
                });
            }
            Some(events)
        }
    };
    Ok(DueeDocument {
        id,
        title,
        text: body,
        events,
    })
}

/// Parses DuEE-fin JSON Lines text (`path` names the source in errors; blank lines skipped).
pub fn parse_duee(path: &Path, text: &str) -> Result<Vec<DueeDocument>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| parse_line(&LineCtx { path, line: i + 1 }, l, &DUEE_FIN))
        .collect()
}

/// Reads a DuEE-fin JSON Lines file.
pub fn read_duee(path: impl AsRef<Path>) -> Result<Vec<DueeDocument>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| DeeError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_duee(path, &text)
}

/// Python's `str.isspace` (Rust's White_Space plus the information separators U+001C–U+001F).
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn py_strip(s: &str) -> &str {
    s.trim_matches(py_space)
}

/// DocEE's `sent_seg` (Chinese, quotation mode) with extra split punctuation.
pub fn sent_seg(text: &str, extra: &[char]) -> Vec<String> {
    const QUOTES: [char; 5] = ['’', '”', '`', '\'', '"'];
    let punkt = |c: char| matches!(c, '。' | '？' | '！' | '…') || extra.contains(&c);
    let chars: Vec<char> = text.chars().collect();
    let mut marked = String::with_capacity(text.len() + 16);
    let mut i = 0;
    while i < chars.len() {
        if punkt(chars[i]) {
            while i < chars.len() && punkt(chars[i]) {
                marked.push(chars[i]);
                i += 1;
            }
            while i < chars.len() && QUOTES.contains(&chars[i]) {
                marked.push(chars[i]);
                i += 1;
            }
            marked.push('\n');
        } else {
            marked.push(chars[i]);
            i += 1;
        }
    }
    marked
        .split('\n')
        .map(py_strip)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fa5}').contains(&c)
}

fn clen(s: &str) -> usize {
    s.chars().count()
}

/// DocEE's `reorganise_sents` with `concat=True` (and `final_cut` for the recursive call).
pub fn reorganise_sents(sents: &[String], max_len: usize, final_cut: bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut group = String::new();
    for sent in sents {
        if clen(sent) + clen(&group) < max_len {
            if clen(&group) > 1 && group.chars().last().is_some_and(is_cjk) {
                group.push(' ');
            }
            group.push_str(sent);
        } else {
            if !group.is_empty() {
                out.push(std::mem::take(&mut group));
            }
            if clen(sent) > max_len {
                if final_cut {
                    group = sent.chars().take(max_len).collect();
                } else {
                    let pieces = sent_seg(sent, &['，', '、']);
                    out.extend(reorganise_sents(&pieces, max_len, true));
                }
            } else {
                group = sent.clone();
            }
        }
    }
    if !group.is_empty() {
        out.push(group);
    }
    out.into_iter()
        .filter(|s| !s.is_empty())
        .map(|s| py_strip(&s).to_string())
        .collect()
}

/// The sentences DocEE builds for a document: title first, then the text's sentences.
pub fn duee_sentences(doc: &DueeDocument, max_len: usize) -> Vec<String> {
    let sents = sent_seg(&doc.text, &['；']);
    let mut sents: Vec<String> = reorganise_sents(&sents, max_len, false)
        .into_iter()
        .filter(|s| clen(s) >= 5)
        .collect();
    if let Some(title) = &doc.title {
        sents.insert(0, title.clone());
    }
    sents
}

/// DocEE's `get_span_drange`: every non-overlapping occurrence of `span` in each sentence,
/// except occurrences glued to digits when the span starts or ends with a digit.
pub fn find_span(sents: &[String], span: &str) -> Vec<Drange> {
    let span_chars: Vec<char> = span.chars().collect();
    if span_chars.is_empty() {
        return Vec::new();
    }
    // The script compares the sentence length with the escaped pattern's length.
    let escaped_len = span_chars.len()
        + span_chars
            .iter()
            .filter(|c| matches!(c, '*' | '?' | '+' | '[' | ']' | '(' | ')' | '.' | '-'))
            .count();
    let digit = |c: char| c.is_ascii_digit();
    let first_digit = digit(span_chars[0]);
    let last_digit = digit(span_chars[span_chars.len() - 1]);
    let mut out = Vec::new();
    for (si, sent) in sents.iter().enumerate() {
        let chars: Vec<char> = sent.chars().collect();
        if chars.len() < escaped_len {
            continue;
        }
        let n = span_chars.len();
        let mut i = 0;
        while i + n <= chars.len() {
            if chars[i..i + n] != span_chars[..] {
                i += 1;
                continue;
            }
            let (s, e) = (i, i + n);
            i = e;
            let glued = (first_digit && s >= 1 && digit(chars[s - 1]))
                || (first_digit && s >= 2 && chars[s - 2] >= '0' && chars[s - 1] == '.')
                || (last_digit && e < chars.len() && digit(chars[e]))
                || (last_digit && e + 1 < chars.len() && chars[e] == '.' && digit(chars[e + 1]));
            if !glued {
                out.push([si, s, e]);
            }
        }
    }
    out
}

/// What the conversion dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConversionStats {
    /// Documents read.
    pub documents: usize,
    /// Documents skipped for having no events ("not valid").
    pub skipped_documents: usize,
    /// Events dropped because their trigger is found in no sentence.
    pub dropped_events: usize,
    /// Arguments dropped because they are found in no sentence.
    pub dropped_arguments: usize,
    /// Arguments overwritten by a later argument of the same role.
    pub overwritten_arguments: usize,
}

/// Converts DuEE-fin documents into the Doc2EDAG format without triggers. With `inference`
/// (test files without events), every document is kept with empty annotations.
pub fn convert_duee(
    docs: &[DueeDocument],
    max_len: usize,
    inference: bool,
) -> (Vec<Document>, ConversionStats) {
    let schema = &DUEE_FIN;
    let mut stats = ConversionStats {
        documents: docs.len(),
        ..Default::default()
    };
    let mut out = Vec::new();
    for d in docs {
        let sents = duee_sentences(d, max_len);
        let mut doc = Document::new(d.id.clone(), Some("unk".into()));
        doc.sentences = sents;
        let mut types: Vec<&str> = Vec::new();
        if !inference {
            let events = d.events.as_deref().unwrap_or(&[]);
            if events.is_empty() {
                stats.skipped_documents += 1;
                continue;
            }
            for (idx, ev) in events.iter().enumerate() {
                types.push(&ev.event_type);
                let Some((_, event)) = schema.event(&ev.event_type) else {
                    continue;
                };
                if find_span(&doc.sentences, &ev.trigger).is_empty() {
                    stats.dropped_events += 1;
                    continue;
                }
                let mut args: Vec<(String, Option<String>)> =
                    event.roles.iter().map(|r| (r.to_string(), None)).collect();
                for a in &ev.arguments {
                    let found = find_span(&doc.sentences, &a.argument);
                    if found.is_empty() {
                        stats.dropped_arguments += 1;
                        continue;
                    }
                    if let Some(slot) = args.iter_mut().find(|(r, _)| *r == a.role) {
                        if slot.1.is_some() {
                            stats.overwritten_arguments += 1;
                        }
                        slot.1 = Some(a.argument.clone());
                    }
                    doc.mspans.push(a.argument.clone());
                    match doc.mspan2field.iter_mut().find(|(s, _)| *s == a.argument) {
                        Some(entry) => entry.1 = a.role.clone(),
                        None => doc.mspan2field.push((a.argument.clone(), a.role.clone())),
                    }
                    match doc.mspan2dranges.iter_mut().find(|(s, _)| *s == a.argument) {
                        Some(entry) => entry.1 = found,
                        None => doc.mspan2dranges.push((a.argument.clone(), found)),
                    }
                }
                doc.records.push(Record {
                    guid: Json::from(idx),
                    event_type: ev.event_type.clone(),
                    args,
                });
            }
            doc.valid_dranges =
                ValidDranges::Nested(doc.mspan2dranges.iter().map(|(_, d)| d.clone()).collect());
        }
        let mut distinct = types.clone();
        distinct.sort_unstable();
        distinct.dedup();
        doc.doc_type = Some(
            match (distinct.len(), types.len()) {
                (0, _) => "unk",
                (1, 1) => "o2o",
                (1, _) => "o2m",
                _ => "m2m",
            }
            .into(),
        );
        out.push(doc);
    }
    (out, stats)
}
