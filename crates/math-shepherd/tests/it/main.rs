//! Integration tests of `math-shepherd`, gathered into one test binary so that burn is linked
//! once per crate; each module is one former test file.

mod answers;
mod pipeline;
mod serve;
