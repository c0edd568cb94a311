//! The encoder side of a run: which encoder `--encoder` names ([`EncoderChoice`]), the
//! vocabulary that turns a document's words into its tokens ([`Vocabulary`], stored in the run
//! directory as `tokenizer.json` or `vocab.json`), and a fresh model for each choice
//! ([`build_model`]).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use burnlp_core::burn::module::Param;
use burnlp_core::burn::tensor::{Device, Tensor, TensorData};
use burnlp_core::data::{read_json_document, write_json};
use burnlp_core::nn::bert::BertConfig;
use burnlp_core::nn::encoder::load_encoder;
use burnlp_core::tokenize::{Tokenizer, WordPieceTrainingConfig};

use crate::data::Document;
use crate::error::{GainError, Result};
use crate::graph::{DocInput, TokenScheme, prepare};
use crate::model::{EncoderConfig, Gain, GainConfig};
use crate::run::TrainConfig;
use crate::train::read_glove;

/// The tokenizer of a BERT-family run, in its run directory.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// The word list of a BiLSTM run (index = word id), in its run directory.
pub const VOCAB_FILE: &str = "vocab.json";

/// Subword positions a BERT-family encoder takes.
const MAX_BERT_TOKENS: usize = 512;

/// The encoder a training configuration names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncoderChoice<'a> {
    /// A small random BERT with a WordPiece vocabulary learned from the training words.
    Tiny,
    /// Random-init word embeddings + BiLSTM (the GloVe architecture without vectors).
    Lstm,
    /// GloVe text vectors + BiLSTM.
    Glove(&'a Path),
    /// A pretrained BERT-family encoder (a model reference `load_encoder` takes).
    Pretrained(&'a str),
}

impl<'a> EncoderChoice<'a> {
    /// Reads `tiny`, `lstm`, `glove:FILE` or a model reference.
    pub fn parse(encoder: &'a str) -> Self {
        match encoder {
            "tiny" => EncoderChoice::Tiny,
            "lstm" => EncoderChoice::Lstm,
            _ => match encoder.strip_prefix("glove:") {
                Some(file) => EncoderChoice::Glove(Path::new(file)),
                None => EncoderChoice::Pretrained(encoder),
            },
        }
    }
}

/// How a run turns words into tokens.
#[derive(Debug)]
pub enum Vocabulary {
    /// The subword tokenizer of a BERT-family encoder.
    Subwords(Box<Tokenizer>),
    /// Word → id of a BiLSTM encoder (0 padding, 1 `UNK`).
    Words(HashMap<String, u32>),
}

impl Vocabulary {
    /// The token scheme of [`prepare`].
    pub fn scheme(&self) -> TokenScheme<'_> {
        match self {
            Vocabulary::Subwords(tokenizer) => TokenScheme::Subwords(tokenizer),
            Vocabulary::Words(vocab) => TokenScheme::Words { vocab, unk: 1 },
        }
    }

    /// The vocabulary stored in the run directory `dir` for a model of `config`.
    pub fn load(dir: &Path, config: &GainConfig) -> Result<Self> {
        Ok(match config.encoder {
            EncoderConfig::Bert(_) => Vocabulary::Subwords(Box::new(
                Tokenizer::from_file(dir.join(TOKENIZER_FILE))?
                    .with_max_length(Some(config.max_tokens))?,
            )),
            EncoderConfig::Glove { .. } => {
                let words: Vec<String> = read_json_document(dir.join(VOCAB_FILE))?;
                Vocabulary::Words(word_ids(words))
            }
        })
    }
}

fn word_ids(words: Vec<String>) -> HashMap<String, u32> {
    words
        .into_iter()
        .enumerate()
        .map(|(i, w)| (w, i as u32))
        .collect()
}

/// Model inputs of `docs` (`what` names them in errors).
pub fn prepare_all(
    docs: &[Document],
    vocabulary: &Vocabulary,
    config: &GainConfig,
    what: &str,
) -> Result<Vec<DocInput>> {
    let scheme = vocabulary.scheme();
    docs.iter()
        .enumerate()
        .map(|(i, doc)| {
            prepare(
                doc,
                i,
                &scheme,
                &config.relations,
                config.max_tokens,
                config.max_entities,
            )
            .map_err(|source| GainError::Prepare {
                what: what.to_string(),
                source,
            })
        })
        .collect()
}

/// A fresh model with its vocabulary and configuration.
#[derive(Debug)]
pub struct BuiltModel {
    /// The model, on the training device.
    pub model: Gain,
    /// How its inputs are tokenized.
    pub vocabulary: Vocabulary,
    /// Its configuration (`model.json`).
    pub config: GainConfig,
}

/// Builds the model of `config.encoder` predicting `relations`, and writes its vocabulary
/// (`tokenizer.json` or `vocab.json`) into the run directory `out`. A `tiny` or `lstm`
/// vocabulary is learned from `train`; GloVe vectors are kept for the words of `train` and
/// `dev`.
pub fn build_model(
    config: &TrainConfig,
    train: &[Document],
    dev: &[Document],
    relations: Vec<String>,
    out: &Path,
    device: &Device,
) -> Result<BuiltModel> {
    match EncoderChoice::parse(&config.encoder) {
        EncoderChoice::Glove(file) => glove_model(config, train, dev, file, relations, out, device),
        EncoderChoice::Lstm => lstm_model(config, train, relations, out, device),
        EncoderChoice::Tiny => tiny_model(config, train, relations, out, device),
        EncoderChoice::Pretrained(reference) => {
            pretrained_model(config, reference, relations, out, device)
        }
    }
}

/// The model configuration of `encoder` with the run's embedding sizes and dropout.
fn gain_config(config: &TrainConfig, encoder: EncoderConfig, relations: Vec<String>) -> GainConfig {
    let mut gain = GainConfig::new(encoder, relations);
    gain.type_dim = config.embedding_dim;
    gain.entity_dim = config.embedding_dim;
    gain.dropout = config.dropout;
    gain
}

/// Random-init word embeddings (of size `tiny_hidden`) for the training words + BiLSTM.
fn lstm_model(
    config: &TrainConfig,
    train: &[Document],
    relations: Vec<String>,
    out: &Path,
    device: &Device,
) -> Result<BuiltModel> {
    let mut words = vec!["<pad>".to_string(), "UNK".to_string()];
    let mut seen = HashSet::new();
    for word in train.iter().flat_map(|d| d.sents.iter().flatten()) {
        if seen.insert(word.clone()) {
            words.push(word.clone());
        }
    }
    let encoder = EncoderConfig::Glove {
        vocab_size: words.len(),
        word_dim: config.tiny_hidden,
        hidden: config.lstm_hidden,
    };
    let gain = gain_config(config, encoder, relations);
    write_json(out.join(VOCAB_FILE), &words, false)?;
    Ok(BuiltModel {
        model: gain.init(device),
        vocabulary: Vocabulary::Words(word_ids(words)),
        config: gain,
    })
}

/// A small random BERT (4 heads) with a WordPiece vocabulary learned from the training words.
fn tiny_model(
    config: &TrainConfig,
    train: &[Document],
    relations: Vec<String>,
    out: &Path,
    device: &Device,
) -> Result<BuiltModel> {
    let tokenizer = tiny_tokenizer(train)?;
    tokenizer.save(out.join(TOKENIZER_FILE), false)?;
    let bert = BertConfig::new(
        tokenizer.vocab_size(),
        config.tiny_hidden,
        config.tiny_layers,
        4,
        2 * config.tiny_hidden,
    )
    .with_max_position_embeddings(MAX_BERT_TOKENS)
    .with_with_pooler(true)
    .with_hidden_dropout(0.1)
    .with_attention_dropout(0.1);
    let gain = gain_config(config, EncoderConfig::Bert(bert), relations);
    Ok(BuiltModel {
        model: gain.init(device),
        vocabulary: Vocabulary::Subwords(Box::new(tokenizer)),
        config: gain,
    })
}

/// A pretrained BERT-family encoder with its tokenizer (cut to 512 tokens).
fn pretrained_model(
    config: &TrainConfig,
    reference: &str,
    relations: Vec<String>,
    out: &Path,
    device: &Device,
) -> Result<BuiltModel> {
    let loaded = load_encoder(reference, device).map_err(|source| GainError::Encoder {
        reference: reference.to_string(),
        source: Box::new(source),
    })?;
    let tokenizer = loaded.tokenizer.with_max_length(Some(MAX_BERT_TOKENS))?;
    tokenizer.save(out.join(TOKENIZER_FILE), false)?;
    tracing::info!(
        tensors = loaded.report.loaded.len(),
        path = %loaded.location.path().display(),
        "loaded the encoder"
    );
    let mut gain = gain_config(config, EncoderConfig::Bert(loaded.config), relations);
    gain.max_tokens = gain.max_tokens.min(MAX_BERT_TOKENS);
    Ok(BuiltModel {
        model: gain.init_with(Some(loaded.model), device),
        vocabulary: Vocabulary::Subwords(Box::new(tokenizer)),
        config: gain,
    })
}

/// A WordPiece vocabulary of 2,000 pieces learned from the training words.
fn tiny_tokenizer(train: &[Document]) -> Result<Tokenizer> {
    let texts: Vec<String> = train
        .iter()
        .map(|d| {
            d.sents
                .iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let wordpiece = WordPieceTrainingConfig {
        vocab_size: 2000,
        min_frequency: 1,
        ..Default::default()
    };
    Ok(Tokenizer::train_wordpiece(texts, &wordpiece)?.with_max_length(Some(MAX_BERT_TOKENS))?)
}

/// GloVe vectors for the words of `train` and `dev` (exact or lower-cased) under a BiLSTM.
fn glove_model(
    config: &TrainConfig,
    train: &[Document],
    dev: &[Document],
    file: &Path,
    relations: Vec<String>,
    out: &Path,
    device: &Device,
) -> Result<BuiltModel> {
    let mut needed = HashSet::new();
    for word in train
        .iter()
        .chain(dev)
        .flat_map(|d| d.sents.iter().flatten())
    {
        needed.insert(word.clone());
        needed.insert(word.to_lowercase());
    }
    let glove = read_glove(file, &needed)?;
    let encoder = EncoderConfig::Glove {
        vocab_size: glove.words.len(),
        word_dim: glove.dim,
        hidden: config.lstm_hidden,
    };
    let gain = gain_config(config, encoder, relations);
    let mut model = gain.init(device);
    if let Some(words) = model.words.as_mut() {
        words.weight = Param::from_tensor(Tensor::from_data(
            TensorData::new(glove.vectors.clone(), [glove.words.len(), glove.dim]),
            device,
        ));
    }
    write_json(out.join(VOCAB_FILE), &glove.words, false)?;
    tracing::info!(
        vectors = glove.words.len() - 2,
        dim = glove.dim,
        file = %file.display(),
        "read GloVe vectors"
    );
    Ok(BuiltModel {
        model,
        vocabulary: Vocabulary::Words(glove.vocab()),
        config: gain,
    })
}
