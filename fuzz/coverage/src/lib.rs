//! Edge coverage from LLVM's SanitizerCoverage, for coverage-guided fuzzing on stable Rust.
//!
//! `cargo xtask fuzz` builds the workspace's libraries and `burnlp-fuzz` through
//! `fuzz/sancov-rustc`, which adds
//! `-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-trace-pc-guard`: every edge of our
//! own code then calls [`__sanitizer_cov_trace_pc_guard`] with its guard. The two callbacks
//! below number the guards at start-up and count the hits of each edge in a fixed map; after
//! each input the fuzzer folds the counts into AFL-style buckets (1, 2, 3, 4–7, 8–15, 16–31,
//! 32–127, 128+) and keeps the input when some edge reached a bucket it never reached before.
//!
//! In a plain build nothing is instrumented, [`guards`] is 0 and the fuzzer stays blind.
//!
//! This crate is the one workspace crate the wrapper leaves uninstrumented: the callbacks must
//! not call themselves. `burnlp-fuzz` is instrumented so that generic readers (`impl AsRef<Path>`,
//! `impl BufRead`), which are compiled where they are instantiated, are measured too.

#![allow(unsafe_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

/// Edge counters; guards past the map's end share slots (AFL's map is 64 KiB, this one 2 MiB).
const MAP_SIZE: usize = 1 << 21;

/// The counters. Written without atomics, as AFL writes its map: a lost increment when two
/// threads hit the same edge at once only blurs a hit count.
static mut MAP: [u8; MAP_SIZE] = [0; MAP_SIZE];
static GUARDS: AtomicUsize = AtomicUsize::new(0);

/// Address of counter `index` (masked into the map).
///
/// Only primitive operations, here and in the callbacks: in a dev build, an instrumented crate
/// can hold the shared copy of a small generic or `#[inline]` function (`AtomicU8::load`,
/// `ptr::add`, …), and calling it from the guard callback would recurse without end.
#[inline(always)]
fn slot(index: usize) -> *mut u8 {
    ((&raw mut MAP) as *mut u8 as usize + (index & (MAP_SIZE - 1))) as *mut u8
}

/// Called once per instrumented module at start-up with its guard array: numbers each guard
/// (from 1; 0 would mean "already seen").
///
/// # Safety
/// `start..stop` is a guard array LLVM emitted.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __sanitizer_cov_trace_pc_guard_init(start: *mut u32, stop: *mut u32) {
    let mut guard = start as usize;
    while guard < stop as usize {
        // SAFETY: `guard` lies in the module's guard array, which LLVM gave us to write.
        unsafe {
            let g = guard as *mut u32;
            if *g == 0 {
                let n = GUARDS.fetch_add(1, Ordering::Relaxed) + 1;
                *g = n as u32;
            }
        }
        guard += 4;
    }
}

/// Called on every instrumented edge.
///
/// # Safety
/// `guard` points into a guard array numbered by [`__sanitizer_cov_trace_pc_guard_init`].
// Not `saturating_add`: only primitive operations here (see `slot`).
#[allow(clippy::implicit_saturating_add)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __sanitizer_cov_trace_pc_guard(guard: *mut u32) {
    // SAFETY: LLVM passes a pointer into a live guard array; the slot lies inside `MAP`.
    unsafe {
        let counter = slot(*guard as usize);
        if *counter < u8::MAX {
            *counter += 1;
        }
    }
}

/// Instrumented edges in this process (0 when the build has no coverage).
pub fn guards() -> usize {
    GUARDS.load(Ordering::Relaxed)
}

/// AFL's hit-count buckets as one bit each.
fn bucket(hits: u8) -> u8 {
    match hits {
        0 => 0,
        1 => 1,
        2 => 2,
        3 => 4,
        4..=7 => 8,
        8..=15 => 16,
        16..=31 => 32,
        32..=127 => 64,
        _ => 128,
    }
}

/// The buckets every edge has reached so far, over all inputs of a run.
pub struct Seen {
    buckets: Vec<u8>,
    edges: usize,
}

impl Seen {
    /// Nothing seen yet.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self {
            buckets: vec![0; (guards() + 1).min(MAP_SIZE)],
            edges: 0,
        }
    }

    /// Clears the counters before an input runs.
    pub fn reset(&self) {
        let mut i = 0;
        while i < self.buckets.len() {
            // SAFETY: the slot lies inside `MAP`; see `MAP` on the unsynchronised writes.
            unsafe { *slot(i) = 0 };
            i += 1;
        }
    }

    /// Folds the counters of the input that just ran into what was seen, clearing them;
    /// true when the input reached an edge or a hit-count bucket never reached before.
    pub fn merge(&mut self) -> bool {
        let mut new = false;
        for (i, seen) in self.buckets.iter_mut().enumerate() {
            // SAFETY: the slot lies inside `MAP`; see `MAP` on the unsynchronised writes.
            let hits = unsafe {
                let counter = slot(i);
                let hits = *counter;
                *counter = 0;
                hits
            };
            if hits == 0 {
                continue;
            }
            let b = bucket(hits);
            if b & !*seen != 0 {
                if *seen == 0 {
                    self.edges += 1;
                }
                *seen |= b;
                new = true;
            }
        }
        new
    }

    /// Edges reached by some input.
    pub fn edges(&self) -> usize {
        self.edges
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Edges of a pretend module: numbered by the init callback, hit by the guard callback.
    #[test]
    fn new_edges_and_new_hit_buckets_count_as_new_coverage_and_repeats_do_not() {
        let mut module = [0u32; 3];
        let range = module.as_mut_ptr_range();
        // SAFETY: a live array standing in for LLVM's guard array.
        unsafe { __sanitizer_cov_trace_pc_guard_init(range.start, range.end) };
        assert!(module.iter().all(|&g| g > 0), "{module:?}");
        assert!(guards() >= 3);
        let hit = |guard: &mut u32, times: usize| {
            for _ in 0..times {
                // SAFETY: as above.
                unsafe { __sanitizer_cov_trace_pc_guard(guard) };
            }
        };
        let mut seen = Seen::new();
        seen.reset();
        hit(&mut module[0], 1);
        assert!(seen.merge(), "a first edge is new");
        assert_eq!(seen.edges(), 1);
        hit(&mut module[0], 1);
        assert!(!seen.merge(), "the same edge, same bucket");
        hit(&mut module[0], 5);
        assert!(seen.merge(), "the same edge, a new hit-count bucket (4–7)");
        hit(&mut module[0], 6);
        assert!(!seen.merge(), "6 is in the 4–7 bucket too");
        hit(&mut module[1], 1);
        hit(&mut module[0], 1);
        assert!(seen.merge(), "a second edge");
        assert_eq!(seen.edges(), 2);
        hit(&mut module[2], 300);
        assert!(seen.merge(), "hit counts saturate instead of wrapping to 0");
        assert_eq!(seen.edges(), 3);
    }
}
