//! A branch and bound over variable mappings that proves (or finds) the best one within a
//! budget of search nodes.

use super::pool::Pool;
use crate::hash::FxHashMap;

/// Depth-first branch and bound over the test nodes, each mapped to a free candidate or to none.
///
/// The bound adds, for every unassigned node, its best free candidate's matches with the
/// assigned nodes plus, for each later node in the search order, the largest weight it could
/// share with it; every pair of unassigned nodes is thus counted once, optimistically.
pub(super) struct BranchAndBound<'a> {
    pool: &'a Pool,
    order: Vec<usize>,
    /// Σ over later nodes `k` of `max_l weight((i, j), (k, l))`, at `i * n2 + j`.
    future: Vec<i32>,
    /// Matches of `i ↦ j` with the assigned nodes, at `i * n2 + j`.
    gain: Vec<i32>,
    assigned: Vec<bool>,
    mapping: Vec<i32>,
    used: Vec<bool>,
    pub(super) best: i32,
    pub(super) best_mapping: Vec<i32>,
    visited: usize,
    budget: usize,
    pub(super) aborted: bool,
}

impl<'a> BranchAndBound<'a> {
    pub(super) fn new(pool: &'a Pool, best: i32, best_mapping: Vec<i32>, budget: usize) -> Self {
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

    pub(super) fn run(&mut self) {
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
    use crate::triples::{Flavor, Triples};

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
