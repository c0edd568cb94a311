//! The ESFT task scorers (§8 of the spec), as the reference `benchmarks.py` computes them.
//!
//! - **Intent** ([`intent_score`]): the prediction is post-processed ([`intent_post_process`]:
//!   stripped, a fenced ```` ```json ```` block or else the first non-empty line kept, `.`/`。`
//!   stripped), parsed as JSON and compared with the reference JSON: score 1 iff the intents are
//!   equal and the slot sets are equal. Predicted slot values have their spaces removed (the
//!   reference's are not); list values are compared as their sorted items' Python tuple text.
//!   An unparsable prediction scores 0.
//! - **Summary, law, translation**: a GPT-4 judge's answer; [`parse_judge_score`] reads the
//!   score x/10 with the reference patterns (`总分是：x分`, `score: x points`) and divides by 10.
//!   The official completion files store the judged score only (not the judge's text), so
//!   [`score_completions`] averages the stored scores for these tasks.
//! - Task score ([`task_score`]): mean over examples × 100.
//!
//! Where the reference would raise instead of scoring (a prediction that parses as JSON but is
//! not an object, a fenced block with nothing but blank lines), the prediction scores 0 here.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::OnceLock;

use regex::Regex;
use serde::Serialize;
use serde_json::Value;

use crate::esft_data::{At, Completion, EsftDataError, Result, py_strip, read_completions};

/// An ESFT evaluation task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EsftTask {
    /// Chinese NLU → JSON; exact match.
    Intent,
    /// Customer-service call summarisation; GPT-4 judged (Chinese rubric).
    Summary,
    /// Legal judgement prediction; GPT-4 judged (Chinese rubric).
    Law,
    /// Cherokee → English; GPT-4 judged (English rubric).
    Translation,
}

impl EsftTask {
    /// All tasks with evaluation data.
    pub const ALL: [Self; 4] = [Self::Intent, Self::Summary, Self::Law, Self::Translation];

    /// The task's name in file names.
    pub fn name(self) -> &'static str {
        match self {
            Self::Intent => "intent",
            Self::Summary => "summary",
            Self::Law => "law",
            Self::Translation => "translation",
        }
    }

    /// True when the official score comes from the GPT-4 judge.
    pub fn is_judged(self) -> bool {
        self != Self::Intent
    }
}

impl std::fmt::Display for EsftTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EsftTask {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| {
                format!("unknown task `{s}` (expected intent, summary, law or translation)")
            })
    }
}

// ---------------------------------------------------------------------------------------------
// Intent exact match.

/// `IntentEvaluator.post_process`: strip whitespace (an empty prediction becomes `None`),
/// strip `.`/`。`; keep the inside of a ```` ```json … ``` ```` block (`{}` when it is not
/// closed); keep the first non-empty line; strip `.`/`。` again.
pub fn intent_post_process(raw_prediction: &str) -> String {
    let strip_dots = |s: &str| s.trim_matches(['.', '。']).to_owned();
    let mut pred = py_strip(raw_prediction).to_owned();
    if pred.is_empty() {
        pred = "None".to_owned();
    }
    pred = strip_dots(&pred);
    if let Some(start) = pred.find("```json") {
        let rest = &pred[start + "```json".len()..];
        pred = match rest.find("```") {
            Some(end) => rest[..end].to_owned(),
            None => "{}".to_owned(),
        };
    }
    if pred.contains('\n') {
        // The reference indexes `[0]` of the non-empty lines and raises when there is none.
        pred = pred
            .split('\n')
            .find(|l| !l.is_empty())
            .unwrap_or("")
            .to_owned();
    }
    strip_dots(&pred)
}

/// Python's `repr` of a string (quotes chosen as Python does; `\\`, the quote, `\n`, `\r`,
/// `\t` and non-printable characters escaped).
fn py_repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if !py_printable(c) => {
                let n = u32::from(c);
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `str.isprintable` for one character, approximately: control characters, the
/// separators other than the ASCII space and the common format characters are not printable
/// (Python also counts unassigned and private-use code points, which are not listed here).
fn py_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}' | '\u{feff}'))
}

/// Python's `repr` of a float (shortest round-trip digits; exponent form below 1e-4 and from
/// 1e16 on).
fn py_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    let sci = format!("{f:e}"); // e.g. "-1.5e16", "1e-5"
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let plain = format!("{f}");
        if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

/// Python's `str()` of a JSON value as `json.loads` returns it (`repr` inside containers).
fn py_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

fn py_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (None, Some(u), _) => u.to_string(),
            (None, None, Some(f)) => py_float(f),
            _ => n.to_string(),
        },
        Value::String(s) => py_repr_str(s),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(py_repr).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", py_repr_str(k), py_repr(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

/// `str(tuple(sorted(items)))` for strings.
fn py_tuple_text(mut items: Vec<String>) -> String {
    items.sort();
    let reprs: Vec<String> = items.iter().map(|s| py_repr_str(s)).collect();
    match reprs.len() {
        1 => format!("({},)", reprs[0]),
        _ => format!("({})", reprs.join(", ")),
    }
}

/// Python `==` between JSON values as `json.loads` returns them (numbers and booleans compare
/// by value: `1 == 1.0 == True`).
fn py_eq(a: &Value, b: &Value) -> bool {
    let number = |v: &Value| match v {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Number(n) => n.as_f64(),
        _ => None,
    };
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
        }
        _ => match (number(a), number(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

/// A reference slot value as the reference's set holds it: text (a string, or a list's tuple
/// text), or another scalar, which no predicted value (always text) can equal.
enum Reference {
    Text(String),
    Other,
}

/// The reference of an intent example: its intent and slots.
struct IntentReference {
    intent: Value,
    slots: BTreeMap<String, Reference>,
}

fn parse_reference(reference: &str) -> std::result::Result<IntentReference, String> {
    let value: Value = serde_json::from_str(reference)
        .map_err(|e| format!("the reference is not JSON ({e}): {reference:?}"))?;
    let Value::Object(object) = value else {
        return Err(format!("the reference is not a JSON object: {reference:?}"));
    };
    let intent = object
        .get("intent")
        .cloned()
        .unwrap_or_else(|| Value::String(String::new()));
    let slots = match object.get("slots") {
        None => BTreeMap::new(),
        Some(Value::Object(slots)) => slots
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::String(s) => Reference::Text(s.clone()),
                    Value::Array(items) => {
                        Reference::Text(py_tuple_text(items.iter().map(py_str).collect()))
                    }
                    Value::Object(_) => {
                        return Err(format!(
                            "the reference's slot `{k}` is an object (the reference scorer \
                             cannot hash it)"
                        ));
                    }
                    _ => Reference::Other,
                };
                Ok((k.clone(), value))
            })
            .collect::<std::result::Result<_, String>>()?,
        Some(_) => {
            return Err(format!(
                "the reference's `slots` is not an object: {reference:?}"
            ));
        }
    };
    Ok(IntentReference { intent, slots })
}

/// `IntentEvaluator._metrics` on a post-processed prediction: 1 iff the prediction parses as
/// a JSON object whose intent equals the reference's and whose slot set equals the
/// reference's; 0 otherwise. An error only when the reference itself is not an intent JSON
/// object (the reference scorer raises there too).
pub fn intent_metric(prediction: &str, reference: &str) -> std::result::Result<u8, String> {
    let reference = parse_reference(reference)?;
    let Ok(Value::Object(prediction)) = serde_json::from_str::<Value>(prediction) else {
        return Ok(0);
    };
    let empty = Value::String(String::new());
    let intent_equal = py_eq(
        prediction.get("intent").unwrap_or(&empty),
        &reference.intent,
    );
    let slots = match prediction.get("slots") {
        None => BTreeMap::new(),
        Some(Value::Object(slots)) => {
            let mut out = BTreeMap::new();
            for (k, v) in slots {
                let text = match v {
                    Value::String(s) => s.replace(' ', ""),
                    Value::Array(items) => {
                        py_tuple_text(items.iter().map(|i| py_str(i).replace(' ', "")).collect())
                    }
                    // `v.replace` raises on a non-string: the reference scores 0.
                    _ => return Ok(0),
                };
                out.insert(k.clone(), text);
            }
            out
        }
        // `.items()` raises on a non-object: the reference scores 0.
        Some(_) => return Ok(0),
    };
    let slots_equal = slots.len() == reference.slots.len()
        && slots
            .iter()
            .all(|(k, v)| matches!(reference.slots.get(k), Some(Reference::Text(r)) if r == v));
    Ok(u8::from(intent_equal && slots_equal))
}

/// The intent score of a raw prediction against the first reference: post-processing, then
/// [`intent_metric`].
pub fn intent_score(raw_prediction: &str, reference: &str) -> std::result::Result<u8, String> {
    intent_metric(&intent_post_process(raw_prediction), reference)
}

// ---------------------------------------------------------------------------------------------
// GPT-4 judge answers.

fn judge_pattern(task: EsftTask) -> Option<&'static Regex> {
    static CHINESE: OnceLock<Regex> = OnceLock::new();
    static ENGLISH: OnceLock<Regex> = OnceLock::new();
    let (cell, pattern) = match task {
        EsftTask::Intent => return None,
        EsftTask::Summary | EsftTask::Law => (&CHINESE, r"总分是：(\d+\.\d+|\d+)分"),
        EsftTask::Translation => (&ENGLISH, r"score: *?(\d+\.\d+|\d+) *?point"),
    };
    Some(cell.get_or_init(|| Regex::new(pattern).expect("constant pattern")))
}

/// The judge's score of a judged task's answer, divided by 10 (`GPT4Evaluator.parse_gpt4`):
/// the first match of `总分是：(\d+\.\d+|\d+)分` (summary, law) or
/// `score: *?(\d+\.\d+|\d+) *?point` (translation); 0 when there is none. `None` for intent,
/// which is not judged. Digits other than ASCII (which Python's `float` would read) give 0.
pub fn parse_judge_score(task: EsftTask, response: &str) -> Option<f64> {
    let pattern = judge_pattern(task)?;
    Some(
        pattern
            .captures(response)
            .and_then(|c| c.get(1))
            .and_then(|m| m.as_str().parse::<f64>().ok())
            .map_or(0.0, |x| x / 10.0),
    )
}

// ---------------------------------------------------------------------------------------------
// Task scores.

/// Task score: mean of the per-example scores × 100 (`None` without examples).
pub fn task_score(scores: &[f64]) -> Option<f64> {
    (!scores.is_empty()).then(|| 100.0 * scores.iter().sum::<f64>() / scores.len() as f64)
}

/// A completion whose recomputed score differs from the stored one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mismatch {
    /// 1-based line in the completion file.
    pub line: usize,
    /// The stored score.
    pub stored: f64,
    /// The recomputed score.
    pub computed: f64,
}

/// The scores of a completion file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreReport {
    /// The task.
    pub task: EsftTask,
    /// Examples.
    pub n: usize,
    /// Task score (mean × 100): recomputed for intent, the stored judge scores otherwise.
    pub score: f64,
    /// Mean × 100 of the stored per-example scores.
    pub stored_score: f64,
    /// True when `score` was recomputed from the predictions (intent).
    pub rescored: bool,
    /// Examples whose recomputed score differs from the stored one (none when not rescored).
    pub mismatches: Vec<Mismatch>,
}

/// Scores completions of `task` (`path` names their file in errors): intent completions are
/// re-scored; judged tasks' stored scores are averaged (the judge is not called).
pub fn score_records(
    task: EsftTask,
    completions: &[Completion],
    path: &Path,
) -> Result<ScoreReport> {
    let stored: Vec<f64> = completions.iter().map(|c| c.score).collect();
    let mut mismatches = Vec::new();
    let computed = if task.is_judged() {
        stored.clone()
    } else {
        let mut computed = Vec::with_capacity(completions.len());
        for c in completions {
            let at = At { path, line: c.line };
            let score = intent_score(&c.raw_prediction, c.reference())
                .map_err(|message| at.error("example.raw_answers[0]", message))?;
            let score = f64::from(score);
            if score != c.score {
                mismatches.push(Mismatch {
                    line: c.line,
                    stored: c.score,
                    computed: score,
                });
            }
            computed.push(score);
        }
        computed
    };
    let empty = || EsftDataError::Empty {
        path: path.to_path_buf(),
    };
    Ok(ScoreReport {
        task,
        n: completions.len(),
        score: task_score(&computed).ok_or_else(empty)?,
        stored_score: task_score(&stored).ok_or_else(empty)?,
        rescored: !task.is_judged(),
        mismatches,
    })
}

/// Reads a completion file and scores it ([`score_records`]).
pub fn score_completions(task: EsftTask, path: impl AsRef<Path>) -> Result<ScoreReport> {
    let path = path.as_ref();
    let completions = read_completions(path)?;
    score_records(task, &completions, path)
}
