//! Training, prediction and evaluation of TSAR on core's trainer.
//!
//! A run directory holds core's layout (`config.json`, `metrics.jsonl`, `checkpoints/`, `best/`,
//! `last/`) plus `model.json` ([`RunInfo`]: the model configuration, the ontology and the input
//! settings) and `tokenizer.json`. The best checkpoint is chosen on the dev set's Arg-C span F1
//! computed with [`crate::score`] (the reference selects on an internal subword-span F1).

use std::collections::HashMap;
use std::path::Path;

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::Device;
use burnlp_core::cli::{self, DeviceArgs};
use burnlp_core::data::{read_json_document, shuffled_batches, write_json};
use burnlp_core::nn::bert::BertConfig;
use burnlp_core::nn::encoder::load_encoder;
use burnlp_core::tokenize::{Tokenizer, WordPieceTrainingConfig};
use burnlp_core::train::{
    AdamWConfig, BestEval, LrSchedule, Metrics, ParamGroup, RunDir, TrainTask, Trainer,
    TrainerConfig, load_parameters,
};
use serde::{Deserialize, Serialize};

use crate::data::ontology::short_role;
use crate::data::{Example, Ontology};
use crate::error::{DocEeError, Result};
use crate::graph::DocGraphs;
use crate::model::input::{InputConfig, Prepared, SpecialIds, prepare};
use crate::model::{Tsar, TsarBatch, TsarConfig};
use crate::score::{Dataset, HeadSource, Item, Scores, score};

/// The model description in a run directory.
pub const MODEL_FILE: &str = "model.json";
/// The tokenizer in a run directory.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// Examples per forward pass at evaluation (the reference's eval batch).
const EVAL_BATCH: usize = 2;

/// Everything that decides a training run besides its data (stored in `RUN/config.json`).
#[derive(clap::Args, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Encoder: a BERT-family model reference (Hugging Face directory or id, E5S1 file), or
    /// `tiny` (a small random BERT with a WordPiece vocabulary learned from the training words).
    #[arg(long, default_value = "tiny")]
    pub encoder: String,
    /// Passes over the training examples (50 RAMS, 100 WikiEvents in the paper).
    #[arg(long, default_value_t = 50, value_parser = cli::positive)]
    pub epochs: usize,
    /// Stop after this many optimizer steps.
    #[arg(long, value_parser = cli::positive)]
    pub max_steps: Option<usize>,
    /// Examples per batch.
    #[arg(long, default_value_t = 4, value_parser = cli::positive)]
    pub batch_size: usize,
    /// Batches per optimizer step.
    #[arg(long, default_value_t = 2, value_parser = cli::positive)]
    pub grad_accum: usize,
    /// Learning rate of the encoder.
    #[arg(long, default_value_t = 3e-5, value_parser = cli::positive_f64)]
    pub lr: f64,
    /// Learning rate of everything else (`not_bert_learning_rate`).
    #[arg(long, default_value_t = 1e-4, value_parser = cli::positive_f64)]
    pub head_lr: f64,
    /// Warm-up as a fraction of the steps (linear warm-up, then linear decay).
    #[arg(long, default_value_t = 0.2, value_parser = cli::fraction)]
    pub warmup: f64,
    /// Weight decay.
    #[arg(long, default_value_t = 0.01, value_parser = cli::non_negative_f64)]
    pub weight_decay: f64,
    /// Hidden dropout of the task layers.
    #[arg(long, default_value_t = 0.1, value_parser = cli::fraction)]
    pub dropout: f64,
    /// R-GCN layers.
    #[arg(long, default_value_t = 4, value_parser = cli::positive)]
    pub gcn_layers: usize,
    /// Weight of the boundary losses (0.05 RAMS, 0.1 WikiEvents).
    #[arg(long, default_value_t = 0.05, value_parser = cli::non_negative_f64)]
    pub lambda_boundary: f64,
    /// Class weight of role labels (`pos_loss_weight`).
    #[arg(long, default_value_t = 10.0, value_parser = cli::positive_f64)]
    pub pos_loss_weight: f64,
    /// Maximum candidate span length in subwords.
    #[arg(long, default_value_t = 8, value_parser = cli::positive)]
    pub span_len: usize,
    /// Maximum input length in subwords.
    #[arg(long, default_value_t = 512, value_parser = cli::positive)]
    pub max_len: usize,
    /// Use the global stream only (ablation).
    #[arg(long)]
    pub no_local_stream: bool,
    /// Add the gold spans to the candidates at evaluation too (the reference code's quirk; it
    /// leaks boundaries).
    #[arg(long)]
    pub gold_spans_at_eval: bool,
    /// Hidden size of the `tiny` encoder (a multiple of its 4 heads).
    #[arg(long, default_value_t = 64, value_parser = cli::positive)]
    pub tiny_hidden: usize,
    /// Layers of the `tiny` encoder.
    #[arg(long, default_value_t = 2, value_parser = cli::positive)]
    pub tiny_layers: usize,
    /// Event-type embedding size.
    #[arg(long, default_value_t = 200, value_parser = cli::positive)]
    pub event_dim: usize,
    /// Evaluate every N optimizer steps (default: every epoch).
    #[arg(long, value_parser = cli::positive)]
    pub eval_every: Option<usize>,
    /// Seed of initialisation, batch order and dropout.
    #[arg(long, default_value_t = 12)]
    pub seed: u64,
    /// Where training runs (not part of the run's identity).
    #[command(flatten)]
    #[serde(skip)]
    pub device: DeviceArgs,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            encoder: "tiny".into(),
            epochs: 50,
            max_steps: None,
            batch_size: 4,
            grad_accum: 2,
            lr: 3e-5,
            head_lr: 1e-4,
            warmup: 0.2,
            weight_decay: 0.01,
            dropout: 0.1,
            gcn_layers: 4,
            lambda_boundary: 0.05,
            pos_loss_weight: 10.0,
            span_len: 8,
            max_len: 512,
            no_local_stream: false,
            gold_spans_at_eval: false,
            tiny_hidden: 64,
            tiny_layers: 2,
            event_dim: 200,
            eval_every: None,
            seed: 12,
            device: DeviceArgs::default(),
        }
    }
}

/// `model.json`: what a trained run needs besides its weights and tokenizer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunInfo {
    /// The model.
    pub model: TsarConfig,
    /// Event types and roles (the label space).
    pub ontology: Ontology,
    /// Maximum input length in subwords.
    pub max_len: usize,
    /// Maximum candidate span length in subwords.
    pub span_len: usize,
    /// The data set (decides the dev scorer's variants).
    pub dataset: Dataset,
}

impl TrainConfig {
    fn trainer(&self, train_examples: usize) -> TrainerConfig {
        let per_epoch = train_examples
            .div_ceil(self.batch_size)
            .div_ceil(self.grad_accum);
        let total = per_epoch * self.epochs;
        let total = self.max_steps.map_or(total, |m| m.min(total)).max(1);
        TrainerConfig {
            epochs: self.epochs,
            max_steps: self.max_steps,
            grad_accum: self.grad_accum,
            clip_norm: Some(1.0),
            schedule: LrSchedule::Linear {
                warmup: (self.warmup * total as f64).round() as usize,
                total,
            },
            eval_every: self.eval_every,
            metric: "f1".into(),
            higher_is_better: true,
            seed: self.seed,
            ..TrainerConfig::default()
        }
    }

    fn optimizer(&self) -> AdamWConfig {
        AdamWConfig::new(self.head_lr)
            .with_weight_decay(self.weight_decay)
            .with_group(
                ParamGroup::new("encoder", &["bert"])
                    .with_lr(self.lr)
                    .with_weight_decay(self.weight_decay),
            )
    }

    fn input(&self, gold_spans: bool) -> InputConfig {
        InputConfig {
            max_len: self.max_len,
            span_len: self.span_len,
            gold_spans,
        }
    }
}

/// The training task for core's trainer.
pub struct TsarTask {
    /// Prepared training examples.
    pub train: Vec<Prepared>,
    /// Prepared dev examples.
    pub dev: Vec<Prepared>,
    /// Dev examples (gold, for the scorer).
    pub dev_examples: Vec<Example>,
    /// Event types and roles.
    pub ontology: Ontology,
    /// Padding id.
    pub pad: u32,
    /// Span-length embedding entries.
    pub len_size: usize,
    /// Examples per batch.
    pub batch_size: usize,
    /// Maximum span length in subwords.
    pub span_len: usize,
    /// The data set.
    pub dataset: Dataset,
}

impl TrainTask<Tsar> for TsarTask {
    type Batch = Vec<usize>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Vec<usize>> {
        shuffled_batches(self.train.len(), self.batch_size, seed, epoch as u64)
    }

    fn loss(&self, model: &Tsar, batch: &Vec<usize>) -> burnlp_core::burn::tensor::Tensor<1> {
        let device = model.devices()[0].clone();
        let examples: Vec<&Prepared> = batch.iter().map(|&i| &self.train[i]).collect();
        let batch = TsarBatch::new(&examples, self.pad, self.len_size, &device)
            .expect("prepared examples always batch");
        model.loss(&batch)
    }

    fn evaluate(&self, model: &Tsar) -> Metrics {
        let predictions = predict_prepared(
            model,
            &self.dev,
            &self.dev_examples,
            &self.ontology,
            self.pad,
            self.len_size,
            self.span_len,
        );
        let scores = score_predictions(
            self.dataset,
            &self.dev_examples,
            &predictions,
            &HeadSource::LastToken,
        )
        .expect("the last-token head rule cannot fail");
        metrics_of(&scores)
    }

    fn batch_len(&self, batch: &Vec<usize>) -> usize {
        batch.len()
    }
}

/// The dev metrics: Arg-C span F1 (`f1`, the selection metric), its P and R, Arg-C head F1
/// and Arg-I span F1.
pub fn metrics_of(scores: &Scores) -> Metrics {
    let mut m = Metrics::new();
    m.insert("f1".into(), scores.arg_c.span.f1);
    m.insert("precision".into(), scores.arg_c.span.p);
    m.insert("recall".into(), scores.arg_c.span.r);
    m.insert("head_f1".into(), scores.arg_c.head.f1);
    m.insert("arg_i_f1".into(), scores.arg_i.span.f1);
    m
}

/// Word-level predictions `(start, end, role)` of every example, by `doc_key`.
pub type WordPredictions = HashMap<String, Vec<(usize, usize, String)>>;

/// Predicts the arguments of prepared examples (`examples[i]` is `prepared[i]`'s source).
pub fn predict_prepared(
    model: &Tsar,
    prepared: &[Prepared],
    examples: &[Example],
    ontology: &Ontology,
    pad: u32,
    len_size: usize,
    span_len: usize,
) -> WordPredictions {
    let device = model.devices()[0].clone();
    let mut out = HashMap::new();
    for (chunk, sources) in prepared.chunks(EVAL_BATCH).zip(examples.chunks(EVAL_BATCH)) {
        let refs: Vec<&Prepared> = chunk.iter().collect();
        let batch = TsarBatch::new(&refs, pad, len_size, &device).expect("prepared examples batch");
        let labels = model.predict_labels(&batch);
        for ((p, ex), labels) in chunk.iter().zip(sources).zip(labels) {
            let event = p.event_id;
            let items = p.word_predictions(&labels, span_len, |label| {
                ontology
                    .role_name(event, label)
                    .map(|r| short_role(r).to_string())
            });
            out.insert(ex.doc_key.clone(), items);
        }
    }
    out
}

/// Scores word-level predictions against `gold`.
pub fn score_predictions(
    dataset: Dataset,
    gold: &[Example],
    predictions: &WordPredictions,
    heads: &HeadSource,
) -> Result<Scores> {
    let items: HashMap<String, Vec<Item>> = gold
        .iter()
        .map(|ex| {
            let (tb, te) = ex.trigger;
            let items = predictions
                .get(&ex.doc_key)
                .into_iter()
                .flatten()
                .map(|(s, e, role)| Item {
                    trigger: (tb as i64, te as i64),
                    argument: (*s as i64, *e as i64),
                    role: role.clone(),
                })
                .collect();
            (ex.doc_key.clone(), items)
        })
        .collect();
    score(dataset, gold, &items, heads)
}

/// Prepares examples (`what` names them in errors).
pub fn prepare_all(
    examples: &[Example],
    tokenizer: &Tokenizer,
    ids: SpecialIds,
    ontology: &Ontology,
    graphs: Option<&DocGraphs>,
    input: InputConfig,
) -> Result<Vec<Prepared>> {
    examples
        .iter()
        .map(|ex| {
            let sentence_graphs = match graphs {
                Some(g) => Some(g.get(&ex.doc_key).map(Vec::as_slice).ok_or_else(|| {
                    DocEeError::invalid("the graphs", format!("none for `{}`", ex.doc_key))
                })?),
                None => None,
            };
            prepare(ex, tokenizer, ids, ontology, sentence_graphs, input)
        })
        .collect()
}

/// A tokenizer learned from the training words, with BERT's special tokens and the trigger
/// markers `[unused4]` / `[unused5]`.
fn tiny_tokenizer(train: &[Example]) -> Result<Tokenizer> {
    let texts: Vec<String> = train.iter().map(Example::text).collect();
    let config = WordPieceTrainingConfig {
        vocab_size: 2000,
        min_frequency: 1,
        special_tokens: [
            "[PAD]",
            "[UNK]",
            "[CLS]",
            "[SEP]",
            "[MASK]",
            "[unused4]",
            "[unused5]",
        ]
        .map(String::from)
        .to_vec(),
        ..WordPieceTrainingConfig::default()
    };
    Ok(Tokenizer::train_wordpiece(texts, &config)?)
}

/// Trains TSAR on `train` (graphs in `graphs` when given, for both splits), selects the best
/// checkpoint on `dev`, and writes the run directory `out`. `origin` names the data in
/// `config.json`. Returns the best dev evaluation.
#[allow(clippy::too_many_arguments)]
pub fn train(
    config: &TrainConfig,
    dataset: Dataset,
    train_examples: &[Example],
    dev_examples: &[Example],
    ontology: &Ontology,
    graphs: Option<&DocGraphs>,
    out: &Path,
    origin: &serde_json::Value,
    resume: bool,
) -> Result<BestEval> {
    if train_examples.is_empty() || dev_examples.is_empty() {
        return Err(DocEeError::invalid(
            "the data",
            "training and dev examples must not be empty",
        ));
    }
    std::fs::create_dir_all(out).map_err(|source| DocEeError::Read {
        path: out.to_path_buf(),
        source,
    })?;
    let device = config.device.training()?;
    device.seed(config.seed);
    let (encoder, bert_config, tokenizer) = if config.encoder == "tiny" {
        let tokenizer = tiny_tokenizer(train_examples)?;
        let bert = BertConfig::new(
            tokenizer.vocab_size(),
            config.tiny_hidden,
            config.tiny_layers,
            4,
            2 * config.tiny_hidden,
        )
        .with_max_position_embeddings(config.max_len.max(16));
        (None, bert, tokenizer)
    } else {
        let loaded =
            load_encoder(&config.encoder, &device).map_err(|source| DocEeError::Encoder {
                reference: config.encoder.clone(),
                source: Box::new(source),
            })?;
        let tokenizer = loaded.tokenizer.with_max_length(None)?;
        (Some(loaded.model), loaded.config, tokenizer)
    };
    let max_len = config.max_len.min(bert_config.max_position_embeddings);
    tokenizer.save(out.join(TOKENIZER_FILE), false)?;
    let model_config = TsarConfig::new(bert_config, ontology.num_labels(), ontology.num_events())
        .with_gcn_layers(config.gcn_layers)
        .with_dropout(config.dropout)
        .with_event_dim(config.event_dim)
        .with_pos_loss_weight(config.pos_loss_weight)
        .with_lambda_boundary(config.lambda_boundary)
        .with_use_graph(graphs.is_some())
        .with_local_stream(!config.no_local_stream);
    let info = RunInfo {
        model: model_config.clone(),
        ontology: ontology.clone(),
        max_len,
        span_len: config.span_len,
        dataset,
    };
    write_json(out.join(MODEL_FILE), &info, true)?;
    let ids = SpecialIds::of(&tokenizer)?;
    let input = |gold| InputConfig {
        max_len,
        ..config.input(gold)
    };
    let task = TsarTask {
        train: prepare_all(
            train_examples,
            &tokenizer,
            ids,
            ontology,
            graphs,
            input(true),
        )?,
        dev: prepare_all(
            dev_examples,
            &tokenizer,
            ids,
            ontology,
            graphs,
            input(config.gold_spans_at_eval),
        )?,
        dev_examples: dev_examples.to_vec(),
        ontology: ontology.clone(),
        pad: ids.pad,
        len_size: model_config.len_size,
        batch_size: config.batch_size,
        span_len: config.span_len,
        dataset,
    };
    let model = model_config.init_with(encoder, &device);
    let trainer = Trainer::new(config.trainer(train_examples.len()), out);
    let optimizer = config.optimizer();
    let experiment = serde_json::json!({"data": origin, "config": config, "model": info});
    trainer.write_config(&optimizer, &experiment, resume)?;
    let outcome = trainer.fit(model, optimizer.init(), &task, resume)?;
    Ok(outcome.best()?.clone())
}

/// The best model of a run directory with its tokenizer and settings.
#[derive(Debug)]
pub struct TrainedRun {
    model: Tsar,
    tokenizer: Tokenizer,
    ids: SpecialIds,
    info: RunInfo,
}

impl TrainedRun {
    /// Loads the best checkpoint of the run in `dir` onto `device`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let info: RunInfo = read_json_document(dir.join(MODEL_FILE))?;
        let tokenizer = Tokenizer::from_file(dir.join(TOKENIZER_FILE))?.with_max_length(None)?;
        let ids = SpecialIds::of(&tokenizer)?;
        let model = load_parameters(info.model.init(device), &RunDir::new(dir).best_model())?;
        Ok(Self {
            model,
            tokenizer,
            ids,
            info,
        })
    }

    /// The run's settings.
    pub fn info(&self) -> &RunInfo {
        &self.info
    }

    /// Predicts the arguments of `examples` (`graphs` are required when the model uses them).
    pub fn predict(
        &self,
        examples: &[Example],
        graphs: Option<&DocGraphs>,
        gold_spans: bool,
    ) -> Result<WordPredictions> {
        let graphs = match (self.info.model.use_graph, graphs) {
            (true, None) => {
                return Err(DocEeError::invalid(
                    "prediction",
                    "the model was trained with graphs: pass --graphs",
                ));
            }
            (true, g) => g,
            (false, _) => None,
        };
        let input = InputConfig {
            max_len: self.info.max_len,
            span_len: self.info.span_len,
            gold_spans,
        };
        let prepared = prepare_all(
            examples,
            &self.tokenizer,
            self.ids,
            &self.info.ontology,
            graphs,
            input,
        )?;
        Ok(predict_prepared(
            &self.model,
            &prepared,
            examples,
            &self.info.ontology,
            self.ids.pad,
            self.info.model.len_size,
            self.info.span_len,
        ))
    }
}
