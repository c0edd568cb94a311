//! Parameter counts, disk size and latency of whole and sliced encoders.

use burnlp_core::nn::bert::{BertConfig, Width};
use ml_prune::LatencyConfig;
use ml_prune::profile::{disk_size, latency, median, profile, profile_encoder};

#[test]
fn median_of_odd_and_even_counts() {
    let _rng = crate::device_rng();
    assert_eq!(median(&[1.0, 2.0, 7.0]), 2.0);
    assert_eq!(median(&[1.0, 2.0, 3.0, 10.0]), 2.5);
    assert!(median(&[]).is_nan());
}

#[test]
fn a_saved_encoder_profiles_with_its_counts_and_size() {
    let _rng = crate::device_rng();
    let device = burnlp_core::device::cpu();
    let config = BertConfig::new(100, 32, 2, 4, 64).with_max_position_embeddings(16);
    let model = config.init(&device);
    let dir = tempfile::tempdir().unwrap();
    model.save_pretrained(dir.path(), &config).unwrap();
    // A tokenizer so that `load_encoder` accepts the directory.
    let tokenizer = burnlp_core::tokenize::Tokenizer::train_wordpiece(
        vec!["a small test sentence".to_string()],
        &Default::default(),
    )
    .unwrap();
    tokenizer
        .save(dir.path().join("tokenizer.json"), false)
        .unwrap();
    let settings = LatencyConfig {
        batch: 2,
        seq: 64,
        runs: 3,
        warmup: 1,
    };
    let p = profile(dir.path().to_str().unwrap(), &settings, &device).unwrap();
    // Embeddings: 100×32 words + 16×32 positions + 2×32 types + 2×32 norm = 3840.
    assert_eq!(p.params.embeddings, 3840);
    // Attention per layer: 4 × (32×32 + 32) = 4224; FFN: 32×64 + 64 + 64×32 + 32 = 4192.
    assert_eq!(p.params.attention, 2 * 4224);
    assert_eq!(p.params.feed_forward, 2 * 4192);
    assert_eq!(p.file_bytes, Some(disk_size(dir.path()).unwrap()));
    // The sequence is capped at the 16 positions.
    assert_eq!((p.latency.batch, p.latency.seq, p.latency.runs), (2, 16, 3));
    assert!(p.latency.median_ms > 0.0 && p.latency.min_ms <= p.latency.median_ms);
}

#[test]
fn a_sliced_encoder_is_smaller_and_not_slower() {
    let _rng = crate::device_rng();
    let device = burnlp_core::device::cpu();
    device.seed(1);
    let config = BertConfig::new(500, 256, 3, 4, 1024).with_max_position_embeddings(64);
    let full = config.init(&device);
    let sliced = full.slice_width(Width::uniform(0.25));
    let settings = LatencyConfig {
        batch: 8,
        seq: 64,
        runs: 9,
        warmup: 2,
    };
    let a = profile_encoder(&full, "full", None, &settings, &device);
    let b = profile_encoder(&sliced, "sliced", None, &settings, &device);
    assert_eq!(a.params.embeddings, b.params.embeddings);
    // One head of 64 dimensions per layer: Q, K, V of 256×64 + 64, O of 64×256 + 256.
    assert_eq!(
        b.params.attention,
        3 * (3 * (256 * 64 + 64) + 64 * 256 + 256)
    );
    // 256 neurons: 256×256 + 256 up, 256×256 + 256 down.
    assert_eq!(b.params.feed_forward, 3 * 2 * (256 * 256 + 256));
    assert!(b.params.total < a.params.total);
    // A quarter of the heads and neurons: expect well under the full time; allow noise.
    let again = latency(&full, &settings, &device);
    let full_ms = a.latency.median_ms.min(again.median_ms);
    assert!(
        b.latency.median_ms < full_ms,
        "sliced {} ms vs full {full_ms} ms",
        b.latency.median_ms
    );
}
