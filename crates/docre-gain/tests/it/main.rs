//! Integration tests of `docre-gain`, gathered into one test binary so that burn is linked
//! once per crate; each module is one former test file.

/// `shared/datasets/docred/<name>`, or return from the test with a printed reason when absent.
macro_rules! shared {
    ($name:expr) => {
        burnlp_core::require_shared!(format!("datasets/docred/{}", $name))
    };
}

mod cli;
mod eval;
mod experiment;
mod model;
mod run;
mod validation;
