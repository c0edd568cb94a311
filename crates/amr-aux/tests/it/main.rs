//! Integration tests of `amr-aux`, gathered into one test binary so that burn is linked
//! once per crate; each module is one former test file.

mod amrize;
mod cli;
mod demo;
mod linearize;
mod parser;
mod penman;
mod smatch;
