//! A generator of simple English sentences with their AMR graphs, the project's own data for
//! the parser demo and tests.
//!
//! Five templates cover the phenomena a parser must get right: predicate-argument structure,
//! modifiers (`:mod`), negation (`:polarity -`), control with a re-entrancy
//! (`want-01 … :ARG0 b`), and named entities (`:name (n / name :op1 "Anna")`):
//!
//! ```text
//! the little fox saw the rose .
//! (s / see-01 :ARG0 (a / fox :mod (m / little)) :ARG1 (b / rose))
//! ```
//!
//! Generation is a function of the seed. The templates give about 5000 distinct sentences, so a
//! few thousand draws repeat many of them: [`splits`] keeps the dev and test sentences disjoint
//! from the training sentences (and from each other), which [`check_disjoint`] verifies.

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use crate::penman::{Amr, parse_amrs};

const NOUNS: [&str; 10] = [
    "boy", "girl", "cat", "dog", "bird", "king", "fox", "rose", "planet", "star",
];
/// (frame, past tense, base form).
const VERBS: [(&str, &str, &str); 6] = [
    ("see-01", "saw", "see"),
    ("like-01", "liked", "like"),
    ("find-01", "found", "find"),
    ("draw-01", "drew", "draw"),
    ("follow-01", "followed", "follow"),
    ("watch-01", "watched", "watch"),
];
const ADJECTIVES: [&str; 5] = ["little", "big", "old", "young", "happy"];
const NAMES: [&str; 4] = ["Anna", "Paul", "Marie", "Leon"];

/// One generated (sentence, Penman graph) pair.
fn sample(rng: &mut StdRng) -> (String, String) {
    let n1 = *NOUNS.choose(rng).expect("non-empty");
    let n2 = *NOUNS.choose(rng).expect("non-empty");
    let (frame, past, base) = *VERBS.choose(rng).expect("non-empty");
    let adj = *ADJECTIVES.choose(rng).expect("non-empty");
    let name = *NAMES.choose(rng).expect("non-empty");
    match rng.random_range(0..5) {
        0 => (
            format!("the {n1} {past} the {n2} ."),
            format!("(s / {frame} :ARG0 (a / {n1}) :ARG1 (b / {n2}))"),
        ),
        1 => (
            format!("the {adj} {n1} {past} the {n2} ."),
            format!("(s / {frame} :ARG0 (a / {n1} :mod (m / {adj})) :ARG1 (b / {n2}))"),
        ),
        2 => (
            format!("the {n1} did not {base} the {n2} ."),
            format!("(s / {frame} :polarity - :ARG0 (a / {n1}) :ARG1 (b / {n2}))"),
        ),
        3 => (
            format!("the {n1} wants to {base} the {n2} ."),
            format!("(w / want-01 :ARG0 (a / {n1}) :ARG1 (s / {frame} :ARG0 a :ARG1 (b / {n2})))"),
        ),
        _ => (
            format!("{name} {past} the {n2} ."),
            format!(
                "(s / {frame} :ARG0 (p / person :name (n / name :op1 \"{name}\")) :ARG1 (b / {n2}))"
            ),
        ),
    }
}

/// The Penman text of `n` generated graphs with `# ::id gen_K` and `# ::snt` metadata.
pub fn generate_text(n: usize, seed: u64) -> String {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = String::new();
    for k in 0..n {
        let (sentence, graph) = sample(&mut rng);
        push_graph(&mut out, k, &sentence, &graph);
    }
    out
}

fn push_graph(out: &mut String, k: usize, sentence: &str, graph: &str) {
    out.push_str(&format!("# ::id gen_{k}\n# ::snt {sentence}\n{graph}\n\n"));
}

/// `n` generated graphs with `# ::id` and `# ::snt` metadata.
pub fn generate(n: usize, seed: u64) -> Vec<Amr> {
    parse(&generate_text(n, seed))
}

fn parse(text: &str) -> Vec<Amr> {
    parse_amrs(text).expect("the templates are valid Penman")
}

/// A sentence as compared across splits: lowercase, words separated by single spaces.
pub fn normalize_sentence(sentence: &str) -> String {
    sentence
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Generated train, dev and test graphs.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoSplits {
    /// The first draws (sentences may repeat).
    pub train: Vec<Amr>,
    /// Later draws whose sentences are in neither the training set nor earlier dev draws.
    pub dev: Vec<Amr>,
    /// Later draws whose sentences are in none of the training, dev and earlier test draws.
    pub test: Vec<Amr>,
}

/// `train` generated graphs, then `dev` and `test` graphs with sentences unseen before them:
/// draws from one stream seeded by `seed`, skipping any whose sentence (after
/// [`normalize_sentence`]) was already taken. Ids (`gen_K`) number the draws.
///
/// # Panics
/// When the templates cannot give `dev + test` unseen sentences (they give about 5000).
pub fn splits(train: usize, dev: usize, test: usize, seed: u64) -> DemoSplits {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut seen: HashSet<String> = HashSet::new();
    let limit = 100 * (train + dev + test) + 10_000;
    let mut draws = 0;
    let mut texts = [String::new(), String::new(), String::new()];
    for (text, (n, unseen_only)) in
        texts
            .iter_mut()
            .zip([(train, false), (dev, true), (test, true)])
    {
        let mut taken = 0;
        while taken < n {
            assert!(
                draws < limit,
                "the templates give too few distinct sentences for {dev} dev and {test} test"
            );
            let (sentence, graph) = sample(&mut rng);
            let unseen = seen.insert(normalize_sentence(&sentence));
            if unseen || !unseen_only {
                push_graph(text, draws, &sentence, &graph);
                taken += 1;
            }
            draws += 1;
        }
    }
    let [train, dev, test] = texts.map(|text| parse(&text));
    DemoSplits { train, dev, test }
}

/// The sentences of `evaluated` that also occur in `train` (after [`normalize_sentence`]), in
/// order.
pub fn shared_sentences(train: &[Amr], evaluated: &[Amr]) -> Vec<String> {
    let known: HashSet<String> = train
        .iter()
        .filter_map(|g| g.meta("snt"))
        .map(normalize_sentence)
        .collect();
    evaluated
        .iter()
        .filter_map(|g| g.meta("snt"))
        .filter(|s| known.contains(&normalize_sentence(s)))
        .map(str::to_string)
        .collect()
}

/// Checks that no sentence of `evaluated` occurs in `train`.
///
/// # Errors
/// [`crate::Error::SplitOverlap`] counting the shared sentences and naming the first.
pub fn check_disjoint(train: &[Amr], evaluated: &[Amr]) -> crate::Result<()> {
    let shared = shared_sentences(train, evaluated);
    match shared.first() {
        None => Ok(()),
        Some(example) => Err(crate::Error::SplitOverlap {
            overlap: shared.len(),
            evaluated: evaluated.len(),
            example: example.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_covers_the_templates() {
        let a = generate(200, 7);
        assert_eq!(a, generate(200, 7));
        assert_ne!(a, generate(200, 8));
        let text = generate_text(200, 7);
        for marker in [":polarity -", ":mod", "want-01", ":name", ":ARG0 a"] {
            assert!(text.contains(marker), "{marker}");
        }
        assert!(a.iter().all(|g| g.meta("snt").is_some()));
    }

    #[test]
    fn splits_are_disjoint_and_overlap_is_reported() {
        let s = splits(300, 20, 40, 3);
        assert_eq!((s.train.len(), s.dev.len(), s.test.len()), (300, 20, 40));
        assert_eq!(s.train, generate(300, 3));
        check_disjoint(&s.train, &s.test).unwrap();
        check_disjoint(&s.dev, &s.test).unwrap();
        check_disjoint(&s.train, &s.dev).unwrap();
        let err = check_disjoint(&s.train, &s.train[..5]).unwrap_err();
        assert!(
            matches!(
                err,
                crate::Error::SplitOverlap {
                    overlap: 5,
                    evaluated: 5,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(normalize_sentence("  The  Fox\tsaw ."), "the fox saw .");
    }
}
