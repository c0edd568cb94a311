//! The most-frequent-frame baseline and the experiment's sentence split.

use frame_parse::baseline::MostFrequentFrame;
use frame_parse::demo::generate;
use frame_parse::experiment::split_by_sentence;

#[test]
fn most_frequent_frame_per_lu_then_candidates() {
    let lexicon = frame_parse::demo::demo_lexicon().unwrap();
    let candidates = lexicon.candidates().unwrap();
    let mut train = generate(60, 3);
    train.retain(|i| i.lu != "own.v");
    for inst in &mut train {
        if inst.lu == "get.v" {
            inst.frame = "Arriving".into();
        }
    }
    let model = MostFrequentFrame::fit(&train);
    assert_eq!(model.frame("get.v", &candidates), "Arriving");
    // An LU unseen in training gets its candidate (from the LU index), not the overall
    // majority frame; an LU without candidates gets the overall majority frame.
    assert_eq!(model.frame("own.v", &candidates), "Possession");
    let majority = model.frame("nonexistent.v", &candidates);
    let count = |f: &str| train.iter().filter(|i| i.frame == f).count();
    assert!(train.iter().all(|i| count(&i.frame) <= count(&majority)));
    let predicted = model.predict(&train, &candidates);
    assert!(predicted.iter().all(|p| p.fes.is_empty()));
}

#[test]
fn the_sentence_split_keeps_a_sentence_together() {
    let mut blocks = generate(60, 5);
    let copy = blocks[0].clone();
    blocks.push(copy.clone());
    let (a, b) = split_by_sentence(&blocks);
    assert_eq!(a.len() + b.len(), 61);
    let in_a = a.iter().filter(|i| i.text() == copy.text()).count();
    let in_b = b.iter().filter(|i| i.text() == copy.text()).count();
    assert!(in_a == 2 && in_b == 0 || in_a == 0 && in_b == 2);
    assert!(!a.is_empty() && !b.is_empty());
}
