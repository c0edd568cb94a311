//! Integration tests of `fssl-span`, gathered into one test binary so that burn is linked
//! once per crate; each module is one topic.

mod cli;
mod demo;
mod faithful;
mod library;
mod run;
