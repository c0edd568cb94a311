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
            Example::new(text, None, label)
        })
        .collect()
}

/// Train, dev and test sets where no dev or test sentence occurs in an earlier split (or twice
/// in its own), so a score on dev or test is never a score on memorised training sentences.
#[derive(Debug, Clone, PartialEq)]
pub struct Splits {
    /// Training examples (duplicates allowed, as in any sampled corpus).
    pub train: Vec<Example>,
    /// Model-selection examples.
    pub dev: Vec<Example>,
    /// Held-out report examples.
    pub test: Vec<Example>,
}

/// Draws `train` training examples, then `dev` and `test` distinct unseen examples, with `seed`.
pub fn splits(train: usize, dev: usize, test: usize, seed: u64) -> Splits {
    use burnlp_core::data::overlap::dedup_against;
    let train = generate(train, seed);
    let text = |e: &Example| e.text.clone();
    let texts = |sets: &[&[Example]]| -> Vec<String> {
        sets.iter().flat_map(|s| s.iter().map(text)).collect()
    };
    let mut dev_set = dedup_against(generate(4 * dev, seed + 1), texts(&[&train]), text);
    dev_set.truncate(dev);
    let mut test_set = dedup_against(
        generate(4 * test, seed + 2),
        texts(&[&train, &dev_set]),
        text,
    );
    test_set.truncate(test);
    Splits {
        train,
        dev: dev_set,
        test: test_set,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_are_disjoint_and_full() {
        let s = splits(2400, 300, 600, 42);
        assert_eq!((s.train.len(), s.dev.len(), s.test.len()), (2400, 300, 600));
        let texts = |v: &[Example]| v.iter().map(|e| e.text.clone()).collect::<Vec<_>>();
        let seen: Vec<String> = texts(&s.train).into_iter().chain(texts(&s.dev)).collect();
        burnlp_core::data::check_disjoint("train+dev/test", &seen, &texts(&s.test)).unwrap();
        burnlp_core::data::check_disjoint("train/dev", &texts(&s.train), &texts(&s.dev)).unwrap();
    }

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
