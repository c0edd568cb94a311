//! S4's Tatoeba setting without a model: the few-shot splits and the one-language batches.

use burnlp_core::train::TrainTask;
use subnet_tune::data::TatoebaPairs;
use subnet_tune::tatoeba::{ContrastiveTask, EncodedPairs, split_language};

fn pairs(lang: &str, n: usize) -> TatoebaPairs {
    TatoebaPairs {
        lang: lang.into(),
        source: (0..n).map(|i| format!("{lang} {i}")).collect(),
        english: (0..n).map(|i| format!("en {i}")).collect(),
    }
}

#[test]
fn few_shot_splits_are_disjoint_and_keep_pairs_aligned() {
    let split = split_language(&pairs("deu", 50), 8, 10, 0).unwrap();
    assert_eq!(
        (split.train.len(), split.dev.len(), split.test.len()),
        (8, 10, 32)
    );
    let mut seen: Vec<&String> = split
        .train
        .iter()
        .chain(&split.dev)
        .chain(&split.test)
        .map(|(s, _)| s)
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 50, "a pair is in two splits");
    for (source, english) in split.train.iter().chain(&split.test) {
        assert_eq!(
            source["deu ".len()..],
            english["en ".len()..],
            "pair misaligned"
        );
    }
    let error = split_language(&pairs("khm", 10), 8, 10, 0)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("khm") && error.contains("too few"),
        "{error}"
    );
}

#[test]
fn contrastive_batches_hold_one_language_and_at_least_two_pairs() {
    let encoded = |lang: &str, n: usize| EncodedPairs {
        lang: lang.into(),
        source: (0..n).map(|i| vec![0, i as u32 + 5, 2]).collect(),
        english: (0..n).map(|i| vec![0, i as u32 + 900, 2]).collect(),
    };
    let task = ContrastiveTask {
        train: vec![encoded("deu", 9), encoded("khm", 5)],
        dev: Vec::new(),
        batch_size: 4,
        temperature: 0.05,
        pad_id: 1,
    };
    let batches = task.train_batches(0, 3);
    // deu: 4 + 4 + (1 dropped); khm: 4 + (1 dropped).
    assert_eq!(batches.len(), 3);
    for batch in &batches {
        assert!(batch.len() >= 2);
        let groups: Vec<Option<String>> = batch.iter().map(|&e| task.group(&vec![e])).collect();
        assert!(groups.windows(2).all(|w| w[0] == w[1]), "mixed languages");
    }
    assert_eq!(
        batches,
        task.train_batches(0, 3),
        "batches depend on the seed only"
    );
    assert_ne!(batches, task.train_batches(1, 3));
}
