//! The most-frequent-frame baseline: each target gets the frame its LU evokes most often in
//! the training annotations; an LU unseen in training gets the most frequent training frame
//! among its candidates (from the LU index), else the most frequent training frame overall.
//! No arguments are predicted.

use std::collections::{BTreeMap, HashMap};

use crate::conll::Instance;
use crate::lexicon::CandidateFrames;

/// Frame counts per LU and overall.
#[derive(Debug, Clone, Default)]
pub struct MostFrequentFrame {
    per_lu: HashMap<String, BTreeMap<String, usize>>,
    overall: BTreeMap<String, usize>,
}

fn best(counts: &BTreeMap<String, usize>, allowed: Option<&[String]>) -> Option<String> {
    // Highest count; ties to the alphabetically first frame.
    let mut best: Option<(&String, usize)> = None;
    for (frame, &n) in counts {
        if allowed.is_some_and(|a| !a.contains(frame)) {
            continue;
        }
        if best.is_none_or(|(_, m)| n > m) {
            best = Some((frame, n));
        }
    }
    best.map(|(f, _)| f.clone())
}

impl MostFrequentFrame {
    /// Counts the frames of `train`.
    pub fn fit(train: &[Instance]) -> Self {
        let mut model = Self::default();
        for inst in train {
            *model
                .per_lu
                .entry(inst.lu.clone())
                .or_default()
                .entry(inst.frame.clone())
                .or_insert(0) += 1;
            *model.overall.entry(inst.frame.clone()).or_insert(0) += 1;
        }
        model
    }

    /// The predicted frame of an LU.
    pub fn frame(&self, lu: &str, candidates: &CandidateFrames) -> String {
        if let Some(f) = self.per_lu.get(lu).and_then(|c| best(c, None)) {
            return f;
        }
        let allowed = candidates.of(lu);
        if !allowed.is_empty() {
            return best(&self.overall, Some(allowed)).unwrap_or_else(|| allowed[0].clone());
        }
        best(&self.overall, None).unwrap_or_default()
    }

    /// `instances` with the baseline's frames and no arguments.
    pub fn predict(&self, instances: &[Instance], candidates: &CandidateFrames) -> Vec<Instance> {
        instances
            .iter()
            .map(|inst| Instance {
                frame: self.frame(&inst.lu, candidates),
                fes: Vec::new(),
                ..inst.clone()
            })
            .collect()
    }
}
