//! Resumable work files: a long job appends its rows to a work file and, after each unit,
//! records how far it got in a progress file beside it (both atomically ordered: rows first,
//! then the record). A resumed run continues from the record; everything else starts over.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::DataError;
use super::io::{open_work_file, write_error};
use super::json::read_json_document;

/// The progress record of a resumable job.
pub trait WorkProgress: Serialize + DeserializeOwned {
    /// Bytes of the work file that the recorded units fill.
    fn bytes(&self) -> u64;
}

/// Why a job cannot continue its recorded progress.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    /// The progress file or work file could not be read, removed or opened.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The record belongs to another job, or the work file is shorter than it records.
    #[error("`{}`: {message}", path.display())]
    Refused {
        /// The file at fault (the progress file or the work file).
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
}

/// Opens a resumable job's work file.
///
/// With `resume` and both files present, the stored progress is read; `same(stored, fresh)`
/// must accept it (the same inputs and settings; the caller compares what identifies the
/// job), else the job is refused with `mismatch` as the message naming the progress file. The
/// work file must hold at least the recorded bytes; what a killed run wrote after the record
/// is cut off. Otherwise (no `resume`, or a file missing) a stale progress file is removed, so
/// it cannot outlive the rows it describes, and the job starts from `fresh` with an empty work
/// file. Returns the progress to continue from and the work file, positioned at its end.
pub fn resume_work<S: WorkProgress>(
    progress: &Path,
    work: &Path,
    resume: bool,
    fresh: S,
    same: impl FnOnce(&S, &S) -> bool,
    mismatch: &str,
) -> Result<(S, File), ResumeError> {
    let state = if resume && progress.exists() && work.exists() {
        let stored: S = read_json_document(progress)?;
        if !same(&stored, &fresh) {
            return Err(ResumeError::Refused {
                path: progress.to_owned(),
                message: mismatch.to_owned(),
            });
        }
        let have = std::fs::metadata(work).map_or(0, |m| m.len());
        if have < stored.bytes() {
            return Err(ResumeError::Refused {
                path: work.to_owned(),
                message: format!(
                    "holds {have} bytes, its progress file records {}; rerun without --resume",
                    stored.bytes()
                ),
            });
        }
        stored
    } else {
        if progress.exists() {
            std::fs::remove_file(progress).map_err(write_error(progress))?;
        }
        fresh
    };
    let file = open_work_file(work, state.bytes())?;
    Ok((state, file))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::data::write_json;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Progress {
        input: String,
        done: usize,
        bytes: u64,
    }

    impl WorkProgress for Progress {
        fn bytes(&self) -> u64 {
            self.bytes
        }
    }

    fn fresh(input: &str) -> Progress {
        Progress {
            input: input.into(),
            done: 0,
            bytes: 0,
        }
    }

    fn same(stored: &Progress, fresh: &Progress) -> bool {
        stored.input == fresh.input
    }

    #[test]
    fn a_recorded_job_continues_and_loses_what_followed_the_record() {
        let dir = tempfile::tempdir().unwrap();
        let (progress, work) = (
            dir.path().join("progress.json"),
            dir.path().join("rows.part"),
        );
        std::fs::write(&work, "row 1\nrow 2\ntorn").unwrap();
        let stored = Progress {
            input: "a".into(),
            done: 2,
            bytes: 12,
        };
        write_json(&progress, &stored, false).unwrap();
        let (state, mut file) = resume_work(&progress, &work, true, fresh("a"), same, "x").unwrap();
        assert_eq!(state, stored);
        file.write_all(b"row 3\n").unwrap();
        drop(file);
        assert_eq!(
            std::fs::read_to_string(&work).unwrap(),
            "row 1\nrow 2\nrow 3\n"
        );
    }

    #[test]
    fn another_job_or_a_short_work_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (progress, work) = (
            dir.path().join("progress.json"),
            dir.path().join("rows.part"),
        );
        std::fs::write(&work, "row 1\n").unwrap();
        let stored = Progress {
            input: "a".into(),
            done: 2,
            bytes: 12,
        };
        write_json(&progress, &stored, false).unwrap();
        let err = resume_work(&progress, &work, true, fresh("b"), same, "other input").unwrap_err();
        assert!(
            matches!(&err, ResumeError::Refused { path, .. } if path == &progress),
            "{err}"
        );
        assert!(err.to_string().contains("other input"), "{err}");
        let err = resume_work(&progress, &work, true, fresh("a"), same, "x").unwrap_err();
        assert!(
            matches!(&err, ResumeError::Refused { path, .. } if path == &work),
            "{err}"
        );
        assert!(err.to_string().contains("holds 6 bytes"), "{err}");
    }

    #[test]
    fn starting_over_removes_the_stale_record_and_empties_the_work_file() {
        let dir = tempfile::tempdir().unwrap();
        let (progress, work) = (
            dir.path().join("progress.json"),
            dir.path().join("rows.part"),
        );
        std::fs::write(&work, "old rows\n").unwrap();
        write_json(&progress, &fresh("a"), false).unwrap();
        let (state, _file) = resume_work(&progress, &work, false, fresh("a"), same, "x").unwrap();
        assert_eq!(state, fresh("a"));
        assert!(!progress.exists());
        assert_eq!(std::fs::read_to_string(&work).unwrap(), "");
    }
}
