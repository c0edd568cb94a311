//! The scorer on hand-computed cases (demo lexicon: Core 1, every other type 0.5).

use std::path::Path;

use frame_parse::{Instance, ScoreOptions, check_aligned, parse_conll, score};

fn blocks(text: &str) -> Vec<Instance> {
    parse_conll(Path::new("x.conll"), text).unwrap().1
}

// Gold: Getting with Recipient, Theme, Source (Core: 3); Possession with Owner, Possession
// (Core) and Co_participant (Extra-Thematic, written with `_`: 0.5). Gold weight 5.5.
const GOLD: &str = "0\tKim\t_\t_\tB-Recipient\n1\tgot\tget.v\tGetting\tO\n2\ta\t_\t_\tB-Theme\n3\tletter\t_\t_\tI-Theme\n4\tfrom\t_\t_\tB-Source\n5\tSam\t_\t_\tI-Source\n\n\
0\tSam\t_\t_\tB-Owner\n1\thas\thave.v\tPossession\tO\n2\tthe\t_\t_\tB-Possession\n3\tkeys\t_\t_\tI-Possession\n4\twith\t_\t_\tB-Co_participant\n5\tAlex\t_\t_\tI-Co_participant\n\n";

// Prediction: Receiving (wrong; it inherits from Getting, distance 1) with Recipient (exact,
// Core 1 → TP 1), Theme on the wrong span (Core 1, no TP), Time (Peripheral 0.5, no TP);
// Possession (right) with Owner (TP 1) and Co-participant in the XML spelling (TP 0.5).
// Predicted weight 1 + 1 + 0.5 + 1 + 0.5 = 4, TP weight 2.5.
const PRED: &str = "0\tKim\t_\t_\tB-Recipient\n1\tgot\tget.v\tReceiving\tO\n2\ta\t_\t_\tB-Theme\n3\tletter\t_\t_\tO\n4\tfrom\t_\t_\tB-Time\n5\tSam\t_\t_\tI-Time\n\n\
0\tSam\t_\t_\tB-Owner\n1\thas\thave.v\tPossession\tO\n2\tthe\t_\t_\tO\n3\tkeys\t_\t_\tO\n4\twith\t_\t_\tB-Co-participant\n5\tAlex\t_\t_\tI-Co-participant\n\n";

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12, "{a} != {b}");
}

#[test]
fn hand_computed_exact_scores() {
    let lexicon = frame_parse::demo::demo_lexicon().unwrap();
    let s = score(
        &blocks(GOLD),
        &blocks(PRED),
        &lexicon,
        ScoreOptions::default(),
    );
    assert_eq!((s.frame.correct, s.frame.total), (1.0, 2));
    close(s.frame.acc, 0.5);
    assert_eq!((s.arg.tp_w, s.arg.pred_w, s.arg.gold_w), (2.5, 4.0, 5.5));
    assert_eq!((s.arg.tp, s.arg.pred, s.arg.gold), (3, 5, 6));
    close(s.arg.p, 5.0 / 8.0);
    close(s.arg.r, 5.0 / 11.0);
    close(s.arg.f1, 10.0 / 19.0);
    // Full structure: (1 + 2.5) / (2 + 4) and (1 + 2.5) / (2 + 5.5).
    close(s.full.p, 3.5 / 6.0);
    close(s.full.r, 3.5 / 7.5);
    close(s.full.f1, 14.0 / 27.0);
    // One label (the gold `Co_participant`) was written with `_` for `-`.
    assert_eq!(
        (s.normalised_fes, s.unknown_fes, s.unknown_frames),
        (1, 0, 0)
    );
}

#[test]
fn partial_credit_uses_frame_relation_distance() {
    let lexicon = frame_parse::demo::demo_lexicon().unwrap();
    let options = ScoreOptions {
        partial_credit: true,
    };
    let s = score(&blocks(GOLD), &blocks(PRED), &lexicon, options);
    close(s.frame.correct, 1.8);
    close(s.frame.acc, 0.9);
    close(s.full.p, 4.3 / 6.0);
    // Giving → Receiving → Getting: distance 2, credit 0.64; Ingestion is unrelated: 0.
    let two = PRED.replace("Receiving", "Giving");
    close(
        score(&blocks(GOLD), &blocks(&two), &lexicon, options)
            .frame
            .correct,
        1.64,
    );
    let none = PRED.replace("Receiving", "Ingestion");
    close(
        score(&blocks(GOLD), &blocks(&none), &lexicon, options)
            .frame
            .correct,
        1.0,
    );
}

#[test]
fn json_has_exactly_the_documented_shape() {
    let lexicon = frame_parse::demo::demo_lexicon().unwrap();
    let s = score(
        &blocks(GOLD),
        &blocks(PRED),
        &lexicon,
        ScoreOptions::default(),
    );
    let value: serde_json::Value = serde_json::to_value(&s).unwrap();
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&value), ["arg", "frame", "full"]);
    assert_eq!(keys(&value["frame"]), ["acc", "correct", "total"]);
    assert_eq!(
        keys(&value["arg"]),
        [
            "f1", "gold", "gold_w", "p", "pred", "pred_w", "r", "tp", "tp_w"
        ]
    );
    assert_eq!(keys(&value["full"]), ["f1", "p", "r"]);
    assert_eq!(value["arg"]["tp"], 3);
    assert_eq!(value["arg"]["gold_w"], 5.5);
}

#[test]
fn unknown_fe_weighs_half_and_is_counted() {
    let lexicon = frame_parse::demo::demo_lexicon().unwrap();
    let pred = PRED.replace(
        "B-Time\n5\tSam\t_\t_\tI-Time",
        "B-Nonsense\n5\tSam\t_\t_\tI-Nonsense",
    );
    let s = score(
        &blocks(GOLD),
        &blocks(&pred),
        &lexicon,
        ScoreOptions::default(),
    );
    assert_eq!(s.unknown_fes, 1);
    assert_eq!(s.arg.pred_w, 4.0);
}

#[test]
fn misaligned_blocks_are_refused_naming_the_first_mismatch() {
    let (gold, pred) = (blocks(GOLD), blocks(PRED));
    let g = Path::new("gold.conll");
    let p = Path::new("pred.conll");
    check_aligned(&gold, &pred, g, p).unwrap();
    let err = check_aligned(&gold, &pred[..1], g, p)
        .unwrap_err()
        .to_string();
    assert!(err.contains("2 gold blocks, 1 predicted blocks"), "{err}");
    let other = blocks(&PRED.replace("Alex", "Alexa"));
    let err = check_aligned(&gold, &other, g, p).unwrap_err().to_string();
    assert!(
        err.contains("`pred.conll` does not line up with `gold.conll`"),
        "{err}"
    );
    assert!(
        err.contains("block 2 (gold line 8, prediction line 8): tokens differ at token 5"),
        "{err}"
    );
    let moved = blocks(&PRED.replacen(
        "1\tgot\tget.v\tReceiving\tO\n2\ta\t_\t_\tB-Theme",
        "1\tgot\t_\t_\tO\n2\ta\tget.v\tReceiving\tB-Theme",
        1,
    ));
    let err = check_aligned(&gold, &moved, g, p).unwrap_err().to_string();
    assert!(
        err.contains("block 1") && err.contains("target tokens [1] vs [2]"),
        "{err}"
    );
}
