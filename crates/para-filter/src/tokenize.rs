//! Tokenisation for the lexical model: lower-cased whitespace words with punctuation split off,
//! and, for runs of scripts written without spaces between words (Khmer, Thai, Lao, Myanmar,
//! Chinese, Japanese), character n-grams or the pieces of a subword tokenizer (e.g. the
//! multilingual encoder's SentencePiece vocabulary, `--pieces tokenizer.json`).

use std::path::PathBuf;

use burnlp_core::tokenize::Tokenizer;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// How texts are cut into tokens for IBM Model 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
pub struct TokenizerConfig {
    /// Character n-gram size for scripts without word spaces (Khmer, Chinese, …).
    #[arg(long, default_value_t = 2, value_parser = burnlp_core::cli::positive)]
    pub char_ngram: usize,
    /// Keep case (by default tokens are lower-cased).
    #[arg(long)]
    pub keep_case: bool,
    /// A Hugging Face `tokenizer.json` whose pieces replace the character n-grams of unspaced
    /// scripts (e.g. `../shared/models/xlmr-tokenizer/tokenizer.json`, the XLM-R / E5 pieces).
    #[arg(long)]
    pub pieces: Option<PathBuf>,
}

impl Default for TokenizerConfig {
    fn default() -> Self {
        Self {
            char_ngram: 2,
            keep_case: false,
            pieces: None,
        }
    }
}

/// Whether `c` belongs to a script written without spaces between words.
pub fn is_unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF      // Thai, Lao
        | 0x1000..=0x109F    // Myanmar
        | 0x1780..=0x17FF    // Khmer
        | 0x19E0..=0x19FF    // Khmer symbols
        | 0x3040..=0x30FF    // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xF900..=0xFAFF) // CJK compatibility ideographs
}

/// Whether `c` separates tokens (white space, the zero-width space Khmer text uses).
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}' | '\u{200C}' | '\u{FEFF}')
}

/// A [`TokenizerConfig`] with its subword tokenizer loaded.
#[derive(Debug, Clone)]
pub struct Segmenter {
    config: TokenizerConfig,
    pieces: Option<Tokenizer>,
}

impl Segmenter {
    /// Loads the subword tokenizer the configuration names, if any.
    pub fn new(config: &TokenizerConfig) -> Result<Self> {
        let pieces = config
            .pieces
            .as_ref()
            .map(Tokenizer::from_file)
            .transpose()?;
        Ok(Self {
            config: config.clone(),
            pieces,
        })
    }

    /// The tokens of `text`.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        let text = if self.config.keep_case {
            text.to_string()
        } else {
            text.to_lowercase()
        };
        let mut out = Vec::new();
        for word in text.split(is_separator).filter(|w| !w.is_empty()) {
            self.push_word(word, &mut out);
        }
        out
    }

    /// Splits punctuation off a word; runs of unspaced-script characters become n-grams.
    fn push_word(&self, word: &str, out: &mut Vec<String>) {
        let mut run = String::new();
        let mut unspaced = String::new();
        let flush = |run: &mut String, out: &mut Vec<String>| {
            if !run.is_empty() {
                out.push(std::mem::take(run));
            }
        };
        for c in word.chars() {
            if is_unspaced_script(c) {
                flush(&mut run, out);
                unspaced.push(c);
                continue;
            }
            self.push_ngrams(&mut unspaced, out);
            if c.is_alphanumeric() || c == '\'' || c == '-' {
                run.push(c);
            } else {
                // Punctuation and symbols are tokens of their own.
                flush(&mut run, out);
                out.push(c.to_string());
            }
        }
        flush(&mut run, out);
        self.push_ngrams(&mut unspaced, out);
    }

    fn push_ngrams(&self, run: &mut String, out: &mut Vec<String>) {
        if run.is_empty() {
            return;
        }
        if let Some(pieces) = &self.pieces
            && let Ok(encoded) = pieces.encode(run, false)
        {
            out.extend(
                encoded
                    .tokens
                    .iter()
                    .map(|t| t.trim_start_matches('\u{2581}'))
                    .filter(|t| !t.is_empty())
                    .map(String::from),
            );
            run.clear();
            return;
        }
        let n = self.config.char_ngram;
        let chars: Vec<char> = run.chars().collect();
        if chars.len() <= n {
            out.push(std::mem::take(run));
            return;
        }
        for window in chars.windows(n) {
            out.push(window.iter().collect());
        }
        run.clear();
    }
}

/// Characters of `text` other than separators (the length measure that works for Khmer too).
pub fn char_len(text: &str) -> usize {
    text.chars().filter(|c| !is_separator(*c)).count()
}

/// Whether most letters of `text` are in unspaced scripts.
pub fn mostly_unspaced(text: &str) -> bool {
    let (mut unspaced, mut letters) = (0usize, 0usize);
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        unspaced += usize::from(is_unspaced_script(c));
    }
    letters > 0 && 2 * unspaced > letters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_punctuation_and_ngrams() {
        let t = Segmenter::new(&TokenizerConfig::default()).unwrap();
        assert_eq!(
            t.tokens("The cat, isn't it?"),
            ["the", "cat", ",", "isn't", "it", "?"]
        );
        assert_eq!(t.tokens("ឆ្មា ដេក"), ["ឆ្", "្ម", "មា", "ដេ", "េក"]);
        assert_eq!(t.tokens("猫\u{200B}x"), ["猫", "x"]);
        assert!(mostly_unspaced("ឆ្មាកំពុងដេក។ ok"));
        assert_eq!(char_len("a b\u{200B}c"), 3);
    }
}
