//! Writing an encoder as a Hugging Face model directory that [`Bert::from_pretrained`] (and, for
//! an unpruned model, `transformers`) reads back.

use std::path::Path;

use burn::module::Param;
use burn::nn::{LayerNorm, Linear};
use burn::tensor::Tensor;

use super::{Bert, BertConfig, LAYER_LINEARS, LAYER_NORMS};
use crate::data::{DataError, write_atomic};
use crate::train::params::to_safetensors;

/// A named tensor in row-major order: `(name, shape, values)`.
type NamedTensor = (String, Vec<usize>, Vec<f32>);

impl Bert {
    /// Writes `config.json` (`config` with this model's per-layer sizes, see
    /// [`sized_config`](Self::sized_config)) and `model.safetensors` (`f32`, Hugging Face
    /// names, PyTorch `[out, in]` linear weights) into `dir`, creating it; each file is
    /// written atomically.
    pub fn save_pretrained(
        &self,
        dir: impl AsRef<Path>,
        config: &BertConfig,
    ) -> Result<(), DataError> {
        let dir = dir.as_ref();
        let config = self.sized_config(config);
        let json = serde_json::to_string_pretty(&config.to_hf_json()).expect("a JSON value");
        write_atomic(dir.join("config.json"), json.as_bytes())?;
        write_atomic(
            dir.join("model.safetensors"),
            &to_safetensors(&self.hf_tensors()),
        )
    }

    /// Every parameter under its Hugging Face name (no `bert.` prefix), linear weights in
    /// PyTorch's `[out, in]` layout: what [`save_pretrained`](Self::save_pretrained) writes.
    pub fn hf_tensors(&self) -> Vec<(String, Vec<usize>, Vec<f32>)> {
        let mut out = Vec::new();
        let e = &self.embeddings;
        for (name, table) in [
            ("word_embeddings", &e.word_embeddings.weight),
            ("position_embeddings", &e.position_embeddings.weight),
            ("token_type_embeddings", &e.token_type_embeddings.weight),
        ] {
            out.push(plain(format!("embeddings.{name}.weight"), table));
        }
        push_norm(&mut out, "embeddings.LayerNorm", &e.layer_norm);
        for (i, layer) in self.layers.iter().enumerate() {
            for (name, linear) in LAYER_LINEARS.iter().zip(layer.linears()) {
                push_linear(&mut out, &format!("encoder.layer.{i}.{name}"), linear);
            }
            for (name, norm) in LAYER_NORMS.iter().zip(layer.norms()) {
                push_norm(&mut out, &format!("encoder.layer.{i}.{name}"), norm);
            }
        }
        if let Some(pooler) = &self.pooler {
            push_linear(&mut out, "pooler.dense", pooler);
        }
        out
    }
}

fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("float parameter")
}

fn plain<const D: usize>(name: String, param: &Param<Tensor<D>>) -> NamedTensor {
    let tensor = param.val();
    let shape = tensor.dims().to_vec();
    (name, shape, values(tensor))
}

fn push_linear(out: &mut Vec<NamedTensor>, name: &str, linear: &Linear) {
    let weight = linear.weight.val();
    let [d_in, d_out] = weight.dims();
    // burn's [in, out] -> PyTorch's [out, in], on the host as the loader does.
    let stored = values(weight);
    let mut transposed = vec![0f32; stored.len()];
    for (row, chunk) in stored.chunks_exact(d_out.max(1)).enumerate() {
        for (col, &v) in chunk.iter().enumerate() {
            transposed[col * d_in + row] = v;
        }
    }
    out.push((format!("{name}.weight"), vec![d_out, d_in], transposed));
    if let Some(bias) = &linear.bias {
        out.push(plain(format!("{name}.bias"), bias));
    }
}

fn push_norm(out: &mut Vec<NamedTensor>, name: &str, norm: &LayerNorm) {
    out.push(plain(format!("{name}.weight"), &norm.gamma));
    if let Some(beta) = &norm.beta {
        out.push(plain(format!("{name}.bias"), beta));
    }
}
