//! The shared task reader, the CSV parser and the token-level scoring.

use std::path::Path;

use newsbot::accuracy::{AccuracyReport, GoldError, evaluate, parse_csv, score_game};
use newsbot::check::{Category, Finding};

use crate::common::shared;

#[test]
fn csv_fields_may_be_quoted_with_commas_quotes_and_newlines() {
    let rows = parse_csv(
        "a,b\n\"x, y\",\"say \"\"hi\"\"\"\n\"two\nlines\",z\n",
        Path::new("t.csv"),
    )
    .unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1].1, ["x, y", "say \"hi\""]);
    assert_eq!(
        rows[2],
        (3, vec!["two\nlines".to_string(), "z".to_string()])
    );
    let e = parse_csv("a\n\"open", Path::new("t.csv"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("t.csv") && e.contains("line 2"), "{e}");
}

fn finding(start: usize, end: usize, category: Category) -> Finding {
    Finding {
        sentence: 0,
        start,
        end,
        tokens: String::new(),
        category,
        correction: None,
        reason: String::new(),
    }
}

fn gold(start: usize, end: usize, category: Category) -> GoldError {
    GoldError {
        text_id: "S".into(),
        start,
        end,
        tokens: String::new(),
        category,
    }
}

#[test]
fn token_level_scores_count_category_agreement() {
    // Gold (1-based): NUMBER at 3, WORD at 5-7. Findings (0-based): NUMBER at 2 (= token 3,
    // right), WORD at 4 (= token 5, right), NUMBER at 9 (= token 10, wrong), NAME at 5 (= token
    // 6, inside the WORD span but the wrong category).
    let mut report = AccuracyReport::default();
    score_game(
        &[
            finding(2, 2, Category::Number),
            finding(4, 4, Category::Word),
            finding(9, 9, Category::Number),
            finding(5, 5, Category::Name),
        ],
        &[gold(3, 3, Category::Number), gold(5, 7, Category::Word)],
        &mut report,
    );
    let n = report.tokens["NUMBER"];
    assert_eq!((n.true_positives, n.predicted, n.gold), (1, 2, 1));
    let w = report.tokens["WORD"];
    assert_eq!((w.true_positives, w.predicted, w.gold), (1, 1, 3));
    assert!((w.recall() - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(report.tokens["NAME"].true_positives, 0);
    let all = report.tokens_all;
    assert_eq!((all.true_positives, all.predicted, all.gold), (2, 4, 4));
    let m = report.mistakes["WORD"];
    assert_eq!((m.found, m.gold), (1, 1));
}

#[test]
fn the_checker_finds_most_numeric_errors_of_the_shared_task() {
    let Some(dir) = shared("datasets/data2text/rotowire/accuracy_shared_task") else {
        return;
    };
    let (report, _) = evaluate(&dir).unwrap();
    assert_eq!(report.games, 60);
    assert_eq!(report.mistakes_all.gold, 1214);
    let number = report.tokens["NUMBER"];
    assert!(
        number.precision() > 0.6 && number.recall() > 0.5,
        "{number:?}"
    );
    assert!(report.tokens["NAME"].precision() > 0.8, "{report:?}");
}
