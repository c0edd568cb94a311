//! The seq2seq AMR parser of ATP (Chen et al., Findings of NAACL 2022; the SPRING recipe of
//! Bevilacqua et al., AAAI 2021) on core's encoder-decoder Transformer.
//!
//! A sentence (source BPE) is translated into the SPRING linearisation of its graph
//! ([`crate::linearize`]; `:wiki` roles removed, as SPRING does), and a generated sequence is
//! restored into a graph with [`crate::linearize::delinearize_lenient`]. Vocabularies are learned
//! from the training data ([`vocab`]).
//!
//! Training schedules ([`Schedule`]), all through core's [`Trainer`]:
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

pub mod net;
pub mod vocab;

use std::path::{Path, PathBuf};

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use burnlp_core::data::{BatchLimit, DataError, bucket_batches, epoch_seed};
use burnlp_core::nn::bert::{Bert, BertConfig};
use burnlp_core::nn::encoder::EncoderLoadError;
use burnlp_core::nn::seq2seq::{
    SearchConfig, Seq2SeqBatch, TransformerConfig, label_smoothed_cross_entropy,
};
use burnlp_core::tokenize::{TokenizeError, Tokenizer};
use burnlp_core::train::{
    AdamWConfig, LrSchedule, Metrics, ParamGroup, TrainError, TrainTask, Trainer, TrainerConfig,
    load_parameters,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::linearize::{delinearize_lenient, linearize, remove_wiki};
use crate::penman::{Amr, read_amr_file};
use crate::smatch::{SmatchConfig, SmatchScore, smatch_corpus};
use net::ParserNet;
use vocab::{EOS, PAD, TargetVocab, encode_source, train_source_tokenizer};

/// Errors of parser training and parsing.
#[derive(Debug, thiserror::Error)]
pub enum ParserError {
    /// Reading or parsing an AMR file failed.
    #[error(transparent)]
    Amr(#[from] crate::Error),
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
            Arch::Small => TransformerConfig::new(src_vocab, tgt_vocab)
                .with_d_model(256)
                .with_ffn_dim(1024)
                .with_num_heads(4)
                .with_encoder_layers(3)
                .with_decoder_layers(3),
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
    /// The graph without `:wiki` roles.
    pub graph: Amr,
    /// Its linearisation.
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
pub fn load_examples(path: &Path, task: Task) -> Result<Vec<Example>> {
    let amrs = read_amr_file(path)?;
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

/// Settings of [`train`].
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// The schedule.
    pub schedule: Schedule,
    /// Model size.
    pub arch: Arch,
    /// Optimizer steps on AMR (for multitask: on the mixture).
    pub steps: usize,
    /// Optimizer steps on the auxiliary corpora before AMR (intermediate only).
    pub aux_steps: usize,
    /// Examples per batch.
    pub batch_size: usize,
    /// Peak learning rate (linear warm-up over 5% of the steps, then linear decay).
    pub lr: f64,
    /// Dropout.
    pub dropout: f64,
    /// Label smoothing of the loss.
    pub label_smoothing: f64,
    /// Seed of initialisation, batch order and dropout.
    pub seed: u64,
    /// Evaluate every N steps (and at the end).
    pub eval_every: usize,
    /// Select the model on dev Smatch (greedy decoding) rather than dev loss.
    pub select_on_smatch: bool,
    /// Source BPE vocabulary size.
    pub source_vocab_size: usize,
    /// Count from which a concept or constant is one target token.
    pub min_frequency: usize,
    /// BPE vocabulary size for the pieces of rare target symbols.
    pub piece_vocab_size: usize,
    /// Show progress bars.
    pub progress: bool,
    /// A pretrained BERT-family model directory (`config.json`, `model.safetensors`,
    /// `tokenizer.json`) whose encoder and tokenizer replace the Transformer's encoder and the
    /// trained source BPE; the decoder's `d_model` becomes the encoder's hidden size.
    pub encoder: Option<PathBuf>,
    /// Learning rate of the pretrained encoder (0 freezes it).
    pub encoder_lr: f64,
    /// Continue the run in the output directory from its newest checkpoints (same settings
    /// and data required; a finished stage is not trained again).
    pub resume: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            schedule: Schedule::Single,
            arch: Arch::Tiny,
            steps: 1000,
            aux_steps: 1000,
            batch_size: 32,
            lr: 1e-3,
            dropout: 0.1,
            label_smoothing: 0.1,
            seed: 1,
            eval_every: 250,
            select_on_smatch: true,
            source_vocab_size: 4000,
            min_frequency: 2,
            piece_vocab_size: 1000,
            progress: true,
            encoder: None,
            encoder_lr: 5e-5,
            resume: false,
        }
    }
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

/// The [`TrainTask`] of one stage: length-bucketed batches of the stage's examples, dev loss
/// and (optionally) dev Smatch.
pub struct ParserTask<'a> {
    parser: &'a Parser,
    examples: Vec<EncodedExample>,
    dev: Vec<EncodedExample>,
    dev_sentences: Vec<String>,
    dev_gold: Vec<Amr>,
    batch_size: usize,
    label_smoothing: f64,
}

impl<'a> ParserTask<'a> {
    /// A stage over `examples`; Smatch is evaluated on `dev_gold` (AMR examples) when given.
    pub fn new(
        parser: &'a Parser,
        examples: &[&Example],
        dev: &[&Example],
        smatch_dev: bool,
        batch_size: usize,
        label_smoothing: f64,
    ) -> Result<Self> {
        let encode_all = |list: &[&Example]| -> Result<Vec<EncodedExample>> {
            let mut out = Vec::with_capacity(list.len());
            for example in list {
                out.extend(parser.encode(example)?);
            }
            Ok(out)
        };
        let encoded = encode_all(examples)?;
        if encoded.len() < examples.len() {
            tracing::warn!(
                skipped = examples.len() - encoded.len(),
                "training graphs longer than the model's target positions are skipped"
            );
        }
        let (dev_sentences, dev_gold) = if smatch_dev {
            dev.iter()
                .map(|e| (e.sentence.clone(), e.graph.clone()))
                .unzip()
        } else {
            (Vec::new(), Vec::new())
        };
        Ok(Self {
            parser,
            examples: encoded,
            dev: encode_all(dev)?,
            dev_sentences,
            dev_gold,
            batch_size: batch_size.max(1),
            label_smoothing,
        })
    }

    /// The encoded training examples of this stage.
    pub fn examples(&self) -> &[EncodedExample] {
        &self.examples
    }

    fn batch_loss(&self, model: &ParserNet, rows: &[&EncodedExample], smoothing: f64) -> Tensor<1> {
        let device = model.devices()[0].clone();
        let batch = collate(rows, !self.parser.pretrained(), &device);
        let logits = model.forward(
            batch.src_tokens,
            batch.src_padding,
            batch.prev_output_tokens,
        );
        label_smoothed_cross_entropy(logits, batch.target, smoothing, PAD)
    }
}

impl TrainTask<ParserNet> for ParserTask<'_> {
    type Batch = Vec<usize>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Vec<usize>> {
        let lengths: Vec<usize> = self
            .examples
            .iter()
            .map(|e| e.source.len().max(e.target.len()))
            .collect();
        let shuffle = epoch_seed(seed, epoch as u64);
        let mut batches = bucket_batches(
            &lengths,
            BatchLimit::examples(self.batch_size),
            Some(shuffle),
        )
        .expect("a positive batch size is a valid limit");
        // Bucketing puts similar lengths together; shuffle once more so tasks interleave.
        batches.shuffle(&mut StdRng::seed_from_u64(shuffle ^ 0xA5A5));
        batches
    }

    fn loss(&self, model: &ParserNet, batch: &Vec<usize>) -> Tensor<1> {
        let rows: Vec<&EncodedExample> = batch.iter().map(|&i| &self.examples[i]).collect();
        self.batch_loss(model, &rows, self.label_smoothing)
    }

    fn evaluate(&self, model: &ParserNet) -> Metrics {
        let mut metrics = Metrics::new();
        let (mut total, mut tokens) = (0.0, 0usize);
        for chunk in self.dev.chunks(self.batch_size) {
            let rows: Vec<&EncodedExample> = chunk.iter().collect();
            let n: usize = chunk.iter().map(|e| e.target.len() + 1).sum();
            total += self.batch_loss(model, &rows, 0.0).into_scalar::<f64>() * n as f64;
            tokens += n;
        }
        if tokens > 0 {
            metrics.insert("loss".into(), total / tokens as f64);
        }
        if !self.dev_gold.is_empty() {
            let parser = Parser {
                model: model.clone(),
                ..self.parser.clone()
            };
            // The trainer's evaluation cannot fail; a failure counts as Smatch 0 and is logged.
            let smatch = parser
                .parse(&self.dev_sentences, 1, 64)
                .and_then(|pred| score(&pred, &self.dev_gold))
                .map_or_else(
                    |e| {
                        tracing::warn!(error = %e, "dev Smatch failed");
                        0.0
                    },
                    |s| s.f1(),
                );
            metrics.insert("smatch".into(), smatch);
        }
        metrics
    }

    fn batch_len(&self, batch: &Vec<usize>) -> usize {
        batch.len()
    }
}

/// What [`train`] did.
#[derive(Debug, Clone)]
pub struct TrainSummary {
    /// Per stage: its name, corpora, examples and optimizer steps.
    pub stages: Vec<StageSummary>,
    /// Best dev metrics of the final (AMR) stage.
    pub best: Option<Metrics>,
    /// Source and target vocabulary sizes.
    pub vocab_sizes: (usize, usize),
}

/// One stage of a schedule.
#[derive(Debug, Clone)]
pub struct StageSummary {
    /// `intermediate` or `amr` (multitask and single have one `amr` stage).
    pub name: String,
    /// The corpora trained on.
    pub tasks: Vec<Task>,
    /// Number of training examples.
    pub examples: usize,
    /// Optimizer steps done.
    pub steps: usize,
}

/// Trains a parser into `out` with `options.schedule`; `aux` are the auxiliary corpora
/// (their examples' tasks are set to `Aux(1)`, `Aux(2)`, … in order). The device must be an
/// autodiff device.
pub fn train(
    train_set: &[Example],
    dev: &[Example],
    aux: &[Vec<Example>],
    options: &TrainOptions,
    out: &Path,
    device: &Device,
) -> Result<TrainSummary> {
    if train_set.is_empty() {
        return Err(ParserError::Settings(
            "the AMR training set is empty".into(),
        ));
    }
    if dev.is_empty() {
        return Err(ParserError::Settings("the dev set is empty".into()));
    }
    if options.schedule != Schedule::Single && aux.iter().all(Vec::is_empty) {
        return Err(ParserError::Settings(format!(
            "the {} schedule needs auxiliary PseudoAMR data (--aux)",
            options.schedule.name()
        )));
    }
    if options.schedule == Schedule::Single && !aux.is_empty() {
        tracing::warn!("the single schedule ignores the auxiliary data");
    }
    let aux: Vec<Vec<Example>> = match options.schedule {
        Schedule::Single => Vec::new(),
        _ => aux
            .iter()
            .enumerate()
            .map(|(i, corpus)| {
                corpus
                    .iter()
                    .cloned()
                    .map(|mut e| {
                        e.task = Task::Aux(i + 1);
                        e
                    })
                    .collect()
            })
            .collect(),
    };
    let task_tokens = options.schedule == Schedule::Multitask;
    let all: Vec<&Example> = train_set.iter().chain(aux.iter().flatten()).collect();
    let experiment = serde_json::json!({
        "schedule": options.schedule.name(), "arch": options.arch.name(),
        "steps": options.steps, "aux_steps": options.aux_steps,
        "batch_size": options.batch_size, "lr": options.lr, "dropout": options.dropout,
        "label_smoothing": options.label_smoothing, "min_frequency": options.min_frequency,
        "source_vocab_size": options.source_vocab_size,
        "piece_vocab_size": options.piece_vocab_size,
        "train": train_set.len(), "dev": dev.len(),
        "aux": aux.iter().map(Vec::len).collect::<Vec<_>>(),
        "encoder": options.encoder.as_ref().map(|p| p.display().to_string()),
        "encoder_lr": options.encoder_lr,
    });
    let resumed = if options.resume && out.join("model.json").exists() {
        let spec = RunSpec::read(out)?;
        if spec.training != experiment {
            return Err(ParserError::Settings(format!(
                "{} was trained with other settings or data; use a new directory or the same \
                 settings to resume",
                out.display()
            )));
        }
        Some(spec)
    } else {
        None
    };
    let (config, encoder_config, source, target, model) = match resumed {
        Some(spec) => {
            let model = init_net(&spec.config, spec.encoder.as_ref(), device);
            (spec.config, spec.encoder, spec.source, spec.target, model)
        }
        None => {
            let pretrained = options
                .encoder
                .as_deref()
                .map(|dir| load_encoder(dir, device))
                .transpose()?;
            let source = match &pretrained {
                Some((_, _, tokenizer)) => tokenizer.clone(),
                None => {
                    let sentences: Vec<&str> = all.iter().map(|e| e.sentence.as_str()).collect();
                    train_source_tokenizer(&sentences, options.source_vocab_size)?
                }
            };
            let tokens: Vec<String> = if task_tokens {
                stage_tasks(options.schedule, aux.len())
                    .concat()
                    .iter()
                    .map(Task::token)
                    .collect()
            } else {
                Vec::new()
            };
            let targets: Vec<Vec<String>> = all.iter().map(|e| e.target.clone()).collect();
            let target = TargetVocab::build(
                &targets,
                &tokens,
                options.min_frequency,
                options.piece_vocab_size,
            )?;
            device.seed(options.seed);
            match pretrained {
                Some((bert, bert_config, _)) => {
                    let config = options
                        .arch
                        .config(1, target.len(), options.dropout)
                        .with_d_model(bert.hidden_size())
                        .with_encoder_layers(0);
                    if !config.d_model.is_multiple_of(config.num_heads) {
                        return Err(ParserError::Settings(format!(
                            "the encoder's hidden size {} is not a multiple of the decoder's {} heads",
                            config.d_model, config.num_heads
                        )));
                    }
                    let model = ParserNet {
                        encoder: Some(bert),
                        seq2seq: config.init(device),
                    };
                    (config, Some(bert_config), source, target, model)
                }
                None => {
                    let config =
                        options
                            .arch
                            .config(source.vocab_size(), target.len(), options.dropout);
                    let model = init_net(&config, None, device);
                    (config, None, source, target, model)
                }
            }
        }
    };
    let mut parser = Parser {
        model,
        source,
        target,
        task_tokens,
    };
    if !options.resume || !out.join("model.json").exists() {
        parser.save_spec(out, &config, encoder_config.as_ref(), experiment.clone())?;
    }
    let vocab_sizes = (parser.source.vocab_size(), parser.target.len());

    let dev_refs: Vec<&Example> = dev.iter().collect();
    let mut stages = Vec::new();
    let mut best = None;
    let plan = stage_tasks(options.schedule, aux.len());
    for (i, tasks) in plan.iter().enumerate() {
        let last = i + 1 == plan.len();
        let mut examples: Vec<&Example> = all
            .iter()
            .copied()
            .filter(|e| tasks.contains(&e.task))
            .collect();
        let (name, dir, steps, stage_dev) = if last {
            ("amr", out.to_path_buf(), options.steps, dev_refs.clone())
        } else {
            // The intermediate stage reports its loss on the last 5% of its data (at most 200
            // graphs), held out from its training.
            let held = (examples.len() / 20).min(200);
            let held_out = examples.split_off(examples.len() - held);
            let stage_dev = if held_out.is_empty() {
                examples.clone()
            } else {
                held_out
            };
            (
                "intermediate",
                out.join("intermediate"),
                options.aux_steps,
                stage_dev,
            )
        };
        if steps == 0 {
            stages.push(StageSummary {
                name: name.into(),
                tasks: tasks.clone(),
                examples: examples.len(),
                steps: 0,
            });
            continue;
        }
        let task = ParserTask::new(
            &parser,
            &examples,
            &stage_dev,
            last && options.select_on_smatch,
            options.batch_size,
            options.label_smoothing,
        )?;
        let batches_per_epoch = task
            .examples
            .len()
            .div_ceil(options.batch_size.max(1))
            .max(1);
        let select_smatch = last && options.select_on_smatch;
        let trainer_config = TrainerConfig {
            epochs: steps.div_ceil(batches_per_epoch),
            max_steps: Some(steps),
            clip_norm: Some(2.5),
            schedule: LrSchedule::Linear {
                warmup: steps / 20,
                total: steps,
            },
            eval_every: Some(if last {
                options.eval_every.max(1)
            } else {
                steps
            }),
            metric: if select_smatch { "smatch" } else { "loss" }.into(),
            higher_is_better: select_smatch,
            seed: options.seed.wrapping_add(i as u64),
            log_every: 10,
            progress: options.progress,
            ..TrainerConfig::default()
        };
        let mut optimizer = AdamWConfig::new(options.lr).with_weight_decay(0.004);
        if parser.pretrained() {
            optimizer = optimizer
                .with_group(ParamGroup::new("encoder", &["encoder"]).with_lr(options.encoder_lr));
        }
        let trainer = Trainer::new(trainer_config, &dir);
        let mut stage_experiment = experiment.clone();
        stage_experiment["stage"] = name.into();
        trainer.write_config(&optimizer, &stage_experiment, options.resume)?;
        tracing::info!(
            stage = name,
            examples = task.examples.len(),
            steps,
            "training stage"
        );
        let mut adamw = optimizer.init();
        if parser.pretrained() && options.encoder_lr == 0.0 {
            adamw.freeze("encoder");
        }
        let outcome = trainer.fit(parser.model.clone(), adamw, &task, options.resume)?;
        stages.push(StageSummary {
            name: name.into(),
            tasks: tasks.clone(),
            examples: task.examples.len(),
            steps: outcome.state.step,
        });
        if last {
            best = outcome.state.best.map(|b| b.metrics);
        }
        drop(task);
        parser.model = outcome.model;
    }
    Ok(TrainSummary {
        stages,
        best,
        vocab_sizes,
    })
}

/// A pretrained encoder, its configuration and its tokenizer, from a model reference (a
/// Hugging Face directory or id, or an E5S1 file).
fn load_encoder(dir: &Path, device: &Device) -> Result<(Bert, BertConfig, Tokenizer)> {
    let encoder_error = |source| ParserError::Encoder {
        path: dir.to_path_buf(),
        source: Box::new(source),
    };
    let loaded = burnlp_core::nn::encoder::load_encoder(&dir.to_string_lossy(), device)
        .map_err(encoder_error)?;
    let (bert, config, tokenizer) = (loaded.model, loaded.config, loaded.tokenizer);
    if tokenizer.special_tokens().pad != Some(PAD) || bert.pad_token_id != PAD as usize {
        return Err(ParserError::Settings(format!(
            "{}: the parser needs the encoder's padding id to be {PAD}",
            dir.display()
        )));
    }
    Ok((bert, config, tokenizer))
}
