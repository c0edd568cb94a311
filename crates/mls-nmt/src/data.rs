//! Data preparation: a joint BPE for the shared vocabulary, the source and target
//! dictionaries that classify every joint token, and binarized corpora.
//!
//! The paper (Chen et al., ACL 2022, Appendix A, Algorithm 1) builds two fairseq dictionaries
//! over the same subword-segmented data: an "isolated" source dictionary `S` and target
//! dictionary `T` (tokens seen at least `threshold` times on that side), and the joined
//! dictionary `J`. A token of `J` is *common* when it is in `S` and `T`, *source-only* when it
//! is only in `S`, and *target-only* otherwise. Here one BPE model is learned on both sides of
//! the training data (the shared vocabulary `J`), both sides are encoded with it, and `S` and
//! `T` are the tokens counted at least `threshold` times on each side. The special tokens are
//! in both dictionaries, as in fairseq.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use burnlp_core::tokenize::{BpeTrainingConfig, Tokenizer};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{NmtError, Result, io_error};

/// File names inside a prepared data directory.
pub mod files {
    /// The joint BPE tokenizer.
    pub const TOKENIZER: &str = "tokenizer.json";
    /// The [`super::Vocabulary`] (per-side token counts, threshold, languages).
    pub const VOCAB: &str = "vocab.json";
    /// One line per joint token: id, token, category, source count, target count.
    pub const CATEGORIES: &str = "categories.tsv";
    /// The [`super::CategoryStats`] of the vocabulary.
    pub const STATS: &str = "stats.json";
    /// Binarized training pairs.
    pub const TRAIN: &str = "train.bin";
    /// Binarized validation pairs.
    pub const VALID: &str = "valid.bin";
}

/// Which side(s) of the training data a joint token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenCategory {
    /// In the source dictionary only: it cannot occur in a target sentence.
    SourceOnly,
    /// In both dictionaries.
    Common,
    /// Not in the source dictionary (target-only, or in neither dictionary).
    TargetOnly,
}

impl TokenCategory {
    /// The name used in files and reports.
    pub fn name(self) -> &'static str {
        match self {
            TokenCategory::SourceOnly => "source-only",
            TokenCategory::Common => "common",
            TokenCategory::TargetOnly => "target-only",
        }
    }
}

/// The shared vocabulary with its source and target dictionaries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vocabulary {
    /// Source language code.
    pub src_lang: String,
    /// Target language code.
    pub tgt_lang: String,
    /// A token is in a side's dictionary when it occurs at least this often on that side.
    pub threshold: u64,
    /// Occurrences of every joint token in the source side of the training data.
    pub src_counts: Vec<u64>,
    /// Occurrences of every joint token in the target side of the training data.
    pub tgt_counts: Vec<u64>,
    /// Special tokens (padding, unknown, BOS, EOS), in both dictionaries.
    pub specials: Vec<u32>,
    /// Padding id.
    pub pad: u32,
    /// End-of-sentence id (also the first decoder input).
    pub eos: u32,
}

impl Vocabulary {
    /// Size of the joint vocabulary.
    pub fn len(&self) -> usize {
        self.src_counts.len()
    }

    /// True for an empty vocabulary.
    pub fn is_empty(&self) -> bool {
        self.src_counts.is_empty()
    }

    /// Whether token `id` is in the source dictionary.
    pub fn in_source(&self, id: usize) -> bool {
        self.specials.contains(&(id as u32)) || self.src_counts[id] >= self.threshold
    }

    /// Whether token `id` is in the target dictionary (the tokens MLS smooths over).
    pub fn in_target(&self, id: usize) -> bool {
        self.specials.contains(&(id as u32)) || self.tgt_counts[id] >= self.threshold
    }

    /// The category of token `id` (Algorithm 1; tokens in neither dictionary count as
    /// target-only, as in the official WLS code).
    pub fn category(&self, id: usize) -> TokenCategory {
        match (self.in_source(id), self.in_target(id)) {
            (true, true) => TokenCategory::Common,
            (true, false) => TokenCategory::SourceOnly,
            (false, _) => TokenCategory::TargetOnly,
        }
    }

    /// The category of every token.
    pub fn categories(&self) -> Vec<TokenCategory> {
        (0..self.len()).map(|id| self.category(id)).collect()
    }

    /// Whether each token is in the target dictionary.
    pub fn target_mask(&self) -> Vec<bool> {
        (0..self.len()).map(|id| self.in_target(id)).collect()
    }

    /// Category counts and shares.
    pub fn stats(&self) -> CategoryStats {
        let (mut source_only, mut common, mut target_only, mut unseen) = (0, 0, 0, 0);
        for id in 0..self.len() {
            match (self.in_source(id), self.in_target(id)) {
                (true, true) => common += 1,
                (true, false) => source_only += 1,
                (false, true) => target_only += 1,
                (false, false) => unseen += 1,
            }
        }
        let joined = (source_only + common + target_only).max(1) as f64;
        CategoryStats {
            vocab_size: self.len(),
            threshold: self.threshold,
            source_only,
            common,
            target_only,
            unseen,
            source_share: source_only as f64 / joined,
            common_share: common as f64 / joined,
            target_share: target_only as f64 / joined,
        }
    }

    /// Reads `vocab.json`.
    pub fn load(path: &Path) -> Result<Self> {
        let vocab: Self = burnlp_core::data::read_json_document(path)?;
        if vocab.src_counts.len() != vocab.tgt_counts.len() {
            return Err(NmtError::BadInput {
                path: path.to_path_buf(),
                line: None,
                message: format!(
                    "{} source counts but {} target counts",
                    vocab.src_counts.len(),
                    vocab.tgt_counts.len()
                ),
            });
        }
        Ok(vocab)
    }
}

/// Category counts of a vocabulary (the paper's Table 2 reports the shares).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryStats {
    /// Size of the joint vocabulary.
    pub vocab_size: usize,
    /// Dictionary threshold.
    pub threshold: u64,
    /// Tokens only in the source dictionary.
    pub source_only: usize,
    /// Tokens in both dictionaries (special tokens included).
    pub common: usize,
    /// Tokens only in the target dictionary.
    pub target_only: usize,
    /// Tokens of the BPE vocabulary in neither dictionary (below the threshold on both sides).
    pub unseen: usize,
    /// `source_only` over the joined dictionary (source-only + common + target-only).
    pub source_share: f64,
    /// `common` over the joined dictionary.
    pub common_share: f64,
    /// `target_only` over the joined dictionary.
    pub target_share: f64,
}

/// Token-id pairs (without EOS), one per sentence pair.
pub type Pairs = Vec<(Vec<u32>, Vec<u32>)>;

/// `PREFIX.LANG`.
pub fn side_path(prefix: &Path, lang: &str) -> PathBuf {
    PathBuf::from(format!("{}.{lang}", prefix.display()))
}

/// Reads the lines of a text file; an empty line is an error naming the line.
pub fn read_lines(path: &Path) -> Result<Vec<String>> {
    let file = std::fs::File::open(path).map_err(io_error(path))?;
    let mut lines = Vec::new();
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => NmtError::BadInput {
                path: path.to_path_buf(),
                line: Some(index + 1),
                message: "not valid UTF-8".into(),
            },
            _ => NmtError::Io {
                path: path.to_path_buf(),
                source: e,
            },
        })?;
        let line = line.trim_end_matches('\r').to_string();
        if line.trim().is_empty() {
            return Err(NmtError::BadInput {
                path: path.to_path_buf(),
                line: Some(index + 1),
                message: "empty line (every line must hold a sentence)".into(),
            });
        }
        lines.push(line);
    }
    Ok(lines)
}

/// Reads the line-aligned files `PREFIX.SRC` and `PREFIX.TGT`.
pub fn read_parallel(
    prefix: &Path,
    src_lang: &str,
    tgt_lang: &str,
) -> Result<Vec<(String, String)>> {
    let (src_path, tgt_path) = (side_path(prefix, src_lang), side_path(prefix, tgt_lang));
    let src = read_lines(&src_path)?;
    let tgt = read_lines(&tgt_path)?;
    if src.len() != tgt.len() {
        return Err(NmtError::BadInput {
            path: tgt_path,
            line: None,
            message: format!(
                "{} lines, but {} has {}",
                tgt.len(),
                src_path.display(),
                src.len()
            ),
        });
    }
    Ok(src.into_iter().zip(tgt).collect())
}

/// Encodes sentences with the joint BPE (no special tokens), in parallel.
pub fn encode_all(tokenizer: &Tokenizer, sentences: &[String]) -> Result<Vec<Vec<u32>>> {
    sentences
        .par_iter()
        .map(|s| Ok(tokenizer.encode(s, false)?.ids))
        .collect()
}

const MAGIC: &[u8; 8] = b"MLSNMT01";

/// Writes pairs as `MAGIC, u64 count, per pair (u32 src_len, u32 tgt_len, ids…)`,
/// little-endian, atomically.
pub fn write_pairs(path: &Path, pairs: &Pairs) -> Result<()> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(pairs.len() as u64).to_le_bytes());
    for (src, tgt) in pairs {
        bytes.extend_from_slice(&(src.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&(tgt.len() as u32).to_le_bytes());
        for id in src.iter().chain(tgt) {
            bytes.extend_from_slice(&id.to_le_bytes());
        }
    }
    burnlp_core::data::write_atomic(path, &bytes)?;
    Ok(())
}

/// Reads pairs written by [`write_pairs`]; every id must be below `vocab_size`.
pub fn read_pairs(path: &Path, vocab_size: usize) -> Result<Pairs> {
    let bytes = std::fs::read(path).map_err(io_error(path))?;
    let bad = |message: String| NmtError::BadInput {
        path: path.to_path_buf(),
        line: None,
        message,
    };
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        return Err(bad("not a binarized mls-nmt corpus (bad header)".into()));
    }
    let mut words = bytes[16..]
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let count = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes")) as usize;
    let mut pairs = Vec::with_capacity(count);
    for index in 0..count {
        let truncated = || bad(format!("truncated at pair {index}"));
        let src_len = words.next().ok_or_else(truncated)? as usize;
        let tgt_len = words.next().ok_or_else(truncated)? as usize;
        let ids: Vec<u32> = words.by_ref().take(src_len + tgt_len).collect();
        if ids.len() != src_len + tgt_len {
            return Err(truncated());
        }
        if let Some(id) = ids.iter().find(|&&id| id as usize >= vocab_size) {
            return Err(bad(format!(
                "pair {index} has token id {id}, outside the vocabulary of {vocab_size}"
            )));
        }
        pairs.push((ids[..src_len].to_vec(), ids[src_len..].to_vec()));
    }
    if words.next().is_some() {
        return Err(bad(format!("trailing data after {count} pairs")));
    }
    Ok(pairs)
}

/// Settings of [`prepare`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrepareConfig {
    /// Source language code (file suffix).
    pub src_lang: String,
    /// Target language code (file suffix).
    pub tgt_lang: String,
    /// Training files prefix (`PREFIX.SRC`, `PREFIX.TGT`).
    pub train: PathBuf,
    /// Validation files prefix.
    pub valid: PathBuf,
    /// Size of the joint BPE vocabulary (special tokens and alphabet included).
    pub vocab_size: usize,
    /// Dictionary threshold: a token belongs to a side when it occurs this often there.
    pub threshold: u64,
    /// Training pairs with a side longer than this many tokens are left out (and counted).
    pub max_len: usize,
}

/// What [`prepare`] did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrepareReport {
    /// Category statistics.
    pub stats: CategoryStats,
    /// Training pairs kept.
    pub train_pairs: usize,
    /// Training pairs left out for length.
    pub train_too_long: usize,
    /// Validation pairs.
    pub valid_pairs: usize,
}

/// Learns the joint BPE and the dictionaries, binarizes the training and validation data and
/// writes everything to `out` ([`files`]).
pub fn prepare(config: &PrepareConfig, out: &Path) -> Result<PrepareReport> {
    if config.threshold == 0 {
        return Err(NmtError::InvalidArgument {
            name: "threshold",
            message: "must be at least 1".into(),
        });
    }
    let train = read_parallel(&config.train, &config.src_lang, &config.tgt_lang)?;
    let valid = read_parallel(&config.valid, &config.src_lang, &config.tgt_lang)?;
    tracing::info!(
        train = train.len(),
        valid = valid.len(),
        "learning the joint BPE"
    );
    let bpe = BpeTrainingConfig {
        vocab_size: config.vocab_size,
        ..BpeTrainingConfig::default()
    };
    let lines = train.iter().flat_map(|(s, t)| [s.as_str(), t.as_str()]);
    let tokenizer = Tokenizer::train_bpe(lines.collect::<Vec<_>>(), &bpe)?;
    let (src, tgt): (Vec<String>, Vec<String>) = train.into_iter().unzip();
    let src_ids = encode_all(&tokenizer, &src)?;
    let tgt_ids = encode_all(&tokenizer, &tgt)?;
    let vocab = build_vocabulary(&tokenizer, config, &src_ids, &tgt_ids)?;
    let total = src_ids.len();
    let train_pairs: Pairs = src_ids
        .into_iter()
        .zip(tgt_ids)
        .filter(|(s, t)| s.len() <= config.max_len && t.len() <= config.max_len)
        .collect();
    let (vsrc, vtgt): (Vec<String>, Vec<String>) = valid.into_iter().unzip();
    let valid_pairs: Pairs = encode_all(&tokenizer, &vsrc)?
        .into_iter()
        .zip(encode_all(&tokenizer, &vtgt)?)
        .collect();

    std::fs::create_dir_all(out).map_err(io_error(out))?;
    let tokenizer_path = out.join(files::TOKENIZER);
    tokenizer.save(&tokenizer_path, false)?;
    burnlp_core::data::write_json(out.join(files::VOCAB), &vocab, false)?;
    write_categories(&out.join(files::CATEGORIES), &tokenizer, &vocab)?;
    let stats = vocab.stats();
    burnlp_core::data::write_json(out.join(files::STATS), &stats, true)?;
    write_pairs(&out.join(files::TRAIN), &train_pairs)?;
    write_pairs(&out.join(files::VALID), &valid_pairs)?;
    Ok(PrepareReport {
        stats,
        train_too_long: total - train_pairs.len(),
        train_pairs: train_pairs.len(),
        valid_pairs: valid_pairs.len(),
    })
}

/// Counts every joint token on each side of the (encoded) training data.
pub fn build_vocabulary(
    tokenizer: &Tokenizer,
    config: &PrepareConfig,
    src_ids: &[Vec<u32>],
    tgt_ids: &[Vec<u32>],
) -> Result<Vocabulary> {
    let size = tokenizer.vocab_size();
    let count = |rows: &[Vec<u32>]| {
        let mut counts = vec![0u64; size];
        for &id in rows.iter().flatten() {
            counts[id as usize] += 1;
        }
        counts
    };
    let special = tokenizer.special_tokens();
    let missing = |name: &str| NmtError::InvalidArgument {
        name: "tokenizer",
        message: format!("the BPE vocabulary has no {name} token"),
    };
    let pad = special.pad.ok_or_else(|| missing("padding"))?;
    let eos = special.eos.ok_or_else(|| missing("end-of-sentence"))?;
    let specials = [special.pad, special.unk, special.bos, special.eos]
        .into_iter()
        .flatten()
        .collect();
    Ok(Vocabulary {
        src_lang: config.src_lang.clone(),
        tgt_lang: config.tgt_lang.clone(),
        threshold: config.threshold,
        src_counts: count(src_ids),
        tgt_counts: count(tgt_ids),
        specials,
        pad,
        eos,
    })
}

fn write_categories(path: &Path, tokenizer: &Tokenizer, vocab: &Vocabulary) -> Result<()> {
    let mut text = Vec::new();
    writeln!(text, "id\ttoken\tcategory\tsrc_count\ttgt_count").expect("in memory");
    for id in 0..vocab.len() {
        writeln!(
            text,
            "{id}\t{}\t{}\t{}\t{}",
            tokenizer.id_to_token(id as u32).unwrap_or_default(),
            vocab.category(id).name(),
            vocab.src_counts[id],
            vocab.tgt_counts[id]
        )
        .expect("in memory");
    }
    burnlp_core::data::write_atomic(path, &text)?;
    Ok(())
}

/// A prepared data directory, loaded.
#[derive(Debug, Clone)]
pub struct PreparedData {
    /// The directory.
    pub dir: PathBuf,
    /// The joint BPE.
    pub tokenizer: Tokenizer,
    /// The dictionaries.
    pub vocab: Vocabulary,
    /// Training pairs.
    pub train: Pairs,
    /// Validation pairs.
    pub valid: Pairs,
}

impl PreparedData {
    /// Loads a directory written by [`prepare`].
    pub fn load(dir: &Path) -> Result<Self> {
        let tokenizer = Tokenizer::from_file(dir.join(files::TOKENIZER))?;
        let vocab_path = dir.join(files::VOCAB);
        let vocab = Vocabulary::load(&vocab_path)?;
        if vocab.len() != tokenizer.vocab_size() {
            return Err(NmtError::BadInput {
                path: vocab_path,
                line: None,
                message: format!(
                    "{} tokens, but the tokenizer has {}",
                    vocab.len(),
                    tokenizer.vocab_size()
                ),
            });
        }
        let train = read_pairs(&dir.join(files::TRAIN), vocab.len())?;
        let valid = read_pairs(&dir.join(files::VALID), vocab.len())?;
        Ok(Self {
            dir: dir.to_path_buf(),
            tokenizer,
            vocab,
            train,
            valid,
        })
    }
}
