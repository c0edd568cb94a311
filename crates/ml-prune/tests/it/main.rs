//! ml-prune integration tests: unit selection to a sparsity (hand-computed), the masked
//! classifier forward against physical pruning, the whole
//! prune run on a small encoder (reloadable, smaller, not slower checkpoints; learning),
//! profiling, and error cases.

mod errors;
mod masked;
mod profile;
mod prune;
mod select;
