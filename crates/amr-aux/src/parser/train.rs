//! Training a parser: the settings ([`TrainOptions`]) and the schedules' stages, each a run of
//! core's [`Trainer`] on a [`ParserTask`] ([`train()`]).

use std::path::{Path, PathBuf};

use burnlp_core::burn::tensor::Device;
use burnlp_core::nn::bert::{Bert, BertConfig};
use burnlp_core::nn::seq2seq::TransformerConfig;
use burnlp_core::tokenize::Tokenizer;
use burnlp_core::train::{AdamWConfig, LrSchedule, Metrics, ParamGroup, Trainer, TrainerConfig};

use super::net::ParserNet;
use super::task::ParserTask;
use super::vocab::{PAD, TargetVocab, train_source_tokenizer};
use super::{
    Arch, Example, Parser, ParserError, Result, RunSpec, Schedule, Task, init_net, stage_tasks,
};

/// Settings of [`train()`].
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

/// What [`train()`] did.
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
    check_inputs(train_set, dev, aux, options)?;
    let aux = tag_aux(aux, options.schedule);
    let all: Vec<&Example> = train_set.iter().chain(aux.iter().flatten()).collect();
    let experiment = experiment_json(options, train_set.len(), dev.len(), &aux);
    let mut parser = setup_parser(&all, aux.len(), options, &experiment, out, device)?;
    let vocab_sizes = (parser.source.vocab_size(), parser.target.len());
    let dev_refs: Vec<&Example> = dev.iter().collect();
    let mut stages = Vec::new();
    let mut best = None;
    let plan = stage_tasks(options.schedule, aux.len());
    for (index, tasks) in plan.iter().enumerate() {
        let stage = Stage::plan(index, plan.len(), tasks, &all, &dev_refs, options, out);
        let (summary, stage_best) = stage.run(&mut parser, options, &experiment)?;
        stages.push(summary);
        if stage.last {
            best = stage_best;
        }
    }
    Ok(TrainSummary {
        stages,
        best,
        vocab_sizes,
    })
}

/// Rejects empty training or dev sets and a schedule without the auxiliary data it needs.
fn check_inputs(
    train_set: &[Example],
    dev: &[Example],
    aux: &[Vec<Example>],
    options: &TrainOptions,
) -> Result<()> {
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
    Ok(())
}

/// The auxiliary corpora with their examples' tasks set to `Aux(1)`, `Aux(2)`, …; none for the
/// single schedule.
fn tag_aux(aux: &[Vec<Example>], schedule: Schedule) -> Vec<Vec<Example>> {
    if schedule == Schedule::Single {
        return Vec::new();
    }
    aux.iter()
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
        .collect()
}

/// The settings and data sizes saved as `model.json`'s `training`, which a resumed run must
/// match.
fn experiment_json(
    options: &TrainOptions,
    train: usize,
    dev: usize,
    aux: &[Vec<Example>],
) -> serde_json::Value {
    serde_json::json!({
        "schedule": options.schedule.name(), "arch": options.arch.name(),
        "steps": options.steps, "aux_steps": options.aux_steps,
        "batch_size": options.batch_size, "lr": options.lr, "dropout": options.dropout,
        "label_smoothing": options.label_smoothing, "min_frequency": options.min_frequency,
        "source_vocab_size": options.source_vocab_size,
        "piece_vocab_size": options.piece_vocab_size,
        "train": train, "dev": dev,
        "aux": aux.iter().map(Vec::len).collect::<Vec<_>>(),
        "encoder": options.encoder.as_ref().map(|p| p.display().to_string()),
        "encoder_lr": options.encoder_lr,
    })
}

/// The parser to train: the resumed run's vocabularies and shape (its weights are restored by
/// the trainer), or new vocabularies and a fresh network; a new run's spec is written to `out`.
fn setup_parser(
    all: &[&Example],
    aux_corpora: usize,
    options: &TrainOptions,
    experiment: &serde_json::Value,
    out: &Path,
    device: &Device,
) -> Result<Parser> {
    let task_tokens = options.schedule == Schedule::Multitask;
    if options.resume && out.join("model.json").exists() {
        let spec = RunSpec::read(out)?;
        if spec.training != *experiment {
            return Err(ParserError::Settings(format!(
                "{} was trained with other settings or data; use a new directory or the same \
                 settings to resume",
                out.display()
            )));
        }
        // The trainer restores a stage's weights only from a checkpoint of that stage; a stage
        // killed before its first checkpoint starts again from these, so they must be the new
        // run's: the pretrained encoder's weights and the seeded initialisation.
        let pretrained = options
            .encoder
            .as_deref()
            .map(|dir| load_encoder(dir, device))
            .transpose()?;
        device.seed(options.seed);
        let model = match pretrained {
            Some((bert, _, _)) => ParserNet {
                encoder: Some(bert),
                seq2seq: spec.config.init(device),
            },
            None => init_net(&spec.config, None, device),
        };
        return Ok(Parser {
            model,
            source: spec.source,
            target: spec.target,
            task_tokens,
        });
    }
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
        stage_tasks(options.schedule, aux_corpora)
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
    let (config, encoder_config, model) =
        init_model(pretrained, &source, &target, options, device)?;
    let parser = Parser {
        model,
        source,
        target,
        task_tokens,
    };
    parser.save_spec(out, &config, encoder_config.as_ref(), experiment.clone())?;
    Ok(parser)
}

/// A fresh network: a decoder on the pretrained encoder (of the encoder's width), or a whole
/// Transformer of `options.arch`.
fn init_model(
    pretrained: Option<(Bert, BertConfig, Tokenizer)>,
    source: &Tokenizer,
    target: &TargetVocab,
    options: &TrainOptions,
    device: &Device,
) -> Result<(TransformerConfig, Option<BertConfig>, ParserNet)> {
    let Some((bert, bert_config, _)) = pretrained else {
        let config = options
            .arch
            .config(source.vocab_size(), target.len(), options.dropout);
        let model = init_net(&config, None, device);
        return Ok((config, None, model));
    };
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
    Ok((config, Some(bert_config), model))
}

/// One stage of a schedule: its corpora, examples, dev set, directory and steps.
struct Stage<'e> {
    index: usize,
    /// The final (AMR) stage, trained in `out` itself and selected on the dev set.
    last: bool,
    name: &'static str,
    tasks: Vec<Task>,
    dir: PathBuf,
    steps: usize,
    examples: Vec<&'e Example>,
    dev: Vec<&'e Example>,
}

impl<'e> Stage<'e> {
    /// Stage `index` of `count`. The intermediate stage reports its loss on the last 5% of its
    /// data (at most 200 graphs), held out from its training.
    fn plan(
        index: usize,
        count: usize,
        tasks: &[Task],
        all: &[&'e Example],
        dev: &[&'e Example],
        options: &TrainOptions,
        out: &Path,
    ) -> Self {
        let last = index + 1 == count;
        let mut examples: Vec<&Example> = all
            .iter()
            .copied()
            .filter(|e| tasks.contains(&e.task))
            .collect();
        let (name, dir, steps, dev) = if last {
            ("amr", out.to_path_buf(), options.steps, dev.to_vec())
        } else {
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
        Self {
            index,
            last,
            name,
            tasks: tasks.to_vec(),
            dir,
            steps,
            examples,
            dev,
        }
    }

    /// Whether the stage selects its model on dev Smatch.
    fn select_on_smatch(&self, options: &TrainOptions) -> bool {
        self.last && options.select_on_smatch
    }

    /// Trains the stage from `parser`'s model (a stage of 0 steps is skipped) and leaves the
    /// trained model in `parser`; returns the summary and the best dev metrics.
    fn run(
        &self,
        parser: &mut Parser,
        options: &TrainOptions,
        experiment: &serde_json::Value,
    ) -> Result<(StageSummary, Option<Metrics>)> {
        let summary = |examples: usize, steps: usize| StageSummary {
            name: self.name.into(),
            tasks: self.tasks.clone(),
            examples,
            steps,
        };
        if self.steps == 0 {
            return Ok((summary(self.examples.len(), 0), None));
        }
        let task = ParserTask::new(
            parser,
            &self.examples,
            &self.dev,
            self.select_on_smatch(options),
            options.batch_size,
            options.label_smoothing,
        )?;
        let optimizer = self.optimizer(parser, options);
        let trainer = Trainer::new(
            self.trainer_config(task.examples().len(), options),
            &self.dir,
        );
        let mut stage_experiment = experiment.clone();
        stage_experiment["stage"] = self.name.into();
        trainer.write_config(&optimizer, &stage_experiment, options.resume)?;
        tracing::info!(
            stage = self.name,
            examples = task.examples().len(),
            steps = self.steps,
            "training stage"
        );
        let mut adamw = optimizer.init();
        if parser.pretrained() && options.encoder_lr == 0.0 {
            adamw.freeze("encoder");
        }
        let outcome = trainer.fit(parser.model.clone(), adamw, &task, options.resume)?;
        let done = summary(task.examples().len(), outcome.state.step);
        drop(task);
        parser.model = outcome.model;
        Ok((done, outcome.state.best.map(|b| b.metrics)))
    }

    /// The trainer's settings: `steps` optimizer steps with linear warm-up and decay; the last
    /// stage is evaluated every `eval_every` steps, the intermediate stage once at its end.
    fn trainer_config(&self, examples: usize, options: &TrainOptions) -> TrainerConfig {
        let steps = self.steps;
        let batches_per_epoch = examples.div_ceil(options.batch_size.max(1)).max(1);
        let select_smatch = self.select_on_smatch(options);
        TrainerConfig {
            epochs: steps.div_ceil(batches_per_epoch),
            max_steps: Some(steps),
            clip_norm: Some(2.5),
            schedule: LrSchedule::Linear {
                warmup: steps / 20,
                total: steps,
            },
            eval_every: Some(if self.last {
                options.eval_every.max(1)
            } else {
                steps
            }),
            metric: if select_smatch { "smatch" } else { "loss" }.into(),
            higher_is_better: select_smatch,
            seed: options.seed.wrapping_add(self.index as u64),
            log_every: 10,
            progress: options.progress,
            ..TrainerConfig::default()
        }
    }

    /// AdamW (weight decay 0.004), with its own learning rate for a pretrained encoder.
    fn optimizer(&self, parser: &Parser, options: &TrainOptions) -> AdamWConfig {
        let optimizer = AdamWConfig::new(options.lr).with_weight_decay(0.004);
        if parser.pretrained() {
            optimizer
                .with_group(ParamGroup::new("encoder", &["encoder"]).with_lr(options.encoder_lr))
        } else {
            optimizer
        }
    }
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
