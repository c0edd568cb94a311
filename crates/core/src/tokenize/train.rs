//! Training BPE and WordPiece vocabularies, deterministically.
//!
//! The pipelines (normalizer, pre-tokenizer, model, decoder) are `tokenizers`' own, so trained
//! tokenizers save to and load from `tokenizer.json`; the merges are learned by
//! [`merges::learn`](super::merges), which, unlike `tokenizers`' trainers, gives the same
//! vocabulary for the same text in every run.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::bpe::{BPE, Vocab};
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::{BertNormalizer, NFKC};
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::pre_tokenizers::metaspace::{Metaspace, PrependScheme};
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{
    AddedToken, Normalizer, OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer,
};

use super::merges::{LearnConfig, learn};
use super::{Result, TokenizeError, Tokenizer};

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

impl Tokenizer {
    /// Trains a BPE tokenizer on lines of text (shared source+target BPE for NMT).
    ///
    /// Pipeline: optional NFKC, Metaspace pre-tokenizer (spaces become `▁`, prepended to every
    /// word, as SentencePiece), BPE model with an unknown token, Metaspace decoder so that
    /// `decode(encode(text))` returns `text` (up to NFKC and leading/trailing/repeated
    /// spaces). No post-processor: add BOS/EOS ids yourself from [`Tokenizer::special_tokens`].
    pub fn train_bpe<I, S>(lines: I, config: &BpeTrainingConfig) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let inner = bpe_pipeline(config)?;
        let words = count_words(&inner, lines.into_iter().map(Ok))?;
        bpe_finish(inner, &words, config)
    }

    /// Trains a BPE tokenizer on text files, one sequence per line (line endings are not part
    /// of the text). See [`Tokenizer::train_bpe`].
    pub fn train_bpe_from_files<P: AsRef<Path>>(
        files: &[P],
        config: &BpeTrainingConfig,
    ) -> Result<Self> {
        let inner = bpe_pipeline(config)?;
        let words = count_words(&inner, file_lines(files)?)?;
        bpe_finish(inner, &words, config)
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
        S: AsRef<str>,
    {
        let inner = wordpiece_pipeline(config)?;
        let words = count_words(&inner, lines.into_iter().map(Ok))?;
        wordpiece_finish(inner, &words, config)
    }

    /// Trains a WordPiece tokenizer on text files, one sequence per line. See
    /// [`Tokenizer::train_wordpiece`].
    pub fn train_wordpiece_from_files<P: AsRef<Path>>(
        files: &[P],
        config: &WordPieceTrainingConfig,
    ) -> Result<Self> {
        let inner = wordpiece_pipeline(config)?;
        let words = count_words(&inner, file_lines(files)?)?;
        wordpiece_finish(inner, &words, config)
    }
}

/// The lines of `files` in order, without line endings; a read error names its file.
fn file_lines<P: AsRef<Path>>(
    files: &[P],
) -> Result<impl Iterator<Item = Result<String>> + use<P>> {
    let mut readers = Vec::with_capacity(files.len());
    for path in files {
        let path = path.as_ref().to_owned();
        let file = File::open(&path).map_err(|source| TokenizeError::TrainingFile {
            path: path.clone(),
            source,
        })?;
        readers.push((path, BufReader::new(file)));
    }
    Ok(readers.into_iter().flat_map(|(path, reader)| {
        reader.lines().map(move |line| {
            line.map_err(|source| TokenizeError::TrainingFile {
                path: path.clone(),
                source,
            })
        })
    }))
}

/// Counts the words the pipeline's normalizer and pre-tokenizer make of `lines`.
fn count_words<S: AsRef<str>>(
    inner: &tokenizers::Tokenizer,
    lines: impl Iterator<Item = Result<S>>,
) -> Result<BTreeMap<String, u64>> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for line in lines {
        let mut pretokenized = PreTokenizedString::from(line?.as_ref());
        if let Some(normalizer) = inner.get_normalizer() {
            pretokenized
                .normalize(|n| normalizer.normalize(n))
                .map_err(TokenizeError::Train)?;
        }
        if let Some(pre_tokenizer) = inner.get_pre_tokenizer() {
            pre_tokenizer
                .pre_tokenize(&mut pretokenized)
                .map_err(TokenizeError::Train)?;
        }
        for (word, _, _) in pretokenized.get_splits(OffsetReferential::Original, OffsetType::Byte) {
            if let Some(n) = counts.get_mut(word) {
                *n += 1;
            } else {
                counts.insert(word.to_owned(), 1);
            }
        }
    }
    Ok(counts)
}

/// Special token texts in id order, with `extra` appended when missing.
fn special_texts(tokens: &[String], extra: Option<&str>) -> Vec<String> {
    let mut all = tokens.to_vec();
    if let Some(extra) = extra
        && !tokens.iter().any(|t| t == extra)
    {
        all.push(extra.to_owned());
    }
    all
}

fn added_tokens(specials: &[String]) -> Vec<AddedToken> {
    specials
        .iter()
        .map(|t| AddedToken::from(t.clone(), true))
        .collect()
}

fn vocab_map(tokens: &[String]) -> Vocab {
    tokens
        .iter()
        .enumerate()
        .map(|(id, token)| (token.clone(), id as u32))
        .collect()
}

fn bpe_pipeline(config: &BpeTrainingConfig) -> Result<tokenizers::Tokenizer> {
    let specials = special_texts(&config.special_tokens, config.unk_token.as_deref());
    check_vocab_size(config.vocab_size, specials.len())?;
    let mut inner = tokenizers::Tokenizer::new(BPE::default());
    if config.nfkc {
        inner.with_normalizer(Some(NFKC));
    }
    let metaspace = Metaspace::new('▁', PrependScheme::Always, true);
    inner
        .with_pre_tokenizer(Some(metaspace.clone()))
        .with_decoder(Some(metaspace));
    Ok(inner)
}

fn bpe_finish(
    mut inner: tokenizers::Tokenizer,
    words: &BTreeMap<String, u64>,
    config: &BpeTrainingConfig,
) -> Result<Tokenizer> {
    let specials = special_texts(&config.special_tokens, config.unk_token.as_deref());
    let learned = learn(
        words,
        &LearnConfig {
            vocab_size: config.vocab_size,
            min_frequency: config.min_frequency,
            special_tokens: &specials,
            limit_alphabet: config.limit_alphabet,
            continuing_prefix: None,
        },
    );
    let mut model = BPE::builder().vocab_and_merges(vocab_map(&learned.vocab), learned.merges);
    if let Some(unk) = &config.unk_token {
        model = model.unk_token(unk.clone());
    }
    let model = model
        .build()
        .map_err(|e| TokenizeError::Config(e.to_string()))?;
    inner.with_model(model);
    inner.add_special_tokens(&added_tokens(&specials));
    Ok(Tokenizer::from_inner(inner))
}

fn wordpiece_pipeline(config: &WordPieceTrainingConfig) -> Result<tokenizers::Tokenizer> {
    let specials = special_texts(&config.special_tokens, Some(&config.unk_token));
    check_vocab_size(config.vocab_size, specials.len())?;
    let mut inner = tokenizers::Tokenizer::new(WordPiece::default());
    inner
        .with_normalizer(Some(BertNormalizer::new(
            true,
            true,
            None,
            config.lowercase,
        )))
        .with_pre_tokenizer(Some(BertPreTokenizer))
        .with_decoder(Some(WordPieceDecoder::new("##".to_owned(), true)));
    Ok(inner)
}

/// Learns the vocabulary, installs the WordPiece model and the special tokens, and adds the
/// BERT template once the `[CLS]`/`[SEP]` ids exist.
fn wordpiece_finish(
    mut inner: tokenizers::Tokenizer,
    words: &BTreeMap<String, u64>,
    config: &WordPieceTrainingConfig,
) -> Result<Tokenizer> {
    let specials = special_texts(&config.special_tokens, Some(&config.unk_token));
    let learned = learn(
        words,
        &LearnConfig {
            vocab_size: config.vocab_size,
            min_frequency: config.min_frequency,
            special_tokens: &specials,
            limit_alphabet: config.limit_alphabet,
            continuing_prefix: Some("##"),
        },
    );
    let model = WordPiece::builder()
        .vocab(vocab_map(&learned.vocab))
        .unk_token(config.unk_token.clone())
        .continuing_subword_prefix("##".to_owned())
        .build()
        .map_err(|e| TokenizeError::Config(e.to_string()))?;
    inner.with_model(model);
    inner.add_special_tokens(&added_tokens(&specials));
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

fn check_vocab_size(vocab_size: usize, specials: usize) -> Result<()> {
    if vocab_size <= specials {
        return Err(TokenizeError::Config(format!(
            "vocab_size {vocab_size} leaves no room beyond {specials} special tokens"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::Padding;

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
