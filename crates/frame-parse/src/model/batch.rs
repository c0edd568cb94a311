//! Model inputs: one prepared target ([`Example`]), a padded batch on a device
//! ([`KidBatch`]), and a parse ([`Parse`]).

use burnlp_core::burn::tensor::{Device, Int, Tensor, TensorData};
use burnlp_core::nn::bert::BertInput;
use burnlp_core::nn::lstm::SequenceLengths;

/// One prepared target (host side).
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// Word ids (0 padding, 1 unknown).
    pub words: Vec<u32>,
    /// Subword ids and the first subword of every word (BERT-family encoders).
    pub subwords: Option<(Vec<u32>, Vec<usize>)>,
    /// First and last target token.
    pub target: (usize, usize),
    /// Gold frame (FKG index), if known.
    pub frame: Option<usize>,
    /// Candidate frames of the LU (empty: all frames).
    pub candidates: Vec<usize>,
    /// Gold arguments `(start, end, FE node)` in sentence order (at most 5 for training).
    pub args: Vec<(usize, usize, usize)>,
}

/// A padded batch on a device.
#[derive(Debug, Clone)]
pub struct KidBatch {
    /// Word ids `[B, n]`.
    pub words: Tensor<2, Int>,
    /// Target indicators `[B, n]`.
    pub targets: Tensor<2, Int>,
    /// Subword inputs and the flat index of every word's first subword `[B · n]`.
    pub subwords: Option<(BertInput, Tensor<1, Int>)>,
    /// Lengths for the BiLSTM.
    pub lengths: SequenceLengths,
    /// Real lengths.
    pub lens: Vec<usize>,
    /// Padded width `n`.
    pub width: usize,
    /// Target (first, last) token per example.
    pub target_span: Vec<(usize, usize)>,
    /// Gold frames (training) or `usize::MAX`.
    pub frames: Vec<usize>,
    /// Candidate frames per example.
    pub candidates: Vec<Vec<usize>>,
    /// Gold arguments per example.
    pub args: Vec<Vec<(usize, usize, usize)>>,
}

impl KidBatch {
    /// Pads `examples` on `device` (`pad_id` pads subwords).
    pub fn new(examples: &[&Example], pad_id: u32, device: &Device) -> Self {
        let b = examples.len();
        let lens: Vec<usize> = examples.iter().map(|e| e.words.len().max(1)).collect();
        let width = lens.iter().copied().max().unwrap_or(1);
        let mut words = vec![0i64; b * width];
        let mut targets = vec![0i64; b * width];
        for (i, e) in examples.iter().enumerate() {
            for (t, &w) in e.words.iter().enumerate() {
                words[i * width + t] = i64::from(w);
            }
            for t in e.target.0..=e.target.1.min(width - 1) {
                targets[i * width + t] = 1;
            }
        }
        let ints =
            |v: Vec<i64>| Tensor::<2, Int>::from_data(TensorData::new(v, [b, width]), device);
        let subwords = examples.iter().all(|e| e.subwords.is_some()).then(|| {
            let rows: Vec<Vec<u32>> = examples
                .iter()
                .map(|e| e.subwords.as_ref().expect("checked").0.clone())
                .collect();
            let input = BertInput::from_rows(&rows, pad_id, device);
            let seq = input.input_ids.dims()[1];
            let mut index = vec![0i64; b * width];
            for (i, e) in examples.iter().enumerate() {
                for (t, &s) in e.subwords.as_ref().expect("checked").1.iter().enumerate() {
                    index[i * width + t] = (i * seq + s) as i64;
                }
            }
            (
                input,
                Tensor::from_data(TensorData::new(index, [b * width]), device),
            )
        });
        Self {
            words: ints(words),
            targets: ints(targets),
            subwords,
            lengths: SequenceLengths::new(&lens, width, device),
            lens,
            width,
            target_span: examples.iter().map(|e| e.target).collect(),
            frames: examples
                .iter()
                .map(|e| e.frame.unwrap_or(usize::MAX))
                .collect(),
            candidates: examples.iter().map(|e| e.candidates.clone()).collect(),
            args: examples.iter().map(|e| e.args.clone()).collect(),
        }
    }
}

/// A parse of one target.
#[derive(Debug, Clone, PartialEq)]
pub struct Parse {
    /// Chosen frame (FKG index).
    pub frame: usize,
    /// Arguments `(start, end, FE node)` in decoding order.
    pub args: Vec<(usize, usize, usize)>,
}
