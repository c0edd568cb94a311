//! Selection parity with the official ESFT release: scores recomputed from the shared routing
//! logs equal the stored `summary.json`, and selection from it equals the stored expert
//! configuration; the reference code's over-layer normalisation does not.

use peft_moe::routing::{
    ExpertConfig, RouteStats, ScoreKind, Summary, round4, select_experts, select_layer,
};

/// `shared/datasets/esft/intent/<path>`, or return from the test with a printed reason when
/// absent.
macro_rules! esft {
    ($path:expr) => {
        burnlp_core::require_shared!(format!("datasets/esft/intent/{}", $path))
    };
}

fn official_summary() -> Option<Summary> {
    let path = burnlp_core::data::shared_path("datasets/esft/intent/expert_scores/summary.json")?;
    Some(Summary::read(&path).unwrap())
}

#[test]
fn scores_from_logs_equal_the_official_summary() {
    let stats = RouteStats::from_logs(&esft!("expert_scores"), 6, 64).unwrap();
    assert_eq!(
        stats.layers.keys().copied().collect::<Vec<_>>(),
        vec![1, 13, 26]
    );
    // 127 sequences, 8222 tokens, logged for every layer.
    assert!(stats.layers.values().all(|c| c.tokens == 8222));
    let ours = stats.summary();
    let Some(official) = official_summary() else {
        return;
    };
    for kind in [ScoreKind::Token, ScoreKind::Gate] {
        for (layer, scores) in ours.scores(kind) {
            let stored = &official.scores(kind)[layer];
            let rounded: Vec<f64> = scores.iter().map(|&s| round4(s)).collect();
            assert_eq!(&rounded, stored, "{kind:?} scores of layer {layer}");
        }
    }
    // Per layer the token scores sum to one and the gate scores to the mean top-6 gate mass.
    for layer in [1, 13, 26] {
        let token: f64 = ours.token_scores[&layer].iter().sum();
        let gate: f64 = ours.gate_scores[&layer].iter().sum();
        assert!((token - 1.0).abs() < 1e-9);
        assert!((0.3..0.5).contains(&gate), "{gate}");
    }
}

#[test]
fn the_reference_over_layer_normalisation_does_not_reproduce_the_summary() {
    // `get_summary()` divides each expert's raw sum by its sum over layers (np.sum(axis=0)):
    // then every expert's column sums to one across layers instead of every layer to one.
    let stats = RouteStats::from_logs(&esft!("expert_scores"), 6, 64).unwrap();
    let buggy = stats.over_layer_normalised(ScoreKind::Token);
    let Some(official) = official_summary() else {
        return;
    };
    let column: f64 = buggy.values().map(|v| v[8]).sum();
    assert!((column - 1.0).abs() < 1e-9);
    let layer_sum: f64 = buggy[&1].iter().sum();
    assert!(
        layer_sum > 10.0,
        "a layer of 64 experts sums to ≈ 64 / 3 = {layer_sum}"
    );
    let worst = buggy[&1]
        .iter()
        .zip(&official.token_scores[&1])
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(
        worst > 0.2,
        "over-layer scores are far from the stored ones: {worst}"
    );
}

#[test]
fn token_selection_with_p_02_equals_the_official_expert_config() {
    let official = ExpertConfig::read(&esft!("expert_config.json")).unwrap();
    let Some(summary) = official_summary() else {
        return;
    };
    let ours = select_experts(&summary.token_scores, 0.2);
    assert_eq!(ours, official);
    assert_eq!(ours.count(), 124);
    // The same from the scores we recompute from the logs (the three logged layers).
    let stats = RouteStats::from_logs(&esft!("expert_scores"), 6, 64)
        .unwrap()
        .summary();
    for (layer, scores) in &stats.token_scores {
        let rounded: Vec<f64> = scores.iter().map(|&s| round4(s)).collect();
        assert_eq!(
            select_layer(&rounded, 0.2),
            official.layer(*layer),
            "layer {layer}"
        );
    }
    // Other thresholds and the gate score give different selections (p = 0.2 / token is what
    // the release used).
    assert_ne!(select_experts(&summary.gate_scores, 0.2), official);
    assert_ne!(select_experts(&summary.token_scores, 0.1), official);
}

#[test]
fn rank_subfolders_are_summed() {
    let dir = tempfile::tempdir().unwrap();
    for rank in ["0", "1"] {
        let sub = dir.path().join(rank);
        std::fs::create_dir_all(&sub).unwrap();
        // Two tokens with top-2 routing per rank.
        std::fs::write(
            sub.join("expert_weights_1.txt"),
            "0\t1\t2\t1\t\t0.5\t0.25\t0.4\t0.3\n",
        )
        .unwrap();
    }
    let stats = RouteStats::from_logs(dir.path(), 2, 4).unwrap();
    let counts = &stats.layers[&1];
    assert_eq!(counts.tokens, 4);
    assert_eq!(counts.selections, vec![2, 4, 2, 0]);
    let summary = stats.summary();
    assert_eq!(summary.token_scores[&1], vec![0.25, 0.5, 0.25, 0.0]);
    assert!((summary.gate_scores[&1][1] - (0.25 + 0.3) * 2.0 / 4.0).abs() < 1e-12);
}
