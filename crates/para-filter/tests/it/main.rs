//! para-filter integration tests: corpus formats and located errors, Model 1 learning, the
//! document aligner, the budget rule, noise injection, ROC-AUC, the classifier scorer and
//! mining on shared data.

mod align;
mod classifier;
mod corpus;
mod eval;
mod ibm1;
mod noise;
mod select;
mod shared;
