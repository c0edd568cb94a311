//! Smatch parity with the reference tool (PyPI smatch 1.0.4): golden counts from
//! `datasets/scripts/amr/make_smatch_golden.py` in `tests/golden/`.

use std::path::Path;

use amr_aux::smatch::{SmatchConfig, compute_f, smatch_corpus};
use amr_aux::{Amr, Flavor, read_amr_file};
use serde_json::Value;

fn golden() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/smatch_golden.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn little_prince() -> Option<(Vec<Amr>, Vec<Amr>)> {
    let gold = read_amr_file(&burnlp_core::data::shared_path(
        "datasets/amr/little_prince_v1.6.txt",
    )?)
    .unwrap();
    let pred = read_amr_file(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/little_prince_perturbed.txt"),
    )
    .unwrap();
    Some((pred, gold))
}

fn count(v: &Value) -> usize {
    v.as_u64().unwrap() as usize
}

#[test]
fn sample_inputs_match_the_reference() {
    let golden = golden();
    let expected = &golden["smatch_test_inputs"];
    let test = read_amr_file(&shared!("smatch_test_input1.txt")).unwrap();
    let gold = read_amr_file(&shared!("smatch_test_input2.txt")).unwrap();
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
    let Some((pred, gold)) = little_prince() else {
        return;
    };
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
    let Some((pred, gold)) = little_prince() else {
        return;
    };

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

/// ATP's triple rules (`Flavor::Atp`) against `tests/golden/atp_smatch_golden.json`
/// (`datasets/scripts/amr/make_atp_smatch_golden.py`): small pairs with inverse roles,
/// re-entrancies and `:consist-of`. Pins the triples (every `-of` role to a new node inverted,
/// `:consist-of` included; a `-of` role to a variable or constant inverted only when it is its
/// node's last role; `:mod` kept; TOP = the root concept), the reference's hill-climbing match
/// with and without our branch and bound, and the exhaustive optimum.
#[test]
fn atp_flavour_matches_the_reference_on_inverse_roles() {
    use amr_aux::{Triples, parse_amrs, smatch_pair};
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/atp_smatch_golden.json");
    let golden: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let listing = |t: &Triples| {
        serde_json::json!({
            "instances": t.instances,
            "attributes": t.attributes.iter().map(|(r, s, v)| serde_json::json!([r, s, v])).collect::<Vec<_>>(),
            "relations": t.relations.iter().map(|(r, s, d)| serde_json::json!([r, s, d])).collect::<Vec<_>>(),
        })
    };
    let (mut matched, mut test_total, mut gold_total) = (0, 0, 0);
    let pairs = golden["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 10);
    for (index, pair) in pairs.iter().enumerate() {
        let name = pair["name"].as_str().unwrap();
        let test = &parse_amrs(pair["test"].as_str().unwrap()).unwrap()[0];
        let gold = &parse_amrs(pair["gold"].as_str().unwrap()).unwrap()[0];
        let t = Triples::from_amr(test, Flavor::Atp);
        let g = Triples::from_amr(gold, Flavor::Atp);
        assert_eq!(listing(&t), pair["test_triples"], "{name}: test triples");
        assert_eq!(listing(&g), pair["gold_triples"], "{name}: gold triples");
        assert_eq!(t.len(), count(&pair["test_count"]), "{name}");
        assert_eq!(g.len(), count(&pair["gold_count"]), "{name}");
        let climb = SmatchConfig {
            flavor: Flavor::Atp,
            exact_budget: 0,
            ..SmatchConfig::default()
        };
        let score = smatch_pair(&t, &g, &climb, index as u64);
        assert_eq!(
            score.matched,
            count(&pair["match"]),
            "{name}: hill climbing"
        );
        let exact = SmatchConfig {
            exact_budget: 1_000_000,
            ..climb
        };
        let score = smatch_pair(&t, &g, &exact, index as u64);
        assert!(score.proven_optimal, "{name}");
        assert_eq!(score.matched, count(&pair["best"]), "{name}: exact search");
        let (p, r, f) = compute_f(score.matched, score.test, score.gold);
        for (ours, key) in [(p, "precision"), (r, "recall"), (f, "f1")] {
            assert!(
                (ours - pair[key].as_f64().unwrap()).abs() < 1e-12,
                "{name}: {key}"
            );
        }
        matched += score.matched;
        test_total += score.test;
        gold_total += score.gold;
    }
    let corpus = &golden["corpus"];
    assert_eq!(
        (matched, test_total, gold_total),
        (
            count(&corpus["match"]),
            count(&corpus["test"]),
            count(&corpus["gold"])
        )
    );
    // The same pairs as files, through the corpus scorer.
    let tests: Vec<Amr> = pairs
        .iter()
        .map(|p| parse_amrs(p["test"].as_str().unwrap()).unwrap().remove(0))
        .collect();
    let golds: Vec<Amr> = pairs
        .iter()
        .map(|p| parse_amrs(p["gold"].as_str().unwrap()).unwrap().remove(0))
        .collect();
    let config = SmatchConfig {
        flavor: Flavor::Atp,
        ..SmatchConfig::default()
    };
    let score = smatch_corpus(&tests, &golds, &config).unwrap();
    assert!((score.f1() - corpus["f1"].as_f64().unwrap()).abs() < 1e-12);
}
