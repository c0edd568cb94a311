//! A made-up language pair with a deterministic grammar, for the demo and the tests.
//!
//! The source language is verb-final with adjectives after nouns and a plural suffix `-ni`;
//! the target is an English-like verb-second language with adjectives before nouns and a
//! plural `-s`. Names, digits and the full stop are spelled the same on both sides, so the
//! joint vocabulary has source-only, common and target-only tokens, as a real pair does:
//!
//! ```text
//! source: Anna ka mesini 3 oba zorat .
//! target: Anna sees 3 big cats .
//! ```

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

const NOUNS: [(&str, &str); 8] = [
    ("kalu", "dog"),
    ("mesi", "cat"),
    ("tuna", "bird"),
    ("rofi", "horse"),
    ("bela", "fish"),
    ("garu", "goat"),
    ("pilo", "mouse"),
    ("wena", "frog"),
];
const VERBS: [(&str, &str); 6] = [
    ("zorat", "sees"),
    ("miket", "likes"),
    ("lupan", "finds"),
    ("sivok", "chases"),
    ("darem", "feeds"),
    ("fenul", "hears"),
];
const ADJECTIVES: [(&str, &str); 5] = [
    ("oba", "big"),
    ("ike", "small"),
    ("uru", "red"),
    ("ela", "old"),
    ("ifo", "happy"),
];
const NAMES: [&str; 5] = ["Anna", "Omar", "Lena", "Ivan", "Sara"];

/// A noun phrase in both languages: `ka NOUN [ADJ]` / `the [ADJ] NOUN` in the singular,
/// `NUM NOUNni [ADJ]` / `NUM [ADJ] NOUNs` in the plural.
fn noun_phrase(rng: &mut StdRng) -> (String, String) {
    let (noun_s, noun_t) = *NOUNS.choose(rng).expect("nouns");
    let adjective = rng
        .random_bool(0.5)
        .then(|| *ADJECTIVES.choose(rng).expect("adjectives"));
    let (adj_s, adj_t) = adjective.map_or((String::new(), String::new()), |(s, t)| {
        (format!(" {s}"), format!("{t} "))
    });
    if rng.random_bool(0.3) {
        let n = rng.random_range(2..10);
        let plural_t = if noun_t == "mouse" {
            "mice".to_string()
        } else if noun_t == "fish" {
            "fish".to_string()
        } else {
            format!("{noun_t}s")
        };
        (
            format!("{n} {noun_s}ni{adj_s}"),
            format!("{n} {adj_t}{plural_t}"),
        )
    } else {
        (
            format!("ka {noun_s}{adj_s}"),
            format!("the {adj_t}{noun_t}"),
        )
    }
}

/// One sentence pair: `SUBJ OBJ VERB .` → `SUBJ VERB OBJ .`, the subject a name or a noun
/// phrase.
pub fn sentence_pair(rng: &mut StdRng) -> (String, String) {
    let (subj_s, subj_t) = if rng.random_bool(0.5) {
        let name = *NAMES.choose(rng).expect("names");
        (name.to_string(), name.to_string())
    } else {
        let (s, t) = noun_phrase(rng);
        (s, capitalize(&t))
    };
    let (obj_s, obj_t) = noun_phrase(rng);
    let (verb_s, verb_t) = *VERBS.choose(rng).expect("verbs");
    (
        format!("{subj_s} {obj_s} {verb_s} ."),
        format!("{subj_t} {verb_t} {obj_t} ."),
    )
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `n` sentence pairs drawn with `seed`.
pub fn sentence_pairs(n: usize, seed: u64) -> Vec<(String, String)> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| sentence_pair(&mut rng)).collect()
}

/// Writes pairs as `PREFIX.SRC` and `PREFIX.TGT`.
pub fn write_corpus(
    prefix: &std::path::Path,
    src_lang: &str,
    tgt_lang: &str,
    pairs: &[(String, String)],
) -> crate::Result<()> {
    if let Some(dir) = prefix.parent() {
        std::fs::create_dir_all(dir).map_err(crate::error::io_error(dir))?;
    }
    for (lang, side) in [(src_lang, 0), (tgt_lang, 1)] {
        let text: String = pairs
            .iter()
            .map(|p| format!("{}\n", if side == 0 { &p.0 } else { &p.1 }))
            .collect();
        burnlp_core::data::write_atomic(crate::data::side_path(prefix, lang), text.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_reorders_and_translates() {
        let pairs = sentence_pairs(200, 1);
        assert_eq!(pairs, sentence_pairs(200, 1));
        for (s, t) in &pairs {
            assert!(s.ends_with(" .") && t.ends_with(" ."));
            let verb_s = s.split(' ').rev().nth(1).unwrap();
            let (_, verb_t) = VERBS.iter().find(|(v, _)| *v == verb_s).unwrap();
            assert!(t.contains(&format!(" {verb_t} ")), "{s} → {t}");
        }
    }
}
