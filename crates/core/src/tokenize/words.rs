//! Encoding pre-tokenized words with their word ↔ subword alignment.

use std::ops::Range;

use tokenizers::{Encoding, Model, OffsetType, PreTokenizer};

use super::{Encoded, Result, TokenizeError, Tokenizer, WordEncoding};

impl Tokenizer {
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
}
