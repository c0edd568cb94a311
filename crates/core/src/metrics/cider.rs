//! CIDEr-D, identical to the `Cider` scorer of `pycocoevalcap` (the COCO caption evaluation).
//!
//! Vedantam, Zitnick & Parikh, "CIDEr: Consensus-based Image Description Evaluation", CVPR 2015
//! (<https://arxiv.org/abs/1411.5726>), in the CIDEr-D form that `pycocoevalcap` implements
//! (`cider/cider_scorer.py`):
//!
//! * every segment's hypothesis and references become TF-IDF vectors of their 1- to 4-grams,
//!   with document frequencies counted over the *references* of the corpus (an n-gram counts
//!   once per segment) and `idf = log(#segments) − log(max(1, df))`;
//! * per order `n`, the hypothesis is compared with each reference by a clipped cosine
//!   `Σ_g min(h_g, r_g)·r_g / (‖h‖‖r‖)`, multiplied by the Gaussian length penalty
//!   `e^{−δ²/2σ²}` (σ = 6);
//! * a segment's score is the mean over the four orders, averaged over its references and
//!   multiplied by 10; the corpus score is the mean over segments.
//!
//! Quirks of the reference are kept: the length `δ` compares the numbers of *bigrams*
//! (`pycocoevalcap` counts `term_freq` of order index 1), so a one-word caption has length 0;
//! with a single segment every idf is 0 and so is the score.
//!
//! **Tokenisation.** The scorer splits on whitespace (Python's `str.split()`) and is
//! case-sensitive; it expects captions already tokenised. The COCO evaluation first runs the
//! Stanford PTB tokenizer (`pycocoevalcap.tokenizer.PTBTokenizer`: lower-cased, punctuation
//! removed) over hypotheses and references; apply the same normalisation before scoring to
//! reproduce published numbers.
//!
//! Sums follow the reference's order (n-grams in order of first occurrence, NumPy's pairwise
//! means), so scores agree with `pycocoevalcap` to the last bit on the same `libm`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::error::{MetricsError, Result, check_same_len};
use super::pycompat::{numpy_mean, py_split};

/// Largest n-gram order (fixed at 4 in `pycocoevalcap`).
const ORDER: usize = 4;

/// An n-gram as up to four token ids and its length.
type Ngram = ([u32; ORDER], u8);

/// The n-gram counts of a caption, in order of first occurrence.
type Counts = Vec<(Ngram, usize)>;

/// CIDEr-D with its length-penalty width.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CiderD {
    /// Standard deviation σ of the Gaussian length penalty (6 in `pycocoevalcap`).
    pub sigma: f64,
}

impl Default for CiderD {
    fn default() -> Self {
        Self { sigma: 6.0 }
    }
}

/// A CIDEr-D score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CiderScore {
    /// Corpus CIDEr-D: the mean of the segment scores (on COCO, typically 0 to ~1.5; ×100 in
    /// papers).
    pub score: f64,
    /// The score of every segment, in input order.
    pub segments: Vec<f64>,
}

/// Counts of every n-gram of orders 1..=4, in order of first occurrence (order 1 first), as
/// `pycocoevalcap`'s `precook` builds its dictionary.
fn precook(text: &str, vocab: &mut HashMap<String, u32>) -> Counts {
    let ids: Vec<u32> = py_split(text)
        .map(|w| {
            let next = vocab.len() as u32;
            *vocab.entry(w.to_string()).or_insert(next)
        })
        .collect();
    let mut counts: Counts = Vec::new();
    let mut index: HashMap<Ngram, usize> = HashMap::new();
    for n in 1..=ORDER {
        for window in ids.windows(n) {
            let mut key = [0; ORDER];
            key[..n].copy_from_slice(window);
            let ngram = (key, n as u8);
            match index.get(&ngram) {
                Some(&i) => counts[i].1 += 1,
                None => {
                    index.insert(ngram, counts.len());
                    counts.push((ngram, 1));
                }
            }
        }
    }
    counts
}

/// The TF-IDF vector of one caption: per order, the weights in order of first occurrence.
struct Vector {
    weights: [Vec<(Ngram, f64)>; ORDER],
    lookup: HashMap<Ngram, f64>,
    norm: [f64; ORDER],
    /// Number of bigrams (`pycocoevalcap`'s `length`).
    length: usize,
}

/// `pycocoevalcap`'s `counts2vec`.
fn tf_idf(counts: &[(Ngram, usize)], df: &HashMap<Ngram, f64>, log_segments: f64) -> Vector {
    let mut weights: [Vec<(Ngram, f64)>; ORDER] = Default::default();
    let mut norm = [0.0; ORDER];
    let mut length = 0;
    for &(ngram, tf) in counts {
        let idf = df.get(&ngram).copied().unwrap_or(0.0).max(1.0).ln();
        let n = ngram.1 as usize - 1;
        let weight = tf as f64 * (log_segments - idf);
        weights[n].push((ngram, weight));
        norm[n] += weight * weight;
        if n == 1 {
            length += tf;
        }
    }
    let lookup = weights.iter().flatten().copied().collect();
    Vector {
        weights,
        lookup,
        norm: norm.map(f64::sqrt),
        length,
    }
}

impl CiderD {
    /// CIDEr-D with the given σ; errors unless σ is finite and positive.
    pub fn new(sigma: f64) -> Result<Self> {
        if !(sigma.is_finite() && sigma > 0.0) {
            return Err(MetricsError::InvalidParameter {
                name: "sigma",
                reason: format!("must be finite and positive, got {sigma}"),
            });
        }
        Ok(Self { sigma })
    }

    /// `pycocoevalcap`'s `sim`: the per-order clipped cosines of a hypothesis and a reference,
    /// with the length penalty.
    fn similarity(&self, hyp: &Vector, reference: &Vector) -> [f64; ORDER] {
        let delta = hyp.length as f64 - reference.length as f64;
        let penalty = std::f64::consts::E.powf(-(delta * delta) / (2.0 * self.sigma.powi(2)));
        std::array::from_fn(|n| {
            let mut value = 0.0;
            for (ngram, h) in &hyp.weights[n] {
                let r = reference.lookup.get(ngram).copied().unwrap_or(0.0);
                value += h.min(r) * r;
            }
            if hyp.norm[n] != 0.0 && reference.norm[n] != 0.0 {
                value /= hyp.norm[n] * reference.norm[n];
            }
            value * penalty
        })
    }

    /// CIDEr-D of `hypotheses[i]` against the captions `references[i]` (at least one each), with
    /// document frequencies from all references.
    pub fn corpus_score<H, G, R>(&self, hypotheses: &[H], references: &[G]) -> Result<CiderScore>
    where
        H: AsRef<str>,
        G: AsRef<[R]>,
        R: AsRef<str>,
    {
        Self::new(self.sigma)?;
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
        let mut vocab = HashMap::new();
        let cooked: Vec<(Counts, Vec<Counts>)> = hypotheses
            .iter()
            .zip(references)
            .map(|(h, refs)| {
                let refs = refs
                    .as_ref()
                    .iter()
                    .map(|r| precook(r.as_ref(), &mut vocab))
                    .collect();
                (precook(h.as_ref(), &mut vocab), refs)
            })
            .collect();
        // Document frequency: the number of segments whose references contain the n-gram.
        let mut df: HashMap<Ngram, f64> = HashMap::new();
        for (_, refs) in &cooked {
            let mut seen: Vec<Ngram> = refs.iter().flatten().map(|&(g, _)| g).collect();
            seen.sort_unstable();
            seen.dedup();
            for g in seen {
                *df.entry(g).or_insert(0.0) += 1.0;
            }
        }
        let log_segments = (cooked.len() as f64).ln();
        let segments: Vec<f64> = cooked
            .iter()
            .map(|(hyp, refs)| {
                let hyp = tf_idf(hyp, &df, log_segments);
                let mut sum = [0.0; ORDER];
                for reference in refs {
                    let sim = self.similarity(&hyp, &tf_idf(reference, &df, log_segments));
                    for (s, v) in sum.iter_mut().zip(sim) {
                        *s += v;
                    }
                }
                let mean = numpy_mean(&sum).expect("four orders");
                mean / refs.len() as f64 * 10.0
            })
            .collect();
        Ok(CiderScore {
            score: numpy_mean(&segments).expect("checked non-empty"),
            segments,
        })
    }
}

/// CIDEr-D with `pycocoevalcap`'s defaults (σ = 6); see [`CiderD::corpus_score`].
///
/// ```
/// use burnlp_core::metrics::cider::cider_d;
/// let hyps = ["a man riding a horse", "two dogs play in the snow"];
/// let refs = [
///     vec!["a man rides a horse", "a person on a horse"],
///     vec!["two dogs playing in snow", "dogs play in the snow"],
/// ];
/// let score = cider_d(&hyps, &refs).unwrap();
/// assert!(score.score > 0.0 && score.segments.len() == 2);
/// ```
pub fn cider_d<H, G, R>(hypotheses: &[H], references: &[G]) -> Result<CiderScore>
where
    H: AsRef<str>,
    G: AsRef<[R]>,
    R: AsRef<str>,
{
    CiderD::default().corpus_score(hypotheses, references)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ngrams_in_first_occurrence_order() {
        let mut vocab = HashMap::new();
        let counts = precook("a b a b", &mut vocab);
        let described: Vec<(u8, usize)> = counts.iter().map(|((_, n), c)| (*n, *c)).collect();
        // a, b; ab, ba; aba, bab; abab.
        assert_eq!(
            described,
            [(1, 2), (1, 2), (2, 2), (2, 1), (3, 1), (3, 1), (4, 1)]
        );
    }

    #[test]
    fn single_segment_scores_zero_and_bad_input_is_an_error() {
        let s = cider_d(&["a b c"], &[["a b c"]]).unwrap();
        assert_eq!(s.score, 0.0);
        assert_eq!(
            cider_d(&["a"], &[Vec::<&str>::new()]),
            Err(MetricsError::NoReference { segment: 0 })
        );
        assert!(matches!(
            cider_d::<&str, [&str; 1], &str>(&[], &[]),
            Err(MetricsError::EmptyInput(_))
        ));
        assert!(matches!(
            cider_d(&["a", "b"], &[["a"]]),
            Err(MetricsError::LengthMismatch { .. })
        ));
        assert!(matches!(
            CiderD::new(0.0),
            Err(MetricsError::InvalidParameter { name: "sigma", .. })
        ));
    }

    #[test]
    fn identical_captions_beat_different_ones() {
        let hyps = ["a cat on a mat", "a dog in the park", "x y z"];
        let refs = [
            ["a cat on a mat"],
            ["a dog in a park"],
            ["a bird in the sky"],
        ];
        let s = cider_d(&hyps, &refs).unwrap();
        assert!(s.segments[0] > s.segments[1] && s.segments[1] > s.segments[2]);
        assert_eq!(s.segments[2], 0.0);
    }
}
