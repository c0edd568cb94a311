//! Synthetic data: document pairs built from a clean bitext with a known alignment (spec §7),
//! and the small generated English–German–French corpus the demo runs on.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::corpus::Pair;
use crate::documents::DocumentPair;
use crate::eval::Link;

/// How synthetic document pairs are made from a bitext.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DocConfig {
    /// Sentence pairs per document.
    pub doc_size: usize,
    /// Probability that a pair keeps only its English sentence.
    pub drop_xx: f64,
    /// Probability that a pair keeps only its other-language sentence.
    pub drop_en: f64,
    /// Probability that the other-language sentence is split in two (a 1-2 bead).
    pub split: f64,
    /// Probability that two neighbouring 1-1 other-language sentences trade places.
    pub swap: f64,
    /// Random seed.
    pub seed: u64,
}

impl Default for DocConfig {
    fn default() -> Self {
        Self {
            doc_size: 20,
            drop_xx: 0.1,
            drop_en: 0.1,
            split: 0.1,
            swap: 0.05,
            seed: 7,
        }
    }
}

/// Splits a sentence into two non-empty halves (at the middle word, or the middle character
/// for text without spaces); `None` when it is too short.
fn split_in_two(text: &str) -> Option<(String, String)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() >= 2 {
        let mid = words.len() / 2;
        return Some((words[..mid].join(" "), words[mid..].join(" ")));
    }
    let chars: Vec<char> = text.chars().collect();
    (chars.len() >= 4).then(|| {
        let mid = chars.len() / 2;
        (chars[..mid].iter().collect(), chars[mid..].iter().collect())
    })
}

/// Shuffles the pairs, cuts them into documents, drops, splits and swaps sentences; returns the
/// document pairs and the gold links (1-1 and 1-2).
pub fn documents_from_bitext(pairs: &[Pair], config: &DocConfig) -> (Vec<DocumentPair>, Vec<Link>) {
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    order.shuffle(&mut rng);
    let mut docs = Vec::new();
    let mut gold = Vec::new();
    for (d, chunk) in order.chunks(config.doc_size.max(1)).enumerate() {
        let (mut en, mut xx) = (Vec::new(), Vec::new());
        // Per other-language sentence: the index in `links` of its 1-1 link, if any.
        let mut one_to_one: Vec<Option<usize>> = Vec::new();
        let mut links: Vec<Link> = Vec::new();
        for &p in chunk {
            let pair = &pairs[p];
            let r: f64 = rng.random();
            if r < config.drop_xx {
                en.push(pair.en.clone());
            } else if r < config.drop_xx + config.drop_en {
                xx.push(pair.xx.clone());
                one_to_one.push(None);
            } else if let Some((a, b)) = split_in_two(&pair.xx)
                .filter(|_| r < config.drop_xx + config.drop_en + config.split)
            {
                links.push((d, en.len()..en.len() + 1, xx.len()..xx.len() + 2));
                en.push(pair.en.clone());
                xx.extend([a, b]);
                one_to_one.extend([None, None]);
            } else {
                one_to_one.push(Some(links.len()));
                links.push((d, en.len()..en.len() + 1, xx.len()..xx.len() + 1));
                en.push(pair.en.clone());
                xx.push(pair.xx.clone());
            }
        }
        let mut j = 0;
        while j + 1 < xx.len() {
            if let (Some(a), Some(b)) = (one_to_one[j], one_to_one[j + 1])
                && rng.random_bool(config.swap)
            {
                xx.swap(j, j + 1);
                one_to_one.swap(j, j + 1);
                links[a].2 = j + 1..j + 2;
                links[b].2 = j..j + 1;
                j += 2;
                continue;
            }
            j += 1;
        }
        gold.extend(links);
        docs.push(DocumentPair {
            id: format!("doc-{d}"),
            en,
            xx,
        });
    }
    (docs, gold)
}

/// English → (German, French) words of the demo's toy bitext, written for this crate.
const LEXICON: &[(&str, &str, &str, &str)] = &[
    // (category, English, German, French)
    ("det", "the", "der", "le"),
    ("det", "a", "ein", "un"),
    ("det", "every", "jeder", "chaque"),
    ("det", "this", "dieser", "ce"),
    ("adj", "old", "alte", "vieux"),
    ("adj", "young", "junge", "jeune"),
    ("adj", "small", "kleine", "petit"),
    ("adj", "big", "große", "grand"),
    ("adj", "red", "rote", "rouge"),
    ("adj", "happy", "frohe", "heureux"),
    ("adj", "tired", "müde", "fatigué"),
    ("adj", "black", "schwarze", "noir"),
    ("noun", "man", "mann", "homme"),
    ("noun", "woman", "frau", "femme"),
    ("noun", "child", "kind", "enfant"),
    ("noun", "dog", "hund", "chien"),
    ("noun", "cat", "katze", "chat"),
    ("noun", "house", "haus", "maison"),
    ("noun", "book", "buch", "livre"),
    ("noun", "car", "auto", "voiture"),
    ("noun", "tree", "baum", "arbre"),
    ("noun", "street", "straße", "rue"),
    ("noun", "river", "fluss", "rivière"),
    ("noun", "ball", "ball", "balle"),
    ("noun", "garden", "garten", "jardin"),
    ("noun", "boat", "boot", "bateau"),
    ("verb", "sees", "sieht", "voit"),
    ("verb", "carries", "trägt", "porte"),
    ("verb", "finds", "findet", "trouve"),
    ("verb", "paints", "malt", "peint"),
    ("verb", "buys", "kauft", "achète"),
    ("verb", "loves", "liebt", "aime"),
    ("verb", "follows", "folgt", "suit"),
    ("verb", "watches", "beobachtet", "regarde"),
    ("prep", "near", "nahe", "près"),
    ("prep", "behind", "hinter", "derrière"),
    ("prep", "in", "in", "dans"),
    ("prep", "under", "unter", "sous"),
    ("prep", "beside", "neben", "à côté"),
];

fn words_of(category: &str) -> Vec<(&'static str, &'static str, &'static str)> {
    LEXICON
        .iter()
        .filter(|w| w.0 == category)
        .map(|w| (w.1, w.2, w.3))
        .collect()
}

/// A generated sentence in all three languages: `det adj noun verb det noun [prep det noun] .`,
/// sometimes with a number; word-by-word translations (German and French word order is not
/// modelled, which a bag-of-words lexical model does not see).
fn sentence(rng: &mut StdRng) -> (String, String, String) {
    let pick = |rng: &mut StdRng, c: &str| {
        let w = words_of(c);
        w[rng.random_range(0..w.len())]
    };
    let mut slots = vec![
        pick(rng, "det"),
        pick(rng, "adj"),
        pick(rng, "noun"),
        pick(rng, "verb"),
        pick(rng, "det"),
        pick(rng, "noun"),
    ];
    if rng.random_bool(0.6) {
        slots.extend([
            pick(rng, "prep"),
            pick(rng, "det"),
            pick(rng, "adj"),
            pick(rng, "noun"),
        ]);
    }
    let mut en: Vec<String> = slots.iter().map(|w| w.0.to_string()).collect();
    let mut de: Vec<String> = slots.iter().map(|w| w.1.to_string()).collect();
    let mut fr: Vec<String> = slots.iter().map(|w| w.2.to_string()).collect();
    if rng.random_bool(0.15) {
        let n = rng.random_range(2..100).to_string();
        for side in [&mut en, &mut de, &mut fr] {
            side.insert(side.len() - 1, n.clone());
        }
    }
    let finish = |mut w: Vec<String>| {
        if let Some(first) = w.first_mut() {
            let mut c = first.chars();
            *first = c
                .next()
                .map_or(String::new(), |f| f.to_uppercase().chain(c).collect());
        }
        format!("{} .", w.join(" "))
    };
    (finish(en), finish(de), finish(fr))
}

/// `n` distinct generated English–German pairs with their French translations, seeded.
pub fn toy_bitext(n: usize, seed: u64) -> (Vec<Pair>, Vec<String>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut seen = std::collections::HashSet::new();
    let (mut pairs, mut french) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut attempts = 0;
    while pairs.len() < n && attempts < 100 * n.max(1) {
        attempts += 1;
        let (en, de, fr) = sentence(&mut rng);
        if seen.insert(en.clone()) {
            pairs.push(Pair::new(en, de));
            french.push(fr);
        }
    }
    (pairs, french)
}
