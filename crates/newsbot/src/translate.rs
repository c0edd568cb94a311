//! The entity-replacement wrapper of §4 around any [`Translator`]: the table's entities (known
//! exactly, since the article was generated from it) are replaced by `<ENT_k>` placeholders,
//! the masked sentence is translated, each placeholder is replaced by the entity's dictionary
//! translation (fallback: the source string), and a sentence whose output does not hold every
//! placeholder exactly once is translated again unmasked.
//!
//! Translators: [`Identity`] (the round trip of the spec's §10), [`NmtTranslator`] (a trained
//! mls-nmt run directory, beam search) and [`EndpointTranslator`] (an OpenAI-compatible chat
//! endpoint, one request per sentence). [`translate_article`] runs the wrapper on an article
//! and reports entity accuracy.

use std::collections::BTreeMap;
use std::path::Path;

use burnlp_core::device::Device;

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

/// A trained mls-nmt model (a run directory written by `mls-nmt train`), decoding with beam
/// search. The model must have been trained in the article's direction (for example zh → en).
pub struct NmtTranslator {
    inner: mls_nmt::Translator,
    options: mls_nmt::DecodeOptions,
}

impl NmtTranslator {
    /// Loads the run's default checkpoint (`averaged/`, else `last/`) with the paper's decoding
    /// settings (beam 5).
    pub fn load(run: &Path, device: &Device) -> Result<Self> {
        let inner = mls_nmt::Translator::load(run, &mls_nmt::Checkpoint::Default, device).map_err(
            |source| NewsbotError::Nmt {
                run: run.to_path_buf(),
                source,
            },
        )?;
        Ok(Self {
            inner,
            options: mls_nmt::DecodeOptions::default(),
        })
    }

    /// Replaces the decoding settings.
    pub fn with_options(mut self, options: mls_nmt::DecodeOptions) -> Self {
        self.options = options;
        self
    }
}

impl Translator for NmtTranslator {
    fn translate(&self, sentences: &[String]) -> Result<Vec<String>> {
        let out = self
            .inner
            .translate(sentences, &self.options)
            .map_err(|source| NewsbotError::Nmt {
                run: "(loaded model)".into(),
                source,
            })?;
        Ok(out.into_iter().map(|t| t.text).collect())
    }
}

/// An OpenAI-compatible chat endpoint (`/v1/chat/completions`), one request per sentence at
/// temperature 0, told to keep the `<ENT_k>` placeholders; the key comes from
/// `OPENAI_API_KEY` when set.
pub struct EndpointTranslator {
    client: burnlp_core::openai::OpenAiClient,
    model: String,
    from: Lang,
    to: Lang,
}

impl EndpointTranslator {
    /// A translator from `from` into `to` through `model` at `base_url` (a trailing `/v1` is
    /// accepted).
    pub fn new(base_url: &str, model: &str, from: Lang, to: Lang) -> Self {
        let settings =
            burnlp_core::openai::ClientSettings::default().with_env_key("OPENAI_API_KEY");
        Self {
            client: burnlp_core::openai::OpenAiClient::new(base_url, settings),
            model: model.to_string(),
            from,
            to,
        }
    }

    /// The system prompt.
    pub fn instruction(&self) -> String {
        let name = |l: Lang| match l {
            Lang::Zh => "Chinese (simplified)",
            Lang::En => "English",
        };
        format!(
            "Translate the user's {} sentence from a sports news article into {}. Keep every \
             placeholder such as <ENT_0> exactly as written, once each: it stands for a name. \
             Reply with the translation only.",
            name(self.from),
            name(self.to)
        )
    }
}

impl Translator for EndpointTranslator {
    fn translate(&self, sentences: &[String]) -> Result<Vec<String>> {
        use burnlp_core::openai::{ChatMessage, ChatRequest};
        let agent = self.client.agent();
        let system = self.instruction();
        let mut out = Vec::with_capacity(sentences.len());
        for s in sentences {
            let request = ChatRequest {
                model: self.model.clone(),
                messages: vec![ChatMessage::system(system.clone()), ChatMessage::user(s)],
                max_tokens: Some(512),
                temperature: Some(0.0),
                seed: Some(0),
            };
            let response = self.client.chat(&agent, &request)?;
            let text = response.first_text().ok_or_else(|| {
                NewsbotError::invalid(
                    format!("{}/v1/chat/completions", self.client.base_url()),
                    "the response has no text",
                )
            })?;
            out.push(text.trim().to_string());
        }
        Ok(out)
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

    /// Adds (and overrides with) the entries of `other`.
    pub fn extend(&mut self, other: &EntityDictionary) {
        for (k, v) in &other.entries {
            self.entries.insert(k.clone(), v.clone());
        }
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
    let (total, right) = entity_counts(sentences, outputs, dictionary);
    if total == 0 {
        1.0
    } else {
        right as f64 / total as f64
    }
}

/// Entity counts behind [`entity_accuracy`]: (entities in the sources, entities whose
/// dictionary translation appears in the output).
pub fn entity_counts(
    sentences: &[String],
    outputs: &[TranslatedSentence],
    dictionary: &EntityDictionary,
) -> (usize, usize) {
    let keys: Vec<&str> = dictionary.entries.keys().map(String::as_str).collect();
    let (mut total, mut right) = (0usize, 0usize);
    for (s, o) in sentences.iter().zip(outputs) {
        for e in mask(s, &keys).entities {
            total += 1;
            right += usize::from(o.text.contains(dictionary.entries[&e].as_str()));
        }
    }
    (total, right)
}

/// A source sentence with its translation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranslatedPair {
    /// The source sentence (the headline first).
    pub source: String,
    /// The translation.
    pub text: String,
    /// Whether the unmasked fallback was used.
    pub fallback: bool,
}

/// An article's translation with its entity accuracy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranslationReport {
    /// Source language.
    pub from: Lang,
    /// Target language.
    pub to: Lang,
    /// Which translator (for the reader).
    pub translator: String,
    /// The headline, then the body sentences.
    pub sentences: Vec<TranslatedPair>,
    /// Entity mentions in the sources.
    pub entities: usize,
    /// Entity mentions whose dictionary translation is in the output.
    pub entities_right: usize,
    /// Sentences translated again unmasked.
    pub fallbacks: usize,
}

impl TranslationReport {
    /// Entity accuracy (1 when there is no entity).
    pub fn entity_accuracy(&self) -> f64 {
        if self.entities == 0 {
            1.0
        } else {
            self.entities_right as f64 / self.entities as f64
        }
    }

    /// The translation as Markdown: the translated headline and body, then the sentence pairs
    /// and the entity accuracy.
    pub fn markdown(&self) -> String {
        let sep = self.to.sentence_separator();
        let mut out = String::new();
        if let Some((title, body)) = self.sentences.split_first() {
            out.push_str(&format!("# {}\n\n", title.text));
            let body: Vec<&str> = body.iter().map(|p| p.text.as_str()).collect();
            out.push_str(&body.join(sep));
            out.push_str("\n\n");
        }
        out.push_str(&format!(
            "---\nTranslated {} → {} by {} with entity replacement (spec §4). Entity accuracy: \
             {}/{} = {:.3}; sentences translated again unmasked (a placeholder lost or \
             repeated): {} of {}.\n\n| source | translation | fallback |\n|---|---|---|\n",
            self.from.code(),
            self.to.code(),
            self.translator,
            self.entities_right,
            self.entities,
            self.entity_accuracy(),
            self.fallbacks,
            self.sentences.len()
        ));
        for p in &self.sentences {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                p.source.replace('|', "\\|"),
                p.text.replace('|', "\\|"),
                if p.fallback { "yes" } else { "" }
            ));
        }
        out
    }
}

/// Translates an article (headline and body) into `to` with entity replacement; the entity
/// dictionary is built from the article's slots through the store, and `extra` entries (a TSV
/// dictionary) take precedence.
pub fn translate_article(
    article: &Article,
    store: &TemplateStore,
    to: Lang,
    translator: &dyn Translator,
    translator_name: &str,
    extra: Option<&EntityDictionary>,
) -> Result<TranslationReport> {
    let mut dictionary = EntityDictionary::from_article(article, store, to);
    if let Some(extra) = extra {
        dictionary.extend(extra);
    }
    let sources: Vec<String> = std::iter::once(&article.title)
        .chain(&article.sentences)
        .map(|s| s.text.clone())
        .collect();
    let outputs = translate_with_entities(translator, &sources, &dictionary)?;
    let (entities, entities_right) = entity_counts(&sources, &outputs, &dictionary);
    let fallbacks = outputs.iter().filter(|o| o.fallback).count();
    Ok(TranslationReport {
        from: article.lang,
        to,
        translator: translator_name.to_string(),
        sentences: sources
            .into_iter()
            .zip(outputs)
            .map(|(source, o)| TranslatedPair {
                source,
                text: o.text,
                fallback: o.fallback,
            })
            .collect(),
        entities,
        entities_right,
        fallbacks,
    })
}
