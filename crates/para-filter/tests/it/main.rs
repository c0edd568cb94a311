//! para-filter integration tests: corpus formats and located errors, Model 1 learning, the
//! document aligner, the budget rule, noise injection, ROC-AUC, the classifier scorer and
//! mining on shared data, and resuming an interrupted scoring run.

mod align;
mod classifier;
mod corpus;
mod eval;
mod ibm1;
mod noise;
mod resume;
mod select;
mod shared;
