//! The scorer's rules on hand-computed cases.

use std::collections::HashMap;

use doc_ee::score::heads::walk;
use doc_ee::score::{
    Dataset, HeadSource, Heads, Item, Metric, read_heads, read_predictions, score,
};
use doc_ee::{DocEeError, Example};

use crate::{example, file};

fn item(trigger: (i64, i64), s: i64, e: i64, role: &str) -> Item {
    Item {
        trigger,
        argument: (s, e),
        role: role.into(),
    }
}

fn preds(doc_key: &str, items: Vec<Item>) -> HashMap<String, Vec<Item>> {
    HashMap::from([(doc_key.to_string(), items)])
}

fn assert_metric(m: Metric, tp: usize, pred: usize, gold: usize, p: f64, r: f64, f1: f64) {
    assert_eq!((m.tp, m.pred, m.gold), (tp, pred, gold), "{m:?}");
    for (got, want) in [(m.p, p), (m.r, r), (m.f1, f1)] {
        assert!((got - want).abs() < 1e-12, "{m:?}: {got} != {want}");
    }
}

#[test]
fn multiset_duplicates_match_at_most_as_often_as_gold() {
    // Gold: A twice and B; predicted: A three times and C. Counter(g) & Counter(p) = {A: 2}.
    let gold = example(
        "d",
        &[10],
        (0, 0),
        &[
            (2, 3, "evt089arg01victim"),
            (2, 3, "evt089arg01victim"),
            (5, 5, "evt089arg02place"),
        ],
    );
    let t = (0, 0);
    let p = preds(
        "d",
        vec![
            item(t, 2, 3, "victim"),
            item(t, 2, 3, "victim"),
            item(t, 2, 3, "victim"),
            item(t, 7, 7, "place"),
        ],
    );
    let s = score(Dataset::Rams, &[gold], &p, &HeadSource::LastToken).unwrap();
    // P = 2/4, R = 2/3, F1 = 2 · 0.5 · 2/3 / (0.5 + 2/3) = 4/7.
    assert_metric(s.arg_c.span, 2, 4, 3, 0.5, 2.0 / 3.0, 4.0 / 7.0);
    assert!(s.arg_c.coref.is_none(), "RAMS has no coref variant");
}

#[test]
fn precision_and_recall_are_not_swapped() {
    let gold = example(
        "d",
        &[10],
        (0, 0),
        &[(1, 1, "evt089arg01victim"), (4, 4, "evt089arg02place")],
    );
    let t = (0, 0);
    let p = preds(
        "d",
        vec![
            item(t, 1, 1, "victim"),
            item(t, 2, 2, "victim"),
            item(t, 3, 3, "victim"),
            item(t, 6, 6, "place"),
        ],
    );
    let s = score(Dataset::Rams, &[gold], &p, &HeadSource::LastToken).unwrap();
    // 1 correct of 4 predicted and 2 gold: P = 0.25, R = 0.5, F1 = 1/3.
    assert_metric(s.arg_c.span, 1, 4, 2, 0.25, 0.5, 1.0 / 3.0);
}

#[test]
fn roles_are_cut_for_gold_and_compared_as_written_for_tsar_predictions() {
    let gold = example("d", &[10], (0, 0), &[(1, 1, "evt089arg01victim")]);
    let t = (0, 0);
    let written_in_full = preds("d", vec![item(t, 1, 1, "evt089arg01victim")]);
    let s = score(
        Dataset::Rams,
        std::slice::from_ref(&gold),
        &written_in_full,
        &HeadSource::LastToken,
    )
    .unwrap();
    assert_eq!(
        s.arg_c.span.tp, 0,
        "the scorer does not cut TSAR-format roles"
    );
    assert_eq!(s.arg_i.span.tp, 1, "identification ignores the role");
    // A prediction for another trigger span matches nothing.
    let other_trigger = preds("d", vec![item((0, 1), 1, 1, "victim")]);
    let s = score(
        Dataset::Rams,
        &[gold],
        &other_trigger,
        &HeadSource::LastToken,
    )
    .unwrap();
    assert_eq!(s.arg_i.span.tp, 0);
}

#[test]
fn head_walking_follows_heads_inside_the_span() {
    // Tokens 0..6; heads: 0←root(0), 1→0, 2→3, 3→4, 4→1, 5→4.
    let heads = vec![0, 0, 3, 4, 1, 4];
    // From 2: head 3 (inside) → 4 (inside) → 1 (outside): head word 4.
    assert_eq!(walk(&heads, (2, 4)), Ok(4));
    // From 3 in [3, 4]: → 4, then 1 is outside.
    assert_eq!(walk(&heads, (3, 4)), Ok(4));
    // A root points to itself and stops the walk.
    assert_eq!(walk(&heads, (0, 5)), Ok(0));
    // A single token is its own head.
    assert_eq!(walk(&heads, (5, 5)), Ok(5));
    // A cycle inside the span is an error, not an endless loop.
    assert!(walk(&[1, 0], (0, 1)).is_err());

    let gold = example("d", &[6], (0, 0), &[(2, 4, "evt089arg01victim")]);
    let source = HeadSource::Given(Heads(HashMap::from([("d".to_string(), heads)])));
    let t = (0, 0);
    let p = preds("d", vec![item(t, 3, 4, "victim")]);
    let s = score(Dataset::Rams, &[gold], &p, &source).unwrap();
    assert_metric(s.arg_c.span, 0, 1, 1, 0.0, 0.0, 0.0);
    assert_metric(s.arg_c.head, 1, 1, 1, 1.0, 1.0, 1.0);
}

#[test]
fn without_heads_the_last_token_is_the_head() {
    let gold = example("d", &[8], (0, 0), &[(2, 4, "evt089arg01victim")]);
    let p = preds("d", vec![item((0, 0), 4, 4, "victim")]);
    let s = score(Dataset::Rams, &[gold], &p, &HeadSource::LastToken).unwrap();
    assert_eq!((s.arg_c.span.tp, s.arg_c.head.tp), (0, 1));
}

fn wiki_example() -> Example {
    let mut ex = example(
        "doc-0",
        &[5, 5],
        (1, 1),
        &[(5, 5, "Victim"), (-3, -2, "Place"), (12, 13, "Killer")],
    );
    ex.event_type = "Life.Die.Unspecified".into();
    // Cluster {0, 5} (5 repeated), and a one-span cluster that changes nothing.
    ex.coref = vec![vec![(0, 0), (5, 5), (5, 5)], vec![(7, 7)]];
    ex
}

#[test]
fn coreference_replaces_spans_with_the_clusters_first_span() {
    let t = (1, 1);
    let p = preds(
        "doc-0",
        vec![item(t, 0, 0, "Victim"), item(t, 7, 7, "Place")],
    );
    let s = score(
        Dataset::Wikievents,
        &[wiki_example()],
        &p,
        &HeadSource::LastToken,
    )
    .unwrap();
    // Gold: (5,5) Victim and two arguments outside the window; only coref matches (0,0)~(5,5).
    assert_metric(s.arg_c.span, 0, 2, 3, 0.0, 0.0, 0.0);
    let coref = s.arg_c.coref.unwrap();
    assert_metric(coref, 1, 2, 3, 0.5, 1.0 / 3.0, 0.4);
}

#[test]
fn arguments_outside_the_window_count_as_gold_and_keep_their_start() {
    // Nothing predicted: all three gold arguments are missed, in every variant, and the head
    // rule does not fail on the out-of-window spans.
    let heads = HeadSource::Given(Heads(HashMap::from([("doc-0".to_string(), vec![0; 10])])));
    let s = score(
        Dataset::Wikievents,
        &[wiki_example()],
        &HashMap::new(),
        &heads,
    )
    .unwrap();
    for m in [s.arg_c.span, s.arg_c.head, s.arg_i.coref.unwrap()] {
        assert_metric(m, 0, 0, 3, 0.0, 0.0, 0.0);
    }
    // An out-of-window gold argument's head is its first token, so a prediction of exactly that
    // (impossible for a model) would match it.
    let p = preds("doc-0", vec![item((1, 1), -3, -3, "Place")]);
    let s = score(Dataset::Wikievents, &[wiki_example()], &p, &heads).unwrap();
    assert_eq!((s.arg_c.span.tp, s.arg_c.head.tp), (0, 1));
}

#[test]
fn argument_identification_erases_roles() {
    let gold = example("d", &[10], (0, 0), &[(2, 3, "evt004arg01attacker")]);
    let p = preds("d", vec![item((0, 0), 2, 3, "target")]);
    let s = score(Dataset::Rams, &[gold], &p, &HeadSource::LastToken).unwrap();
    assert_metric(s.arg_c.span, 0, 1, 1, 0.0, 0.0, 0.0);
    assert_metric(s.arg_i.span, 1, 1, 1, 1.0, 1.0, 1.0);
}

#[test]
fn prediction_formats_are_detected_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let gold = vec![
        example("a", &[6], (0, 0), &[(2, 3, "evt089arg01victim")]),
        example("b", &[6], (1, 1), &[(4, 4, "evt089arg02place")]),
    ];
    let path = file(
        &dir,
        "pred.jsonl",
        "{\"doc_key\": \"a\", \"predictions\": [[[0, 0], [2, 3, \"victim\", 1.0]]]}\n\n\
         {\"doc_key\": \"b\", \"gold_evt_links\": [[[1, 1], [4, 4], \"evt089arg02place\"]], \"sentences\": []}\n",
    );
    let p = read_predictions(&path, &gold).unwrap();
    let s = score(Dataset::Rams, &gold, &p, &HeadSource::LastToken).unwrap();
    assert_metric(s.arg_c.span, 2, 2, 2, 1.0, 1.0, 1.0);
}

fn prediction_error(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let gold = vec![example("a", &[6], (0, 0), &[])];
    let path = file(&dir, "pred.jsonl", text);
    match read_predictions(&path, &gold) {
        Err(e @ DocEeError::Line { .. }) => e.to_string(),
        other => panic!("expected a located error, got {other:?}"),
    }
}

#[test]
fn bad_prediction_lines_are_errors_naming_the_line() {
    let ok = "{\"doc_key\": \"a\", \"predictions\": [[[0, 0]]]}\n";
    let e = prediction_error(&format!(
        "{ok}{{\"doc_key\": \"zzz\", \"predictions\": []}}\n"
    ));
    assert!(
        e.contains("line 2") && e.contains("unknown doc_key `zzz`"),
        "{e}"
    );
    let e = prediction_error(
        "{\"doc_key\": \"a\", \"predictions\": [[[0, 0], [4, 6, \"victim\", 1.0]]]}\n",
    );
    assert!(
        e.contains("line 1") && e.contains("outside the 6 tokens"),
        "{e}"
    );
    let e = prediction_error(&format!(
        "{ok}\n{{\"doc_key\": \"a\", \"predictions\": [[\n"
    ));
    assert!(e.contains("line 3"), "{e}");
    let e = prediction_error(&format!("{ok}{ok}"));
    assert!(
        e.contains("line 2") && e.contains("already predicted on line 1"),
        "{e}"
    );
    let e = prediction_error("{\"doc_key\": \"a\"}\n");
    assert!(e.contains("not a prediction"), "{e}");
}

#[test]
fn heads_files_are_checked_against_the_examples() {
    let dir = tempfile::tempdir().unwrap();
    let gold = vec![example("a", &[3], (0, 0), &[])];
    let good = file(
        &dir,
        "h.jsonl",
        "{\"doc_key\": \"a\", \"heads\": [0, 0, 1]}\n",
    );
    assert_eq!(read_heads(&good, &gold).unwrap().0["a"], vec![0, 0, 1]);
    let short = file(&dir, "s.jsonl", "{\"doc_key\": \"a\", \"heads\": [0, 0]}\n");
    let e = read_heads(&short, &gold).unwrap_err().to_string();
    assert!(
        e.contains("line 1") && e.contains("2 heads for the 3 tokens"),
        "{e}"
    );
    let far = file(
        &dir,
        "f.jsonl",
        "{\"doc_key\": \"a\", \"heads\": [0, 0, 9]}\n",
    );
    assert!(
        read_heads(&far, &gold)
            .unwrap_err()
            .to_string()
            .contains("head 9")
    );
}
