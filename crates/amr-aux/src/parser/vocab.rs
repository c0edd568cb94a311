//! The parser's vocabularies: BPE for sentences, whole symbols plus subword pieces for graphs.
//!
//! The source side is a BPE tokenizer trained on the training sentences with core's
//! [`Tokenizer::train_bpe`]. The target side follows SPRING's extended vocabulary: the
//! structural tokens of [`crate::linearize`] (`(`, `)`, `<lit>`, `</lit>`), the pointer tokens,
//! every role and task token seen in training, and every concept or constant seen at least
//! `min_frequency` times are single tokens. A rarer symbol is spelled with BPE pieces (trained
//! on the rare symbols, again with core's BPE): a symbol's first piece is written `▁piece`,
//! its other pieces `##piece`, and [`TargetVocab::decode`] glues them back into one symbol.
//!
//! Both vocabularies put `<pad>` at id 0, `<unk>` at 1, `<s>` at 2 and `</s>` (EOS) at 3, so one
//! padding id and one EOS id serve the encoder and the decoder.

use std::collections::{BTreeMap, HashMap};

use burnlp_core::tokenize::{BpeTrainingConfig, Tokenizer};

use super::ParserError;
use crate::linearize::{CLOSE, LIT_CLOSE, LIT_OPEN, OPEN, parse_pointer};

/// Padding id of both vocabularies.
pub const PAD: u32 = 0;
/// Unknown-token id of both vocabularies.
pub const UNK: u32 = 1;
/// End-of-sequence id of both vocabularies.
pub const EOS: u32 = 3;
/// The special tokens that open both vocabularies, in id order.
pub const SPECIALS: [&str; 4] = ["<pad>", "<unk>", "<s>", "</s>"];
/// Marks the first BPE piece of a spelled symbol.
pub const PIECE_START: &str = "\u{2581}";
/// Marks a continuing BPE piece of a spelled symbol.
pub const PIECE_CONTINUE: &str = "##";

/// Trains the source BPE on sentences; `vocab_size` counts the special tokens.
pub fn train_source_tokenizer<S: AsRef<str> + Send>(
    sentences: &[S],
    vocab_size: usize,
) -> Result<Tokenizer, ParserError> {
    let config = BpeTrainingConfig {
        vocab_size,
        min_frequency: 1,
        special_tokens: SPECIALS.map(String::from).to_vec(),
        ..BpeTrainingConfig::default()
    };
    let lines: Vec<&str> = sentences.iter().map(AsRef::as_ref).collect();
    Ok(Tokenizer::train_bpe(lines, &config)?)
}

/// Source token ids of a sentence: without special tokens for the trained BPE (the batch adds
/// EOS), with the tokenizer's own (`[CLS] … [SEP]`) for a pretrained encoder.
pub fn encode_source(
    tokenizer: &Tokenizer,
    sentence: &str,
    special_tokens: bool,
) -> Result<Vec<u32>, ParserError> {
    Ok(tokenizer.encode(sentence, special_tokens)?.ids)
}

/// The target vocabulary: linearisation tokens as whole symbols, rare symbols as pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetVocab {
    tokens: Vec<String>,
    index: HashMap<String, u32>,
    /// Piece ids by piece text, for the greedy longest-match spelling of rare symbols.
    start_pieces: HashMap<String, u32>,
    continue_pieces: HashMap<String, u32>,
    longest_piece: usize,
}

impl TargetVocab {
    /// Builds the vocabulary from linearised training graphs.
    ///
    /// `task_tokens` are added after the specials; `min_frequency` is the count from which a
    /// concept or constant becomes one token; `piece_vocab_size` bounds the BPE trained on the
    /// rarer symbols.
    pub fn build(
        sequences: &[Vec<String>],
        task_tokens: &[String],
        min_frequency: usize,
        piece_vocab_size: usize,
    ) -> Result<Self, ParserError> {
        let mut tokens: Vec<String> = SPECIALS.map(String::from).to_vec();
        tokens.extend(task_tokens.iter().cloned());
        tokens.extend([OPEN, CLOSE, LIT_OPEN, LIT_CLOSE].map(String::from));
        let mut pointers = 0;
        let mut roles = BTreeMap::new();
        let mut symbols: BTreeMap<&str, usize> = BTreeMap::new();
        for token in sequences.iter().flatten() {
            if let Some(n) = parse_pointer(token) {
                pointers = pointers.max(n + 1);
            } else if is_structural(token) {
            } else if token.starts_with(':') && token.len() > 1 {
                roles.insert(token.as_str(), ());
            } else {
                *symbols.entry(token.as_str()).or_default() += 1;
            }
        }
        tokens.extend((0..pointers).map(crate::linearize::pointer_token));
        tokens.extend(roles.keys().map(|r| r.to_string()));
        let (frequent, rare): (Vec<_>, Vec<_>) = symbols
            .iter()
            .partition(|(_, count)| **count >= min_frequency.max(1));
        tokens.extend(frequent.iter().map(|(s, _)| s.to_string()));
        if !rare.is_empty() {
            let lines: Vec<&str> = rare.iter().map(|(s, _)| **s).collect();
            let config = BpeTrainingConfig {
                vocab_size: piece_vocab_size,
                min_frequency: 1,
                special_tokens: vec!["<unk>".into()],
                ..BpeTrainingConfig::default()
            };
            let pieces = Tokenizer::train_bpe(lines, &config)?;
            let mut inventory: Vec<String> = pieces
                .inner()
                .get_vocab(false)
                .into_keys()
                .filter(|p| p != "<unk>" && p != PIECE_START)
                .collect();
            inventory.sort();
            for piece in inventory {
                match piece.strip_prefix(PIECE_START) {
                    Some(_) => tokens.push(piece),
                    None => tokens.push(format!("{PIECE_CONTINUE}{piece}")),
                }
            }
        }
        Ok(Self::from_tokens(tokens))
    }

    /// A vocabulary from its token list (as [`Self::tokens`] returns it).
    pub fn from_tokens(tokens: Vec<String>) -> Self {
        let mut index = HashMap::new();
        let mut start_pieces = HashMap::new();
        let mut continue_pieces = HashMap::new();
        let mut longest_piece = 0;
        for (id, token) in tokens.iter().enumerate() {
            let id = id as u32;
            index.entry(token.clone()).or_insert(id);
            let piece = if let Some(p) = token.strip_prefix(PIECE_START) {
                start_pieces.insert(p.to_string(), id);
                p
            } else if let Some(p) = token.strip_prefix(PIECE_CONTINUE) {
                continue_pieces.insert(p.to_string(), id);
                p
            } else {
                continue;
            };
            longest_piece = longest_piece.max(piece.chars().count());
        }
        Self {
            tokens,
            index,
            start_pieces,
            continue_pieces,
            longest_piece,
        }
    }

    /// The tokens in id order.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// True when the vocabulary has no token (never for a built one).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The id of a token.
    pub fn id(&self, token: &str) -> Option<u32> {
        self.index.get(token).copied()
    }

    /// The token of an id.
    pub fn token(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }

    /// Ids of a linearised graph: known tokens as themselves, other symbols spelled with pieces
    /// (a character no piece covers becomes `<unk>`).
    pub fn encode(&self, sequence: &[String]) -> Vec<u32> {
        let mut ids = Vec::with_capacity(sequence.len());
        for token in sequence {
            match self.id(token) {
                Some(id)
                    if !token.starts_with(PIECE_START) && !token.starts_with(PIECE_CONTINUE) =>
                {
                    ids.push(id)
                }
                _ => self.spell(token, &mut ids),
            }
        }
        ids
    }

    /// Greedy longest-match spelling of `symbol` with the piece inventory.
    fn spell(&self, symbol: &str, ids: &mut Vec<u32>) {
        let chars: Vec<char> = symbol.chars().collect();
        let mut start = 0;
        while start < chars.len() {
            let table = if start == 0 {
                &self.start_pieces
            } else {
                &self.continue_pieces
            };
            let longest = self.longest_piece.min(chars.len() - start);
            let found = (1..=longest).rev().find_map(|len| {
                let piece: String = chars[start..start + len].iter().collect();
                table.get(&piece).map(|&id| (id, len))
            });
            match found {
                Some((id, len)) => {
                    ids.push(id);
                    start += len;
                }
                None => {
                    ids.push(UNK);
                    start += 1;
                }
            }
        }
    }

    /// Linearisation tokens of generated ids: pieces glued into symbols, special tokens
    /// (padding, EOS, task tokens, `<unk>`) dropped.
    pub fn decode(&self, ids: &[u32]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut open_piece = false;
        for &id in ids {
            let Some(token) = self.token(id) else {
                open_piece = false;
                continue;
            };
            if let Some(piece) = token.strip_prefix(PIECE_START) {
                out.push(piece.to_string());
                open_piece = true;
            } else if let Some(piece) = token.strip_prefix(PIECE_CONTINUE) {
                match out.last_mut() {
                    Some(last) if open_piece => last.push_str(piece),
                    _ => out.push(piece.to_string()),
                }
                open_piece = true;
            } else if is_special(token) {
                open_piece = false;
            } else {
                out.push(token.to_string());
                open_piece = false;
            }
        }
        out
    }
}

/// Special tokens of the form `<…>` other than the linearisation's own.
fn is_special(token: &str) -> bool {
    token.starts_with('<')
        && token.ends_with('>')
        && token.len() > 2
        && token != LIT_OPEN
        && token != LIT_CLOSE
        && parse_pointer(token).is_none()
}

fn is_structural(token: &str) -> bool {
    matches!(token, OPEN | CLOSE | LIT_OPEN | LIT_CLOSE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn rare_symbols_are_spelled_and_glued_back() {
        let train = vec![
            seq("( <pointer:0> want-01 :ARG0 ( <pointer:1> boy ) :ARG1 ( <pointer:2> go-02 ) )"),
            seq("( <pointer:0> want-01 :ARG0 ( <pointer:1> girl ) )"),
            seq("( <pointer:0> boy :name ( <pointer:1> name :op1 <lit> Paris </lit> ) )"),
        ];
        let vocab = TargetVocab::build(&train, &["<amr>".into()], 2, 200).unwrap();
        assert_eq!(vocab.token(PAD), Some("<pad>"));
        assert_eq!(vocab.token(EOS), Some("</s>"));
        assert!(vocab.id("want-01").is_some() && vocab.id("boy").is_some());
        assert!(
            vocab.id("girl").is_none(),
            "a singleton is not a whole token"
        );
        for sequence in &train {
            let ids = vocab.encode(sequence);
            assert!(!ids.contains(&UNK), "{sequence:?}");
            assert_eq!(&vocab.decode(&ids), sequence);
        }
        let girl = vocab.encode(&seq("girl"));
        assert!(girl.len() > 1 || vocab.token(girl[0]).unwrap().starts_with(PIECE_START));
        let rebuilt = TargetVocab::from_tokens(vocab.tokens().to_vec());
        assert_eq!(rebuilt, vocab);
    }

    #[test]
    fn decoding_drops_specials_and_tolerates_stray_pieces() {
        let tokens = [
            "<pad>",
            "<unk>",
            "<s>",
            "</s>",
            "<amr>",
            "(",
            ")",
            "<pointer:0>",
            ":ARG0",
            "boy",
            "\u{2581}gi",
            "##rl",
            "##s",
        ];
        let vocab = TargetVocab::from_tokens(tokens.map(String::from).to_vec());
        // <amr> ( <pointer:0> ▁gi ##rl :ARG0 ##s boy </s> <pad> and an id out of range.
        let decoded = vocab.decode(&[4, 5, 7, 10, 11, 8, 12, 9, 3, 0, 99]);
        assert_eq!(decoded, seq("( <pointer:0> girl :ARG0 s boy"));
        // A character that no piece covers becomes <unk>; known whole tokens stay whole.
        assert_eq!(vocab.encode(&seq("girls boy")), vec![10, 11, 12, 9]);
        assert_eq!(vocab.encode(&seq("gix")), vec![10, UNK]);
    }
}
