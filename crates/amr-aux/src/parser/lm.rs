//! The decoder-LM parser: a pretrained causal LM (core's Llama, e.g. SmolLM2-135M from a GGUF
//! file) fine-tuned to continue a sentence prompt with the SPRING linearisation of its graph.
//!
//! A training row is `prompt ids · target ids · EOS` with `prompt = "Sentence: S\nAMR:"` and
//! `target = " " + tokens.join(" ")` ([`crate::linearize`] tokens, pointers written `<N>`; for
//! ATP's bracketed dependency trees, their tokens), both through the LM's own tokenizer; the loss is the mean
//! negative log-likelihood of the target tokens and EOS only (the prompt is conditioning).
//! Parsing decodes greedily with core's KV-cached generation up to a maximum length, splits the
//! text on whitespace and restores a graph with [`delinearize_lenient`].
//!
//! Training fine-tunes the whole LM or, with [`LmTrainOptions::train_layers`] `K > 0`, only
//! its top `K` decoder layers and final norm (everything below is frozen: no gradient is
//! computed for it, so the backward pass stops at layer `30 − K` of SmolLM2). The schedules are
//! the seq2seq parser's `single` (AMR only) and `intermediate` (ATP: the auxiliary PseudoAMR
//! corpora first in `RUN/intermediate/`, then AMR alone in `RUN/` with a fresh optimizer).
//!
//! A run directory holds `lm_parser.json` ([`LmSpec`]), `tokenizer.json`, the trainer's
//! `config.json` and `metrics.jsonl`, and the final weights in `last/model.safetensors`.

use std::path::{Path, PathBuf};

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::{Device, Tensor};
use burnlp_core::data::shuffled_batches;
pub use burnlp_core::nn::llama::LmRow;
use burnlp_core::nn::llama::{CausalLm, GenerationConfig, Llama, LlamaConfig, NextTokenBatch};
use burnlp_core::tokenize::Tokenizer;
use burnlp_core::train::params::{freeze_except, named_shapes};
use burnlp_core::train::{
    AdamWConfig, LrSchedule, Metrics, RunDir, TrainTask, Trainer, TrainerConfig, load_parameters,
    save_parameters,
};
use serde::{Deserialize, Serialize};

use super::{Example, ParserError, Result, Schedule, Task, stage_tasks};
use crate::linearize::{delinearize_lenient, parse_pointer, pointer_token};
use crate::penman::Amr;

/// The spec file of an LM-parser run directory.
pub const SPEC_FILE: &str = "lm_parser.json";
/// The tokenizer file of an LM-parser run directory.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// The default pretrained LM (relative to the repository root).
pub const DEFAULT_LM: &str =
    "../shared/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf";

/// The prompt of a sentence.
pub fn prompt(sentence: &str) -> String {
    format!("Sentence: {sentence}\nAMR:")
}

/// The target text of a linearised graph: its tokens after one space each, pointer tokens
/// written short (`<pointer:3>` as `<3>`: 3 LM tokens instead of about 7).
pub fn target_text(tokens: &[String]) -> String {
    let mut out = String::new();
    for token in tokens {
        out.push(' ');
        match parse_pointer(token) {
            Some(n) => out.push_str(&format!("<{n}>")),
            None => out.push_str(token),
        }
    }
    out
}

/// The linearisation tokens of a generated target text (the inverse of [`target_text`]).
pub fn target_tokens(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|word| {
            word.strip_prefix('<')
                .and_then(|w| w.strip_suffix('>'))
                .and_then(|n| n.parse::<usize>().ok())
                .map_or_else(|| word.to_owned(), pointer_token)
        })
        .collect()
}

/// What a run directory records about its LM parser.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LmSpec {
    /// The pretrained reference it was fine-tuned from (`random` for a fresh model).
    pub base: String,
    /// The network's configuration.
    pub llama: LlamaConfig,
    /// Ids that end a generated graph.
    pub eos: Vec<u32>,
    /// Longest prompt in tokens (longer ones keep their end).
    pub max_prompt_tokens: usize,
}

/// A decoder LM that parses sentences into AMR graphs.
#[derive(Debug, Clone)]
pub struct LmParser {
    /// The network.
    pub model: Llama,
    /// Its tokenizer.
    pub tokenizer: Tokenizer,
    /// Its configuration, EOS ids and limits.
    pub spec: LmSpec,
}

impl LmParser {
    /// A parser on a network and tokenizer; `eos` (non-empty) ends every target.
    ///
    /// # Errors
    /// [`ParserError::Settings`] when `eos` is empty.
    pub fn new(
        model: Llama,
        config: LlamaConfig,
        tokenizer: Tokenizer,
        eos: Vec<u32>,
        base: &str,
    ) -> Result<Self> {
        if eos.is_empty() {
            return Err(ParserError::Settings(format!(
                "the LM `{base}` declares no end-of-sequence token"
            )));
        }
        Ok(Self {
            model,
            tokenizer,
            spec: LmSpec {
                base: base.to_owned(),
                llama: config,
                eos,
                max_prompt_tokens: 96,
            },
        })
    }

    /// Loads a pretrained LM (a GGUF file, a Hugging Face directory or id; see
    /// [`CausalLm::load`]) with its tokenizer; its EOS ids end the targets.
    ///
    /// # Errors
    /// [`ParserError::Lm`] naming the reference.
    pub fn pretrained(reference: &Path, device: &Device) -> Result<Self> {
        let name = reference.display().to_string();
        let lm = CausalLm::load(&name, device).map_err(|e| ParserError::Lm {
            path: reference.to_path_buf(),
            message: e.to_string(),
        })?;
        let eos = lm.config.eos_token_ids.clone();
        Self::new(lm.model, lm.config, lm.tokenizer, eos, &name)
    }

    /// The ids of a text fragment, without special tokens.
    fn ids(&self, text: &str) -> Result<Vec<u32>> {
        Ok(self.tokenizer.encode(text, false)?.ids)
    }

    /// The prompt ids of a sentence (its last `max_prompt_tokens` ids).
    pub fn prompt_ids(&self, sentence: &str) -> Result<Vec<u32>> {
        let mut ids = self.ids(&prompt(sentence))?;
        if ids.len() > self.spec.max_prompt_tokens {
            ids.drain(..ids.len() - self.spec.max_prompt_tokens);
        }
        Ok(ids)
    }

    /// The training row of an example; `None` when its target has more than `max_target`
    /// tokens (EOS included).
    pub fn encode(&self, example: &Example, max_target: usize) -> Result<Option<LmRow>> {
        let mut ids = self.prompt_ids(&example.sentence)?;
        let prompt_len = ids.len();
        let target = self.ids(&target_text(&example.target))?;
        if target.len() + 1 > max_target {
            return Ok(None);
        }
        ids.extend(target);
        ids.push(self.spec.eos[0]);
        Ok(Some(LmRow { ids, prompt_len }))
    }

    /// The greedily generated target tokens of each sentence (KV-cached decoding of at most
    /// `max_new_tokens` tokens, `batch_size` sentences at a time), split on whitespace.
    pub fn generate(
        &self,
        sentences: &[String],
        batch_size: usize,
        max_new_tokens: usize,
    ) -> Result<Vec<Vec<String>>> {
        let config =
            GenerationConfig::new(max_new_tokens).with_eos_token_ids(self.spec.eos.clone());
        let mut out = Vec::with_capacity(sentences.len());
        for chunk in sentences.chunks(batch_size.max(1)) {
            let prompts = chunk
                .iter()
                .map(|s| self.prompt_ids(s))
                .collect::<Result<Vec<_>>>()?;
            let generations =
                self.model
                    .generate(&prompts, &config)
                    .map_err(|e| ParserError::Lm {
                        path: PathBuf::from(&self.spec.base),
                        message: e.to_string(),
                    })?;
            for g in generations {
                let kept: Vec<u32> = g
                    .tokens
                    .into_iter()
                    .filter(|t| !self.spec.eos.contains(t))
                    .collect();
                let text = self.tokenizer.decode(&kept, true)?;
                out.push(target_tokens(&text));
            }
        }
        Ok(out)
    }

    /// Parses sentences into graphs: greedy generation, then lenient restoration.
    pub fn parse(
        &self,
        sentences: &[String],
        batch_size: usize,
        max_new_tokens: usize,
    ) -> Result<Vec<Amr>> {
        Ok(self
            .generate(sentences, batch_size, max_new_tokens)?
            .iter()
            .map(|tokens| delinearize_lenient(tokens))
            .collect())
    }

    /// Writes `lm_parser.json` and `tokenizer.json` into `dir`.
    pub fn save_spec(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|source| burnlp_core::data::DataError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
        burnlp_core::data::write_json(dir.join(SPEC_FILE), &self.spec, true)?;
        self.tokenizer.save(dir.join(TOKENIZER_FILE), false)?;
        Ok(())
    }

    /// Writes the spec, the tokenizer and the weights (`last/model.safetensors`) into `dir`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        self.save_spec(dir)?;
        save_parameters(&self.model, &RunDir::new(dir).last_model())?;
        Ok(())
    }

    /// True when `dir` holds an LM parser (its `lm_parser.json`).
    pub fn is_run_dir(dir: &Path) -> bool {
        dir.join(SPEC_FILE).is_file()
    }

    /// Loads a run directory written by [`LmParser::save`] or [`train_lm`].
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let spec: LmSpec = burnlp_core::data::read_json_document(dir.join(SPEC_FILE))?;
        let tokenizer = Tokenizer::from_file(dir.join(TOKENIZER_FILE))?;
        if tokenizer.vocab_size() > spec.llama.vocab_size {
            return Err(ParserError::Model {
                path: dir.join(SPEC_FILE),
                message: format!(
                    "the tokenizer has {} tokens, more than the model's {}",
                    tokenizer.vocab_size(),
                    spec.llama.vocab_size
                ),
            });
        }
        let weights = RunDir::new(dir).last_model();
        let model = load_parameters(spec.llama.init(device), &weights)?;
        Ok(Self {
            model,
            tokenizer,
            spec,
        })
    }
}

/// Mean negative log-likelihood of the target tokens (and EOS) of `rows`; the LM head runs
/// on those positions only.
pub fn lm_loss(model: &Llama, rows: &[&LmRow]) -> Tensor<1> {
    NextTokenBatch::prompted(rows, &model.device()).mean_nll(model)
}

/// The [`TrainTask`] of one LM stage: shuffled batches of rows, dev loss.
pub struct LmTask {
    rows: Vec<LmRow>,
    dev: Vec<LmRow>,
    batch_size: usize,
}

impl TrainTask<Llama> for LmTask {
    type Batch = Vec<usize>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Vec<usize>> {
        shuffled_batches(self.rows.len(), self.batch_size, seed, epoch as u64)
    }

    fn loss(&self, model: &Llama, batch: &Vec<usize>) -> Tensor<1> {
        let rows: Vec<&LmRow> = batch.iter().map(|&i| &self.rows[i]).collect();
        lm_loss(model, &rows)
    }

    fn evaluate(&self, model: &Llama) -> Metrics {
        let (mut total, mut tokens) = (0.0, 0usize);
        for chunk in self.dev.chunks(self.batch_size) {
            let rows: Vec<&LmRow> = chunk.iter().collect();
            let n: usize = chunk.iter().map(LmRow::target_len).sum();
            total += lm_loss(model, &rows).into_scalar::<f64>() * n as f64;
            tokens += n;
        }
        let mut metrics = Metrics::new();
        if tokens > 0 {
            metrics.insert("loss".into(), total / tokens as f64);
        }
        metrics
    }

    fn batch_len(&self, batch: &Vec<usize>) -> usize {
        batch.len()
    }
}

/// Settings of [`train_lm`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LmTrainOptions {
    /// `single` or `intermediate` (multitask is not offered for the LM parser).
    #[serde(skip)]
    pub schedule: Schedule,
    /// Optimizer steps on AMR.
    pub steps: usize,
    /// Optimizer steps on the auxiliary corpora first (intermediate only).
    pub aux_steps: usize,
    /// Rows per batch.
    pub batch_size: usize,
    /// Peak learning rate (linear warm-up over 5% of the steps, then linear decay).
    pub lr: f64,
    /// Seed of the batch order (the pretrained LM has no dropout and no random initialisation).
    pub seed: u64,
    /// Train only the top this many decoder layers and the final norm (0: the whole LM).
    pub train_layers: usize,
    /// Training rows whose target (EOS included) is longer are skipped.
    pub max_target_tokens: usize,
    /// Evaluate the dev loss every N steps (and at the end).
    pub eval_every: usize,
    /// Show progress bars.
    #[serde(skip)]
    pub progress: bool,
}

impl Default for LmTrainOptions {
    fn default() -> Self {
        Self {
            schedule: Schedule::Single,
            steps: 200,
            aux_steps: 100,
            batch_size: 8,
            lr: 1e-4,
            seed: 1,
            train_layers: 0,
            max_target_tokens: 192,
            eval_every: 0,
            progress: true,
        }
    }
}

/// One stage of [`train_lm`].
#[derive(Debug, Clone, PartialEq)]
pub struct LmStage {
    /// `intermediate` or `amr`.
    pub name: String,
    /// Training rows used (after the length limit).
    pub rows: usize,
    /// Rows skipped as too long.
    pub skipped: usize,
    /// Optimizer steps done.
    pub steps: usize,
    /// The dev loss at its end.
    pub dev_loss: Option<f64>,
}

/// Whether the parameter at `path` is trained when only the top `train_layers` of `layers`
/// decoder layers are (0: every parameter).
pub fn is_trainable(path: &str, layers: usize, train_layers: usize) -> bool {
    if train_layers == 0 || train_layers >= layers {
        return true;
    }
    if path.starts_with("norm.") {
        return true;
    }
    path.strip_prefix("layers.")
        .and_then(|rest| rest.split('.').next())
        .and_then(|n| n.parse::<usize>().ok())
        .is_some_and(|n| n >= layers - train_layers)
}

/// Fine-tunes `parser` (whose model lives on an autodiff device) on `train_set` with
/// `options.schedule` into `out`, and writes the final parser there (see the module
/// documentation for the layout). Returns the trained parser and its stages.
///
/// # Errors
/// [`ParserError::Settings`] for the multitask schedule, an intermediate schedule without
/// auxiliary data, or data without a single row that fits; the trainer's and I/O errors.
pub fn train_lm(
    parser: LmParser,
    train_set: &[Example],
    dev: &[Example],
    aux: &[Vec<Example>],
    options: &LmTrainOptions,
    out: &Path,
) -> Result<(LmParser, Vec<LmStage>)> {
    if options.schedule == Schedule::Multitask {
        return Err(ParserError::Settings(
            "the LM parser trains `single` or `intermediate`, not `multitask`".into(),
        ));
    }
    if options.schedule == Schedule::Intermediate && aux.iter().all(Vec::is_empty) {
        return Err(ParserError::Settings(
            "the intermediate schedule needs auxiliary data (--aux)".into(),
        ));
    }
    let mut parser = parser;
    let layers = parser.spec.llama.num_layers;
    let trainable = |path: &str| is_trainable(path, layers, options.train_layers);
    parser.model = freeze_except(parser.model, trainable);
    let dev_rows = encode_rows(&parser, dev.iter(), options.max_target_tokens)?.0;
    let plan = stage_tasks(options.schedule, aux.len());
    let mut stages = Vec::new();
    for (index, tasks) in plan.iter().enumerate() {
        let last = index + 1 == plan.len();
        let (name, dir, steps) = if last {
            ("amr", out.to_path_buf(), options.steps)
        } else {
            ("intermediate", out.join("intermediate"), options.aux_steps)
        };
        let examples = tasks.iter().flat_map(|task| match task {
            Task::Amr => train_set.iter(),
            Task::Aux(n) => aux[n - 1].iter(),
        });
        let (rows, skipped) = encode_rows(&parser, examples, options.max_target_tokens)?;
        if rows.is_empty() {
            return Err(ParserError::Settings(format!(
                "stage `{name}`: no training example has a target of at most {} tokens",
                options.max_target_tokens
            )));
        }
        if skipped > 0 {
            tracing::warn!(
                stage = name,
                skipped,
                "targets longer than the limit are skipped"
            );
        }
        let task = LmTask {
            rows,
            dev: dev_rows.clone(),
            batch_size: options.batch_size.max(1),
        };
        let (model, dev_loss) = run_stage(&parser, &task, steps, options, &dir, last)?;
        parser.model = model;
        stages.push(LmStage {
            name: name.into(),
            rows: task.rows.len(),
            skipped,
            steps,
            dev_loss,
        });
    }
    let parser = LmParser {
        model: parser.model.valid(),
        ..parser
    };
    parser.save(out)?;
    Ok((parser, stages))
}

/// The rows of examples that fit `max_target`, and the number skipped.
fn encode_rows<'a>(
    parser: &LmParser,
    examples: impl Iterator<Item = &'a Example>,
    max_target: usize,
) -> Result<(Vec<LmRow>, usize)> {
    let (mut rows, mut skipped) = (Vec::new(), 0);
    for example in examples {
        match parser.encode(example, max_target)? {
            Some(row) => rows.push(row),
            None => skipped += 1,
        }
    }
    Ok((rows, skipped))
}

/// One trainer run; its step checkpoints and `best/` (and, unless `keep_last`, `last/`) are
/// removed afterwards, as each holds the whole LM.
fn run_stage(
    parser: &LmParser,
    task: &LmTask,
    steps: usize,
    options: &LmTrainOptions,
    dir: &Path,
    keep_last: bool,
) -> Result<(Llama, Option<f64>)> {
    let steps = steps.max(1);
    let layers = parser.spec.llama.num_layers;
    let mut optimizer = AdamWConfig::new(options.lr).with_weight_decay(0.01).init();
    for (path, _) in named_shapes(&parser.model) {
        if !is_trainable(&path, layers, options.train_layers) {
            optimizer.freeze(path);
        }
    }
    let eval_every = if options.eval_every == 0 {
        steps
    } else {
        options.eval_every
    };
    let config = TrainerConfig {
        epochs: (steps * task.batch_size).div_ceil(task.rows.len()).max(1),
        max_steps: Some(steps),
        clip_norm: Some(1.0),
        schedule: LrSchedule::Linear {
            warmup: (steps / 20).max(1),
            total: steps,
        },
        eval_every: Some(eval_every),
        keep_checkpoints: 1,
        seed: options.seed,
        log_every: 10,
        progress: options.progress,
        ..TrainerConfig::default()
    };
    let trainer = Trainer::new(config, dir);
    trainer.write_config(
        &AdamWConfig::new(options.lr).with_weight_decay(0.01),
        &serde_json::json!({"lm_parser": options, "base": parser.spec.base,
            "rows": task.rows.len(), "dev_rows": task.dev.len()}),
        false,
    )?;
    let outcome = trainer.fit(parser.model.clone(), optimizer, task, false)?;
    let run = RunDir::new(dir);
    let last = run.root().join("last");
    for sub in [
        run.checkpoints().root().to_owned(),
        run.best(),
        last.clone(),
    ] {
        if sub.is_dir() && (sub != last || !keep_last) {
            std::fs::remove_dir_all(&sub).map_err(|source| {
                burnlp_core::data::DataError::Write {
                    path: sub.clone(),
                    source,
                }
            })?;
        }
    }
    let dev_loss = outcome
        .last_eval
        .as_ref()
        .and_then(|m| m.get("loss").copied());
    Ok((outcome.model, dev_loss))
}
