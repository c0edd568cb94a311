//! The chain and the demo write their files and say what is not built.

use newsbot::chain::{ChainConfig, base64, run};
use newsbot::speech::Espeak;
use newsbot::translate::Identity;
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
fn the_chain_writes_every_file_and_a_translation_when_a_translator_is_given() {
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
        translator: None,
        dictionary: None,
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
        "index.html",
    ] {
        assert!(dir.path().join(f).is_file(), "{f} missing");
    }
    assert!(!dir.path().join("translation.md").exists());
    assert_eq!(outcome.entity_accuracy, None);
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert!(html.contains("老鹰") && html.contains("No translator was given"));
    assert!(html.contains("id=\"mouth\"") && html.contains("newsbotAvatar.players"));
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
fn the_chain_translates_the_chinese_article_with_a_translator() {
    let dir = tempfile::tempdir().unwrap();
    let table = Table::from_value(&basketball_json(), "bb").unwrap();
    let config = ChainConfig {
        seed: 1,
        k: 3,
        scorer: None,
        espeak: None,
        fps: 25,
        translator: Some((&Identity, "identity")),
        dictionary: None,
    };
    let outcome = run(
        &table,
        "bb",
        &TemplateStore::embedded(),
        &config,
        dir.path(),
    )
    .unwrap();
    assert_eq!(outcome.entity_accuracy, Some(1.0));
    let md = std::fs::read_to_string(dir.path().join("translation.md")).unwrap();
    assert!(
        md.contains("zh → en by identity") && md.contains("Hawks"),
        "{md}"
    );
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert!(html.contains("Translated by identity"));
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
