//! Readers for the formats users have: GLUE TSV (RTE, CoLA, MRPC, STS-B, SST-2), XNLI and
//! PAWS-X (the XGLUE/XTREME TSV copies), JSON Lines with `premise`/`hypothesis`/`label`/`lang`,
//! and Tatoeba's line-aligned sentence pairs.
//!
//! Every reader yields text-cls [`Example`]s; a language (from a `LANG=PATH` argument or a
//! JSON Lines `lang` field) becomes the example's group, which S4-Tuning masks per language.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use burnlp_core::data::{TsvOptions, read_jsonl, read_tsv_with};
use serde::{Deserialize, Serialize};
use text_cls::{Columns, Example, Head};

use crate::error::SubnetError;

/// A task: which reader, which head and which GLUE metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// RTE: header `sentence1 sentence2 label` (labels 0/1 as exported by Hugging Face, or
    /// `entailment`/`not_entailment` as in the GLUE zip); accuracy.
    Rte,
    /// CoLA: no header, `source label mark sentence`; Matthews correlation.
    Cola,
    /// MRPC: header `Quality #1 ID #2 ID #1 String #2 String`; F1 of the paraphrase class.
    Mrpc,
    /// STS-B: header with `sentence1 sentence2 score`; regression, Pearson/Spearman.
    Stsb,
    /// SST-2: header `sentence label`; accuracy.
    Sst2,
    /// XNLI (XGLUE copy): no header, `premise hypothesis label`; accuracy.
    Xnli,
    /// PAWS-X: header `id sentence1 sentence2 label`; accuracy.
    Pawsx,
    /// JSON Lines with `premise` (or `sentence1`), `hypothesis` (or `sentence2`, optional),
    /// `label` (string or number) and optional `lang`; accuracy.
    Jsonl,
}

impl Task {
    /// Classification or regression.
    pub fn head(self) -> Head {
        match self {
            Task::Stsb => Head::Regression,
            _ => Head::Classification,
        }
    }

    /// The GLUE dev metric of the task (the model-selection metric).
    pub fn metric(self) -> &'static str {
        match self {
            Task::Cola => "mcc",
            Task::Mrpc => "f1",
            Task::Stsb => "corr",
            _ => "accuracy",
        }
    }

    /// Reads a file of this task; every example gets `group` (a language) when given.
    pub fn read(self, path: &Path, group: Option<&str>) -> Result<Vec<Example>, SubnetError> {
        let examples = match self {
            Task::Rte | Task::Pawsx => columns(path, "sentence1", Some("sentence2"), "label")?,
            Task::Stsb => columns(path, "sentence1", Some("sentence2"), "score")?,
            Task::Sst2 => columns(path, "sentence", None, "label")?,
            Task::Mrpc => columns(path, "#1 String", Some("#2 String"), "Quality")?,
            Task::Cola => {
                let options = TsvOptions::with_columns(["source", "label", "mark", "sentence"]);
                let rows = read_tsv_with::<ColaRow>(path, &options)?;
                // The label column is parsed as a number, so a header line is refused too.
                if let Some((i, problem)) = rows.iter().enumerate().find_map(|(i, r)| {
                    let problem = if r.label > 1 {
                        Some(format!("label {} is not 0 or 1", r.label))
                    } else if r.sentence.trim().is_empty() {
                        Some("the sentence is empty".to_owned())
                    } else {
                        None
                    };
                    problem.map(|p| (i, p))
                }) {
                    return Err(SubnetError::Record {
                        path: path.to_owned(),
                        record: i + 1,
                        message: problem,
                    });
                }
                rows.into_iter()
                    .map(|r| Example::new(r.sentence, None, r.label.to_string()))
                    .collect()
            }
            Task::Xnli => {
                let options = TsvOptions::with_columns(["premise", "hypothesis", "label"]);
                read_tsv_with::<PairRow>(path, &options)?
                    .into_iter()
                    .map(|r| Example::new(r.premise, Some(r.hypothesis), r.label))
                    .collect()
            }
            Task::Jsonl => read_nli_jsonl(path)?,
        };
        if examples.is_empty() {
            return Err(SubnetError::Empty {
                path: path.to_owned(),
            });
        }
        Ok(match group {
            Some(group) => examples.into_iter().map(|e| e.with_group(group)).collect(),
            None => examples,
        })
    }
}

#[derive(Deserialize)]
struct ColaRow {
    label: u8,
    sentence: String,
}

#[derive(Deserialize)]
struct PairRow {
    premise: String,
    hypothesis: String,
    label: String,
}

fn columns(
    path: &Path,
    text: &str,
    pair: Option<&str>,
    label: &str,
) -> Result<Vec<Example>, SubnetError> {
    let columns = Columns {
        text: text.into(),
        pair: pair.map(str::to_string),
        label: label.into(),
    };
    Ok(text_cls::read_tsv(path, &columns)?)
}

/// One JSON Lines record of an NLI-style file.
#[derive(Deserialize)]
struct NliRecord {
    #[serde(alias = "sentence1")]
    premise: String,
    #[serde(default, alias = "sentence2")]
    hypothesis: Option<String>,
    label: serde_json::Value,
    #[serde(default)]
    lang: Option<String>,
}

/// Reads JSON Lines records `{"premise", "hypothesis", "label", "lang"}` (`sentence1`/`sentence2`
/// accepted as names, `label` a string or a number); `lang` becomes the example's group.
pub fn read_nli_jsonl(path: &Path) -> Result<Vec<Example>, SubnetError> {
    let records: Vec<NliRecord> = read_jsonl(path)?;
    records
        .into_iter()
        .enumerate()
        .map(|(i, record)| {
            let label = match &record.label {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => u8::from(*b).to_string(),
                other => {
                    return Err(SubnetError::Record {
                        path: path.to_owned(),
                        record: i + 1,
                        message: format!("`label` must be a string or a number, not {other}"),
                    });
                }
            };
            let example = Example::new(record.premise, record.hypothesis, label);
            Ok(match record.lang {
                Some(lang) => example.with_group(lang),
                None => example,
            })
        })
        .collect()
}

/// A data file argument: `PATH`, or `LANG=PATH` to put its examples in language `LANG`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFile {
    /// The language, when given.
    pub lang: Option<String>,
    /// The file.
    pub path: PathBuf,
}

impl FromStr for DataFile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once('=') {
            Some((lang, path)) if is_language_code(lang) => Ok(Self {
                lang: Some(lang.to_string()),
                path: PathBuf::from(path),
            }),
            _ if s.is_empty() => Err("empty file name".into()),
            _ => Ok(Self {
                lang: None,
                path: PathBuf::from(s),
            }),
        }
    }
}

impl fmt::Display for DataFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.lang {
            Some(lang) => write!(f, "{lang}={}", self.path.display()),
            None => write!(f, "{}", self.path.display()),
        }
    }
}

fn is_language_code(s: &str) -> bool {
    (2..=8).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Reads and concatenates several files of one task.
pub fn read_files(task: Task, files: &[DataFile]) -> Result<Vec<Example>, SubnetError> {
    let mut out = Vec::new();
    for file in files {
        out.extend(task.read(&file.path, file.lang.as_deref())?);
    }
    Ok(out)
}

/// Tatoeba's line-aligned test set of one language pair: `tatoeba.<xxx>-eng.<xxx>` and
/// `tatoeba.<xxx>-eng.eng`, line `i` of one the translation of line `i` of the other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TatoebaPairs {
    /// The language code (`deu`, `khm`, …).
    pub lang: String,
    /// Sentences in the language.
    pub source: Vec<String>,
    /// Their English translations.
    pub english: Vec<String>,
}

/// Reads the Tatoeba pair of `lang` from `dir`; the two files must have the same number of
/// lines, and no line may be empty.
pub fn read_tatoeba(dir: &Path, lang: &str) -> Result<TatoebaPairs, SubnetError> {
    let read = |ext: &str| -> Result<(PathBuf, Vec<String>), SubnetError> {
        let path = dir.join(format!("tatoeba.{lang}-eng.{ext}"));
        let text = std::fs::read_to_string(&path).map_err(|e| SubnetError::Record {
            path: path.clone(),
            record: 0,
            message: format!("cannot read ({e})"),
        })?;
        let lines: Vec<String> = text
            .lines()
            .map(|l| l.trim_end_matches('\r').to_string())
            .collect();
        if let Some(i) = lines.iter().position(|l| l.trim().is_empty()) {
            return Err(SubnetError::Record {
                path,
                record: i + 1,
                message: "empty line".into(),
            });
        }
        Ok((path, lines))
    };
    let (source_path, source) = read(lang)?;
    let (english_path, english) = read("eng")?;
    if source.len() != english.len() {
        return Err(SubnetError::Record {
            path: english_path,
            record: english.len().min(source.len()) + 1,
            message: format!(
                "{} has {} lines but {} has {}",
                source_path.display(),
                source.len(),
                "this file",
                english.len()
            ),
        });
    }
    Ok(TatoebaPairs {
        lang: lang.to_string(),
        source,
        english,
    })
}

/// Counts examples per group (language), `None` for ungrouped ones.
pub fn group_sizes(examples: &[Example]) -> HashMap<Option<String>, usize> {
    let mut sizes = HashMap::new();
    for example in examples {
        *sizes.entry(example.group.clone()).or_default() += 1;
    }
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_file_arguments() {
        let plain: DataFile = "data/train.tsv".parse().unwrap();
        assert_eq!(plain.lang, None);
        let de: DataFile = "de=data/de.tsv".parse().unwrap();
        assert_eq!(de.lang.as_deref(), Some("de"));
        assert_eq!(de.path, PathBuf::from("data/de.tsv"));
        assert_eq!(de.to_string(), "de=data/de.tsv");
        // An `=` in a path that is not after a language code stays part of the path.
        let odd: DataFile = "runs/a=b c/x.tsv".parse().unwrap();
        assert_eq!(odd.lang, None);
    }
}
