//! Readers of the task files: XNLI (the XGLUE/XTREME TSV copy: `premise hypothesis label`, no
//! header), PAWS-X (header `id sentence1 sentence2 label`) and GLUE RTE (header
//! `sentence1 sentence2 label idx`), all as text-cls [`Example`]s; a file given as
//! `LANG=PATH` tags its examples with the language `LANG` (their [`Example::group`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use burnlp_core::data::{TsvOptions, read_tsv_with};
use serde::{Deserialize, Serialize};
use text_cls::{Columns, Example};

use crate::error::{MlPruneError, Result};

/// A sentence-pair classification task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// XNLI: no header, `premise<TAB>hypothesis<TAB>label`.
    Xnli,
    /// PAWS-X: header with `sentence1`, `sentence2`, `label`.
    Pawsx,
    /// GLUE RTE: header with `sentence1`, `sentence2`, `label` (the monolingual comparison).
    Rte,
}

#[derive(Deserialize)]
struct XnliRow {
    premise: String,
    hypothesis: String,
    label: String,
}

impl Task {
    /// Reads a file of this task; an empty file is an error naming it.
    pub fn read(self, path: &Path) -> Result<Vec<Example>> {
        let examples = match self {
            Task::Xnli => {
                let options = TsvOptions::with_columns(["premise", "hypothesis", "label"]);
                read_tsv_with::<XnliRow>(path, &options)?
                    .into_iter()
                    .map(|r| Example::new(r.premise, Some(r.hypothesis), r.label))
                    .collect()
            }
            Task::Pawsx | Task::Rte => text_cls::read_tsv(
                path,
                &Columns {
                    text: "sentence1".into(),
                    pair: Some("sentence2".into()),
                    label: "label".into(),
                },
            )?,
        };
        if examples.is_empty() {
            return Err(MlPruneError::invalid(
                path.display().to_string(),
                "the file has no examples",
            ));
        }
        Ok(examples)
    }
}

/// The text of an example as one string (text and pair), for overlap checks.
pub fn example_key(example: &Example) -> String {
    match &example.pair {
        Some(pair) => format!("{}\t{pair}", example.text),
        None => example.text.clone(),
    }
}

/// A data file, optionally tagged with its language: `PATH` or `LANG=PATH` (for
/// `--setting per-language`, one file per language).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LangPath {
    /// The language, if given.
    pub lang: Option<String>,
    /// The file.
    pub path: PathBuf,
}

impl std::str::FromStr for LangPath {
    type Err = String;

    /// `de=data/de.tsv` or `data/de.tsv`; a language is letters, digits, `-` or `_`.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if let Some((lang, path)) = s.split_once('=') {
            let valid = !lang.is_empty()
                && lang
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if valid {
                if path.is_empty() {
                    return Err(format!("`{s}`: no file after `{lang}=`"));
                }
                return Ok(Self {
                    lang: Some(lang.to_string()),
                    path: PathBuf::from(path),
                });
            }
        }
        if s.is_empty() {
            return Err("an empty file name".into());
        }
        Ok(Self {
            lang: None,
            path: PathBuf::from(s),
        })
    }
}

impl Task {
    /// Reads every file, tagging each example with its file's language, in the given order.
    pub fn read_all(self, files: &[LangPath]) -> Result<Vec<Example>> {
        let mut examples = Vec::new();
        for file in files {
            let read = self.read(&file.path)?;
            examples.extend(read.into_iter().map(|e| match &file.lang {
                Some(lang) => e.with_group(lang.clone()),
                None => e,
            }));
        }
        Ok(examples)
    }
}

/// The languages of a set, sorted; an example without one is an error naming the set and its
/// record number.
pub fn languages(examples: &[Example], what: &str) -> Result<Vec<String>> {
    let mut langs = BTreeSet::new();
    for (i, e) in examples.iter().enumerate() {
        match &e.group {
            Some(lang) => {
                langs.insert(lang.clone());
            }
            None => {
                return Err(MlPruneError::invalid(
                    what,
                    format!(
                        "example {} has no language (give every file as LANG=PATH for --setting per-language)",
                        i + 1
                    ),
                ));
            }
        }
    }
    if langs.is_empty() {
        return Err(MlPruneError::invalid(what, "no examples"));
    }
    Ok(langs.into_iter().collect())
}

/// The examples of one language.
pub fn only_language(examples: &[Example], lang: &str) -> Vec<Example> {
    examples
        .iter()
        .filter(|e| e.group.as_deref() == Some(lang))
        .cloned()
        .collect()
}
