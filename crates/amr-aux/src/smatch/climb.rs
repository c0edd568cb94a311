//! The reference's initialisations and hill climbing.

use rand::Rng;
use rand::rngs::StdRng;

use super::pool::Pool;
use crate::triples::Triples;

impl Pool {
    /// The reference's `smart_init_mapping`: the first unused candidate with the same concept
    /// (raw strings, not normalised), then a random unused candidate for the others.
    pub(super) fn smart_init(&self, test: &Triples, gold: &Triples, rng: &mut StdRng) -> Vec<i32> {
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
    pub(super) fn random_init(&self, rng: &mut StdRng) -> Vec<i32> {
        let mut used = vec![false; self.n2];
        self.candidates
            .iter()
            .map(|c| random_unused(c, &mut used, rng))
            .collect()
    }

    /// The reference's hill climbing (`get_best_gain` until no gain).
    pub(super) fn hill_climb(&self, mut mapping: Vec<i32>) -> (Vec<i32>, i32) {
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

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use crate::penman::parse_amrs;
    use crate::smatch::pool::Pool;
    use crate::triples::{Flavor, Triples};

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
}
