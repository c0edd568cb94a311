//! A synthetic sentiment task with negation, for the demo and learning tests.
//!
//! Sentences like "the film was really good" (positive) and "the film was not good"
//! (negative): the label is the adjective's polarity, flipped by `not` or `never`. A bag of words
//! cannot solve it (the same words occur in both classes), so the encoder has to relate the
//! negator to the adjective.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use crate::Example;

const SUBJECTS: &[&str] = &[
    "the film",
    "the movie",
    "this book",
    "the meal",
    "our trip",
    "the concert",
    "that show",
    "the hotel",
];
const VERBS: &[&str] = &["was", "is", "seemed", "felt"];
const INTENSIFIERS: &[&str] = &["", "really ", "very ", "quite ", "truly "];
const NEGATORS: &[&str] = &["not ", "never "];
const POSITIVE: &[&str] = &["good", "great", "wonderful", "pleasant", "excellent", "fun"];
const NEGATIVE: &[&str] = &["bad", "awful", "boring", "terrible", "dull", "poor"];
const ENDINGS: &[&str] = &["", " overall", " to me", " at times"];

/// The two labels, in index order.
pub const LABELS: [&str; 2] = ["negative", "positive"];

/// `n` examples drawn with `seed`; labels are balanced in expectation.
pub fn generate(n: usize, seed: u64) -> Vec<Example> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let positive_word = rng.random_bool(0.5);
            let negated = rng.random_bool(0.5);
            let adjective = if positive_word { POSITIVE } else { NEGATIVE }
                .choose(&mut rng)
                .expect("non-empty");
            let text = format!(
                "{} {} {}{}{}{}",
                SUBJECTS.choose(&mut rng).expect("non-empty"),
                VERBS.choose(&mut rng).expect("non-empty"),
                if negated {
                    NEGATORS.choose(&mut rng).expect("non-empty")
                } else {
                    &""
                },
                INTENSIFIERS.choose(&mut rng).expect("non-empty"),
                adjective,
                ENDINGS.choose(&mut rng).expect("non-empty"),
            );
            let label = LABELS[usize::from(positive_word != negated)];
            Example {
                text,
                pair: None,
                label: label.to_string(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_negation_flips_label() {
        assert_eq!(generate(50, 1), generate(50, 1));
        for example in generate(200, 2) {
            let negated = example.text.contains(" not ") || example.text.contains(" never ");
            let positive_word = POSITIVE
                .iter()
                .any(|w| example.text.split(' ').any(|t| t == *w));
            let expected = if positive_word != negated {
                "positive"
            } else {
                "negative"
            };
            assert_eq!(example.label, expected, "{}", example.text);
        }
    }
}
