//! The demo's generated splits: its test sentences are not training (or dev) sentences.

use std::collections::HashSet;

use amr_aux::demo::ParserDemo;
use amr_aux::demo_data::{self, check_disjoint, shared_sentences};
use amr_aux::penman::Amr;

/// Sentences lowercased with single spaces, computed here independently of the library.
fn sentences(graphs: &[Amr]) -> HashSet<String> {
    graphs
        .iter()
        .map(|g| {
            let snt = g.meta("snt").expect("generated graphs have a sentence");
            snt.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        })
        .collect()
}

#[test]
fn demo_test_sentences_are_disjoint_from_training_and_dev() {
    let demo = ParserDemo::default();
    let splits = demo_data::splits(demo.train, demo.dev, demo.test, demo.seed);
    assert_eq!(
        (splits.train.len(), splits.dev.len(), splits.test.len()),
        (demo.train, demo.dev, demo.test)
    );
    let (train, dev, test) = (
        sentences(&splits.train),
        sentences(&splits.dev),
        sentences(&splits.test),
    );
    let leaked: Vec<&String> = test.intersection(&train).collect();
    assert!(leaked.is_empty(), "test sentences in training: {leaked:?}");
    let leaked: Vec<&String> = test.intersection(&dev).collect();
    assert!(leaked.is_empty(), "test sentences in dev: {leaked:?}");
    assert!(dev.is_disjoint(&train));
    // Every test sentence is distinct.
    assert_eq!(test.len(), demo.test);
    check_disjoint(&splits.train, &splits.test).unwrap();
    check_disjoint(&splits.dev, &splits.test).unwrap();
}

/// The former demo split (consecutive draws) leaked test sentences into training; the check
/// catches that.
#[test]
fn consecutive_draws_overlap_and_the_check_reports_it() {
    let demo = ParserDemo::default();
    let graphs = demo_data::generate(demo.train + demo.dev + demo.test, demo.seed);
    let (train, rest) = graphs.split_at(demo.train);
    let test = &rest[demo.dev..];
    let shared = shared_sentences(train, test);
    assert!(shared.len() > test.len() / 5, "{} shared", shared.len());
    let err = check_disjoint(train, test).unwrap_err();
    assert!(
        matches!(err, amr_aux::Error::SplitOverlap { overlap, evaluated, .. }
            if overlap == shared.len() && evaluated == test.len()),
        "{err}"
    );
    assert!(
        err.to_string().contains("also occur in the training data"),
        "{err}"
    );
}
