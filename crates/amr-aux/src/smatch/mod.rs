//! Smatch: the F-score of the best variable mapping between two AMRs (Cai & Knight 2013).
//!
//! Reproduces `get_best_match` of the reference tool (`smatch.py`): the candidate pool and the
//! weights of `compute_pool`, a smart initialisation followed by `restarts` random ones, and
//! hill climbing that applies the single best move or swap until no operation gains, scanning
//! moves before swaps and replacing the current best only on a strictly larger gain. Candidate
//! sets are visited in the order in which CPython iterates the reference's `set`s, so the smart
//! initialisation round climbs exactly as the reference does whenever it needs no random choice.
//!
//! The reference seeds its random generator from the clock; here each graph pair gets its own
//! generator seeded from [`SmatchConfig::seed`] and the pair's index, so results do not depend on
//! thread scheduling. After hill climbing, an optional branch and bound
//! ([`SmatchConfig::exact_budget`]) searches for a better mapping and proves optimality when it
//! finishes within its budget: the match count is then never below the reference's.

mod climb;
mod exact;
mod pool;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;

use crate::penman::Amr;
use crate::triples::{Flavor, Triples};
use exact::BranchAndBound;
use pool::Pool;

/// Settings of a Smatch computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmatchConfig {
    /// Random restarts after the smart initialisation (the reference's `-r`, default 4).
    pub restarts: usize,
    /// Seed of the random initialisations.
    pub seed: u64,
    /// Triple rules.
    pub flavor: Flavor,
    /// Search nodes the branch and bound may visit per graph pair (0 disables it: plain
    /// hill climbing, as the reference).
    pub exact_budget: usize,
}

impl Default for SmatchConfig {
    fn default() -> Self {
        Self {
            restarts: 4,
            seed: 0,
            flavor: Flavor::Smatch104,
            exact_budget: 20_000,
        }
    }
}

/// The result for one pair of graphs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairScore {
    /// Matching triples of the best mapping found.
    pub matched: usize,
    /// Triples of the test graph.
    pub test: usize,
    /// Triples of the gold graph.
    pub gold: usize,
    /// Whether the branch and bound proved `matched` optimal.
    pub proven_optimal: bool,
    /// For each test node (in definition order), the gold node it maps to.
    pub mapping: Vec<Option<usize>>,
}

/// Corpus-level Smatch: counts summed over all pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmatchScore {
    /// Σ matched triples.
    pub matched: usize,
    /// Σ test triples.
    pub test: usize,
    /// Σ gold triples.
    pub gold: usize,
    /// The pairs, in corpus order.
    pub pairs: Vec<PairScore>,
}

/// Precision, recall and F1 from counts, as the reference's `compute_f` (zeros when a count is 0).
pub fn compute_f(matched: usize, test: usize, gold: usize) -> (f64, f64, f64) {
    if test == 0 || gold == 0 {
        return (0.0, 0.0, 0.0);
    }
    let precision = matched as f64 / test as f64;
    let recall = matched as f64 / gold as f64;
    if precision + recall == 0.0 {
        return (precision, recall, 0.0);
    }
    (
        precision,
        recall,
        2.0 * precision * recall / (precision + recall),
    )
}

impl PairScore {
    /// F1 of this pair alone.
    pub fn f1(&self) -> f64 {
        compute_f(self.matched, self.test, self.gold).2
    }
}

impl SmatchScore {
    /// Σ matched / Σ test.
    pub fn precision(&self) -> f64 {
        compute_f(self.matched, self.test, self.gold).0
    }

    /// Σ matched / Σ gold.
    pub fn recall(&self) -> f64 {
        compute_f(self.matched, self.test, self.gold).1
    }

    /// The corpus F1 (the reference's "Document F-score").
    pub fn f1(&self) -> f64 {
        compute_f(self.matched, self.test, self.gold).2
    }

    /// Pairs whose mapping the branch and bound proved optimal.
    pub fn proven_optimal(&self) -> usize {
        self.pairs.iter().filter(|p| p.proven_optimal).count()
    }

    /// The corpus result as one JSON object: precision, recall and F1 as fractions, the triple
    /// counts, the pairs and how many were proven optimal, the settings and the wall time.
    pub fn summary(&self, config: &SmatchConfig, wall_s: f64) -> serde_json::Value {
        serde_json::json!({
            "precision": self.precision(), "recall": self.recall(), "f1": self.f1(),
            "matched": self.matched, "test_triples": self.test, "gold_triples": self.gold,
            "pairs": self.pairs.len(), "proven_optimal": self.proven_optimal(),
            "restarts": config.restarts, "seed": config.seed, "wall_s": wall_s,
        })
    }
}

/// Scores test graphs against gold graphs (pair `i` = test `i` vs gold `i`) in parallel.
///
/// # Errors
/// [`crate::Error::CountMismatch`] if the corpora differ in length (the reference would warn and
/// score the common prefix).
pub fn smatch_corpus(
    test: &[Amr],
    gold: &[Amr],
    config: &SmatchConfig,
) -> crate::Result<SmatchScore> {
    if test.len() != gold.len() {
        return Err(crate::Error::CountMismatch {
            test: test.len(),
            gold: gold.len(),
        });
    }
    let pairs: Vec<PairScore> = test
        .par_iter()
        .zip(gold)
        .enumerate()
        .map(|(index, (t, g))| {
            let t = Triples::from_amr(t, config.flavor);
            let g = Triples::from_amr(g, config.flavor);
            smatch_pair(&t, &g, config, index as u64)
        })
        .collect();
    let score = SmatchScore {
        matched: pairs.iter().map(|p| p.matched).sum(),
        test: pairs.iter().map(|p| p.test).sum(),
        gold: pairs.iter().map(|p| p.gold).sum(),
        pairs,
    };
    tracing::debug!(
        pairs = score.pairs.len(),
        proven_optimal = score.proven_optimal(),
        "smatch corpus scored"
    );
    Ok(score)
}

/// Scores one pair; `index` selects the pair's random stream (with [`SmatchConfig::seed`]).
pub fn smatch_pair(test: &Triples, gold: &Triples, config: &SmatchConfig, index: u64) -> PairScore {
    let pool = Pool::new(test, gold);
    let stream = config
        .seed
        .wrapping_add(index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut rng = StdRng::seed_from_u64(stream);
    let mut best_mapping = vec![-1; pool.n1];
    let mut best = 0;
    for round in 0..=config.restarts {
        let init = if round == 0 {
            pool.smart_init(test, gold, &mut rng)
        } else {
            pool.random_init(&mut rng)
        };
        let (mapping, matched) = pool.hill_climb(init);
        if matched > best {
            best = matched;
            best_mapping = mapping;
        }
    }
    let mut proven_optimal = false;
    if config.exact_budget > 0 {
        let mut search =
            BranchAndBound::new(&pool, best, best_mapping.clone(), config.exact_budget);
        search.run();
        proven_optimal = !search.aborted;
        if search.best > best {
            best = search.best;
            best_mapping = search.best_mapping;
        }
    }
    PairScore {
        matched: usize::try_from(best).expect("match counts are non-negative"),
        test: test.len(),
        gold: gold.len(),
        proven_optimal,
        mapping: best_mapping
            .iter()
            .map(|&m| usize::try_from(m).ok())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::penman::parse_amrs;

    fn pair(test: &str, gold: &str, config: &SmatchConfig) -> PairScore {
        let t = Triples::from_amr(&parse_amrs(test).unwrap()[0], config.flavor);
        let g = Triples::from_amr(&parse_amrs(gold).unwrap()[0], config.flavor);
        smatch_pair(&t, &g, config, 0)
    }

    #[test]
    fn worked_example_of_the_specification() {
        let gold = "(w / want-01 :ARG0 (b / boy) :ARG1 (g / go-02 :ARG0 b))";
        let test = "(x / want-01 :ARG0 (y / boy) :ARG1 (z / go-02))";
        for flavor in [Flavor::Smatch104, Flavor::Atp] {
            let config = SmatchConfig {
                flavor,
                ..SmatchConfig::default()
            };
            let score = pair(test, gold, &config);
            assert_eq!((score.matched, score.test, score.gold), (6, 6, 7));
            assert!(score.proven_optimal);
            assert_eq!(score.mapping, [Some(0), Some(1), Some(2)]);
            assert!((score.f1() - 12.0 / 13.0).abs() < 1e-12);
        }
    }
}
