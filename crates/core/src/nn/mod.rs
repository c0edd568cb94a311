//! Neural network modules shared by tasks, and checkpoint loading.

pub mod bert;
pub mod weights;

pub use bert::{Bert, BertConfig, BertInput, BertOutput};
pub use weights::{LoadReport, WeightError, WeightSource};
