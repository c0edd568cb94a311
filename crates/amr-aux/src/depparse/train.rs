//! Training the parser with core's trainer (dev LAS selects the model), and [`Run`], a trained
//! parser loaded from its run directory.

use std::path::Path;

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::{Device, Tensor};
use burnlp_core::cli::{self, DeviceArgs, EncoderArgs};
use burnlp_core::data::{BatchLimit, bucket_batches, epoch_seed, write_json};
use burnlp_core::nn::bert::BertConfig;
use burnlp_core::nn::encoder::{load_encoder, tiny_encoder};
use burnlp_core::tokenize::Tokenizer;
use burnlp_core::train::{
    AdamWConfig, BestEval, LrSchedule, Metrics, ParamGroup, RunDir, TrainTask, Trainer,
    TrainerConfig, load_parameters,
};
use serde::{Deserialize, Serialize};

use super::eval::attachment_scores;
use super::model::{DepParser, EncodedSentence, ParserBatch, ParserSpec};
use super::{DepparseError, Result};
use crate::amrize::DepSentence;

/// Settings of a training run (stored in `RUN/config.json`).
#[derive(clap::Args, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepTrainConfig {
    /// The encoder.
    #[command(flatten)]
    pub encoder: EncoderArgs,
    /// Passes over the training data.
    #[arg(long, default_value_t = 3, value_parser = cli::positive)]
    pub epochs: usize,
    /// Sentences per batch.
    #[arg(long, default_value_t = 32, value_parser = cli::positive)]
    pub batch_size: usize,
    /// Learning rate of the MLPs and scorers (and of a `tiny` encoder).
    #[arg(long, default_value_t = 2e-3, value_parser = cli::positive_f64)]
    pub lr: f64,
    /// Learning rate of a pretrained encoder.
    #[arg(long, default_value_t = 5e-5, value_parser = cli::positive_f64)]
    pub encoder_lr: f64,
    /// Fraction of steps used for linear warm-up (then linear decay).
    #[arg(long, default_value_t = 0.1, value_parser = cli::fraction)]
    pub warmup: f64,
    /// Width of the arc MLPs (the paper: 500).
    #[arg(long, default_value_t = 256, value_parser = cli::positive)]
    pub arc_mlp: usize,
    /// Width of the label MLPs (the paper: 100).
    #[arg(long, default_value_t = 64, value_parser = cli::positive)]
    pub label_mlp: usize,
    /// Dropout on word vectors and in the MLPs (the paper: 0.33).
    #[arg(long, default_value_t = 0.33, value_parser = cli::fraction)]
    pub dropout: f64,
    /// Maximum subword tokens per sentence (capped by the encoder's positions); a longer
    /// sentence is an error.
    #[arg(long, default_value_t = 512, value_parser = cli::positive)]
    pub max_length: usize,
    /// Evaluate on dev every N steps (default: every epoch).
    #[arg(long, value_parser = cli::positive)]
    pub eval_every: Option<usize>,
    /// Seed of initialisation, batch order and dropout.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where training runs (not part of the run's identity).
    #[command(flatten)]
    #[serde(skip)]
    pub device: DeviceArgs,
    /// Stop this process after this many optimizer steps, leaving a checkpoint that
    /// `--resume` continues (tests; not a flag, not part of the run's identity).
    #[arg(skip)]
    #[serde(skip)]
    pub halt_after: Option<usize>,
}

impl Default for DepTrainConfig {
    fn default() -> Self {
        Self {
            encoder: EncoderArgs::default(),
            epochs: 3,
            batch_size: 32,
            lr: 2e-3,
            encoder_lr: 5e-5,
            warmup: 0.1,
            arc_mlp: 256,
            label_mlp: 64,
            dropout: 0.33,
            max_length: 512,
            eval_every: None,
            seed: 1,
            device: DeviceArgs::default(),
            halt_after: None,
        }
    }
}

/// Tokenizes the words of a sentence for the parser: `line` and `origin` name it in errors.
/// With `gold`, its heads and label indices (an unknown label is an error).
pub fn encode_sentence(
    tokenizer: &Tokenizer,
    words: &[String],
    gold: Option<(&DepSentence, &[String])>,
    origin: &Path,
    line: usize,
) -> Result<EncodedSentence> {
    let encoded = tokenizer.encode_words(words, true)?;
    if encoded.kept_words() < words.len() {
        return Err(DepparseError::Input {
            path: origin.to_path_buf(),
            line,
            problem: format!(
                "the sentence's {} words need more than the parser's {} subword tokens",
                words.len(),
                tokenizer.max_length().unwrap_or(0)
            ),
        });
    }
    let (heads, labels) = match gold {
        None => (Vec::new(), Vec::new()),
        Some((sentence, names)) => {
            let mut labels = Vec::with_capacity(sentence.words.len());
            for w in &sentence.words {
                let label = names.iter().position(|l| *l == w.deprel).ok_or_else(|| {
                    DepparseError::Input {
                        path: origin.to_path_buf(),
                        line,
                        problem: format!(
                            "relation `{}` does not occur in the training data",
                            w.deprel
                        ),
                    }
                })?;
                labels.push(label);
            }
            (sentence.words.iter().map(|w| w.head).collect(), labels)
        }
    };
    let first = encoded.first_subwords();
    Ok(EncodedSentence {
        ids: encoded.encoding.ids,
        first,
        heads,
        labels,
    })
}

fn forms(sentence: &DepSentence) -> Vec<String> {
    sentence.words.iter().map(|w| w.form.clone()).collect()
}

/// The training task: length-bucketed batches, arc + label cross-entropy, dev UAS/LAS.
pub struct DepTask {
    train: Vec<EncodedSentence>,
    dev: Vec<EncodedSentence>,
    dev_gold: Vec<DepSentence>,
    labels: Vec<String>,
    batch_size: usize,
    pad_id: u32,
}

impl DepTask {
    fn batches_per_epoch(&self) -> usize {
        self.train.len().div_ceil(self.batch_size)
    }
}

/// Parses encoded sentences in batches: `(heads, label indices)` per sentence.
fn parse_encoded(
    model: &DepParser,
    sentences: &[EncodedSentence],
    batch_size: usize,
    pad_id: u32,
) -> Vec<(Vec<usize>, Vec<usize>)> {
    let device = model.devices()[0].clone();
    let lengths: Vec<usize> = sentences.iter().map(|s| s.ids.len()).collect();
    let batches = bucket_batches(&lengths, BatchLimit::examples(batch_size), None)
        .expect("non-empty batch limit");
    let mut out = vec![(Vec::new(), Vec::new()); sentences.len()];
    for batch in batches {
        let refs: Vec<&EncodedSentence> = batch.iter().map(|&i| &sentences[i]).collect();
        let parsed = model.decode(&ParserBatch::new(&refs, pad_id, &device));
        for (i, p) in batch.into_iter().zip(parsed) {
            out[i] = p;
        }
    }
    out
}

/// `gold` with its heads and relations replaced by `parses`.
fn with_parses(
    gold: &[DepSentence],
    parses: &[(Vec<usize>, Vec<usize>)],
    labels: &[String],
) -> Vec<DepSentence> {
    gold.iter()
        .zip(parses)
        .map(|(s, (heads, rels))| {
            let mut s = s.clone();
            for ((w, &h), &l) in s.words.iter_mut().zip(heads).zip(rels) {
                w.head = h;
                w.deprel = labels[l].clone();
            }
            s
        })
        .collect()
}

impl TrainTask<DepParser> for DepTask {
    type Batch = Vec<usize>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Vec<usize>> {
        let lengths: Vec<usize> = self.train.iter().map(|s| s.ids.len()).collect();
        bucket_batches(
            &lengths,
            BatchLimit::examples(self.batch_size),
            Some(epoch_seed(seed, epoch as u64)),
        )
        .expect("non-empty batch limit")
    }

    fn loss(&self, model: &DepParser, batch: &Vec<usize>) -> Tensor<1> {
        let device = model.devices()[0].clone();
        let refs: Vec<&EncodedSentence> = batch.iter().map(|&i| &self.train[i]).collect();
        model.loss(&ParserBatch::new(&refs, self.pad_id, &device), &refs)
    }

    fn evaluate(&self, model: &DepParser) -> Metrics {
        let parses = parse_encoded(model, &self.dev, self.batch_size, self.pad_id);
        let pred = with_parses(&self.dev_gold, &parses, &self.labels);
        let dev = Path::new("dev");
        let scores = attachment_scores(&self.dev_gold, &pred, dev, dev)
            .expect("predictions have the gold words and one root");
        Metrics::from([
            ("uas".to_string(), scores.uas),
            ("las".to_string(), scores.las),
        ])
    }

    fn batch_len(&self, batch: &Vec<usize>) -> usize {
        batch.len()
    }
}

/// The tokenizer, specification and model of a new run: a pretrained encoder, or a `tiny`
/// random BERT whose WordPiece vocabulary is learned from the training words.
fn build_model(
    config: &DepTrainConfig,
    train: &[DepSentence],
    labels: Vec<String>,
    device: &Device,
) -> Result<(Tokenizer, ParserSpec, DepParser)> {
    let spec = |encoder: BertConfig, max_length| ParserSpec {
        encoder,
        labels: labels.clone(),
        arc_mlp: config.arc_mlp,
        label_mlp: config.label_mlp,
        dropout: config.dropout,
        max_length,
    };
    if let Some(reference) = config.encoder.pretrained() {
        let loaded = load_encoder(reference, device).map_err(|source| DepparseError::Encoder {
            reference: reference.to_string(),
            source: Box::new(source),
        })?;
        let max_length = config.max_length.min(loaded.config.max_position_embeddings);
        let tokenizer = loaded.tokenizer.with_max_length(Some(max_length))?;
        let spec = spec(loaded.config, max_length);
        let model = spec.init_with(loaded.model, device);
        return Ok((tokenizer, spec, model));
    }
    let texts: Vec<String> = train.iter().map(|s| forms(s).join(" ")).collect();
    let (tokenizer, encoder) = tiny_encoder(texts, config.max_length)?;
    let spec = spec(encoder, config.max_length);
    let model = spec.init(device);
    Ok((tokenizer, spec, model))
}

/// Trains a parser on `train`, selects it on `dev` LAS and writes the run directory `out`
/// (`model.json`, `tokenizer.json`, checkpoints, `best/`, metrics). `origin` describes the data
/// in `config.json`. Returns the best dev evaluation.
pub fn train(
    config: &DepTrainConfig,
    train: &[DepSentence],
    dev: &[DepSentence],
    paths: (&Path, &Path),
    out: &Path,
    origin: &serde_json::Value,
    resume: bool,
) -> Result<BestEval> {
    // The dev gold must be scorable (one root per sentence) before hours of training.
    attachment_scores(dev, dev, paths.1, paths.1)?;
    let device = config.device.training()?;
    device.seed(config.seed);
    let mut labels: Vec<String> = train
        .iter()
        .flat_map(|s| s.words.iter().map(|w| w.deprel.clone()))
        .collect();
    labels.sort();
    labels.dedup();
    let (tokenizer, spec, model) = build_model(config, train, labels.clone(), &device)?;
    std::fs::create_dir_all(out).map_err(|source| burnlp_core::data::DataError::Write {
        path: out.to_path_buf(),
        source,
    })?;
    write_json(out.join("model.json"), &spec, true)?;
    tokenizer.save(out.join("tokenizer.json"), false)?;
    let encode = |sentences: &[DepSentence], path: &Path, gold: bool| {
        sentences
            .iter()
            .map(|s| {
                let gold = gold.then_some((s, labels.as_slice()));
                encode_sentence(&tokenizer, &forms(s), gold, path, s.line)
            })
            .collect::<Result<Vec<_>>>()
    };
    let task = DepTask {
        train: encode(train, paths.0, true)?,
        dev: encode(dev, paths.1, false)?,
        dev_gold: dev.to_vec(),
        labels,
        batch_size: config.batch_size,
        pad_id: tokenizer.special_tokens().pad.unwrap_or(0),
    };
    let steps = task.batches_per_epoch() * config.epochs;
    let trainer = Trainer::new(
        TrainerConfig {
            epochs: config.epochs,
            schedule: LrSchedule::Linear {
                warmup: (steps as f64 * config.warmup) as usize,
                total: steps,
            },
            clip_norm: Some(5.0),
            eval_every: config.eval_every,
            metric: "las".into(),
            higher_is_better: true,
            seed: config.seed,
            halt_after: config.halt_after,
            ..TrainerConfig::default()
        },
        out,
    );
    let mut optimizer = AdamWConfig::new(config.lr).with_weight_decay(0.0);
    if config.encoder.pretrained().is_some() {
        optimizer = optimizer
            .with_group(ParamGroup::new("encoder", &["encoder"]).with_lr(config.encoder_lr));
    }
    let experiment = serde_json::json!({"data": origin, "config": config, "model": spec});
    trainer.write_config(&optimizer, &experiment, resume)?;
    let outcome = trainer.fit(model, optimizer.init(), &task, resume)?;
    Ok(outcome.best()?.clone())
}

/// A trained parser: the best model of a run directory with its tokenizer.
#[derive(Debug)]
pub struct Run {
    /// The model.
    pub model: DepParser,
    /// Its tokenizer.
    pub tokenizer: Tokenizer,
    /// The run's `model.json`.
    pub spec: ParserSpec,
}

impl Run {
    /// Loads the best model of the run directory `dir` onto `device`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let spec_path = dir.join("model.json");
        let text = std::fs::read_to_string(&spec_path).map_err(|e| DepparseError::Run {
            path: spec_path.clone(),
            message: format!("not a depparse run directory ({e})"),
        })?;
        let spec: ParserSpec = serde_json::from_str(&text).map_err(|e| DepparseError::Run {
            path: spec_path.clone(),
            message: e.to_string(),
        })?;
        let tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))?
            .with_max_length(Some(spec.max_length))?;
        let model = load_parameters(spec.init(device), &RunDir::new(dir).best_model())?;
        Ok(Self {
            model,
            tokenizer,
            spec,
        })
    }

    /// Heads and relation names of every sentence's words (`origin` and each sentence's line
    /// name it in errors, e.g. a sentence too long for the encoder).
    pub fn parse(
        &self,
        sentences: &[(usize, Vec<String>)],
        origin: &Path,
        batch_size: usize,
    ) -> Result<Vec<(Vec<usize>, Vec<String>)>> {
        let encoded = sentences
            .iter()
            .map(|(line, words)| encode_sentence(&self.tokenizer, words, None, origin, *line))
            .collect::<Result<Vec<_>>>()?;
        let pad_id = self.tokenizer.special_tokens().pad.unwrap_or(0);
        Ok(parse_encoded(&self.model, &encoded, batch_size, pad_id)
            .into_iter()
            .map(|(heads, labels)| {
                let names = labels
                    .into_iter()
                    .map(|l| self.spec.labels[l].clone())
                    .collect();
                (heads, names)
            })
            .collect())
    }
}
