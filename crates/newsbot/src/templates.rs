//! The template store: sentence types with typed slots and, per language, the templates that
//! realise them. It is a TOML data file (`templates/sports.toml`, embedded; `--templates F`
//! replaces it):
//!
//! ```toml
//! [dictionary.zh]
//! Hawks = "老鹰"
//!
//! [sentence.bb_leader]
//! slots = { player = "player", team = "team", pts = "int", reb = "count" }
//! en = ["{player} led the {team} with {pts} points and {reb:rebound}."]
//! zh = ["{player}拿下{pts}分{reb}个篮板，是{team}的头号功臣。"]
//! ```
//!
//! A placeholder is `{slot}` or, for English counts, `{slot:noun}` (the noun follows the
//! number, with `s` unless the number is one). Loading checks that every placeholder names a
//! declared slot and that every sentence type has templates in both languages; filling checks
//! that every placeholder gets a value of its declared type and that no brace is left.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{NewsbotError, Result};
use crate::format::{Dictionary, Lang, SlotKind, SlotValue, render};

/// The embedded default store.
pub const DEFAULT_TEMPLATES: &str = include_str!("../templates/sports.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreFile {
    #[serde(default)]
    dictionary: BTreeMap<Lang, Dictionary>,
    sentence: BTreeMap<String, SentenceFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SentenceFile {
    slots: BTreeMap<String, SlotKind>,
    #[serde(default)]
    zh: Vec<String>,
    #[serde(default)]
    en: Vec<String>,
}

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// Literal text.
    Literal(String),
    /// `{slot}` or `{slot:noun}`.
    Slot {
        /// The slot's name.
        name: String,
        /// The English noun after the number.
        noun: Option<String>,
    },
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// The template as written.
    pub source: String,
    /// Its pieces.
    pub pieces: Vec<Piece>,
}

/// A sentence type: its slots and templates per language.
#[derive(Debug, Clone)]
pub struct SentenceType {
    /// Declared slot types.
    pub slots: BTreeMap<String, SlotKind>,
    /// Templates per language.
    pub templates: BTreeMap<Lang, Vec<Template>>,
}

/// The loaded, checked template store.
#[derive(Debug, Clone)]
pub struct TemplateStore {
    /// Where it came from (a path or `embedded`).
    pub source: String,
    /// Sentence types by name.
    pub types: BTreeMap<String, SentenceType>,
    /// Name dictionaries per language.
    pub dictionary: BTreeMap<Lang, Dictionary>,
}

/// Parses `{slot}` / `{slot:noun}` placeholders; `{{` and `}}` are literal braces.
pub fn parse_template(text: &str) -> std::result::Result<Template, String> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                literal.push('}');
            }
            '{' => {
                let mut inner = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some('{') | None => {
                            return Err(format!("unclosed placeholder `{{{inner}` in `{text}`"));
                        }
                        Some(c) => inner.push(c),
                    }
                }
                let (name, noun) = match inner.split_once(':') {
                    Some((n, noun)) => (n.trim(), Some(noun.trim().to_string())),
                    None => (inner.trim(), None),
                };
                let valid = !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && noun.as_ref().is_none_or(|n| !n.is_empty());
                if !valid {
                    return Err(format!("bad placeholder `{{{inner}}}` in `{text}`"));
                }
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Slot {
                    name: name.to_string(),
                    noun,
                });
            }
            '}' => return Err(format!("stray `}}` in `{text}`")),
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(Template {
        source: text.to_string(),
        pieces,
    })
}

impl TemplateStore {
    /// The embedded default store.
    pub fn embedded() -> Self {
        Self::parse(DEFAULT_TEMPLATES, "embedded").expect("the embedded template store is valid")
    }

    /// Reads and checks a store from a file.
    pub fn load(path: &std::path::Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| NewsbotError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and checks a store from TOML text; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Self> {
        let file: StoreFile = toml::from_str(text)
            .map_err(|e| NewsbotError::template(source, e.to_string().trim().to_string()))?;
        let mut types = BTreeMap::new();
        for (name, sentence) in file.sentence {
            let mut templates = BTreeMap::new();
            for (lang, list) in [(Lang::Zh, sentence.zh), (Lang::En, sentence.en)] {
                if list.is_empty() {
                    return Err(NewsbotError::template(
                        source,
                        format!("sentence type `{name}` has no `{}` templates", lang.code()),
                    ));
                }
                let mut parsed = Vec::with_capacity(list.len());
                for (i, t) in list.iter().enumerate() {
                    let template = parse_template(t).map_err(|p| {
                        NewsbotError::template(
                            source,
                            format!("`{name}` {} template {i}: {p}", lang.code()),
                        )
                    })?;
                    for piece in &template.pieces {
                        if let Piece::Slot { name: slot, .. } = piece
                            && !sentence.slots.contains_key(slot)
                        {
                            return Err(NewsbotError::template(
                                source,
                                format!(
                                    "`{name}` {} template {i} uses `{{{slot}}}`, which is not \
                                     among its slots ({})",
                                    lang.code(),
                                    sentence
                                        .slots
                                        .keys()
                                        .cloned()
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            ));
                        }
                    }
                    parsed.push(template);
                }
                templates.insert(lang, parsed);
            }
            types.insert(
                name,
                SentenceType {
                    slots: sentence.slots,
                    templates,
                },
            );
        }
        Ok(Self {
            source: source.into(),
            types,
            dictionary: file.dictionary,
        })
    }

    /// A sentence type, or an error naming it.
    pub fn sentence_type(&self, name: &str) -> Result<&SentenceType> {
        self.types.get(name).ok_or_else(|| {
            NewsbotError::template(&self.source, format!("no sentence type `{name}`"))
        })
    }

    /// Fills template `index` of sentence type `kind` in `lang` with `values`. Every
    /// placeholder must have a value of the declared type; the result has no braces left.
    pub fn fill(
        &self,
        kind: &str,
        lang: Lang,
        index: usize,
        values: &BTreeMap<String, SlotValue>,
    ) -> Result<String> {
        let sentence = self.sentence_type(kind)?;
        let template = &sentence.templates[&lang][index];
        let dictionary = self.dictionary.get(&lang);
        let mut out = String::new();
        for piece in &template.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Slot { name, noun } => {
                    let value = values.get(name).ok_or_else(|| {
                        NewsbotError::template(
                            &self.source,
                            format!(
                                "`{kind}` template `{}`: no value for `{{{name}}}`",
                                template.source
                            ),
                        )
                    })?;
                    let declared = sentence.slots[name];
                    if value.kind != declared {
                        return Err(NewsbotError::template(
                            &self.source,
                            format!(
                                "`{kind}` slot `{name}` is declared `{}` but the planner gave a \
                                 `{}`",
                                declared.name(),
                                value.kind.name()
                            ),
                        ));
                    }
                    out.push_str(&render(value, lang, dictionary, noun.as_deref()));
                }
            }
        }
        let literal_braces = template
            .pieces
            .iter()
            .any(|p| matches!(p, Piece::Literal(t) if t.contains('{') || t.contains('}')));
        if !literal_braces && (out.contains('{') || out.contains('}')) {
            return Err(NewsbotError::template(
                &self.source,
                format!("`{kind}`: unfilled placeholder in `{out}`"),
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_parse_with_nouns_and_escaped_braces() {
        let t = parse_template("{a} has {n:point} {{x}}").unwrap();
        assert_eq!(
            t.pieces,
            vec![
                Piece::Slot {
                    name: "a".into(),
                    noun: None
                },
                Piece::Literal(" has ".into()),
                Piece::Slot {
                    name: "n".into(),
                    noun: Some("point".into())
                },
                Piece::Literal(" {x}".into()),
            ]
        );
        assert!(parse_template("{open").is_err());
        assert!(parse_template("close}").is_err());
        assert!(parse_template("{bad name}").is_err());
    }

    #[test]
    fn the_embedded_store_loads() {
        let store = TemplateStore::embedded();
        assert!(store.types.contains_key("soccer_headline_win"));
        assert!(store.types.contains_key("bb_result"));
    }
}
