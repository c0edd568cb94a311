//! The bert-base-chinese vocabulary applied character by character, as Doc2EDAG's
//! `BERTChineseCharacterTokenizer.char_tokenize`: every character is looked up as it is (no
//! lower-casing, no WordPiece), a character outside the vocabulary becomes `[UNK]`, and no
//! `[CLS]`/`[SEP]` is added in the from-scratch setting.

use std::path::{Path, PathBuf};

use burnlp_core::tokenize::Tokenizer;

use super::error::{DeeError, Result};

/// Character-level token ids over a BERT vocabulary.
#[derive(Debug, Clone)]
pub struct CharVocab {
    tokenizer: Tokenizer,
    unk: u32,
}

impl CharVocab {
    /// Loads `tokenizer.json` from a model directory (e.g.
    /// `shared/models/bert-base-chinese-tokenizer`) or a `tokenizer.json` path.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file: PathBuf = if path.is_dir() {
            path.join("tokenizer.json")
        } else {
            path.to_path_buf()
        };
        let tokenizer = Tokenizer::from_file(&file).map_err(|e| DeeError::Vocab {
            path: file.clone(),
            problem: e.to_string(),
        })?;
        let unk = tokenizer
            .token_to_id("[UNK]")
            .ok_or_else(|| DeeError::Vocab {
                path: file.clone(),
                problem: "the vocabulary has no [UNK] token".into(),
            })?;
        Ok(Self { tokenizer, unk })
    }

    /// The vocabulary size.
    pub fn len(&self) -> usize {
        self.tokenizer.vocab_size()
    }

    /// Whether the vocabulary is empty (never, once loaded).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The id of `[UNK]`.
    pub fn unk(&self) -> u32 {
        self.unk
    }

    /// One id per character of `text`.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut buf = [0u8; 4];
        text.chars()
            .map(|c| {
                self.tokenizer
                    .token_to_id(c.encode_utf8(&mut buf))
                    .unwrap_or(self.unk)
            })
            .collect()
    }
}
