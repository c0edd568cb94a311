//! doc-ee integration tests: the RAMS and WikiEvents readers and TSAR's windows, the scorer's
//! rules on hand-computed cases, graphs from AMR and CoNLL-U, the model, the shared data, and
//! the Doc2EDAG (GIT / IPGPF) format, metric, DuEE-fin conversion and generator, and IPGPF.

mod data;
mod dee;
mod dee_model;
mod graph;
mod ipgpf;
mod model;
mod parse;
mod score;
mod shared;

use doc_ee::{Example, Link};

/// Held by tests that seed the CPU device's random generator or train a model: the generator
/// is shared by the whole process, so concurrent tests would interleave its draws and make
/// seeded results (a learning test's F1) depend on thread scheduling.
pub fn device_rng() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An example with one sentence per entry of `sentences` (words `w0`, `w1`, …).
pub fn example(
    doc_key: &str,
    lengths: &[usize],
    trigger: (usize, usize),
    links: &[(i64, i64, &str)],
) -> Example {
    let mut word = 0;
    let sentences = lengths
        .iter()
        .map(|&n| {
            (0..n)
                .map(|_| {
                    word += 1;
                    format!("w{}", word - 1)
                })
                .collect()
        })
        .collect();
    Example {
        doc_key: doc_key.into(),
        sentences,
        trigger,
        event_type: "life.die.n/a".into(),
        links: links
            .iter()
            .map(|&(start, end, role)| Link {
                start,
                end,
                role: role.into(),
            })
            .collect(),
        coref: Vec::new(),
        offset: 0,
    }
}

/// Writes `text` to `name` in a fresh temporary directory.
pub fn file(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}
