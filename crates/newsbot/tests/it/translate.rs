//! The entity-replacement wrapper: masking, the identity round trip of the spec's §10, the
//! exactly-once check with its fallback, and entity accuracy.

use newsbot::translate::{
    EntityDictionary, Identity, Translator, entity_accuracy, mask, translate_with_entities,
};
use newsbot::{Lang, Table, TemplateStore, write_article};

use crate::common::basketball_json;

#[test]
fn masking_prefers_the_longest_entity() {
    let m = mask("亚特兰大老鹰击败老鹰", &["老鹰", "亚特兰大老鹰"]);
    assert_eq!(m.text, "<ENT_0>击败<ENT_1>");
    assert_eq!(m.entities, ["亚特兰大老鹰", "老鹰"]);
}

#[test]
fn the_identity_round_trip_puts_every_dictionary_translation_in_once() {
    let table = Table::from_value(&basketball_json(), "bb").unwrap();
    let store = TemplateStore::embedded();
    let zh = write_article(&table, "bb", &store, Lang::Zh, 0).unwrap();
    let dict = EntityDictionary::from_article(&zh, &store, Lang::En);
    assert_eq!(dict.entries.get("老鹰").map(String::as_str), Some("Hawks"));
    assert_eq!(
        dict.entries.get("奥兰多魔术").map(String::as_str),
        Some("Orlando Magic")
    );
    let sentences: Vec<String> = zh.sentences.iter().map(|s| s.text.clone()).collect();
    let out = translate_with_entities(&Identity, &sentences, &dict).unwrap();
    assert!(out.iter().all(|o| !o.fallback));
    for (s, o) in sentences.iter().zip(&out) {
        let m = mask(
            s,
            &dict.entries.keys().map(String::as_str).collect::<Vec<_>>(),
        );
        for e in &m.entities {
            assert!(
                o.text.contains(&dict.entries[e]),
                "{} lacks {}",
                o.text,
                dict.entries[e]
            );
        }
        assert!(!o.text.contains("<ENT_"));
    }
    assert_eq!(entity_accuracy(&sentences, &out, &dict), 1.0);
}

/// Drops the first placeholder it sees (a translator that loses an entity).
struct Lossy;

impl Translator for Lossy {
    fn translate(&self, sentences: &[String]) -> newsbot::Result<Vec<String>> {
        Ok(sentences
            .iter()
            .map(|s| s.replacen("<ENT_0>", "", 1))
            .collect())
    }
}

#[test]
fn a_lost_placeholder_falls_back_to_the_unmasked_sentence() {
    let mut dict = EntityDictionary::default();
    dict.entries.insert("老鹰".into(), "Hawks".into());
    let sentences = vec!["老鹰赢了".to_string(), "比赛结束".to_string()];
    let out = translate_with_entities(&Lossy, &sentences, &dict).unwrap();
    assert!(out[0].fallback && out[0].text == "老鹰赢了");
    assert!(!out[1].fallback);
    assert_eq!(entity_accuracy(&sentences, &out, &dict), 0.0);
}

#[test]
fn tsv_dictionaries_are_read_with_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dict.tsv");
    std::fs::write(&path, "# teams\n老鹰\tHawks\n\n魔术\tMagic\n").unwrap();
    let dict = EntityDictionary::read_tsv(&path).unwrap();
    assert_eq!(dict.entries.len(), 2);
    std::fs::write(&path, "老鹰\tHawks\n魔术 Magic\n").unwrap();
    let e = EntityDictionary::read_tsv(&path).unwrap_err().to_string();
    assert!(e.contains("dict.tsv") && e.contains("line 2"), "{e}");
}
