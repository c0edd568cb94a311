//! The entity-replacement wrapper: masking, the identity round trip of the spec's §10, the
//! exactly-once check with its fallback, and entity accuracy; the OpenAI-compatible endpoint
//! translator against a mock server, and an mls-nmt run directory.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use newsbot::translate::{
    EndpointTranslator, EntityDictionary, Identity, NmtTranslator, Translator, entity_accuracy,
    mask, translate_article, translate_with_entities,
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

/// How the mock endpoint answers.
#[derive(Clone, Copy, PartialEq)]
enum Mock {
    /// `EN: ` + the user's text (placeholders kept).
    Keep,
    /// The same without `<ENT_0>` (an entity lost).
    DropFirst,
    /// HTTP 400.
    Refuse,
}

/// An OpenAI-compatible chat endpoint on a free port (tiny_http); returns its URL and a
/// counter of the requests it answered.
fn mock_endpoint(mode: Mock) -> (String, Arc<AtomicUsize>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}", server.server_addr().to_ip().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    std::thread::spawn(move || {
        for mut request in server.incoming_requests() {
            let mut body = String::new();
            request.as_reader().read_to_string(&mut body).unwrap();
            counted.fetch_add(1, Ordering::SeqCst);
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            let ok = request.url() == "/v1/chat/completions"
                && v["model"] == "mock-mt"
                && v["messages"][0]["content"]
                    .as_str()
                    .is_some_and(|s| s.contains("<ENT_0>"));
            let user = v["messages"][1]["content"].as_str().unwrap_or_default();
            let reply = format!("EN: {user}");
            let reply = match mode {
                Mock::DropFirst => reply.replacen("<ENT_0>", "", 1),
                _ => reply,
            };
            let (status, answer) = if mode == Mock::Refuse || !ok {
                (400, serde_json::json!({"error": "bad request"}))
            } else {
                (
                    200,
                    serde_json::json!({"choices": [{"index": 0, "finish_reason": "stop",
                        "message": {"role": "assistant", "content": reply}}]}),
                )
            };
            let header: tiny_http::Header = "Content-Type: application/json".parse().unwrap();
            let response = tiny_http::Response::from_string(answer.to_string())
                .with_status_code(status)
                .with_header(header);
            let _ = request.respond(response);
        }
    });
    (url, count)
}

fn article_sentences() -> (Vec<String>, EntityDictionary, newsbot::Article) {
    let table = Table::from_value(&basketball_json(), "bb").unwrap();
    let store = TemplateStore::embedded();
    let zh = write_article(&table, "bb", &store, Lang::Zh, 0).unwrap();
    let dict = EntityDictionary::from_article(&zh, &store, Lang::En);
    let sentences = zh.sentences.iter().map(|s| s.text.clone()).collect();
    (sentences, dict, zh)
}

#[test]
fn an_endpoint_that_keeps_placeholders_gets_every_entity_right() {
    let (url, count) = mock_endpoint(Mock::Keep);
    let (sentences, dict, _) = article_sentences();
    let t = EndpointTranslator::new(&format!("{url}/v1"), "mock-mt", Lang::Zh, Lang::En);
    let out = translate_with_entities(&t, &sentences, &dict).unwrap();
    assert_eq!(count.load(Ordering::SeqCst), sentences.len());
    assert!(
        out.iter()
            .all(|o| !o.fallback && o.text.starts_with("EN: "))
    );
    assert!(out.iter().any(|o| o.text.contains("Hawks")));
    assert!(out.iter().all(|o| !o.text.contains("<ENT_")));
    assert_eq!(entity_accuracy(&sentences, &out, &dict), 1.0);
}

#[test]
fn an_endpoint_that_drops_a_placeholder_triggers_the_per_sentence_fallback() {
    let (url, count) = mock_endpoint(Mock::DropFirst);
    let (sentences, dict, _) = article_sentences();
    let t = EndpointTranslator::new(&url, "mock-mt", Lang::Zh, Lang::En);
    let out = translate_with_entities(&t, &sentences, &dict).unwrap();
    let keys: Vec<&str> = dict.entries.keys().map(String::as_str).collect();
    let masked: Vec<bool> = sentences
        .iter()
        .map(|s| !mask(s, &keys).entities.is_empty())
        .collect();
    let with_entities = masked.iter().filter(|&&m| m).count();
    assert!(with_entities > 0);
    for ((o, s), m) in out.iter().zip(&sentences).zip(&masked) {
        // Sentences with entities lost one and were sent again unmasked; the others were kept.
        assert_eq!(o.fallback, *m, "{s} → {}", o.text);
        if *m {
            assert_eq!(o.text, format!("EN: {s}"));
        }
    }
    assert_eq!(
        count.load(Ordering::SeqCst),
        sentences.len() + with_entities
    );
    assert!(entity_accuracy(&sentences, &out, &dict) < 1.0);
}

#[test]
fn endpoint_errors_name_the_url() {
    let (url, _) = mock_endpoint(Mock::Refuse);
    let t = EndpointTranslator::new(&url, "mock-mt", Lang::Zh, Lang::En);
    let error = t.translate(&["老鹰赢了".to_string()]).unwrap_err();
    // The HTTP failure is the cause (so that the binary's exit status sees it).
    let cause = std::error::Error::source(&error).map(ToString::to_string);
    let e = format!("{error}: {}", cause.unwrap_or_default());
    assert!(e.contains(&url) && e.contains("400"), "{e}");
}

#[test]
fn an_article_translation_reports_entity_accuracy() {
    let (_, _, zh) = article_sentences();
    let store = TemplateStore::embedded();
    let mut extra = EntityDictionary::default();
    extra
        .entries
        .insert("老鹰".into(), "the Atlanta birds".into());
    let report =
        translate_article(&zh, &store, Lang::En, &Identity, "identity", Some(&extra)).unwrap();
    assert_eq!(report.sentences.len(), zh.sentences.len() + 1);
    assert_eq!(report.sentences[0].source, zh.title.text);
    assert_eq!(report.entity_accuracy(), 1.0);
    assert_eq!(report.fallbacks, 0);
    assert!(
        report
            .sentences
            .iter()
            .any(|p| p.text.contains("the Atlanta birds"))
    );
    let md = report.markdown();
    assert!(
        md.contains(&format!(
            "Entity accuracy: {}/{} = 1.000",
            report.entities, report.entities
        )),
        "{md}"
    );
}

/// A tiny mls-nmt model trained for a few steps here: loaded from its run directory and run
/// through the wrapper (its outputs are noise; the plumbing is what is tested).
#[test]
fn an_mls_nmt_run_directory_translates_through_the_wrapper() {
    use mls_nmt::{Arch, PrepareConfig, PreparedData, TrainConfig, prepare, synthetic, train};
    let dir = tempfile::tempdir().unwrap();
    let pairs = synthetic::sentence_pairs(120, 3);
    let corpus = dir.path().join("corpus");
    synthetic::write_corpus(&corpus.join("train"), "sx", "tx", &pairs[..100]).unwrap();
    synthetic::write_corpus(&corpus.join("valid"), "sx", "tx", &pairs[100..]).unwrap();
    let config = PrepareConfig {
        src_lang: "sx".into(),
        tgt_lang: "tx".into(),
        train: corpus.join("train"),
        valid: corpus.join("valid"),
        vocab_size: 120,
        threshold_src: 1,
        threshold_tgt: 1,
        max_len: 64,
    };
    prepare(&config, &dir.path().join("data")).unwrap();
    let data = PreparedData::load(&dir.path().join("data")).unwrap();
    let run = dir.path().join("run");
    let train_config = TrainConfig {
        arch: Arch::Tiny,
        dropout: 0.0,
        max_tokens: 512,
        max_steps: Some(2),
        eval_every: 2,
        average_last: 1,
        max_positions: 64,
        progress: false,
        ..TrainConfig::default()
    };
    train(&data, &train_config, &run, &burnlp_core::device::cpu()).unwrap();
    let t = NmtTranslator::load(&run, &burnlp_core::device::cpu())
        .unwrap()
        .with_options(mls_nmt::DecodeOptions {
            beam: 2,
            max_len_b: 4,
            ..mls_nmt::DecodeOptions::default()
        });
    let sources = vec![pairs[110].0.clone(), pairs[111].0.clone()];
    assert_eq!(t.translate(&sources).unwrap().len(), 2);
    let mut dict = EntityDictionary::default();
    let word = pairs[110].0.split_whitespace().next().unwrap().to_string();
    dict.entries.insert(word.clone(), "NAME".into());
    let out = translate_with_entities(&t, &sources, &dict).unwrap();
    assert_eq!(out.len(), 2);
    // A two-step model keeps no placeholder, so the first sentence (which has the entity) falls
    // back to its unmasked translation.
    assert!(
        out[0].fallback || out[0].text.contains("NAME"),
        "{:?}",
        out[0]
    );
    let e = NmtTranslator::load(&dir.path().join("no-run"), &burnlp_core::device::cpu())
        .err()
        .unwrap();
    assert!(e.to_string().contains("no-run"), "{e}");
}

#[test]
fn english_targets_are_masked_with_the_sources_placeholder_numbers() {
    use newsbot::translate_eval::mask_target;
    assert_eq!(
        mask_target(
            "The Atlanta Hawks beat the Magic; Hawks win",
            &["Magic", "Atlanta Hawks", "Hawks"]
        )
        .as_deref(),
        Some("The <ENT_1> beat the <ENT_0>; <ENT_2> win")
    );
    assert_eq!(mask_target("The Hawks won", &["Hawks", "Magic"]), None);
}

#[test]
fn the_two_articles_of_a_table_align_sentence_by_sentence() {
    let table = Table::from_value(&basketball_json(), "bb").unwrap();
    let p = newsbot::translate_eval::aligned_pairs(&table, "bb", &TemplateStore::embedded(), 3)
        .unwrap();
    assert_eq!(p.misaligned, 0);
    assert!(p.plain.len() > 5);
    assert!(
        p.plain[0].0.contains("老鹰") && p.plain[0].1.contains("Hawks"),
        "{:?}",
        p.plain[0]
    );
    // Every masked pair has the same placeholders on both sides.
    assert!(
        p.masked.len() * 2 > p.plain.len(),
        "{} of {}",
        p.masked.len(),
        p.plain.len()
    );
    for (z, e) in &p.masked {
        let ids = |s: &str| -> Vec<String> {
            let mut v: Vec<String> = s
                .match_indices("<ENT_")
                .map(|(i, _)| s[i..i + 7].to_string())
                .collect();
            v.sort();
            v
        };
        assert_eq!(ids(z), ids(e), "{z} | {e}");
    }
}

#[test]
fn numbers_above_ten_are_the_ones_checked() {
    use newsbot::translate_eval::numbers_over_ten;
    assert_eq!(
        numbers_over_ten("2021年3月10日，爵士以104比112不敌掘金，9-of-14"),
        ["2021", "104", "112", "14"]
    );
    assert!(numbers_over_ten("three rebounds").is_empty());
}
