//! Article generation: a seeded choice of template per planned sentence without repeating a
//! template inside an article (until a sentence type's templates are used up), filling, and
//! the article with its provenance as Markdown and JSON.

use std::collections::{BTreeMap, BTreeSet};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::error::Result;
use crate::format::{Lang, SlotValue};
use crate::plan::{Planned, plan};
use crate::table::Table;
use crate::templates::TemplateStore;

/// Seeded uniform template choice that avoids repeats within an article.
pub struct Chooser {
    rng: StdRng,
    used: BTreeMap<String, BTreeSet<usize>>,
    last: BTreeMap<String, usize>,
}

impl Chooser {
    /// A chooser for one article.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            used: BTreeMap::new(),
            last: BTreeMap::new(),
        }
    }

    /// Picks one of `n` templates of `kind`: uniformly among those not used yet in this
    /// article; once all are used, among all but the one used last.
    pub fn choose(&mut self, kind: &str, n: usize) -> usize {
        let used = self.used.entry(kind.to_string()).or_default();
        if used.len() >= n {
            used.clear();
        }
        let last = self.last.get(kind).copied();
        let candidates: Vec<usize> = (0..n)
            .filter(|i| !used.contains(i) && (n == 1 || !used.is_empty() || Some(*i) != last))
            .collect();
        let candidates = if candidates.is_empty() {
            (0..n).collect()
        } else {
            candidates
        };
        let pick = candidates[self.rng.random_range(0..candidates.len())];
        used.insert(pick);
        self.last.insert(kind.to_string(), pick);
        pick
    }
}

/// One generated sentence with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sentence {
    /// Sentence type.
    pub kind: String,
    /// Paragraph number (0 = headline).
    pub paragraph: usize,
    /// Index of the template used (within the type and language).
    pub template: usize,
    /// The text.
    pub text: String,
    /// Every table cell the sentence realises, sorted.
    pub cells: Vec<String>,
    /// The slot values and their cells.
    pub slots: BTreeMap<String, SlotValue>,
}

/// A generated article.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Article {
    /// Its language.
    pub lang: Lang,
    /// The template seed.
    pub seed: u64,
    /// The headline.
    pub title: Sentence,
    /// Body sentences in order.
    pub sentences: Vec<Sentence>,
}

impl Article {
    /// The article as Markdown: the headline, then one paragraph per planned paragraph.
    pub fn markdown(&self) -> String {
        let mut out = format!("# {}\n", self.title.text);
        let sep = self.lang.sentence_separator();
        let mut paragraph = None;
        for s in &self.sentences {
            if paragraph != Some(s.paragraph) {
                out.push('\n');
                if paragraph.is_some() {
                    out.push('\n');
                }
                paragraph = Some(s.paragraph);
            } else {
                out.push_str(sep);
            }
            out.push_str(&s.text);
        }
        out.push('\n');
        out
    }

    /// The body as plain text (sentences joined).
    pub fn body_text(&self) -> String {
        self.sentences
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(self.lang.sentence_separator())
    }

    /// Every cell the article realises (headline included).
    pub fn cells(&self) -> BTreeSet<&str> {
        std::iter::once(&self.title)
            .chain(&self.sentences)
            .flat_map(|s| s.cells.iter().map(String::as_str))
            .collect()
    }

    /// Distinct (type, template) pairs over sentences: 1.0 when no template repeats.
    pub fn template_diversity(&self) -> f64 {
        let all: Vec<(&str, usize)> = std::iter::once(&self.title)
            .chain(&self.sentences)
            .map(|s| (s.kind.as_str(), s.template))
            .collect();
        let distinct: BTreeSet<_> = all.iter().collect();
        distinct.len() as f64 / all.len().max(1) as f64
    }
}

/// Realises planned sentences with seeded template choice.
pub fn realise(
    planned: &[Planned],
    store: &TemplateStore,
    lang: Lang,
    seed: u64,
) -> Result<Vec<Sentence>> {
    let mut chooser = Chooser::new(seed);
    planned
        .iter()
        .map(|p| {
            let n = store.sentence_type(&p.kind)?.templates[&lang].len();
            let template = chooser.choose(&p.kind, n);
            let text = store.fill(&p.kind, lang, template, &p.slots)?;
            let cells: BTreeSet<String> = p
                .slots
                .values()
                .flat_map(|v| v.cells.iter().cloned())
                .collect();
            Ok(Sentence {
                kind: p.kind.clone(),
                paragraph: p.paragraph,
                template,
                text,
                cells: cells.into_iter().collect(),
                slots: p.slots.clone(),
            })
        })
        .collect()
}

/// Writes an article about `table` (`source` names it in errors).
pub fn write_article(
    table: &Table,
    source: &str,
    store: &TemplateStore,
    lang: Lang,
    seed: u64,
) -> Result<Article> {
    let planned = plan(table, source)?;
    let mut sentences = realise(&planned, store, lang, seed)?.into_iter();
    let title = sentences.next().ok_or_else(|| {
        crate::error::NewsbotError::invalid(source, "the planner produced no sentence")
    })?;
    Ok(Article {
        lang,
        seed,
        title,
        sentences: sentences.collect(),
    })
}
