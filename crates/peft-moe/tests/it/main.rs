//! Integration tests of `peft-moe`, gathered into one test binary so that burn is linked
//! once per crate; each module is one former test file.

mod cli;
mod demo_real;
mod esft_data;
mod model;
mod real;
mod selection;
mod upcycle;
