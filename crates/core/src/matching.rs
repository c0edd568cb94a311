//! Optimal bipartite matching (linear sum assignment) with the Hungarian method.
//!
//! Kuhn, "The Hungarian method for the assignment problem", 1955; Munkres, "Algorithms for the
//! assignment and transportation problems", 1957. The solver is the shortest augmenting path
//! variant with dual potentials described by Crouse, "On implementing 2D rectangular assignment
//! algorithms", IEEE TAES 2016 (the algorithm behind SciPy's `linear_sum_assignment`): one
//! Dijkstra-like search per row, `O(n² m)` for `n ≤ m`, on rectangular `f64` cost matrices.
//!
//! Set-prediction models (IPGPF's event records) use it to pair predictions with gold items
//! before computing the loss. As in SciPy, an infinite cost in the direction of the objective
//! (`+∞` when minimising, `-∞` when maximising) forbids that pair; the opposite infinity and NaN
//! are rejected with a [`MatchingError`].

/// Whether the total cost is minimised or maximised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Objective {
    /// Find the assignment with the smallest total cost.
    #[default]
    Minimize,
    /// Find the assignment with the largest total cost (a score matrix).
    Maximize,
}

/// Cost matrices the solver cannot use.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MatchingError {
    /// A row has a different length than the first row.
    #[error("row {row} has {len} columns, but row 0 has {expected}")]
    Ragged {
        /// The offending row.
        row: usize,
        /// Its length.
        len: usize,
        /// The length of the first row.
        expected: usize,
    },
    /// A cost is NaN.
    #[error("cost at ({row}, {col}) is NaN")]
    NaN {
        /// Row of the entry.
        row: usize,
        /// Column of the entry.
        col: usize,
    },
    /// A cost is infinitely good (`-∞` when minimising, `+∞` when maximising), so no optimum
    /// exists.
    #[error("cost at ({row}, {col}) is an infinitely good {value}")]
    UnboundedCost {
        /// Row of the entry.
        row: usize,
        /// Column of the entry.
        col: usize,
        /// The infinite value.
        value: f64,
    },
    /// Every assignment of `min(rows, cols)` pairs uses a forbidden (infinitely bad) entry.
    #[error("no complete assignment avoids the forbidden (infinite) entries")]
    Infeasible,
}

/// An optimal assignment: every row of the smaller side is matched to a distinct column (or the
/// other way round when there are more rows than columns).
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// For each row, the column it is matched to; `None` only when there are more rows than
    /// columns.
    pub row_to_col: Vec<Option<usize>>,
    /// Sum of the original costs of the matched pairs.
    pub cost: f64,
}

impl Assignment {
    /// The matched `(row, col)` pairs in row order.
    pub fn pairs(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.row_to_col
            .iter()
            .enumerate()
            .filter_map(|(row, col)| col.map(|col| (row, col)))
    }
}

/// Solves the linear sum assignment problem for a (possibly rectangular) cost matrix given as
/// rows, matching `min(rows, cols)` pairs.
///
/// Ties are broken deterministically. An empty matrix gives an empty assignment of cost 0.
///
/// ```
/// use burnlp_core::matching::{hungarian, Objective};
/// let costs = [[4.0, 1.0, 4.0], [2.0, 0.0, 5.0]];
/// let best = hungarian(&costs, Objective::Minimize).unwrap();
/// assert_eq!(best.row_to_col, vec![Some(1), Some(0)]);
/// assert_eq!(best.cost, 3.0);
/// ```
pub fn hungarian<R: AsRef<[f64]>>(
    costs: &[R],
    objective: Objective,
) -> Result<Assignment, MatchingError> {
    let rows = costs.len();
    let cols = costs.first().map_or(0, |r| r.as_ref().len());
    let sign = match objective {
        Objective::Minimize => 1.0,
        Objective::Maximize => -1.0,
    };
    // Row-major costs to minimise, transposed so that there are no more rows than columns.
    let transposed = rows > cols;
    let (n, m) = if transposed {
        (cols, rows)
    } else {
        (rows, cols)
    };
    let mut work = vec![0.0; n * m];
    for (row, values) in costs.iter().enumerate() {
        let values = values.as_ref();
        if values.len() != cols {
            return Err(MatchingError::Ragged {
                row,
                len: values.len(),
                expected: cols,
            });
        }
        for (col, &value) in values.iter().enumerate() {
            if value.is_nan() {
                return Err(MatchingError::NaN { row, col });
            }
            let cost = sign * value;
            if cost == f64::NEG_INFINITY {
                return Err(MatchingError::UnboundedCost { row, col, value });
            }
            let (i, j) = if transposed { (col, row) } else { (row, col) };
            work[i * m + j] = cost;
        }
    }

    let col_for_row = solve(&work, n, m).ok_or(MatchingError::Infeasible)?;
    let mut row_to_col = vec![None; rows];
    for (i, &j) in col_for_row.iter().enumerate() {
        let (row, col) = if transposed { (j, i) } else { (i, j) };
        row_to_col[row] = Some(col);
    }
    let cost = row_to_col
        .iter()
        .enumerate()
        .filter_map(|(row, col)| col.map(|col| costs[row].as_ref()[col]))
        .sum();
    Ok(Assignment { row_to_col, cost })
}

/// Minimum-cost assignment of each of the `n ≤ m` rows of a row-major `n × m` matrix to a
/// distinct column; `None` when forbidden (`+∞`) entries make it infeasible.
fn solve(cost: &[f64], n: usize, m: usize) -> Option<Vec<usize>> {
    // Dual potentials, so that `cost[i][j] - u[i] - v[j] >= 0` holds on every edge.
    let mut u = vec![0.0; n];
    let mut v = vec![0.0; m];
    let mut col_for_row: Vec<Option<usize>> = vec![None; n];
    let mut row_for_col: Vec<Option<usize>> = vec![None; m];
    let mut search = PathSearch {
        shortest: vec![0.0; m],
        path: vec![0; m],
        row_seen: vec![false; n],
        col_seen: vec![false; m],
        remaining: Vec::with_capacity(m),
    };
    for current in 0..n {
        let (sink, min_value) = search.augmenting_path(cost, m, &u, &v, &row_for_col, current)?;
        // Update the potentials along the explored tree.
        u[current] += min_value;
        for i in 0..n {
            if search.row_seen[i] && i != current {
                let j = col_for_row[i].expect("a reached row other than the current is matched");
                u[i] += min_value - search.shortest[j];
            }
        }
        for ((v, &seen), &distance) in v.iter_mut().zip(&search.col_seen).zip(&search.shortest) {
            if seen {
                *v -= min_value - distance;
            }
        }
        // Flip the augmenting path back from the sink to the current row.
        let mut j = sink;
        loop {
            let i = search.path[j];
            row_for_col[j] = Some(i);
            let previous = col_for_row[i].replace(j);
            if i == current {
                break;
            }
            j = previous.expect("rows on the path before the current one are matched");
        }
    }
    col_for_row.into_iter().collect()
}

/// Scratch space of the shortest augmenting path search, reused across rows.
struct PathSearch {
    /// Reduced distance from the current row to each column.
    shortest: Vec<f64>,
    /// The row each column was reached from.
    path: Vec<usize>,
    /// Rows in the search tree.
    row_seen: Vec<bool>,
    /// Columns in the search tree.
    col_seen: Vec<bool>,
    /// Columns not yet in the tree.
    remaining: Vec<usize>,
}

impl PathSearch {
    /// Dijkstra on reduced costs from row `start` to the nearest free column. Returns the sink
    /// column and its distance, or `None` when every free column is unreachable.
    fn augmenting_path(
        &mut self,
        cost: &[f64],
        m: usize,
        u: &[f64],
        v: &[f64],
        row_for_col: &[Option<usize>],
        start: usize,
    ) -> Option<(usize, f64)> {
        self.shortest.fill(f64::INFINITY);
        self.row_seen.fill(false);
        self.col_seen.fill(false);
        self.remaining.clear();
        self.remaining.extend((0..m).rev());
        let mut min_value = 0.0;
        let mut i = start;
        loop {
            self.row_seen[i] = true;
            let mut best: Option<usize> = None;
            let mut lowest = f64::INFINITY;
            for (k, &j) in self.remaining.iter().enumerate() {
                let reduced = min_value + cost[i * m + j] - u[i] - v[j];
                if reduced < self.shortest[j] {
                    self.path[j] = i;
                    self.shortest[j] = reduced;
                }
                // Prefer free columns among equally short ones: the search ends sooner.
                if self.shortest[j] < lowest
                    || (self.shortest[j] == lowest && row_for_col[j].is_none())
                {
                    lowest = self.shortest[j];
                    best = Some(k);
                }
            }
            min_value = lowest;
            if min_value == f64::INFINITY {
                return None;
            }
            let k = best.expect("a finite distance was found");
            let j = self.remaining.swap_remove(k);
            self.col_seen[j] = true;
            match row_for_col[j] {
                None => return Some((j, min_value)),
                Some(row) => i = row,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_minimum() {
        let costs = [[4.0, 1.0, 3.0], [2.0, 0.0, 5.0], [3.0, 2.0, 2.0]];
        let best = hungarian(&costs, Objective::Minimize).unwrap();
        assert_eq!(best.row_to_col, vec![Some(1), Some(0), Some(2)]);
        assert_eq!(best.cost, 5.0);
        assert_eq!(
            best.pairs().collect::<Vec<_>>(),
            vec![(0, 1), (1, 0), (2, 2)]
        );
    }

    #[test]
    fn maximise_and_tall_matrix() {
        let scores = vec![vec![1.0, 9.0], vec![8.0, 2.0], vec![7.0, 10.0]];
        let best = hungarian(&scores, Objective::Maximize).unwrap();
        assert_eq!(best.row_to_col, vec![None, Some(0), Some(1)]);
        assert_eq!(best.cost, 18.0);
    }

    #[test]
    fn empty_matrices() {
        let none: [[f64; 0]; 0] = [];
        assert_eq!(hungarian(&none, Objective::Minimize).unwrap().cost, 0.0);
        let no_cols = vec![Vec::<f64>::new(); 2];
        let best = hungarian(&no_cols, Objective::Minimize).unwrap();
        assert_eq!(best.row_to_col, vec![None, None]);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let ragged = vec![vec![1.0, 2.0], vec![3.0]];
        assert_eq!(
            hungarian(&ragged, Objective::Minimize),
            Err(MatchingError::Ragged {
                row: 1,
                len: 1,
                expected: 2
            })
        );
        let nan = [[1.0, f64::NAN]];
        assert_eq!(
            hungarian(&nan, Objective::Minimize),
            Err(MatchingError::NaN { row: 0, col: 1 })
        );
        let unbounded = [[1.0], [f64::INFINITY]];
        assert!(matches!(
            hungarian(&unbounded, Objective::Maximize),
            Err(MatchingError::UnboundedCost { row: 1, col: 0, .. })
        ));
        let forbidden = [[f64::INFINITY, 1.0], [f64::INFINITY, 2.0]];
        assert_eq!(
            hungarian(&forbidden, Objective::Minimize),
            Err(MatchingError::Infeasible)
        );
    }
}
