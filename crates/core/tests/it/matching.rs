//! Hungarian matching against brute force over every assignment of small random matrices:
//! square and rectangular, with ties, forbidden (infinite) entries, and both objectives.

use burnlp_core::matching::{Assignment, MatchingError, Objective, hungarian};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The best total over all injective maps from the smaller side to the larger one, or `None`
/// when every complete assignment uses a forbidden entry.
fn brute_force(costs: &[Vec<f64>], objective: Objective) -> Option<f64> {
    let rows = costs.len();
    let cols = costs.first().map_or(0, Vec::len);
    let entry = |a: usize, b: usize| {
        if rows <= cols {
            costs[a][b]
        } else {
            costs[b][a]
        }
    };
    let (small, large) = (rows.min(cols), rows.max(cols));
    let mut best: Option<f64> = None;
    let mut used = vec![false; large];
    fn recurse(
        a: usize,
        small: usize,
        total: f64,
        used: &mut [bool],
        entry: &dyn Fn(usize, usize) -> f64,
        objective: Objective,
        best: &mut Option<f64>,
    ) {
        if a == small {
            if total.is_finite() {
                let better = match (*best, objective) {
                    (None, _) => true,
                    (Some(b), Objective::Minimize) => total < b,
                    (Some(b), Objective::Maximize) => total > b,
                };
                if better {
                    *best = Some(total);
                }
            }
            return;
        }
        for b in 0..used.len() {
            if !used[b] {
                used[b] = true;
                recurse(
                    a + 1,
                    small,
                    total + entry(a, b),
                    used,
                    entry,
                    objective,
                    best,
                );
                used[b] = false;
            }
        }
    }
    recurse(0, small, 0.0, &mut used, &entry, objective, &mut best);
    best
}

/// Checks that an assignment is a valid complete matching whose reported cost is its real cost.
fn check_valid(costs: &[Vec<f64>], assignment: &Assignment) {
    let rows = costs.len();
    let cols = costs.first().map_or(0, Vec::len);
    assert_eq!(assignment.row_to_col.len(), rows);
    let pairs: Vec<(usize, usize)> = assignment.pairs().collect();
    assert_eq!(pairs.len(), rows.min(cols), "not a complete matching");
    let mut used = vec![false; cols];
    for &(_, col) in &pairs {
        assert!(!used[col], "column {col} used twice");
        used[col] = true;
    }
    let real: f64 = pairs.iter().map(|&(r, c)| costs[r][c]).sum();
    assert_eq!(real, assignment.cost);
}

fn random_matrix(
    rng: &mut StdRng,
    rows: usize,
    cols: usize,
    integer_costs: bool,
    forbidden: Option<f64>,
) -> Vec<Vec<f64>> {
    (0..rows)
        .map(|_| {
            (0..cols)
                .map(|_| match forbidden {
                    Some(inf) if rng.random_bool(0.3) => inf,
                    _ if integer_costs => rng.random_range(0..4) as f64,
                    _ => rng.random_range(-10.0..10.0),
                })
                .collect()
        })
        .collect()
}

#[test]
fn optimal_on_random_matrices() {
    let mut rng = StdRng::seed_from_u64(17);
    let mut cases = 0;
    for rows in 1..=5 {
        for cols in 1..=6 {
            for integer_costs in [false, true] {
                for objective in [Objective::Minimize, Objective::Maximize] {
                    for _ in 0..6 {
                        let costs = random_matrix(&mut rng, rows, cols, integer_costs, None);
                        let got = hungarian(&costs, objective).unwrap();
                        check_valid(&costs, &got);
                        let expected = brute_force(&costs, objective).unwrap();
                        assert!(
                            (got.cost - expected).abs() < 1e-9,
                            "{rows}x{cols} {objective:?}: got {} expected {expected} for {costs:?}",
                            got.cost
                        );
                        cases += 1;
                    }
                }
            }
        }
    }
    assert_eq!(cases, 5 * 6 * 2 * 2 * 6);
}

#[test]
fn all_equal_costs_still_give_a_complete_matching() {
    let costs = vec![vec![2.5; 4]; 3];
    let got = hungarian(&costs, Objective::Minimize).unwrap();
    check_valid(&costs, &got);
    assert_eq!(got.cost, 7.5);
}

#[test]
fn forbidden_entries_are_avoided_or_reported_infeasible() {
    let mut rng = StdRng::seed_from_u64(5);
    let (mut feasible, mut infeasible) = (0, 0);
    for rows in 1..=5 {
        for cols in 1..=5 {
            for (objective, forbidden) in [
                (Objective::Minimize, f64::INFINITY),
                (Objective::Maximize, f64::NEG_INFINITY),
            ] {
                for _ in 0..8 {
                    let costs = random_matrix(&mut rng, rows, cols, true, Some(forbidden));
                    match (hungarian(&costs, objective), brute_force(&costs, objective)) {
                        (Ok(got), Some(expected)) => {
                            check_valid(&costs, &got);
                            assert!(got.cost.is_finite());
                            assert_eq!(got.cost, expected, "{costs:?}");
                            feasible += 1;
                        }
                        (Err(MatchingError::Infeasible), None) => infeasible += 1,
                        (got, expected) => {
                            panic!("{costs:?}: solver {got:?}, brute force {expected:?}")
                        }
                    }
                }
            }
        }
    }
    // Both outcomes must actually be exercised.
    assert!(
        feasible > 50 && infeasible > 10,
        "{feasible} / {infeasible}"
    );
}

#[test]
fn nan_and_unbounded_entries_are_rejected() {
    let costs = vec![vec![1.0, 2.0], vec![f64::NAN, 0.0]];
    for objective in [Objective::Minimize, Objective::Maximize] {
        assert_eq!(
            hungarian(&costs, objective),
            Err(MatchingError::NaN { row: 1, col: 0 })
        );
    }
    let costs = vec![vec![1.0, f64::NEG_INFINITY]];
    assert_eq!(
        hungarian(&costs, Objective::Minimize),
        Err(MatchingError::UnboundedCost {
            row: 0,
            col: 1,
            value: f64::NEG_INFINITY
        })
    );
    // The same entry is merely forbidden when maximising.
    let got = hungarian(&costs, Objective::Maximize).unwrap();
    assert_eq!(got.row_to_col, vec![Some(0)]);
}
