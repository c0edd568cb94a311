//! Integration tests of `docre-gain`, gathered into one test binary so that burn is linked
//! once per crate; each module is one former test file.

mod cli;
mod eval;
mod experiment;
mod model;
mod run;
mod validation;
