//! Readers, located errors and TSAR's WikiEvents windows.

use doc_ee::data::ontology::{scorer_role, short_role};
use doc_ee::data::wikievents::{WikiDocument, read_wikievents, transfer, window};
use doc_ee::data::{Ontology, read_rams};
use doc_ee::synthetic;

use crate::file;

const RAMS_LINE: &str = r#"{"doc_key": "nw_TOY0001", "sentences": [["Rebels", "shelled", "the", "base", "."], ["Two", "soldiers", "died", "."]], "evt_triggers": [[1, 1, [["conflict.attack.selfdirectedbattle", 1.0]]]], "gold_evt_links": [[[1, 1], [0, 0], "evt001arg01attacker"], [[1, 1], [2, 3], "evt001arg03target"]], "ent_spans": [], "source_url": "", "split": "train"}"#;

#[test]
fn rams_lines_become_examples() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "toy.jsonlines", &format!("{RAMS_LINE}\n"));
    let examples = read_rams(&path).unwrap();
    assert_eq!(examples.len(), 1);
    let ex = &examples[0];
    assert_eq!((ex.len(), ex.trigger), (9, (1, 1)));
    assert_eq!(ex.event_type, "conflict.attack.selfdirectedbattle");
    assert_eq!((ex.links[1].start, ex.links[1].end), (2, 3));
    assert_eq!(ex.sentence_of_tokens()[6], 1);
}

#[test]
fn rams_errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let two_triggers = RAMS_LINE
        .replace(
            "\"evt_triggers\": [[1, 1, [[\"conflict.attack.selfdirectedbattle\", 1.0]]]]",
            "\"evt_triggers\": [[1, 1, [[\"a\", 1.0]]], [2, 2, [[\"b\", 1.0]]]]",
        )
        .replace("nw_TOY0001", "nw_TOY0002");
    let path = file(
        &dir,
        "a.jsonlines",
        &format!("{RAMS_LINE}\n{two_triggers}\n"),
    );
    let e = read_rams(&path).unwrap_err().to_string();
    assert!(
        e.contains("line 2") && e.contains("2 event triggers"),
        "{e}"
    );

    let outside = RAMS_LINE.replace(
        "[2, 3], \"evt001arg03target\"",
        "[2, 30], \"evt001arg03target\"",
    );
    let path = file(&dir, "b.jsonlines", &format!("\n{outside}\n"));
    let e = read_rams(&path).unwrap_err().to_string();
    assert!(
        e.contains("line 2") && e.contains("outside the document's 9 tokens"),
        "{e}"
    );

    let path = file(&dir, "c.jsonlines", &format!("{RAMS_LINE}\n{RAMS_LINE}\n"));
    let e = read_rams(&path).unwrap_err().to_string();
    assert!(
        e.contains("line 2") && e.contains("already used on line 1"),
        "{e}"
    );

    let path = file(&dir, "d.jsonlines", "{\"doc_key\": 3}\n");
    assert!(read_rams(&path).unwrap_err().to_string().contains("line 1"));
}

/// A WikiEvents document with sentences of the given lengths, one entity per sentence (its
/// first word, id `T{s}`), and one event per trigger `(sentence, token)` with an argument on the
/// entity of sentence `arg`.
fn wiki_doc(lengths: &[usize], events: &[(usize, usize, usize)]) -> WikiDocument {
    let mut tokens = Vec::new();
    let mut sentences = Vec::new();
    let mut entities = Vec::new();
    for (s, &n) in lengths.iter().enumerate() {
        let first = tokens.len();
        let words: Vec<serde_json::Value> = (0..n)
            .map(|i| serde_json::json!([format!("s{s}w{i}"), 0, 0]))
            .collect();
        tokens.extend((0..n).map(|i| format!("s{s}w{i}")));
        sentences.push(serde_json::json!([words, ""]));
        entities.push(serde_json::json!({"id": format!("T{s}"), "start": first, "end": first + 1}));
    }
    let event_mentions: Vec<serde_json::Value> = events
        .iter()
        .map(|&(s, t, arg)| {
            serde_json::json!({
                "event_type": "Life.Die.Unspecified",
                "trigger": {"start": t, "end": t + 1, "sent_idx": s},
                "arguments": [{"entity_id": format!("T{arg}"), "role": "Victim"}],
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({
        "doc_id": "doc", "tokens": tokens, "sentences": sentences,
        "entity_mentions": entities, "event_mentions": event_mentions,
    }))
    .unwrap()
}

#[test]
fn windows_grow_left_first_and_stop_when_a_side_runs_out() {
    // Sentences of 4 tokens; the trigger in sentence 2 (tokens 8..12).
    let doc = wiki_doc(&[4, 4, 4, 4, 4], &[(2, 9, 0), (0, 1, 4)]);
    let trigger = &doc.event_mentions[0].trigger;
    // 12 tokens: sentences 1, 2, 3 (left first, then right in the same round).
    let w = window(&doc, trigger, 12);
    assert_eq!((w.sentences.len(), w.offset), (3, 4));
    // 10 tokens: only the left neighbour fits in round one, round two adds nothing → stop.
    let w = window(&doc, trigger, 10);
    assert_eq!((w.sentences.len(), w.offset), (2, 4));
    // Large budget: rounds add (1, 3) then (0, 4): every sentence.
    assert_eq!(window(&doc, trigger, 600).sentences.len(), 5);
    // A trigger in the first sentence has no left neighbour: the window never grows.
    let first = &doc.event_mentions[1].trigger;
    let w = window(&doc, first, 600);
    assert_eq!((w.sentences.len(), w.offset), (1, 0));
}

#[test]
fn a_long_trigger_sentence_is_cut_around_the_trigger() {
    let doc = wiki_doc(&[3, 10, 3], &[(1, 7, 0)]);
    // 5 tokens: the trigger (7), then 6, 8, 5, 9 (left, right alternating).
    let w = window(&doc, &doc.event_mentions[0].trigger, 5);
    assert_eq!(w.offset, 5);
    assert_eq!(
        w.sentences,
        vec![vec!["s1w2", "s1w3", "s1w4", "s1w5", "s1w6"]]
    );
}

#[test]
fn transfer_shifts_spans_and_keeps_in_window_coreference() {
    let doc = wiki_doc(&[4, 4, 4, 4, 4], &[(2, 9, 0)]);
    let clusters = vec![vec!["T0".to_string(), "T2".to_string(), "T3".to_string()]];
    let examples = transfer(&doc, Some(&clusters), 12).unwrap();
    let ex = &examples[0];
    assert_eq!(ex.doc_key, "doc-0");
    assert_eq!((ex.offset, ex.trigger), (4, (5, 5)));
    // The argument (sentence 0's entity, token 0) lies before the window: start −4.
    assert_eq!((ex.links[0].start, ex.links[0].end), (-4, -4));
    // T0 is outside the window; T2 (token 8) and T3 (token 12) are kept, shifted by 4.
    assert_eq!(ex.coref, vec![vec![(4, 4), (8, 8)]]);
}

#[test]
fn wikievents_errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let doc = wiki_doc(&[3], &[(0, 1, 0)]);
    let _ = doc;
    let bad = r#"{"doc_id": "d", "tokens": ["a", "b"], "sentences": [[[["a", 0, 1]], "a"]], "entity_mentions": [], "event_mentions": []}"#;
    let path = file(&dir, "w.jsonl", &format!("{bad}\n"));
    let e = read_wikievents(&path).unwrap_err().to_string();
    assert!(
        e.contains("line 1") && e.contains("1 tokens, `tokens` has 2"),
        "{e}"
    );
    let unknown = r#"{"doc_id": "d", "tokens": ["a"], "sentences": [[[["a", 0, 1]], "a"]], "entity_mentions": [], "event_mentions": [{"event_type": "X", "trigger": {"start": 0, "end": 1, "sent_idx": 0}, "arguments": [{"entity_id": "T9", "role": "R"}]}]}"#;
    let path = file(&dir, "u.jsonl", &format!("\n\n{unknown}\n"));
    let e = read_wikievents(&path).unwrap_err().to_string();
    assert!(
        e.contains("line 3") && e.contains("`T9` names no entity"),
        "{e}"
    );
}

#[test]
fn role_names_and_label_ids() {
    assert_eq!(scorer_role("evt089arg01victim"), "victim");
    assert_eq!(scorer_role("Victim"), "Victim");
    assert_eq!(scorer_role("arg1"), "");
    assert_eq!(short_role("evt089arg01victim"), "victim");
    assert_eq!(short_role("Place"), "Place");
    let ontology = synthetic::ontology();
    // NA + 3 attack + 2 die + 4 money + 3 transport roles.
    assert_eq!(ontology.num_labels(), 13);
    let die = ontology.event_id("life.die.n/a").unwrap();
    assert_eq!(ontology.role_labels(die), 4..6);
    assert_eq!(ontology.role_name(die, 5), Some("evt089arg02place"));
    assert_eq!(ontology.role_name(die, 1), None);
    assert!(Ontology::new(vec![("a".into(), vec![]), ("a".into(), vec![])]).is_err());
}

#[test]
fn splits_keep_repeated_passages_together() {
    let a = r#"{"doc_key": "1", "sentences": [["a"]]}"#;
    let b = r#"{"doc_key": "2", "sentences": [["b"]]}"#;
    let a2 = r#"{"doc_key": "3", "sentences": [["a"]]}"#;
    let c = r#"{"doc_key": "4", "sentences": [["c"]]}"#;
    let (head, rest) = doc_ee::data::split_documents(&[a, b, a2, c], 1);
    assert_eq!(head, vec![a, a2]);
    assert_eq!(rest, vec![b, c]);
}
