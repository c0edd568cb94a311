//! TER alignment with block shifts, as tercom 0.7.25 computes it (Snover et al., "A Study of
//! Translation Edit Rate with Targeted Human Annotation", AMTA 2006; `TERcalc.java`).
//!
//! InfECE (Wang et al., ACL 2020) labels every hypothesis token with tercom's alignment, so the
//! labels depend on tercom's exact choices: its beam edit distance (beam width 20, ties broken
//! match/substitution, then insertion, then deletion, column by column), its candidate shifts
//! (blocks of at most 10 tokens that occur in the reference, moved at most 50 positions, in
//! tercom's order) and its greedy selection of the best shift until none helps. The options
//! are tercom's defaults with `-s` (case sensitive), as InfECE's `run.sh` calls it.
//!
//! Edit names are tercom's, from the hypothesis's side: `I` is a hypothesis token with no
//! reference token, `D` a reference token with no hypothesis token.
//!
//! ```
//! use mls_nmt::ter::{EditOp, ter};
//! let a = ter(&["b", "c", "a", "d"], &["a", "b", "c", "d"]);
//! assert_eq!(a.edits, 1);
//! assert_eq!(a.shifted(&["b", "c", "a", "d"]), vec!["a", "b", "c", "d"]);
//! assert!(a.alignment.iter().all(|&op| op == EditOp::Match));
//! ```

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

/// tercom's beam width (`-b`, default 20).
pub const BEAM_WIDTH: i64 = 20;
/// Longest shifted block (tercom's `MAX_SHIFT_SIZE`).
pub const MAX_SHIFT_SIZE: usize = 10;
/// Farthest shift (tercom's `-d`, default 50).
pub const MAX_SHIFT_DIST: i64 = 50;
const INF: i64 = 999_999;

/// One edit of an alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditOp {
    /// Equal tokens (tercom's `' '`, `C` in its XML).
    Match,
    /// Different tokens (`S`).
    Substitution,
    /// A hypothesis token with no reference token (`I`).
    Insertion,
    /// A reference token with no hypothesis token (`D`).
    Deletion,
}

impl EditOp {
    /// tercom's character for the edit in its `.pra` files.
    pub fn code(self) -> char {
        match self {
            EditOp::Match => ' ',
            EditOp::Substitution => 'S',
            EditOp::Insertion => 'I',
            EditOp::Deletion => 'D',
        }
    }

    fn uses_hyp(self) -> bool {
        self != EditOp::Deletion
    }

    fn uses_ref(self) -> bool {
        self != EditOp::Insertion
    }
}

/// A block shift: hypothesis tokens `start..=end` (positions in the hypothesis as it was
/// before this shift) moved after position `newloc` (`-1`: to the front), as tercom records
/// it (`[start, end, moveto/newloc]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shift {
    /// First moved position.
    pub start: usize,
    /// Last moved position.
    pub end: usize,
    /// The reference position the block is aligned to (`-1` for the front).
    pub moveto: i64,
    /// The position the block is moved after.
    pub newloc: i64,
}

/// The result of [`ter`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerAlignment {
    /// For every position of the shifted hypothesis, the position in the original hypothesis.
    pub order: Vec<usize>,
    /// The edits aligning the shifted hypothesis with the reference, in order.
    pub alignment: Vec<EditOp>,
    /// The shifts, in the order they were applied.
    pub shifts: Vec<Shift>,
    /// Number of edits: the edit distance after the shifts plus one per shift.
    pub edits: usize,
}

impl TerAlignment {
    /// The shifted hypothesis.
    pub fn shifted<T: Clone>(&self, hypothesis: &[T]) -> Vec<T> {
        self.order.iter().map(|&i| hypothesis[i].clone()).collect()
    }

    /// The alignment as tercom prints it in `.pra` files (one character per edit).
    pub fn alignment_string(&self) -> String {
        self.alignment.iter().map(|op| op.code()).collect()
    }
}

/// tercom's alignment of `hypothesis` with `reference` (TER = `edits / |reference|`).
pub fn ter<T: Eq + Hash>(hypothesis: &[T], reference: &[T]) -> TerAlignment {
    let identity: Vec<usize> = (0..hypothesis.len()).collect();
    if hypothesis.is_empty() || reference.is_empty() {
        // tercom's `TERnullstr`: every token is an edit.
        let alignment = if hypothesis.is_empty() {
            vec![EditOp::Deletion; reference.len()]
        } else {
            vec![EditOp::Insertion; hypothesis.len()]
        };
        return TerAlignment {
            order: identity,
            edits: alignment.len(),
            alignment,
            shifts: Vec::new(),
        };
    }
    // Work on token ids: equal ids for equal tokens.
    let mut ids: HashMap<&T, u32> = HashMap::new();
    let mut intern = |t| {
        let next = ids.len() as u32;
        *ids.entry(t).or_insert(next)
    };
    let hyp: Vec<u32> = hypothesis.iter().map(&mut intern).collect();
    let reference: Vec<u32> = reference.iter().map(&mut intern).collect();
    let phrases = reference_phrases(&hyp, &reference);
    let mut order = identity;
    let (mut cost, mut path) = min_edit_dist(&order, &hyp, &reference);
    let mut shifts = Vec::new();
    while let Some(best) = best_shift(&order, &hyp, &reference, &phrases, cost, &path) {
        shifts.push(best.shift);
        order = best.order;
        cost = best.cost;
        path = best.path;
    }
    TerAlignment {
        order,
        alignment: path,
        edits: cost as usize + shifts.len(),
        shifts,
    }
}

/// Edit distance between the hypothesis (in the given order) and the reference with tercom's
/// beam search and tie-breaking; returns the cost and the edits from the start.
fn min_edit_dist(order: &[usize], hyp: &[u32], reference: &[u32]) -> (i64, Vec<EditOp>) {
    let (n_ref, n_hyp) = (reference.len(), order.len());
    let width = n_hyp + 1;
    // Rows are reference positions, columns hypothesis positions; -1 = not reached.
    let mut score = vec![-1i64; (n_ref + 1) * width];
    let mut op = vec![None::<EditOp>; (n_ref + 1) * width];
    let at = |i: usize, j: usize| i * width + j;
    score[0] = 0;
    let mut current_best = INF;
    let mut current_first_good: i64 = 0;
    let mut cur_last_good: i64 = 0;
    for j in 0..=n_hyp {
        let last_best = current_best;
        current_best = INF;
        let first_good = current_first_good;
        current_first_good = -1;
        let mut last_good = cur_last_good;
        cur_last_good = -1;
        debug_assert!(first_good >= 0, "tercom's beam lost every cell");
        let mut i = first_good.max(0) as usize;
        while i <= n_ref {
            if i as i64 > last_good {
                break;
            }
            let here = score[at(i, j)];
            if here < 0 || (j < n_hyp && here > last_best + BEAM_WIDTH) {
                i += 1;
                continue;
            }
            if current_first_good == -1 {
                current_first_good = i as i64;
            }
            if i < n_ref && j < n_hyp {
                let next = at(i + 1, j + 1);
                if reference[i] == hyp[order[j]] {
                    if score[next] == -1 || here < score[next] {
                        score[next] = here;
                        op[next] = Some(EditOp::Match);
                    }
                    current_best = current_best.min(here);
                } else {
                    let cost = here + 1;
                    if score[next] < 0 || cost < score[next] {
                        score[next] = cost;
                        op[next] = Some(EditOp::Substitution);
                        current_best = current_best.min(cost);
                    }
                }
            }
            cur_last_good = i as i64 + 1;
            if j < n_hyp {
                let next = at(i, j + 1);
                if score[next] < 0 || score[next] > here + 1 {
                    score[next] = here + 1;
                    op[next] = Some(EditOp::Insertion);
                }
            }
            if i < n_ref {
                let next = at(i + 1, j);
                if score[next] < 0 || score[next] > here + 1 {
                    score[next] = here + 1;
                    op[next] = Some(EditOp::Deletion);
                    if i as i64 >= last_good {
                        last_good = i as i64 + 1;
                    }
                }
            }
            i += 1;
        }
    }
    let mut path = Vec::with_capacity(n_ref + n_hyp);
    let (mut i, mut j) = (n_ref, n_hyp);
    while i > 0 || j > 0 {
        let step = op[at(i, j)].expect("tercom's path reaches the origin");
        path.push(step);
        if step.uses_ref() {
            i -= 1;
        }
        if step.uses_hyp() {
            j -= 1;
        }
    }
    path.reverse();
    (score[at(n_ref, n_hyp)], path)
}

/// Reference phrases of up to `MAX_SHIFT_SIZE + 1` tokens, all of them in the hypothesis,
/// with their start positions in increasing order (tercom's `BuildWordMatches`).
fn reference_phrases<'a>(hyp: &[u32], reference: &'a [u32]) -> HashMap<&'a [u32], Vec<usize>> {
    let in_hyp: HashSet<u32> = hyp.iter().copied().collect();
    let mut phrases: HashMap<&[u32], Vec<usize>> = HashMap::new();
    for start in 0..reference.len() {
        let mut end = start;
        while end < reference.len()
            && end - start <= MAX_SHIFT_SIZE
            && in_hyp.contains(&reference[end])
        {
            phrases
                .entry(&reference[start..=end])
                .or_default()
                .push(start);
            end += 1;
        }
    }
    phrases
}

/// Which hypothesis and reference tokens are edits, and the hypothesis position aligned to
/// every reference token (the last hypothesis position before it for a deletion; -1 if none).
fn align_errors(path: &[EditOp], n_hyp: usize, n_ref: usize) -> (Vec<bool>, Vec<bool>, Vec<i64>) {
    let (mut herr, mut rerr, mut ralign) = (vec![false; n_hyp], vec![false; n_ref], vec![0; n_ref]);
    let (mut h, mut r) = (-1i64, -1i64);
    for &step in path {
        if step.uses_hyp() {
            h += 1;
            herr[h as usize] = step != EditOp::Match;
        }
        if step.uses_ref() {
            r += 1;
            rerr[r as usize] = step != EditOp::Match;
            ralign[r as usize] = h;
        }
    }
    (herr, rerr, ralign)
}

/// tercom's candidate shifts, grouped by block length − 1, each group in tercom's order.
fn possible_shifts(
    cur: &[u32],
    phrases: &HashMap<&[u32], Vec<usize>>,
    herr: &[bool],
    rerr: &[bool],
    ralign: &[i64],
) -> Vec<Vec<Shift>> {
    let mut by_len = vec![Vec::new(); MAX_SHIFT_SIZE + 1];
    let lookup = |block: &[u32]| phrases.get(block);
    for start in 0..cur.len() {
        let s = start as i64;
        let Some(starts) = lookup(&cur[start..=start]) else {
            continue;
        };
        if !starts.iter().any(|&m| {
            let dest = ralign[m];
            s != dest && dest - s <= MAX_SHIFT_DIST && s - dest - 1 <= MAX_SHIFT_DIST
        }) {
            continue;
        }
        let mut end = start;
        while end < cur.len() && end < start + MAX_SHIFT_SIZE {
            let Some(movetos) = lookup(&cur[start..=end]) else {
                break;
            };
            if !herr[start..=end].iter().any(|&e| e) {
                end += 1;
                continue;
            }
            let e = end as i64;
            let mut any_target = false;
            for &m in movetos {
                let dest = ralign[m];
                if !(dest != s
                    && (dest < s || dest > e)
                    && dest - s <= MAX_SHIFT_DIST
                    && s - dest <= MAX_SHIFT_DIST)
                {
                    continue;
                }
                any_target = true;
                if !rerr[m..=m + (end - start)].iter().any(|&e| e) {
                    continue;
                }
                for roff in -1..=(end - start) as i64 {
                    let shift = if roff == -1 && m == 0 {
                        Some(Shift {
                            start,
                            end,
                            moveto: -1,
                            newloc: -1,
                        })
                    } else {
                        let target = (m as i64 + roff) as usize;
                        let newloc = ralign[target];
                        (s != newloc && (roff == 0 || newloc != dest)).then_some(Shift {
                            start,
                            end,
                            moveto: target as i64,
                            newloc,
                        })
                    };
                    if let Some(shift) = shift {
                        by_len[end - start].push(shift);
                    }
                }
            }
            if !any_target {
                break;
            }
            end += 1;
        }
    }
    by_len
}

/// `order` with the shift applied (tercom's `PerformShift`, including a block moved inside its
/// own span).
fn perform_shift(order: &[usize], shift: &Shift) -> Vec<usize> {
    let (start, end) = (shift.start, shift.end);
    let block = &order[start..=end];
    let mut out = Vec::with_capacity(order.len());
    if shift.newloc == -1 {
        out.extend_from_slice(block);
        out.extend_from_slice(&order[..start]);
        out.extend_from_slice(&order[end + 1..]);
    } else {
        let newloc = shift.newloc as usize;
        if newloc < start {
            out.extend_from_slice(&order[..=newloc]);
            out.extend_from_slice(block);
            out.extend_from_slice(&order[newloc + 1..start]);
            out.extend_from_slice(&order[end + 1..]);
        } else if newloc > end {
            out.extend_from_slice(&order[..start]);
            out.extend_from_slice(&order[end + 1..=newloc]);
            out.extend_from_slice(block);
            out.extend_from_slice(&order[newloc + 1..]);
        } else {
            let stop = (end + (newloc - start)).min(order.len() - 1);
            out.extend_from_slice(&order[..start]);
            out.extend_from_slice(&order[end + 1..=stop]);
            out.extend_from_slice(block);
            out.extend_from_slice(&order[stop + 1..]);
        }
    }
    out
}

struct BestShift {
    shift: Shift,
    order: Vec<usize>,
    cost: i64,
    path: Vec<EditOp>,
}

/// tercom's `CalcBestShift`: the first shift (longest blocks first) that lowers the edits
/// most, or `None`.
fn best_shift(
    order: &[usize],
    hyp: &[u32],
    reference: &[u32],
    phrases: &HashMap<&[u32], Vec<usize>>,
    cost: i64,
    path: &[EditOp],
) -> Option<BestShift> {
    let (herr, rerr, ralign) = align_errors(path, order.len(), reference.len());
    let cur: Vec<u32> = order.iter().map(|&i| hyp[i]).collect();
    let candidates = possible_shifts(&cur, phrases, &herr, &rerr, &ralign);
    let mut best: Option<BestShift> = None;
    let mut best_cost = cost;
    let mut best_shift_cost = 0;
    for (i, group) in candidates.iter().enumerate().rev() {
        let max_fix = 2 * (i as i64 + 1);
        let done = |best_cost: i64, best_shift_cost: i64| {
            let fixed = cost - (best_shift_cost + best_cost);
            fixed > max_fix || (best_shift_cost != 0 && fixed == max_fix)
        };
        if done(best_cost, best_shift_cost) {
            break;
        }
        for shift in group {
            if done(best_cost, best_shift_cost) {
                break;
            }
            let shifted = perform_shift(order, shift);
            let (new_cost, new_path) = min_edit_dist(&shifted, hyp, reference);
            let gain = (best_cost + best_shift_cost) - (new_cost + 1);
            if gain > 0 || (best_shift_cost == 0 && gain == 0) {
                best_cost = new_cost;
                best_shift_cost = 1;
                best = Some(BestShift {
                    shift: *shift,
                    order: shifted,
                    cost: new_cost,
                    path: new_path,
                });
            }
        }
    }
    best
}
