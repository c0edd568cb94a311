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
//! checkpoint intact.

use std::path::{Path, PathBuf};

use super::TrainError;

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
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| TrainError::Io { path, source }
        };
        std::fs::create_dir_all(&self.root).map_err(io(&self.root))?;
        let name = Self::name(step);
        let tmp = self.root.join(format!(".tmp-{name}"));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
        }
        std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
        fill(&tmp)?;
        let target = self.root.join(&name);
        if target.exists() {
            std::fs::remove_dir_all(&target).map_err(io(&target))?;
        }
        std::fs::rename(&tmp, &target).map_err(io(&target))?;
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
            let path = self.root.join(name);
            std::fs::remove_dir_all(&path).map_err(|source| TrainError::Io { path, source })?;
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
