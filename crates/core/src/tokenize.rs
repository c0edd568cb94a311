//! Tokenization over the Hugging Face `tokenizers` crate.
//!
//! [`Tokenizer`] is a thin wrapper around [`tokenizers::Tokenizer`] that
//!
//! * loads any `tokenizer.json` (WordPiece/BERT, byte-level BPE, Unigram/XLM-R) with
//!   [`Tokenizer::from_file`], or GPT-2's `encoder.json` + `vocab.bpe` with
//!   [`Tokenizer::from_gpt2_files`];
//! * never pads to a fixed length unless asked: padding stored in a `tokenizer.json` is removed
//!   on load and batches are padded dynamically to their longest sequence ([`Padding`]);
//! * truncates only when the caller sets a maximum length ([`Tokenizer::set_max_length`]);
//!   a truncation stored in the file (all-MiniLM-L6-v2 has 128) is removed on load;
//! * aligns pre-tokenized words with subwords ([`Tokenizer::encode_words`]), the building block
//!   of token classification;
//! * trains shared BPE (NMT) and WordPiece vocabularies ([`Tokenizer::train_bpe`],
//!   [`Tokenizer::train_wordpiece`]) that save to and reload from `tokenizer.json`.
//!
//! ```
//! use burnlp_core::tokenize::{BpeTrainingConfig, Tokenizer};
//!
//! let lines = ["the cat sat on the mat", "the dog sat on the log"];
//! let config = BpeTrainingConfig { vocab_size: 60, min_frequency: 1, ..Default::default() };
//! let tokenizer = Tokenizer::train_bpe(lines, &config)?;
//! let encoded = tokenizer.encode("the cat sat", false)?;
//! assert_eq!(tokenizer.decode(&encoded.ids, true)?, "the cat sat");
//! # Ok::<(), burnlp_core::tokenize::TokenizeError>(())
//! ```

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::bpe::{BPE, BpeTrainer};
use tokenizers::models::wordpiece::{WordPiece, WordPieceTrainer};
use tokenizers::models::{ModelWrapper, TrainerWrapper};
use tokenizers::normalizers::{BertNormalizer, NFKC};
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::metaspace::{Metaspace, PrependScheme};
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{
    AddedToken, Encoding, Model, OffsetType, PostProcessor, PreTokenizer, TruncationDirection,
    TruncationParams, TruncationStrategy,
};

/// Errors of the tokenization module.
#[derive(Debug, thiserror::Error)]
pub enum TokenizeError {
    /// A tokenizer file could not be read or parsed.
    #[error("cannot load tokenizer from `{path}`")]
    Load {
        /// The file that failed.
        path: PathBuf,
        /// The underlying `tokenizers` error.
        #[source]
        source: tokenizers::Error,
    },
    /// GPT-2 `encoder.json` + `vocab.bpe` could not be read or parsed.
    #[error("cannot load GPT-2 BPE from `{encoder}` and `{merges}`")]
    LoadGpt2 {
        /// The `encoder.json` path.
        encoder: PathBuf,
        /// The `vocab.bpe` path.
        merges: PathBuf,
        /// The underlying `tokenizers` error.
        #[source]
        source: tokenizers::Error,
    },
    /// The tokenizer could not be written.
    #[error("cannot save tokenizer to `{path}`")]
    Save {
        /// The destination.
        path: PathBuf,
        /// The underlying `tokenizers` error.
        #[source]
        source: tokenizers::Error,
    },
    /// A training file could not be opened.
    #[error("cannot read training file `{path}`")]
    TrainingFile {
        /// The file that failed.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Encoding a text failed inside `tokenizers`.
    #[error("cannot encode input")]
    Encode(#[source] tokenizers::Error),
    /// Decoding ids failed inside `tokenizers`.
    #[error("cannot decode ids")]
    Decode(#[source] tokenizers::Error),
    /// Training a vocabulary failed inside `tokenizers`.
    #[error("tokenizer training failed")]
    Train(#[source] tokenizers::Error),
    /// A setting is invalid (for example a training vocabulary of size 0).
    #[error("invalid tokenizer configuration: {0}")]
    Config(String),
    /// A word produced no subword and the tokenizer has no unknown token to stand in for it.
    #[error(
        "word {index} ({word:?}) produces no subword and the tokenizer has no unknown token \
         to represent it"
    )]
    EmptyWord {
        /// Index of the word in the input.
        index: usize,
        /// The word itself.
        word: String,
    },
}

/// Result type of this module.
pub type Result<T, E = TokenizeError> = std::result::Result<T, E>;

/// Ids of the special tokens a tokenizer knows (`None` where it has none).
///
/// Detected from the vocabulary on construction: the model's declared unknown token, then the
/// usual spellings (`[CLS]`/`<s>`, `[SEP]`/`</s>`, `[PAD]`/`<pad>`, `[UNK]`/`<unk>`,
/// `[MASK]`/`<mask>`, `<s>`/`<|endoftext|>` for BOS, `</s>`/`<|endoftext|>` for EOS).
/// Override through [`Tokenizer::special_tokens_mut`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpecialTokens {
    /// Classification token (`[CLS]`, `<s>`).
    pub cls: Option<u32>,
    /// Separator token (`[SEP]`, `</s>`).
    pub sep: Option<u32>,
    /// Padding token (`[PAD]`, `<pad>`).
    pub pad: Option<u32>,
    /// Unknown token (`[UNK]`, `<unk>`).
    pub unk: Option<u32>,
    /// Mask token (`[MASK]`, `<mask>`).
    pub mask: Option<u32>,
    /// Beginning-of-sequence token (`<s>`, `<|endoftext|>`).
    pub bos: Option<u32>,
    /// End-of-sequence token (`</s>`, `<|endoftext|>`).
    pub eos: Option<u32>,
}

/// How [`Tokenizer::encode_batch`] and [`Tokenizer::pad`] pad a batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Padding {
    /// Pad to the longest sequence of the batch (dynamic padding, the default).
    #[default]
    Longest,
    /// Pad to this length; a longer sequence (possible only without truncation) widens the
    /// batch to its own length so the batch stays rectangular.
    Fixed(usize),
}

/// One encoded sequence (or pair), unpadded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Encoded {
    /// Token ids, special tokens included when requested.
    pub ids: Vec<u32>,
    /// Segment (token type) ids: 0 for the first sequence, 1 for the second of a pair where the
    /// tokenizer's template says so.
    pub type_ids: Vec<u32>,
    /// Attention mask, all ones (nothing is padded here).
    pub attention_mask: Vec<u32>,
    /// 1 for special tokens added by the post-processor, 0 otherwise.
    pub special_tokens_mask: Vec<u32>,
    /// Token strings.
    pub tokens: Vec<String>,
    /// Byte offsets `(start, end)` of each token in its input text (`(0, 0)` for special
    /// tokens). For [`Tokenizer::encode_words`] the offsets are relative to each word.
    pub offsets: Vec<(usize, usize)>,
    /// Index of the word (pre-tokenizer split, or input word for pre-tokenized input) each
    /// token comes from; `None` for special tokens.
    pub word_ids: Vec<Option<usize>>,
    /// Whether tokens were cut by truncation.
    pub truncated: bool,
}

impl Encoded {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    fn from_encoding(encoding: &Encoding) -> Self {
        Self {
            ids: encoding.get_ids().to_vec(),
            type_ids: encoding.get_type_ids().to_vec(),
            attention_mask: encoding.get_attention_mask().to_vec(),
            special_tokens_mask: encoding.get_special_tokens_mask().to_vec(),
            tokens: encoding.get_tokens().to_vec(),
            offsets: encoding.get_offsets().to_vec(),
            word_ids: encoding
                .get_word_ids()
                .iter()
                .map(|w| w.map(|w| w as usize))
                .collect(),
            truncated: !encoding.get_overflowing().is_empty(),
        }
    }
}

/// A padded batch: `batch_size` rows of `seq_len` entries each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchEncoding {
    /// Token ids, padded with the pad id.
    pub ids: Vec<Vec<u32>>,
    /// 1 for real tokens, 0 for padding.
    pub attention_mask: Vec<Vec<u32>>,
    /// Segment ids, padded with 0.
    pub type_ids: Vec<Vec<u32>>,
    /// Unpadded length of each row.
    pub lengths: Vec<usize>,
}

impl BatchEncoding {
    /// Number of rows.
    pub fn batch_size(&self) -> usize {
        self.ids.len()
    }

    /// Padded length of every row (0 for an empty batch).
    pub fn seq_len(&self) -> usize {
        self.ids.first().map_or(0, Vec::len)
    }

    /// `[batch_size, seq_len]`, the shape of the flat vectors.
    pub fn shape(&self) -> [usize; 2] {
        [self.batch_size(), self.seq_len()]
    }

    /// Token ids flattened row-major, shape [`Self::shape`].
    pub fn ids_flat(&self) -> Vec<u32> {
        self.ids.concat()
    }

    /// Attention mask flattened row-major, shape [`Self::shape`].
    pub fn attention_mask_flat(&self) -> Vec<u32> {
        self.attention_mask.concat()
    }

    /// Segment ids flattened row-major, shape [`Self::shape`].
    pub fn type_ids_flat(&self) -> Vec<u32> {
        self.type_ids.concat()
    }
}

/// Pre-tokenized words encoded with their subword alignment, see [`Tokenizer::encode_words`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WordEncoding {
    /// The encoded sequence; `encoding.word_ids[t]` is the input word of token `t`.
    pub encoding: Encoded,
    /// For every kept word, its subword span `[start, end)` in `encoding.ids` (positions count
    /// the leading special tokens). Never empty. Words cut by truncation have no span, so
    /// `word_spans.len()` is the number of kept words, always a prefix of the input.
    pub word_spans: Vec<Range<usize>>,
    /// Number of input words dropped by truncation (the last ones).
    pub truncated_words: usize,
    /// Indices of words that produced no subword and were represented by the unknown token.
    pub unk_words: Vec<usize>,
}

impl WordEncoding {
    /// Number of words that made it into the encoding.
    pub fn kept_words(&self) -> usize {
        self.word_spans.len()
    }

    /// Position of the first subword of every kept word (for first-subword labelling).
    pub fn first_subwords(&self) -> Vec<usize> {
        self.word_spans.iter().map(|s| s.start).collect()
    }
}

/// Settings of [`Tokenizer::train_bpe`].
#[derive(Clone, Debug, PartialEq)]
pub struct BpeTrainingConfig {
    /// Target vocabulary size, special tokens and the alphabet included.
    pub vocab_size: usize,
    /// Minimum count of a pair to be merged.
    pub min_frequency: u64,
    /// Special tokens, given the first ids in this order.
    pub special_tokens: Vec<String>,
    /// Token that stands for characters unseen in training; added to the special tokens if
    /// missing. `None` drops unseen characters silently (not recommended).
    pub unk_token: Option<String>,
    /// Apply NFKC normalization before pre-tokenization (as SentencePiece does); decoding then
    /// returns the normalized text.
    pub nfkc: bool,
    /// Keep at most this many distinct characters in the initial alphabet.
    pub limit_alphabet: Option<usize>,
}

impl Default for BpeTrainingConfig {
    fn default() -> Self {
        Self {
            vocab_size: 8000,
            min_frequency: 2,
            special_tokens: ["<pad>", "<unk>", "<s>", "</s>"].map(String::from).to_vec(),
            unk_token: Some("<unk>".to_owned()),
            nfkc: false,
            limit_alphabet: None,
        }
    }
}

/// Settings of [`Tokenizer::train_wordpiece`].
#[derive(Clone, Debug, PartialEq)]
pub struct WordPieceTrainingConfig {
    /// Target vocabulary size, special tokens and the alphabet included.
    pub vocab_size: usize,
    /// Minimum count of a pair to be merged.
    pub min_frequency: u64,
    /// Special tokens, given the first ids in this order. When `[CLS]` and `[SEP]` are among
    /// them, the tokenizer adds them BERT-style (`[CLS] A [SEP] B [SEP]`).
    pub special_tokens: Vec<String>,
    /// Unknown token; added to the special tokens if missing.
    pub unk_token: String,
    /// Lowercase (and strip accents) in the BERT normalizer.
    pub lowercase: bool,
    /// Keep at most this many distinct characters in the initial alphabet.
    pub limit_alphabet: Option<usize>,
}

impl Default for WordPieceTrainingConfig {
    fn default() -> Self {
        Self {
            vocab_size: 8000,
            min_frequency: 2,
            special_tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
                .map(String::from)
                .to_vec(),
            unk_token: "[UNK]".to_owned(),
            lowercase: true,
            limit_alphabet: None,
        }
    }
}

/// A tokenizer: [`tokenizers::Tokenizer`] plus dynamic padding, explicit truncation, special
/// token ids and word alignment.
#[derive(Clone, Debug)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    special: SpecialTokens,
    padding: Padding,
}

impl Tokenizer {
    /// Loads a `tokenizer.json` (any model type the `tokenizers` crate reads).
    ///
    /// Padding and truncation stored in the file are removed: batches are padded dynamically
    /// and the caller sets a maximum length with [`Tokenizer::set_max_length`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let inner =
            tokenizers::Tokenizer::from_file(path).map_err(|source| TokenizeError::Load {
                path: path.to_owned(),
                source,
            })?;
        Ok(Self::from_inner(inner))
    }

    /// Parses the contents of a `tokenizer.json`; `origin` names it in errors.
    pub fn from_bytes(bytes: impl AsRef<[u8]>, origin: impl AsRef<Path>) -> Result<Self> {
        let inner =
            tokenizers::Tokenizer::from_bytes(bytes).map_err(|source| TokenizeError::Load {
                path: origin.as_ref().to_owned(),
                source,
            })?;
        Ok(Self::from_inner(inner))
    }

    /// Builds GPT-2's byte-level BPE from `encoder.json` (token → id) and `vocab.bpe` (merges).
    ///
    /// Byte-level pre-tokenizer without a prefix space (as GPT-2), byte-level decoder, and
    /// `<|endoftext|>` registered as a special token (it is BOS and EOS; there is no pad or
    /// unknown token, so [`Tokenizer::pad`] uses id 0 as filler unless `pad` is set).
    pub fn from_gpt2_files(
        encoder_json: impl AsRef<Path>,
        vocab_bpe: impl AsRef<Path>,
    ) -> Result<Self> {
        let (encoder, merges) = (encoder_json.as_ref(), vocab_bpe.as_ref());
        let error = |source: tokenizers::Error| TokenizeError::LoadGpt2 {
            encoder: encoder.to_owned(),
            merges: merges.to_owned(),
            source,
        };
        let (Some(encoder_str), Some(merges_str)) = (encoder.to_str(), merges.to_str()) else {
            return Err(error("path is not valid UTF-8".into()));
        };
        let bpe = BPE::from_file(encoder_str, merges_str)
            .build()
            .map_err(error)?;
        let mut inner = tokenizers::Tokenizer::new(bpe);
        let byte_level = ByteLevel::new(false, true, true);
        inner
            .with_pre_tokenizer(Some(byte_level))
            .with_decoder(Some(byte_level))
            .with_post_processor(Some(byte_level));
        inner.add_special_tokens(&[AddedToken::from("<|endoftext|>", true)]);
        Ok(Self::from_inner(inner))
    }

    /// Wraps a `tokenizers` tokenizer, removing its padding and truncation.
    pub fn from_inner(mut inner: tokenizers::Tokenizer) -> Self {
        inner.with_padding(None);
        // Removing truncation cannot fail (only setting it validates parameters).
        let _ = inner.with_truncation(None);
        let special = detect_special_tokens(&inner);
        Self {
            inner,
            special,
            padding: Padding::Longest,
        }
    }

    /// The wrapped `tokenizers` tokenizer (its padding is always off).
    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }

    /// Unwraps the `tokenizers` tokenizer.
    pub fn into_inner(self) -> tokenizers::Tokenizer {
        self.inner
    }

    /// Saves as `tokenizer.json`. The maximum length is saved as the file's truncation but, like
    /// any file truncation, is not restored by [`Tokenizer::from_file`].
    pub fn save(&self, path: impl AsRef<Path>, pretty: bool) -> Result<()> {
        let path = path.as_ref();
        self.inner
            .save(path, pretty)
            .map_err(|source| TokenizeError::Save {
                path: path.to_owned(),
                source,
            })
    }

    /// Truncates every encoding to at most `max_length` tokens, special tokens included
    /// (`None` disables truncation). Pairs are truncated longest-first.
    ///
    /// `max_length` must leave room for the special tokens of a pair
    /// ([`Tokenizer::num_special_tokens_to_add`]), else [`TokenizeError::Config`].
    pub fn set_max_length(&mut self, max_length: Option<usize>) -> Result<()> {
        let specials = self.num_special_tokens_to_add(true);
        if let Some(max_length) = max_length
            && max_length < specials
        {
            return Err(TokenizeError::Config(format!(
                "max_length {max_length} is shorter than the {specials} special tokens of a pair"
            )));
        }
        let params = max_length.map(|max_length| TruncationParams {
            max_length,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
            direction: TruncationDirection::Right,
        });
        self.inner
            .with_truncation(params)
            .map_err(|e| TokenizeError::Config(e.to_string()))?;
        Ok(())
    }

    /// Builder form of [`Tokenizer::set_max_length`].
    pub fn with_max_length(mut self, max_length: Option<usize>) -> Result<Self> {
        self.set_max_length(max_length)?;
        Ok(self)
    }

    /// The maximum length, if truncation is on.
    pub fn max_length(&self) -> Option<usize> {
        self.inner.get_truncation().map(|t| t.max_length)
    }

    /// Sets how batches are padded.
    pub fn set_padding(&mut self, padding: Padding) {
        self.padding = padding;
    }

    /// How batches are padded.
    pub fn padding(&self) -> Padding {
        self.padding
    }

    /// Special token ids.
    pub fn special_tokens(&self) -> &SpecialTokens {
        &self.special
    }

    /// Special token ids, for overriding the detected ones (e.g. a pad id for GPT-2).
    pub fn special_tokens_mut(&mut self) -> &mut SpecialTokens {
        &mut self.special
    }

    /// Vocabulary size including added tokens.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Id of a token string, if in the vocabulary.
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Token string of an id, if in the vocabulary.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// Number of special tokens the post-processor adds to a single sequence or a pair.
    pub fn num_special_tokens_to_add(&self, is_pair: bool) -> usize {
        self.inner
            .get_post_processor()
            .map_or(0, |p| p.added_tokens(is_pair))
    }

    /// Encodes one text.
    pub fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Encoded> {
        let encoding = self
            .inner
            .encode(text, add_special_tokens)
            .map_err(TokenizeError::Encode)?;
        Ok(Encoded::from_encoding(&encoding))
    }

    /// Encodes a pair of texts (e.g. premise and hypothesis).
    pub fn encode_pair(
        &self,
        first: &str,
        second: &str,
        add_special_tokens: bool,
    ) -> Result<Encoded> {
        let encoding = self
            .inner
            .encode((first, second), add_special_tokens)
            .map_err(TokenizeError::Encode)?;
        Ok(Encoded::from_encoding(&encoding))
    }

    /// Encodes texts in parallel and pads them into a batch ([`Padding`]).
    pub fn encode_batch<S: AsRef<str>>(
        &self,
        texts: &[S],
        add_special_tokens: bool,
    ) -> Result<BatchEncoding> {
        let inputs: Vec<&str> = texts.iter().map(AsRef::as_ref).collect();
        let encodings = self
            .inner
            .encode_batch(inputs, add_special_tokens)
            .map_err(TokenizeError::Encode)?;
        let encoded: Vec<Encoded> = encodings.iter().map(Encoded::from_encoding).collect();
        Ok(self.pad(&encoded))
    }

    /// Encodes text pairs in parallel and pads them into a batch ([`Padding`]).
    pub fn encode_pair_batch<A: AsRef<str>, B: AsRef<str>>(
        &self,
        pairs: &[(A, B)],
        add_special_tokens: bool,
    ) -> Result<BatchEncoding> {
        let inputs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(a, b)| (a.as_ref(), b.as_ref()))
            .collect();
        let encodings = self
            .inner
            .encode_batch(inputs, add_special_tokens)
            .map_err(TokenizeError::Encode)?;
        let encoded: Vec<Encoded> = encodings.iter().map(Encoded::from_encoding).collect();
        Ok(self.pad(&encoded))
    }

    /// Pads encodings into a batch, on the right, with the pad id (`pad`, else `eos`, else 0),
    /// segment id 0 and attention mask 0.
    pub fn pad(&self, encodings: &[Encoded]) -> BatchEncoding {
        let longest = encodings.iter().map(Encoded::len).max().unwrap_or(0);
        let seq_len = match self.padding {
            Padding::Longest => longest,
            Padding::Fixed(n) => n.max(longest),
        };
        let pad_id = self.special.pad.or(self.special.eos).unwrap_or(0);
        let fill = |values: &[u32], filler: u32| {
            let mut row = Vec::with_capacity(seq_len);
            row.extend_from_slice(values);
            row.resize(seq_len, filler);
            row
        };
        let mut batch = BatchEncoding::default();
        for encoded in encodings {
            batch.ids.push(fill(&encoded.ids, pad_id));
            batch.attention_mask.push(fill(&encoded.attention_mask, 0));
            batch.type_ids.push(fill(&encoded.type_ids, 0));
            batch.lengths.push(encoded.len());
        }
        batch
    }

    /// Decodes ids to text.
    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String> {
        self.inner
            .decode(ids, skip_special_tokens)
            .map_err(TokenizeError::Decode)
    }

    /// Decodes several id sequences.
    pub fn decode_batch(&self, ids: &[&[u32]], skip_special_tokens: bool) -> Result<Vec<String>> {
        self.inner
            .decode_batch(ids, skip_special_tokens)
            .map_err(TokenizeError::Decode)
    }

    /// Encodes pre-tokenized words and aligns every word with its subwords.
    ///
    /// Each word goes through the tokenizer's normalizer, pre-tokenizer and model on its own
    /// (as `is_split_into_words` in `transformers`), so a word never shares a subword with its
    /// neighbours. Special tokens are added around the words when requested.
    ///
    /// * **Words without subwords.** A word that produces no subword (empty string, control or
    ///   zero-width characters removed by the normalizer, whitespace) is represented by one
    ///   unknown token, so that every kept word has a non-empty span and labels stay aligned;
    ///   its index is listed in [`WordEncoding::unk_words`]. A tokenizer without an unknown
    ///   token (byte-level BPE such as GPT-2) returns [`TokenizeError::EmptyWord`] instead.
    /// * **Truncation.** With a maximum length set, whole words are kept from the left while
    ///   all their subwords fit in `max_length` minus the special tokens; the first word that
    ///   does not fit and all words after it are dropped ([`WordEncoding::truncated_words`]).
    ///   A word is never split by truncation.
    /// * **Byte-level BPE.** Words are encoded without a leading space, so `world` does not get
    ///   GPT-2's `Ġworld` subwords.
    pub fn encode_words<S: AsRef<str>>(
        &self,
        words: &[S],
        add_special_tokens: bool,
    ) -> Result<WordEncoding> {
        let budget = self.max_length().map(|max| {
            if add_special_tokens {
                max.saturating_sub(self.num_special_tokens_to_add(false))
            } else {
                max
            }
        });
        let mut pieces = Vec::with_capacity(words.len());
        let mut unk_words = Vec::new();
        let mut used = 0usize;
        for (index, word) in words.iter().enumerate() {
            let word = word.as_ref();
            let word_idx = u32::try_from(index)
                .map_err(|_| TokenizeError::Config("more than u32::MAX words".to_owned()))?;
            let mut piece = self.encode_raw(word, word_idx)?;
            if piece.is_empty() {
                let unk = self.special.unk.ok_or_else(|| TokenizeError::EmptyWord {
                    index,
                    word: word.to_owned(),
                })?;
                let token = self.inner.id_to_token(unk).unwrap_or_default();
                piece = std::iter::once((unk, token, (0, word.len()), Some(word_idx), 0)).collect();
                unk_words.push(index);
            }
            if budget.is_some_and(|budget| used + piece.len() > budget) {
                break;
            }
            used += piece.len();
            pieces.push(piece);
        }
        let kept = pieces.len();
        unk_words.retain(|&i| i < kept);
        let merged = Encoding::merge(pieces, false);
        let encoding = self
            .inner
            .post_process(merged, None, add_special_tokens)
            .map_err(TokenizeError::Encode)?;
        let mut encoded = Encoded::from_encoding(&encoding);
        encoded.truncated = kept < words.len();
        // Every kept word has at least one token (the unk stand-in guarantees it).
        let mut spans: Vec<Option<Range<usize>>> = vec![None; kept];
        for (position, word) in encoded.word_ids.iter().enumerate() {
            if let Some(slot) = word.and_then(|w| spans.get_mut(w)) {
                match slot {
                    Some(span) => span.end = position + 1,
                    None => *slot = Some(position..position + 1),
                }
            }
        }
        Ok(WordEncoding {
            encoding: encoded,
            word_spans: spans.into_iter().map(Option::unwrap_or_default).collect(),
            truncated_words: words.len() - kept,
            unk_words,
        })
    }

    /// Normalizes, pre-tokenizes and tokenizes one word without post-processing or truncation.
    fn encode_raw(&self, word: &str, word_idx: u32) -> Result<Encoding> {
        let mut pretokenized = self
            .inner
            .get_added_vocabulary()
            .extract_and_normalize(self.inner.get_normalizer(), word);
        if let Some(pre_tokenizer) = self.inner.get_pre_tokenizer() {
            pre_tokenizer
                .pre_tokenize(&mut pretokenized)
                .map_err(TokenizeError::Encode)?;
        }
        let model = self.inner.get_model();
        pretokenized
            .tokenize(|normalized| model.tokenize(normalized.get()))
            .map_err(TokenizeError::Encode)?;
        pretokenized
            .into_encoding(Some(word_idx), 0, OffsetType::Byte)
            .map_err(TokenizeError::Encode)
    }

    /// Trains a BPE tokenizer on lines of text (shared source+target BPE for NMT).
    ///
    /// Pipeline: optional NFKC, Metaspace pre-tokenizer (spaces become `▁`, prepended to every
    /// word, as SentencePiece), BPE model with an unknown token, Metaspace decoder so that
    /// `decode(encode(text))` returns `text` (up to NFKC and leading/trailing/repeated
    /// spaces). No post-processor: add BOS/EOS ids yourself from [`Tokenizer::special_tokens`].
    pub fn train_bpe<I, S>(lines: I, config: &BpeTrainingConfig) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        I::IntoIter: Send,
        S: AsRef<str> + Send,
    {
        let (mut inner, mut trainer) = bpe_setup(config)?;
        inner
            .train(&mut trainer, lines.into_iter())
            .map_err(TokenizeError::Train)?;
        Ok(Self::from_inner(inner))
    }

    /// Trains a BPE tokenizer on text files, one sequence per line (line endings are not part
    /// of the text). See [`Tokenizer::train_bpe`].
    pub fn train_bpe_from_files<P: AsRef<Path>>(
        files: &[P],
        config: &BpeTrainingConfig,
    ) -> Result<Self> {
        let (mut inner, mut trainer) = bpe_setup(config)?;
        train_on_files(&mut inner, &mut trainer, files)?;
        Ok(Self::from_inner(inner))
    }

    /// Trains a BERT-style WordPiece tokenizer on lines of text.
    ///
    /// Pipeline: BERT normalizer (cleanup, CJK characters split, lowercase and accent
    /// stripping if configured), BERT pre-tokenizer (whitespace and punctuation), WordPiece
    /// model with `##` continuation, WordPiece decoder, and a `[CLS] A [SEP] B [SEP]` template
    /// when `[CLS]` and `[SEP]` are special tokens.
    pub fn train_wordpiece<I, S>(lines: I, config: &WordPieceTrainingConfig) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        I::IntoIter: Send,
        S: AsRef<str> + Send,
    {
        let (mut inner, mut trainer) = wordpiece_setup(config)?;
        inner
            .train(&mut trainer, lines.into_iter())
            .map_err(TokenizeError::Train)?;
        wordpiece_finish(inner, config)
    }

    /// Trains a WordPiece tokenizer on text files, one sequence per line. See
    /// [`Tokenizer::train_wordpiece`].
    pub fn train_wordpiece_from_files<P: AsRef<Path>>(
        files: &[P],
        config: &WordPieceTrainingConfig,
    ) -> Result<Self> {
        let (mut inner, mut trainer) = wordpiece_setup(config)?;
        train_on_files(&mut inner, &mut trainer, files)?;
        wordpiece_finish(inner, config)
    }
}

/// Finds the special tokens by the model's unknown token and the usual spellings.
fn detect_special_tokens(inner: &tokenizers::Tokenizer) -> SpecialTokens {
    let find = |candidates: &[&str]| candidates.iter().find_map(|t| inner.token_to_id(t));
    let declared_unk = match inner.get_model() {
        ModelWrapper::WordPiece(wp) => inner.token_to_id(&wp.unk_token),
        ModelWrapper::BPE(bpe) => bpe.unk_token.as_deref().and_then(|t| inner.token_to_id(t)),
        _ => None,
    };
    SpecialTokens {
        cls: find(&["[CLS]", "<s>", "<cls>"]),
        sep: find(&["[SEP]", "</s>", "<sep>"]),
        pad: find(&["[PAD]", "<pad>", "<|pad|>"]),
        unk: declared_unk.or_else(|| find(&["[UNK]", "<unk>", "<|unk|>"])),
        mask: find(&["[MASK]", "<mask>"]),
        bos: find(&["<s>", "<bos>", "<|endoftext|>", "[BOS]"]),
        eos: find(&["</s>", "<eos>", "<|endoftext|>", "[EOS]"]),
    }
}

/// Trains on the lines of `files` (without line endings), streaming them; I/O errors name
/// the file.
fn train_on_files<P: AsRef<Path>>(
    inner: &mut tokenizers::Tokenizer,
    trainer: &mut TrainerWrapper,
    files: &[P],
) -> Result<()> {
    let mut readers = Vec::with_capacity(files.len());
    for path in files {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| TokenizeError::TrainingFile {
            path: path.to_owned(),
            source,
        })?;
        readers.push((path.to_owned(), BufReader::new(file)));
    }
    let failure: Mutex<Option<TokenizeError>> = Mutex::new(None);
    let lines = readers
        .into_iter()
        .flat_map(|(path, reader)| reader.lines().map(move |line| (line, path.clone())))
        .map_while(|(line, path)| match line {
            Ok(line) => Some(line),
            Err(source) => {
                if let Ok(mut failure) = failure.lock() {
                    *failure = Some(TokenizeError::TrainingFile { path, source });
                }
                None
            }
        });
    let result = inner.train(trainer, lines).map(|_| ());
    if let Some(error) = failure.into_inner().ok().flatten() {
        return Err(error);
    }
    result.map_err(TokenizeError::Train)
}

/// Special tokens as `AddedToken`s, with `extra` appended when missing.
fn added_tokens(tokens: &[String], extra: Option<&str>) -> Vec<AddedToken> {
    let mut all: Vec<AddedToken> = tokens
        .iter()
        .map(|t| AddedToken::from(t.clone(), true))
        .collect();
    if let Some(extra) = extra
        && !tokens.iter().any(|t| t == extra)
    {
        all.push(AddedToken::from(extra.to_owned(), true));
    }
    all
}

fn check_vocab_size(vocab_size: usize, specials: usize) -> Result<()> {
    if vocab_size <= specials {
        return Err(TokenizeError::Config(format!(
            "vocab_size {vocab_size} leaves no room beyond {specials} special tokens"
        )));
    }
    Ok(())
}

fn bpe_setup(config: &BpeTrainingConfig) -> Result<(tokenizers::Tokenizer, TrainerWrapper)> {
    let specials = added_tokens(&config.special_tokens, config.unk_token.as_deref());
    check_vocab_size(config.vocab_size, specials.len())?;
    let mut model = BPE::builder();
    if let Some(unk) = &config.unk_token {
        model = model.unk_token(unk.clone());
    }
    let model = model
        .build()
        .map_err(|e| TokenizeError::Config(e.to_string()))?;
    let mut inner = tokenizers::Tokenizer::new(model);
    if config.nfkc {
        inner.with_normalizer(Some(NFKC));
    }
    let metaspace = Metaspace::new('▁', PrependScheme::Always, true);
    inner
        .with_pre_tokenizer(Some(metaspace.clone()))
        .with_decoder(Some(metaspace));
    let mut trainer = BpeTrainer::builder()
        .vocab_size(config.vocab_size)
        .min_frequency(config.min_frequency)
        .special_tokens(specials)
        .show_progress(false);
    if let Some(limit) = config.limit_alphabet {
        trainer = trainer.limit_alphabet(limit);
    }
    Ok((inner, trainer.build().into()))
}

fn wordpiece_setup(
    config: &WordPieceTrainingConfig,
) -> Result<(tokenizers::Tokenizer, TrainerWrapper)> {
    let specials = added_tokens(&config.special_tokens, Some(&config.unk_token));
    check_vocab_size(config.vocab_size, specials.len())?;
    let model = WordPiece::builder()
        .unk_token(config.unk_token.clone())
        .build()
        .map_err(|e| TokenizeError::Config(e.to_string()))?;
    let mut inner = tokenizers::Tokenizer::new(model);
    inner
        .with_normalizer(Some(BertNormalizer::new(
            true,
            true,
            None,
            config.lowercase,
        )))
        .with_pre_tokenizer(Some(BertPreTokenizer))
        .with_decoder(Some(WordPieceDecoder::new("##".to_owned(), true)));
    let mut trainer = WordPieceTrainer::builder()
        .vocab_size(config.vocab_size)
        .min_frequency(config.min_frequency)
        .special_tokens(specials)
        .show_progress(false);
    if let Some(limit) = config.limit_alphabet {
        trainer = trainer.limit_alphabet(limit);
    }
    Ok((inner, trainer.build().into()))
}

/// Adds the BERT template once the vocabulary (and so the `[CLS]`/`[SEP]` ids) exists.
fn wordpiece_finish(
    mut inner: tokenizers::Tokenizer,
    config: &WordPieceTrainingConfig,
) -> Result<Tokenizer> {
    let has = |t: &str| config.special_tokens.iter().any(|s| s == t);
    if has("[CLS]") && has("[SEP]") {
        let (Some(cls), Some(sep)) = (inner.token_to_id("[CLS]"), inner.token_to_id("[SEP]"))
        else {
            return Err(TokenizeError::Config(
                "trained vocabulary lacks [CLS] or [SEP]".to_owned(),
            ));
        };
        let template = TemplateProcessing::builder()
            .try_single("[CLS] $A [SEP]")
            .and_then(|b| b.try_pair("[CLS] $A [SEP] $B:1 [SEP]:1"))
            .map_err(TokenizeError::Config)?
            .special_tokens(vec![("[CLS]", cls), ("[SEP]", sep)])
            .build()
            .map_err(|e| TokenizeError::Config(e.to_string()))?;
        inner.with_post_processor(Some(template));
    }
    Ok(Tokenizer::from_inner(inner))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy_bpe() -> Tokenizer {
        let lines = [
            "the cat sat on the mat",
            "the dog sat on the log",
            "a cat and a dog",
        ];
        let config = BpeTrainingConfig {
            vocab_size: 80,
            min_frequency: 1,
            ..Default::default()
        };
        Tokenizer::train_bpe(lines, &config).unwrap()
    }

    #[test]
    fn bpe_round_trip_and_specials() {
        let tok = toy_bpe();
        let s = tok.special_tokens();
        assert_eq!(
            (s.pad, s.unk, s.bos, s.eos),
            (Some(0), Some(1), Some(2), Some(3))
        );
        let enc = tok.encode("the cat sat on the log", false).unwrap();
        assert_eq!(
            tok.decode(&enc.ids, true).unwrap(),
            "the cat sat on the log"
        );
        // Unseen characters map to <unk> instead of vanishing.
        let enc = tok.encode("the zebra", false).unwrap();
        assert!(enc.ids.contains(&1));
    }

    #[test]
    fn padding_is_dynamic_and_fixed_widens() {
        let mut tok = toy_bpe();
        let batch = tok
            .encode_batch(&["the cat", "a dog and a cat sat"], false)
            .unwrap();
        assert_eq!(
            batch.seq_len(),
            batch.lengths.iter().copied().max().unwrap()
        );
        assert_eq!(
            batch.attention_mask[0].iter().sum::<u32>() as usize,
            batch.lengths[0]
        );
        assert!(batch.ids[0][batch.lengths[0]..].iter().all(|&i| i == 0));
        tok.set_padding(Padding::Fixed(2));
        let batch = tok
            .encode_batch(&["the cat", "a dog and a cat sat"], false)
            .unwrap();
        assert_eq!(
            batch.seq_len(),
            batch.lengths.iter().copied().max().unwrap()
        );
        tok.set_padding(Padding::Fixed(40));
        let batch = tok.encode_batch(&["the cat"], false).unwrap();
        assert_eq!(batch.shape(), [1, 40]);
        assert_eq!(batch.ids_flat().len(), 40);
    }

    #[test]
    fn empty_word_without_unk_is_an_error() {
        let config = BpeTrainingConfig {
            vocab_size: 50,
            min_frequency: 1,
            special_tokens: vec![],
            unk_token: None,
            ..Default::default()
        };
        let tok = Tokenizer::train_bpe(["ab ab ab"], &config).unwrap();
        let err = tok.encode_words(&["ab", ""], false).unwrap_err();
        assert!(
            matches!(err, TokenizeError::EmptyWord { index: 1, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn tiny_vocab_is_a_config_error() {
        let config = BpeTrainingConfig {
            vocab_size: 3,
            ..Default::default()
        };
        let err = Tokenizer::train_bpe(["a b"], &config).unwrap_err();
        assert!(matches!(err, TokenizeError::Config(_)), "{err:?}");
    }
}
