//! Smatch parity with the reference tool (PyPI smatch 1.0.4): golden counts from
//! `datasets/scripts/amr/make_smatch_golden.py` in `tests/golden/`.

use std::path::{Path, PathBuf};

use amr_aux::smatch::{SmatchConfig, compute_f, smatch_corpus};
use amr_aux::{Amr, Flavor, read_amr_file};
use serde_json::Value;

fn shared(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/amr")
        .join(name)
}

fn golden() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/smatch_golden.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn little_prince() -> (Vec<Amr>, Vec<Amr>) {
    let gold = read_amr_file(&shared("little_prince_v1.6.txt")).unwrap();
    let pred = read_amr_file(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/little_prince_perturbed.txt"),
    )
    .unwrap();
    (pred, gold)
}

fn count(v: &Value) -> usize {
    v.as_u64().unwrap() as usize
}

#[test]
fn sample_inputs_match_the_reference() {
    let golden = golden();
    let expected = &golden["smatch_test_inputs"];
    let test = read_amr_file(&shared("smatch_test_input1.txt")).unwrap();
    let gold = read_amr_file(&shared("smatch_test_input2.txt")).unwrap();
    let score = smatch_corpus(&test, &gold, &SmatchConfig::default()).unwrap();
    for (ours, theirs) in score
        .pairs
        .iter()
        .zip(expected["pairs"].as_array().unwrap())
    {
        let theirs: Vec<usize> = theirs.as_array().unwrap().iter().map(count).collect();
        assert_eq!(vec![ours.matched, ours.test, ours.gold], theirs);
        assert!(ours.proven_optimal);
    }
    assert_eq!((score.matched, score.test, score.gold), (25, 30, 29));
    assert!((score.f1() - expected["f1"].as_f64().unwrap()).abs() < 1e-12);
    assert_eq!(compute_f(25, 30, 29).2, score.f1());

    // The ATP copy's rules (TOP carries the root concept, `:mod` kept): the same graphs score
    // lower, as the "Document F-score: 0.81" of the Smatch guideline (an older version).
    let atp = SmatchConfig {
        flavor: Flavor::Atp,
        ..SmatchConfig::default()
    };
    let score = smatch_corpus(&test, &gold, &atp).unwrap();
    assert_eq!(format!("{:.2}", score.f1()), "0.81");
}

#[test]
fn little_prince_triple_counts_and_smart_init_climb_match_the_reference() {
    let golden = golden();
    let pairs = golden["little_prince"]["pairs"].as_array().unwrap();
    let (pred, gold) = little_prince();
    assert_eq!(pairs.len(), 1562);
    // Smart initialisation only, no branch and bound: the reference's deterministic round.
    let config = SmatchConfig {
        restarts: 0,
        exact_budget: 0,
        ..SmatchConfig::default()
    };
    let score = smatch_corpus(&pred, &gold, &config).unwrap();
    let mut compared = 0;
    for (i, (ours, theirs)) in score.pairs.iter().zip(pairs).enumerate() {
        assert_eq!(
            (ours.test, ours.gold),
            (count(&theirs[1]), count(&theirs[2])),
            "pair {i}"
        );
        if theirs[4].as_u64() == Some(0) {
            assert_eq!(ours.matched, count(&theirs[3]), "pair {i}");
            compared += 1;
        }
    }
    assert!(
        compared > 1000,
        "only {compared} pairs without random choices"
    );
}

#[test]
fn little_prince_corpus_f1_matches_and_no_pair_is_worse() {
    let golden = golden();
    let expected = &golden["little_prince"];
    let pairs = expected["pairs"].as_array().unwrap();
    let (pred, gold) = little_prince();

    // Hill climbing alone, as the reference: within 0.1 F1 points and at least as good on 99%.
    let climb = SmatchConfig {
        exact_budget: 0,
        seed: 3,
        ..SmatchConfig::default()
    };
    let score = smatch_corpus(&pred, &gold, &climb).unwrap();
    assert_eq!(
        (score.test, score.gold),
        (count(&expected["test"]), count(&expected["gold"]))
    );
    let reference_f1 = expected["f1"].as_f64().unwrap();
    assert!(
        (score.f1() - reference_f1).abs() < 1e-3,
        "{} vs {reference_f1}",
        score.f1()
    );
    let not_worse = score
        .pairs
        .iter()
        .zip(pairs)
        .filter(|(ours, theirs)| ours.matched >= count(&theirs[0]))
        .count();
    assert!(
        not_worse * 100 >= pairs.len() * 99,
        "{not_worse} pairs not worse"
    );

    // With the branch and bound: every proven pair is at least the reference's best.
    let score = smatch_corpus(&pred, &gold, &SmatchConfig::default()).unwrap();
    assert!(
        (score.f1() - reference_f1).abs() < 1e-3,
        "{} vs {reference_f1}",
        score.f1()
    );
    assert!(score.f1() >= expected["best"]["f1"].as_f64().unwrap());
    assert!(
        score.proven_optimal() * 100 >= pairs.len() * 99,
        "{} proven",
        score.proven_optimal()
    );
    for (i, (ours, theirs)) in score.pairs.iter().zip(pairs).enumerate() {
        if ours.proven_optimal {
            assert!(
                ours.matched >= count(&theirs[5]),
                "pair {i}: {} < {}",
                ours.matched,
                theirs[5]
            );
        }
    }

    // Deterministic for a seed, whatever the thread scheduling.
    let again = smatch_corpus(&pred, &gold, &SmatchConfig::default()).unwrap();
    assert_eq!(again, score);
}
