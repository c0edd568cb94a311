//! Train/evaluation overlap: no evaluation item may also be a training item.
//!
//! Items are compared on a normalised key: Unicode NFKC, lower case, whitespace runs collapsed to
//! one space, trimmed. Exact duplicates after that normalisation count as overlap (the same
//! sentence with different casing or spacing is the same item to a model). Every demo and
//! results run checks its splits with [`check_disjoint`] and reports the sizes it returns.

use std::collections::HashSet;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

/// The comparison key of an item's text.
pub fn normalise(text: &str) -> String {
    let folded: String = text.nfkc().collect::<String>().to_lowercase();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Indices of the evaluation items whose normalised text also occurs among the training items.
pub fn overlapping<T: AsRef<str>, E: AsRef<str>>(
    train: impl IntoIterator<Item = T>,
    eval: impl IntoIterator<Item = E>,
) -> Vec<usize> {
    let seen: HashSet<String> = train.into_iter().map(|t| normalise(t.as_ref())).collect();
    eval.into_iter()
        .enumerate()
        .filter(|(_, e)| seen.contains(&normalise(e.as_ref())))
        .map(|(i, _)| i)
        .collect()
}

/// The sizes of a checked pair of splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SplitSizes {
    /// Training items.
    pub train: usize,
    /// Evaluation items.
    pub eval: usize,
}

/// Evaluation items that are also training items.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{split}: {count} of {total} evaluation items are also training items (first: item {first_index}, {first:?})"
)]
pub struct OverlapError {
    /// Which split pair was checked (e.g. "text-cls demo train/test").
    pub split: String,
    /// How many evaluation items overlap.
    pub count: usize,
    /// Evaluation items in all.
    pub total: usize,
    /// 0-based index of the first overlapping evaluation item.
    pub first_index: usize,
    /// Its text.
    pub first: String,
}

/// Checks that no evaluation item is a training item; returns the split sizes.
pub fn check_disjoint<T: AsRef<str>, E: AsRef<str>>(
    split: &str,
    train: &[T],
    eval: &[E],
) -> Result<SplitSizes, OverlapError> {
    let hits = overlapping(train, eval);
    match hits.first() {
        None => Ok(SplitSizes {
            train: train.len(),
            eval: eval.len(),
        }),
        Some(&first_index) => Err(OverlapError {
            split: split.to_string(),
            count: hits.len(),
            total: eval.len(),
            first_index,
            first: eval[first_index].as_ref().to_string(),
        }),
    }
}

/// Removes from `items` those whose normalised text is in `exclude` or repeats an earlier item,
/// keeping order; `key` gives an item's text. For building an evaluation split from generated data.
pub fn dedup_against<I, K: AsRef<str>>(
    items: Vec<I>,
    exclude: impl IntoIterator<Item = K>,
    key: impl Fn(&I) -> String,
) -> Vec<I> {
    let mut seen: HashSet<String> = exclude.into_iter().map(|k| normalise(k.as_ref())).collect();
    items
        .into_iter()
        .filter(|item| seen.insert(normalise(&key(item))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_ignores_case_spacing_and_compatibility_forms() {
        assert_eq!(normalise("  The  Film\twas ＧＯＯＤ "), "the film was good");
        assert_eq!(overlapping(["a b", "c"], ["A  b", "d", "C"]), vec![0, 2]);
    }

    #[test]
    fn check_reports_sizes_or_the_first_overlap() {
        assert_eq!(
            check_disjoint("x", &["a", "b"], &["c"]),
            Ok(SplitSizes { train: 2, eval: 1 })
        );
        let err = check_disjoint("demo train/test", &["a", "b"], &["c", "B", "a"]).unwrap_err();
        assert_eq!((err.count, err.total, err.first_index), (2, 3, 1));
        assert!(
            err.to_string().starts_with("demo train/test: 2 of 3"),
            "{err}"
        );
    }

    #[test]
    fn dedup_keeps_order_and_drops_repeats() {
        let kept = dedup_against(vec!["x", "a", "y", "X", "z"], ["A"], |s| s.to_string());
        assert_eq!(kept, vec!["x", "y", "z"]);
    }
}
