//! The demo: generated sample, training, prediction and scoring on unseen sentences.

use frame_parse::demo::{demo, generate};

#[test]
fn generated_sample_is_distinct_and_well_formed() {
    let sample = generate(200, 1);
    assert_eq!(sample.len(), 200);
    let lexicon = frame_parse::demo::demo_lexicon().unwrap();
    let candidates = lexicon.candidates().unwrap();
    assert_eq!(candidates.coverage(&sample).targets_covered, 200);
    for inst in &sample {
        let frame = lexicon.frame(&inst.frame).unwrap();
        for span in &inst.fes {
            assert!(
                frame.fe(&span.fe).is_some(),
                "{} not in {}",
                span.fe,
                inst.frame
            );
        }
    }
    let texts: std::collections::BTreeSet<String> = sample.iter().map(|i| i.text()).collect();
    assert_eq!(texts.len(), 200);
}

#[test]
fn demo_meets_its_targets() {
    let dir = tempfile::tempdir().unwrap();
    let rows = demo(dir.path()).unwrap();
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert!(row.meets_target(), "{row:?}");
        assert!(row.dataset.contains("360 train") && row.dataset.contains("120 test"));
    }
    for file in [
        "train.conll",
        "test.conll",
        "test.pred.conll",
        "run/model.json",
        "run/best/model.safetensors",
    ] {
        assert!(dir.path().join(file).exists(), "{file}");
    }
}

#[test]
fn a_bert_family_encoder_trains_and_reloads() {
    use frame_parse::run::TrainedRun;
    use frame_parse::train::{TrainConfig, train};
    let model = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/models/all-minilm-l6-v2");
    if !model.join("model.safetensors").exists() {
        println!("skipped: {} is absent", model.display());
        return;
    }
    let lexicon = frame_parse::demo::demo_lexicon().unwrap();
    let sample = generate(12, 11);
    let dir = tempfile::tempdir().unwrap();
    let config = TrainConfig {
        encoder: model.to_str().unwrap().to_string(),
        epochs: 1,
        max_steps: Some(1),
        batch_size: 8,
        d_lstm: 8,
        d_node: 8,
        ..TrainConfig::default()
    };
    let report = train(
        &config,
        &lexicon,
        &sample[..8],
        &sample[8..],
        dir.path(),
        false,
    )
    .unwrap();
    assert_eq!(report.train_used, 8);
    assert!(dir.path().join("tokenizer.json").exists());
    let run = TrainedRun::load(dir.path(), &lexicon, &burnlp_core::device::cpu()).unwrap();
    let predicted = run.predict(&sample[8..], true).unwrap();
    assert_eq!(predicted.len(), 4);
    for (p, g) in predicted.iter().zip(&sample[8..]) {
        assert_eq!((&p.frame, &p.tokens), (&g.frame, &g.tokens));
    }
}
