//! Maximum spanning tree decoding (Chu & Liu 1965; Edmonds 1967) of arc scores into a
//! well-formed dependency tree, optionally with a single child of the root (as UD requires).
//!
//! The scores are `scores[d][h]`: the score of head `h` for dependent `d`, over the nodes
//! `0..=n` (0 is the artificial root; row 0 is ignored). A tree maximises the sum of its arcs'
//! scores; with log-probabilities this is the most probable tree under the arc-factored model.
//! Non-projective trees are allowed (English UD has some).

/// Heads of the highest-scoring tree: `heads[d]` for every node, `heads[0] == 0` (unused).
///
/// With `single_root`, exactly one word is attached to the root: the unconstrained tree is kept
/// when it already has one root child, otherwise every word is tried as the only root child
/// (Dozat, Qi & Manning 2017's constraint, as Stanza decodes) and the best tree wins.
///
/// Scores must be finite (use a large negative number to forbid an arc). Panics if the matrix is
/// not square.
pub fn mst_heads(scores: &[Vec<f64>], single_root: bool) -> Vec<usize> {
    let n = scores.len();
    assert!(
        scores.iter().all(|row| row.len() == n),
        "square score matrix"
    );
    if n <= 1 {
        return vec![0; n];
    }
    let heads = chu_liu_edmonds(scores);
    if !single_root || heads[1..].iter().filter(|&&h| h == 0).count() == 1 {
        return heads;
    }
    let mut best: Option<(f64, Vec<usize>)> = None;
    for root_child in 1..n {
        let mut constrained = scores.to_vec();
        for (d, row) in constrained.iter_mut().enumerate().skip(1) {
            if d != root_child {
                row[0] = f64::NEG_INFINITY;
            }
        }
        let heads = chu_liu_edmonds(&constrained);
        let score = tree_score(scores, &heads);
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, heads));
        }
    }
    best.map(|(_, heads)| heads).expect("at least one word")
}

/// Sum of the scores of a tree's arcs.
pub fn tree_score(scores: &[Vec<f64>], heads: &[usize]) -> f64 {
    heads
        .iter()
        .enumerate()
        .skip(1)
        .map(|(d, &h)| scores[d][h])
        .sum()
}

/// The maximum spanning arborescence rooted at node 0 (recursive contraction).
fn chu_liu_edmonds(scores: &[Vec<f64>]) -> Vec<usize> {
    let n = scores.len();
    // Greedy best head of every node (never itself).
    let mut heads = vec![0usize; n];
    for (d, row) in scores.iter().enumerate().skip(1) {
        let mut best = None;
        for (h, &s) in row.iter().enumerate() {
            if h != d && best.is_none_or(|(_, b)| s > b) {
                best = Some((h, s));
            }
        }
        heads[d] = best.map_or(0, |(h, _)| h);
    }
    let Some(cycle) = find_cycle(&heads) else {
        return heads;
    };
    let in_cycle: Vec<bool> = (0..n).map(|v| cycle.contains(&v)).collect();
    // Contracted graph: the nodes outside the cycle (0 first), then the cycle as one node `c`.
    let outside: Vec<usize> = (0..n).filter(|&v| !in_cycle[v]).collect();
    let c = outside.len();
    let m = c + 1;
    let mut sub = vec![vec![f64::NEG_INFINITY; m]; m];
    // For an arc into the cycle from h: which cycle node it enters. For an arc out of the cycle
    // into d: which cycle node it leaves.
    let mut enters = vec![0usize; m];
    let mut leaves = vec![0usize; m];
    let cycle_score: f64 = cycle.iter().map(|&v| scores[v][heads[v]]).sum();
    for (i, &d) in outside.iter().enumerate() {
        for (j, &h) in outside.iter().enumerate() {
            sub[i][j] = scores[d][h];
        }
        // d's head inside the cycle: the best cycle node.
        let (h, s) =
            cycle
                .iter()
                .map(|&h| (h, scores[d][h]))
                .fold(
                    (cycle[0], f64::NEG_INFINITY),
                    |a, b| if b.1 > a.1 { b } else { a },
                );
        sub[i][c] = s;
        leaves[i] = h;
    }
    for (j, &h) in outside.iter().enumerate() {
        // The cycle's head h: break the cycle where entering from h costs least.
        let (d, s) = cycle
            .iter()
            .map(|&d| (d, scores[d][h] - scores[d][heads[d]] + cycle_score))
            .fold(
                (cycle[0], f64::NEG_INFINITY),
                |a, b| if b.1 > a.1 { b } else { a },
            );
        sub[c][j] = s;
        enters[j] = d;
    }
    let sub_heads = chu_liu_edmonds(&sub);
    let mut result = heads.clone();
    for (i, &d) in outside.iter().enumerate().skip(1) {
        let h = sub_heads[i];
        result[d] = if h == c { leaves[i] } else { outside[h] };
    }
    let h = sub_heads[c];
    result[enters[h]] = outside[h];
    result
}

/// A cycle of the head graph (nodes 1..n), if any.
fn find_cycle(heads: &[usize]) -> Option<Vec<usize>> {
    let n = heads.len();
    // 0 = unvisited, 1 = on the current walk, 2 = done.
    let mut state = vec![0u8; n];
    state[0] = 2;
    for start in 1..n {
        let mut walk = Vec::new();
        let mut v = start;
        while state[v] == 0 {
            state[v] = 1;
            walk.push(v);
            v = heads[v];
        }
        if state[v] == 1 {
            let from = walk.iter().position(|&w| w == v).expect("on the walk");
            return Some(walk[from..].to_vec());
        }
        for w in walk {
            state[w] = 2;
        }
    }
    None
}

/// Whether `heads` (with `heads[0]` unused) is a tree over `0..n` rooted at 0.
pub fn is_tree(heads: &[usize]) -> bool {
    heads.iter().skip(1).all(|&h| h < heads.len())
        && heads.iter().enumerate().skip(1).all(|(d, &h)| d != h)
        && find_cycle(heads).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Every tree over `n` nodes by brute force, the best by score.
    fn brute_force(scores: &[Vec<f64>], single_root: bool) -> (f64, Vec<usize>) {
        let n = scores.len();
        let mut best: Option<(f64, Vec<usize>)> = None;
        let mut heads = vec![0usize; n];
        let total = n.pow((n - 1) as u32);
        for code in 0..total {
            let mut c = code;
            for h in heads.iter_mut().skip(1) {
                *h = c % n;
                c /= n;
            }
            if !is_tree(&heads) {
                continue;
            }
            if single_root && heads[1..].iter().filter(|&&h| h == 0).count() != 1 {
                continue;
            }
            let s = tree_score(scores, &heads);
            if best.as_ref().is_none_or(|(b, _)| s > *b) {
                best = Some((s, heads.clone()));
            }
        }
        best.expect("a tree exists")
    }

    fn random_scores(rng: &mut rand::rngs::StdRng, n: usize) -> Vec<Vec<f64>> {
        (0..n)
            .map(|_| (0..n).map(|_| rng.random_range(-5.0..5.0)).collect())
            .collect()
    }

    #[test]
    fn returns_the_optimal_tree_on_random_matrices() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for trial in 0..200 {
            let n = 1 + trial % 5; // up to 5 words + root
            let scores = random_scores(&mut rng, n + 1);
            for single_root in [false, true] {
                let heads = mst_heads(&scores, single_root);
                assert!(is_tree(&heads), "not a tree: {heads:?}");
                let (best, _) = brute_force(&scores, single_root);
                let got = tree_score(&scores, &heads);
                assert!(
                    (got - best).abs() < 1e-9,
                    "trial {trial} single_root {single_root}: {got} < {best} ({heads:?})"
                );
                if single_root {
                    assert_eq!(heads[1..].iter().filter(|&&h| h == 0).count(), 1);
                }
            }
        }
    }

    #[test]
    fn finds_a_known_tree_that_the_greedy_heads_miss() {
        // Greedy heads form the cycle 1 <-> 2; the best tree is 0 -> 2 -> 1, 2 -> 3.
        let ninf = -100.0;
        let scores = vec![
            vec![0.0; 4],
            vec![1.0, ninf, 10.0, 0.0],
            vec![5.0, 9.0, ninf, 0.0],
            vec![0.0, 1.0, 3.0, ninf],
        ];
        assert_eq!(mst_heads(&scores, true), vec![0, 2, 0, 2]);
    }

    #[test]
    fn single_root_constraint_changes_the_tree() {
        // Both words prefer the root; with one root child, 2 attaches to 1.
        let scores = vec![vec![0.0; 3], vec![5.0, -10.0, 1.0], vec![4.0, 2.0, -10.0]];
        assert_eq!(mst_heads(&scores, false), vec![0, 0, 0]);
        assert_eq!(mst_heads(&scores, true), vec![0, 0, 1]);
    }

    #[test]
    fn cycles_are_detected() {
        assert!(is_tree(&[0, 0, 1, 1]));
        assert!(!is_tree(&[0, 2, 1, 0]));
        assert!(!is_tree(&[0, 1]));
        assert_eq!(mst_heads(&[vec![0.0]], true), vec![0]);
    }
}
