//! `ml-prune plot`: one curve per method / setting / language with the full model first,
//! test accuracy preferred to dev, and an SVG with both charts; a run without a summary is
//! named.

use std::collections::BTreeMap;
use std::path::Path;

use ml_prune::plot::{plot, points};
use ml_prune::{Latency, Params, PrunedModel};

fn model(
    sparsity: f64,
    lang: Option<&str>,
    total: usize,
    ms: f64,
    test: Option<f64>,
) -> PrunedModel {
    let mut test_by_lang = BTreeMap::new();
    if let (Some(l), Some(t)) = (lang, test) {
        test_by_lang.insert(l.to_string(), t);
    }
    PrunedModel {
        sparsity,
        lang: lang.map(str::to_string),
        dir: "x".into(),
        heads: vec![],
        neurons: vec![],
        params: Params {
            embeddings: 1000,
            attention: 0,
            feed_forward: total - 1000,
            other: 0,
            total,
            without_embeddings: total - 1000,
        },
        dev_pruned: 0.5,
        dev: 0.6,
        test,
        test_loss: None,
        dev_by_lang: BTreeMap::new(),
        test_by_lang,
        latency: Latency {
            batch: 8,
            seq: 32,
            runs: 3,
            median_ms: ms,
            min_ms: ms,
        },
    }
}

fn write(dir: &Path, summary: serde_json::Value) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("summary.json"), summary.to_string()).unwrap();
}

#[test]
fn curves_per_method_and_language_with_the_full_model_first() {
    let dir = tempfile::tempdir().unwrap();
    let full = model(0.0, None, 5000, 10.0, Some(0.9));
    let shared = dir.path().join("shared");
    write(
        &shared,
        serde_json::json!({"method": "importance", "setting": "shared", "units": "both",
            "models": [full, model(0.5, None, 3000, 6.0, Some(0.8))]}),
    );
    let per_lang = dir.path().join("per-lang");
    let mut full_by_lang = full.clone();
    full_by_lang.test_by_lang.insert("de".into(), 0.95);
    write(
        &per_lang,
        serde_json::json!({"method": "l0", "setting": "per-language", "units": "both",
            "models": [full_by_lang, model(0.5, Some("de"), 3000, 6.5, Some(0.7)),
                       model(0.3, Some("de"), 4000, 8.0, None)]}),
    );
    let points = points(&[shared.clone(), per_lang.clone()]).unwrap();
    let curves: Vec<(&str, f64, f64)> = points
        .iter()
        .map(|p| (p.curve.as_str(), p.sparsity, p.accuracy))
        .collect();
    assert_eq!(
        curves,
        vec![
            ("importance", 0.0, 0.9),
            ("importance", 0.5, 0.8),
            // The full model on German; the 0.3 model had no test data: its dev accuracy.
            ("l0 per-language [de]", 0.0, 0.95),
            ("l0 per-language [de]", 0.3, 0.6),
            ("l0 per-language [de]", 0.5, 0.7),
        ]
    );
    assert!(!points[3].is_test && points[4].is_test);

    let svg_path = dir.path().join("plot.svg");
    let table = plot(&[shared, per_lang], &svg_path).unwrap();
    assert!(
        table.contains("l0 per-language [de]") && table.contains("* dev accuracy"),
        "{table}"
    );
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    // Two charts, two curves each.
    assert_eq!(svg.matches("<polyline").count(), 4);
    assert!(svg.contains("Accuracy vs sparsity") && svg.contains("Latency vs size"));
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
}

#[test]
fn a_run_without_summary_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let error = points(&[dir.path().join("no-run")])
        .unwrap_err()
        .to_string();
    assert!(error.contains("no-run"), "{error}");
    write(&dir.path().join("bad"), serde_json::json!({"models": 3}));
    let error = points(&[dir.path().join("bad")]).unwrap_err().to_string();
    assert!(error.contains("summary.json"), "{error}");
}
