//! Integration tests of `amr-aux`, gathered into one test binary so that burn is linked
//! once per crate; each module is one former test file.

/// `shared/datasets/amr/<name>`, or return from the test with a printed reason when absent.
macro_rules! shared {
    ($name:expr) => {
        burnlp_core::require_shared!(format!("datasets/amr/{}", $name))
    };
}

mod amrize;
mod cli;
mod demo;
mod depparse;
mod linearize;
mod lm_parser;
mod parser;
mod penman;
mod smatch;
