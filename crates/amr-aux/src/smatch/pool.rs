//! The candidate pool and weights of the reference's `compute_pool`, in dense form, and the
//! match counts of a mapping.

use crate::hash::FxHashMap;
use crate::triples::{Triples, normalize};

/// The candidate pool and weights of `compute_pool`, in dense form.
pub(super) struct Pool {
    pub(super) n1: usize,
    pub(super) n2: usize,
    /// Instance and attribute matches of `i ↦ j`, at `i * n2 + j`.
    pub(super) unary: Vec<i32>,
    /// Whether `j` is a candidate of `i`, at `i * n2 + j`.
    pub(super) candidate: Vec<bool>,
    /// The candidates of each test node in CPython's set iteration order.
    pub(super) candidates: Vec<Vec<usize>>,
    /// Relation matches shared by two node pairs: the entries of pair `p = i * n2 + j` are
    /// `pairwise[offsets[p]..offsets[p + 1]]`, each `(k, l, weight)` for the pair `k ↦ l`.
    pub(super) offsets: Vec<usize>,
    pub(super) pairwise: Vec<(u32, u32, i32)>,
}

impl Pool {
    /// The pool of a test and a gold graph. Candidates are added in the reference's order
    /// (concepts, attributes, relations), which fixes their CPython set order.
    pub(super) fn new(test: &Triples, gold: &Triples) -> Self {
        let (n1, n2) = (test.instances.len(), gold.instances.len());
        let mut interner: FxHashMap<String, u32> = FxHashMap::default();
        let mut key = |s: &str| {
            let next = interner.len() as u32;
            *interner.entry(normalize(s)).or_insert(next)
        };
        let t = Interned::new(test, &mut key);
        let g = Interned::new(gold, &mut key);
        let mut found = Found::new(n1, n2);
        for (i, c1) in t.concepts.iter().enumerate() {
            for (j, c2) in g.concepts.iter().enumerate() {
                if c1 == c2 {
                    found.unary_match(i, j);
                }
            }
        }
        for &(r1, i, v1) in &t.attributes {
            for &(r2, j, v2) in &g.attributes {
                if r1 == r2 && v1 == v2 {
                    found.unary_match(i, j);
                }
            }
        }
        for &(r1, i1, k1) in &t.relations {
            for &(r2, j1, l1) in &g.relations {
                if r1 == r2 {
                    found.relation_match((i1, j1), (k1, l1));
                }
            }
        }
        let (offsets, pairwise) = group_links(found.links, n1 * n2, n2);
        Pool {
            n1,
            n2,
            unary: found.unary,
            candidate: found.candidate,
            candidates: found
                .inserted
                .iter()
                .map(|c| cpython_set_order(c))
                .collect(),
            offsets,
            pairwise,
        }
    }

    pub(super) fn links(&self, i: usize, j: usize) -> &[(u32, u32, i32)] {
        let p = i * self.n2 + j;
        &self.pairwise[self.offsets[p]..self.offsets[p + 1]]
    }

    /// The reference's `compute_match`.
    pub(super) fn score(&self, mapping: &[i32]) -> i32 {
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
    pub(super) fn contribution(
        &self,
        mapping: &[i32],
        i: usize,
        m: i32,
        skip: usize,
        skip_to: i32,
    ) -> i32 {
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
    pub(super) fn move_gain(&self, mapping: &[i32], i: usize, to: usize) -> i32 {
        self.contribution(mapping, i, to as i32, i, -1)
            - self.contribution(mapping, i, mapping[i], i, -1)
    }

    pub(super) fn swap_gain(&self, mapping: &[i32], i: usize, k: usize) -> i32 {
        let (mi, mk) = (mapping[i], mapping[k]);
        // The shared weight of the pair (i, k) is counted once, through `i`.
        let old =
            self.contribution(mapping, i, mi, k, mk) + self.contribution(mapping, k, mk, i, -2);
        let new =
            self.contribution(mapping, i, mk, k, mi) + self.contribution(mapping, k, mi, i, -2);
        new - old
    }
}

/// A graph's triples with every label interned (after normalisation) as an integer.
struct Interned {
    concepts: Vec<u32>,
    /// `(role, node, value)`.
    attributes: Vec<(u32, usize, u32)>,
    /// `(role, source, target)`.
    relations: Vec<(u32, usize, usize)>,
}

impl Interned {
    fn new(triples: &Triples, key: &mut impl FnMut(&str) -> u32) -> Self {
        Self {
            concepts: triples.instances.iter().map(|c| key(c)).collect(),
            attributes: triples
                .attributes
                .iter()
                .map(|(r, n, v)| (key(r), *n, key(v)))
                .collect(),
            relations: triples
                .relations
                .iter()
                .map(|(r, a, b)| (key(r), *a, *b))
                .collect(),
        }
    }
}

/// The matches found so far, before the relation links are grouped by node pair.
struct Found {
    n2: usize,
    unary: Vec<i32>,
    candidate: Vec<bool>,
    /// Each test node's candidates in insertion order.
    inserted: Vec<Vec<usize>>,
    /// `(p, q)`: the node pairs `p` and `q` share a relation match (both directions listed).
    links: Vec<(usize, usize)>,
}

impl Found {
    fn new(n1: usize, n2: usize) -> Self {
        Self {
            n2,
            unary: vec![0; n1 * n2],
            candidate: vec![false; n1 * n2],
            inserted: vec![Vec::new(); n1],
            links: Vec::new(),
        }
    }

    fn add(&mut self, i: usize, j: usize) {
        if !self.candidate[i * self.n2 + j] {
            self.candidate[i * self.n2 + j] = true;
            self.inserted[i].push(j);
        }
    }

    /// An instance or attribute match of `i ↦ j`.
    fn unary_match(&mut self, i: usize, j: usize) {
        self.add(i, j);
        self.unary[i * self.n2 + j] += 1;
    }

    /// A relation match between `(i1 ↦ j1)` and `(k1 ↦ l1)`: a unary match when both are the
    /// same pair, a shared weight otherwise.
    fn relation_match(&mut self, (i1, j1): (usize, usize), (k1, l1): (usize, usize)) {
        self.add(i1, j1);
        self.add(k1, l1);
        let (p, q) = (i1 * self.n2 + j1, k1 * self.n2 + l1);
        if p == q {
            self.unary[p] += 1;
        } else {
            self.links.push((p, q));
            self.links.push((q, p));
        }
    }
}

/// Groups the links by their first pair: the offsets (`pairs + 1` entries) into a list of
/// `(k, l, weight)` entries, the weight counting repeated links.
fn group_links(
    mut links: Vec<(usize, usize)>,
    pairs: usize,
    n2: usize,
) -> (Vec<usize>, Vec<(u32, u32, i32)>) {
    links.sort_unstable();
    let mut offsets = vec![0; pairs + 1];
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
    for p in 0..pairs {
        offsets[p + 1] += offsets[p];
    }
    (offsets, pairwise)
}

/// The iteration order of a CPython `set` of small non-negative integers built by adding
/// `inserted` in order (open addressing, 9 linear probes, perturbed probing, growth at 3/5 full).
pub(super) fn cpython_set_order(inserted: &[usize]) -> Vec<usize> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
