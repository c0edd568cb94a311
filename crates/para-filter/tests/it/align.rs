//! The DP aligner recovers known beads.

use para_filter::align::{AlignConfig, BeadKind, align};
use para_filter::documents::DocumentPair;
use para_filter::mine::{MineConfig, align_document};
use para_filter::{Ibm1Config, Ibm1Model, Pair};

#[test]
fn recovers_one_one_skips_and_merges_from_a_score_table() {
    // English 0..4, other side 0..5: e0-x0, e1 unaligned, e2-(x1 x2), x3 unaligned, e3-x4.
    let gold = |e: &std::ops::Range<usize>, x: &std::ops::Range<usize>| -> bool {
        matches!(
            (e.start, e.end, x.start, x.end),
            (0, 1, 0, 1) | (2, 3, 1, 3) | (3, 4, 4, 5)
        )
    };
    let beads = align(
        4,
        5,
        &AlignConfig {
            band: 1.0,
            ..AlignConfig::default()
        },
        |e, x| {
            if gold(&e, &x) { -1.0 } else { -20.0 }
        },
    );
    let kinds: Vec<_> = beads
        .iter()
        .map(|b| (b.kind, b.en.clone(), b.xx.clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            (BeadKind::OneOne, 0..1, 0..1),
            (BeadKind::OneZero, 1..2, 1..1),
            (BeadKind::OneTwo, 2..3, 1..3),
            (BeadKind::ZeroOne, 3..3, 3..4),
            (BeadKind::OneOne, 3..4, 4..5),
        ]
    );
}

#[test]
fn aligns_a_document_pair_with_a_dropped_and_a_split_sentence() {
    let clean: Vec<Pair> = [
        ("the man sees the dog", "der Mann sieht den Hund"),
        ("the woman reads a book", "die Frau liest ein Buch"),
        ("a child plays in the garden", "ein Kind spielt im Garten"),
        ("the dog sleeps", "der Hund schläft"),
        ("the woman sees the child", "die Frau sieht das Kind"),
        ("a man reads", "ein Mann liest"),
        (
            "the child sleeps in the garden",
            "das Kind schläft im Garten",
        ),
        ("a dog plays", "ein Hund spielt"),
        ("the book is red", "das Buch ist rot"),
        ("the garden is big", "der Garten ist groß"),
    ]
    .iter()
    .map(|(e, f)| Pair::new(*e, *f))
    .collect();
    let model = Ibm1Model::train(&clean, &Ibm1Config::default()).unwrap();
    let doc = DocumentPair {
        id: "d".into(),
        en: vec![
            "the woman sees the dog".into(),
            "the book is big".into(), // dropped on the other side
            "a child reads a red book in the garden".into(),
            "the man sleeps".into(),
        ],
        xx: vec![
            "die Frau sieht den Hund".into(),
            "ein Kind liest ein rotes Buch".into(), // split in two
            "im Garten".into(),
            "der Mann schläft".into(),
        ],
    };
    let config = MineConfig {
        min_score: -20.0,
        ..MineConfig::default()
    };
    let beads = align_document(&model, &doc, &config);
    let got: Vec<_> = beads.iter().map(|b| (b.en.clone(), b.xx.clone())).collect();
    assert_eq!(got, [(0..1, 0..1), (2..3, 1..3), (3..4, 3..4)], "{beads:?}");
}
