//! Data preparation: a joint BPE for the shared vocabulary, the source and target
//! dictionaries that classify every joint token, and binarized corpora.
//!
//! The paper (Chen et al., ACL 2022, Appendix A, Algorithm 1) builds fairseq dictionaries over
//! the subword-segmented training data: an "isolated" source dictionary `S` (tokens seen at
//! least `--thresholdsrc` times on the source side), target dictionary `T` (at least
//! `--thresholdtgt` times on the target side) and the joined dictionary `J`
//! (`--joined-dictionary`: tokens seen at least `--thresholdsrc` times on both sides together;
//! fairseq builds it as a source dictionary). The official scripts use 10 for both thresholds.
//! A token of `J` is *common* when it is in `S` and `T`, *source-only* when only in `S`,
//! *target-only* when only in `T`, and in *neither* dictionary otherwise (possible with
//! thresholds; the official WLS code counts those as target tokens, MLS masks them). Here one
//! BPE model is learned on both sides of the training data; its tokens below the joined
//! threshold are not in `J`, and `prepare` maps them to `<unk>` in the binarized corpora, as
//! fairseq's binarization does. The special tokens are in every dictionary, as in fairseq.

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
    /// The [`super::Vocabulary`] (per-side token counts, thresholds, languages).
    pub const VOCAB: &str = "vocab.json";
    /// One line per BPE token: id, token, category (`not-joined` below the joined
    /// threshold), source count, target count.
    pub const CATEGORIES: &str = "categories.tsv";
    /// The [`super::CategoryStats`] of the vocabulary.
    pub const STATS: &str = "stats.json";
    /// Binarized training pairs.
    pub const TRAIN: &str = "train.bin";
    /// Binarized validation pairs.
    pub const VALID: &str = "valid.bin";
}

/// The paper's frequency threshold of the source, target and joined dictionaries (fairseq's
/// `--thresholdsrc 10 --thresholdtgt 10`).
pub const DEFAULT_THRESHOLD: u64 = 10;

/// Which dictionaries a token of the joined dictionary belongs to (Algorithm 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenCategory {
    /// In the source dictionary only: it cannot occur in a target sentence.
    SourceOnly,
    /// In both dictionaries.
    Common,
    /// In the target dictionary only.
    TargetOnly,
    /// In the joined dictionary but in neither side's dictionary (below both side thresholds;
    /// a target token for WLS, masked by MLS).
    Neither,
}

impl TokenCategory {
    /// The name used in files and reports.
    pub fn name(self) -> &'static str {
        match self {
            TokenCategory::SourceOnly => "source-only",
            TokenCategory::Common => "common",
            TokenCategory::TargetOnly => "target-only",
            TokenCategory::Neither => "neither",
        }
    }
}

/// The shared vocabulary with its source, target and joined dictionaries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vocabulary {
    /// Source language code.
    pub src_lang: String,
    /// Target language code.
    pub tgt_lang: String,
    /// A token is in the source dictionary when it occurs at least this often on the source
    /// side, and in the joined dictionary when it occurs at least this often on both sides
    /// together (fairseq's `--thresholdsrc`).
    pub threshold_src: u64,
    /// A token is in the target dictionary when it occurs at least this often on the target
    /// side (fairseq's `--thresholdtgt`).
    pub threshold_tgt: u64,
    /// Occurrences of every joint token in the source side of the training data.
    pub src_counts: Vec<u64>,
    /// Occurrences of every joint token in the target side of the training data.
    pub tgt_counts: Vec<u64>,
    /// Special tokens (padding, unknown, BOS, EOS), in every dictionary.
    pub specials: Vec<u32>,
    /// Padding id.
    pub pad: u32,
    /// End-of-sentence id (also the first decoder input).
    pub eos: u32,
    /// Unknown-token id: tokens outside the joined dictionary are mapped to it.
    pub unk: u32,
}

impl Vocabulary {
    /// Size of the BPE vocabulary (the model's output layer), the joined dictionary and the
    /// tokens below its threshold.
    pub fn len(&self) -> usize {
        self.src_counts.len()
    }

    /// True for an empty vocabulary.
    pub fn is_empty(&self) -> bool {
        self.src_counts.is_empty()
    }

    fn special(&self, id: usize) -> bool {
        self.specials.contains(&(id as u32))
    }

    /// Whether token `id` is in the joined dictionary `J` (fairseq's `--joined-dictionary`
    /// with `--thresholdsrc`).
    pub fn in_joined(&self, id: usize) -> bool {
        self.special(id) || self.src_counts[id] + self.tgt_counts[id] >= self.threshold_src
    }

    /// Whether token `id` is in the source dictionary `S`.
    pub fn in_source(&self, id: usize) -> bool {
        self.special(id) || self.src_counts[id] >= self.threshold_src
    }

    /// Whether token `id` is in the target dictionary `T`.
    pub fn in_target(&self, id: usize) -> bool {
        self.special(id) || self.tgt_counts[id] >= self.threshold_tgt
    }

    /// The category of token `id`, `None` outside the joined dictionary.
    pub fn category(&self, id: usize) -> Option<TokenCategory> {
        if !self.in_joined(id) {
            return None;
        }
        Some(match (self.in_source(id), self.in_target(id)) {
            (true, true) => TokenCategory::Common,
            (true, false) => TokenCategory::SourceOnly,
            (false, true) => TokenCategory::TargetOnly,
            (false, false) => TokenCategory::Neither,
        })
    }

    /// The category of every token (`None` outside the joined dictionary).
    pub fn categories(&self) -> Vec<Option<TokenCategory>> {
        (0..self.len()).map(|id| self.category(id)).collect()
    }

    /// The MLS set `A`: tokens of the joined dictionary whose symbol is in the target
    /// dictionary.
    pub fn target_mask(&self) -> Vec<bool> {
        (0..self.len())
            .map(|id| self.in_joined(id) && self.in_target(id))
            .collect()
    }

    /// `ids` with every token outside the joined dictionary replaced by `<unk>`.
    pub fn to_joined(&self, ids: &[u32]) -> Vec<u32> {
        ids.iter()
            .map(|&id| {
                if self.in_joined(id as usize) {
                    id
                } else {
                    self.unk
                }
            })
            .collect()
    }

    /// Category counts and shares.
    pub fn stats(&self) -> CategoryStats {
        let (mut source_only, mut common, mut target_only, mut neither) = (0, 0, 0, 0);
        for category in self.categories().into_iter().flatten() {
            match category {
                TokenCategory::Common => common += 1,
                TokenCategory::SourceOnly => source_only += 1,
                TokenCategory::TargetOnly => target_only += 1,
                TokenCategory::Neither => neither += 1,
            }
        }
        let joined = source_only + common + target_only + neither;
        let share = |k: usize| k as f64 / joined.max(1) as f64;
        CategoryStats {
            vocab_size: self.len(),
            threshold_src: self.threshold_src,
            threshold_tgt: self.threshold_tgt,
            joined,
            outside_joined: self.len() - joined,
            source_only,
            common,
            target_only,
            neither,
            source_share: share(source_only),
            common_share: share(common),
            target_share: share(target_only),
            neither_share: share(neither),
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
    /// Size of the BPE vocabulary.
    pub vocab_size: usize,
    /// Source (and joined) dictionary threshold.
    pub threshold_src: u64,
    /// Target dictionary threshold.
    pub threshold_tgt: u64,
    /// Size of the joined dictionary (special tokens included).
    pub joined: usize,
    /// BPE tokens below the joined threshold (mapped to `<unk>`).
    pub outside_joined: usize,
    /// Tokens only in the source dictionary.
    pub source_only: usize,
    /// Tokens in both dictionaries (special tokens included).
    pub common: usize,
    /// Tokens only in the target dictionary.
    pub target_only: usize,
    /// Tokens of the joined dictionary in neither side's dictionary.
    pub neither: usize,
    /// `source_only` over the joined dictionary.
    pub source_share: f64,
    /// `common` over the joined dictionary.
    pub common_share: f64,
    /// `target_only` over the joined dictionary.
    pub target_share: f64,
    /// `neither` over the joined dictionary.
    pub neither_share: f64,
}

impl std::fmt::Display for CategoryStats {
    /// One line: thresholds, joined size, and each category's count and share.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "BPE vocabulary {}, thresholds {}/{} (source/target): joined dictionary {} \
             ({} below the threshold, mapped to <unk>): source-only {} ({:.1}%), common {} \
             ({:.1}%), target-only {} ({:.1}%), neither {} ({:.1}%)",
            self.vocab_size,
            self.threshold_src,
            self.threshold_tgt,
            self.joined,
            self.outside_joined,
            self.source_only,
            100.0 * self.source_share,
            self.common,
            100.0 * self.common_share,
            self.target_only,
            100.0 * self.target_share,
            self.neither,
            100.0 * self.neither_share
        )
    }
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
    /// Source (and joined) dictionary threshold (fairseq's `--thresholdsrc`; the paper: 10).
    pub threshold_src: u64,
    /// Target dictionary threshold (fairseq's `--thresholdtgt`; the paper: 10).
    pub threshold_tgt: u64,
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
    for (name, value) in [
        ("threshold-src", config.threshold_src),
        ("threshold-tgt", config.threshold_tgt),
    ] {
        if value == 0 {
            return Err(NmtError::InvalidArgument {
                name,
                message: "must be at least 1".into(),
            });
        }
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
        .map(|(s, t)| (vocab.to_joined(&s), vocab.to_joined(&t)))
        .collect();
    let (vsrc, vtgt): (Vec<String>, Vec<String>) = valid.into_iter().unzip();
    let valid_pairs: Pairs = encode_all(&tokenizer, &vsrc)?
        .into_iter()
        .zip(encode_all(&tokenizer, &vtgt)?)
        .map(|(s, t)| (vocab.to_joined(&s), vocab.to_joined(&t)))
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
    let unk = special.unk.ok_or_else(|| missing("unknown"))?;
    let specials = [special.pad, special.unk, special.bos, special.eos]
        .into_iter()
        .flatten()
        .collect();
    Ok(Vocabulary {
        src_lang: config.src_lang.clone(),
        tgt_lang: config.tgt_lang.clone(),
        threshold_src: config.threshold_src,
        threshold_tgt: config.threshold_tgt,
        src_counts: count(src_ids),
        tgt_counts: count(tgt_ids),
        specials,
        pad,
        eos,
        unk,
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
            vocab.category(id).map_or("not-joined", TokenCategory::name),
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
