//! The rerank rules of the spec (§6.2), each a configurable check whose hits are counted:
//! wrong language, length ratio outside a band, duplicate pair, (near-)identical sides, too
//! short a side, a side that is mostly digits, punctuation or URLs, and numbers or URLs that
//! differ between the sides.
//!
//! Language identification is `whatlang` (trigram models, 69 languages; Khmer is recognised by
//! its script). A pair's rule score is minus the number of rules it breaks; a reranked score is
//! `score − penalty · broken rules`.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::corpus::Pair;
use crate::error::{ParaFilterError, Result};
use crate::tokenize::{char_len, mostly_unspaced};

/// The rules, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Rule {
    /// A side is identified as another language.
    WrongLanguage,
    /// The character-length ratio lies outside the band.
    LengthRatio,
    /// The pair repeats an earlier pair (first occurrence kept).
    Duplicate,
    /// The sides are identical or share most tokens.
    Overlap,
    /// A side is too short.
    TooShort,
    /// A side is mostly digits, punctuation or URLs.
    NonText,
    /// The numbers of the two sides differ.
    Numbers,
    /// The URLs of the two sides differ.
    Urls,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 8] = [
        Rule::WrongLanguage,
        Rule::LengthRatio,
        Rule::Duplicate,
        Rule::Overlap,
        Rule::TooShort,
        Rule::NonText,
        Rule::Numbers,
        Rule::Urls,
    ];

    /// A short name (`wrong-language`, …).
    pub fn name(self) -> &'static str {
        match self {
            Rule::WrongLanguage => "wrong-language",
            Rule::LengthRatio => "length-ratio",
            Rule::Duplicate => "duplicate",
            Rule::Overlap => "overlap",
            Rule::TooShort => "too-short",
            Rule::NonText => "non-text",
            Rule::Numbers => "numbers",
            Rule::Urls => "urls",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// The set of rules a pair breaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hits(u16);

impl Hits {
    /// Whether `rule` fired.
    pub fn contains(self, rule: Rule) -> bool {
        self.0 & rule.bit() != 0
    }

    fn insert(&mut self, rule: Rule) {
        self.0 |= rule.bit();
    }

    /// Number of rules that fired.
    pub fn count(self) -> u32 {
        self.0.count_ones()
    }

    /// The rules that fired.
    pub fn rules(self) -> impl Iterator<Item = Rule> {
        Rule::ALL.into_iter().filter(move |r| self.contains(*r))
    }
}

/// Settings of the rules (every constant is configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
pub struct RuleConfig {
    /// ISO 639-3 code of the other language (`khm`, `pus`, `deu`, …), as whatlang names it.
    #[arg(long, default_value = "khm")]
    pub xx_lang: String,
    /// A side counts as another language only when whatlang's confidence reaches this.
    #[arg(long, default_value_t = 0.5)]
    pub lang_confidence: f64,
    /// Lowest allowed `chars(en) / chars(xx)`.
    #[arg(long, default_value_t = 0.5)]
    pub min_length_ratio: f64,
    /// Highest allowed `chars(en) / chars(xx)`.
    #[arg(long, default_value_t = 2.0)]
    pub max_length_ratio: f64,
    /// Token overlap (Jaccard of lower-cased word sets) at or above which the sides are too
    /// similar.
    #[arg(long, default_value_t = 0.5)]
    pub max_overlap: f64,
    /// Fewest whitespace tokens a side needs (unspaced scripts: `min_tokens` × 3 characters).
    #[arg(long, default_value_t = 3)]
    pub min_tokens: usize,
    /// Least fraction of letters among a side's non-space characters (URLs count as non-letters).
    #[arg(long, default_value_t = 0.5)]
    pub min_letter_fraction: f64,
    /// Rules to switch off, by name (`numbers`, `urls`, …; repeatable).
    #[arg(long = "disable-rule")]
    pub disabled: Vec<String>,
}

impl Default for RuleConfig {
    fn default() -> Self {
        Self {
            xx_lang: "khm".into(),
            lang_confidence: 0.5,
            min_length_ratio: 0.5,
            max_length_ratio: 2.0,
            max_overlap: 0.5,
            min_tokens: 3,
            min_letter_fraction: 0.5,
            disabled: Vec::new(),
        }
    }
}

/// The rules with their state (seen pairs, for duplicates) and hit counts.
#[derive(Debug)]
pub struct RuleSet {
    config: RuleConfig,
    xx_lang: whatlang::Lang,
    enabled: u16,
    url: Regex,
    seen: HashSet<u64>,
    counts: [usize; Rule::ALL.len()],
    checked: usize,
}

fn normalise(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Digit sequences with every Unicode decimal digit mapped to ASCII, sorted.
fn numbers(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        match decimal_digit(c) {
            Some(d) => current.push(d),
            None if matches!(c, '.' | ',') && !current.is_empty() => {}
            None => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out.sort();
    out
}

/// The ASCII digit of a decimal digit in any script this task meets.
fn decimal_digit(c: char) -> Option<char> {
    let zero = match c as u32 {
        0x30..=0x39 => 0x30,
        0x0660..=0x0669 => 0x0660,
        0x06F0..=0x06F9 => 0x06F0,
        0x0966..=0x096F => 0x0966,
        0x17E0..=0x17E9 => 0x17E0,
        0xFF10..=0xFF19 => 0xFF10,
        _ => return None,
    };
    char::from_digit(c as u32 - zero, 10)
}

impl RuleSet {
    /// Rules with the given settings; an unknown language code or rule name is an error.
    pub fn new(config: RuleConfig) -> Result<Self> {
        let xx_lang = whatlang::Lang::from_code(&config.xx_lang).ok_or_else(|| {
            ParaFilterError::invalid(
                format!("--xx-lang {}", config.xx_lang),
                "not an ISO 639-3 code whatlang knows (e.g. khm, deu, fra, cmn)",
            )
        })?;
        let mut enabled = u16::MAX;
        for name in &config.disabled {
            let rule = Rule::ALL
                .into_iter()
                .find(|r| r.name() == name)
                .ok_or_else(|| {
                    let names: Vec<_> = Rule::ALL.iter().map(|r| r.name()).collect();
                    ParaFilterError::invalid(
                        format!("--disable-rule {name}"),
                        format!("no such rule (rules: {})", names.join(", ")),
                    )
                })?;
            enabled &= !rule.bit();
        }
        Ok(Self {
            config,
            xx_lang,
            enabled,
            url: Regex::new(r"(?i)\b(?:https?://|www\.)\S+").expect("a valid URL pattern"),
            seen: HashSet::new(),
            counts: [0; Rule::ALL.len()],
            checked: 0,
        })
    }

    fn wrong_language(&self, text: &str, expected: whatlang::Lang) -> bool {
        match whatlang::detect(text) {
            Some(info) => {
                info.lang() != expected && info.confidence() >= self.config.lang_confidence
            }
            None => false,
        }
    }

    fn too_short(&self, text: &str) -> bool {
        if mostly_unspaced(text) {
            char_len(text) < 3 * self.config.min_tokens
        } else {
            text.split_whitespace().count() < self.config.min_tokens
        }
    }

    fn non_text(&self, text: &str) -> bool {
        let without_urls = self.url.replace_all(text, "");
        let total = char_len(text);
        let letters = without_urls.chars().filter(|c| c.is_alphabetic()).count();
        total > 0 && (letters as f64) < self.config.min_letter_fraction * total as f64
    }

    fn overlap(&self, pair: &Pair) -> bool {
        let (en, xx) = (normalise(&pair.en), normalise(&pair.xx));
        if en == xx {
            return true;
        }
        let words = |s: &str| -> HashSet<String> {
            s.split_whitespace()
                .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_string())
                .filter(|w| w.chars().count() > 1)
                .collect()
        };
        let (a, b) = (words(&en), words(&xx));
        let union = a.union(&b).count();
        union > 0 && a.intersection(&b).count() as f64 >= self.config.max_overlap * union as f64
    }

    fn urls(&self, text: &str) -> Vec<String> {
        let mut urls: Vec<String> = self
            .url
            .find_iter(text)
            .map(|m| m.as_str().trim_end_matches(['.', ',', ')']).to_lowercase())
            .collect();
        urls.sort();
        urls
    }

    /// The rules a pair breaks, except [`Rule::Duplicate`] (no state; safe to run in parallel).
    pub fn check_stateless(&self, pair: &Pair) -> Hits {
        let mut hits = Hits::default();
        let (ce, cx) = (char_len(&pair.en), char_len(&pair.xx));
        if self.wrong_language(&pair.en, whatlang::Lang::Eng)
            || self.wrong_language(&pair.xx, self.xx_lang)
        {
            hits.insert(Rule::WrongLanguage);
        }
        let ratio = ce as f64 / cx.max(1) as f64;
        if cx == 0 || ratio < self.config.min_length_ratio || ratio > self.config.max_length_ratio {
            hits.insert(Rule::LengthRatio);
        }
        if self.overlap(pair) {
            hits.insert(Rule::Overlap);
        }
        if self.too_short(&pair.en) || self.too_short(&pair.xx) {
            hits.insert(Rule::TooShort);
        }
        if self.non_text(&pair.en) || self.non_text(&pair.xx) {
            hits.insert(Rule::NonText);
        }
        if numbers(&pair.en) != numbers(&pair.xx) {
            hits.insert(Rule::Numbers);
        }
        if self.urls(&pair.en) != self.urls(&pair.xx) {
            hits.insert(Rule::Urls);
        }
        Hits(hits.0 & self.enabled)
    }

    /// Adds the duplicate check (in corpus order) to `hits` and counts them.
    pub fn finish(&mut self, pair: &Pair, mut hits: Hits) -> Hits {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (normalise(&pair.en), normalise(&pair.xx)).hash(&mut hasher);
        if !self.seen.insert(hasher.finish()) && self.enabled & Rule::Duplicate.bit() != 0 {
            hits.insert(Rule::Duplicate);
        }
        for rule in hits.rules() {
            self.counts[rule as usize] += 1;
        }
        self.checked += 1;
        hits
    }

    /// All rules for one pair (in corpus order).
    pub fn check(&mut self, pair: &Pair) -> Hits {
        let hits = self.check_stateless(pair);
        self.finish(pair, hits)
    }

    /// How often each rule fired, and the number of pairs checked.
    pub fn counts(&self) -> (Vec<(Rule, usize)>, usize) {
        (
            Rule::ALL
                .iter()
                .map(|&r| (r, self.counts[r as usize]))
                .collect(),
            self.checked,
        )
    }
}

/// The rule score of a pair: minus the number of broken rules.
pub fn rule_score(hits: Hits) -> f64 {
    -f64::from(hits.count())
}

/// A score lowered by `penalty` per broken rule.
pub fn rerank(score: f64, hits: Hits, penalty: f64) -> f64 {
    score - penalty * f64::from(hits.count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_across_scripts() {
        assert_eq!(numbers("in 2020, 1,000 cats"), ["1000", "2020"]);
        assert_eq!(numbers("ឆ្នាំ ២០២០"), ["2020"]);
    }
}
