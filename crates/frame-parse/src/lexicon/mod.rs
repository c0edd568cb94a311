//! The FrameNet lexicon: frames with their frame elements (FEs) and core types, frame and FE
//! relations, semantic types and lexical units (LUs), read from a FrameNet XML release
//! (`frame/*.xml`, `frRelation.xml`, `frameIndex.xml`, `semTypes.xml`, `luIndex.xml`,
//! and the derived `lu_index.tsv` when present) and validated ([`Lexicon::load`]).
//!
//! The frame files of the shared release carry Dutch `<lexUnit>` children (see the datasets
//! README), so LUs are never read from them: the LU → candidate-frames map comes from
//! `lu_index.tsv` (preferred: it adds the 59 `Problem` LUs of the frame files) or `luIndex.xml`,
//! and otherwise from training annotations ([`CandidateFrames::from_instances`]).

mod lu;
mod xml;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{FrameParseError, Result};
pub use lu::{
    CandidateFrames, Coverage, LexicalUnit, LuSource, lu_sources, parse_lu_tsv, read_lu_index_xml,
    read_lu_tsv,
};
pub use xml::{parse_frame, parse_frame_index, parse_relations, parse_sem_types};

/// The core type of a frame element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CoreType {
    /// `Core`.
    Core,
    /// `Core-Unexpressed`.
    CoreUnexpressed,
    /// `Peripheral`.
    Peripheral,
    /// `Extra-Thematic`.
    ExtraThematic,
}

impl CoreType {
    /// Parses the XML `coreType` attribute.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "Core" => Self::Core,
            "Core-Unexpressed" => Self::CoreUnexpressed,
            "Peripheral" => Self::Peripheral,
            "Extra-Thematic" => Self::ExtraThematic,
            _ => return None,
        })
    }

    /// The XML spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Core => "Core",
            Self::CoreUnexpressed => "Core-Unexpressed",
            Self::Peripheral => "Peripheral",
            Self::ExtraThematic => "Extra-Thematic",
        }
    }

    /// The scorer's weight: 1 for `Core`, 0.5 for every other type (Core-Unexpressed
    /// included, as KID's `evaluate.py` weighs everything but `Core` by 0.5).
    pub fn weight(self) -> f64 {
        if self == Self::Core { 1.0 } else { 0.5 }
    }
}

/// A frame element of a frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameElement {
    /// FrameNet FE id (unique over the release).
    pub id: u32,
    /// Name, e.g. `Co-participant`.
    pub name: String,
    /// Core type.
    pub core_type: CoreType,
    /// Abbreviation (may be empty).
    pub abbrev: String,
    /// Definition text with the markup tags stripped.
    pub definition: String,
    /// Semantic type ids.
    pub sem_types: Vec<u32>,
    /// FE ids this FE requires (`<requiresFE>`).
    pub requires: Vec<u32>,
    /// FE ids this FE excludes (`<excludesFE>`).
    pub excludes: Vec<u32>,
    /// 1-based line of the `<FE>` element.
    #[serde(skip)]
    pub line: u32,
}

/// A relation listed in a frame file (`<frameRelation type>` / `<relatedFrame ID>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelatedFrame {
    /// The relation as the frame file words it, e.g. `Inherits from`.
    pub relation: String,
    /// The related frame's id.
    pub frame_id: u32,
    /// The related frame's name.
    pub frame_name: String,
    /// 1-based line of the `<relatedFrame>` element.
    #[serde(skip)]
    pub line: u32,
}

/// A frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    /// FrameNet frame id.
    pub id: u32,
    /// Name, e.g. `Receiving`.
    pub name: String,
    /// Definition with tags stripped.
    pub definition: String,
    /// The frame elements in file order.
    pub fes: Vec<FrameElement>,
    /// Relations listed in the frame file.
    pub related: Vec<RelatedFrame>,
    /// Number of `<lexUnit>` children (not used: see the module docs).
    pub lex_units_in_file: usize,
}

impl Frame {
    /// The FE called `name`, accepting `_` for `-` (the shared CoNLL files write
    /// `Co_participant` for `Co-participant`). The flag tells whether the spelling differed.
    pub fn fe(&self, name: &str) -> Option<(&FrameElement, bool)> {
        if let Some(fe) = self.fes.iter().find(|fe| fe.name == name) {
            return Some((fe, false));
        }
        let key = normalise_fe_name(name);
        self.fes
            .iter()
            .find(|fe| normalise_fe_name(&fe.name) == key)
            .map(|fe| (fe, true))
    }
}

/// The key under which FE names are compared: `-` written as `_`.
pub fn normalise_fe_name(name: &str) -> String {
    name.replace('-', "_")
}

/// An FE-to-FE mapping of a frame relation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeRelation {
    /// FE id in the sub-frame.
    pub sub_id: u32,
    /// FE id in the super-frame.
    pub sup_id: u32,
}

/// A frame-to-frame relation of `frRelation.xml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameRelation {
    /// Relation type, e.g. `Inheritance`.
    pub relation_type: String,
    /// Sub-frame id.
    pub sub_id: u32,
    /// Super-frame id.
    pub sup_id: u32,
    /// Its FE mappings.
    pub fe_relations: Vec<FeRelation>,
    /// 1-based line of the `<frameRelation>` element.
    #[serde(skip)]
    pub line: u32,
}

/// A semantic type of `semTypes.xml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SemType {
    /// Id.
    pub id: u32,
    /// Name.
    pub name: String,
    /// Abbreviation.
    pub abbrev: String,
    /// Super-type ids.
    pub super_types: Vec<u32>,
}

/// A frame index entry of `frameIndex.xml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexedFrame {
    /// Frame id.
    pub id: u32,
    /// Frame name.
    pub name: String,
    /// 1-based line of the `<frame>` element.
    #[serde(skip)]
    pub line: u32,
}

/// A loaded, validated FrameNet lexicon.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    /// Frames sorted by name (the frame files in sorted path order).
    pub frames: Vec<Frame>,
    /// Frame relations of `frRelation.xml` (empty when absent).
    pub relations: Vec<FrameRelation>,
    /// Relation type names of `frRelation.xml`.
    pub relation_types: Vec<String>,
    /// Semantic types (empty when `semTypes.xml` is absent).
    pub sem_types: Vec<SemType>,
    /// Frames of `frameIndex.xml` (empty when absent).
    pub frame_index: Vec<IndexedFrame>,
    /// Lexical units and where they came from (`None` when no LU index is present).
    pub lexical_units: Option<(LuSource, Vec<LexicalUnit>)>,
    by_name: HashMap<String, usize>,
    by_id: HashMap<u32, usize>,
}

/// Counts printed by `frame-parse lexicon`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LexiconCounts {
    /// Frames.
    pub frames: usize,
    /// FEs over all frames.
    pub fes: usize,
    /// Distinct FE names.
    pub fe_names: usize,
    /// FEs per core type.
    pub core_types: BTreeMap<String, usize>,
    /// Frame relations in `frRelation.xml`.
    pub frame_relations: usize,
    /// Relation types in `frRelation.xml`.
    pub relation_types: usize,
    /// FE relations in `frRelation.xml`.
    pub fe_relations: usize,
    /// Semantic types.
    pub sem_types: usize,
    /// Frames in `frameIndex.xml`.
    pub indexed_frames: usize,
    /// Lexical units.
    pub lexical_units: usize,
    /// Distinct LU names.
    pub lu_names: usize,
}

impl Lexicon {
    /// Builds a lexicon from parsed parts, validating the cross references (relations to
    /// frames and FEs that exist, `requiresFE`/`excludesFE` inside their frame, LUs of known
    /// frames). `sources` names the file of each frame for errors.
    pub fn from_parts(
        frames: Vec<(PathBuf, Frame)>,
        relations: Option<(PathBuf, Vec<FrameRelation>, Vec<String>)>,
        sem_types: Vec<SemType>,
        frame_index: Option<(PathBuf, Vec<IndexedFrame>)>,
        lexical_units: Option<(LuSource, Vec<LexicalUnit>)>,
    ) -> Result<Self> {
        let mut lexicon = Lexicon::default();
        let mut fe_frame: HashMap<u32, usize> = HashMap::new();
        for (i, (path, frame)) in frames.iter().enumerate() {
            let element = |problem: String| FrameParseError::Element {
                path: path.clone(),
                line: 1,
                element: format!("frame name=\"{}\"", frame.name),
                problem,
            };
            if lexicon.by_name.insert(frame.name.clone(), i).is_some() {
                return Err(element(format!("duplicate frame name `{}`", frame.name)));
            }
            if lexicon.by_id.insert(frame.id, i).is_some() {
                return Err(element(format!("duplicate frame ID {}", frame.id)));
            }
            for fe in &frame.fes {
                if let Some(&other) = fe_frame.get(&fe.id) {
                    return Err(element(format!(
                        "FE `{}` ID {} also belongs to frame `{}`",
                        fe.name, fe.id, frames[other].1.name
                    )));
                }
                fe_frame.insert(fe.id, i);
            }
        }
        for (path, frame) in &frames {
            for related in &frame.related {
                if !lexicon.by_id.contains_key(&related.frame_id) {
                    return Err(FrameParseError::Element {
                        path: path.clone(),
                        line: related.line,
                        element: format!("relatedFrame \"{}\"", related.frame_id),
                        problem: format!(
                            "`{}` relation of frame `{}` to a missing frame `{}`",
                            related.relation, frame.name, related.frame_name
                        ),
                    });
                }
            }
        }
        if let Some((path, relations, types)) = relations {
            for relation in &relations {
                let element = |problem: String| FrameParseError::Element {
                    path: path.clone(),
                    line: relation.line,
                    element: format!(
                        "frameRelation type=\"{}\" subID=\"{}\" supID=\"{}\"",
                        relation.relation_type, relation.sub_id, relation.sup_id
                    ),
                    problem,
                };
                for id in [relation.sub_id, relation.sup_id] {
                    if !lexicon.by_id.contains_key(&id) {
                        return Err(element(format!("relation to a missing frame (ID {id})")));
                    }
                }
                for fe in &relation.fe_relations {
                    for (id, frame) in [(fe.sub_id, relation.sub_id), (fe.sup_id, relation.sup_id)]
                    {
                        if fe_frame.get(&id) != lexicon.by_id.get(&frame) {
                            return Err(element(format!(
                                "FERelation names FE ID {id}, which is not an FE of frame ID {frame}"
                            )));
                        }
                    }
                }
            }
            lexicon.relations = relations;
            lexicon.relation_types = types;
        }
        if let Some((path, index)) = frame_index {
            for entry in &index {
                if lexicon.by_id.get(&entry.id).map(|&i| &frames[i].1.name) != Some(&entry.name) {
                    return Err(FrameParseError::Element {
                        path: path.clone(),
                        line: entry.line,
                        element: format!("frame ID=\"{}\" name=\"{}\"", entry.id, entry.name),
                        problem: "no frame file defines this frame".into(),
                    });
                }
            }
            lexicon.frame_index = index;
        }
        if let Some((source, lus)) = &lexical_units {
            for lu in lus {
                if !lexicon.by_name.contains_key(&lu.frame_name) {
                    return Err(FrameParseError::line(
                        source.path(),
                        lu.line,
                        format!(
                            "LU `{}` belongs to a missing frame `{}`",
                            lu.name, lu.frame_name
                        ),
                    ));
                }
            }
        }
        lexicon.lexical_units = lexical_units;
        lexicon.sem_types = sem_types;
        lexicon.frames = frames.into_iter().map(|(_, f)| f).collect();
        Ok(lexicon)
    }

    /// Reads and validates the release in `dir`: every `frame/*.xml` (required), and
    /// `frRelation.xml`, `semTypes.xml`, `frameIndex.xml`, `lu_index.tsv` or `luIndex.xml`
    /// when present.
    pub fn load(dir: &Path) -> Result<Self> {
        let frame_dir = dir.join("frame");
        let entries = std::fs::read_dir(&frame_dir).map_err(|source| FrameParseError::Read {
            path: frame_dir.clone(),
            source,
        })?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "xml"))
            .collect();
        paths.sort();
        if paths.is_empty() {
            return Err(FrameParseError::invalid(
                frame_dir.display().to_string(),
                "no frame XML files",
            ));
        }
        let mut frames = Vec::with_capacity(paths.len());
        for path in paths {
            let text = read_text(&path)?;
            frames.push((path.clone(), parse_frame(&path, &text)?));
        }
        let relations = optional(dir, "frRelation.xml", parse_relations)?;
        let sem_types = optional(dir, "semTypes.xml", parse_sem_types)?.unwrap_or_default();
        let frame_index = optional(dir, "frameIndex.xml", parse_frame_index)?
            .map(|index| (dir.join("frameIndex.xml"), index));
        let lexical_units = if dir.join("lu_index.tsv").exists() {
            let path = dir.join("lu_index.tsv");
            Some((LuSource::Tsv(path.clone()), read_lu_tsv(&path)?))
        } else if dir.join("luIndex.xml").exists() {
            let path = dir.join("luIndex.xml");
            let text = read_text(&path)?;
            Some((
                LuSource::Xml(path.clone()),
                read_lu_index_xml(&path, &text)?,
            ))
        } else {
            None
        };
        Self::from_parts(
            frames,
            relations.map(|(r, t)| (dir.join("frRelation.xml"), r, t)),
            sem_types,
            frame_index,
            lexical_units,
        )
    }

    /// A lexicon from file contents (an embedded release): `(file name, text)` of every frame
    /// file, and optionally `frRelation.xml`, `frameIndex.xml` and `lu_index.tsv`; file names
    /// are relative to `origin` in errors.
    pub fn from_texts(
        origin: &Path,
        frames: &[(&str, &str)],
        relations: Option<&str>,
        frame_index: Option<&str>,
        lu_tsv: Option<&str>,
    ) -> Result<Self> {
        let frames = frames
            .iter()
            .map(|(name, text)| {
                let path = origin.join("frame").join(name);
                parse_frame(&path, text).map(|f| (path, f))
            })
            .collect::<Result<Vec<_>>>()?;
        let relations = match relations {
            Some(text) => {
                let path = origin.join("frRelation.xml");
                let (r, t) = parse_relations(&path, text)?;
                Some((path, r, t))
            }
            None => None,
        };
        let frame_index = match frame_index {
            Some(text) => {
                let path = origin.join("frameIndex.xml");
                Some((path.clone(), parse_frame_index(&path, text)?))
            }
            None => None,
        };
        let lexical_units = match lu_tsv {
            Some(text) => {
                let path = origin.join("lu_index.tsv");
                Some((LuSource::Tsv(path.clone()), parse_lu_tsv(&path, text)?))
            }
            None => None,
        };
        Self::from_parts(frames, relations, Vec::new(), frame_index, lexical_units)
    }

    /// The frame called `name`.
    pub fn frame(&self, name: &str) -> Option<&Frame> {
        self.by_name.get(name).map(|&i| &self.frames[i])
    }

    /// The index of the frame called `name` in [`Lexicon::frames`].
    pub fn frame_index_of(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The index of the frame with FrameNet id `id`.
    pub fn frame_by_id(&self, id: u32) -> Option<usize> {
        self.by_id.get(&id).copied()
    }

    /// The counts `frame-parse lexicon` prints.
    pub fn counts(&self) -> LexiconCounts {
        let mut core_types = BTreeMap::new();
        let mut names = std::collections::HashSet::new();
        for fe in self.frames.iter().flat_map(|f| &f.fes) {
            *core_types
                .entry(fe.core_type.as_str().to_string())
                .or_insert(0) += 1;
            names.insert(fe.name.as_str());
        }
        let lus = self
            .lexical_units
            .as_ref()
            .map(|(_, l)| l.as_slice())
            .unwrap_or(&[]);
        let lu_names: std::collections::HashSet<&str> =
            lus.iter().map(|l| l.name.as_str()).collect();
        LexiconCounts {
            frames: self.frames.len(),
            fes: self.frames.iter().map(|f| f.fes.len()).sum(),
            fe_names: names.len(),
            core_types,
            frame_relations: self.relations.len(),
            relation_types: self.relation_types.len(),
            fe_relations: self.relations.iter().map(|r| r.fe_relations.len()).sum(),
            sem_types: self.sem_types.len(),
            indexed_frames: self.frame_index.len(),
            lexical_units: lus.len(),
            lu_names: lu_names.len(),
        }
    }

    /// The LU → candidate-frames map of the LU index (`None` without one).
    pub fn candidates(&self) -> Option<CandidateFrames> {
        self.lexical_units
            .as_ref()
            .map(|(_, lus)| CandidateFrames::from_lexical_units(lus))
    }
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| FrameParseError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn optional<T>(
    dir: &Path,
    name: &str,
    parse: impl Fn(&Path, &str) -> Result<T>,
) -> Result<Option<T>> {
    let path = dir.join(name);
    if !path.exists() {
        return Ok(None);
    }
    let text = read_text(&path)?;
    parse(&path, &text).map(Some)
}
