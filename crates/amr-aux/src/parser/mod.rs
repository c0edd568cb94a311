//! The seq2seq AMR parser of ATP (Chen et al., Findings of NAACL 2022; the SPRING recipe of
//! Bevilacqua et al., AAAI 2021) on core's encoder-decoder Transformer.
//!
//! A sentence (source BPE) is translated into the SPRING linearisation of its graph
//! ([`crate::linearize`]; `:wiki` roles removed, as SPRING does), and a generated sequence is
//! restored into a graph with [`crate::linearize::delinearize_lenient`]. Vocabularies are learned
//! from the training data ([`vocab`]).
//!
//! Training schedules ([`Schedule`]), all through core's [`Trainer`](burnlp_core::train::Trainer):
//! - **single**: AMR only;
//! - **multitask**: AMR and the auxiliary PseudoAMR corpora mixed, each target prefixed by its
//!   task token (`<amr>`, `<aux1>`, …) as the first decoder input, which decoding then forces;
//! - **intermediate** (ATP): the auxiliary corpora alone for `aux_steps` steps in
//!   `RUN/intermediate/`, then AMR alone from that model, with a fresh optimizer, in `RUN/`.
//!
//! The model is selected on dev Smatch (greedy decoding, as ATP does during training) or dev
//! loss. A run directory holds `model.json` (architecture and settings),
//! `source_tokenizer.json`, `target_vocab.json`, and the trainer's files (`best/`, `last/`,
//! `checkpoints/`, `metrics.jsonl`).
//!
//! With [`TrainOptions::encoder`], a pretrained BERT-family encoder (and its tokenizer) reads
//! the sentence and a freshly initialised decoder of the same width generates the graph
//! ([`net::ParserNet`]); the encoder has its own learning rate.
//!
//! Deviations from ATP: a Transformer trained from scratch (or a pretrained encoder with a new
//! decoder) instead of BART-large, and Smatch computed against gold graphs without `:wiki` roles
//! (no entity linker is run).

pub mod experiment;
mod input;
pub mod lm;
pub mod lm_experiment;
pub mod net;
mod task;
mod train;
pub mod vocab;

use std::path::{Path, PathBuf};

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use burnlp_core::data::DataError;
use burnlp_core::nn::bert::BertConfig;
use burnlp_core::nn::encoder::EncoderLoadError;
use burnlp_core::nn::seq2seq::{SearchConfig, Seq2SeqBatch, TransformerConfig};
use burnlp_core::tokenize::{TokenizeError, Tokenizer};
use burnlp_core::train::{TrainError, load_parameters};

use crate::linearize::{delinearize_lenient, linearize, remove_wiki};
use crate::penman::{Amr, PenmanError};
use crate::smatch::{SmatchConfig, SmatchScore, smatch_corpus};
pub use input::{ParseInput, load_aux, read_corpus};
use net::ParserNet;
pub use task::ParserTask;
pub use train::{StageSummary, TrainOptions, TrainSummary, train};
use vocab::{EOS, PAD, TargetVocab, encode_source};

/// Errors of parser training and parsing.
#[derive(Debug, thiserror::Error)]
pub enum ParserError {
    /// Reading an AMR file, scoring, or a demo check failed.
    #[error(transparent)]
    Amr(#[from] crate::Error),
    /// An AMR file is not valid Penman.
    #[error("{} is malformed", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Where and what.
        #[source]
        source: PenmanError,
    },
    /// An input file of `parse` holds no sentence.
    #[error("{} holds no sentence", path.display())]
    NoSentences {
        /// The file.
        path: PathBuf,
    },
    /// The gold file of `parse` does not have one graph per input sentence.
    #[error("{} has {graphs} graphs but {} has {sentences} sentences", gold.display(), input.display())]
    GoldCount {
        /// The gold AMR file.
        gold: PathBuf,
        /// Its graphs.
        graphs: usize,
        /// The input file.
        input: PathBuf,
        /// Its sentences.
        sentences: usize,
    },
    /// One schedule's run of the results suite failed.
    #[error("the {schedule} run in {}", dir.display())]
    ExperimentRun {
        /// The schedule's name.
        schedule: &'static str,
        /// Its run directory.
        dir: PathBuf,
        /// What failed.
        #[source]
        source: Box<ParserError>,
    },
    /// A corpus is too small for the requested splits.
    #[error("{} has {graphs} graphs, fewer than train + dev + test = {needed}", path.display())]
    TooFewGraphs {
        /// The AMR file.
        path: PathBuf,
        /// Its graphs.
        graphs: usize,
        /// Graphs the splits need.
        needed: usize,
    },
    /// A file of bracketed dependency trees is malformed.
    #[error(transparent)]
    Trees(#[from] crate::amrize::RecordError),
    /// A graph has no `# ::snt` sentence to parse from.
    #[error("{}: graph {graph} has no `# ::snt` sentence", path.display())]
    MissingSentence {
        /// The AMR file.
        path: PathBuf,
        /// The graph's id, or its 1-based number.
        graph: String,
    },
    /// A corpus that must not be empty is.
    #[error("{}: {what} is empty", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
        /// What was expected.
        what: &'static str,
    },
    /// Settings that cannot work together.
    #[error("invalid settings: {0}")]
    Settings(String),
    /// A tokenizer could not be trained, loaded or saved.
    #[error(transparent)]
    Tokenize(#[from] TokenizeError),
    /// Training or loading weights failed.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// Writing or reading a run file failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The pretrained encoder could not be loaded.
    #[error("loading the pretrained encoder {}: {source}", path.display())]
    Encoder {
        /// The model directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: Box<EncoderLoadError>,
    },
    /// The pretrained LM of the LM parser could not be loaded or run.
    #[error("the LM {}: {message}", path.display())]
    Lm {
        /// The model reference.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A run directory's `model.json` or `target_vocab.json` is malformed.
    #[error("{}: {message}", path.display())]
    Model {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Result of the parser.
pub type Result<T, E = ParserError> = std::result::Result<T, E>;

/// Which corpus an example comes from; its task token starts the target in multitask training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Task {
    /// Gold AMR.
    Amr,
    /// The n-th auxiliary PseudoAMR corpus (from 1).
    Aux(usize),
}

impl Task {
    /// The task token: `<amr>`, `<aux1>`, `<aux2>`, ….
    pub fn token(&self) -> String {
        match self {
            Task::Amr => "<amr>".into(),
            Task::Aux(n) => format!("<aux{n}>"),
        }
    }
}

/// A training schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// AMR only.
    Single,
    /// AMR and auxiliary corpora together, with task tokens.
    Multitask,
    /// Auxiliary corpora first, then AMR (ATP's intermediate-task training).
    Intermediate,
}

impl Schedule {
    /// The schedule's name as the CLI spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Schedule::Single => "single",
            Schedule::Multitask => "multitask",
            Schedule::Intermediate => "intermediate",
        }
    }
}

/// Model sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// core's `tiny` preset widened to `d_model` 64, feed-forward 256 (2 + 2 layers, 4 heads).
    Tiny,
    /// A small model: `d_model` 256, feed-forward 1024, 4 heads, 3 + 3 layers.
    Small,
    /// fairseq's `transformer_iwslt_de_en` (`d_model` 512, 6 + 6 layers).
    Iwslt,
}

impl Arch {
    /// The name as the CLI spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Arch::Tiny => "tiny",
            Arch::Small => "small",
            Arch::Iwslt => "iwslt",
        }
    }

    /// The Transformer configuration for these vocabulary sizes.
    pub fn config(&self, src_vocab: usize, tgt_vocab: usize, dropout: f64) -> TransformerConfig {
        let config = match self {
            Arch::Tiny => TransformerConfig::tiny(src_vocab, tgt_vocab)
                .with_d_model(64)
                .with_ffn_dim(256),
            Arch::Small => TransformerConfig::small(src_vocab, tgt_vocab),
            Arch::Iwslt => TransformerConfig::transformer_iwslt(src_vocab, tgt_vocab),
        };
        config
            .with_dropout(dropout)
            .with_padding_idx(PAD as usize)
            .with_share_decoder_input_output_embed(true)
            .with_max_source_positions(MAX_SOURCE_POSITIONS)
            .with_max_target_positions(MAX_TARGET_POSITIONS)
    }
}

/// Longest source, in BPE tokens; longer sentences are truncated.
pub const MAX_SOURCE_POSITIONS: usize = 512;
/// Longest target, in tokens; longer training graphs are skipped.
pub const MAX_TARGET_POSITIONS: usize = 1024;

/// A (sentence, linearised graph) pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The sentence.
    pub sentence: String,
    /// The graph without `:wiki` roles (for a bracketed dependency tree, the tree as a Penman
    /// graph).
    pub graph: Amr,
    /// Its linearisation (for a bracketed dependency tree, the tree's tokens).
    pub target: Vec<String>,
    /// Its corpus.
    pub task: Task,
}

impl Example {
    /// The example of a graph; `None` when it has no `# ::snt`.
    pub fn from_amr(amr: &Amr, task: Task) -> Option<Self> {
        let sentence = amr.meta("snt")?.trim().to_string();
        let graph = remove_wiki(amr);
        Some(Self {
            sentence,
            target: linearize(&graph),
            graph,
            task,
        })
    }
}

/// Examples of every graph of an AMR file; a graph without `# ::snt` is an error naming it.
///
/// # Errors
/// Every error names the file: [`crate::Error::Io`], [`ParserError::Malformed`],
/// [`ParserError::MissingSentence`].
pub fn load_examples(path: &Path, task: Task) -> Result<Vec<Example>> {
    let amrs = read_corpus(path)?;
    examples_from_amrs(&amrs, task, path)
}

/// Examples of parsed graphs (`path` names their file in errors).
pub fn examples_from_amrs(amrs: &[Amr], task: Task, path: &Path) -> Result<Vec<Example>> {
    amrs.iter()
        .enumerate()
        .map(|(i, amr)| {
            Example::from_amr(amr, task).ok_or_else(|| ParserError::MissingSentence {
                path: path.to_path_buf(),
                graph: amr
                    .id()
                    .map_or_else(|| format!("#{}", i + 1), str::to_string),
            })
        })
        .collect()
}

/// A trained parser: the network and its vocabularies.
#[derive(Debug, Clone)]
pub struct Parser {
    /// The network.
    pub model: ParserNet,
    /// Source BPE.
    pub source: Tokenizer,
    /// Target vocabulary.
    pub target: TargetVocab,
    /// Whether targets start with a task token (multitask training).
    pub task_tokens: bool,
}

/// One example as ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedExample {
    /// Source ids (without EOS).
    pub source: Vec<u32>,
    /// Target ids (without EOS).
    pub target: Vec<u32>,
    /// First decoder input: the task token, or EOS without task tokens.
    pub bos: u32,
    /// The corpus.
    pub task: Task,
}

impl Parser {
    /// True when the source is read by a pretrained encoder.
    pub fn pretrained(&self) -> bool {
        self.model.encoder.is_some()
    }

    /// The first decoder input for `task`.
    pub fn bos(&self, task: Task) -> u32 {
        if self.task_tokens {
            self.target.id(&task.token()).unwrap_or(EOS)
        } else {
            EOS
        }
    }

    /// An example as ids; `None` when its target does not fit the model.
    pub fn encode(&self, example: &Example) -> Result<Option<EncodedExample>> {
        let mut source = encode_source(&self.source, &example.sentence, self.pretrained())?;
        source.truncate(MAX_SOURCE_POSITIONS - 1);
        let target = self.target.encode(&example.target);
        if target.len() + 1 >= MAX_TARGET_POSITIONS {
            return Ok(None);
        }
        Ok(Some(EncodedExample {
            source,
            target,
            bos: self.bos(example.task),
            task: example.task,
        }))
    }

    /// Loads a run directory's parser (its `best/` weights, else `last/`).
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let RunSpec {
            config,
            encoder,
            source,
            target,
            task_tokens,
            ..
        } = RunSpec::read(dir)?;
        let weights = ["best", "last"]
            .map(|d| dir.join(d).join("model.safetensors"))
            .into_iter()
            .find(|p| p.exists())
            .ok_or_else(|| ParserError::Model {
                path: dir.to_path_buf(),
                message: "no best/model.safetensors or last/model.safetensors".into(),
            })?;
        let model = load_parameters(init_net(&config, encoder.as_ref(), device), &weights)?;
        Ok(Self {
            model,
            source,
            target,
            task_tokens,
        })
    }

    /// Writes `model.json`, `source_tokenizer.json` and `target_vocab.json` into `dir`.
    fn save_spec(
        &self,
        dir: &Path,
        config: &TransformerConfig,
        encoder: Option<&BertConfig>,
        extra: serde_json::Value,
    ) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|source| DataError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
        let spec = serde_json::json!({
            "transformer": config, "encoder": encoder, "task_tokens": self.task_tokens,
            "training": extra,
        });
        burnlp_core::data::write_json(dir.join("model.json"), &spec, true)?;
        burnlp_core::data::write_json(dir.join("target_vocab.json"), self.target.tokens(), true)?;
        self.source.save(dir.join("source_tokenizer.json"), false)?;
        Ok(())
    }

    /// Token sequences generated for sentences (greedy for `beam` 1), as the model writes them
    /// (pieces glued, special tokens dropped).
    pub fn generate(
        &self,
        sentences: &[String],
        beam: usize,
        batch_size: usize,
    ) -> Result<Vec<Vec<String>>> {
        let device = self.model.devices()[0].clone();
        let bos = self.bos(Task::Amr);
        let search = SearchConfig::new(EOS, PAD)
            .with_bos(Some(bos))
            .with_beam_size(beam.max(1))
            .with_max_len_a(MAX_LEN_A)
            .with_max_len_b(MAX_LEN_B);
        let mut out = Vec::with_capacity(sentences.len());
        for chunk in sentences.chunks(batch_size.max(1)) {
            let mut sources = Vec::with_capacity(chunk.len());
            for sentence in chunk {
                let mut ids = encode_source(&self.source, sentence, self.pretrained())?;
                ids.truncate(MAX_SOURCE_POSITIONS - 1);
                sources.push(EncodedExample {
                    source: ids,
                    target: Vec::new(),
                    bos,
                    task: Task::Amr,
                });
            }
            let rows: Vec<&EncodedExample> = sources.iter().collect();
            let batch = collate(&rows, !self.pretrained(), &device);
            let outputs = self
                .model
                .search(batch.src_tokens, batch.src_padding, &search);
            out.extend(outputs.iter().map(|ids| self.target.decode(ids)));
        }
        Ok(out)
    }

    /// Parses sentences into graphs: search, then lenient restoration of each sequence.
    pub fn parse(&self, sentences: &[String], beam: usize, batch_size: usize) -> Result<Vec<Amr>> {
        Ok(self
            .generate(sentences, beam, batch_size)?
            .iter()
            .map(|tokens| delinearize_lenient(tokens))
            .collect())
    }
}

/// A freshly initialised network of this shape.
fn init_net(
    config: &TransformerConfig,
    encoder: Option<&BertConfig>,
    device: &Device,
) -> ParserNet {
    ParserNet {
        encoder: encoder.map(|e| e.init(device)),
        seq2seq: config.init(device),
    }
}

/// A run directory's `model.json` and vocabularies.
struct RunSpec {
    config: TransformerConfig,
    encoder: Option<BertConfig>,
    source: Tokenizer,
    target: TargetVocab,
    task_tokens: bool,
    training: serde_json::Value,
}

impl RunSpec {
    fn read(dir: &Path) -> Result<Self> {
        let model_path = dir.join("model.json");
        let spec: serde_json::Value = burnlp_core::data::read_json_document(&model_path)?;
        let bad = |message: &str| ParserError::Model {
            path: model_path.clone(),
            message: message.to_string(),
        };
        let config: TransformerConfig = serde_json::from_value(spec["transformer"].clone())
            .map_err(|e| bad(&format!("bad `transformer`: {e}")))?;
        let encoder: Option<BertConfig> = serde_json::from_value(spec["encoder"].clone())
            .map_err(|e| bad(&format!("bad `encoder`: {e}")))?;
        let task_tokens = spec["task_tokens"]
            .as_bool()
            .ok_or_else(|| bad("missing boolean `task_tokens`"))?;
        let vocab_path = dir.join("target_vocab.json");
        let tokens: Vec<String> = burnlp_core::data::read_json_document(&vocab_path)?;
        let target = TargetVocab::from_tokens(tokens);
        let source = Tokenizer::from_file(dir.join("source_tokenizer.json"))?;
        let source_size = encoder
            .as_ref()
            .map_or(config.src_vocab_size, |e| e.vocab_size);
        if target.len() != config.tgt_vocab_size || source.vocab_size() != source_size {
            return Err(bad("the vocabulary files do not match the model's sizes"));
        }
        Ok(Self {
            config,
            encoder,
            source,
            target,
            task_tokens,
            training: spec["training"].clone(),
        })
    }
}

/// `a` of the maximum output length `a·src_len + b`.
pub const MAX_LEN_A: f64 = 6.0;
/// `b` of the maximum output length `a·src_len + b`.
pub const MAX_LEN_B: usize = 30;

/// Smatch of parsed graphs against gold graphs, both without `:wiki` roles.
pub fn score(pred: &[Amr], gold: &[Amr]) -> Result<SmatchScore> {
    let gold: Vec<Amr> = gold.iter().map(remove_wiki).collect();
    let pred: Vec<Amr> = pred.iter().map(remove_wiki).collect();
    Ok(smatch_corpus(&pred, &gold, &SmatchConfig::default())?)
}

/// The corpora of each stage of a schedule, in training order: `[[Amr]]` for single,
/// `[[Amr, Aux(1), …]]` for multitask, `[[Aux(1), …], [Amr]]` for intermediate.
pub fn stage_tasks(schedule: Schedule, aux_corpora: usize) -> Vec<Vec<Task>> {
    let aux: Vec<Task> = (1..=aux_corpora).map(Task::Aux).collect();
    match schedule {
        Schedule::Single => vec![vec![Task::Amr]],
        Schedule::Multitask => vec![std::iter::once(Task::Amr).chain(aux).collect()],
        Schedule::Intermediate => vec![aux, vec![Task::Amr]],
    }
}

/// Collates encoded examples into a batch: sources end with EOS, targets end with EOS, and
/// each row's decoder input starts with its [`EncodedExample::bos`] (fairseq's EOS, or the task
/// token in multitask training).
///
/// Without `source_eos` (a pretrained encoder, whose tokenizer adds its own special tokens) the
/// sources are only padded.
pub fn collate(rows: &[&EncodedExample], source_eos: bool, device: &Device) -> Seq2SeqBatch {
    let pairs: Vec<(&[u32], &[u32])> = rows
        .iter()
        .map(|e| (e.source.as_slice(), e.target.as_slice()))
        .collect();
    let mut batch = Seq2SeqBatch::from_pairs(&pairs, EOS, PAD, device);
    if rows.iter().any(|e| e.bos != EOS) {
        let bos: Vec<i64> = rows.iter().map(|e| e.bos as i64).collect();
        let column = Tensor::<2, Int>::from_data(TensorData::new(bos, [rows.len(), 1]), device);
        batch.prev_output_tokens = batch
            .prev_output_tokens
            .slice_assign([0..rows.len(), 0..1], column);
    }
    if !source_eos {
        let width = rows
            .iter()
            .map(|e| e.source.len())
            .max()
            .unwrap_or(0)
            .max(1);
        let mut ids = vec![PAD as i64; rows.len() * width];
        for (row, e) in rows.iter().enumerate() {
            for (col, &token) in e.source.iter().enumerate() {
                ids[row * width + col] = token as i64;
            }
        }
        let tokens = Tensor::<2, Int>::from_data(TensorData::new(ids, [rows.len(), width]), device);
        let padding: Tensor<2, Bool> = tokens.clone().equal_elem(PAD as i64);
        batch.src_tokens = tokens;
        batch.src_padding = padding;
    }
    batch
}
