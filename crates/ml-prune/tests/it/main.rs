//! ml-prune integration tests: unit selection to a sparsity (hand-computed), the masked
//! classifier forward against physical pruning, Taylor scores, L0 gates, the whole prune run on
//! a small encoder for every method and both settings (reloadable, smaller, not slower
//! checkpoints; learning), `eval`, `plot`, Dynamic Sparsification, profiling, error cases, and
//! `--resume` (halted runs resumed to the uninterrupted run's files).

/// Held by every test that uses a device: the CPU device's random generator is shared by the
/// whole process, so concurrent tests would interleave its draws and make seeded runs (a
/// resumed run compared with an uninterrupted one) depend on thread scheduling.
pub fn device_rng() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

mod common;
mod dynamic;
mod errors;
mod l0;
mod masked;
mod plot;
mod profile;
mod prune;
mod resume;
mod select;
mod taylor;
