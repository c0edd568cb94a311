//! Parallel-sentence retrieval accuracy (Tatoeba) by cosine or ratio-margin nearest neighbours.
//!
//! The Tatoeba evaluation of XTREME (Hu et al. 2020) and LASER (Artetxe & Schwenk 2019) embeds
//! `n` sentences and their `n` translations, retrieves for each source sentence its nearest
//! target sentence and counts it correct when that is its own translation; LASER reports both
//! directions (source → target and target → source). Two scorings are offered ([`Scoring`]):
//!
//! * [`Scoring::Cosine`]: the target with the highest cosine similarity (XTREME's
//!   `similarity_search` with `normalize=True`, LASER's `margin="absolute"`);
//! * [`Scoring::RatioMargin`]: Artetxe & Schwenk, "Margin-based Parallel Corpus Mining with
//!   Multilingual Sentence Embeddings", ACL 2019 (<https://arxiv.org/abs/1811.01136>), as LASER's
//!   `xsim` computes it (`margin="ratio"`):
//!
//!   `margin(x, y) = cos(x, y) / (Σ_{z ∈ NN_k(x)} cos(x, z) / 2k + Σ_{z ∈ NN_k(y)} cos(y, z) / 2k)`
//!
//!   where `NN_k(x)` are the `k` targets nearest to `x` and `NN_k(y)` the `k` sources nearest
//!   to `y` (by cosine; `k` is capped at the number of candidates). As in LASER, the candidates
//!   of a query are its `k` cosine nearest neighbours, and the one with the highest margin is
//!   retrieved.
//!
//! Similarities are computed in `f64` from `f32` embeddings (faiss, which the references use,
//! computes in `f32`; only near-ties can be decided differently). Nearest-neighbour ties go to
//! the lower index. The whole `n × m` similarity matrix is kept in memory, which suits
//! Tatoeba's 1,000 pairs per language; bitext mining over millions of sentences needs an index.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::{MetricsError, Result, check_same_len};

/// The `k` of LASER's margin scoring (`xsim`'s default).
pub const LASER_MARGIN_K: usize = 4;

/// How a query's nearest candidate is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Scoring {
    /// Highest cosine similarity.
    #[default]
    Cosine,
    /// Highest ratio margin among the `k` cosine nearest neighbours (see the module docs).
    RatioMargin {
        /// Neighbourhood size `k` (LASER uses [`LASER_MARGIN_K`]).
        k: usize,
    },
}

/// A dense matrix of pairwise scores between `rows` queries and `cols` candidates.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreMatrix {
    rows: usize,
    cols: usize,
    values: Vec<f64>,
}

/// L2-normalised `f64` copies of the vectors, checking dimensions and values.
fn unit_vectors<V: AsRef<[f32]>>(
    vectors: &[V],
    what: &'static str,
    dim: Option<usize>,
) -> Result<Vec<Vec<f64>>> {
    if vectors.is_empty() {
        return Err(MetricsError::EmptyInput(what));
    }
    let dim = dim.unwrap_or(vectors[0].as_ref().len());
    vectors
        .iter()
        .enumerate()
        .map(|(index, v)| {
            let v = v.as_ref();
            if v.len() != dim {
                return Err(MetricsError::DimensionMismatch {
                    what,
                    index,
                    expected: dim,
                    found: v.len(),
                });
            }
            if let Some(&value) = v.iter().find(|x| !x.is_finite()) {
                return Err(MetricsError::InvalidValue {
                    index,
                    value: value.into(),
                    reason: "embedding has a non-finite component",
                });
            }
            let v: Vec<f64> = v.iter().map(|&x| f64::from(x)).collect();
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm == 0.0 {
                return Err(MetricsError::InvalidValue {
                    index,
                    value: 0.0,
                    reason: "zero vector: its cosine similarity is undefined",
                });
            }
            Ok(v.iter().map(|x| x / norm).collect())
        })
        .collect()
}

fn check_k(k: usize) -> Result<()> {
    if k == 0 {
        return Err(MetricsError::InvalidParameter {
            name: "k",
            reason: "the margin neighbourhood needs at least one neighbour".into(),
        });
    }
    Ok(())
}

/// Cosine similarities of every query with every candidate: entry `(i, j)` is
/// `cos(queries[i], candidates[j])`.
///
/// Errors on empty inputs, vectors of different dimensions, non-finite components and zero
/// vectors.
pub fn cosine_similarities<Q, C>(queries: &[Q], candidates: &[C]) -> Result<ScoreMatrix>
where
    Q: AsRef<[f32]>,
    C: AsRef<[f32]>,
{
    let queries = unit_vectors(queries, "query embedding", None)?;
    let dim = queries[0].len();
    let candidates = unit_vectors(candidates, "candidate embedding", Some(dim))?;
    let cols = candidates.len();
    let values: Vec<f64> = queries
        .par_iter()
        .flat_map_iter(|q| {
            candidates
                .iter()
                .map(move |c| q.iter().zip(c).map(|(a, b)| a * b).sum::<f64>())
        })
        .collect();
    Ok(ScoreMatrix {
        rows: queries.len(),
        cols,
        values,
    })
}

impl ScoreMatrix {
    /// Number of queries.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of candidates.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The score of query `i` and candidate `j`.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        assert!(i < self.rows && j < self.cols, "({i}, {j}) is out of range");
        self.values[i * self.cols + j]
    }

    /// The scores of query `i` with every candidate.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.cols..(i + 1) * self.cols]
    }

    /// The matrix with queries and candidates swapped.
    pub fn transpose(&self) -> ScoreMatrix {
        let values = (0..self.cols)
            .flat_map(|j| (0..self.rows).map(move |i| self.values[i * self.cols + j]))
            .collect();
        ScoreMatrix {
            rows: self.cols,
            cols: self.rows,
            values,
        }
    }

    /// The `k` (at most `cols`) candidates with the highest scores for query `i`, best first;
    /// ties go to the lower index.
    pub fn top_k(&self, i: usize, k: usize) -> Vec<usize> {
        let row = self.row(i);
        let better = |a: &usize, b: &usize| row[*b].total_cmp(&row[*a]).then(a.cmp(b));
        let mut order: Vec<usize> = (0..self.cols).collect();
        let k = k.min(self.cols);
        if k == 0 {
            return Vec::new();
        }
        if k < order.len() {
            order.select_nth_unstable_by(k - 1, better);
            order.truncate(k);
        }
        order.sort_by(better);
        order
    }

    /// Mean of the `k` highest scores of every query (`k` capped at `cols`), summed best first.
    pub fn top_k_means(&self, k: usize) -> Vec<f64> {
        (0..self.rows)
            .into_par_iter()
            .map(|i| {
                let top = self.top_k(i, k);
                top.iter().map(|&j| self.get(i, j)).sum::<f64>() / top.len() as f64
            })
            .collect()
    }

    /// The ratio margins of a cosine similarity matrix with neighbourhood size `k`: entry
    /// `(i, j)` is `cos(i, j) / ((m_q(i) + m_c(j)) / 2)`, where `m_q(i)` is the mean cosine of
    /// query `i` with its `k` nearest candidates and `m_c(j)` that of candidate `j` with its `k`
    /// nearest queries (see the module docs).
    pub fn ratio_margin(&self, k: usize) -> Result<ScoreMatrix> {
        check_k(k)?;
        let query_means = self.top_k_means(k);
        let candidate_means = self.transpose().top_k_means(k);
        let values = (0..self.rows)
            .flat_map(|i| {
                let (query_means, candidate_means) = (&query_means, &candidate_means);
                (0..self.cols)
                    .map(move |j| self.get(i, j) / ((query_means[i] + candidate_means[j]) / 2.0))
            })
            .collect();
        Ok(ScoreMatrix {
            rows: self.rows,
            cols: self.cols,
            values,
        })
    }

    /// The retrieved candidate of every query of a cosine similarity matrix.
    ///
    /// With [`Scoring::RatioMargin`], a query's candidates are its `k` cosine nearest
    /// neighbours and the one with the highest margin wins (ties: the higher cosine).
    pub fn retrieve(&self, scoring: Scoring) -> Result<Vec<usize>> {
        match scoring {
            Scoring::Cosine => Ok((0..self.rows)
                .into_par_iter()
                .map(|i| self.top_k(i, 1)[0])
                .collect()),
            Scoring::RatioMargin { k } => {
                check_k(k)?;
                let query_means = self.top_k_means(k);
                let candidate_means = self.transpose().top_k_means(k);
                Ok((0..self.rows)
                    .into_par_iter()
                    .map(|i| {
                        let mut best: Option<(usize, f64)> = None;
                        for j in self.top_k(i, k) {
                            let margin =
                                self.get(i, j) / ((query_means[i] + candidate_means[j]) / 2.0);
                            if best.is_none_or(|(_, b)| margin > b) {
                                best = Some((j, margin));
                            }
                        }
                        best.expect("at least one candidate").0
                    })
                    .collect())
            }
        }
    }
}

/// The nearest candidate of every query under `scoring`.
pub fn nearest_neighbours<Q, C>(
    queries: &[Q],
    candidates: &[C],
    scoring: Scoring,
) -> Result<Vec<usize>>
where
    Q: AsRef<[f32]>,
    C: AsRef<[f32]>,
{
    cosine_similarities(queries, candidates)?.retrieve(scoring)
}

/// Retrieval accuracy in both directions.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct RetrievalAccuracy {
    /// Fraction of source sentences whose retrieved target is their translation.
    pub source_to_target: f64,
    /// Fraction of target sentences whose retrieved source is their translation.
    pub target_to_source: f64,
}

impl RetrievalAccuracy {
    /// The mean of both directions.
    pub fn mean(&self) -> f64 {
        (self.source_to_target + self.target_to_source) / 2.0
    }
}

/// Tatoeba accuracy: `source[i]` and `target[i]` embed a sentence and its translation; each
/// sentence retrieves its nearest neighbour on the other side under `scoring`.
///
/// ```
/// use burnlp_core::metrics::retrieval::{Scoring, tatoeba_accuracy};
/// let source = [[1.0f32, 0.0], [0.0, 1.0], [1.0, 1.0]];
/// let target = [[0.9f32, 0.1], [0.6, 0.8], [0.1, 0.9]];
/// let acc = tatoeba_accuracy(&source, &target, Scoring::Cosine).unwrap();
/// assert_eq!(acc.source_to_target, 1.0 / 3.0);
/// ```
pub fn tatoeba_accuracy<S, T>(
    source: &[S],
    target: &[T],
    scoring: Scoring,
) -> Result<RetrievalAccuracy>
where
    S: AsRef<[f32]>,
    T: AsRef<[f32]>,
{
    check_same_len("target vs source embeddings", source.len(), target.len())?;
    let similarities = cosine_similarities(source, target)?;
    let accuracy = |retrieved: Vec<usize>| {
        let correct = retrieved
            .iter()
            .enumerate()
            .filter(|(i, j)| i == *j)
            .count();
        correct as f64 / retrieved.len() as f64
    };
    Ok(RetrievalAccuracy {
        source_to_target: accuracy(similarities.retrieve(scoring)?),
        target_to_source: accuracy(similarities.transpose().retrieve(scoring)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_orders_and_breaks_ties_by_index() {
        let m = ScoreMatrix {
            rows: 1,
            cols: 5,
            values: vec![0.5, 0.9, 0.5, -1.0, 0.9],
        };
        assert_eq!(m.top_k(0, 3), [1, 4, 0]);
        assert_eq!(m.top_k(0, 9), [1, 4, 0, 2, 3]);
        assert_eq!(m.top_k_means(2), [0.9]);
    }

    #[test]
    fn margin_penalises_a_hub() {
        // Candidate 0 ("hub") is close to every query; cosine retrieves it for both queries,
        // the margin divides by its dense neighbourhood and retrieves the true translations.
        // Queries at ±10°, the hub at 0°, the translations at ±22°.
        let queries = [[0.9848f32, 0.1736], [0.9848, -0.1736]];
        let candidates = [[1.0f32, 0.0], [0.9272, 0.3746], [0.9272, -0.3746]];
        let cos = nearest_neighbours(&queries, &candidates, Scoring::Cosine).unwrap();
        assert_eq!(cos, [0, 0]);
        let margin =
            nearest_neighbours(&queries, &candidates, Scoring::RatioMargin { k: 2 }).unwrap();
        assert_eq!(margin, [1, 2]);
    }

    #[test]
    fn bad_input_is_an_error() {
        let a = [[1.0f32, 0.0]];
        assert_eq!(
            cosine_similarities(&a, &[[1.0f32, 0.0, 0.0]]),
            Err(MetricsError::DimensionMismatch {
                what: "candidate embedding",
                index: 0,
                expected: 2,
                found: 3
            })
        );
        assert!(matches!(
            cosine_similarities(&a, &[[0.0f32, 0.0]]),
            Err(MetricsError::InvalidValue { index: 0, .. })
        ));
        assert!(matches!(
            cosine_similarities(&[[f32::NAN, 1.0]], &a),
            Err(MetricsError::InvalidValue { index: 0, .. })
        ));
        assert!(matches!(
            cosine_similarities::<[f32; 2], _>(&[], &a),
            Err(MetricsError::EmptyInput(_))
        ));
        assert!(matches!(
            tatoeba_accuracy(&a, &[[1.0f32, 0.0], [0.0, 1.0]], Scoring::Cosine),
            Err(MetricsError::LengthMismatch { .. })
        ));
        assert!(matches!(
            tatoeba_accuracy(&a, &a, Scoring::RatioMargin { k: 0 }),
            Err(MetricsError::InvalidParameter { name: "k", .. })
        ));
    }
}
