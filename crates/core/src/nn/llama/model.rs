//! The Llama decoder: embeddings, pre-norm decoder layers with a swappable attention block
//! (rotary grouped-query attention by default) and a swappable feed-forward block, final
//! RMSNorm and the language-model head.

use std::path::Path;

use burn::module::{Module, ModuleDisplay};
use burn::nn::{
    Embedding, EmbeddingConfig, Initializer, Linear, LinearConfig, RmsNorm, RmsNormConfig,
};
use burn::tensor::activation::silu;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use super::cache::{KvCache, LayerCache};
use super::config::{LlamaConfig, LlamaLoadError};
pub use super::rope::{RopeAngles, RotaryEmbedding};
use crate::nn::weights::{Pretrained, WeightSource};

/// The feed-forward block of a decoder layer: the extension point for other block types such
/// as DeepSeek-MoE expert layers ([`LlamaMlp`] is Llama's dense SwiGLU).
///
/// A model with another block is built with [`LlamaConfig::init_with`], which asks for one block
/// per layer, so dense and expert layers can be mixed through an enum implementing this trait.
pub trait FeedForward: Module + ModuleDisplay {
    /// Applies the block.
    ///
    /// # Shapes
    /// - `hidden`: `[batch, seq, d_model]`; output: `[batch, seq, d_model]`
    fn forward(&self, hidden: Tensor<3>) -> Tensor<3>;

    /// Fills the block's parameters from a checkpoint, with tensor names under `prefix`
    /// (`model.layers.N.mlp`).
    fn load_weights(&mut self, weights: &mut WeightSource, prefix: &str);
}

/// The self-attention block of a decoder layer: the extension point for other attention types
/// such as DeepSeek-V2's multi-head latent attention ([`LlamaAttention`] is Llama's rotary
/// grouped-query attention).
///
/// A model with another attention is built with [`LlamaConfig::init_with_layers`], which asks
/// for one attention block per layer, so attention types can be mixed through an enum
/// implementing this trait.
pub trait SelfAttention: Module + ModuleDisplay {
    /// Attends from the new positions to the cached and new positions, appending the new keys
    /// and values to `cache`.
    ///
    /// # Shapes
    /// - `hidden`: `[batch, seq, d_model]`
    /// - `rope`: angles of the new positions (see [`RotaryEmbedding::angles`])
    /// - `mask`: `[batch, 1, seq, len]`, true where a key is hidden (causality is added by the
    ///   block); `len` is the number of cached positions plus `seq`
    /// - output: `[batch, seq, d_model]`
    fn forward(
        &self,
        hidden: Tensor<3>,
        rope: &RopeAngles,
        mask: Tensor<4, Bool>,
        cache: Option<&mut LayerCache>,
    ) -> Tensor<3>;

    /// Fills the block's parameters from a checkpoint, with tensor names under `prefix`
    /// (`model.layers.N.self_attn`).
    fn load_weights(&mut self, weights: &mut WeightSource, prefix: &str);
}

/// Llama's SwiGLU feed-forward block: `down(silu(gate(x)) * up(x))`.
#[derive(Module, Debug)]
pub struct LlamaMlp {
    /// Gate projection `[d_model, inner]`.
    pub gate_proj: Linear,
    /// Up projection `[d_model, inner]`.
    pub up_proj: Linear,
    /// Down projection `[inner, d_model]`.
    pub down_proj: Linear,
}

impl FeedForward for LlamaMlp {
    fn forward(&self, hidden: Tensor<3>) -> Tensor<3> {
        let gate = silu(self.gate_proj.forward(hidden.clone()));
        self.down_proj.forward(gate * self.up_proj.forward(hidden))
    }

    fn load_weights(&mut self, weights: &mut WeightSource, prefix: &str) {
        weights.fill_linear(&mut self.gate_proj, &format!("{prefix}.gate_proj"));
        weights.fill_linear(&mut self.up_proj, &format!("{prefix}.up_proj"));
        weights.fill_linear(&mut self.down_proj, &format!("{prefix}.down_proj"));
    }
}

/// Causal self-attention with rotary embeddings and grouped key/value heads.
#[derive(Module, Debug)]
pub struct LlamaAttention {
    /// Query projection `[d_model, heads * head_dim]`.
    pub q_proj: Linear,
    /// Key projection `[d_model, kv_heads * head_dim]`.
    pub k_proj: Linear,
    /// Value projection `[d_model, kv_heads * head_dim]`.
    pub v_proj: Linear,
    /// Output projection `[heads * head_dim, d_model]`.
    pub o_proj: Linear,
    /// Number of query heads.
    pub num_heads: usize,
    /// Number of key/value heads; each serves `num_heads / num_kv_heads` query heads.
    pub num_kv_heads: usize,
    /// Size of one head.
    pub head_dim: usize,
}

impl LlamaAttention {
    /// Attends from the new positions to the cached and new positions.
    ///
    /// # Shapes
    /// - `hidden`: `[batch, seq, d_model]`
    /// - `rope`: angles of the new positions (see [`RotaryEmbedding::angles`])
    /// - `mask`: `[batch, 1, seq, len]`, true where a key is hidden (causality is added here);
    ///   `len` is the number of cached positions plus `seq`
    /// - output: `[batch, seq, d_model]`
    pub fn forward(
        &self,
        hidden: Tensor<3>,
        rope: &RopeAngles,
        mask: Tensor<4, Bool>,
        cache: Option<&mut LayerCache>,
    ) -> Tensor<3> {
        let [batch, seq, _] = hidden.dims();
        let (heads, kv_heads, d_head) = (self.num_heads, self.num_kv_heads, self.head_dim);
        // [batch, seq, n * d_head] -> [batch, n, seq, d_head]
        let split = |x: Tensor<3>, n: usize| x.reshape([batch, seq, n, d_head]).swap_dims(1, 2);
        let q = rope.rotate(split(self.q_proj.forward(hidden.clone()), heads));
        let k = rope.rotate(split(self.k_proj.forward(hidden.clone()), kv_heads));
        let v = split(self.v_proj.forward(hidden), kv_heads);
        let (k, v) = match cache {
            Some(cache) => cache.append(k, v),
            None => (k, v),
        };
        let len = k.dims()[2];
        let group = heads / kv_heads;
        let context = if seq == 1 && group > 1 {
            // One new position (a decoding step): the `group` query heads that share a key/value
            // head become the query rows of that head, so the cached keys and values are used
            // as they are instead of being copied `group` times; one query needs no causal mask.
            let q = q.reshape([batch, kv_heads, group, d_head]);
            let context = attention(
                q,
                k,
                v,
                Some(mask.expand([batch, kv_heads, group, len])),
                None,
                AttentionModuleOptions::default(),
            );
            context.reshape([batch, heads, 1, d_head])
        } else {
            // [batch, kv_heads, len, d_head] -> [batch, heads, len, d_head], each key/value
            // head repeated for its group of consecutive query heads.
            let repeat = |x: Tensor<4>| {
                x.unsqueeze_dim::<5>(2)
                    .expand([batch, kv_heads, group, len, d_head])
                    .reshape([batch, heads, len, d_head])
            };
            attention(
                q,
                repeat(k),
                repeat(v),
                Some(mask.expand([batch, heads, seq, len])),
                None,
                AttentionModuleOptions {
                    is_causal: true,
                    ..Default::default()
                },
            )
        };
        // [batch, heads, seq, d_head] -> [batch, seq, heads * d_head]
        let context = context
            .swap_dims(1, 2)
            .reshape([batch, seq, heads * d_head]);
        self.o_proj.forward(context)
    }
}

impl SelfAttention for LlamaAttention {
    fn forward(
        &self,
        hidden: Tensor<3>,
        rope: &RopeAngles,
        mask: Tensor<4, Bool>,
        cache: Option<&mut LayerCache>,
    ) -> Tensor<3> {
        LlamaAttention::forward(self, hidden, rope, mask, cache)
    }

    /// Checkpoint names `{prefix}.{q,k,v,o}_proj.{weight,bias}`.
    fn load_weights(&mut self, weights: &mut WeightSource, prefix: &str) {
        for (proj, name) in [
            (&mut self.q_proj, "q_proj"),
            (&mut self.k_proj, "k_proj"),
            (&mut self.v_proj, "v_proj"),
            (&mut self.o_proj, "o_proj"),
        ] {
            weights.fill_linear(proj, &format!("{prefix}.{name}"));
        }
    }
}

/// One pre-norm decoder layer: `h = x + attn(norm(x))`, `out = h + ffn(norm(h))`.
#[derive(Module, Debug)]
pub struct LlamaDecoderLayer<F = LlamaMlp, A = LlamaAttention> {
    /// Self-attention.
    pub self_attn: A,
    /// Feed-forward block.
    pub mlp: F,
    /// RMSNorm before attention.
    pub input_layernorm: RmsNorm,
    /// RMSNorm before the feed-forward block.
    pub post_attention_layernorm: RmsNorm,
}

impl<F: FeedForward, A: SelfAttention> LlamaDecoderLayer<F, A> {
    /// Applies the layer; see [`SelfAttention::forward`] for the arguments.
    ///
    /// # Shapes
    /// - `hidden`: `[batch, seq, d_model]`; output: `[batch, seq, d_model]`
    pub fn forward(
        &self,
        hidden: Tensor<3>,
        rope: &RopeAngles,
        mask: Tensor<4, Bool>,
        cache: Option<&mut LayerCache>,
    ) -> Tensor<3> {
        let attended = self.self_attn.forward(
            self.input_layernorm.forward(hidden.clone()),
            rope,
            mask,
            cache,
        ) + hidden;
        self.mlp
            .forward(self.post_attention_layernorm.forward(attended.clone()))
            + attended
    }
}

/// A Llama-style causal language model (`LlamaForCausalLM`).
#[derive(Module, Debug)]
pub struct Llama<F = LlamaMlp, A = LlamaAttention> {
    /// Token embeddings `[vocab, d_model]`.
    pub embed_tokens: Embedding,
    /// Decoder layers.
    pub layers: Vec<LlamaDecoderLayer<F, A>>,
    /// Final RMSNorm.
    pub norm: RmsNorm,
    /// Output projection `[d_model, vocab]`; `None` when tied to `embed_tokens`.
    pub lm_head: Option<Linear>,
    /// Rotary embedding shared by all layers.
    pub rotary: RotaryEmbedding,
}

/// Token ids and attention mask of a batch.
#[derive(Debug, Clone)]
pub struct LlamaInput {
    /// Token ids `[batch, seq]`.
    pub input_ids: Tensor<2, Int>,
    /// 1 for real tokens, 0 for padding `[batch, seq]`.
    pub attention_mask: Tensor<2, Int>,
}

impl LlamaInput {
    /// Unpadded sequences: every position is attended to.
    pub fn new(input_ids: Tensor<2, Int>) -> Self {
        let attention_mask = Tensor::ones(input_ids.dims(), &input_ids.device());
        Self {
            input_ids,
            attention_mask,
        }
    }

    /// Token-id rows of different lengths, padded on the LEFT with id 0 (masked out), so that
    /// every row ends at the last column, as batched generation needs.
    pub fn left_padded(rows: &[Vec<u32>], device: &Device) -> Self {
        let batch = rows.len();
        let seq = rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut ids = vec![0i64; batch * seq];
        let mut mask = vec![0i64; batch * seq];
        for (row, tokens) in rows.iter().enumerate() {
            let start = row * seq + seq - tokens.len();
            for (offset, &token) in tokens.iter().enumerate() {
                ids[start + offset] = token as i64;
                mask[start + offset] = 1;
            }
        }
        Self {
            input_ids: Tensor::from_data(TensorData::new(ids, [batch, seq]), device),
            attention_mask: Tensor::from_data(TensorData::new(mask, [batch, seq]), device),
        }
    }
}

impl LlamaConfig {
    /// A freshly initialised model with Llama's SwiGLU blocks.
    pub fn init(&self, device: &Device) -> Llama {
        self.init_with(device, |_| self.init_mlp(device))
    }

    /// A freshly initialised SwiGLU block of this configuration.
    pub fn init_mlp(&self, device: &Device) -> LlamaMlp {
        let linear = |d_in, d_out| self.linear(d_in, d_out, self.mlp_bias, device);
        LlamaMlp {
            gate_proj: linear(self.hidden_size, self.intermediate_size),
            up_proj: linear(self.hidden_size, self.intermediate_size),
            down_proj: linear(self.intermediate_size, self.hidden_size),
        }
    }

    /// A freshly initialised model whose layer `i` uses the feed-forward block
    /// `feed_forward(i)` (normal weights with `initializer_range`, norms at one).
    ///
    /// # Panics
    /// When the head arithmetic is inconsistent (see [`LlamaConfig::validate`]).
    pub fn init_with<F: FeedForward>(
        &self,
        device: &Device,
        feed_forward: impl FnMut(usize) -> F,
    ) -> Llama<F> {
        self.init_with_layers(
            device,
            self.rotary(),
            |_| self.init_attention(device),
            feed_forward,
        )
    }

    /// A freshly initialised rotary grouped-query attention block of this configuration.
    pub fn init_attention(&self, device: &Device) -> LlamaAttention {
        let (h, d_head) = (self.hidden_size, self.head_dim());
        let qkv_bias = self.attention_bias || self.qkv_bias;
        let attn = |d_in, d_out| self.linear(d_in, d_out, qkv_bias, device);
        LlamaAttention {
            q_proj: attn(h, self.num_heads * d_head),
            k_proj: attn(h, self.num_kv_heads * d_head),
            v_proj: attn(h, self.num_kv_heads * d_head),
            o_proj: self.linear(self.num_heads * d_head, h, self.attention_bias, device),
            num_heads: self.num_heads,
            num_kv_heads: self.num_kv_heads,
            head_dim: d_head,
        }
    }

    /// The rotary embedding of this configuration: `head_dim` dimensions in the
    /// `rotate_half` layout, with `rope_scaling` if set.
    pub fn rotary(&self) -> RotaryEmbedding {
        RotaryEmbedding::new(self.head_dim(), self.rope_theta)
            .with_scaling(self.rope_scaling.clone())
    }

    /// A freshly initialised model with the rotary embedding `rotary`, whose layer `i` uses
    /// the attention block `attention(i)` and the feed-forward block `feed_forward(i)`
    /// (embeddings, norms and head initialised as in [`LlamaConfig::init`]).
    ///
    /// # Panics
    /// When the head arithmetic is inconsistent (see [`LlamaConfig::validate`]).
    pub fn init_with_layers<F: FeedForward, A: SelfAttention>(
        &self,
        device: &Device,
        rotary: RotaryEmbedding,
        mut attention: impl FnMut(usize) -> A,
        mut feed_forward: impl FnMut(usize) -> F,
    ) -> Llama<F, A> {
        if let Err(message) = self.validate() {
            panic!("invalid LlamaConfig: {message}");
        }
        let h = self.hidden_size;
        let norm = || {
            RmsNormConfig::new(h)
                .with_epsilon(self.rms_norm_eps)
                .init(device)
        };
        Llama {
            embed_tokens: EmbeddingConfig::new(self.vocab_size, h)
                .with_initializer(self.initializer())
                .init(device),
            layers: (0..self.num_layers)
                .map(|i| LlamaDecoderLayer {
                    self_attn: attention(i),
                    mlp: feed_forward(i),
                    input_layernorm: norm(),
                    post_attention_layernorm: norm(),
                })
                .collect(),
            norm: norm(),
            lm_head: (!self.tie_word_embeddings)
                .then(|| self.linear(h, self.vocab_size, false, device)),
            rotary,
        }
    }

    fn initializer(&self) -> Initializer {
        Initializer::Normal {
            mean: 0.0,
            std: self.initializer_range,
        }
    }

    fn linear(&self, d_in: usize, d_out: usize, bias: bool, device: &Device) -> Linear {
        LinearConfig::new(d_in, d_out)
            .with_bias(bias)
            .with_initializer(self.initializer())
            .init(device)
    }
}

impl Llama {
    /// Loads a Hugging Face model directory holding `config.json` and `model.safetensors` (or
    /// the shards of `model.safetensors.index.json`), returning the model with its parsed
    /// configuration.
    ///
    /// Missing or wrongly-shaped tensors are an error naming each one; tensors the model does
    /// not use (e.g. `lm_head.weight` of a tied checkpoint) are listed in the report.
    pub fn from_pretrained(
        dir: impl AsRef<Path>,
        device: &Device,
    ) -> Result<Pretrained<Llama, LlamaConfig>, LlamaLoadError> {
        let dir = dir.as_ref();
        let config = LlamaConfig::from_hf_file(dir.join("config.json"))?;
        let mut weights = WeightSource::open_dir(dir, device)?;
        let mut model = config.init(device);
        model.load_weights(&mut weights);
        let report = weights.finish()?;
        tracing::info!(
            dir = %dir.display(),
            loaded = report.loaded.len(),
            unused = report.unexpected.len(),
            "loaded Llama"
        );
        Ok(Pretrained {
            model,
            config,
            report,
        })
    }
}

impl<F: FeedForward, A: SelfAttention> Llama<F, A> {
    /// Fills every parameter from a checkpoint with Hugging Face names:
    ///
    /// | parameter | checkpoint tensor |
    /// |---|---|
    /// | `embed_tokens` | `model.embed_tokens.weight` |
    /// | `layers[N].self_attn` | [`SelfAttention::load_weights`] with `model.layers.N.self_attn` (Llama: `{q,k,v,o}_proj.{weight,bias}`) |
    /// | `layers[N].mlp` | [`FeedForward::load_weights`] with `model.layers.N.mlp` (SwiGLU: `{gate,up,down}_proj`) |
    /// | `layers[N].{input,post_attention}_layernorm` | `model.layers.N.{input,post_attention}_layernorm.weight` |
    /// | `norm` | `model.norm.weight` |
    /// | `lm_head` (untied only) | `lm_head.weight` |
    pub fn load_weights(&mut self, weights: &mut WeightSource) {
        weights.fill_embedding(&mut self.embed_tokens, "model.embed_tokens");
        for (i, layer) in self.layers.iter_mut().enumerate() {
            let p = format!("model.layers.{i}");
            layer
                .self_attn
                .load_weights(weights, &format!("{p}.self_attn"));
            layer.mlp.load_weights(weights, &format!("{p}.mlp"));
            weights.fill(
                &mut layer.input_layernorm.gamma,
                &format!("{p}.input_layernorm.weight"),
            );
            weights.fill(
                &mut layer.post_attention_layernorm.gamma,
                &format!("{p}.post_attention_layernorm.weight"),
            );
        }
        weights.fill(&mut self.norm.gamma, "model.norm.weight");
        if let Some(head) = self.lm_head.as_mut() {
            weights.fill_linear(head, "lm_head");
        }
    }

    /// Vocabulary size.
    pub fn vocab_size(&self) -> usize {
        self.embed_tokens.weight.lazy_shape().dims::<2>()[0]
    }

    /// The device holding the parameters.
    pub fn device(&self) -> Device {
        self.embed_tokens.weight.device()
    }

    /// Final (normalised) hidden states of the new positions.
    ///
    /// Position ids come from the attention mask as in Hugging Face's `generate`: each real
    /// token's position is the number of real tokens before it (cached ones included), so
    /// left padding does not shift positions. With a cache, the new positions attend to the
    /// cached ones and are appended to the cache; without one, the input is the whole sequence.
    ///
    /// # Shapes
    /// - `input.input_ids`, `input.attention_mask`: `[batch, seq]`
    /// - output: `[batch, seq, d_model]`
    pub fn hidden_states(&self, input: LlamaInput, cache: Option<&mut KvCache>) -> Tensor<3> {
        let [batch, seq] = input.input_ids.dims();
        let new_mask = input.attention_mask;
        let (full_mask, mut layer_caches) = match cache {
            Some(cache) => {
                let full = cache.extend_mask(new_mask.clone());
                (full, Some(cache.layers_mut(self.layers.len())))
            }
            None => (new_mask.clone(), None),
        };
        let len = full_mask.dims()[1];
        let positions = (full_mask.clone().cumsum(1) - 1)
            .clamp_min(0)
            .slice([0..batch, len - seq..len]);
        let rope = self.rotary.angles(positions);
        // [batch, 1, seq, len]: padded keys are hidden from real queries. Padded queries see
        // every earlier position (at least themselves), so no softmax row is empty.
        let shape = [batch, 1, seq, len];
        let padded_key = full_mask
            .equal_elem(0)
            .unsqueeze_dim::<3>(1)
            .unsqueeze_dim::<4>(1)
            .expand(shape);
        let real_query = new_mask
            .equal_elem(1)
            .unsqueeze_dim::<3>(1)
            .unsqueeze_dim::<4>(3)
            .expand(shape);
        let mask = padded_key.bool_and(real_query);

        let mut hidden = self.embed_tokens.forward(input.input_ids);
        for (i, layer) in self.layers.iter().enumerate() {
            let layer_cache = layer_caches.as_mut().map(|caches| &mut caches[i]);
            hidden = layer.forward(hidden, &rope, mask.clone(), layer_cache);
        }
        self.norm.forward(hidden)
    }

    /// Next-token logits from hidden states (the tied embedding matrix when there is no
    /// `lm_head`).
    ///
    /// # Shapes
    /// - `hidden`: `[batch, seq, d_model]`; output: `[batch, seq, vocab]`
    pub fn logits(&self, hidden: Tensor<3>) -> Tensor<3> {
        let [batch, seq, d_model] = hidden.dims();
        // One 2-D matrix product over all positions: burn's batched `linear` with a transposed
        // `[vocab, d_model]` operand copies the whole matrix on every call (a 25x slowdown per
        // decoding step for a 49k vocabulary on the CPU backend).
        let flat = hidden.reshape([batch * seq, d_model]);
        let logits = match &self.lm_head {
            Some(head) => {
                let out = flat.matmul(head.weight.val());
                match &head.bias {
                    Some(bias) => out + bias.val().unsqueeze::<2>(),
                    None => out,
                }
            }
            None => flat.matmul(self.embed_tokens.weight.val().transpose()),
        };
        let vocab = logits.dims()[1];
        logits.reshape([batch, seq, vocab])
    }

    /// Next-token logits of the new positions: [`Llama::logits`] of [`Llama::hidden_states`].
    ///
    /// # Shapes
    /// - `input.input_ids`, `input.attention_mask`: `[batch, seq]`
    /// - output: `[batch, seq, vocab]`
    pub fn forward(&self, input: LlamaInput, cache: Option<&mut KvCache>) -> Tensor<3> {
        self.logits(self.hidden_states(input, cache))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotary_matches_rotate_half_by_hand() {
        let device = crate::device::cpu();
        let rotary = RotaryEmbedding::new(4, 100.0);
        let positions = Tensor::<2, Int>::from_ints([[0, 3]], &device);
        let x = Tensor::<4>::from_floats([[[[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]]]], &device);
        let out = rotary
            .angles(positions)
            .rotate(x)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        // Position 0 is the identity; at position 3 the pairs (x0, x2) and (x1, x3) rotate by
        // 3 * theta^0 = 3 and 3 * theta^(-1/2) = 0.3 radians.
        assert_eq!(&out[..4], &[1.0, 2.0, 3.0, 4.0]);
        let rotate = |a: f32, b: f32, angle: f32| {
            (
                a * angle.cos() - b * angle.sin(),
                b * angle.cos() + a * angle.sin(),
            )
        };
        let (x0, x2) = rotate(1.0, 3.0, 3.0);
        let (x1, x3) = rotate(2.0, 4.0, 0.3);
        for (got, want) in out[4..].iter().zip([x0, x1, x2, x3]) {
            assert!((got - want).abs() < 1e-5, "{:?}", &out[4..]);
        }
    }

    #[test]
    fn left_padding_puts_tokens_at_the_end() {
        let device = crate::device::cpu();
        let input = LlamaInput::left_padded(&[vec![5, 6, 7], vec![9]], &device);
        let ids = input
            .input_ids
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .unwrap();
        let mask = input
            .attention_mask
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .unwrap();
        assert_eq!(ids, vec![5, 6, 7, 0, 0, 9]);
        assert_eq!(mask, vec![1, 1, 1, 0, 0, 1]);
    }
}
