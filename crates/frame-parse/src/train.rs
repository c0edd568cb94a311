//! Training runs: the hyper-parameters ([`TrainConfig`]), the preparation of annotated
//! targets into model inputs ([`Prepared`]), the [`TrainTask`] for core's trainer
//! ([`KidTask`], dev full-structure F1 selects the best model, §5), [`train()`], and a trained
//! run loaded back to predict ([`crate::run::TrainedRun`]).
//!
//! A run directory holds core's layout ([`burnlp_core::train::RunDir`]: `config.json`, `metrics.jsonl`,
//! `checkpoints/`, `best/`, `last/`) plus `model.json` ([`ModelFile`]: the network's
//! configuration, the FKG's frames, the candidate-frame map and the word list) and, with a
//! BERT-family encoder, `tokenizer.json`.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::{Device, Tensor};
use burnlp_core::cli::{self, DeviceArgs};
use burnlp_core::data::{shuffled_indices, write_json};
use burnlp_core::nn::encoder::load_encoder;
use burnlp_core::tokenize::Tokenizer;
use burnlp_core::train::{
    AdamWConfig, BestEval, LrSchedule, Metrics, ParamGroup, TrainTask, Trainer, TrainerConfig,
};
use serde::{Deserialize, Serialize};

use crate::conll::{Instance, Span};
use crate::error::{FrameParseError, Result};
use crate::fkg::{FrameGraph, GraphTensors};
use crate::lexicon::{CandidateFrames, Lexicon};
use crate::model::{Example, Growth, Kid, KidBatch, KidConfig, Parse};
use crate::score::{ScoreOptions, score};

/// `model.json` in a run directory.
pub const MODEL_JSON: &str = "model.json";
/// The subword tokenizer of a BERT-family run.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// Subword positions a BERT-family encoder takes.
pub(crate) const MAX_SUBWORDS: usize = 512;

/// Everything that decides a training run besides its data (stored in `RUN/config.json`).
#[derive(clap::Args, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Sentence encoder: `lstm` (word embeddings + BiLSTM, the released GloVe architecture
    /// with randomly initialised vectors) or a BERT-family model reference (a Hugging Face
    /// directory or id, an E5S1 file) whose first-subword vectors replace the word embeddings.
    #[arg(long, default_value = "lstm")]
    pub encoder: String,
    /// Passes over the training targets (100 in the paper).
    #[arg(long, default_value_t = 20, value_parser = cli::positive)]
    pub epochs: usize,
    /// Stop after this many optimizer steps.
    #[arg(long, value_parser = cli::positive)]
    pub max_steps: Option<usize>,
    /// Targets per batch (32 in the paper).
    #[arg(long, default_value_t = 32, value_parser = cli::positive)]
    pub batch_size: usize,
    /// Learning rate (Adam 1e-4 in the paper, over 100 epochs).
    #[arg(long, default_value_t = 1e-3, value_parser = cli::positive_f64)]
    pub lr: f64,
    /// Learning rate of a pretrained encoder.
    #[arg(long, default_value_t = 2e-5, value_parser = cli::positive_f64)]
    pub encoder_lr: f64,
    /// Word embedding size (GloVe: 200).
    #[arg(long, default_value_t = 100, value_parser = cli::positive)]
    pub d_word: usize,
    /// BiLSTM size per direction (256).
    #[arg(long, default_value_t = 128, value_parser = cli::positive)]
    pub d_lstm: usize,
    /// FKG node / span size (256).
    #[arg(long, default_value_t = 128, value_parser = cli::positive)]
    pub d_node: usize,
    /// Embedding dropout (0.5).
    #[arg(long, default_value_t = 0.5, value_parser = cli::fraction)]
    pub dropout: f64,
    /// Build the FSG from the gold arguments while training (teacher forcing). Off by default,
    /// as in the reference code, whose flag is never passed (quirk 1).
    #[arg(long)]
    pub teacher_forcing: bool,
    /// Ablation: no FKG encoder (frames and FEs keep their initial embeddings).
    #[arg(long)]
    pub no_fkg: bool,
    /// Ablation: no FSG (each argument step sees only node 0: independent classification).
    #[arg(long)]
    pub no_fsg: bool,
    /// FEs kept per training target, in sentence order (`fe_padding_num`).
    #[arg(long, default_value_t = 5, value_parser = cli::positive)]
    pub max_fes: usize,
    /// Training spans of this many tokens or more are dropped.
    #[arg(long, default_value_t = 20, value_parser = cli::positive)]
    pub max_span: usize,
    /// Tokens kept per sentence (`maxlen`).
    #[arg(long, default_value_t = 256, value_parser = cli::positive)]
    pub max_len: usize,
    /// FKG over all frames of the lexicon (`all`) or only the frames of the training and dev
    /// targets and their LUs' candidates (`data`, faster on CPU).
    #[arg(long, default_value = "all")]
    pub fkg_scope: String,
    /// Evaluate every N steps (default: every epoch).
    #[arg(long, value_parser = cli::positive)]
    pub eval_every: Option<usize>,
    /// Seed of initialisation, batch order and dropout (1116 in the reference code).
    #[arg(long, default_value_t = 1116)]
    pub seed: u64,
    /// Where training runs (not part of the run's identity).
    #[command(flatten)]
    #[serde(skip)]
    pub device: DeviceArgs,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            encoder: "lstm".into(),
            epochs: 20,
            max_steps: None,
            batch_size: 32,
            lr: 1e-3,
            encoder_lr: 2e-5,
            d_word: 100,
            d_lstm: 128,
            d_node: 128,
            dropout: 0.5,
            teacher_forcing: false,
            no_fkg: false,
            no_fsg: false,
            max_fes: 5,
            max_span: 20,
            max_len: 256,
            fkg_scope: "all".into(),
            eval_every: None,
            seed: 1116,
            device: DeviceArgs::default(),
        }
    }
}

impl TrainConfig {
    fn pretrained(&self) -> Option<&str> {
        (self.encoder != "lstm").then_some(self.encoder.as_str())
    }
}

/// `model.json`: what a trained run needs besides its weights.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelFile {
    /// The network.
    pub kid: KidConfig,
    /// Frames of the FKG, in node order.
    pub frames: Vec<String>,
    /// LU → candidate frames.
    pub candidates: CandidateFrames,
    /// Word list (index = id; 0 padding, 1 unknown); empty with a BERT-family encoder.
    pub words: Vec<String>,
    /// Tokens kept per sentence.
    pub max_len: usize,
    /// Argument steps at prediction (`fe_padding_num + 1`).
    pub max_steps: usize,
}

/// How words become model inputs.
#[derive(Debug, Clone)]
pub enum Vocabulary {
    /// Lower-cased word → id.
    Words(HashMap<String, u32>),
    /// A subword tokenizer (BERT-family encoders).
    Subwords(Box<Tokenizer>),
}

/// Counts of what [`Prepared::examples`] left out of training targets (§2 preprocessing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Dropped {
    /// Targets whose frame is not in the FKG.
    pub unknown_frame: usize,
    /// Targets past `max_len`.
    pub too_long: usize,
    /// FE spans of `max_span` tokens or more.
    pub long_spans: usize,
    /// FEs that are not FEs of the target's frame.
    pub foreign_fes: usize,
    /// FE spans overlapping an earlier kept span.
    pub overlapping: usize,
    /// FEs past the first `max_fes`.
    pub beyond_max: usize,
}

/// The FKG, candidate map and vocabulary shared by every set of examples of a run.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The FKG.
    pub graph: FrameGraph,
    /// LU → candidate frames.
    pub candidates: CandidateFrames,
    /// Words or subwords.
    pub vocabulary: Vocabulary,
    /// Tokens kept per sentence.
    pub max_len: usize,
}

impl Prepared {
    /// Model inputs of `instances`. For training (`training`), targets and FEs are filtered as
    /// §2 describes (counts in the returned [`Dropped`]); otherwise every target is kept (its
    /// frame may be unknown, its arguments are not used).
    pub fn examples(
        &self,
        instances: &[Instance],
        training: bool,
        max_fes: usize,
        max_span: usize,
    ) -> Result<(Vec<Example>, Vec<usize>, Dropped)> {
        let mut dropped = Dropped::default();
        let mut out = Vec::new();
        let mut kept = Vec::new();
        for (index, inst) in instances.iter().enumerate() {
            let frame = self.graph.frame(&inst.frame);
            let (first, last) = (inst.target[0], *inst.target.last().expect("a target"));
            let mut tokens: Vec<&str> = inst.tokens.iter().map(String::as_str).collect();
            tokens.truncate(self.max_len);
            let subwords = match &self.vocabulary {
                Vocabulary::Words(_) => None,
                Vocabulary::Subwords(tokenizer) => {
                    let encoded = tokenizer.encode_words(&tokens, true)?;
                    tokens.truncate(encoded.kept_words());
                    let ids = encoded.encoding.ids.clone();
                    Some((ids, encoded.first_subwords()))
                }
            };
            if training && frame.is_none() {
                dropped.unknown_frame += 1;
                continue;
            }
            if last >= tokens.len() {
                if training {
                    dropped.too_long += 1;
                    continue;
                }
                return Err(FrameParseError::invalid(
                    format!("target at line {}", inst.line),
                    format!(
                        "the target (token {last}) lies past the {} tokens the model reads",
                        tokens.len()
                    ),
                ));
            }
            let words = match &self.vocabulary {
                Vocabulary::Words(vocab) => tokens
                    .iter()
                    .map(|t| vocab.get(&t.to_lowercase()).copied().unwrap_or(1))
                    .collect(),
                Vocabulary::Subwords(_) => vec![1; tokens.len()],
            };
            let mut args: Vec<(usize, usize, usize)> = Vec::new();
            if let (true, Some(f)) = (training, frame) {
                let mut spans: Vec<&Span> = inst.fes.iter().collect();
                spans.sort();
                for span in spans {
                    if span.end >= tokens.len() || span.end + 1 - span.start >= max_span {
                        dropped.long_spans += 1;
                        continue;
                    }
                    let Some(fe) = self.graph.fe(f, &span.fe) else {
                        dropped.foreign_fes += 1;
                        continue;
                    };
                    if args.iter().any(|a| span.start <= a.1 && a.0 <= span.end) {
                        dropped.overlapping += 1;
                        continue;
                    }
                    if args.len() == max_fes {
                        dropped.beyond_max += 1;
                        continue;
                    }
                    args.push((span.start, span.end, fe));
                }
            }
            let candidates = self
                .candidates
                .of(&inst.lu)
                .iter()
                .filter_map(|f| self.graph.frame(f))
                .collect();
            out.push(Example {
                words,
                subwords,
                target: (first, last),
                frame,
                candidates,
                args,
            });
            kept.push(index);
        }
        Ok((out, kept, dropped))
    }

    /// The padding id of subword inputs.
    pub fn pad_id(&self) -> u32 {
        match &self.vocabulary {
            Vocabulary::Subwords(t) => t.special_tokens().pad.unwrap_or(0),
            Vocabulary::Words(_) => 0,
        }
    }

    /// Parses as annotated instances: `instances` with their frame and FEs replaced.
    pub fn to_instances(&self, instances: &[Instance], parses: &[Parse]) -> Vec<Instance> {
        instances
            .iter()
            .zip(parses)
            .map(|(inst, parse)| {
                let mut fes: Vec<Span> = parse
                    .args
                    .iter()
                    .map(|&(start, end, fe)| Span {
                        start,
                        end,
                        fe: self.graph.fes[fe].name.clone(),
                    })
                    .collect();
                fes.sort();
                Instance {
                    frame: self.graph.frames[parse.frame].clone(),
                    fes,
                    ..inst.clone()
                }
            })
            .collect()
    }
}

/// Parses `examples` in batches.
pub fn parse_examples(
    model: &Kid,
    prepared: &Prepared,
    graph: &GraphTensors,
    examples: &[Example],
    max_steps: usize,
    gold_frames: bool,
    device: &Device,
) -> Vec<Parse> {
    let mut out = Vec::with_capacity(examples.len());
    for chunk in examples.chunks(64) {
        let refs: Vec<&Example> = chunk.iter().collect();
        let batch = KidBatch::new(&refs, prepared.pad_id(), device);
        out.extend(model.predict(
            graph,
            &batch,
            &prepared.graph.frame_fes,
            max_steps,
            gold_frames,
        ));
    }
    out
}

/// The KID training task: §4 losses on batches of targets, dev scores with the scorer.
pub struct KidTask<'a> {
    /// Shared inputs.
    pub prepared: &'a Prepared,
    /// The lexicon (FE weights for the dev scores).
    pub lexicon: &'a Lexicon,
    /// Training examples.
    pub train: Vec<Example>,
    /// Dev examples.
    pub dev: Vec<Example>,
    /// Dev gold (the instances of `dev`, in order).
    pub dev_gold: Vec<Instance>,
    /// Targets per batch.
    pub batch_size: usize,
    /// How the FSG grows in training.
    pub growth: Growth,
    /// Argument steps at prediction.
    pub max_steps: usize,
}

fn graph_on(model: &Kid, graph: &FrameGraph) -> GraphTensors {
    let device = model.devices()[0].clone();
    graph
        .tensors(&device)
        .expect("the FKG was built once already")
}

impl TrainTask<Kid> for KidTask<'_> {
    type Batch = Vec<usize>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Vec<usize>> {
        shuffled_indices(self.train.len(), seed, epoch as u64)
            .chunks(self.batch_size.max(1))
            .map(<[usize]>::to_vec)
            .collect()
    }

    fn loss(&self, model: &Kid, batch: &Vec<usize>) -> Tensor<1> {
        let device = model.devices()[0].clone();
        let graph = graph_on(model, &self.prepared.graph);
        let refs: Vec<&Example> = batch.iter().map(|&i| &self.train[i]).collect();
        let batch = KidBatch::new(&refs, self.prepared.pad_id(), &device);
        model.loss(&graph, &batch, self.growth).total
    }

    fn evaluate(&self, model: &Kid) -> Metrics {
        let device = model.devices()[0].clone();
        let graph = graph_on(model, &self.prepared.graph);
        let parses = parse_examples(
            model,
            self.prepared,
            &graph,
            &self.dev,
            self.max_steps,
            false,
            &device,
        );
        let predicted = self.prepared.to_instances(&self.dev_gold, &parses);
        let s = score(
            &self.dev_gold,
            &predicted,
            self.lexicon,
            ScoreOptions::default(),
        );
        Metrics::from([
            ("frame_acc".to_string(), s.frame.acc),
            ("arg_p".to_string(), s.arg.p),
            ("arg_r".to_string(), s.arg.r),
            ("arg_f1".to_string(), s.arg.f1),
            ("full_f1".to_string(), s.full.f1),
        ])
    }

    fn batch_len(&self, batch: &Vec<usize>) -> usize {
        batch.len()
    }
}

/// The frames of the FKG for `scope` (`all` or `data`).
fn graph_frames(
    scope: &str,
    lexicon: &Lexicon,
    candidates: &CandidateFrames,
    sets: &[&[Instance]],
) -> Result<Option<BTreeSet<String>>> {
    match scope {
        "all" => Ok(None),
        "data" => {
            let mut keep = BTreeSet::new();
            for inst in sets.iter().flat_map(|s| s.iter()) {
                keep.insert(inst.frame.clone());
                keep.extend(candidates.of(&inst.lu).iter().cloned());
            }
            keep.retain(|f| lexicon.frame(f).is_some());
            Ok(Some(keep))
        }
        other => Err(FrameParseError::invalid(
            "--fkg-scope",
            format!("`{other}`: expected `all` or `data`"),
        )),
    }
}

/// What [`train()`] returns.
#[derive(Debug, Clone)]
pub struct TrainReport {
    /// The best dev evaluation.
    pub best: BestEval,
    /// Training targets used / given.
    pub train_used: usize,
    /// Dev targets.
    pub dev: usize,
    /// What preprocessing dropped from the training targets.
    pub dropped: Dropped,
    /// FKG nodes (frames, FEs + dummy).
    pub fkg_nodes: (usize, usize),
}

/// Trains KID on `train` and selects the best model on `dev` (full-structure F1), writing the
/// run directory `out`. Candidate frames come from the lexicon's LU index, merged with the
/// training annotations (only the annotations without an index).
///
/// (Long on purpose: the FKG, vocabulary, model file, examples and trainer are built in
/// sequence from shared locals; pieces would only pass them around.)
pub fn train(
    config: &TrainConfig,
    lexicon: &Lexicon,
    train: &[Instance],
    dev: &[Instance],
    out: &Path,
    resume: bool,
) -> Result<TrainReport> {
    if train.is_empty() || dev.is_empty() {
        return Err(FrameParseError::invalid(
            "training data",
            "the training and dev sets must not be empty",
        ));
    }
    std::fs::create_dir_all(out).map_err(|source| FrameParseError::Write {
        path: out.to_path_buf(),
        source,
    })?;
    let device = config.device.training()?;
    device.seed(config.seed);
    let mut candidates = lexicon.candidates().unwrap_or_default();
    candidates.merge(&CandidateFrames::from_instances(train));
    let keep = graph_frames(&config.fkg_scope, lexicon, &candidates, &[train, dev])?;
    let graph = FrameGraph::build(lexicon, keep.as_ref())?;
    let (vocabulary, bert, bert_config, words) = match config.pretrained() {
        Some(reference) => {
            let encoder =
                load_encoder(reference, &device).map_err(|source| FrameParseError::Encoder {
                    reference: reference.to_string(),
                    source: Box::new(source),
                })?;
            let tokenizer = encoder.tokenizer.with_max_length(Some(MAX_SUBWORDS))?;
            tokenizer.save(out.join(TOKENIZER_FILE), false)?;
            (
                Vocabulary::Subwords(Box::new(tokenizer)),
                Some(encoder.model),
                Some(encoder.config),
                Vec::new(),
            )
        }
        None => {
            let mut words: Vec<String> = vec!["<pad>".into(), "<unk>".into()];
            let set: BTreeSet<String> = train
                .iter()
                .flat_map(|i| i.tokens.iter().map(|t| t.to_lowercase()))
                .collect();
            words.extend(set);
            let vocab = words
                .iter()
                .enumerate()
                .map(|(i, w)| (w.clone(), i as u32))
                .collect();
            (Vocabulary::Words(vocab), None, None, words)
        }
    };
    let prepared = Prepared {
        graph,
        candidates,
        vocabulary,
        max_len: config.max_len,
    };
    let kid = KidConfig::new(
        words.len(),
        prepared.graph.num_frames(),
        prepared.graph.fe_names.len(),
    )
    .with_d_word(config.d_word)
    .with_d_lstm(config.d_lstm)
    .with_d_node(config.d_node)
    .with_d_pointer(config.d_node)
    .with_dropout_embedding(config.dropout)
    .with_use_fkg(!config.no_fkg)
    .with_use_fsg(!config.no_fsg)
    .with_bert(bert_config);
    let model_file = ModelFile {
        kid: kid.clone(),
        frames: prepared.graph.frames.clone(),
        candidates: prepared.candidates.clone(),
        words,
        max_len: config.max_len,
        max_steps: config.max_fes + 1,
    };
    write_json(out.join(MODEL_JSON), &model_file, true)?;
    let (train_examples, _, dropped) =
        prepared.examples(train, true, config.max_fes, config.max_span)?;
    let (dev_examples, _, _) = prepared.examples(dev, false, config.max_fes, config.max_span)?;
    tracing::info!(
        ?dropped,
        train = train_examples.len(),
        dev = dev_examples.len(),
        "prepared"
    );
    let train_used = train_examples.len();
    let task = KidTask {
        prepared: &prepared,
        lexicon,
        train: train_examples,
        dev: dev_examples,
        dev_gold: dev.to_vec(),
        batch_size: config.batch_size,
        growth: if config.teacher_forcing {
            Growth::Gold
        } else {
            Growth::Predicted
        },
        max_steps: config.max_fes + 1,
    };
    let trainer_config = TrainerConfig {
        epochs: config.epochs,
        max_steps: config.max_steps,
        schedule: LrSchedule::Constant,
        eval_every: config.eval_every,
        metric: "full_f1".into(),
        higher_is_better: true,
        seed: config.seed,
        keep_checkpoints: 1,
        progress: false,
        ..TrainerConfig::default()
    };
    let trainer = Trainer::new(trainer_config, out);
    let mut optimizer = AdamWConfig::new(config.lr).with_weight_decay(0.0);
    if bert.is_some() {
        optimizer =
            optimizer.with_group(ParamGroup::new("encoder", &["bert"]).with_lr(config.encoder_lr));
    }
    let experiment = serde_json::json!({"config": config, "model": kid, "fkg_frames": prepared.graph.num_frames()});
    trainer.write_config(&optimizer, &experiment, resume)?;
    let model = kid.init(bert, &device);
    let outcome = trainer.fit(model, optimizer.init(), &task, resume)?;
    Ok(TrainReport {
        best: outcome.best()?.clone(),
        train_used,
        dev: dev.len(),
        dropped,
        fkg_nodes: (prepared.graph.num_frames(), prepared.graph.num_fe_nodes()),
    })
}
