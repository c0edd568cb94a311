//! ROUGE-L, ROUGE-Lsum and ROUGE-N, identical to Google's `rouge-score` package.
//!
//! This reproduces `rouge_scorer.RougeScorer([...], use_stemmer=False)` with its default
//! tokenizer: lowercase (Python's full Unicode `str.lower`), then every maximal run of
//! `[a-z0-9]` is a token; everything else separates tokens. The Porter stemmer is not
//! implemented.
//!
//! Arguments follow `rouge-score`'s order: the *target* (reference) first, then the
//! *prediction*.
//!
//! ```
//! use burnlp_core::metrics::rouge::rouge_l;
//! let s = rouge_l("The quick brown fox jumps over the lazy dog",
//!                 "The quick brown dog jumps on the log.");
//! assert_eq!((s.precision, s.recall), (0.625, 0.5555555555555556));
//! assert!((s.fmeasure - 0.5882352941176471).abs() < 1e-15);
//! ```

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::error::{MetricsError, Result, check_same_len};
use super::pycompat::numpy_mean;

/// Precision, recall and F-measure of one ROUGE variant, each in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct RougeScore {
    /// Fraction of prediction tokens (n-grams) that are matched.
    pub precision: f64,
    /// Fraction of target tokens (n-grams) that are matched.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub fmeasure: f64,
}

impl RougeScore {
    fn new(precision: f64, recall: f64) -> Self {
        let fmeasure = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        Self {
            precision,
            recall,
            fmeasure,
        }
    }
}

/// `rouge-score`'s default tokenizer (no stemming).
pub fn tokenize(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// Maps the tokens of several texts to shared integer ids.
#[derive(Default)]
struct Interner {
    ids: HashMap<String, u32>,
}

impl Interner {
    fn ids(&mut self, tokens: Vec<String>) -> Vec<u32> {
        tokens
            .into_iter()
            .map(|t| {
                let next = self.ids.len() as u32;
                *self.ids.entry(t).or_insert(next)
            })
            .collect()
    }
}

/// Length of the longest common subsequence (two-row dynamic programme).
fn lcs_len(a: &[u32], b: &[u32]) -> usize {
    let mut prev = vec![0usize; b.len() + 1];
    let mut cur = vec![0usize; b.len() + 1];
    for &x in a {
        for (j, &y) in b.iter().enumerate() {
            cur[j + 1] = if x == y {
                prev[j] + 1
            } else {
                prev[j + 1].max(cur[j])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Indices into `r` of one longest common subsequence, chosen as `rouge-score`'s
/// `_backtrack_norec` does.
fn lcs_indices(r: &[u32], c: &[u32]) -> Vec<usize> {
    let cols = c.len() + 1;
    let mut t = vec![0usize; (r.len() + 1) * cols];
    for i in 1..=r.len() {
        for j in 1..=c.len() {
            t[i * cols + j] = if r[i - 1] == c[j - 1] {
                t[(i - 1) * cols + j - 1] + 1
            } else {
                t[(i - 1) * cols + j].max(t[i * cols + j - 1])
            };
        }
    }
    let (mut i, mut j) = (r.len(), c.len());
    let mut out = Vec::new();
    while i > 0 && j > 0 {
        if r[i - 1] == c[j - 1] {
            out.push(i - 1);
            i -= 1;
            j -= 1;
        } else if t[i * cols + j - 1] > t[(i - 1) * cols + j] {
            j -= 1;
        } else {
            i -= 1;
        }
    }
    out.reverse();
    out
}

/// ROUGE-L between one target and one prediction.
pub fn rouge_l(target: &str, prediction: &str) -> RougeScore {
    let mut vocab = Interner::default();
    let t = vocab.ids(tokenize(target));
    let p = vocab.ids(tokenize(prediction));
    if t.is_empty() || p.is_empty() {
        return RougeScore::default();
    }
    let lcs = lcs_len(&t, &p) as f64;
    RougeScore::new(lcs / p.len() as f64, lcs / t.len() as f64)
}

/// ROUGE-Lsum (summary-level union LCS) with sentences separated by `\n`, as `rouge-score`
/// does with `split_summaries=False`.
pub fn rouge_lsum(target: &str, prediction: &str) -> RougeScore {
    let mut vocab = Interner::default();
    let mut sents = |text: &str| -> Vec<Vec<u32>> {
        text.split('\n')
            .filter(|s| !s.is_empty())
            .map(|s| vocab.ids(tokenize(s)))
            .collect()
    };
    let refs = sents(target);
    let cands = sents(prediction);
    if refs.is_empty() || cands.is_empty() {
        return RougeScore::default();
    }
    let m: usize = refs.iter().map(Vec::len).sum();
    let n: usize = cands.iter().map(Vec::len).sum();
    if m == 0 || n == 0 {
        return RougeScore::default();
    }
    let mut cnt_r: HashMap<u32, usize> = HashMap::new();
    let mut cnt_c: HashMap<u32, usize> = HashMap::new();
    for &tok in refs.iter().flatten() {
        *cnt_r.entry(tok).or_insert(0) += 1;
    }
    for &tok in cands.iter().flatten() {
        *cnt_c.entry(tok).or_insert(0) += 1;
    }
    let mut hits = 0usize;
    for r in &refs {
        let union: BTreeSet<usize> = cands.iter().flat_map(|c| lcs_indices(r, c)).collect();
        for i in union {
            let tok = r[i];
            // Counts stay in the maps at zero, like Python's `Counter`.
            let cc = cnt_c.get(&tok).copied().unwrap_or(0);
            let cr = cnt_r.get(&tok).copied().unwrap_or(0);
            if cc > 0 && cr > 0 {
                hits += 1;
                cnt_c.insert(tok, cc - 1);
                cnt_r.insert(tok, cr - 1);
            }
        }
    }
    RougeScore::new(hits as f64 / n as f64, hits as f64 / m as f64)
}

/// ROUGE-N (`rouge1`, `rouge2`, …) between one target and one prediction; errors if `n` is 0.
pub fn rouge_n(target: &str, prediction: &str, n: usize) -> Result<RougeScore> {
    if n == 0 {
        return Err(MetricsError::InvalidParameter {
            name: "n",
            reason: "ROUGE-N requires n >= 1".into(),
        });
    }
    let mut vocab = Interner::default();
    let t = vocab.ids(tokenize(target));
    let p = vocab.ids(tokenize(prediction));
    let count = |ids: &[u32]| {
        let mut m: HashMap<Vec<u32>, usize> = HashMap::new();
        for w in ids.windows(n) {
            *m.entry(w.to_vec()).or_insert(0) += 1;
        }
        m
    };
    let (tc, pc) = (count(&t), count(&p));
    let inter: usize = tc
        .iter()
        .map(|(k, &v)| v.min(pc.get(k).copied().unwrap_or(0)))
        .sum();
    let t_total: usize = tc.values().sum();
    let p_total: usize = pc.values().sum();
    Ok(RougeScore::new(
        inter as f64 / p_total.max(1) as f64,
        inter as f64 / t_total.max(1) as f64,
    ))
}

/// ROUGE-L against several targets: the score of the target with the highest F-measure
/// (the first on ties), as `RougeScorer.score_multi` does. Errors on an empty target list.
pub fn rouge_l_multi<T: AsRef<str>>(targets: &[T], prediction: &str) -> Result<RougeScore> {
    let mut best: Option<RougeScore> = None;
    for t in targets {
        let s = rouge_l(t.as_ref(), prediction);
        if best.is_none_or(|b| s.fmeasure > b.fmeasure) {
            best = Some(s);
        }
    }
    best.ok_or(MetricsError::EmptyInput("no targets"))
}

fn mean_scores(scores: &[RougeScore]) -> Result<RougeScore> {
    let col = |f: fn(&RougeScore) -> f64| -> Vec<f64> { scores.iter().map(f).collect() };
    let mean = |v: Vec<f64>| numpy_mean(&v).ok_or(MetricsError::EmptyInput("no pairs"));
    Ok(RougeScore {
        precision: mean(col(|s| s.precision))?,
        recall: mean(col(|s| s.recall))?,
        fmeasure: mean(col(|s| s.fmeasure))?,
    })
}

/// Per-pair ROUGE-L and its mean (precision, recall and F-measure averaged separately, as
/// `np.mean` over the per-pair values).
pub fn rouge_l_corpus<T: AsRef<str>, P: AsRef<str>>(
    targets: &[T],
    predictions: &[P],
) -> Result<(Vec<RougeScore>, RougeScore)> {
    score_pairs(targets, predictions, rouge_l)
}

/// Per-pair ROUGE-Lsum and its mean.
pub fn rouge_lsum_corpus<T: AsRef<str>, P: AsRef<str>>(
    targets: &[T],
    predictions: &[P],
) -> Result<(Vec<RougeScore>, RougeScore)> {
    score_pairs(targets, predictions, rouge_lsum)
}

/// Scores each (target, prediction) pair and averages the scores.
fn score_pairs<T: AsRef<str>, P: AsRef<str>>(
    targets: &[T],
    predictions: &[P],
    score: fn(&str, &str) -> RougeScore,
) -> Result<(Vec<RougeScore>, RougeScore)> {
    check_same_len("predictions vs targets", targets.len(), predictions.len())?;
    let per: Vec<RougeScore> = targets
        .iter()
        .zip(predictions)
        .map(|(t, p)| score(t.as_ref(), p.as_ref()))
        .collect();
    let mean = mean_scores(&per)?;
    Ok((per, mean))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer() {
        assert_eq!(
            tokenize("Hello, WORLD! it's 3.5x"),
            ["hello", "world", "it", "s", "3", "5x"]
        );
        // U+0130 lowercases to "i" + combining dot, which splits the word.
        assert_eq!(tokenize("\u{130}stanbul"), ["i", "stanbul"]);
        assert!(tokenize("... ¿¡").is_empty());
    }

    #[test]
    fn lcs_basics() {
        let s = rouge_l("a b c d", "a c d e f");
        assert_eq!(s.precision, 3.0 / 5.0);
        assert_eq!(s.recall, 3.0 / 4.0);
        assert_eq!(rouge_l("", "a"), RougeScore::default());
        assert_eq!(lcs_indices(&[1, 2, 3, 4], &[1, 3, 4, 9]), vec![0, 2, 3]);
    }

    #[test]
    fn lsum_paper_example() {
        // ROUGE paper, section 3.2: r = w1..w5, c1 = w1 w2 w6 w7 w8, c2 = w1 w3 w8 w9 w5.
        let s = rouge_lsum("w1 w2 w3 w4 w5", "w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5");
        assert_eq!(s.recall, 4.0 / 5.0);
        assert_eq!(s.precision, 4.0 / 10.0);
    }

    #[test]
    fn rouge_n_and_errors() {
        let s = rouge_n("the cat sat", "the cat", 2).unwrap();
        assert_eq!((s.precision, s.recall), (1.0, 0.5));
        assert!(rouge_n("a", "a", 0).is_err());
        assert!(rouge_l_corpus(&["a"], &["a", "b"]).is_err());
        assert!(rouge_l_multi::<&str>(&[], "a").is_err());
    }
}
