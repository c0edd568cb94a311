//! GLUE-style TSV data: labelled texts and text pairs in named columns.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// One labelled text or text pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    /// The text (first sentence of a pair).
    pub text: String,
    /// The second sentence of a pair.
    pub pair: Option<String>,
    /// The label as written in the data (a number for a regression head).
    pub label: String,
    /// The example's group, e.g. its language: batches never mix groups, and a sub-network
    /// strategy may mask each group's gradient differently (S4-Tuning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl Example {
    /// An ungrouped text (`pair: None`) or text pair with its label.
    pub fn new(text: impl Into<String>, pair: Option<String>, label: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            pair,
            label: label.into(),
            group: None,
        }
    }

    /// The example in group `group`.
    pub fn with_group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }
}

/// Errors of reading data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The reader failed (file, line and cause are in the message).
    #[error(transparent)]
    Read(#[from] burnlp_core::data::DataError),
    /// A required column is absent from the header.
    #[error("{path}: no column `{column}` (columns: {available})")]
    MissingColumn {
        /// The file.
        path: String,
        /// The missing column.
        column: String,
        /// The header's columns.
        available: String,
    },
    /// A record with an empty text or label field.
    #[error("{path}: record {record}: the `{column}` field is empty")]
    EmptyField {
        /// The file.
        path: String,
        /// 1-based record number (data rows, header not counted).
        record: usize,
        /// The column.
        column: String,
    },
    /// Training data with a single class: no classifier can be learned from it.
    #[error("{path}: every record has the label `{label}`; a classifier needs at least two")]
    OneLabel {
        /// The file.
        path: String,
        /// The only label.
        label: String,
    },
    /// A label that the model does not know.
    #[error("{path}: record {record} has label `{label}`, which is not one of {known}")]
    UnknownLabel {
        /// The file.
        path: String,
        /// 1-based record number.
        record: usize,
        /// The label.
        label: String,
        /// The known labels.
        known: String,
    },
    /// A regression target that is not a finite number.
    #[error("{path}: record {record} has score `{label}`, which is not a finite number")]
    BadScore {
        /// The file.
        path: String,
        /// 1-based record number.
        record: usize,
        /// The label as written.
        label: String,
    },
}

/// Which TSV columns hold the text, the optional pair text and the label.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Columns {
    /// Column of the (first) text.
    pub text: String,
    /// Column of the second text, for pair tasks.
    pub pair: Option<String>,
    /// Column of the label.
    pub label: String,
}

/// Reads a TSV file with a header into examples.
pub fn read_tsv(path: &Path, columns: &Columns) -> Result<Vec<Example>, DataError> {
    let rows: Vec<HashMap<String, String>> = burnlp_core::data::read_tsv(path)?;
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let label = (!columns.label.is_empty()).then_some(&columns.label);
    for column in [Some(&columns.text), columns.pair.as_ref(), label]
        .into_iter()
        .flatten()
    {
        if !first.contains_key(column) {
            let mut available: Vec<&String> = first.keys().collect();
            available.sort();
            return Err(DataError::MissingColumn {
                path: path.display().to_string(),
                column: column.clone(),
                available: available
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    let required = [Some(&columns.text), columns.pair.as_ref(), label];
    rows.into_iter()
        .enumerate()
        .map(|(index, mut row)| {
            if let Some(column) = required
                .iter()
                .flatten()
                .find(|c| row.get(c.as_str()).is_none_or(|v| v.trim().is_empty()))
            {
                return Err(DataError::EmptyField {
                    path: path.display().to_string(),
                    record: index + 1,
                    column: (*column).clone(),
                });
            }
            Ok(Example::new(
                row.remove(&columns.text).unwrap_or_default(),
                columns.pair.as_ref().and_then(|c| row.remove(c)),
                row.remove(&columns.label).unwrap_or_default(),
            ))
        })
        .collect()
}

/// Checks classification data before training: the training file has at least two labels,
/// and every dev label occurs in it (the errors name the file and record).
pub fn check_classes(
    train: &[Example],
    train_path: &Path,
    dev: &[Example],
    dev_path: &Path,
) -> Result<(), DataError> {
    let labels: std::collections::BTreeSet<&str> = train.iter().map(|e| e.label.as_str()).collect();
    if let (1, Some(label)) = (labels.len(), labels.first()) {
        return Err(DataError::OneLabel {
            path: train_path.display().to_string(),
            label: (*label).to_owned(),
        });
    }
    if let Some((index, example)) = dev
        .iter()
        .enumerate()
        .find(|(_, e)| !labels.contains(e.label.as_str()))
    {
        return Err(DataError::UnknownLabel {
            path: dev_path.display().to_string(),
            record: index + 1,
            label: example.label.clone(),
            known: format!(
                "{} (the labels of {})",
                labels.iter().copied().collect::<Vec<_>>().join(", "),
                train_path.display()
            ),
        });
    }
    Ok(())
}

/// Reads texts to label: like [`read_tsv`], but the label column may be absent (every example
/// gets the label `""`).
pub fn read_unlabelled(path: &Path, columns: &Columns) -> Result<Vec<Example>, DataError> {
    let columns = Columns {
        label: String::new(),
        ..columns.clone()
    };
    read_tsv(path, &columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Columns {
        Columns {
            text: "sentence".into(),
            pair: None,
            label: "label".into(),
        }
    }

    #[test]
    fn missing_column_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("train.tsv");
        std::fs::write(&path, "sentence\tgold\nit works\t1\n").unwrap();
        let error = read_tsv(&path, &columns()).unwrap_err().to_string();
        assert!(
            error.contains("no column `label`") && error.contains("gold"),
            "{error}"
        );
        let unlabelled = read_unlabelled(&path, &columns()).unwrap();
        assert_eq!(unlabelled[0].text, "it works");
        assert_eq!(unlabelled[0].label, "");
    }
}
