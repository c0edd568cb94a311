//! Position embeddings of the Transformer, as fairseq computes them.
//!
//! Positions are padding-aware (fairseq's `utils.make_positions`): the real tokens of a row are
//! numbered `padding_idx + 1, padding_idx + 2, …` in order, whatever padding precedes them, and
//! padding gets `padding_idx`, whose embedding is zero. Left- and right-padded batches therefore
//! give every real token the same position embedding.
//!
//! - Sinusoidal (Vaswani et al. 2017, §3.5) in fairseq's `SinusoidalPositionalEmbedding`
//!   layout: for `half = dim / 2` frequencies `f_i = exp(-i · ln(10000) / (half - 1))`, the
//!   embedding of position `p` is `[sin(p·f_0), …, sin(p·f_{half-1}), cos(p·f_0), …]` (sines and
//!   cosines concatenated, not interleaved), with a zero last column for odd `dim`.
//! - Learned (fairseq's `LearnedPositionalEmbedding`): a table of
//!   `max_positions + padding_idx + 1` rows indexed by the same positions.

use burn::module::Module;
use burn::nn::Embedding;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use super::init::padded_embedding;

/// Position ids of a padded batch: real tokens count from `padding_idx + 1`, padding gets
/// `padding_idx` (fairseq's `make_positions`).
///
/// # Shapes
/// - `padding`: `[batch, seq]`, true for padding
/// - output: `[batch, seq]`
pub fn make_positions(padding: Tensor<2, Bool>, padding_idx: usize) -> Tensor<2, Int> {
    let real = padding.bool_not().int();
    real.clone().cumsum(1) * real + padding_idx as i64
}

/// The frequencies `exp(-i · ln(10000) / (half - 1))` of the sinusoidal embedding, computed
/// in `f32` as fairseq does.
fn sinusoidal_frequencies(dim: usize) -> Vec<f32> {
    let half = dim / 2;
    let step = ((10000f64).ln() / (half - 1) as f64) as f32;
    (0..half).map(|i| (i as f32 * -step).exp()).collect()
}

/// Sinusoidal or learned position embeddings over padding-aware positions.
#[derive(Module, Debug)]
pub struct PositionalEmbedding {
    /// The learned table `[max_positions + padding_idx + 1, dim]`; `None` for sinusoidal.
    pub learned: Option<Embedding>,
    /// Embedding size.
    pub dim: usize,
    /// Id of the padding token; position `padding_idx` embeds to zero.
    pub padding_idx: usize,
    /// Largest number of real positions.
    pub max_positions: usize,
}

impl PositionalEmbedding {
    /// Sinusoidal embeddings (no parameters).
    pub fn sinusoidal(dim: usize, padding_idx: usize, max_positions: usize) -> Self {
        assert!(
            dim >= 4,
            "sinusoidal position embeddings need a dimension of at least 4, got {dim}"
        );
        Self {
            learned: None,
            dim,
            padding_idx,
            max_positions,
        }
    }

    /// Learned embeddings, initialised as fairseq does: `N(0, dim^-0.5)` with a zero padding row.
    pub fn learned(dim: usize, padding_idx: usize, max_positions: usize, device: &Device) -> Self {
        let table = padded_embedding(max_positions + padding_idx + 1, dim, padding_idx, device);
        Self {
            learned: Some(table),
            dim,
            padding_idx,
            max_positions,
        }
    }

    /// Embeds the positions of a padded batch (see [`make_positions`]).
    ///
    /// # Shapes
    /// - `padding`: `[batch, seq]`, true for padding
    /// - output: `[batch, seq, dim]`
    pub fn forward(&self, padding: Tensor<2, Bool>) -> Tensor<3> {
        let [_, seq] = padding.dims();
        self.check_length(seq);
        self.embed(make_positions(padding, self.padding_idx))
    }

    /// Embeds positions `start + 1 ..= start + len` of unpadded rows, as incremental decoding
    /// needs after `start` tokens.
    ///
    /// # Shapes
    /// - output: `[batch, len, dim]`
    pub fn continuing(&self, start: usize, batch: usize, len: usize, device: &Device) -> Tensor<3> {
        self.check_length(start + len);
        let first = (self.padding_idx + start + 1) as i64;
        let positions = Tensor::<1, Int>::arange(first..first + len as i64, device)
            .unsqueeze::<2>()
            .expand([batch, len]);
        self.embed(positions)
    }

    fn check_length(&self, len: usize) {
        assert!(
            len <= self.max_positions,
            "sequence of {len} tokens exceeds the {} positions of the model",
            self.max_positions
        );
    }

    /// Embeds position ids.
    fn embed(&self, positions: Tensor<2, Int>) -> Tensor<3> {
        let [batch, seq] = positions.dims();
        if let Some(table) = &self.learned {
            return table.forward(positions);
        }
        let device = positions.device();
        let frequencies = sinusoidal_frequencies(self.dim);
        let half = frequencies.len();
        let frequencies =
            Tensor::<3>::from_data(TensorData::new(frequencies, [1, 1, half]), &device);
        // [batch, seq, half]
        let angles = positions.clone().float().unsqueeze_dim::<3>(2) * frequencies;
        let mut parts = vec![angles.clone().sin(), angles.cos()];
        if self.dim % 2 == 1 {
            parts.push(Tensor::zeros([batch, seq, 1], &device));
        }
        let real = positions
            .not_equal_elem(self.padding_idx as i64)
            .float()
            .unsqueeze_dim::<3>(2);
        Tensor::cat(parts, 2) * real
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_skip_padding_on_either_side() {
        let device = crate::device::cpu();
        let padding = Tensor::<2, Bool>::from_bool(
            TensorData::new(
                vec![true, true, false, false, false, false, true, true],
                [2, 4],
            ),
            &device,
        );
        let positions = make_positions(padding, 1).try_to_vec_as::<i64>().unwrap();
        assert_eq!(positions, vec![1, 1, 2, 3, 2, 3, 1, 1]);
    }

    #[test]
    fn sinusoids_follow_fairseq_layout() {
        let device = crate::device::cpu();
        let embedding = PositionalEmbedding::sinusoidal(5, 1, 100);
        let padding =
            Tensor::<2, Bool>::from_bool(TensorData::new(vec![true, false], [1, 2]), &device);
        let values = embedding
            .continuing(2, 1, 1, &device)
            .try_to_vec_as::<f32>()
            .unwrap();
        // Step 3 of decoding is position padding_idx + 3 = 4.
        let expected_step = [4f32.sin(), 4e-4f32.sin(), 4f32.cos(), 4e-4f32.cos(), 0.0];
        for (got, want) in values.iter().zip(expected_step) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
        let values = embedding.forward(padding).try_to_vec_as::<f32>().unwrap();
        // Padding embeds to zero.
        assert_eq!(&values[..5], &[0.0; 5]);
        // half = 2: frequencies 1 and 1e-4; position 2 is [sin(2), sin(2e-4), cos(2), cos(2e-4), 0].
        let expected = [2f32.sin(), 2e-4f32.sin(), 2f32.cos(), 2e-4f32.cos(), 0.0];
        for (got, want) in values[5..].iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
    }

    #[test]
    fn learned_table_is_offset_by_the_padding_index() {
        let device = crate::device::cpu();
        let embedding = PositionalEmbedding::learned(8, 1, 10, &device);
        let table = embedding.learned.as_ref().unwrap().weight.val();
        // Rows 0 and 1 (padding) are never real positions; positions 1..=10 use rows 2..=11.
        assert_eq!(table.dims(), [12, 8]);
        let padding =
            Tensor::<2, Bool>::from_bool(TensorData::new(vec![true, false], [1, 2]), &device);
        let embedded = embedding.forward(padding).try_to_vec_as::<f32>().unwrap();
        let rows = table.try_to_vec_as::<f32>().unwrap();
        assert_eq!(&embedded[..8], &rows[8..16]);
        assert_eq!(&embedded[8..], &rows[16..24]);
    }
}
