//! ml-prune integration tests: unit selection to a sparsity (hand-computed), the masked
//! classifier forward against physical pruning, Taylor scores, L0 gates, the whole prune run on
//! a small encoder for every method and both settings (reloadable, smaller, not slower
//! checkpoints; learning), `eval`, `plot`, Dynamic Sparsification, profiling, and error cases.

mod common;
mod dynamic;
mod errors;
mod l0;
mod masked;
mod plot;
mod profile;
mod prune;
mod select;
mod taylor;
