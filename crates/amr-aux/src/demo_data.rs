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
//! Generation is a function of the seed.

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
        out.push_str(&format!("# ::id gen_{k}\n# ::snt {sentence}\n{graph}\n\n"));
    }
    out
}

/// `n` generated graphs with `# ::id` and `# ::snt` metadata.
pub fn generate(n: usize, seed: u64) -> Vec<Amr> {
    parse_amrs(&generate_text(n, seed)).expect("the templates are valid Penman")
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
}
