//! Inference ECE as InfECE computes it: tercom's alignment (with block shifts) and the token
//! labels, filter and binning against the Python re-implementation of tercom 0.7.25 and the
//! InfECE scripts (`datasets/scripts/mls/infece_golden.py` → `tests/golden/infece.json`; that
//! script checks itself against sacreBLEU's TER and, on request, real tercom output).

use mls_nmt::eval::inference_predictions;
use mls_nmt::infece::{INFECE_BINS, calibration, token_labels};
use mls_nmt::ter::ter;
use serde::Deserialize;

#[derive(Deserialize)]
struct Record {
    id: String,
    #[serde(rename = "ref")]
    reference: Vec<String>,
    hyp: Vec<String>,
    aftershift: Vec<String>,
    alignment: String,
    shifts: Vec<[i64; 3]>,
    edits: usize,
}

#[derive(Deserialize)]
struct Case {
    hyp: Vec<String>,
    #[serde(rename = "ref")]
    reference: Vec<String>,
    probs: Vec<f64>,
    aftershift: Vec<String>,
    alignment: String,
    labels: Vec<Option<u8>>,
}

#[derive(Deserialize)]
struct Binned {
    ece: f64,
    counts: Vec<usize>,
}

#[derive(Deserialize)]
struct Golden {
    tercom: Vec<Record>,
    cases: Vec<Case>,
    n: usize,
    mean_confidence: f64,
    accuracy: f64,
    bins: std::collections::HashMap<String, Binned>,
}

fn golden() -> Golden {
    serde_json::from_str(include_str!("../golden/infece.json")).unwrap()
}

#[test]
fn ter_reproduces_the_reference_tercom_alignments() {
    let golden = golden();
    assert!(golden.tercom.len() >= 20);
    for r in &golden.tercom {
        let a = ter(&r.hyp, &r.reference);
        assert_eq!(a.shifted(&r.hyp), r.aftershift, "sentence {}", r.id);
        assert_eq!(a.alignment_string(), r.alignment, "sentence {}", r.id);
        let shifts: Vec<[i64; 3]> = a
            .shifts
            .iter()
            .map(|s| [s.start as i64, s.end as i64, s.newloc])
            .collect();
        assert_eq!(shifts, r.shifts, "sentence {}", r.id);
        assert_eq!(a.edits, r.edits, "sentence {}", r.id);
    }
}

#[test]
fn infece_labels_and_ece_match_the_reference_scripts() {
    let golden = golden();
    let (mut probs, mut labels) = (Vec::new(), Vec::new());
    for (i, c) in golden.cases.iter().enumerate() {
        let a = ter(&c.hyp, &c.reference);
        assert_eq!(a.shifted(&c.hyp), c.aftershift, "case {i}");
        assert_eq!(a.alignment_string(), c.alignment, "case {i}");
        let got = token_labels(&c.hyp, &c.reference);
        let expected: Vec<Option<bool>> = c.labels.iter().map(|l| l.map(|l| l == 1)).collect();
        assert_eq!(got, expected, "case {i}: {:?} / {:?}", c.hyp, c.reference);
        for (&p, label) in c.probs.iter().zip(got) {
            if let Some(correct) = label {
                probs.push(p);
                labels.push(correct);
            }
        }
    }
    assert_eq!(probs.len(), golden.n);
    for (bins, want) in &golden.bins {
        let cal = calibration(&probs, &labels, bins.parse().unwrap()).unwrap();
        assert!(
            (cal.ece - want.ece).abs() < 1e-12,
            "{bins} bins: {} vs {}",
            cal.ece,
            want.ece
        );
        let counts: Vec<usize> = cal.bins.iter().map(|b| b.count).collect();
        assert_eq!(counts, want.counts, "{bins} bins");
        assert!((cal.mean_confidence - golden.mean_confidence).abs() < 1e-12);
        assert!((cal.accuracy - golden.accuracy).abs() < 1e-12);
    }
    assert_eq!(INFECE_BINS, 20);
}

#[test]
fn infece_quirks() {
    // A token right after a reference-only edit is wrong even when it matches.
    assert_eq!(
        token_labels(&["the", "cat", "sat"], &["the", "black", "cat", "sat"]),
        vec![Some(true), Some(false), Some(true)]
    );
    // A shifted block that matches is correct in its original place.
    assert_eq!(
        token_labels(&["b", "c", "a", "d"], &["a", "b", "c", "d"]),
        vec![Some(true); 4]
    );
    // An empty reference makes every token an insertion.
    assert_eq!(token_labels(&["x", "y"], &[]), vec![Some(false); 2]);
    // Bin edges are i * (1.0 / 20): 3 * 0.05 > 0.15, so 0.15 falls in bin 2 (not 3), and 1.0
    // in the closed last bin.
    let cal = calibration(&[0.15, 1.0], &[true, true], 20).unwrap();
    assert_eq!(
        (cal.bins[2].count, cal.bins[3].count, cal.bins[19].count),
        (1, 0, 1)
    );
    assert!((cal.ece - 0.85 / 2.0).abs() < 1e-12);
    assert!(calibration(&[1.5], &[true], 20).is_err());
}

#[test]
fn inference_predictions_use_infece_labels_and_probabilities() {
    let hyps = vec![(
        vec!["the", "cat", "sat"],
        vec![0.0f32, (0.5f32).ln(), (0.25f32).ln()],
    )];
    let refs = vec![vec!["the", "black", "cat", "sat"]];
    let p = inference_predictions(&hyps, &refs);
    assert_eq!(p.correct, vec![true, false, true]);
    let expected = [1.0, 0.5, 0.25];
    for (got, want) in p.confidences.iter().zip(expected) {
        assert!((got - want).abs() < 1e-7, "{got} vs {want}");
    }
}
