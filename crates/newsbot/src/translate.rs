//! The entity-replacement wrapper of §4 around any [`Translator`]: the table's entities (known
//! exactly, since the article was generated from it) are replaced by `<ENT_k>` placeholders,
//! the masked sentence is translated, each placeholder is replaced by the entity's dictionary
//! translation (fallback: the source string), and a sentence whose output does not hold every
//! placeholder exactly once is translated again unmasked.
//!
//! Built: the wrapper, the entity dictionary (from the article's own slots, and TSV files),
//! entity accuracy, and the identity translator used by the tests. Not built: a translator
//! backed by an NMT model (mls-nmt run directory) or an OpenAI-compatible endpoint, so
//! `newsbot` has no `translate` command and `newsbot run` writes no translation.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::error::{NewsbotError, Result};
use crate::format::{Lang, SlotKind, render};
use crate::generate::Article;
use crate::templates::TemplateStore;

/// Any sentence translator.
pub trait Translator {
    /// Translates sentences, one output per input.
    fn translate(&self, sentences: &[String]) -> Result<Vec<String>>;
}

/// Returns its input (the round-trip test of the spec's §10).
pub struct Identity;

impl Translator for Identity {
    fn translate(&self, sentences: &[String]) -> Result<Vec<String>> {
        Ok(sentences.to_vec())
    }
}

/// Source entity string → target rendering.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EntityDictionary {
    /// The entries.
    pub entries: BTreeMap<String, String>,
}

impl EntityDictionary {
    /// The entities of an article in `from`, rendered in `to` through the store's
    /// dictionaries: every team and player slot of every sentence.
    pub fn from_article(article: &Article, store: &TemplateStore, to: Lang) -> Self {
        let from_dict = store.dictionary.get(&article.lang);
        let to_dict = store.dictionary.get(&to);
        let mut entries = BTreeMap::new();
        for s in std::iter::once(&article.title).chain(&article.sentences) {
            for v in s.slots.values() {
                if matches!(
                    v.kind,
                    SlotKind::Team | SlotKind::TeamFull | SlotKind::Player
                ) {
                    entries.insert(
                        render(v, article.lang, from_dict, None),
                        render(v, to, to_dict, None),
                    );
                }
            }
        }
        Self { entries }
    }

    /// Reads a TSV dictionary (`source<TAB>target` per line, `#` comments; for CC-CEDICT-style
    /// data, one chosen rendering per source).
    pub fn read_tsv(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| NewsbotError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut entries = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((a, b)) = line.split_once('\t') else {
                return Err(NewsbotError::Line {
                    path: path.to_path_buf(),
                    line: i + 1,
                    problem: "expected `source<TAB>target`".into(),
                });
            };
            if a.trim().is_empty() || b.trim().is_empty() {
                return Err(NewsbotError::Line {
                    path: path.to_path_buf(),
                    line: i + 1,
                    problem: "empty source or target".into(),
                });
            }
            entries.insert(a.trim().to_string(), b.trim().to_string());
        }
        Ok(Self { entries })
    }
}

/// A sentence with its entities masked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Masked {
    /// The text with `<ENT_k>` placeholders.
    pub text: String,
    /// The source string of each placeholder, by k.
    pub entities: Vec<String>,
}

/// Replaces every occurrence of the entities (longest first) by `<ENT_0>`, `<ENT_1>`, …
pub fn mask(sentence: &str, entities: &[&str]) -> Masked {
    let mut order: Vec<&str> = entities.iter().copied().filter(|e| !e.is_empty()).collect();
    order.sort_by_key(|e| std::cmp::Reverse(e.chars().count()));
    let mut text = String::new();
    let mut found = Vec::new();
    let mut rest = sentence;
    'outer: while !rest.is_empty() {
        for e in &order {
            if let Some(after) = rest.strip_prefix(e) {
                text.push_str(&format!("<ENT_{}>", found.len()));
                found.push((*e).to_string());
                rest = after;
                continue 'outer;
            }
        }
        let c = rest.chars().next().expect("non-empty");
        text.push(c);
        rest = &rest[c.len_utf8()..];
    }
    Masked {
        text,
        entities: found,
    }
}

/// One translated sentence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranslatedSentence {
    /// The translation.
    pub text: String,
    /// Whether the unmasked fallback was used (a placeholder was lost or duplicated).
    pub fallback: bool,
}

/// Translates sentences with entity replacement (see the module documentation).
pub fn translate_with_entities(
    translator: &dyn Translator,
    sentences: &[String],
    dictionary: &EntityDictionary,
) -> Result<Vec<TranslatedSentence>> {
    let keys: Vec<&str> = dictionary.entries.keys().map(String::as_str).collect();
    let masked: Vec<Masked> = sentences.iter().map(|s| mask(s, &keys)).collect();
    let texts: Vec<String> = masked.iter().map(|m| m.text.clone()).collect();
    let outputs = translator.translate(&texts)?;
    if outputs.len() != sentences.len() {
        return Err(NewsbotError::invalid(
            "translator",
            format!(
                "{} outputs for {} sentences",
                outputs.len(),
                sentences.len()
            ),
        ));
    }
    let mut result = Vec::with_capacity(sentences.len());
    for ((m, out), source) in masked.iter().zip(outputs).zip(sentences) {
        let exactly_once = (0..m.entities.len())
            .all(|k| out.matches(&format!("<ENT_{k}>")).count() == 1)
            && out.matches("<ENT_").count() == m.entities.len();
        if exactly_once {
            let mut text = out;
            for (k, e) in m.entities.iter().enumerate() {
                let target = dictionary.entries.get(e).unwrap_or(e);
                text = text.replace(&format!("<ENT_{k}>"), target);
            }
            result.push(TranslatedSentence {
                text,
                fallback: false,
            });
        } else {
            let text = translator
                .translate(std::slice::from_ref(source))?
                .pop()
                .unwrap_or_default();
            result.push(TranslatedSentence {
                text,
                fallback: true,
            });
        }
    }
    Ok(result)
}

/// Entity accuracy: the share of source entities (over all sentences) whose dictionary
/// translation appears in the sentence's output.
pub fn entity_accuracy(
    sentences: &[String],
    outputs: &[TranslatedSentence],
    dictionary: &EntityDictionary,
) -> f64 {
    let keys: Vec<&str> = dictionary.entries.keys().map(String::as_str).collect();
    let (mut total, mut right) = (0usize, 0usize);
    for (s, o) in sentences.iter().zip(outputs) {
        for e in mask(s, &keys).entities {
            total += 1;
            right += usize::from(o.text.contains(dictionary.entries[&e].as_str()));
        }
    }
    if total == 0 {
        1.0
    } else {
        right as f64 / total as f64
    }
}
