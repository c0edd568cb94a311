//! ROC-AUC against a hand-computed case, per-noise-type reports and mining scores.

use para_filter::Pair;
use para_filter::align::{Bead, BeadKind};
use para_filter::eval::{mining_scores, noise_report, roc_auc};
use para_filter::mine::MinedPair;
use para_filter::noise::NoiseKind;

#[test]
fn roc_auc_by_hand() {
    // Positives 0.9, 0.4, 0.4; negatives 0.4, 0.1. Pairs (pos > neg): 0.9 beats both (2),
    // each 0.4 ties the 0.4 (½) and beats 0.1 (1): 2 + 1.5 + 1.5 = 5 of 6.
    let auc = roc_auc(
        &[0.9, 0.4, 0.4, 0.4, 0.1],
        &[true, true, true, false, false],
    )
    .unwrap();
    assert!((auc - 5.0 / 6.0).abs() < 1e-12, "{auc}");
    assert_eq!(roc_auc(&[1.0, 0.0], &[true, false]).unwrap(), 1.0);
    assert_eq!(roc_auc(&[0.0, 1.0], &[true, false]).unwrap(), 0.0);
    assert!(roc_auc(&[1.0, 0.0], &[true, true]).is_err());
}

#[test]
fn noise_report_separates_the_types() {
    let labels = [
        None,
        None,
        Some(NoiseKind::Misaligned),
        Some(NoiseKind::Fragment),
    ];
    // Misaligned scores lowest, the fragment ties a clean line.
    let report = noise_report(&[0.8, 0.5, 0.1, 0.5], &labels).unwrap();
    assert_eq!(report.per_kind["misaligned"], 1.0);
    assert_eq!(report.per_kind["fragment"], 0.75);
    assert!((report.overall - 0.875).abs() < 1e-12);
    assert_eq!((report.clean, report.noisy), (2, 2));
}

#[test]
fn mining_precision_and_recall() {
    let mined = |doc, e: std::ops::Range<usize>, x: std::ops::Range<usize>| MinedPair {
        doc,
        bead: Bead {
            kind: BeadKind::OneOne,
            en: e,
            xx: x,
            score: 0.0,
        },
        pair: Pair::new("", ""),
    };
    let gold = vec![
        (0, 0..1, 0..1),
        (0, 1..2, 1..3),
        (1, 0..1, 0..1),
        (1, 1..2, 1..2),
    ];
    let got = [
        mined(0, 0..1, 0..1),
        mined(0, 1..2, 1..2),
        mined(1, 1..2, 1..2),
    ];
    let s = mining_scores(&got, &gold);
    assert_eq!((s.correct, s.mined, s.gold), (2, 3, 4));
    assert!((s.precision - 2.0 / 3.0).abs() < 1e-12 && (s.recall - 0.5).abs() < 1e-12);
}
