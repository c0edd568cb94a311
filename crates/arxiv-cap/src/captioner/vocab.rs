//! The captioner's word vocabulary, with fairseq's special ids (`<s>` 0, `<pad>` 1, `</s>` 2,
//! `<unk>` 3).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Padding id.
pub const PAD: u32 = 1;
/// End-of-sentence id (also the decoder's first input).
pub const EOS: u32 = 2;
/// Unknown-word id.
pub const UNK: u32 = 3;
const SPECIALS: [&str; 4] = ["<s>", "<pad>", "</s>", "<unk>"];

/// Lower-cased words and single punctuation marks of a caption.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if !c.is_whitespace() {
            out.push(c.to_string());
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// A word ↔ id table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vocab {
    /// The words by id; the first four are the specials.
    pub words: Vec<String>,
    #[serde(skip)]
    ids: HashMap<String, u32>,
}

impl Vocab {
    /// The words of `texts` seen at least `min_count` times, most frequent first (ties in
    /// alphabetical order), at most `max_words` of them, after the specials.
    pub fn build<'a>(
        texts: impl IntoIterator<Item = &'a str>,
        min_count: usize,
        max_words: usize,
    ) -> Self {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for text in texts {
            for w in words(text) {
                *counts.entry(w).or_default() += 1;
            }
        }
        let mut ranked: Vec<(String, usize)> = counts
            .into_iter()
            .filter(|(_, c)| *c >= min_count.max(1))
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ranked.truncate(max_words);
        Self::from_words(
            SPECIALS
                .iter()
                .map(|s| s.to_string())
                .chain(ranked.into_iter().map(|(w, _)| w))
                .collect(),
        )
    }

    /// A vocabulary from its word list (specials first), e.g. after deserialising.
    pub fn from_words(words: Vec<String>) -> Self {
        let ids = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as u32))
            .collect();
        Self { words, ids }
    }

    /// Number of ids.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True when only the specials are present.
    pub fn is_empty(&self) -> bool {
        self.words.len() <= SPECIALS.len()
    }

    /// The ids of a caption's words (`<unk>` for unknown ones), cut to `max_len`.
    pub fn encode(&self, text: &str, max_len: usize) -> Vec<u32> {
        let mut ids: Vec<u32> = words(text)
            .iter()
            .map(|w| self.ids.get(w).copied().unwrap_or(UNK))
            .collect();
        ids.truncate(max_len);
        ids
    }

    /// The words of `ids` joined by spaces (specials other than `<unk>` left out).
    pub fn decode(&self, ids: &[u32]) -> String {
        ids.iter()
            .filter(|&&i| i > EOS)
            .map(|&i| self.words.get(i as usize).map_or("<unk>", String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_punctuation_and_round_trip() {
        assert_eq!(
            words("Loss (log-scale)."),
            ["loss", "(", "log", "-", "scale", ")", "."]
        );
        let v = Vocab::build(["a b b", "b c"], 2, 10);
        assert_eq!(v.words, ["<s>", "<pad>", "</s>", "<unk>", "b"]);
        assert_eq!(v.encode("b a b", 10), [4, UNK, 4]);
        assert_eq!(v.encode("b a b", 2), [4, UNK]);
        assert_eq!(v.decode(&[4, UNK, EOS]), "b <unk>");
        let json = serde_json::to_string(&v).unwrap();
        let back: Vocab = serde_json::from_str(&json).unwrap();
        assert_eq!(Vocab::from_words(back.words).encode("b", 5), [4]);
    }
}
