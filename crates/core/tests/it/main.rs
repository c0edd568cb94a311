//! Integration tests of `burnlp-core`, gathered into one test binary so that burn is linked
//! once per crate; each module is one former test file.

mod backends;
mod data;
mod encoder;
mod graph;
mod kernels;
mod llama;
mod lstm;
mod matching;
mod metrics;
mod pretrained;
mod prune;
mod scores;
mod seq2seq;
mod span;
mod subnet;
mod tokenize;
mod trainer;
