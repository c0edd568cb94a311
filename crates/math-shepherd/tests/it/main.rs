//! Integration tests of `math-shepherd`, gathered into one test binary so that burn is linked
//! once per crate; each module is one topic.

mod answers;
mod cli;
mod demo_real;
mod formats;
mod pipeline;
mod real_lm;
mod sample;
mod serve;
