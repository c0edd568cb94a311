//! GGUF files: the single-file checkpoint format of llama.cpp (versions 2 and 3).
//!
//! Layout (little-endian; `ggml/docs/gguf.md` in ggml-org/ggml): magic `GGUF`, u32 version, u64
//! tensor count, u64 metadata count; the metadata as key/typed-value pairs; one record per
//! tensor (name, dimensions innermost first, ggml type, offset into the data section); then the
//! data section, aligned to `general.alignment` (32 when absent).
//!
//! [`GgufFile::open`] memory-maps the file, parses the header completely and checks every
//! tensor record against the file before anything is dequantized, so a truncated file, an
//! unknown block type or a tensor whose byte size disagrees with its shape is an error naming
//! the tensor. [`GgufFile::dequantize`] turns one tensor into `f32` ([`quant`]).
//!
//! - [`quant`]: ggml types and their dequantization;
//! - [`tokenizer`]: the tokenizer and chat template stored in the metadata.

pub mod quant;
pub mod tokenizer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::binary::ByteCursor;

pub use quant::GgmlType;
pub use tokenizer::{ChatMessage, ChatTemplate};

/// Problems reading a GGUF file.
#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    /// The file could not be opened or mapped.
    #[error("cannot read GGUF file `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The header, metadata or tensor directory is malformed.
    #[error("`{path}` is not a valid GGUF file (at byte {offset}): {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// Where reading stopped.
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// One tensor cannot be used.
    #[error("`{path}`: tensor `{name}`: {message}")]
    Tensor {
        /// The file.
        path: PathBuf,
        /// The tensor.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A metadata key the caller needs is absent or of the wrong type.
    #[error("`{path}`: metadata `{key}`: {message}")]
    Metadata {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// A metadata value; the variants follow GGUF's value types 0–12.
#[derive(Debug, Clone, PartialEq)]
pub enum GgufValue {
    /// Type 0.
    U8(u8),
    /// Type 1.
    I8(i8),
    /// Type 2.
    U16(u16),
    /// Type 3.
    I16(i16),
    /// Type 4.
    U32(u32),
    /// Type 5.
    I32(i32),
    /// Type 6.
    F32(f32),
    /// Type 7.
    Bool(bool),
    /// Type 8.
    String(String),
    /// Type 9: element type and elements.
    Array(u32, Vec<GgufValue>),
    /// Type 10.
    U64(u64),
    /// Type 11.
    I64(i64),
    /// Type 12.
    F64(f64),
}

impl GgufValue {
    /// The GGUF value type id.
    pub fn type_id(&self) -> u32 {
        match self {
            Self::U8(_) => 0,
            Self::I8(_) => 1,
            Self::U16(_) => 2,
            Self::I16(_) => 3,
            Self::U32(_) => 4,
            Self::I32(_) => 5,
            Self::F32(_) => 6,
            Self::Bool(_) => 7,
            Self::String(_) => 8,
            Self::Array(..) => 9,
            Self::U64(_) => 10,
            Self::I64(_) => 11,
            Self::F64(_) => 12,
        }
    }

    /// The value as an unsigned integer, when it is a non-negative integer of any width.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Self::U8(v) => Some(v.into()),
            Self::U16(v) => Some(v.into()),
            Self::U32(v) => Some(v.into()),
            Self::U64(v) => Some(v),
            Self::I8(v) => u64::try_from(v).ok(),
            Self::I16(v) => u64::try_from(v).ok(),
            Self::I32(v) => u64::try_from(v).ok(),
            Self::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as a signed integer, when it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Self::U64(v) => i64::try_from(v).ok(),
            Self::I8(v) => Some(v.into()),
            Self::I16(v) => Some(v.into()),
            Self::I32(v) => Some(v.into()),
            Self::I64(v) => Some(v),
            _ => self.as_u64().map(|v| v as i64),
        }
    }

    /// The value as a float, when it is any number.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Self::F32(v) => Some(v.into()),
            Self::F64(v) => Some(v),
            _ => self.as_i64().map(|v| v as f64),
        }
    }

    /// The value as a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Self::Bool(v) => Some(v),
            _ => None,
        }
    }

    /// The value as a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(v) => Some(v),
            _ => None,
        }
    }

    /// The elements, when the value is an array.
    pub fn as_array(&self) -> Option<&[GgufValue]> {
        match self {
            Self::Array(_, v) => Some(v),
            _ => None,
        }
    }
}

/// One entry of the tensor directory.
#[derive(Debug, Clone, PartialEq)]
pub struct GgufTensorInfo {
    /// Tensor name.
    pub name: String,
    /// Dimensions in GGUF order: `dims[0]` is the contiguous (row) length.
    pub dims: Vec<u64>,
    /// Storage type.
    pub ggml_type: GgmlType,
    /// Absolute byte offset of the data in the file.
    pub offset: u64,
    /// Bytes taken by the data.
    pub n_bytes: u64,
}

impl GgufTensorInfo {
    /// The shape in row-major (PyTorch) order: the reverse of [`dims`](Self::dims), e.g.
    /// `[out, in]` for a linear weight.
    pub fn shape(&self) -> Vec<usize> {
        self.dims.iter().rev().map(|&d| d as usize).collect()
    }

    /// Number of values.
    pub fn n_values(&self) -> u64 {
        self.dims.iter().product()
    }
}

/// A parsed, memory-mapped GGUF file.
pub struct GgufFile {
    path: PathBuf,
    data: memmap2::Mmap,
    version: u32,
    metadata: BTreeMap<String, GgufValue>,
    tensors: Vec<GgufTensorInfo>,
    index: BTreeMap<String, usize>,
}

impl std::fmt::Debug for GgufFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GgufFile")
            .field("path", &self.path)
            .field("version", &self.version)
            .field("metadata", &self.metadata.len())
            .field("tensors", &self.tensors.len())
            .finish()
    }
}

impl GgufFile {
    /// Maps and parses a GGUF file (version 2 or 3, little-endian).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, GgufError> {
        let path = path.as_ref().to_path_buf();
        let io = |source| GgufError::Io {
            path: path.clone(),
            source,
        };
        let file = std::fs::File::open(&path).map_err(io)?;
        // SAFETY: the map is read-only and private to this value; like every reader of
        // memory-mapped checkpoints we assume no other process truncates the file meanwhile.
        #[allow(unsafe_code)]
        let data = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
        let (version, metadata, tensors) = parse(&data, &path)?;
        let index = tensors
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.clone(), i))
            .collect();
        Ok(Self {
            path,
            data,
            version,
            metadata,
            tensors,
            index,
        })
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The GGUF version (2 or 3).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// All metadata, by key.
    pub fn metadata(&self) -> &BTreeMap<String, GgufValue> {
        &self.metadata
    }

    /// One metadata value.
    pub fn get(&self, key: &str) -> Option<&GgufValue> {
        self.metadata.get(key)
    }

    /// A required unsigned integer metadata value.
    pub fn get_u64(&self, key: &str) -> Result<u64, GgufError> {
        self.required(key, "an unsigned integer", GgufValue::as_u64)
    }

    /// A required numeric metadata value.
    pub fn get_f64(&self, key: &str) -> Result<f64, GgufError> {
        self.required(key, "a number", GgufValue::as_f64)
    }

    /// A required string metadata value.
    pub fn get_str(&self, key: &str) -> Result<&str, GgufError> {
        self.required(key, "a string", GgufValue::as_str)
    }

    fn required<'a, T>(
        &'a self,
        key: &str,
        kind: &str,
        convert: impl Fn(&'a GgufValue) -> Option<T>,
    ) -> Result<T, GgufError> {
        let value = self
            .get(key)
            .ok_or_else(|| self.metadata_error(key, "absent"))?;
        convert(value)
            .ok_or_else(|| self.metadata_error(key, &format!("expected {kind}, found {value:?}")))
    }

    /// An error about metadata `key`.
    pub fn metadata_error(&self, key: &str, message: &str) -> GgufError {
        GgufError::Metadata {
            path: self.path.clone(),
            key: key.into(),
            message: message.into(),
        }
    }

    /// The tensor directory, in file order.
    pub fn tensors(&self) -> &[GgufTensorInfo] {
        &self.tensors
    }

    /// One tensor's directory entry.
    pub fn tensor(&self, name: &str) -> Option<&GgufTensorInfo> {
        self.index.get(name).map(|&i| &self.tensors[i])
    }

    /// The raw (still quantized) bytes of a tensor.
    pub fn raw(&self, info: &GgufTensorInfo) -> &[u8] {
        &self.data[info.offset as usize..(info.offset + info.n_bytes) as usize]
    }

    /// A tensor dequantized to `f32`, with its row-major shape ([`GgufTensorInfo::shape`]).
    pub fn dequantize(&self, name: &str) -> Result<(Vec<usize>, Vec<f32>), GgufError> {
        let info = self.tensor(name).ok_or_else(|| GgufError::Tensor {
            path: self.path.clone(),
            name: name.into(),
            message: "not in the file".into(),
        })?;
        let values = quant::dequantize(info.ggml_type, self.raw(info)).map_err(|message| {
            GgufError::Tensor {
                path: self.path.clone(),
                name: name.into(),
                message,
            }
        })?;
        Ok((info.shape(), values))
    }
}

type Cursor<'a> = ByteCursor<'a, GgufError>;

fn format_error(path: &Path, offset: usize, message: String) -> GgufError {
    GgufError::Format {
        path: path.to_path_buf(),
        offset: offset as u64,
        message,
    }
}

/// GGUF's own reads on top of the shared cursor: u64 counts, strings and typed values.
impl Cursor<'_> {
    /// A u64 count that must be satisfiable by the remaining bytes at `min_size` bytes an item.
    fn count(&mut self, what: &str, min_size: usize) -> Result<usize, GgufError> {
        let n = self.u64(what)?;
        self.check_count(n, min_size, what)
    }

    fn string(&mut self, what: &str) -> Result<String, GgufError> {
        let n = self.count(what, 1)?;
        let bytes = self.take(n, what)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.error(format!("{what} is not UTF-8")))
    }

    fn value(&mut self, ty: u32, key: &str, depth: usize) -> Result<GgufValue, GgufError> {
        Ok(match ty {
            0 => GgufValue::U8(self.array::<1>(key)?[0]),
            1 => GgufValue::I8(self.array::<1>(key)?[0] as i8),
            2 => GgufValue::U16(self.u16(key)?),
            3 => GgufValue::I16(i16::from_le_bytes(self.array(key)?)),
            4 => GgufValue::U32(self.u32(key)?),
            5 => GgufValue::I32(self.i32(key)?),
            6 => GgufValue::F32(self.f32(key)?),
            7 => match self.array::<1>(key)?[0] {
                0 => GgufValue::Bool(false),
                1 => GgufValue::Bool(true),
                other => return Err(self.error(format!("`{key}`: bool byte {other}"))),
            },
            8 => GgufValue::String(self.string(key)?),
            9 => {
                if depth > 8 {
                    return Err(self.error(format!("`{key}`: arrays nested too deeply")));
                }
                let element = self.u32(key)?;
                let n = self.count(&format!("`{key}` array length"), 1)?;
                let mut items = Vec::with_capacity(n.min(1 << 20));
                for _ in 0..n {
                    items.push(self.value(element, key, depth + 1)?);
                }
                GgufValue::Array(element, items)
            }
            10 => GgufValue::U64(self.u64(key)?),
            11 => GgufValue::I64(i64::from_le_bytes(self.array(key)?)),
            12 => GgufValue::F64(f64::from_le_bytes(self.array(key)?)),
            other => return Err(self.error(format!("`{key}`: unknown value type {other}"))),
        })
    }
}

type Parsed = (u32, BTreeMap<String, GgufValue>, Vec<GgufTensorInfo>);

fn parse(bytes: &[u8], path: &Path) -> Result<Parsed, GgufError> {
    let mut c = Cursor::new(bytes, path, format_error);
    if c.take(4, "the magic")? != b"GGUF" {
        return Err(GgufError::Format {
            path: path.into(),
            offset: 0,
            message: "no `GGUF` magic".into(),
        });
    }
    let version = c.u32("the version")?;
    match version {
        2 | 3 => {}
        1 => return Err(c.error("GGUF version 1 (32-bit counts) is not supported")),
        v if v.swap_bytes() <= 3 => {
            return Err(c.error("big-endian GGUF files are not supported"));
        }
        v => return Err(c.error(format!("unknown GGUF version {v}"))),
    }
    // A tensor record takes at least 8 + 4 + 4 + 8 bytes, a metadata pair at least 8 + 4 + 1.
    let n_tensors = c.count("the tensor count", 24)?;
    let n_metadata = c.count("the metadata count", 13)?;
    let mut metadata = BTreeMap::new();
    for _ in 0..n_metadata {
        let key = c.string("a metadata key")?;
        let ty = c.u32(&key)?;
        let value = c.value(ty, &key, 0)?;
        if metadata.insert(key.clone(), value).is_some() {
            return Err(c.error(format!("metadata key `{key}` appears twice")));
        }
    }
    let alignment = match metadata.get("general.alignment") {
        None => 32,
        Some(value) => match value.as_u64() {
            Some(a) if a > 0 && a.is_power_of_two() => a,
            _ => return Err(c.error(format!("general.alignment {value:?} is not a power of two"))),
        },
    };
    let mut records = Vec::with_capacity(n_tensors);
    for _ in 0..n_tensors {
        let name = c.string("a tensor name")?;
        let n_dims = c.u32(&name)? as usize;
        if n_dims > 8 {
            return Err(c.error(format!("tensor `{name}` has {n_dims} dimensions")));
        }
        let dims = (0..n_dims)
            .map(|_| c.u64(&name))
            .collect::<Result<Vec<_>, _>>()?;
        let ggml_type = GgmlType::from_id(c.u32(&name)?);
        let offset = c.u64(&name)?;
        records.push((name, dims, ggml_type, offset));
    }
    let data_start = (c.at as u64).div_ceil(alignment) * alignment;
    let file_len = bytes.len() as u64;
    let mut tensors = Vec::with_capacity(records.len());
    let mut seen = std::collections::BTreeSet::new();
    for (name, dims, ggml_type, offset) in records {
        let tensor_error = |message: String| GgufError::Tensor {
            path: path.into(),
            name: name.clone(),
            message,
        };
        if !seen.insert(name.clone()) {
            return Err(tensor_error("appears twice in the tensor directory".into()));
        }
        if ggml_type.block_layout().is_none() {
            return Err(tensor_error(format!(
                "unsupported block type {} (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, \
                 Q5_1, Q4_K, Q5_K, Q6_K)",
                ggml_type.name()
            )));
        }
        if !offset.is_multiple_of(alignment) {
            return Err(tensor_error(format!(
                "offset {offset} is not a multiple of the alignment {alignment}"
            )));
        }
        let n_values = dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| tensor_error(format!("dimensions {dims:?} overflow")))?;
        let row = dims.first().copied().unwrap_or(1);
        let (per_block, _) = ggml_type.block_layout().expect("checked");
        let n_bytes = match ggml_type.byte_size(n_values) {
            Some(n) if row.is_multiple_of(per_block as u64) => n,
            _ => {
                return Err(tensor_error(format!(
                    "shape {dims:?} is not a whole number of {}-value {} blocks per row",
                    per_block,
                    ggml_type.name()
                )));
            }
        };
        let start = data_start.checked_add(offset);
        match start.and_then(|s| s.checked_add(n_bytes)) {
            Some(end) if end <= file_len => {}
            _ => {
                return Err(tensor_error(format!(
                    "data at {}..{} (+{n_bytes} bytes) runs past the end of the {file_len}-byte \
                     file: the file is truncated or the tensor's size disagrees with its shape",
                    data_start.saturating_add(offset),
                    data_start.saturating_add(offset).saturating_add(n_bytes),
                )));
            }
        }
        tensors.push(GgufTensorInfo {
            name,
            dims,
            ggml_type,
            offset: data_start + offset,
            n_bytes,
        });
    }
    // Tensors must not overlap: sort by offset and compare neighbours.
    let mut by_offset: Vec<&GgufTensorInfo> = tensors.iter().collect();
    by_offset.sort_by_key(|t| t.offset);
    for pair in by_offset.windows(2) {
        if pair[0].offset + pair[0].n_bytes > pair[1].offset {
            return Err(GgufError::Tensor {
                path: path.into(),
                name: pair[1].name.clone(),
                message: format!(
                    "data overlaps tensor `{}`: its size disagrees with its shape",
                    pair[0].name
                ),
            });
        }
    }
    Ok((version, metadata, tensors))
}
