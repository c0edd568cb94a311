//! The shared RAMS and WikiEvents files: readers, conversion and gold-against-gold scores.

use burnlp_core::data::shared_path;
use doc_ee::data::wikievents::{DEFAULT_WINDOW, read_wikievents_examples};
use doc_ee::data::{Ontology, read_rams};
use doc_ee::score::{Dataset, HeadSource, read_predictions, score};

#[test]
fn rams_dev_reads_and_scores_itself_perfectly() {
    let Some(path) = shared_path("datasets/rams/dev.jsonlines") else {
        return;
    };
    let examples = read_rams(&path).unwrap();
    assert_eq!(examples.len(), 924);
    assert_eq!(examples.iter().map(|e| e.links.len()).sum::<usize>(), 2188);
    let predictions = read_predictions(&path, &examples).unwrap();
    let s = score(
        Dataset::Rams,
        &examples,
        &predictions,
        &HeadSource::LastToken,
    )
    .unwrap();
    assert_eq!((s.arg_c.span.tp, s.arg_c.span.f1), (2188, 1.0));
    let Some(meta) = shared_path("datasets/rams/meta.json") else {
        return;
    };
    let ontology = Ontology::read(&meta).unwrap();
    assert_eq!(ontology.num_events(), 139);
    for ex in &examples {
        let id = ontology
            .event_id(&ex.event_type)
            .expect("every dev type is in meta.json");
        let roles = ontology.role_ids(id);
        assert!(ex.links.iter().all(|l| roles.contains_key(l.role.as_str())));
    }
}

#[test]
fn wikievents_dev_converts_into_one_window_per_event() {
    let (Some(path), Some(coref)) = (
        shared_path("datasets/wikievents/dev.jsonl"),
        shared_path("datasets/wikievents/coref/dev.jsonlines"),
    ) else {
        return;
    };
    let examples = read_wikievents_examples(&path, &coref, DEFAULT_WINDOW).unwrap();
    assert_eq!(examples.len(), 345);
    assert!(examples.iter().all(|e| e.len() <= DEFAULT_WINDOW));
    // Smaller windows leave some arguments outside; they stay gold.
    let small = read_wikievents_examples(&path, &coref, 40).unwrap();
    let outside = small
        .iter()
        .flat_map(|e| e.links.iter().map(move |l| e.contains(l.start, l.end)))
        .filter(|inside| !inside)
        .count();
    assert!(outside > 0);
    // The documents themselves, as predictions, answer every window of their events.
    let predictions = read_predictions(&path, &examples).unwrap();
    let s = score(
        Dataset::Wikievents,
        &examples,
        &predictions,
        &HeadSource::LastToken,
    )
    .unwrap();
    assert_eq!(s.arg_c.span.f1, 1.0);
    assert_eq!(s.arg_i.coref.unwrap().f1, 1.0);
}
