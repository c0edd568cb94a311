//! Key/value cache for incremental decoding.

use burn::tensor::{Int, Tensor};

/// Keys and values of every layer for the positions decoded so far, and their attention mask.
///
/// Pass the same cache to successive [`Llama::forward`](super::Llama::forward) calls: each call
/// attends over the cached positions plus its own and appends its keys, values and mask.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    /// One entry per decoder layer.
    layers: Vec<LayerCache>,
    /// Attention mask of the cached positions `[batch, len]`.
    mask: Option<Tensor<2, Int>>,
}

/// Cached keys and values of one attention layer, stored after the rotary embedding with
/// `num_kv_heads` heads (before grouped-query repetition).
#[derive(Debug, Clone, Default)]
pub struct LayerCache {
    /// Keys and values `[batch, kv_heads, len, head_dim]`.
    key_value: Option<(Tensor<4>, Tensor<4>)>,
}

impl LayerCache {
    /// Appends new keys and values `[batch, kv_heads, new, head_dim]` and returns those of all
    /// positions.
    pub fn append(&mut self, key: Tensor<4>, value: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let full = match self.key_value.take() {
            Some((old_key, old_value)) => (
                Tensor::cat(vec![old_key, key], 2),
                Tensor::cat(vec![old_value, value], 2),
            ),
            None => (key, value),
        };
        self.key_value = Some(full.clone());
        full
    }
}

impl KvCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of cached positions (including padding).
    pub fn len(&self) -> usize {
        self.mask.as_ref().map_or(0, |mask| mask.dims()[1])
    }

    /// True before the first forward pass.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends the mask of new positions and returns the mask of all positions `[batch, len]`.
    pub(super) fn extend_mask(&mut self, new: Tensor<2, Int>) -> Tensor<2, Int> {
        let full = match self.mask.take() {
            Some(old) => Tensor::cat(vec![old, new], 1),
            None => new,
        };
        self.mask = Some(full.clone());
        full
    }

    /// The caches of the first `num_layers` layers, created on first use.
    pub(super) fn layers_mut(&mut self, num_layers: usize) -> &mut [LayerCache] {
        if self.layers.len() < num_layers {
            self.layers.resize(num_layers, LayerCache::default());
        }
        &mut self.layers[..num_layers]
    }
}
