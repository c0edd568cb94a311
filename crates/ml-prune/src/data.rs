//! Readers of the task files: XNLI (the XGLUE/XTREME TSV copy: `premise hypothesis label`, no
//! header), PAWS-X (header `id sentence1 sentence2 label`) and GLUE RTE (header
//! `sentence1 sentence2 label idx`), all as text-cls [`Example`]s.

use std::path::Path;

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
