//! What a run's fixed sub-networks look like: density per layer and overlap between languages.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use burnlp_core::train::ParamMasks;
use serde::Serialize;

use crate::error::SubnetError;

/// The fixed masks of a run (`RUN/masks/<group>.safetensors`), by group name (`all` for
/// Child-Tuning_D's single mask).
pub fn load_masks(run: &Path) -> Result<BTreeMap<String, ParamMasks>, SubnetError> {
    let dir = run.join("masks");
    let entries = std::fs::read_dir(&dir).map_err(|e| SubnetError::Record {
        path: dir.clone(),
        record: 0,
        message: format!(
            "no mask directory ({e}); only child-d and s4 runs keep fixed masks \
             (child-f and bi-drop draw new ones every step)"
        ),
    })?;
    let mut masks = BTreeMap::new();
    for entry in entries {
        let path = entry
            .map_err(|e| SubnetError::Record {
                path: dir.clone(),
                record: 0,
                message: e.to_string(),
            })?
            .path();
        if path.extension().is_some_and(|e| e == "safetensors")
            && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
        {
            masks.insert(stem.to_string(), ParamMasks::load(&path)?);
        }
    }
    if masks.is_empty() {
        return Err(SubnetError::Record {
            path: dir,
            record: 0,
            message: "no mask files".into(),
        });
    }
    Ok(masks)
}

/// Density of one mask overall and per encoder layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaskDensity {
    /// Kept entries / masked entries.
    pub overall: f64,
    /// Density per part: `layer N` for parameters under `layers.N.`, else the path's first
    /// component.
    pub parts: BTreeMap<String, f64>,
}

/// The part of the model a parameter path belongs to.
fn part(path: &str) -> String {
    let pieces: Vec<&str> = path.split('.').collect();
    for window in pieces.windows(2) {
        if window[0] == "layers"
            && let Ok(n) = window[1].parse::<usize>()
        {
            return format!("layer {n:02}");
        }
    }
    pieces.first().copied().unwrap_or("").to_string()
}

/// The density of `masks`, overall and per part.
pub fn density(masks: &ParamMasks) -> MaskDensity {
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (path, mask) in masks.iter() {
        let entry = counts.entry(part(path)).or_default();
        entry.0 += mask.count_ones();
        entry.1 += mask.len();
    }
    MaskDensity {
        overall: masks.kept() as f64 / masks.total().max(1) as f64,
        parts: counts
            .into_iter()
            .map(|(k, (kept, total))| (k, kept as f64 / total.max(1) as f64))
            .collect(),
    }
}

/// The report of `subnet-tune masks`: each mask's density per layer, then the Jaccard overlap
/// `|M_a ∩ M_b| / |M_a ∪ M_b|` of every pair of groups.
pub fn report(masks: &BTreeMap<String, ParamMasks>) -> String {
    let mut out = String::new();
    let densities: Vec<(&String, MaskDensity)> =
        masks.iter().map(|(g, m)| (g, density(m))).collect();
    let parts: Vec<String> = densities
        .first()
        .map(|(_, d)| d.parts.keys().cloned().collect())
        .unwrap_or_default();
    let _ = write!(out, "{:<10}", "part");
    for (group, _) in &densities {
        let _ = write!(out, " {group:>8}");
    }
    out.push('\n');
    for part in &parts {
        let _ = write!(out, "{part:<10}");
        for (_, d) in &densities {
            let _ = write!(out, " {:>8.4}", d.parts.get(part).copied().unwrap_or(0.0));
        }
        out.push('\n');
    }
    let _ = write!(out, "{:<10}", "overall");
    for (_, d) in &densities {
        let _ = write!(out, " {:>8.4}", d.overall);
    }
    out.push('\n');
    let groups: Vec<_> = masks.iter().collect();
    if groups.len() > 1 {
        out.push_str("\noverlap (Jaccard)\n");
        for (i, (a, ma)) in groups.iter().enumerate() {
            for (b, mb) in &groups[i + 1..] {
                let _ = writeln!(out, "{a:>8} {b:>8} {:.4}", ma.jaccard(mb));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_paths() {
        assert_eq!(part("encoder.layers.3.attention.query.weight"), "layer 03");
        assert_eq!(part("encoder.embeddings.word.weight"), "encoder");
        assert_eq!(part("head.bias"), "head");
    }
}
