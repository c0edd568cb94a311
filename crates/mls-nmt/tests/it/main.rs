//! Integration tests of `mls-nmt`, gathered into one test binary so that burn is linked
//! once per crate; each module is one topic.

mod calibration;
mod cli;
mod metrics;
mod nmt;
mod vocab;
