//! The tiny captioner: a ViT-style patch encoder and the core Transformer decoder.
//!
//! Dosovitskiy et al., "An Image is Worth 16x16 Words: Transformers for Image Recognition at
//! Scale", ICLR 2021 (<https://arxiv.org/abs/2010.11929>): the image is cut into
//! non-overlapping `patch × patch` squares, each flattened and projected linearly to `d_model`,
//! learned 1-D position embeddings are added, and Transformer encoder layers follow (no class
//! token: the decoder attends to every patch). The encoder layers and the decoder are
//! `burnlp_core::nn::seq2seq`'s (Vaswani et al. 2017, pre-LN), with one embedding matrix for
//! the decoder input and the output projection.

use burnlp_core::burn;
use burnlp_core::burn::module::Module;
use burnlp_core::burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, LayerNorm, Linear, LinearConfig,
};
use burnlp_core::burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use burnlp_core::nn::seq2seq::layers::EncoderLayer;
use burnlp_core::nn::seq2seq::{
    EncoderOutput, FfnActivation, Hypothesis, NormPosition, PositionKind, SearchConfig,
    Transformer, TransformerConfig, greedy_search,
};
use serde::{Deserialize, Serialize};

use super::charts::Raster;
use super::vocab::{EOS, PAD};

/// What is needed to rebuild a captioner (saved as `RUN/model.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptionerSpec {
    /// Input images are `image_size × image_size` grey-scale.
    pub image_size: usize,
    /// Side of a patch; divides `image_size`.
    pub patch: usize,
    /// Model size.
    pub d_model: usize,
    /// Feed-forward inner size.
    pub ffn_dim: usize,
    /// Attention heads.
    pub heads: usize,
    /// Patch-encoder layers.
    pub encoder_layers: usize,
    /// Decoder layers.
    pub decoder_layers: usize,
    /// Dropout.
    pub dropout: f64,
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Longest caption, in words (longer ones are cut in training).
    pub max_caption_words: usize,
}

impl CaptionerSpec {
    /// A tiny captioner (`d_model` 64, 4 heads, 2 + 2 layers, 32×32 images in 8×8 patches).
    pub fn tiny(vocab_size: usize) -> Self {
        Self {
            image_size: 32,
            patch: 8,
            d_model: 64,
            ffn_dim: 128,
            heads: 4,
            encoder_layers: 2,
            decoder_layers: 2,
            dropout: 0.0,
            vocab_size,
            max_caption_words: 40,
        }
    }

    /// Number of patches.
    pub fn patches(&self) -> usize {
        (self.image_size / self.patch).pow(2)
    }

    /// The first problem of the settings, if any.
    pub fn problem(&self) -> Option<String> {
        if self.patch == 0 || self.image_size == 0 || !self.image_size.is_multiple_of(self.patch) {
            return Some(format!(
                "patch {} must divide image size {}",
                self.patch, self.image_size
            ));
        }
        if self.heads == 0 || !self.d_model.is_multiple_of(self.heads) || self.d_model < 4 {
            return Some(format!(
                "d_model {} must be ≥ 4 and a multiple of heads {}",
                self.d_model, self.heads
            ));
        }
        if self.vocab_size <= EOS as usize + 1 || self.max_caption_words == 0 {
            return Some("the vocabulary and the caption length must not be empty".into());
        }
        None
    }

    fn transformer(
        &self,
        vocab: usize,
        encoder_layers: usize,
        decoder_layers: usize,
    ) -> TransformerConfig {
        TransformerConfig::new(vocab, vocab)
            .with_d_model(self.d_model)
            .with_ffn_dim(self.ffn_dim)
            .with_num_heads(self.heads)
            .with_encoder_layers(encoder_layers)
            .with_decoder_layers(decoder_layers)
            .with_dropout(self.dropout)
            .with_activation(FfnActivation::Gelu)
            .with_norm_position(NormPosition::Pre)
            .with_positions(PositionKind::Learned)
            .with_max_source_positions(self.patches())
            .with_max_target_positions(self.max_caption_words + 2)
            .with_padding_idx(PAD as usize)
    }

    /// A freshly initialised captioner on `device`.
    pub fn init(&self, device: &Device) -> Captioner {
        // The encoder layers and final norm of a vision-side Transformer (fairseq's
        // initialisation); its token embeddings and positions are not used.
        let vision = self
            .transformer(PAD as usize + 1, self.encoder_layers, 0)
            .init(device);
        let mut decoder = self
            .transformer(self.vocab_size, 0, self.decoder_layers)
            .with_share_all_embeddings(true)
            .init(device);
        // No encoder layers on the text side: its final norm would be unused.
        decoder.encoder.layer_norm = None;
        Captioner {
            encoder: PatchEncoder {
                patch_embedding: LinearConfig::new(self.patch * self.patch, self.d_model)
                    .init(device),
                positions: EmbeddingConfig::new(self.patches(), self.d_model).init(device),
                layers: vision.encoder.layers,
                layer_norm: vision.encoder.layer_norm,
                dropout: DropoutConfig::new(self.dropout).init(),
            },
            decoder,
        }
    }
}

/// Patch embedding, learned positions and Transformer encoder layers.
#[derive(Module, Debug)]
pub struct PatchEncoder {
    /// Linear projection of a flattened patch to `d_model`.
    pub patch_embedding: Linear,
    /// Learned position of each patch.
    pub positions: Embedding,
    /// The encoder layers (core's, pre-LN).
    pub layers: Vec<EncoderLayer>,
    /// Final layer norm (pre-LN).
    pub layer_norm: Option<LayerNorm>,
    /// Dropout on the embedded patches.
    pub dropout: Dropout,
}

impl PatchEncoder {
    /// Encodes flattened patches.
    ///
    /// # Shapes
    /// - `patches`: `[batch, n_patches, patch²]`
    /// - output hidden: `[batch, n_patches, d_model]`, no padding
    pub fn forward(&self, patches: Tensor<3>) -> EncoderOutput {
        let [batch, n, _] = patches.dims();
        let device = patches.device();
        let positions = Tensor::<1, Int>::arange(0..n as i64, &device)
            .unsqueeze::<2>()
            .expand([batch, n]);
        let mut x = self
            .dropout
            .forward(self.patch_embedding.forward(patches) + self.positions.forward(positions));
        for layer in &self.layers {
            x = layer.forward(x, None);
        }
        if let Some(norm) = &self.layer_norm {
            x = norm.forward(x);
        }
        let padding: Tensor<2, Bool> = Tensor::<2, Int>::zeros([batch, n], &device).equal_elem(1);
        EncoderOutput { hidden: x, padding }
    }
}

/// The captioner: [`PatchEncoder`] and the core Transformer's decoder.
#[derive(Module, Debug)]
pub struct Captioner {
    /// The image encoder.
    pub encoder: PatchEncoder,
    /// The text decoder (its encoder stack is empty; its token embeddings are the decoder's).
    pub decoder: Transformer,
}

impl Captioner {
    /// Teacher-forced next-word logits.
    ///
    /// # Shapes
    /// - `patches`: `[batch, n_patches, patch²]`; `prev_output_tokens`: `[batch, len]`
    /// - output: `[batch, len, vocab]`
    pub fn forward(&self, patches: Tensor<3>, prev_output_tokens: Tensor<2, Int>) -> Tensor<3> {
        let encoded = self.encoder.forward(patches);
        self.decoder.decode(prev_output_tokens, &encoded)
    }

    /// Greedy captions of a batch of patch tensors, at most `max_words` words each.
    pub fn greedy(&self, patches: Tensor<3>, max_words: usize) -> Vec<Hypothesis> {
        let n = patches.dims()[1];
        let encoded = self.encoder.forward(patches);
        let state = self.decoder.start_decoding(&encoded);
        let config = SearchConfig::new(EOS, PAD)
            .with_beam_size(1)
            .with_max_len_a(0.0)
            .with_max_len_b(max_words);
        greedy_search(&self.decoder, state, n, &config)
    }
}

/// The flattened `patch × patch` squares of an image, row by row (`[n_patches · patch²]`).
pub fn patchify(image: &Raster, patch: usize) -> Vec<f32> {
    let (rows, cols) = (image.height / patch, image.width / patch);
    let mut out = Vec::with_capacity(rows * cols * patch * patch);
    for py in 0..rows {
        for px in 0..cols {
            for y in 0..patch {
                for x in 0..patch {
                    out.push(image.get(px * patch + x, py * patch + y));
                }
            }
        }
    }
    out
}

/// A `[batch, n_patches, patch²]` tensor of images (all `spec.image_size` square).
pub fn patch_tensor(images: &[&Raster], spec: &CaptionerSpec, device: &Device) -> Tensor<3> {
    let per = spec.patch * spec.patch;
    let data: Vec<f32> = images
        .iter()
        .flat_map(|image| patchify(image, spec.patch))
        .collect();
    Tensor::from_data(
        TensorData::new(data, [images.len(), spec.patches(), per]),
        device,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patchify_orders_patches_row_by_row() {
        let mut r = Raster::new(4, 4);
        r.ink(3, 0); // top-right patch, its top-right pixel
        r.ink(0, 2); // bottom-left patch, its top-left pixel
        let p = patchify(&r, 2);
        assert_eq!(p.len(), 16);
        assert_eq!(p[4 + 1], 1.0);
        assert_eq!(p[8], 1.0);
        assert_eq!(p.iter().sum::<f32>(), 2.0);
    }

    #[test]
    fn shapes_and_greedy_lengths() {
        let device = burnlp_core::device::cpu();
        let spec = CaptionerSpec {
            max_caption_words: 5,
            ..CaptionerSpec::tiny(12)
        };
        assert_eq!(spec.problem(), None);
        let model = spec.init(&device);
        let images = [Raster::new(32, 32), Raster::new(32, 32)];
        let refs: Vec<&Raster> = images.iter().collect();
        let x = patch_tensor(&refs, &spec, &device);
        assert_eq!(x.dims(), [2, 16, 64]);
        let prev = Tensor::<2, Int>::from_data(
            TensorData::new(vec![2i64, 5, 6, 2, 7, 1], [2, 3]),
            &device,
        );
        assert_eq!(model.forward(x.clone(), prev).dims(), [2, 3, 12]);
        for h in model.greedy(x, 5) {
            assert!(h.tokens.len() <= 6 && h.tokens.last() == Some(&EOS));
        }
        let bad = CaptionerSpec { patch: 5, ..spec };
        assert!(bad.problem().unwrap().contains("divide"));
    }
}
