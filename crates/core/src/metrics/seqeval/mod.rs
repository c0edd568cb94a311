//! Entity-level (span) precision, recall and F1 for sequence labelling, identical to `seqeval`.
//!
//! Two modes are provided, as in `seqeval` 1.2:
//!
//! * [`Mode::Default`] reproduces `seqeval.metrics.sequence_labeling.get_entities`: a lenient
//!   chunker that accepts any mix of `B-`, `I-`, `E-`, `S-` and `O` tags. Ill-formed sequences
//!   are repaired the way `seqeval` does it, e.g. an `I-X` after `O` (or after another type)
//!   starts a new `X` chunk. As in `seqeval`, the sentences are concatenated with an `O` after
//!   each one before chunking.
//! * [`Mode::Strict`] reproduces `mode='strict'` with an explicit `scheme`
//!   (`seqeval.scheme.Entities`): only entities that are well formed under the [`Scheme`] count,
//!   and tags whose prefix the scheme does not allow are an error.
//!
//! Types are taken from the part after the first `-` (default mode) or after stripping `-`
//! (strict mode); an empty type becomes `_`. With [`SeqevalConfig::suffix`] the tag letter is
//! the last character instead (`PER-B`).
//!
//! Scores follow `seqeval.metrics.classification_report`: per-type, micro, macro and weighted
//! averages with zero division giving 0.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

mod default;
mod strict;

use default::default_entities;
pub use default::get_entities;
use strict::strict_sentence_entities;

use super::classification::Prf;
use super::error::{MetricsError, Result, check_same_len};
use super::pycompat::{numpy_mean, numpy_weighted_mean};

/// A tagging scheme for strict mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scheme {
    /// IOB1: `B-` only separates two adjacent chunks of the same type.
    Iob1,
    /// IOB2 (a.k.a. BIO): every chunk starts with `B-`.
    Iob2,
    /// IOE1: `E-` only separates two adjacent chunks of the same type.
    Ioe1,
    /// IOE2: every chunk ends with `E-`.
    Ioe2,
    /// IOBES (a.k.a. BIOES, BIOLU with `E`/`S`): `B-`, `I-`, `E-` and single-token `S-` chunks.
    Iobes,
    /// BILOU: `B-`, `I-`, `L-` and single-token `U-` chunks.
    Bilou,
}

impl Scheme {
    /// The scheme's name as `seqeval` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Iob1 => "IOB1",
            Scheme::Iob2 => "IOB2",
            Scheme::Ioe1 => "IOE1",
            Scheme::Ioe2 => "IOE2",
            Scheme::Iobes => "IOBES",
            Scheme::Bilou => "BILOU",
        }
    }
}

impl std::str::FromStr for Scheme {
    type Err = MetricsError;

    /// Parses `IOB1`, `IOB2`/`BIO`, `IOE1`, `IOE2`, `IOBES`/`BIOES`, `BILOU` (any case).
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().as_str() {
            "IOB1" => Ok(Scheme::Iob1),
            "IOB2" | "BIO" => Ok(Scheme::Iob2),
            "IOE1" => Ok(Scheme::Ioe1),
            "IOE2" => Ok(Scheme::Ioe2),
            "IOBES" | "BIOES" => Ok(Scheme::Iobes),
            "BILOU" => Ok(Scheme::Bilou),
            _ => Err(MetricsError::InvalidParameter {
                name: "scheme",
                reason: format!("unknown tagging scheme {s:?}"),
            }),
        }
    }
}

/// How entities are read off the tag sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Mode {
    /// `seqeval`'s default, lenient chunking (`get_entities`).
    #[default]
    Default,
    /// `mode='strict'` with the given scheme: only well-formed entities count.
    Strict(Scheme),
}

/// Options of the span metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct SeqevalConfig {
    /// Default or strict chunking.
    pub mode: Mode,
    /// Tags carry their letter at the end (`PER-B`) instead of the start (`B-PER`).
    pub suffix: bool,
}

impl SeqevalConfig {
    /// Strict mode with `scheme`, prefix tags.
    pub fn strict(scheme: Scheme) -> Self {
        Self {
            mode: Mode::Strict(scheme),
            suffix: false,
        }
    }
}

/// One labelled span.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entity {
    /// Index of the sentence the span starts in.
    pub sentence: usize,
    /// First token of the span.
    pub start: usize,
    /// One past the last token of the span (exclusive end).
    pub end: usize,
    /// Entity type (`_` for an untyped tag such as a bare `B`).
    pub label: String,
}

/// Scores of one entity type, or an average over types.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct TypeScores {
    /// Precision in `[0, 1]`.
    pub precision: f64,
    /// Recall in `[0, 1]`.
    pub recall: f64,
    /// F1 in `[0, 1]`.
    pub f1: f64,
    /// Number of gold entities.
    pub support: usize,
    /// Number of predicted entities.
    pub n_pred: usize,
    /// Number of predicted entities that match a gold entity exactly.
    pub tp: usize,
}

impl TypeScores {
    /// Precision, recall and F1 only.
    pub fn prf(&self) -> Prf {
        Prf {
            precision: self.precision,
            recall: self.recall,
            f1: self.f1,
        }
    }

    fn from_counts(tp: usize, n_pred: usize, support: usize) -> Self {
        let div = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let precision = div(tp, n_pred);
        let recall = div(tp, support);
        Self {
            precision,
            recall,
            f1: seqeval_f1(precision, recall),
            support,
            n_pred,
            tp,
        }
    }
}

/// `seqeval`'s F1 from precision and recall (`(1 + β²)·p·r / (β²·p + r)`, β = 1).
fn seqeval_f1(p: f64, r: f64) -> f64 {
    let denom = p + r;
    if denom == 0.0 {
        0.0
    } else {
        2.0 * p * r / denom
    }
}

/// A `seqeval.metrics.classification_report`: per-type and averaged scores.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SeqevalReport {
    /// Scores of every type present in gold or prediction, sorted by type name.
    pub per_type: BTreeMap<String, TypeScores>,
    /// Micro average (pooled counts); its F1 is the usual "entity F1".
    pub micro: TypeScores,
    /// Unweighted mean over types.
    pub macro_avg: TypeScores,
    /// Mean over types weighted by gold support.
    pub weighted_avg: TypeScores,
}

impl SeqevalReport {
    /// The report as `seqeval.metrics.classification_report(..., digits=digits)` prints it.
    pub fn to_table(&self, digits: usize) -> String {
        let name_width = self
            .per_type
            .keys()
            .map(|k| k.chars().count())
            .max()
            .unwrap_or(0);
        let width = name_width.max("weighted avg".len()).max(digits);
        let mut out = format!(
            "{:>width$}  {:>9} {:>9} {:>9} {:>9}\n\n",
            "", "precision", "recall", "f1-score", "support"
        );
        let row = |name: &str, s: &TypeScores| {
            format!(
                "{name:>width$}  {:>9.digits$} {:>9.digits$} {:>9.digits$} {:>9}\n",
                s.precision, s.recall, s.f1, s.support
            )
        };
        for (name, s) in &self.per_type {
            out += &row(name, s);
        }
        out.push('\n');
        out += &row("micro avg", &self.micro);
        out += &row("macro avg", &self.macro_avg);
        out += &row("weighted avg", &self.weighted_avg);
        out
    }
}

impl fmt::Display for SeqevalReport {
    /// Same as [`SeqevalReport::to_table`] with 2 digits (`seqeval`'s default).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_table(2))
    }
}

/// Extracts the entities of all sentences under `config`.
pub fn entities<S: AsRef<str>, T: AsRef<[S]>>(
    sentences: &[T],
    config: &SeqevalConfig,
) -> Result<Vec<Entity>> {
    match config.mode {
        Mode::Default => default_entities(sentences, config.suffix),
        Mode::Strict(scheme) => {
            let mut out = Vec::new();
            for (si, sent) in sentences.iter().enumerate() {
                let tags: Vec<&str> = sent.as_ref().iter().map(AsRef::as_ref).collect();
                strict_sentence_entities(si, &tags, scheme, config.suffix, &mut out)?;
            }
            Ok(out)
        }
    }
}

fn check_lengths<S: AsRef<str>, T: AsRef<[S]>>(gold: &[T], pred: &[T]) -> Result<()> {
    check_same_len("predicted vs gold sentences", gold.len(), pred.len())?;
    for (i, (g, p)) in gold.iter().zip(pred).enumerate() {
        let (g, p) = (g.as_ref().len(), p.as_ref().len());
        if g != p {
            return Err(MetricsError::SentenceLengthMismatch {
                sentence: i,
                gold: g,
                pred: p,
            });
        }
    }
    Ok(())
}

/// Scores `pred` against `gold` (`seqeval.metrics.classification_report` as numbers).
///
/// Errors if the number of sentences or the length of any sentence differs, if a tag is
/// empty, or (strict mode) if a tag is not valid under the scheme.
pub fn evaluate<S: AsRef<str>, T: AsRef<[S]>>(
    gold: &[T],
    pred: &[T],
    config: &SeqevalConfig,
) -> Result<SeqevalReport> {
    check_lengths(gold, pred)?;
    let mut by_type: BTreeMap<String, (BTreeSet<Entity>, BTreeSet<Entity>)> = BTreeMap::new();
    for e in entities(gold, config)? {
        by_type.entry(e.label.clone()).or_default().0.insert(e);
    }
    for e in entities(pred, config)? {
        by_type.entry(e.label.clone()).or_default().1.insert(e);
    }
    let per_type: BTreeMap<String, TypeScores> = by_type
        .into_iter()
        .map(|(label, (g, p))| {
            let tp = g.intersection(&p).count();
            (label, TypeScores::from_counts(tp, p.len(), g.len()))
        })
        .collect();

    let rows: Vec<&TypeScores> = per_type.values().collect();
    let tp: usize = rows.iter().map(|s| s.tp).sum();
    let n_pred: usize = rows.iter().map(|s| s.n_pred).sum();
    let support: usize = rows.iter().map(|s| s.support).sum();
    let micro = TypeScores::from_counts(tp, n_pred, support);

    let col = |f: fn(&TypeScores) -> f64| -> Vec<f64> { rows.iter().map(|s| f(s)).collect() };
    let (p, r, f) = (col(|s| s.precision), col(|s| s.recall), col(|s| s.f1));
    let weights: Vec<f64> = rows.iter().map(|s| s.support as f64).collect();
    let avg = |mean: &dyn Fn(&[f64]) -> Option<f64>| TypeScores {
        precision: mean(&p).unwrap_or(0.0),
        recall: mean(&r).unwrap_or(0.0),
        f1: mean(&f).unwrap_or(0.0),
        support,
        n_pred,
        tp,
    };
    let macro_avg = avg(&numpy_mean);
    let weighted_avg = avg(&|v| numpy_weighted_mean(v, &weights));
    Ok(SeqevalReport {
        per_type,
        micro,
        macro_avg,
        weighted_avg,
    })
}

/// Micro-averaged entity precision, recall and F1 (`seqeval.metrics.f1_score` etc.).
pub fn precision_recall_f1<S: AsRef<str>, T: AsRef<[S]>>(
    gold: &[T],
    pred: &[T],
    config: &SeqevalConfig,
) -> Result<Prf> {
    Ok(evaluate(gold, pred, config)?.micro.prf())
}

/// Token-level accuracy over all sentences (`seqeval.metrics.accuracy_score`).
pub fn token_accuracy<S: AsRef<str>, T: AsRef<[S]>>(gold: &[T], pred: &[T]) -> Result<f64> {
    check_lengths(gold, pred)?;
    let mut total = 0usize;
    let mut correct = 0usize;
    for (g, p) in gold.iter().zip(pred) {
        for (a, b) in g.as_ref().iter().zip(p.as_ref()) {
            total += 1;
            correct += usize::from(a.as_ref() == b.as_ref());
        }
    }
    if total == 0 {
        return Err(MetricsError::EmptyInput("no tags"));
    }
    Ok(correct as f64 / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ents(tags: &[&str]) -> Vec<(String, usize, usize)> {
        get_entities(tags, false).unwrap()
    }

    #[test]
    fn get_entities_docstring() {
        assert_eq!(
            ents(&["B-PER", "I-PER", "O", "B-LOC"]),
            vec![("PER".to_string(), 0, 2), ("LOC".to_string(), 3, 4)]
        );
    }

    #[test]
    fn lenient_repairs_ill_formed() {
        // I- without B- starts a chunk; a type change inside a chunk splits it.
        assert_eq!(
            ents(&["I-PER", "I-PER", "I-LOC", "O", "E-ORG"]),
            vec![
                ("PER".to_string(), 0, 2),
                ("LOC".to_string(), 2, 3),
                ("ORG".to_string(), 4, 5)
            ]
        );
    }

    #[test]
    fn strict_drops_ill_formed() {
        let gold = vec![vec!["B-PER", "I-PER", "O", "I-LOC"]];
        let cfg = SeqevalConfig::strict(Scheme::Iob2);
        let e = entities(&gold, &cfg).unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].start, e[0].end, e[0].label.as_str()), (0, 2, "PER"));
        let lenient = entities(&gold, &SeqevalConfig::default()).unwrap();
        assert_eq!(lenient.len(), 2);
    }

    #[test]
    fn strict_rejects_bad_prefix() {
        let gold = vec![vec!["B-PER", "S-PER"]];
        let err = entities(&gold, &SeqevalConfig::strict(Scheme::Iob2)).unwrap_err();
        assert!(matches!(
            err,
            MetricsError::InvalidTag {
                sentence: 0,
                token: 1,
                ..
            }
        ));
        let gold = vec![vec!["X-PER"]];
        assert!(entities(&gold, &SeqevalConfig::strict(Scheme::Iobes)).is_err());
    }

    #[test]
    fn report_docstring() {
        let y_true = vec![
            vec!["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"],
            vec!["B-PER", "I-PER", "O"],
        ];
        let y_pred = vec![
            vec!["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"],
            vec!["B-PER", "I-PER", "O"],
        ];
        let rep = evaluate(&y_true, &y_pred, &SeqevalConfig::default()).unwrap();
        let expected = "              precision    recall  f1-score   support\n\n\
                        \x20       MISC       0.00      0.00      0.00         1\n\
                        \x20        PER       1.00      1.00      1.00         1\n\n\
                        \x20  micro avg       0.50      0.50      0.50         2\n\
                        \x20  macro avg       0.50      0.50      0.50         2\n\
                        weighted avg       0.50      0.50      0.50         2\n";
        assert_eq!(rep.to_string(), expected);
        assert_eq!(rep.micro.f1, 0.5);
    }

    #[test]
    fn length_mismatch_names_sentence() {
        let g = vec![vec!["O"], vec!["O", "B-X"]];
        let p = vec![vec!["O"], vec!["O"]];
        assert_eq!(
            evaluate(&g, &p, &SeqevalConfig::default()).unwrap_err(),
            MetricsError::SentenceLengthMismatch {
                sentence: 1,
                gold: 2,
                pred: 1
            }
        );
    }
}
