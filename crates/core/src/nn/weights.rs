//! Loading Hugging Face `safetensors` checkpoints into burn modules.
//!
//! A [`WeightSource`] wraps one checkpoint file. Model constructors ask it for tensors by their
//! checkpoint name and expected shape; it converts any floating dtype (F32, F16, BF16, F64) to
//! `f32`, transposes linear weights from PyTorch's `[out, in]` to burn's `[in, out]`, and keeps
//! score: which names were used, which were asked for but absent, which had the wrong shape, and
//! which were never asked for. [`WeightSource::finish`] turns that into a [`LoadReport`] and fails
//! when anything required is missing or misshapen, naming every offending tensor.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use safetensors::{Dtype, SafeTensors};

use super::gguf::quant::f16_to_f32;

/// Problems while reading a checkpoint or matching it to a model.
#[derive(Debug, thiserror::Error)]
pub enum WeightError {
    /// The file could not be read.
    #[error("cannot read weights `{path}`: {source}")]
    Io {
        /// The checkpoint path.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid safetensors file.
    #[error("`{path}` is not a valid safetensors file: {message}")]
    Format {
        /// The checkpoint path.
        path: PathBuf,
        /// What the safetensors parser said.
        message: String,
    },
    /// A tensor has a dtype that cannot be turned into `f32`.
    #[error("`{path}`: tensor `{name}` has unsupported dtype {dtype}")]
    Dtype {
        /// The checkpoint path.
        path: PathBuf,
        /// The tensor name.
        name: String,
        /// The dtype found.
        dtype: String,
    },
    /// The checkpoint does not fit the model.
    #[error("`{path}` does not fit the model:\n{report}")]
    Mismatch {
        /// The checkpoint path.
        path: PathBuf,
        /// What was missing, misshapen and unused.
        report: LoadReport,
    },
}

/// What happened to each tensor of a checkpoint during loading.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadReport {
    /// Tensors loaded into the model.
    pub loaded: Vec<String>,
    /// Tensors the model needs that the checkpoint lacks.
    pub missing: Vec<String>,
    /// Tensors present with a shape other than the model's: `(name, expected, found)`.
    pub mismatched: Vec<(String, Vec<usize>, Vec<usize>)>,
    /// Tensors in the checkpoint the model never asked for (heads, buffers).
    pub unexpected: Vec<String>,
}

impl LoadReport {
    /// True when every required tensor was found with the right shape.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty() && self.mismatched.is_empty()
    }
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "  loaded: {} tensors", self.loaded.len())?;
        for name in &self.missing {
            writeln!(f, "  missing: {name}")?;
        }
        for (name, expected, found) in &self.mismatched {
            writeln!(
                f,
                "  wrong shape: {name}: model expects {expected:?}, file has {found:?}"
            )?;
        }
        if !self.unexpected.is_empty() {
            writeln!(f, "  unused: {}", self.unexpected.join(", "))?;
        }
        Ok(())
    }
}

/// A model loaded from a checkpoint, with the configuration it was built from (read from
/// `config.json` or a file's metadata) and the report of which tensors were used.
#[derive(Debug)]
pub struct Pretrained<M, C> {
    /// The model.
    pub model: M,
    /// Its configuration.
    pub config: C,
    /// Which tensors were loaded and which were not used.
    pub report: LoadReport,
}

/// A raw tensor read from a checkpoint, converted to `f32`.
struct RawTensor {
    shape: Vec<usize>,
    values: Vec<f32>,
}

/// Tensors of one checkpoint, handed out by name to model constructors.
pub struct WeightSource {
    path: PathBuf,
    tensors: BTreeMap<String, RawTensor>,
    prefix: String,
    used: BTreeSet<String>,
    report: LoadReport,
    device: Device,
}

impl WeightSource {
    /// Reads every floating-point tensor of a safetensors file (integer buffers such as
    /// `position_ids` are kept only as names, so they show up as unused).
    pub fn open(path: impl AsRef<Path>, device: &Device) -> Result<Self, WeightError> {
        let path = path.as_ref().to_path_buf();
        let bytes = std::fs::read(&path).map_err(|source| WeightError::Io {
            path: path.clone(),
            source,
        })?;
        let file = SafeTensors::deserialize(&bytes).map_err(|e| WeightError::Format {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let mut tensors = BTreeMap::new();
        for (name, view) in file.tensors() {
            let values = match decode(view.dtype(), view.data()) {
                Some(values) => values,
                None if is_integer(view.dtype()) => Vec::new(),
                None => {
                    return Err(WeightError::Dtype {
                        path,
                        name,
                        dtype: format!("{:?}", view.dtype()),
                    });
                }
            };
            tensors.insert(
                name,
                RawTensor {
                    shape: view.shape().to_vec(),
                    values,
                },
            );
        }
        Ok(Self {
            path,
            tensors,
            prefix: String::new(),
            used: BTreeSet::new(),
            report: LoadReport::default(),
            device: device.clone(),
        })
    }

    /// A source over tensors already in memory (dequantized GGUF or E5S1 weights renamed to
    /// Hugging Face names): `(name, row-major shape, values)`; `path` names the file they came
    /// from in reports and errors.
    pub fn from_tensors(
        path: impl Into<PathBuf>,
        tensors: impl IntoIterator<Item = (String, Vec<usize>, Vec<f32>)>,
        device: &Device,
    ) -> Self {
        Self {
            path: path.into(),
            tensors: tensors
                .into_iter()
                .map(|(name, shape, values)| (name, RawTensor { shape, values }))
                .collect(),
            prefix: String::new(),
            used: BTreeSet::new(),
            report: LoadReport::default(),
            device: device.clone(),
        }
    }

    /// Opens a Hugging Face model directory: `model.safetensors`, or else the shards listed in
    /// `model.safetensors.index.json` (`{"weight_map": {tensor: shard file}}`), merged into one
    /// source whose [`path`](Self::path) is the index file.
    pub fn open_dir(dir: impl AsRef<Path>, device: &Device) -> Result<Self, WeightError> {
        let dir = dir.as_ref();
        let single = dir.join("model.safetensors");
        let index = dir.join("model.safetensors.index.json");
        if single.exists() || !index.exists() {
            return Self::open(single, device);
        }
        let format = |message: String| WeightError::Format {
            path: index.clone(),
            message,
        };
        let text = std::fs::read_to_string(&index).map_err(|source| WeightError::Io {
            path: index.clone(),
            source,
        })?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format(e.to_string()))?;
        let map = value
            .get("weight_map")
            .and_then(|m| m.as_object())
            .ok_or_else(|| format("no `weight_map` object".into()))?;
        let mut shards = BTreeSet::new();
        for (name, shard) in map {
            let shard = shard
                .as_str()
                .ok_or_else(|| format(format!("weight_map entry `{name}` is not a file name")))?;
            shards.insert(shard);
        }
        let mut tensors = BTreeMap::new();
        for shard in shards {
            tensors.extend(Self::open(dir.join(shard), device)?.tensors);
        }
        Ok(Self {
            path: index,
            tensors,
            prefix: String::new(),
            used: BTreeSet::new(),
            report: LoadReport::default(),
            device: device.clone(),
        })
    }

    /// The checkpoint path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All tensor names in the checkpoint.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// True when the checkpoint has a tensor of this name (before prefixing).
    pub fn contains(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// Sets a prefix put in front of every later request, e.g. `bert.`.
    pub fn set_prefix(&mut self, prefix: impl Into<String>) {
        self.prefix = prefix.into();
    }

    /// Takes a tensor of exactly `shape`, or records it as missing or misshapen and returns
    /// `None`.
    pub fn take<const D: usize>(&mut self, name: &str, shape: [usize; D]) -> Option<Tensor<D>> {
        let values = self.take_values(name, &shape)?.to_vec();
        Some(Tensor::from_data(
            TensorData::new(values, shape),
            &self.device,
        ))
    }

    /// The values of a tensor of exactly `shape`, recording it as loaded; or, recording it as
    /// missing or misshapen, `None`. The one place that keeps the report.
    fn take_values(&mut self, name: &str, shape: &[usize]) -> Option<&[f32]> {
        let full = format!("{}{name}", self.prefix);
        let Some(raw) = self.tensors.get(&full) else {
            self.report.missing.push(full);
            return None;
        };
        self.used.insert(full.clone());
        if raw.shape != shape {
            self.report
                .mismatched
                .push((full, shape.to_vec(), raw.shape.clone()));
            return None;
        }
        self.report.loaded.push(full);
        Some(&raw.values)
    }

    /// Takes the first of several alternative names that exists (e.g. `LayerNorm.weight` or the
    /// older `LayerNorm.gamma`); a missing tensor is reported under the first name.
    pub fn take_any<const D: usize>(
        &mut self,
        names: &[&str],
        shape: [usize; D],
    ) -> Option<Tensor<D>> {
        let found = names
            .iter()
            .find(|name| self.tensors.contains_key(&format!("{}{name}", self.prefix)));
        self.take(found.copied().unwrap_or(names[0]), shape)
    }

    /// Takes a PyTorch linear weight stored `[out, in]` and returns it as burn's `[in, out]`.
    pub fn take_linear_weight(
        &mut self,
        name: &str,
        d_in: usize,
        d_out: usize,
    ) -> Option<Tensor<2>> {
        // Transposed on the host so the parameter is stored contiguously as `[in, out]`: a
        // transposed view would make every later matrix product copy or stride through it
        // (measured: a 576 x 576 projection ran ~20x slower on the CPU backend).
        let raw = self.take_values(name, &[d_out, d_in])?;
        let mut values = vec![0f32; d_in * d_out];
        // A layer with no inputs (e.g. pruned to zero heads) has no values to transpose (and
        // `chunks_exact(0)` would panic).
        if d_in > 0 {
            for (row, chunk) in raw.chunks_exact(d_in).enumerate() {
                for (col, &v) in chunk.iter().enumerate() {
                    values[col * d_out + row] = v;
                }
            }
        }
        Some(Tensor::from_data(
            TensorData::new(values, [d_in, d_out]),
            &self.device,
        ))
    }

    /// Fills a parameter from the checkpoint, leaving it as initialised when the tensor is
    /// missing or misshapen (the report records why).
    pub fn fill<const D: usize>(&mut self, param: &mut Param<Tensor<D>>, name: &str) {
        let shape: [usize; D] = param.lazy_shape().dims();
        if let Some(tensor) = self.take(name, shape) {
            *param = Param::from_tensor(tensor);
        }
    }

    /// Fills a linear layer's weight (transposed) and optional bias from `{name}.weight` and
    /// `{name}.bias`.
    pub fn fill_linear(&mut self, linear: &mut burn::nn::Linear, name: &str) {
        let [d_in, d_out] = linear.weight.lazy_shape().dims();
        if let Some(weight) = self.take_linear_weight(&format!("{name}.weight"), d_in, d_out) {
            linear.weight = Param::from_tensor(weight);
        }
        if let Some(bias) = linear.bias.as_mut() {
            self.fill(bias, &format!("{name}.bias"));
        }
    }

    /// Fills a layer norm from `{name}.weight`/`{name}.bias` or the older `gamma`/`beta`.
    pub fn fill_layer_norm(&mut self, norm: &mut burn::nn::LayerNorm, name: &str) {
        let shape: [usize; 1] = norm.gamma.lazy_shape().dims();
        let weight_names = [format!("{name}.weight"), format!("{name}.gamma")];
        let refs: Vec<&str> = weight_names.iter().map(String::as_str).collect();
        if let Some(gamma) = self.take_any(&refs, shape) {
            norm.gamma = Param::from_tensor(gamma);
        }
        if let Some(beta) = norm.beta.as_mut() {
            let bias_names = [format!("{name}.bias"), format!("{name}.beta")];
            let refs: Vec<&str> = bias_names.iter().map(String::as_str).collect();
            if let Some(value) = self.take_any(&refs, shape) {
                *beta = Param::from_tensor(value);
            }
        }
    }

    /// Fills an embedding table from `{name}.weight`.
    pub fn fill_embedding(&mut self, embedding: &mut burn::nn::Embedding, name: &str) {
        self.fill(&mut embedding.weight, &format!("{name}.weight"));
    }

    /// Ends loading: the report, or an error when a required tensor was missing or misshapen.
    pub fn finish(mut self) -> Result<LoadReport, WeightError> {
        self.report.unexpected = self
            .tensors
            .keys()
            .filter(|name| !self.used.contains(*name))
            .cloned()
            .collect();
        if self.report.is_complete() {
            for name in &self.report.unexpected {
                tracing::debug!(file = %self.path.display(), tensor = %name, "unused tensor");
            }
            Ok(self.report)
        } else {
            Err(WeightError::Mismatch {
                path: self.path,
                report: self.report,
            })
        }
    }
}

fn is_integer(dtype: Dtype) -> bool {
    matches!(
        dtype,
        Dtype::I8
            | Dtype::I16
            | Dtype::I32
            | Dtype::I64
            | Dtype::U8
            | Dtype::U16
            | Dtype::U32
            | Dtype::U64
            | Dtype::BOOL
    )
}

/// Converts little-endian raw bytes of a floating dtype to `f32`.
fn decode(dtype: Dtype, bytes: &[u8]) -> Option<Vec<f32>> {
    let values = match dtype {
        Dtype::F32 => bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Dtype::F64 => bytes
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
            .collect(),
        Dtype::BF16 => bytes
            .chunks_exact(2)
            .map(|b| f32::from_bits((u16::from_le_bytes([b[0], b[1]]) as u32) << 16))
            .collect(),
        Dtype::F16 => bytes
            .chunks_exact(2)
            .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
            .collect(),
        _ => return None,
    };
    Some(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_decodes() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), f32::powi(2.0, -24));
        assert!(f16_to_f32(0x7c00).is_infinite());
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
    }

    #[test]
    fn bf16_decodes() {
        let one = 1.0f32.to_bits() >> 16;
        let bytes = (one as u16).to_le_bytes();
        assert_eq!(decode(Dtype::BF16, &bytes).unwrap(), vec![1.0]);
    }

    #[test]
    fn sharded_checkpoints_are_merged() {
        let dir = tempfile::tempdir().unwrap();
        let shard = |name: &str, values: Vec<f32>| {
            crate::train::params::to_safetensors(&[(name.to_string(), vec![values.len()], values)])
        };
        std::fs::write(dir.path().join("a.safetensors"), shard("x", vec![1.0, 2.0])).unwrap();
        std::fs::write(dir.path().join("b.safetensors"), shard("y", vec![3.0])).unwrap();
        std::fs::write(
            dir.path().join("model.safetensors.index.json"),
            r#"{"metadata": {}, "weight_map": {"x": "a.safetensors", "y": "b.safetensors"}}"#,
        )
        .unwrap();
        let device = crate::device::cpu();
        let mut source = WeightSource::open_dir(dir.path(), &device).unwrap();
        assert_eq!(source.names().collect::<Vec<_>>(), vec!["x", "y"]);
        let y = source.take::<1>("y", [1]).unwrap();
        assert_eq!(y.try_to_vec_as::<f32>().unwrap(), vec![3.0]);
        std::fs::write(
            dir.path().join("model.safetensors.index.json"),
            r#"{"weight_map": {"x": 3}}"#,
        )
        .unwrap();
        let err = WeightSource::open_dir(dir.path(), &device).err().unwrap();
        assert!(err.to_string().contains("`x` is not a file name"), "{err}");
    }
}
