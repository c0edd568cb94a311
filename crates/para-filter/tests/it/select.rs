//! The budget rule: descending score, ties in line order, stop at the budget.

use para_filter::{english_words, select};

#[test]
fn counts_words_as_the_perl_script_does() {
    assert_eq!(english_words("a b c"), 3);
    assert_eq!(english_words("a  b"), 3);
    assert_eq!(english_words(" a"), 2);
    assert_eq!(english_words("a b  "), 2);
    assert_eq!(english_words(""), 0);
}

#[test]
fn ties_go_by_line_order_and_selection_stops_at_the_budget() {
    // Lines:      0    1    2    3    4    5
    let scores = [0.9, 0.5, 0.7, 0.5, 0.5, 0.1];
    let words = [4, 3, 2, 3, 3, 5];
    // 0.9 → 4 words, 0.7 → 6; the 0.5 group (9 words) crosses a budget of 9 (6 + 9 > 9), so
    // 0.5 is the cut-off with 3 words left: line 1 (3 words) is taken (taken 3 ≤ 3), then
    // line 3 too (3 ≤ 3 before adding: the pair that crosses is included), line 4 not.
    let s = select(&scores, &words, 9).unwrap();
    assert_eq!(s.selected, [true, true, true, true, false, false]);
    assert_eq!(s.words, 12);
    assert_eq!(s.cutoff, Some(0.5));
    // A budget inside the top group keeps its first line only.
    let s = select(&scores, &words, 2).unwrap();
    assert_eq!(s.selected, [true, false, false, false, false, false]);
    // A budget above the corpus takes everything.
    let s = select(&scores, &words, 1000).unwrap();
    assert!(s.selected.iter().all(|x| *x));
    assert_eq!(s.words, 20);
    // Reordering equal scores changes which lines win: line order decides.
    let s = select(&[0.5, 0.5, 0.5], &[2, 2, 2], 3).unwrap();
    assert_eq!(s.selected, [true, true, false]);
}

#[test]
fn bad_scores_are_errors() {
    assert!(select(&[0.1, f64::NAN], &[1, 1], 5).is_err());
    assert!(select(&[0.1], &[1, 1], 5).is_err());
}
