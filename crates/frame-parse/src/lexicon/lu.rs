//! Lexical units and the LU → candidate-frames map, with its coverage of annotated targets.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::xml::parse_lu_entries;
use crate::conll::Instance;
use crate::error::{FrameParseError, Result};

/// A lexical unit (`receive.v` in `Receiving`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LexicalUnit {
    /// FrameNet LU id.
    pub id: u32,
    /// Name with its part-of-speech suffix, e.g. `receive.v`.
    pub name: String,
    /// Part of speech (`lu_index.tsv`'s column; empty from `luIndex.xml`).
    pub pos: String,
    /// Frame id.
    pub frame_id: u32,
    /// Frame name.
    pub frame_name: String,
    /// Status, e.g. `Finished_Initial`.
    pub status: String,
    /// 1-based line in its file.
    #[serde(skip)]
    pub line: usize,
}

/// Where the LUs came from.
#[derive(Debug, Clone, PartialEq)]
pub enum LuSource {
    /// `lu_index.tsv`.
    Tsv(PathBuf),
    /// `luIndex.xml`.
    Xml(PathBuf),
}

impl LuSource {
    /// The file.
    pub fn path(&self) -> &Path {
        match self {
            Self::Tsv(p) | Self::Xml(p) => p,
        }
    }
}

/// Reads `lu_index.tsv` (header `lu_name pos frame_name frame_id lu_id status`).
pub fn read_lu_tsv(path: &Path) -> Result<Vec<LexicalUnit>> {
    let text = std::fs::read_to_string(path).map_err(|source| FrameParseError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_lu_tsv(path, &text)
}

/// Parses the text of an `lu_index.tsv` file; `path` names it in errors.
pub fn parse_lu_tsv(path: &Path, text: &str) -> Result<Vec<LexicalUnit>> {
    let mut lines = text.lines().enumerate();
    let expected = "lu_name\tpos\tframe_name\tframe_id\tlu_id\tstatus";
    match lines.next() {
        Some((_, header)) if header == expected => {}
        _ => {
            return Err(FrameParseError::line(
                path,
                1,
                format!("the header is not `{expected}`"),
            ));
        }
    }
    let mut out = Vec::new();
    for (i, line) in lines {
        if line.is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() != 6 {
            return Err(FrameParseError::line(
                path,
                i + 1,
                format!("{} columns, expected 6", cols.len()),
            ));
        }
        let number = |col: usize, what: &str| {
            cols[col].parse::<u32>().map_err(|_| {
                FrameParseError::line(
                    path,
                    i + 1,
                    format!("{what} `{}` is not a number", cols[col]),
                )
            })
        };
        out.push(LexicalUnit {
            id: number(4, "lu_id")?,
            name: cols[0].to_string(),
            pos: cols[1].to_string(),
            frame_id: number(3, "frame_id")?,
            frame_name: cols[2].to_string(),
            status: cols[5].to_string(),
            line: i + 1,
        });
    }
    Ok(out)
}

/// Reads the `<lu>` entries of `luIndex.xml`.
pub fn read_lu_index_xml(path: &Path, text: &str) -> Result<Vec<LexicalUnit>> {
    Ok(parse_lu_entries(path, text)?
        .into_iter()
        .map(
            |(id, name, frame_id, frame_name, status, line)| LexicalUnit {
                id,
                name,
                pos: String::new(),
                frame_id,
                frame_name,
                status,
                line: line as usize,
            },
        )
        .collect())
}

/// LU name → the frames it can evoke (sorted, deduplicated).
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct CandidateFrames {
    /// The map.
    pub map: BTreeMap<String, Vec<String>>,
}

impl CandidateFrames {
    /// From an LU index.
    pub fn from_lexical_units(lus: &[LexicalUnit]) -> Self {
        Self::from_pairs(lus.iter().map(|l| (l.name.as_str(), l.frame_name.as_str())))
    }

    /// From annotated targets (the fallback without an LU index).
    pub fn from_instances(instances: &[Instance]) -> Self {
        Self::from_pairs(instances.iter().map(|i| (i.lu.as_str(), i.frame.as_str())))
    }

    fn from_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Self {
        let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (lu, frame) in pairs {
            map.entry(lu.to_string())
                .or_default()
                .insert(frame.to_string());
        }
        Self {
            map: map
                .into_iter()
                .map(|(k, v)| (k, v.into_iter().collect()))
                .collect(),
        }
    }

    /// Adds the pairs of `other` (e.g. training annotations on top of the LU index).
    pub fn merge(&mut self, other: &CandidateFrames) {
        for (lu, frames) in &other.map {
            let entry = self.map.entry(lu.clone()).or_default();
            for f in frames {
                if !entry.contains(f) {
                    entry.push(f.clone());
                }
            }
            entry.sort();
        }
    }

    /// The candidates of `lu` (empty when unseen).
    pub fn of(&self, lu: &str) -> &[String] {
        self.map.get(lu).map_or(&[], Vec::as_slice)
    }

    /// How well the map covers the targets of `instances`.
    pub fn coverage(&self, instances: &[Instance]) -> Coverage {
        let lus: BTreeSet<&str> = instances.iter().map(|i| i.lu.as_str()).collect();
        let pairs: BTreeSet<(&str, &str)> = instances
            .iter()
            .map(|i| (i.lu.as_str(), i.frame.as_str()))
            .collect();
        let unseen_lus: Vec<String> = lus
            .iter()
            .filter(|lu| !self.map.contains_key(**lu))
            .map(|s| s.to_string())
            .collect();
        let unseen_pairs: Vec<(String, String)> = pairs
            .iter()
            .filter(|(lu, f)| !self.of(lu).iter().any(|c| c == f))
            .map(|(l, f)| (l.to_string(), f.to_string()))
            .collect();
        let targets_covered = instances
            .iter()
            .filter(|i| self.of(&i.lu).contains(&i.frame))
            .count();
        Coverage {
            lus: lus.len(),
            lus_covered: lus.len() - unseen_lus.len(),
            pairs: pairs.len(),
            pairs_covered: pairs.len() - unseen_pairs.len(),
            targets: instances.len(),
            targets_covered,
            unseen_lus,
            unseen_pairs,
        }
    }
}

/// Coverage of annotated targets by a candidate map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    /// Distinct LUs among the targets.
    pub lus: usize,
    /// Of those, LUs in the map.
    pub lus_covered: usize,
    /// Distinct (LU, frame) pairs.
    pub pairs: usize,
    /// Of those, pairs whose frame is a candidate of the LU.
    pub pairs_covered: usize,
    /// Targets (blocks).
    pub targets: usize,
    /// Targets whose gold frame is among the LU's candidates.
    pub targets_covered: usize,
    /// LUs missing from the map.
    pub unseen_lus: Vec<String>,
    /// Pairs whose frame the map does not list for the LU.
    pub unseen_pairs: Vec<(String, String)>,
}

/// Every LU index in the release directory `dir`: `lu_index.tsv` and `luIndex.xml`, those
/// present, in that order.
pub fn lu_sources(dir: &Path) -> Result<Vec<(LuSource, Vec<LexicalUnit>)>> {
    let mut out = Vec::new();
    let tsv = dir.join("lu_index.tsv");
    if tsv.exists() {
        let lus = read_lu_tsv(&tsv)?;
        out.push((LuSource::Tsv(tsv), lus));
    }
    let xml = dir.join("luIndex.xml");
    if xml.exists() {
        let text = std::fs::read_to_string(&xml).map_err(|source| FrameParseError::Read {
            path: xml.clone(),
            source,
        })?;
        let lus = read_lu_index_xml(&xml, &text)?;
        out.push((LuSource::Xml(xml), lus));
    }
    Ok(out)
}
