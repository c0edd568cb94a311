//! Evaluation hygiene of the demo: the model is selected on dev episodes and reported on test
//! episodes that share no sentence with the dev (or training) episodes.

use std::collections::HashSet;

use fssl_span::data::{Episode, episode_sentences};
use fssl_span::demo::splits;

/// The word sequences of every support and query sentence.
fn token_sequences(episodes: &[Episode]) -> HashSet<Vec<String>> {
    episode_sentences(episodes)
        .map(|s| s.words.clone())
        .collect()
}

fn shared(a: &[Episode], b: &[Episode]) -> Vec<Vec<String>> {
    let a = token_sequences(a);
    let mut common: Vec<Vec<String>> = token_sequences(b).intersection(&a).cloned().collect();
    common.sort();
    common
}

#[test]
fn demo_dev_and_test_episodes_share_no_sentence() {
    for seed in [1, 2, 3, 7] {
        let splits = splits(seed).unwrap();
        assert_eq!(
            (splits.train.len(), splits.dev.len(), splits.test.len()),
            (200, 40, 40)
        );
        let dev_test = shared(&splits.dev, &splits.test);
        assert!(
            dev_test.is_empty(),
            "seed {seed}: dev and test share {dev_test:?}"
        );
        let train_test = shared(&splits.train, &splits.test);
        assert!(
            train_test.is_empty(),
            "seed {seed}: train and test share {train_test:?}"
        );
    }
}

#[test]
fn demo_splits_are_a_function_of_the_seed() {
    let (a, b) = (splits(1).unwrap(), splits(1).unwrap());
    assert_eq!(a.test, b.test);
    assert_eq!(a.dev, b.dev);
    assert_ne!(a.test, splits(2).unwrap().test);
}
