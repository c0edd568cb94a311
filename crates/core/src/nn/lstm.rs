//! A bidirectional LSTM over padded batches of variable-length sequences.
//!
//! Hochreiter & Schmidhuber, "Long Short-Term Memory", Neural Computation 1997, run in both
//! directions (Graves & Schmidhuber 2005) as the word-level encoders of BiLSTM taggers and of
//! GAIN's GloVe variant do. The cells are burn's [`Lstm`]; this module adds what PyTorch's packed
//! sequences (`pack_padded_sequence`) give: every sequence is read only up to its own length.
//!
//! - The forward direction reads the padded batch left to right; a real position never depends
//!   on the padding after it.
//! - The reverse direction reads every sequence reversed *in place* (position `p < len` takes
//!   position `len − 1 − p`, the padding stays at the end), so it starts at each sequence's last
//!   real token, not at the batch's last position.
//! - Outputs at padding positions are zero, and the final state of each direction is the state
//!   after its sequence's real tokens (forward: at the last real token; reverse: at the first
//!   token), as PyTorch returns for packed input.
//!
//! Both directions still run over the padded width (one batched step per position), which is
//! what makes the batch fast on every backend.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{BiLstmConfig as BurnBiLstmConfig, Initializer, Lstm};
use burn::tensor::{Device, Int, Tensor, TensorData};

/// Configuration of a [`BiLstm`].
#[derive(Config, Debug)]
pub struct BiLstmConfig {
    /// Input feature size.
    pub d_input: usize,
    /// Hidden size of each direction (the output has `2 · d_hidden` features).
    pub d_hidden: usize,
    /// Whether the gates have biases.
    #[config(default = true)]
    pub bias: bool,
    /// Initialisation of the gate weights (burn's default, Xavier-normal).
    #[config(default = "Initializer::XavierNormal { gain: 1.0 }")]
    pub initializer: Initializer,
}

impl BiLstmConfig {
    /// A freshly initialised BiLSTM: the forward cell, then the reverse cell, initialised as
    /// burn's `BiLstmConfig` initialises them.
    pub fn init(&self, device: &Device) -> BiLstm {
        let cells = BurnBiLstmConfig::new(self.d_input, self.d_hidden, self.bias)
            .with_initializer(self.initializer.clone())
            .init(device);
        BiLstm {
            forward: cells.forward,
            reverse: cells.reverse,
            d_hidden: self.d_hidden,
        }
    }
}

/// The real lengths of a padded batch of sequences, with the index tensors [`BiLstm::forward`]
/// needs; build it once per batch.
#[derive(Debug, Clone)]
pub struct SequenceLengths {
    lengths: Vec<usize>,
    width: usize,
    /// Flat index `b · width + (len_b − 1 − p)` of every position `p < len_b`, itself beyond.
    reversed: Tensor<1, Int>,
    /// Flat index of the last real token of every sequence (position 0 when empty).
    last: Tensor<1, Int>,
    /// 1 at real positions, 0 at padding, `[batch, width, 1]`.
    real: Tensor<3>,
    /// 1 for non-empty sequences, `[batch, 1]`.
    nonempty: Tensor<2>,
}

impl SequenceLengths {
    /// The lengths of a batch padded to `width` positions (each length at most `width`).
    pub fn new(lengths: &[usize], width: usize, device: &Device) -> Self {
        assert!(width > 0, "a padded batch needs at least one position");
        if let Some(&len) = lengths.iter().find(|&&len| len > width) {
            panic!("a sequence of length {len} does not fit a batch of width {width}");
        }
        let batch = lengths.len();
        let ints = |values: Vec<i64>| {
            let n = values.len();
            Tensor::<1, Int>::from_data(TensorData::new(values, [n]), device)
        };
        let reversed = lengths
            .iter()
            .enumerate()
            .flat_map(|(b, &len)| {
                (0..width).map(move |p| (b * width + if p < len { len - 1 - p } else { p }) as i64)
            })
            .collect();
        let last = lengths
            .iter()
            .enumerate()
            .map(|(b, &len)| (b * width + len.max(1) - 1) as i64)
            .collect();
        let real: Vec<f32> = lengths
            .iter()
            .flat_map(|&len| (0..width).map(move |p| if p < len { 1.0 } else { 0.0 }))
            .collect();
        let nonempty: Vec<f32> = lengths
            .iter()
            .map(|&len| if len > 0 { 1.0 } else { 0.0 })
            .collect();
        Self {
            lengths: lengths.to_vec(),
            width,
            reversed: ints(reversed),
            last: ints(last),
            real: Tensor::from_data(TensorData::new(real, [batch, width, 1]), device),
            nonempty: Tensor::from_data(TensorData::new(nonempty, [batch, 1]), device),
        }
    }

    /// The real length of every sequence.
    pub fn lengths(&self) -> &[usize] {
        &self.lengths
    }

    /// The padded width (positions per sequence).
    pub fn width(&self) -> usize {
        self.width
    }
}

/// The outputs of a [`BiLstm`].
#[derive(Debug, Clone)]
pub struct BiLstmOutput {
    /// `[forward; reverse]` hidden state at every position, `[batch, width, 2 · d_hidden]`;
    /// zero at padding positions.
    pub hidden: Tensor<3>,
    /// `[forward state after the last real token; reverse state after the first token]` of
    /// every sequence, `[batch, 2 · d_hidden]`; zero for an empty sequence.
    pub last: Tensor<2>,
}

/// A bidirectional LSTM; see the [module docs](self).
///
/// Parameters are addressed as in burn's `BiLstm` (`forward.*`, `reverse.*`), so checkpoints of
/// either load into the other.
#[derive(Module, Debug)]
pub struct BiLstm {
    /// The left-to-right cell.
    pub forward: Lstm,
    /// The right-to-left cell.
    pub reverse: Lstm,
    /// Hidden size of each direction.
    pub d_hidden: usize,
}

impl BiLstm {
    /// Runs both directions over a padded batch, each sequence up to its own length.
    ///
    /// # Shapes
    /// - `x`: `[batch, width, d_input]`, with `lengths` built for `batch` sequences and `width`
    /// - output: [`BiLstmOutput`], `hidden` `[batch, width, 2 · d_hidden]`, `last`
    ///   `[batch, 2 · d_hidden]`
    pub fn forward(&self, x: Tensor<3>, lengths: &SequenceLengths) -> BiLstmOutput {
        let [batch, width, d_input] = x.dims();
        assert_eq!(
            [batch, width],
            [lengths.lengths.len(), lengths.width],
            "the input is [batch, width] = [{batch}, {width}] but the lengths are for [{}, {}]",
            lengths.lengths.len(),
            lengths.width
        );
        let h = self.d_hidden;
        let flat = |t: Tensor<3>| {
            let [b, l, d] = t.dims();
            t.reshape([b * l, d])
        };
        let (forward, _) = self.forward.forward(x.clone(), None); // [batch, width, h]
        // Each sequence reversed within its length, run, and put back in reading order.
        let x_reversed = flat(x)
            .select(0, lengths.reversed.clone())
            .reshape([batch, width, d_input]);
        let (reverse, _) = self.reverse.forward(x_reversed, None);
        let reverse = flat(reverse)
            .select(0, lengths.reversed.clone())
            .reshape([batch, width, h]);
        let last_forward = flat(forward.clone()).select(0, lengths.last.clone()); // [batch, h]
        let first_reverse = reverse.clone().slice([0..batch, 0..1]).reshape([batch, h]);
        BiLstmOutput {
            hidden: Tensor::cat(vec![forward, reverse], 2) * lengths.real.clone(),
            last: Tensor::cat(vec![last_forward, first_reverse], 1) * lengths.nonempty.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(t: Tensor<1, Int>) -> Vec<i64> {
        t.into_data().convert::<i64>().try_to_vec::<i64>().unwrap()
    }

    #[test]
    fn lengths_reverse_in_place_and_find_the_last_token() {
        let device = crate::device::cpu();
        let lengths = SequenceLengths::new(&[3, 1, 0], 3, &device);
        assert_eq!(ints(lengths.reversed.clone()), [2, 1, 0, 3, 4, 5, 6, 7, 8]);
        assert_eq!(ints(lengths.last.clone()), [2, 3, 6]);
        assert_eq!((lengths.lengths(), lengths.width()), (&[3, 1, 0][..], 3));
    }
}
