//! The chain and the demo write their files and say what is not built.

use newsbot::chain::{ChainConfig, base64, run};
use newsbot::speech::Espeak;
use newsbot::{Table, TemplateStore};

use crate::common::basketball_json;

#[test]
fn base64_matches_the_rfc_examples() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
}

#[test]
fn the_chain_writes_every_file_and_marks_translation_as_not_built() {
    let dir = tempfile::tempdir().unwrap();
    let table = Table::from_value(&basketball_json(), "bb").unwrap();
    let espeak = Espeak::default();
    let with_speech = espeak.available();
    let config = ChainConfig {
        seed: 1,
        k: 3,
        scorer: None,
        espeak: Some(&espeak),
        fps: 25,
    };
    let outcome = run(
        &table,
        "bb",
        &TemplateStore::embedded(),
        &config,
        dir.path(),
    )
    .unwrap();
    assert_eq!(outcome.contradictions, Some(0));
    for f in [
        "article.md",
        "article.en.md",
        "article.json",
        "summary.md",
        "translation.md",
        "index.html",
    ] {
        assert!(dir.path().join(f).is_file(), "{f} missing");
    }
    let translation = std::fs::read_to_string(dir.path().join("translation.md")).unwrap();
    assert!(translation.contains("not built"));
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert!(html.contains("老鹰"));
    if with_speech {
        assert!(dir.path().join("speech.wav").is_file());
        assert!(dir.path().join("speech.zh.wav").is_file());
        assert!(dir.path().join("visemes.zh.json").is_file());
        let v: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("visemes.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(v["fps"], 25);
        assert!(html.contains("data:audio/wav;base64,UklGR"));
    } else {
        println!("skipped the speech files: espeak-ng is not installed");
        assert!(dir.path().join("speech.md").is_file());
    }
}

#[test]
fn the_demo_rows_meet_their_targets() {
    let dir = tempfile::tempdir().unwrap();
    let rows = newsbot::demo::demo(dir.path()).unwrap();
    assert_eq!(rows.len(), 5);
    for row in &rows {
        assert!(row.meets_target(), "{row:?}");
    }
}
