//! Atomic files and the run directory's checkpoint layout.
//!
//! ```text
//! RUN/config.json                      resolved configuration
//! RUN/metrics.jsonl                    one JSON object per logged train step or evaluation
//! RUN/curves.svg                       training curves, written at the end
//! RUN/checkpoints/step-00000120/       model.safetensors, optimizer.*, state.json
//! RUN/checkpoints/latest               name of the newest complete checkpoint
//! RUN/best/                            model.safetensors + state.json of the best evaluation
//! RUN/last/model.safetensors           the model when training ended
//! ```
//! A checkpoint directory is filled under a temporary name and renamed into place, and `latest`
//! is replaced atomically afterwards, so a run killed at any moment leaves the previous complete
//! checkpoint intact. `best/` is replaced the same way ([`RunDir::replace_best`]): filled as
//! `.best-new/`, the old one moved to `.best-old/`, the new one renamed into place; a run
//! killed between the two renames has no `best/` until [`RunDir::recover_best`] (called when
//! training starts) puts `.best-old/` back.

use std::path::{Path, PathBuf};

use super::TrainError;

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> TrainError + use<> {
    let path = path.to_path_buf();
    move |source| TrainError::Io { path, source }
}

/// Removes a directory as one step: renamed to a hidden `.removing-NAME` first, so a process
/// killed while deleting never leaves part of it under its own name (a leftover hidden copy is
/// removed by the next call for the same directory).
pub fn remove_dir_whole(dir: &Path) -> Result<(), TrainError> {
    let Some(name) = dir.file_name() else {
        return Ok(());
    };
    let trash = dir.with_file_name(format!(".removing-{}", name.to_string_lossy()));
    remove_dir_if_present(&trash)?;
    if dir.exists() {
        std::fs::rename(dir, &trash).map_err(io_error(dir))?;
        remove_dir_if_present(&trash)?;
    }
    Ok(())
}

fn remove_dir_if_present(dir: &Path) -> Result<(), TrainError> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(dir)(e)),
        _ => Ok(()),
    }
}

/// The files of a run directory by role (the layout above), so no crate spells the paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// The run directory at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `config.json`: the resolved configuration.
    pub fn config(&self) -> PathBuf {
        self.root.join("config.json")
    }

    /// `metrics.jsonl`: one JSON object per logged step or evaluation.
    pub fn metrics(&self) -> PathBuf {
        self.root.join("metrics.jsonl")
    }

    /// `curves.svg`: the training curves.
    pub fn curves(&self) -> PathBuf {
        self.root.join("curves.svg")
    }

    /// `best/`: the model and state of the best evaluation.
    pub fn best(&self) -> PathBuf {
        self.root.join("best")
    }

    /// Replaces `best/` with a directory that `fill` writes (see the module documentation):
    /// `best/` never holds a mix of two evaluations' files.
    pub fn replace_best(
        &self,
        fill: impl FnOnce(&Path) -> Result<(), TrainError>,
    ) -> Result<(), TrainError> {
        let (best, new, old) = self.best_paths();
        for dir in [&new, &old] {
            remove_dir_if_present(dir)?;
        }
        std::fs::create_dir_all(&new).map_err(io_error(&new))?;
        fill(&new)?;
        if best.exists() {
            std::fs::rename(&best, &old).map_err(io_error(&old))?;
        }
        std::fs::rename(&new, &best).map_err(io_error(&best))?;
        remove_dir_if_present(&old)
    }

    /// Repairs what a run killed inside [`RunDir::replace_best`] left: puts `.best-old/` back
    /// when `best/` is missing, and removes the temporary directories.
    pub fn recover_best(&self) -> Result<(), TrainError> {
        let (best, new, old) = self.best_paths();
        if !best.exists() && old.exists() {
            std::fs::rename(&old, &best).map_err(io_error(&best))?;
        }
        remove_dir_if_present(&new)?;
        remove_dir_if_present(&old)
    }

    fn best_paths(&self) -> (PathBuf, PathBuf, PathBuf) {
        (
            self.best(),
            self.root.join(".best-new"),
            self.root.join(".best-old"),
        )
    }

    /// `best/model.safetensors`.
    pub fn best_model(&self) -> PathBuf {
        self.best().join(MODEL_FILE)
    }

    /// `last/model.safetensors`: the model when training ended.
    pub fn last_model(&self) -> PathBuf {
        self.root.join("last").join(MODEL_FILE)
    }

    /// The checkpoint area.
    pub fn checkpoints(&self) -> CheckpointDir {
        CheckpointDir::new(&self.root)
    }
}

/// File name of saved parameters inside `best/`, `last/` and each checkpoint.
pub const MODEL_FILE: &str = "model.safetensors";

/// Where a run keeps its checkpoints.
#[derive(Debug, Clone)]
pub struct CheckpointDir {
    root: PathBuf,
}

impl CheckpointDir {
    /// The checkpoint area of run directory `run`.
    pub fn new(run: &Path) -> Self {
        Self {
            root: run.join("checkpoints"),
        }
    }

    /// The directory holding the checkpoints (`RUN/checkpoints`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Directory name of the checkpoint after `step` optimizer steps.
    pub fn name(step: usize) -> String {
        format!("step-{step:08}")
    }

    /// The newest complete checkpoint, if any.
    pub fn latest(&self) -> Result<Option<PathBuf>, TrainError> {
        let pointer = self.root.join("latest");
        match std::fs::read_to_string(&pointer) {
            Ok(name) => {
                let dir = self.root.join(name.trim());
                if dir.is_dir() {
                    Ok(Some(dir))
                } else {
                    Err(TrainError::Checkpoint {
                        path: pointer,
                        message: format!("points to missing checkpoint `{}`", name.trim()),
                    })
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(TrainError::Io {
                path: pointer,
                source,
            }),
        }
    }

    /// Writes a checkpoint: `fill` writes its files into a fresh temporary directory, which is
    /// then renamed to its final name and made the latest. Older checkpoints beyond `keep` are
    /// deleted.
    pub fn save(
        &self,
        step: usize,
        keep: usize,
        fill: impl FnOnce(&Path) -> Result<(), TrainError>,
    ) -> Result<PathBuf, TrainError> {
        std::fs::create_dir_all(&self.root).map_err(io_error(&self.root))?;
        let name = Self::name(step);
        let tmp = self.root.join(format!(".tmp-{name}"));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(io_error(&tmp))?;
        }
        std::fs::create_dir_all(&tmp).map_err(io_error(&tmp))?;
        fill(&tmp)?;
        let target = self.root.join(&name);
        remove_dir_whole(&target)?;
        std::fs::rename(&tmp, &target).map_err(io_error(&target))?;
        crate::data::write_atomic(self.root.join("latest"), name.as_bytes())?;
        self.prune(keep.max(1))?;
        Ok(target)
    }

    fn prune(&self, keep: usize) -> Result<(), TrainError> {
        let mut names: Vec<String> = std::fs::read_dir(&self.root)
            .map_err(|source| TrainError::Io {
                path: self.root.clone(),
                source,
            })?
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.starts_with("step-"))
            .collect();
        names.sort();
        let excess = names.len().saturating_sub(keep);
        for name in &names[..excess] {
            remove_dir_whole(&self.root.join(name))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_keeps_latest_and_prunes() {
        let dir = tempfile::tempdir().unwrap();
        let checkpoints = CheckpointDir::new(dir.path());
        assert_eq!(checkpoints.latest().unwrap(), None);
        for step in [10, 20, 30] {
            checkpoints
                .save(step, 2, |d| {
                    Ok(crate::data::write_atomic(
                        d.join("x"),
                        step.to_string().as_bytes(),
                    )?)
                })
                .unwrap();
        }
        let latest = checkpoints.latest().unwrap().unwrap();
        assert!(latest.ends_with("step-00000030"));
        assert_eq!(std::fs::read_to_string(latest.join("x")).unwrap(), "30");
        assert!(!dir.path().join("checkpoints/step-00000010").exists());
        assert!(dir.path().join("checkpoints/step-00000020").exists());
    }

    fn write_best(run: &RunDir, value: &str) -> Result<(), TrainError> {
        run.replace_best(|d| {
            crate::data::write_atomic(d.join("model"), value.as_bytes())?;
            if value == "broken" {
                return Err(TrainError::NoEvaluation);
            }
            Ok(crate::data::write_atomic(
                d.join("state"),
                value.as_bytes(),
            )?)
        })
    }

    #[test]
    fn best_is_replaced_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::new(dir.path());
        let read = |f: &str| std::fs::read_to_string(run.best().join(f)).unwrap();
        write_best(&run, "1").unwrap();
        write_best(&run, "2").unwrap();
        assert_eq!((read("model"), read("state")), ("2".into(), "2".into()));
        // A save that fails half-way (as a kill would) leaves the previous best whole.
        write_best(&run, "broken").unwrap_err();
        assert_eq!((read("model"), read("state")), ("2".into(), "2".into()));
        // A kill between the two renames: no best/, the old one aside; recovery puts it back.
        std::fs::rename(run.best(), dir.path().join(".best-old")).unwrap();
        run.recover_best().unwrap();
        assert_eq!((read("model"), read("state")), ("2".into(), "2".into()));
        assert!(!dir.path().join(".best-new").exists());
        assert!(!dir.path().join(".best-old").exists());
    }

    #[test]
    fn a_directory_is_removed_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("step-00000020");
        std::fs::create_dir_all(&target).unwrap();
        std::fs::write(target.join("model.safetensors"), b"x").unwrap();
        // What a kill inside an earlier removal left: the hidden copy, partly deleted.
        let trash = dir.path().join(".removing-step-00000020");
        std::fs::create_dir_all(&trash).unwrap();
        remove_dir_whole(&target).unwrap();
        assert!(!target.exists());
        assert!(!trash.exists());
        // Removing what is not there is fine.
        remove_dir_whole(&target).unwrap();
    }

    #[test]
    fn failed_fill_leaves_previous_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let checkpoints = CheckpointDir::new(dir.path());
        checkpoints.save(1, 3, |_| Ok(())).unwrap();
        let failed = checkpoints.save(2, 3, |d| {
            Err(TrainError::Checkpoint {
                path: d.to_path_buf(),
                message: "disk full".into(),
            })
        });
        assert!(failed.is_err());
        assert!(
            checkpoints
                .latest()
                .unwrap()
                .unwrap()
                .ends_with("step-00000001")
        );
    }
}
