//! What encoding produces: special token ids, padding modes, single and batched encodings,
//! word alignments.

use std::ops::Range;

use tokenizers::Encoding;

/// Ids of the special tokens a tokenizer knows (`None` where it has none).
///
/// Detected from the vocabulary on construction: the model's declared unknown token, then the
/// usual spellings (`[CLS]`/`<s>`, `[SEP]`/`</s>`, `[PAD]`/`<pad>`, `[UNK]`/`<unk>`,
/// `[MASK]`/`<mask>`, `<s>`/`<|endoftext|>` for BOS, `</s>`/`<|endoftext|>` for EOS).
/// Override through [`Tokenizer::special_tokens_mut`](super::Tokenizer::special_tokens_mut).
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

/// How [`Tokenizer::encode_batch`](super::Tokenizer::encode_batch) and [`Tokenizer::pad`](super::Tokenizer::pad) pad a batch.
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
    /// tokens). For [`Tokenizer::encode_words`](super::Tokenizer::encode_words) the offsets are relative to each word.
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

    pub(super) fn from_encoding(encoding: &Encoding) -> Self {
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

/// Pre-tokenized words encoded with their subword alignment, see [`Tokenizer::encode_words`](super::Tokenizer::encode_words).
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
