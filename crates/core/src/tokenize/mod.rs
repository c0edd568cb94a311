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

mod encoding;
mod merges;
mod train;
mod words;

use std::path::{Path, PathBuf};

use tokenizers::AddedToken;
use tokenizers::models::ModelWrapper;
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::{PostProcessor, TruncationDirection, TruncationParams, TruncationStrategy};

pub use encoding::{BatchEncoding, Encoded, Padding, SpecialTokens, WordEncoding};
pub use train::{BpeTrainingConfig, WordPieceTrainingConfig};

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

/// A tokenizer: [`tokenizers::Tokenizer`] plus dynamic padding, explicit truncation, special
/// token ids and word alignment.
#[derive(Clone, Debug)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    special: SpecialTokens,
    padding: Padding,
}

/// Runs a `tokenizers` loader, turning a panic into an error: `tokenizers` 0.22 panics
/// (`expect("Helper")` in its decoder deserializer) on some malformed `tokenizer.json` files,
/// found by `cargo xtask fuzz`. The default panic message is silenced for the call.
fn without_panics<T>(load: impl FnOnce() -> tokenizers::Result<T>) -> tokenizers::Result<T> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(load));
    std::panic::set_hook(hook);
    outcome.unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
            .unwrap_or_default();
        Err(format!("malformed tokenizer file (the tokenizers library failed: {message})").into())
    })
}

impl Tokenizer {
    /// Loads a `tokenizer.json` (any model type the `tokenizers` crate reads).
    ///
    /// Padding and truncation stored in the file are removed: batches are padded dynamically
    /// and the caller sets a maximum length with [`Tokenizer::set_max_length`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let inner =
            without_panics(|| tokenizers::Tokenizer::from_file(path)).map_err(|source| {
                TokenizeError::Load {
                    path: path.to_owned(),
                    source,
                }
            })?;
        Ok(Self::from_inner(inner))
    }

    /// Parses the contents of a `tokenizer.json`; `origin` names it in errors.
    pub fn from_bytes(bytes: impl AsRef<[u8]>, origin: impl AsRef<Path>) -> Result<Self> {
        let bytes = bytes.as_ref();
        let inner =
            without_panics(|| tokenizers::Tokenizer::from_bytes(bytes)).map_err(|source| {
                TokenizeError::Load {
                    path: origin.as_ref().to_owned(),
                    source,
                }
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
