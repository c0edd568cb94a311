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

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use crate::hash::FxHashMap;
use crate::penman::Amr;
use crate::triples::{Flavor, Triples, normalize};

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

/// The candidate pool and weights of `compute_pool`, in dense form.
struct Pool {
    n1: usize,
    n2: usize,
    /// Instance and attribute matches of `i ↦ j`, at `i * n2 + j`.
    unary: Vec<i32>,
    /// Whether `j` is a candidate of `i`, at `i * n2 + j`.
    candidate: Vec<bool>,
    /// The candidates of each test node in CPython's set iteration order.
    candidates: Vec<Vec<usize>>,
    /// Relation matches shared by two node pairs: the entries of pair `p = i * n2 + j` are
    /// `pairwise[offsets[p]..offsets[p + 1]]`, each `(k, l, weight)` for the pair `k ↦ l`.
    offsets: Vec<usize>,
    pairwise: Vec<(u32, u32, i32)>,
}

impl Pool {
    fn new(test: &Triples, gold: &Triples) -> Self {
        let (n1, n2) = (test.instances.len(), gold.instances.len());
        let mut interner: FxHashMap<String, u32> = FxHashMap::default();
        let mut key = |s: &str| {
            let next = interner.len() as u32;
            *interner.entry(normalize(s)).or_insert(next)
        };
        let concepts1: Vec<u32> = test.instances.iter().map(|c| key(c)).collect();
        let concepts2: Vec<u32> = gold.instances.iter().map(|c| key(c)).collect();
        let attrs1: Vec<(u32, usize, u32)> = test
            .attributes
            .iter()
            .map(|(r, n, v)| (key(r), *n, key(v)))
            .collect();
        let attrs2: Vec<(u32, usize, u32)> = gold
            .attributes
            .iter()
            .map(|(r, n, v)| (key(r), *n, key(v)))
            .collect();
        let rels1: Vec<(u32, usize, usize)> = test
            .relations
            .iter()
            .map(|(r, a, b)| (key(r), *a, *b))
            .collect();
        let rels2: Vec<(u32, usize, usize)> = gold
            .relations
            .iter()
            .map(|(r, a, b)| (key(r), *a, *b))
            .collect();

        let mut unary = vec![0; n1 * n2];
        let mut candidate = vec![false; n1 * n2];
        let mut inserted: Vec<Vec<usize>> = vec![Vec::new(); n1];
        let mut add = |i: usize, j: usize, candidate: &mut Vec<bool>| {
            if !candidate[i * n2 + j] {
                candidate[i * n2 + j] = true;
                inserted[i].push(j);
            }
        };
        for (i, c1) in concepts1.iter().enumerate() {
            for (j, c2) in concepts2.iter().enumerate() {
                if c1 == c2 {
                    add(i, j, &mut candidate);
                    unary[i * n2 + j] += 1;
                }
            }
        }
        for &(r1, i, v1) in &attrs1 {
            for &(r2, j, v2) in &attrs2 {
                if r1 == r2 && v1 == v2 {
                    add(i, j, &mut candidate);
                    unary[i * n2 + j] += 1;
                }
            }
        }
        let mut links: Vec<(usize, usize)> = Vec::new();
        for &(r1, i1, k1) in &rels1 {
            for &(r2, j1, l1) in &rels2 {
                if r1 != r2 {
                    continue;
                }
                add(i1, j1, &mut candidate);
                add(k1, l1, &mut candidate);
                let (p, q) = (i1 * n2 + j1, k1 * n2 + l1);
                if p == q {
                    unary[p] += 1;
                } else {
                    links.push((p, q));
                    links.push((q, p));
                }
            }
        }
        links.sort_unstable();
        let mut offsets = vec![0; n1 * n2 + 1];
        let mut pairwise: Vec<(u32, u32, i32)> = Vec::new();
        let mut start = 0;
        while start < links.len() {
            let mut end = start;
            while end < links.len() && links[end] == links[start] {
                end += 1;
            }
            let (p, q) = links[start];
            offsets[p + 1] += 1;
            pairwise.push(((q / n2) as u32, (q % n2) as u32, (end - start) as i32));
            start = end;
        }
        for p in 0..n1 * n2 {
            offsets[p + 1] += offsets[p];
        }
        Pool {
            n1,
            n2,
            unary,
            candidate,
            candidates: inserted.iter().map(|c| cpython_set_order(c)).collect(),
            offsets,
            pairwise,
        }
    }

    fn links(&self, i: usize, j: usize) -> &[(u32, u32, i32)] {
        let p = i * self.n2 + j;
        &self.pairwise[self.offsets[p]..self.offsets[p + 1]]
    }

    /// The reference's `compute_match`.
    fn score(&self, mapping: &[i32]) -> i32 {
        let mut total = 0;
        for (i, &m) in mapping.iter().enumerate() {
            let Ok(m) = usize::try_from(m) else { continue };
            total += self.unary[i * self.n2 + m];
            for &(k, l, w) in self.links(i, m) {
                if k as usize > i && mapping[k as usize] == l as i32 {
                    total += w;
                }
            }
        }
        total
    }

    /// Matches of `i ↦ m` alone and with the mapped nodes other than `i` and `skip`, plus the
    /// weight shared with `skip ↦ skip_to` (0 when `m` is -1).
    fn contribution(&self, mapping: &[i32], i: usize, m: i32, skip: usize, skip_to: i32) -> i32 {
        let Ok(m) = usize::try_from(m) else { return 0 };
        let mut total = self.unary[i * self.n2 + m];
        for &(k, l, w) in self.links(i, m) {
            let (k, l) = (k as usize, l as i32);
            if k == skip {
                if l == skip_to {
                    total += w;
                }
            } else if k != i && mapping[k] == l {
                total += w;
            }
        }
        total
    }

    #[cfg(test)]
    fn move_gain(&self, mapping: &[i32], i: usize, to: usize) -> i32 {
        self.contribution(mapping, i, to as i32, i, -1)
            - self.contribution(mapping, i, mapping[i], i, -1)
    }

    fn swap_gain(&self, mapping: &[i32], i: usize, k: usize) -> i32 {
        let (mi, mk) = (mapping[i], mapping[k]);
        // The shared weight of the pair (i, k) is counted once, through `i`.
        let old =
            self.contribution(mapping, i, mi, k, mk) + self.contribution(mapping, k, mk, i, -2);
        let new =
            self.contribution(mapping, i, mk, k, mi) + self.contribution(mapping, k, mi, i, -2);
        new - old
    }

    /// The reference's `smart_init_mapping`: the first unused candidate with the same concept
    /// (raw strings, not normalised), then a random unused candidate for the others.
    fn smart_init(&self, test: &Triples, gold: &Triples, rng: &mut StdRng) -> Vec<i32> {
        let mut used = vec![false; self.n2];
        let mut mapping = vec![-1; self.n1];
        let mut no_match = Vec::new();
        for (i, candidates) in self.candidates.iter().enumerate() {
            if candidates.is_empty() {
                continue;
            }
            match candidates
                .iter()
                .find(|&&j| test.instances[i] == gold.instances[j] && !used[j])
            {
                Some(&j) => {
                    used[j] = true;
                    mapping[i] = j as i32;
                }
                None => no_match.push(i),
            }
        }
        for i in no_match {
            mapping[i] = random_unused(&self.candidates[i], &mut used, rng);
        }
        mapping
    }

    /// The reference's `random_init_mapping`.
    fn random_init(&self, rng: &mut StdRng) -> Vec<i32> {
        let mut used = vec![false; self.n2];
        self.candidates
            .iter()
            .map(|c| random_unused(c, &mut used, rng))
            .collect()
    }

    /// The reference's hill climbing (`get_best_gain` until no gain).
    fn hill_climb(&self, mut mapping: Vec<i32>) -> (Vec<i32>, i32) {
        let mut matched = self.score(&mapping);
        let mut used = vec![false; self.n2];
        for &m in &mapping {
            if let Ok(m) = usize::try_from(m) {
                used[m] = true;
            }
        }
        loop {
            let mut best_gain = 0;
            let mut best_op = None;
            for i in 0..self.n1 {
                let current = self.contribution(&mapping, i, mapping[i], i, -1);
                let row = &self.candidate[i * self.n2..(i + 1) * self.n2];
                for (to, (&taken, &candidate)) in used.iter().zip(row).enumerate() {
                    if taken || !candidate {
                        continue;
                    }
                    let gain = self.contribution(&mapping, i, to as i32, i, -1) - current;
                    if gain > best_gain {
                        best_gain = gain;
                        best_op = Some((false, i, to));
                    }
                }
            }
            for i in 0..self.n1 {
                for k in i + 1..self.n1 {
                    // Without a candidate among the new pairs, nothing is gained.
                    let new_i =
                        usize::try_from(mapping[k]).is_ok_and(|m| self.candidate[i * self.n2 + m]);
                    let new_k =
                        usize::try_from(mapping[i]).is_ok_and(|m| self.candidate[k * self.n2 + m]);
                    if !new_i && !new_k {
                        continue;
                    }
                    let gain = self.swap_gain(&mapping, i, k);
                    if gain > best_gain {
                        best_gain = gain;
                        best_op = Some((true, i, k));
                    }
                }
            }
            match best_op {
                None => return (mapping, matched),
                Some((true, i, k)) => mapping.swap(i, k),
                Some((false, i, to)) => {
                    if let Ok(old) = usize::try_from(mapping[i]) {
                        used[old] = false;
                    }
                    used[to] = true;
                    mapping[i] = to as i32;
                }
            }
            matched += best_gain;
            debug_assert_eq!(matched, self.score(&mapping));
        }
    }
}

/// Draws unused candidates uniformly until one is free (the reference's loop); -1 if none is.
fn random_unused(candidates: &[usize], used: &mut [bool], rng: &mut StdRng) -> i32 {
    let mut left = candidates.to_vec();
    while !left.is_empty() {
        let j = left[rng.random_range(0..left.len())];
        if used[j] {
            left.retain(|&x| x != j);
        } else {
            used[j] = true;
            return j as i32;
        }
    }
    -1
}

/// The iteration order of a CPython `set` of small non-negative integers built by adding
/// `inserted` in order (open addressing, 9 linear probes, perturbed probing, growth at 3/5 full).
fn cpython_set_order(inserted: &[usize]) -> Vec<usize> {
    const LINEAR_PROBES: usize = 9;
    const PERTURB_SHIFT: u32 = 5;
    fn insert(table: &mut [Option<usize>], value: usize) {
        let mask = table.len() - 1;
        let mut perturb = value;
        let mut i = value & mask;
        loop {
            let probes = if i + LINEAR_PROBES <= mask {
                LINEAR_PROBES
            } else {
                0
            };
            if let Some(slot) = table[i..=i + probes].iter_mut().find(|s| s.is_none()) {
                *slot = Some(value);
                return;
            }
            perturb >>= PERTURB_SHIFT;
            i = (i * 5 + 1 + perturb) & mask;
        }
    }
    let mut table: Vec<Option<usize>> = vec![None; 8];
    for (n, &value) in inserted.iter().enumerate() {
        insert(&mut table, value);
        let used = n + 1;
        if used * 5 >= (table.len() - 1) * 3 {
            let mut size = 8;
            while size <= used * 4 {
                size <<= 1;
            }
            let old = std::mem::replace(&mut table, vec![None; size]);
            for value in old.into_iter().flatten() {
                insert(&mut table, value);
            }
        }
    }
    table.into_iter().flatten().collect()
}

/// Depth-first branch and bound over the test nodes, each mapped to a free candidate or to none.
///
/// The bound adds, for every unassigned node, its best free candidate's matches with the
/// assigned nodes plus, for each later node in the search order, the largest weight it could
/// share with it; every pair of unassigned nodes is thus counted once, optimistically.
struct BranchAndBound<'a> {
    pool: &'a Pool,
    order: Vec<usize>,
    /// Σ over later nodes `k` of `max_l weight((i, j), (k, l))`, at `i * n2 + j`.
    future: Vec<i32>,
    /// Matches of `i ↦ j` with the assigned nodes, at `i * n2 + j`.
    gain: Vec<i32>,
    assigned: Vec<bool>,
    mapping: Vec<i32>,
    used: Vec<bool>,
    best: i32,
    best_mapping: Vec<i32>,
    visited: usize,
    budget: usize,
    aborted: bool,
}

impl<'a> BranchAndBound<'a> {
    fn new(pool: &'a Pool, best: i32, best_mapping: Vec<i32>, budget: usize) -> Self {
        let (n1, n2) = (pool.n1, pool.n2);
        let potential = |i: usize| {
            pool.candidates[i]
                .iter()
                .map(|&j| {
                    pool.unary[i * n2 + j] + pool.links(i, j).iter().map(|e| e.2).sum::<i32>()
                })
                .max()
                .unwrap_or(0)
        };
        let mut order: Vec<usize> = (0..n1).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(potential(i)));
        let mut position = vec![0; n1];
        for (p, &i) in order.iter().enumerate() {
            position[i] = p;
        }
        let mut future = vec![0; n1 * n2];
        let mut best_with: FxHashMap<usize, i32> = FxHashMap::default();
        for i in 0..n1 {
            for &j in &pool.candidates[i] {
                best_with.clear();
                for &(k, _, w) in pool.links(i, j) {
                    let k = k as usize;
                    if position[k] > position[i] {
                        let e = best_with.entry(k).or_insert(0);
                        *e = (*e).max(w);
                    }
                }
                future[i * n2 + j] = best_with.values().sum();
            }
        }
        Self {
            pool,
            order,
            future,
            gain: pool.unary.clone(),
            assigned: vec![false; n1],
            mapping: vec![-1; n1],
            used: vec![false; n2],
            best,
            best_mapping,
            visited: 0,
            budget,
            aborted: false,
        }
    }

    fn run(&mut self) {
        self.search(0, 0);
    }

    fn search(&mut self, depth: usize, current: i32) {
        if self.visited >= self.budget {
            self.aborted = true;
            return;
        }
        self.visited += 1;
        let n2 = self.pool.n2;
        if depth == self.order.len() {
            if current > self.best {
                self.best = current;
                self.best_mapping = self.mapping.clone();
            }
            return;
        }
        let mut bound = current;
        for &i in &self.order[depth..] {
            let mut top = 0;
            for &j in &self.pool.candidates[i] {
                if !self.used[j] {
                    top = top.max(self.gain[i * n2 + j] + self.future[i * n2 + j]);
                }
            }
            bound += top;
        }
        if bound <= self.best {
            return;
        }
        let i = self.order[depth];
        let mut options: Vec<(i32, usize)> = self.pool.candidates[i]
            .iter()
            .filter(|&&j| !self.used[j])
            .map(|&j| (self.gain[i * n2 + j] + self.future[i * n2 + j], j))
            .collect();
        options.sort_by_key(|&(score, j)| (std::cmp::Reverse(score), j));
        self.assigned[i] = true;
        for (_, j) in options {
            self.set(i, j, 1);
            self.search(depth + 1, current + self.gain[i * n2 + j]);
            self.set(i, j, -1);
            if self.aborted {
                self.assigned[i] = false;
                return;
            }
        }
        self.search(depth + 1, current);
        self.assigned[i] = false;
    }

    /// Maps `i ↦ j` (`sign` 1) or undoes it (`sign` -1), updating the unassigned nodes' gains.
    fn set(&mut self, i: usize, j: usize, sign: i32) {
        self.used[j] = sign > 0;
        self.mapping[i] = if sign > 0 { j as i32 } else { -1 };
        for &(k, l, w) in self.pool.links(i, j) {
            let (k, l) = (k as usize, l as usize);
            if !self.assigned[k] {
                self.gain[k * self.pool.n2 + l] += sign * w;
            }
        }
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

    #[test]
    fn cpython_set_order_matches_the_interpreter() {
        // Orders printed by CPython 3.11 for `s = set(); [s.add(x) for x in inserted]; list(s)`.
        assert_eq!(cpython_set_order(&[3, 1, 2]), [1, 2, 3]);
        assert_eq!(cpython_set_order(&[9, 2]), [9, 2]);
        assert_eq!(cpython_set_order(&[2, 9]), [9, 2]);
        assert_eq!(cpython_set_order(&[8, 0]), [8, 0]);
        assert_eq!(cpython_set_order(&[0, 8]), [0, 8]);
        assert_eq!(
            cpython_set_order(&[17, 1, 9, 25, 33, 2]),
            [33, 1, 2, 9, 17, 25]
        );
        assert_eq!(
            cpython_set_order(&[40, 3, 12, 7, 19, 33, 50]),
            [33, 3, 7, 40, 12, 50, 19]
        );
        assert_eq!(
            cpython_set_order(&[5, 13, 21, 29, 37, 45, 53, 61, 69, 4]),
            [4, 37, 5, 69, 13, 45, 61, 21, 53, 29]
        );
    }

    #[test]
    fn gains_agree_with_rescoring() {
        let test = "(a / and :op1 (b / boy :ARG0-of (r / run-01 :manner (f / fast))) \
            :op2 (g / girl :ARG0-of (r2 / run-01 :ARG1 b)) :op3 (b2 / boy))";
        let gold = "(a / and :op1 (g / girl :ARG0-of (r / run-01 :manner (q / quick))) \
            :op2 (b / boy :ARG0-of (r2 / run-01 :ARG1 g)) :op3 (b3 / boy :polarity -))";
        let t = Triples::from_amr(&parse_amrs(test).unwrap()[0], Flavor::Smatch104);
        let g = Triples::from_amr(&parse_amrs(gold).unwrap()[0], Flavor::Smatch104);
        let pool = Pool::new(&t, &g);
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..50 {
            let mapping = pool.random_init(&mut rng);
            let base = pool.score(&mapping);
            for i in 0..pool.n1 {
                for to in 0..pool.n2 {
                    if mapping.contains(&(to as i32)) {
                        continue;
                    }
                    let mut moved = mapping.clone();
                    moved[i] = to as i32;
                    assert_eq!(base + pool.move_gain(&mapping, i, to), pool.score(&moved));
                }
                for k in i + 1..pool.n1 {
                    let mut swapped = mapping.clone();
                    swapped.swap(i, k);
                    assert_eq!(base + pool.swap_gain(&mapping, i, k), pool.score(&swapped));
                }
            }
        }
    }

    #[test]
    fn branch_and_bound_finds_the_exhaustive_optimum() {
        // Symmetric graphs where a bad initial mapping leaves hill climbing in a local optimum.
        let test =
            "(a / and :op1 (x / p :ARG0 (y / q) :ARG1 (z / q)) :op2 (u / p :ARG1 y :ARG0 z))";
        let gold =
            "(a / and :op1 (x / p :ARG0 (y / q) :ARG1 (z / q)) :op2 (u / p :ARG0 y :ARG1 z))";
        let t = Triples::from_amr(&parse_amrs(test).unwrap()[0], Flavor::Smatch104);
        let g = Triples::from_amr(&parse_amrs(gold).unwrap()[0], Flavor::Smatch104);
        let pool = Pool::new(&t, &g);
        // Exhaustive maximum over all injective partial mappings.
        fn exhaustive(pool: &Pool, i: usize, mapping: &mut Vec<i32>) -> i32 {
            if i == pool.n1 {
                return pool.score(mapping);
            }
            let mut best = exhaustive(pool, i + 1, mapping);
            for j in 0..pool.n2 as i32 {
                if !mapping[..i].contains(&j) {
                    mapping[i] = j;
                    best = best.max(exhaustive(pool, i + 1, mapping));
                    mapping[i] = -1;
                }
            }
            best
        }
        let optimum = exhaustive(&pool, 0, &mut vec![-1; pool.n1]);
        let mut search = BranchAndBound::new(&pool, 0, vec![-1; pool.n1], 1_000_000);
        search.run();
        assert!(!search.aborted);
        assert_eq!(search.best, optimum);
        assert_eq!(pool.score(&search.best_mapping), optimum);
        let mut tiny = BranchAndBound::new(&pool, 0, vec![-1; pool.n1], 3);
        tiny.run();
        assert!(tiny.aborted);
    }
}
