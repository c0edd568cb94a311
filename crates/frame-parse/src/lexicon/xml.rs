//! Parsers of the FrameNet XML files (namespace `http://framenet.icsi.berkeley.edu`; elements
//! are matched by local name).

use std::path::Path;

use roxmltree::{Document, Node};

use super::{
    CoreType, FeRelation, Frame, FrameElement, FrameRelation, IndexedFrame, RelatedFrame, SemType,
};
use crate::error::{FrameParseError, Result};

fn document<'a>(path: &Path, text: &'a str) -> Result<Document<'a>> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    Document::parse_with_options(text, options).map_err(|e| FrameParseError::Xml {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Locates errors in one XML document.
struct Locator<'a, 'input> {
    path: &'a Path,
    doc: &'a Document<'input>,
}

impl Locator<'_, '_> {
    fn line(&self, node: Node) -> u32 {
        self.doc.text_pos_at(node.range().start).row
    }

    fn error(&self, node: Node, problem: impl Into<String>) -> FrameParseError {
        let name = node.tag_name().name();
        let element = match node.attribute("name").or(node.attribute("ID")) {
            Some(id) => format!("{name} \"{id}\""),
            None => name.to_string(),
        };
        FrameParseError::Element {
            path: self.path.to_path_buf(),
            line: self.line(node),
            element,
            problem: problem.into(),
        }
    }

    fn attr<'n>(&self, node: Node<'n, '_>, name: &str) -> Result<&'n str> {
        node.attribute(name)
            .ok_or_else(|| self.error(node, format!("missing attribute `{name}`")))
    }

    fn id(&self, node: Node, name: &str) -> Result<u32> {
        let value = self.attr(node, name)?;
        value
            .trim()
            .parse()
            .map_err(|_| self.error(node, format!("attribute `{name}` is `{value}`, not an ID")))
    }
}

fn children<'a, 'input: 'a>(
    node: Node<'a, 'input>,
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'input>> + 'a {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

/// Removes `<...>` markup from a definition (FrameNet stores it escaped inside the text).
pub fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = false;
    for c in text.chars() {
        match c {
            '<' => depth = true,
            '>' if depth => {
                depth = false;
                out.push(' ');
            }
            _ if !depth => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn definition(node: Node) -> String {
    children(node, "definition")
        .next()
        .and_then(|d| d.text())
        .map(strip_tags)
        .unwrap_or_default()
}

/// Parses one `frame/*.xml` file.
pub fn parse_frame(path: &Path, text: &str) -> Result<Frame> {
    let doc = document(path, text)?;
    let at = Locator { path, doc: &doc };
    let root = doc.root_element();
    if root.tag_name().name() != "frame" {
        return Err(at.error(root, "the root element is not <frame>"));
    }
    let mut fes = Vec::new();
    for fe in children(root, "FE") {
        let core = at.attr(fe, "coreType")?;
        let core_type = CoreType::parse(core)
            .ok_or_else(|| at.error(fe, format!("unknown coreType `{core}`")))?;
        let name = at.attr(fe, "name")?.to_string();
        if name.is_empty() {
            return Err(at.error(fe, "empty FE name"));
        }
        let ids =
            |tag: &str| -> Result<Vec<u32>> { children(fe, tag).map(|c| at.id(c, "ID")).collect() };
        fes.push(FrameElement {
            id: at.id(fe, "ID")?,
            name,
            core_type,
            abbrev: fe.attribute("abbrev").unwrap_or_default().to_string(),
            definition: definition(fe),
            sem_types: ids("semType")?,
            requires: ids("requiresFE")?,
            excludes: ids("excludesFE")?,
            line: at.line(fe),
        });
    }
    let mut related = Vec::new();
    for relation in children(root, "frameRelation") {
        let kind = at.attr(relation, "type")?;
        for frame in children(relation, "relatedFrame") {
            related.push(RelatedFrame {
                relation: kind.to_string(),
                frame_id: at.id(frame, "ID")?,
                frame_name: frame.text().unwrap_or_default().trim().to_string(),
                line: at.line(frame),
            });
        }
    }
    for fe in &fes {
        for id in fe.requires.iter().chain(&fe.excludes) {
            if !fes.iter().any(|other| other.id == *id) {
                return Err(FrameParseError::Element {
                    path: path.to_path_buf(),
                    line: fe.line,
                    element: format!("FE \"{}\"", fe.name),
                    problem: format!("refers to FE ID {id}, which is not an FE of this frame"),
                });
            }
        }
    }
    Ok(Frame {
        id: at.id(root, "ID")?,
        name: at.attr(root, "name")?.to_string(),
        definition: definition(root),
        fes,
        related,
        lex_units_in_file: children(root, "lexUnit").count(),
    })
}

/// Parses `frRelation.xml`: the frame relations and the relation type names.
pub fn parse_relations(path: &Path, text: &str) -> Result<(Vec<FrameRelation>, Vec<String>)> {
    let doc = document(path, text)?;
    let at = Locator { path, doc: &doc };
    let mut relations = Vec::new();
    let mut types = Vec::new();
    for kind in children(doc.root_element(), "frameRelationType") {
        let name = at.attr(kind, "name")?.to_string();
        for relation in children(kind, "frameRelation") {
            let fe_relations = children(relation, "FERelation")
                .map(|fe| {
                    Ok(FeRelation {
                        sub_id: at.id(fe, "subID")?,
                        sup_id: at.id(fe, "supID")?,
                    })
                })
                .collect::<Result<_>>()?;
            relations.push(FrameRelation {
                relation_type: name.clone(),
                sub_id: at.id(relation, "subID")?,
                sup_id: at.id(relation, "supID")?,
                fe_relations,
                line: at.line(relation),
            });
        }
        types.push(name);
    }
    Ok((relations, types))
}

/// Parses `semTypes.xml`.
pub fn parse_sem_types(path: &Path, text: &str) -> Result<Vec<SemType>> {
    let doc = document(path, text)?;
    let at = Locator { path, doc: &doc };
    children(doc.root_element(), "semType")
        .map(|node| {
            Ok(SemType {
                id: at.id(node, "ID")?,
                name: at.attr(node, "name")?.to_string(),
                abbrev: node.attribute("abbrev").unwrap_or_default().to_string(),
                super_types: children(node, "superType")
                    .map(|s| at.id(s, "supID"))
                    .collect::<Result<_>>()?,
            })
        })
        .collect()
}

/// Parses `frameIndex.xml`.
pub fn parse_frame_index(path: &Path, text: &str) -> Result<Vec<IndexedFrame>> {
    let doc = document(path, text)?;
    let at = Locator { path, doc: &doc };
    children(doc.root_element(), "frame")
        .map(|node| {
            Ok(IndexedFrame {
                id: at.id(node, "ID")?,
                name: at.attr(node, "name")?.to_string(),
                line: at.line(node),
            })
        })
        .collect()
}

/// An `<lu>` entry of `luIndex.xml`: `(id, name, frame id, frame name, status, line)`.
pub(super) type LuEntry = (u32, String, u32, String, String, u32);

/// Parses the `<lu>` entries of `luIndex.xml`.
pub(super) fn parse_lu_entries(path: &Path, text: &str) -> Result<Vec<LuEntry>> {
    let doc = document(path, text)?;
    let at = Locator { path, doc: &doc };
    children(doc.root_element(), "lu")
        .map(|node| {
            Ok((
                at.id(node, "ID")?,
                at.attr(node, "name")?.to_string(),
                at.id(node, "frameID")?,
                at.attr(node, "frameName")?.to_string(),
                node.attribute("status").unwrap_or_default().to_string(),
                at.line(node),
            ))
        })
        .collect()
}
