//! Golden tests of the correlation, retrieval, CIDEr-D and BLEU-n metrics against their Python
//! references.
//!
//! The expected values in `tests/golden/metrics/` come from the scripts in
//! `datasets/scripts/metrics/`: `correlation.json` (scikit-learn's `matthews_corrcoef`, SciPy's
//! `pearsonr`, `spearmanr` and `rankdata`), `retrieval.json` (a NumPy port of LASER's xSIM and
//! XTREME's Tatoeba search), `cider.json` (pycocoevalcap 1.2) and `bleu_orders.json`
//! (sacreBLEU 2.6.0 with `max_ngram_order` 1 to 4).
//!
//! The Matthews coefficient and the ranks agree bit for bit, retrieved indices exactly; Pearson,
//! Spearman, margins (relative) and CIDEr-D (NumPy dot products, `ln`, `pow`) to 1e-12
//! (`metrics::TOL`).

use burnlp_core::metrics::bleu::{Bleu, BleuConfig, Smoothing};
use burnlp_core::metrics::cider::cider_d;
use burnlp_core::metrics::classification::matthews_corrcoef;
use burnlp_core::metrics::correlation::{average_ranks, pearson, spearman};
use burnlp_core::metrics::retrieval::{Scoring, cosine_similarities, tatoeba_accuracy};
use serde_json::Value;

use super::metrics::{
    assert_close, assert_exact, check_bleu, f, golden, nested_strings, s, strings, u,
};

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(f).collect()
}

fn indices(v: &Value) -> Vec<usize> {
    v.as_array().expect("array").iter().map(u).collect()
}

#[test]
fn matthews_matches_sklearn() {
    let g = golden("correlation.json");
    let cases = g["mcc"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for c in cases {
        let (gold, pred) = (strings(&c["gold"]), strings(&c["pred"]));
        let mcc = matthews_corrcoef(&gold, &pred).unwrap();
        assert_exact(mcc, f(&c["mcc"]), s(&c["name"]));
    }
}

#[test]
fn pearson_and_spearman_match_scipy() {
    let g = golden("correlation.json");
    let cases = g["correlation"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for c in cases {
        let name = s(&c["name"]);
        let (x, y) = (floats(&c["x"]), floats(&c["y"]));
        for (rank, expected) in average_ranks(&x).into_iter().zip(floats(&c["ranks_x"])) {
            assert_exact(rank, expected, &format!("{name} ranks"));
        }
        assert_close(
            pearson(&x, &y).unwrap(),
            f(&c["pearson"]),
            &format!("{name} pearson"),
        );
        assert_close(
            spearman(&x, &y).unwrap(),
            f(&c["spearman"]),
            &format!("{name} spearman"),
        );
    }
}

fn embeddings(v: &Value) -> Vec<Vec<f32>> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|row| {
            row.as_array()
                .expect("array")
                .iter()
                .map(|x| s(x).parse::<f32>().expect("a float"))
                .collect()
        })
        .collect()
}

#[test]
fn tatoeba_retrieval_matches_laser_xsim() {
    let g = golden("retrieval.json");
    let mut margin_differs = false;
    for (n, c) in g["cases"].as_array().unwrap().iter().enumerate() {
        let (source, target) = (embeddings(&c["source"]), embeddings(&c["target"]));
        let similarities = cosine_similarities(&source, &target).unwrap();
        let mut cosine_retrieved = None;
        for r in c["results"].as_array().unwrap() {
            let k = u(&r["k"]);
            let scoring = match s(&r["margin"]) {
                "absolute" => Scoring::Cosine,
                "ratio" => Scoring::RatioMargin { k },
                other => panic!("unknown margin {other}"),
            };
            let ctx = format!("case {n} {scoring:?}");
            let forward = similarities.retrieve(scoring).unwrap();
            let backward = similarities.transpose().retrieve(scoring).unwrap();
            assert_eq!(forward, indices(&r["source_to_target"]), "{ctx} forward");
            assert_eq!(backward, indices(&r["target_to_source"]), "{ctx} backward");
            let accuracy = tatoeba_accuracy(&source, &target, scoring).unwrap();
            assert_exact(
                accuracy.source_to_target,
                f(&r["accuracy_source_to_target"]),
                &ctx,
            );
            assert_exact(
                accuracy.target_to_source,
                f(&r["accuracy_target_to_source"]),
                &ctx,
            );
            match scoring {
                Scoring::Cosine => cosine_retrieved = Some(forward),
                Scoring::RatioMargin { .. } => {
                    margin_differs |= cosine_retrieved.as_ref() != Some(&forward)
                }
            }
        }
        let margins = similarities.ratio_margin(4).unwrap();
        for (i, row) in c["margin_k4_rows"].as_array().unwrap().iter().enumerate() {
            for (j, expected) in floats(row).into_iter().enumerate() {
                // Relative: a mean cosine near 0 makes some margins large.
                let actual = margins.get(i, j) / expected.abs().max(1.0);
                let expected = expected / expected.abs().max(1.0);
                assert_close(
                    actual,
                    expected,
                    &format!("case {n} margin {i} {j} (relative)"),
                );
            }
        }
    }
    assert!(
        margin_differs,
        "the golden cases should tell margin from cosine retrieval"
    );
}

#[test]
fn cider_d_matches_pycocoevalcap() {
    let g = golden("cider.json");
    for c in g["corpora"].as_array().unwrap() {
        let name = s(&c["name"]);
        let hyps = strings(&c["hyps"]);
        let refs = nested_strings(&c["refs"]);
        let score = cider_d(&hyps, &refs).unwrap();
        let expected = &c["expected"];
        assert_close(score.score, f(&expected["score"]), name);
        let segments = floats(&expected["segments"]);
        assert_eq!(score.segments.len(), segments.len(), "{name}");
        for (i, (a, e)) in score.segments.iter().zip(segments).enumerate() {
            assert_close(*a, e, &format!("{name} segment {i}"));
        }
    }
}

fn bleu_n(order: usize, method: &str, effective_order: bool) -> Bleu {
    let smoothing = match method {
        "exp" => Smoothing::Exp,
        "floor" => Smoothing::floor(),
        "add-k" => Smoothing::add_k(),
        "none" => Smoothing::None,
        other => panic!("unknown smoothing {other}"),
    };
    Bleu::new(BleuConfig {
        smoothing,
        effective_order,
        ..BleuConfig::default().with_max_ngram_order(order)
    })
    .unwrap()
}

#[test]
fn bleu_orders_one_to_four_match_sacrebleu() {
    let g = golden("bleu_orders.json");
    let cases = g["corpus_cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4 * 4 * 4);
    for c in cases {
        let name = s(&c["corpus"]);
        let corpus = g["corpora"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| s(&x["name"]) == name)
            .unwrap();
        let (order, method) = (u(&c["max_ngram_order"]), s(&c["smooth_method"]));
        let bleu = bleu_n(order, method, false);
        let hyps = strings(&corpus["hyps"]);
        let score = bleu
            .corpus_score(&hyps, &nested_strings(&corpus["refs"]))
            .unwrap();
        assert_eq!(score.precisions.len(), order);
        let ctx = format!("{name} BLEU-{order} {method}");
        check_bleu(&score, &c["expected"], bleu.config.smoothing, &ctx);
    }
    for c in g["sentence_cases"].as_array().unwrap() {
        let order = u(&c["max_ngram_order"]);
        let effective = c["effective_order"].as_bool().unwrap();
        let bleu = bleu_n(order, "exp", effective);
        let score = bleu
            .sentence_score(s(&c["hyp"]), &strings(&c["refs"]))
            .unwrap();
        let ctx = format!("{:?} BLEU-{order} effective {effective}", s(&c["hyp"]));
        check_bleu(&score, &c["expected"], Smoothing::Exp, &ctx);
    }
}

#[test]
fn default_bleu_is_still_bleu_4() {
    assert_eq!(BleuConfig::default().max_ngram_order, 4);
    assert_eq!(Bleu::default().config, BleuConfig::default());
}

/// ROC-AUC against values computed by hand (and by `sklearn.metrics.roc_auc_score`):
/// [0.1, 0.4, 0.35, 0.8] with labels [0, 0, 1, 1] gives 0.75; a tie between a positive and a
/// negative counts one half.
#[test]
fn roc_auc_matches_hand_computed_values() {
    use burnlp_core::metrics::classification::roc_auc;
    let auc = roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap();
    assert!((auc - 0.75).abs() < 1e-12, "{auc}");
    // Positive 0.5 ties negative 0.5 (1/2) and beats negative 0.2 (1): (1 + 0.5) / 2.
    let tied = roc_auc(&[0.5, 0.5, 0.2], &[true, false, false]).unwrap();
    assert!((tied - 0.75).abs() < 1e-12, "{tied}");
    assert!(roc_auc(&[1.0, 0.0], &[true, true]).is_err());
    assert!(roc_auc(&[f64::NAN, 0.0], &[true, false]).is_err());
    assert!(roc_auc(&[1.0], &[true, false]).is_err());
}
