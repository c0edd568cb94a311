//! chrF and chrF++, identical to sacreBLEU 2.x (`sacrebleu.metrics.CHRF`).
//!
//! [`ChrfConfig::default`] is sacreBLEU's `CHRF()`: character n-grams up to order 6, no word
//! n-grams, β = 2, whitespace removed, case-sensitive, effective-order averaging (no ε
//! smoothing). [`ChrfConfig::chrf_plus_plus`] adds word uni- and bigrams (`CHRF(word_order=2)`).
//! Characters are Unicode scalar values, as Python's `str` indexes them.
//!
//! ```
//! use burnlp_core::metrics::chrf::Chrf;
//! let score = Chrf::default().corpus_score(&["The cat sat."], &[["The cat sat down."]]).unwrap();
//! assert_eq!(score.to_string(), "chrF2 = 61.01");
//! ```

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::{MetricsError, Result, check_same_len, group_reference_streams};
use super::pycompat::{is_py_space, py_split};

/// Options of [`Chrf`]; the default is sacreBLEU's `CHRF()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChrfConfig {
    /// Largest character n-gram order (6).
    pub char_order: usize,
    /// Largest word n-gram order (0 for chrF, 2 for chrF++).
    pub word_order: usize,
    /// Weight of recall relative to precision (2).
    pub beta: u32,
    /// Lowercase hypotheses and references.
    pub lowercase: bool,
    /// Keep whitespace inside character n-grams.
    pub whitespace: bool,
    /// Average F-scores over all orders with ε for undefined ones (chrF++.py, Moses and NLTK
    /// style) instead of sacreBLEU's default effective-order averaging.
    pub eps_smoothing: bool,
}

impl Default for ChrfConfig {
    fn default() -> Self {
        Self {
            char_order: 6,
            word_order: 0,
            beta: 2,
            lowercase: false,
            whitespace: false,
            eps_smoothing: false,
        }
    }
}

impl ChrfConfig {
    /// chrF++: the defaults plus word n-grams up to order 2.
    pub fn chrf_plus_plus() -> Self {
        Self {
            word_order: 2,
            ..Self::default()
        }
    }
}

/// A chrF score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChrfScore {
    /// chrF in `[0, 100]`.
    pub score: f64,
    /// Character n-gram order used.
    pub char_order: usize,
    /// Word n-gram order used.
    pub word_order: usize,
    /// β used.
    pub beta: u32,
    /// Summed `[hyp, ref, match]` n-gram counts, character orders first, then word orders.
    pub stats: Vec<[usize; 3]>,
}

impl ChrfScore {
    /// The metric's name as sacreBLEU prints it, e.g. `chrF2` or `chrF2++`.
    pub fn name(&self) -> String {
        format!("chrF{}{}", self.beta, "+".repeat(self.word_order))
    }
}

impl fmt::Display for ChrfScore {
    /// sacreBLEU's signature-less format, e.g. `chrF2++ = 53.24`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {:.2}", self.name(), self.score)
    }
}

const PUNCTS: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// sacreBLEU's `CHRF._remove_punctuation`: splits one punctuation character off the end (or
/// else the start) of every word longer than one character.
fn remove_punctuation(sent: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for w in py_split(sent) {
        let mut chars = w.chars();
        let (first, last) = (chars.next(), chars.next_back());
        match (first, last) {
            (Some(_), None) => out.push(w),
            (Some(f), Some(l)) => {
                if PUNCTS.contains(l) {
                    let cut = w.len() - l.len_utf8();
                    out.push(&w[..cut]);
                    out.push(&w[cut..]);
                } else if PUNCTS.contains(f) {
                    let cut = f.len_utf8();
                    out.push(&w[..cut]);
                    out.push(&w[cut..]);
                } else {
                    out.push(w);
                }
            }
            (None, _) => {}
        }
    }
    out
}

fn counter<K: Eq + Hash, I: IntoIterator<Item = K>>(items: I) -> HashMap<K, usize> {
    let mut m = HashMap::new();
    for k in items {
        *m.entry(k).or_insert(0) += 1;
    }
    m
}

/// N-gram counters of one segment: character orders `1..=char_order`, then word orders.
struct SegmentNgrams<'a> {
    chars: Vec<HashMap<&'a str, usize>>,
    words: Vec<HashMap<&'a [&'a str], usize>>,
}

/// `[hyp, ref, match]` counts of one order (sacreBLEU's `_get_match_statistics`).
fn match_stats<K: Eq + Hash>(hyp: &HashMap<K, usize>, reference: &HashMap<K, usize>) -> [usize; 3] {
    let mut matched = 0;
    let mut hyp_count = 0;
    for (ng, &c) in hyp {
        hyp_count += c;
        if let Some(&rc) = reference.get(ng) {
            matched += c.min(rc);
        }
    }
    [
        // Hits are not counted for an order with no reference n-gram.
        if reference.is_empty() { 0 } else { hyp_count },
        reference.values().sum(),
        matched,
    ]
}

/// chrF with a fixed configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Chrf {
    /// The configuration.
    pub config: ChrfConfig,
}

impl Chrf {
    /// chrF with the given options; errors if both orders are zero or β is zero.
    pub fn new(config: ChrfConfig) -> Result<Self> {
        if config.char_order + config.word_order == 0 {
            return Err(MetricsError::InvalidParameter {
                name: "char_order",
                reason: "char_order + word_order must be at least 1".into(),
            });
        }
        if config.beta == 0 {
            return Err(MetricsError::InvalidParameter {
                name: "beta",
                reason: "must be at least 1".into(),
            });
        }
        Ok(Self { config })
    }

    /// chrF++ with sacreBLEU's defaults.
    pub fn plus_plus() -> Self {
        Self {
            config: ChrfConfig::chrf_plus_plus(),
        }
    }

    fn ngrams<'a>(&self, stripped: &'a str, words: &'a [&'a str]) -> SegmentNgrams<'a> {
        let bounds: Vec<usize> = stripped
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(stripped.len()))
            .collect();
        let n_chars = bounds.len() - 1;
        let chars = (1..=self.config.char_order)
            .map(|n| {
                counter(
                    (0..(n_chars + 1).saturating_sub(n))
                        .map(|i| &stripped[bounds[i]..bounds[i + n]]),
                )
            })
            .collect();
        let words = (1..=self.config.word_order)
            .map(|n| counter(words.windows(n)))
            .collect();
        SegmentNgrams { chars, words }
    }

    fn stats_against(
        &self,
        hyp: &SegmentNgrams<'_>,
        reference: &SegmentNgrams<'_>,
    ) -> Vec<[usize; 3]> {
        let mut stats: Vec<[usize; 3]> = hyp
            .chars
            .iter()
            .zip(&reference.chars)
            .map(|(h, r)| match_stats(h, r))
            .collect();
        stats.extend(
            hyp.words
                .iter()
                .zip(&reference.words)
                .map(|(h, r)| match_stats(h, r)),
        );
        stats
    }

    /// sacreBLEU's `CHRF._compute_f_score` over `[hyp, ref, match]` counts per order.
    pub fn f_score(&self, stats: &[[usize; 3]]) -> f64 {
        let eps = 1e-16;
        let factor = f64::from(self.config.beta.pow(2));
        let mut score = 0.0;
        let mut effective_order = 0usize;
        let (mut avg_prec, mut avg_rec) = (0.0f64, 0.0f64);
        for &[n_hyp, n_ref, n_match] in stats {
            let prec = if n_hyp > 0 {
                n_match as f64 / n_hyp as f64
            } else {
                eps
            };
            let rec = if n_ref > 0 {
                n_match as f64 / n_ref as f64
            } else {
                eps
            };
            let denom = factor * prec + rec;
            score += if denom > 0.0 {
                (1.0 + factor) * prec * rec / denom
            } else {
                eps
            };
            if n_hyp > 0 && n_ref > 0 {
                avg_prec += prec;
                avg_rec += rec;
                effective_order += 1;
            }
        }
        if self.config.eps_smoothing {
            return 100.0 * score / stats.len() as f64;
        }
        if effective_order == 0 {
            avg_prec = 0.0;
            avg_rec = 0.0;
        } else {
            avg_prec /= effective_order as f64;
            avg_rec /= effective_order as f64;
        }
        if avg_prec + avg_rec != 0.0 {
            let mut score = (1.0 + factor) * avg_prec * avg_rec;
            score /= (factor * avg_prec) + avg_rec;
            100.0 * score
        } else {
            0.0
        }
    }

    /// Best `[hyp, ref, match]` statistics of one segment over its references (the reference
    /// with the highest chrF, the first on ties).
    pub fn segment_stats<R: AsRef<str>>(
        &self,
        hypothesis: &str,
        references: &[R],
    ) -> Vec<[usize; 3]> {
        let prep = |s: &str| -> String {
            if self.config.lowercase {
                s.to_lowercase()
            } else {
                s.to_string()
            }
        };
        let strip = |s: &str| -> String {
            if self.config.whitespace {
                s.to_string()
            } else {
                s.chars().filter(|&c| !is_py_space(c)).collect()
            }
        };
        let hyp = prep(hypothesis);
        let hyp_stripped = strip(&hyp);
        let hyp_words = if self.config.word_order > 0 {
            remove_punctuation(&hyp)
        } else {
            Vec::new()
        };
        let hyp_ngrams = self.ngrams(&hyp_stripped, &hyp_words);

        let mut best: Vec<[usize; 3]> = Vec::new();
        let mut best_f = -1.0;
        for r in references {
            let reference = prep(r.as_ref());
            let ref_stripped = strip(&reference);
            let ref_words = if self.config.word_order > 0 {
                remove_punctuation(&reference)
            } else {
                Vec::new()
            };
            let ref_ngrams = self.ngrams(&ref_stripped, &ref_words);
            let stats = self.stats_against(&hyp_ngrams, &ref_ngrams);
            let f = self.f_score(&stats);
            if f > best_f {
                best_f = f;
                best = stats;
            }
        }
        best
    }

    fn score_from_stats(&self, stats: Vec<[usize; 3]>) -> ChrfScore {
        ChrfScore {
            score: self.f_score(&stats),
            char_order: self.config.char_order,
            word_order: self.config.word_order,
            beta: self.config.beta,
            stats,
        }
    }

    /// Corpus chrF with references grouped per segment: `references[i]` holds all references
    /// of `hypotheses[i]` (at least one each).
    pub fn corpus_score_grouped<H, G, R>(
        &self,
        hypotheses: &[H],
        references: &[G],
    ) -> Result<ChrfScore>
    where
        H: AsRef<str> + Sync,
        G: AsRef<[R]> + Sync,
        R: AsRef<str> + Sync,
    {
        Self::new(self.config)?;
        check_same_len(
            "references vs hypotheses",
            hypotheses.len(),
            references.len(),
        )?;
        if hypotheses.is_empty() {
            return Err(MetricsError::EmptyInput("no hypotheses"));
        }
        if let Some(segment) = references.iter().position(|r| r.as_ref().is_empty()) {
            return Err(MetricsError::NoReference { segment });
        }
        let order = self.config.char_order + self.config.word_order;
        let total = hypotheses
            .par_iter()
            .zip(references.par_iter())
            .map(|(h, r)| self.segment_stats(h.as_ref(), r.as_ref()))
            .reduce(
                || vec![[0; 3]; order],
                |mut a, b| {
                    for (x, y) in a.iter_mut().zip(&b) {
                        for k in 0..3 {
                            x[k] += y[k];
                        }
                    }
                    a
                },
            );
        Ok(self.score_from_stats(total))
    }

    /// Corpus chrF in sacreBLEU's layout: `reference_streams[k][i]` is the `k`-th reference of
    /// `hypotheses[i]`.
    pub fn corpus_score<H, S, R>(
        &self,
        hypotheses: &[H],
        reference_streams: &[S],
    ) -> Result<ChrfScore>
    where
        H: AsRef<str> + Sync,
        S: AsRef<[R]>,
        R: AsRef<str> + Sync,
    {
        let grouped = group_reference_streams(hypotheses.len(), reference_streams)?;
        self.corpus_score_grouped(hypotheses, &grouped)
    }

    /// chrF of a single segment against one or more references.
    pub fn sentence_score<R: AsRef<str> + Sync>(
        &self,
        hypothesis: &str,
        references: &[R],
    ) -> Result<ChrfScore> {
        self.corpus_score_grouped(&[hypothesis], &[references])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuation_split() {
        assert_eq!(
            remove_punctuation("(hi) a . x, 'y"),
            vec!["(hi", ")", "a", ".", "x", ",", "'", "y"]
        );
    }

    #[test]
    fn identical_is_100() {
        let s = Chrf::default()
            .sentence_score("abc def", &["abc def"])
            .unwrap();
        assert!((s.score - 100.0).abs() < 1e-12);
        let s = Chrf::plus_plus()
            .sentence_score("abc def", &["abc def"])
            .unwrap();
        assert!((s.score - 100.0).abs() < 1e-12);
        assert_eq!(s.name(), "chrF2++");
    }

    #[test]
    fn empty_hypothesis_is_0() {
        let s = Chrf::default().sentence_score("", &["abc"]).unwrap();
        assert_eq!(s.score, 0.0);
        assert_eq!(s.stats[0], [0, 3, 0]);
    }

    #[test]
    fn bad_config() {
        let c = ChrfConfig {
            beta: 0,
            ..ChrfConfig::default()
        };
        assert!(Chrf::new(c).is_err());
    }
}
