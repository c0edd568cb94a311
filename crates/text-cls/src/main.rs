//! `text-cls`: train, evaluate and apply a sentence(-pair) classifier.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burnlp_core::cli::DeviceArgs;
use burnlp_core::device::{parse_device, training_device};
use burnlp_core::nn::bert::BertConfig;
use burnlp_core::nn::encoder::load_encoder;
use burnlp_core::tokenize::{Tokenizer, WordPieceTrainingConfig};
use burnlp_core::train::{
    AdamWConfig, LrSchedule, ParamGroup, RunDir, StopReason, Trainer, TrainerConfig,
    load_parameters,
};
use clap::{Args, Parser, Subcommand};
use text_cls::{
    ClassificationTask, ClassifierSpec, Columns, Example, Pooling, encode, predict, read_tsv,
    score, synthetic,
};

/// Sentence and sentence-pair classification with a BERT-family encoder.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fine-tune a classifier and keep the best model on the dev set.
    Train(TrainArgs),
    /// Score a trained model on labelled data.
    Eval(EvalArgs),
    /// Label data with a trained model (JSON lines: text, label, probabilities).
    Predict(PredictArgs),
    /// Train and evaluate on the embedded synthetic negation task.
    Demo(DemoArgs),
}

#[derive(Args, Clone)]
struct ColumnArgs {
    /// Column holding the text.
    #[arg(long, default_value = "sentence")]
    text_column: String,
    /// Column holding the second text of a pair (e.g. `sentence2`).
    #[arg(long)]
    pair_column: Option<String>,
    /// Column holding the label.
    #[arg(long, default_value = "label")]
    label_column: String,
}

impl ColumnArgs {
    fn columns(&self) -> Columns {
        Columns {
            text: self.text_column.clone(),
            pair: self.pair_column.clone(),
            label: self.label_column.clone(),
        }
    }
}

#[derive(Args)]
struct TrainArgs {
    /// Training data (TSV with a header).
    #[arg(long, required_unless_present = "synthetic")]
    train: Option<PathBuf>,
    /// Development data (TSV with a header).
    #[arg(long, required_unless_present = "synthetic")]
    dev: Option<PathBuf>,
    /// Use N synthetic training examples (and N/4 dev examples) instead of files.
    #[arg(long, conflicts_with_all = ["train", "dev"])]
    synthetic: Option<usize>,
    #[command(flatten)]
    columns: ColumnArgs,
    /// A Hugging Face encoder directory (config.json, model.safetensors, tokenizer.json), or
    /// `tiny` for a small random encoder with a WordPiece vocabulary learned from the data.
    #[arg(long, default_value = "tiny")]
    encoder: String,
    /// Run directory (checkpoints, metrics, best model).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    hyper: HyperArgs,
    /// Continue the newest checkpoint in the run directory.
    #[arg(long)]
    resume: bool,
}

#[derive(Args, Clone)]
struct HyperArgs {
    /// Passes over the training data.
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    /// Examples per batch.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Learning rate of the head (and of a `tiny` encoder).
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Learning rate of a pretrained encoder.
    #[arg(long, default_value_t = 3e-5)]
    encoder_lr: f64,
    /// Weight decay (not applied to biases and layer norms).
    #[arg(long, default_value_t = 0.01)]
    weight_decay: f64,
    /// Fraction of steps used for linear warm-up.
    #[arg(long, default_value_t = 0.1)]
    warmup: f64,
    /// Maximum tokens per example (longer ones are truncated).
    #[arg(long, default_value_t = 128)]
    max_length: usize,
    /// Pooling of the sequence representation.
    #[arg(long, value_enum, default_value_t = Pooling::Cls)]
    pooling: Pooling,
    /// Dropout before the output layer.
    #[arg(long, default_value_t = 0.1)]
    dropout: f64,
    /// Evaluate every N steps (default: every epoch).
    #[arg(long)]
    eval_every: Option<usize>,
    /// Seed of initialisation, batch order and dropout.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct EvalArgs {
    /// Run directory of a trained model.
    #[arg(long)]
    model: PathBuf,
    /// Labelled data (TSV with a header).
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    columns: ColumnArgs,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct PredictArgs {
    /// Run directory of a trained model.
    #[arg(long)]
    model: PathBuf,
    /// Input TSV with a header (the label column, if any, is ignored).
    #[arg(long)]
    input: PathBuf,
    #[command(flatten)]
    columns: ColumnArgs,
    /// Output JSON lines file.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct DemoArgs {
    /// Run directory.
    #[arg(long, default_value = "target/burnlp/demo/text-cls")]
    out: PathBuf,
    /// Print the result as one JSON line (for `cargo xtask demo`).
    #[arg(long)]
    json: bool,
}

/// Accuracy the demo must reach on its synthetic dev set.
const DEMO_TARGET: f64 = 0.9;

fn main() {
    burnlp_runtime::init();
    burnlp_runtime::exit_on_error(run(Cli::parse()));
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Train(args) => train(&args).map(|_| ()),
        Command::Eval(args) => eval(&args),
        Command::Predict(args) => predict_cmd(&args),
        Command::Demo(args) => demo(&args),
    }
}

fn load_examples(path: &Path, columns: &Columns) -> Result<Vec<Example>> {
    let examples =
        read_tsv(path, columns).with_context(|| format!("reading {}", path.display()))?;
    if examples.is_empty() {
        bail!("{} has no examples", path.display());
    }
    Ok(examples)
}

/// Trains and returns the best dev metrics.
fn train(args: &TrainArgs) -> Result<burnlp_core::train::Metrics> {
    let columns = args.columns.columns();
    let (train, dev) = match args.synthetic {
        Some(n) => (
            synthetic::generate(n, args.hyper.seed),
            synthetic::generate((n / 4).max(1), args.hyper.seed + 1),
        ),
        None => (
            load_examples(args.train.as_ref().expect("clap requires it"), &columns)?,
            load_examples(args.dev.as_ref().expect("clap requires it"), &columns)?,
        ),
    };
    let h = &args.hyper;
    let device = training_device(&h.device)?;
    device.seed(h.seed);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;

    let pretrained = args.encoder != "tiny";
    let (tokenizer, encoder) = if pretrained {
        let loaded = load_encoder(&args.encoder, &device)
            .with_context(|| format!("loading the encoder {}", args.encoder))?;
        eprintln!(
            "loaded {} tensors from {}",
            loaded.report.loaded.len(),
            loaded.location.path().display()
        );
        (loaded.tokenizer, Some((loaded.model, loaded.config)))
    } else {
        let texts = train
            .iter()
            .flat_map(|e| std::iter::once(e.text.clone()).chain(e.pair.clone()));
        let config = WordPieceTrainingConfig {
            vocab_size: 2000,
            min_frequency: 1,
            ..Default::default()
        };
        (
            Tokenizer::train_wordpiece(texts.collect::<Vec<_>>(), &config)?,
            None,
        )
    };
    let tokenizer = tokenizer.with_max_length(Some(h.max_length))?;
    tokenizer
        .save(args.out.join("tokenizer.json"), false)
        .context("saving the tokenizer")?;

    let mut labels: Vec<String> = train.iter().map(|e| e.label.clone()).collect();
    labels.sort();
    labels.dedup();
    let (encoder, encoder_config) = match encoder {
        Some((model, config)) => (Some(model), config),
        None => (
            None,
            BertConfig::new(tokenizer.vocab_size(), 64, 2, 4, 128)
                .with_max_position_embeddings(h.max_length.max(8))
                .with_hidden_dropout(0.1)
                .with_attention_dropout(0.1),
        ),
    };
    let spec = ClassifierSpec {
        encoder: encoder_config,
        labels,
        pooling: h.pooling,
        dropout: h.dropout,
        max_length: h.max_length,
    };
    std::fs::write(
        args.out.join("model.json"),
        serde_json::to_string_pretty(&spec)?,
    )?;
    let model = match encoder {
        Some(encoder) => spec.init_with(encoder, &device),
        None => spec.init(&device),
    };

    let pad_id = tokenizer.special_tokens().pad.unwrap_or(0);
    let task = ClassificationTask {
        train: encode(&tokenizer, &spec, &train, "training data")?,
        dev: encode(&tokenizer, &spec, &dev, "dev data")?,
        batch_size: h.batch_size,
        pad_id,
    };
    let steps = train.len().div_ceil(h.batch_size) * h.epochs;
    let trainer_config = TrainerConfig {
        epochs: h.epochs,
        schedule: LrSchedule::Linear {
            warmup: (steps as f64 * h.warmup) as usize,
            total: steps,
        },
        eval_every: h.eval_every,
        metric: "accuracy".into(),
        higher_is_better: true,
        seed: h.seed,
        ..TrainerConfig::default()
    };
    let mut optimizer = AdamWConfig::new(h.lr)
        .with_weight_decay(h.weight_decay)
        .with_group(
            ParamGroup::new("no-decay", &["*.bias", "*norm*", "*.beta", "*.gamma"])
                .with_weight_decay(0.0),
        );
    if pretrained {
        optimizer =
            optimizer.with_group(ParamGroup::new("encoder", &["encoder"]).with_lr(h.encoder_lr));
    }
    let trainer = Trainer::new(trainer_config, &args.out);
    let experiment = serde_json::json!({
        "train": args.train, "dev": args.dev, "synthetic": args.synthetic, "columns": columns,
        "encoder": args.encoder, "batch_size": h.batch_size, "model": spec,
    });
    trainer.write_config(&optimizer, &experiment, args.resume)?;
    let outcome = trainer.fit(model, optimizer.init(), &task, args.resume)?;
    let best = outcome.state.best.context("training ran no evaluation")?;
    if outcome.stop == StopReason::Halted {
        eprintln!(
            "halted at step {}; continue with --resume",
            outcome.state.step
        );
    }
    eprintln!(
        "best dev accuracy {:.4} at step {} (model in {})",
        best.value,
        best.step,
        args.out.join("best").display()
    );
    Ok(best.metrics)
}

/// A trained model, its tokenizer and its specification.
fn load_run(dir: &Path, device: &str) -> Result<(text_cls::Classifier, Tokenizer, ClassifierSpec)> {
    let spec: ClassifierSpec = serde_json::from_str(
        &std::fs::read_to_string(dir.join("model.json"))
            .with_context(|| format!("{} is not a text-cls run directory", dir.display()))?,
    )
    .with_context(|| format!("parsing {}", dir.join("model.json").display()))?;
    let tokenizer =
        Tokenizer::from_file(dir.join("tokenizer.json"))?.with_max_length(Some(spec.max_length))?;
    let device = parse_device(device)?;
    let model = load_parameters(spec.init(&device), &RunDir::new(dir).best_model())?;
    Ok((model, tokenizer, spec))
}

fn eval(args: &EvalArgs) -> Result<()> {
    let (model, tokenizer, spec) = load_run(&args.model, &args.device)?;
    let examples = load_examples(&args.data, &args.columns.columns())?;
    let set = encode(
        &tokenizer,
        &spec,
        &examples,
        &args.data.display().to_string(),
    )?;
    let metrics = score(
        &predict(
            &model,
            &set,
            64,
            tokenizer.special_tokens().pad.unwrap_or(0),
        ),
        &set.labels,
    );
    if args.json {
        println!("{}", serde_json::to_string(&metrics)?);
    } else {
        for (name, value) in &metrics {
            println!("{name:>10} {value:.4}");
        }
    }
    Ok(())
}

fn predict_cmd(args: &PredictArgs) -> Result<()> {
    let (model, tokenizer, spec) = load_run(&args.model, &args.device)?;
    let columns = args.columns.columns();
    let rows: Vec<std::collections::HashMap<String, String>> =
        burnlp_core::data::read_tsv(&args.input)
            .with_context(|| format!("reading {}", args.input.display()))?;
    let examples: Vec<Example> = rows
        .into_iter()
        .enumerate()
        .map(|(i, mut row)| {
            let text = row.remove(&columns.text).with_context(|| {
                format!(
                    "{}: record {} has no column `{}`",
                    args.input.display(),
                    i + 1,
                    columns.text
                )
            })?;
            Ok(Example {
                text,
                pair: columns.pair.as_ref().and_then(|c| row.remove(c)),
                label: spec.labels[0].clone(),
            })
        })
        .collect::<Result<_>>()?;
    let set = encode(
        &tokenizer,
        &spec,
        &examples,
        &args.input.display().to_string(),
    )?;
    let probs = predict(
        &model,
        &set,
        64,
        tokenizer.special_tokens().pad.unwrap_or(0),
    );
    let records = examples.iter().zip(&probs).map(|(example, p)| {
        let best = p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i).unwrap_or(0);
        serde_json::json!({
            "text": example.text, "pair": example.pair, "label": spec.labels[best],
            "probabilities": spec.labels.iter().zip(p).map(|(l, v)| (l.clone(), *v)).collect::<std::collections::BTreeMap<_, _>>(),
        })
    });
    burnlp_core::data::write_jsonl(&args.out, records)?;
    eprintln!(
        "wrote {} predictions to {}",
        probs.len(),
        args.out.display()
    );
    Ok(())
}

fn demo(args: &DemoArgs) -> Result<()> {
    let started = Instant::now();
    let train_args = TrainArgs {
        train: None,
        dev: None,
        synthetic: Some(2400),
        columns: ColumnArgs {
            text_column: "sentence".into(),
            pair_column: None,
            label_column: "label".into(),
        },
        encoder: "tiny".into(),
        out: args.out.clone(),
        hyper: HyperArgs {
            epochs: 4,
            batch_size: 32,
            lr: 2e-3,
            encoder_lr: 2e-3,
            weight_decay: 0.01,
            warmup: 0.1,
            max_length: 32,
            pooling: Pooling::Cls,
            dropout: 0.1,
            eval_every: None,
            seed: 42,
            device: "cpu".into(),
        },
        resume: false,
    };
    let metrics = train(&train_args)?;
    let accuracy = metrics["accuracy"];
    let row = serde_json::json!({
        "task": "text-cls", "dataset": "synthetic negation sentiment (2400 train / 600 dev)",
        "metric": "accuracy", "score": accuracy, "target": DEMO_TARGET,
        "wall_s": started.elapsed().as_secs_f64(),
    });
    if args.json {
        println!("{row}");
    } else {
        println!("text-cls synthetic accuracy {accuracy:.4} (target ≥ {DEMO_TARGET})");
    }
    if accuracy < DEMO_TARGET {
        bail!("demo accuracy {accuracy:.4} is below the target {DEMO_TARGET}");
    }
    Ok(())
}
