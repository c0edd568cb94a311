//! A tiny trainable figure captioner, so the pipeline can be trained end to end here.
//!
//! Dosovitskiy et al., "An Image is Worth 16x16 Words: Transformers for Image Recognition at
//! Scale", ICLR 2021 (<https://arxiv.org/abs/2010.11929>) for the patch encoder; the decoder is
//! `burnlp_core::nn::seq2seq`'s Transformer (Vaswani et al., NeurIPS 2017). This is not the
//! paper's model (the paper fine-tunes large vision-language models); it is a small stand-in
//! trained on generated charts ([`charts`](mod@charts)) and, where their images load, extracted real pairs
//! ([`crate::images`]).
//!
//! - [`charts`](mod@charts): generated line/bar/scatter charts with captions from their contents;
//! - [`experiment`]: generated splits, training and held-out scores as JSON and Markdown;
//! - [`vocab`]: the word vocabulary;
//! - [`model`]: [`CaptionerSpec`], the patch encoder and [`Captioner`];
//! - [`train`](mod@train): training with `burnlp_core::train`, loading, greedy captioning,
//!   held-out scores.

pub mod charts;
pub mod experiment;
pub mod model;
pub mod train;
pub mod vocab;

pub use charts::{Chart, ChartContent, Raster, chart, charts};
pub use model::{Captioner, CaptionerSpec, PatchEncoder};
pub use train::{
    CaptionExample, CaptionerRun, HeldOutScores, TrainConfig, TrainReport, held_out_scores,
    real_examples, train,
};
pub use vocab::Vocab;
