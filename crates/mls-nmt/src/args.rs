//! The `mls-nmt` command line: subcommands and their arguments.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burnlp_core::cli::DeviceArgs;
use burnlp_core::device::parse_device;
use clap::{Args, Parser, Subcommand};
use mls_nmt::score::Metric;
use mls_nmt::{
    Arch, Checkpoint, DEFAULT_THRESHOLD, DecodeOptions, LossConfig, LossKind, PrepareConfig,
    TrainConfig, Translator, WlsRatio,
};

/// Transformer NMT with masked label smoothing over a shared vocabulary (BLEU, calibration).
#[derive(Parser)]
#[command(version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Learn the joint BPE and the source/target dictionaries, binarize the data, print the
    /// token-category statistics.
    Prepare(PrepareArgs),
    /// Train a Transformer with CE, LS, MLS or WLS.
    Train(TrainArgs),
    /// Translate a file (or stdin, streaming) with beam search.
    Translate(TranslateArgs),
    /// Corpus BLEU (sacreBLEU or the paper's compound-split BLEU) or chrF of a hypothesis
    /// file against a reference file.
    Bleu(BleuArgs),
    /// BLEU, compound-split BLEU, chrF, inference ECE and training-time ECE of a trained
    /// model, with a reliability diagram.
    Calibrate(CalibrateArgs),
    /// Average parameter files (checkpoint averaging).
    Average(AverageArgs),
    /// Train LS and MLS with the same seed and steps on one corpus and write a report.
    Experiment(Box<ExperimentArgs>),
    /// Train LS and MLS on an embedded made-up language pair and report BLEU.
    Demo(burnlp_core::cli::DemoArgs),
}

#[derive(Args)]
pub(crate) struct PrepareArgs {
    /// Source language code (file suffix, e.g. `de` for `train.de`).
    #[arg(long)]
    pub(crate) src_lang: String,
    /// Target language code.
    #[arg(long)]
    pub(crate) tgt_lang: String,
    /// Training files prefix (`PREFIX.SRC`, `PREFIX.TGT`, one sentence per line).
    #[arg(long)]
    pub(crate) train: PathBuf,
    /// Validation files prefix.
    #[arg(long)]
    pub(crate) valid: PathBuf,
    /// Output data directory.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Size of the joint BPE vocabulary.
    #[arg(long, default_value_t = 8000)]
    pub(crate) vocab_size: usize,
    #[command(flatten)]
    pub(crate) thresholds: ThresholdArgs,
    /// Leave out training pairs with a side longer than this many subwords.
    #[arg(long, default_value_t = 250)]
    pub(crate) max_len: usize,
    /// Print the statistics as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

/// The dictionary thresholds (fairseq's `--thresholdsrc` / `--thresholdtgt`).
#[derive(Args, Clone, Copy)]
pub(crate) struct ThresholdArgs {
    /// A token is in the source dictionary when it occurs at least this often on the source
    /// side, and in the joined dictionary when it occurs this often on both sides together
    /// (fairseq's `--thresholdsrc`; the paper: 10).
    #[arg(long, default_value_t = DEFAULT_THRESHOLD, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) threshold_src: u64,
    /// A token is in the target dictionary when it occurs at least this often on the target
    /// side (fairseq's `--thresholdtgt`; the paper: 10).
    #[arg(long, default_value_t = DEFAULT_THRESHOLD, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) threshold_tgt: u64,
}

impl PrepareArgs {
    pub(crate) fn config(&self) -> PrepareConfig {
        PrepareConfig {
            src_lang: self.src_lang.clone(),
            tgt_lang: self.tgt_lang.clone(),
            train: self.train.clone(),
            valid: self.valid.clone(),
            vocab_size: self.vocab_size,
            threshold_src: self.thresholds.threshold_src,
            threshold_tgt: self.thresholds.threshold_tgt,
            max_len: self.max_len,
        }
    }
}

#[derive(Args, Clone)]
pub(crate) struct TrainOptions {
    /// Loss: ce, ls, mls (masked label smoothing) or wls (weighted label smoothing).
    #[arg(long, default_value = "mls")]
    pub(crate) loss: LossKind,
    /// Smoothing mass α.
    #[arg(long, default_value_t = 0.1)]
    pub(crate) alpha: f64,
    /// WLS split of the smoothing mass between target-only, common and source-only tokens.
    #[arg(long, default_value = "0.4,0.4,0.2")]
    pub(crate) wls_ratio: WlsRatio,
    /// Model size: tiny, small, transformer-iwslt or transformer-base.
    #[arg(long, default_value = "small")]
    pub(crate) arch: Arch,
    /// Dropout.
    #[arg(long, default_value_t = 0.3)]
    pub(crate) dropout: f64,
    /// Peak learning rate.
    #[arg(long, default_value_t = 7e-4)]
    pub(crate) lr: f64,
    /// Warm-up steps of the inverse-sqrt schedule.
    #[arg(long, default_value_t = 1000)]
    pub(crate) warmup: usize,
    /// Decoupled weight decay.
    #[arg(long, default_value_t = 1e-4)]
    pub(crate) weight_decay: f64,
    /// Clip gradients to this global norm (none by default, as fairseq).
    #[arg(long)]
    pub(crate) clip_norm: Option<f64>,
    /// Padded tokens per batch.
    #[arg(long, default_value_t = 4096)]
    pub(crate) max_tokens: usize,
    /// Batches accumulated into one optimizer step (fairseq's `--update-freq`).
    #[arg(long, default_value_t = 1)]
    pub(crate) update_freq: usize,
    /// Passes over the training data.
    #[arg(long, default_value_t = 20)]
    pub(crate) epochs: usize,
    /// Stop after this many optimizer steps.
    #[arg(long)]
    pub(crate) max_steps: Option<usize>,
    /// Stop after about this many minutes of training (`experiment`: the budget of the whole
    /// experiment, 70% of it split between the losses' training).
    #[arg(long)]
    pub(crate) minutes: Option<f64>,
    /// Evaluate and checkpoint every N steps.
    #[arg(long, default_value_t = 500)]
    pub(crate) eval_every: usize,
    /// Average N checkpoints into the final model: the last one and the preceding ones at
    /// multiples of --eval-every steps.
    #[arg(long, default_value_t = 3)]
    pub(crate) average_last: usize,
    /// Random seed.
    #[arg(long, default_value_t = 666)]
    pub(crate) seed: u64,
    /// Longest sequence the model handles.
    #[arg(long, default_value_t = 256)]
    pub(crate) max_positions: usize,
}

impl TrainOptions {
    pub(crate) fn config(&self) -> TrainConfig {
        TrainConfig {
            loss: LossConfig {
                kind: self.loss,
                alpha: self.alpha,
                wls_ratio: self.wls_ratio,
            },
            arch: self.arch,
            dropout: self.dropout,
            lr: self.lr,
            warmup: self.warmup,
            weight_decay: self.weight_decay,
            clip_norm: self.clip_norm,
            max_tokens: self.max_tokens,
            update_freq: self.update_freq,
            epochs: self.epochs,
            max_steps: self.max_steps,
            minutes: self.minutes,
            eval_every: self.eval_every,
            average_last: self.average_last,
            seed: self.seed,
            max_positions: self.max_positions,
            progress: true,
            resume: false,
        }
    }
}

#[derive(Args)]
pub(crate) struct TrainArgs {
    /// Data directory written by `prepare`.
    #[arg(long)]
    pub(crate) data: PathBuf,
    /// Run directory (checkpoints, metrics, model).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Continue the newest checkpoint of --out (its `config.json` must match; runs with a
    /// --minutes budget cannot be resumed: use --max-steps).
    #[arg(long)]
    pub(crate) resume: bool,
    #[command(flatten)]
    pub(crate) options: TrainOptions,
    #[command(flatten)]
    pub(crate) device: DeviceArgs,
}

#[derive(Args, Clone)]
pub(crate) struct DecodeArgs {
    /// Beam size (1 = greedy).
    #[arg(long, default_value_t = 5)]
    pub(crate) beam: usize,
    /// Length penalty exponent.
    #[arg(long, default_value_t = 1.0)]
    pub(crate) lenpen: f64,
    /// Sentences decoded together.
    #[arg(long, default_value_t = 32)]
    pub(crate) batch_size: usize,
    /// Parameters to load: default (averaged, else last), best, last, averaged, or a file.
    #[arg(long, default_value = "default")]
    pub(crate) checkpoint: String,
    #[command(flatten)]
    pub(crate) device: DeviceArgs,
}

impl DecodeArgs {
    pub(crate) fn options(&self) -> DecodeOptions {
        DecodeOptions {
            beam: self.beam,
            lenpen: self.lenpen,
            batch_size: self.batch_size,
            ..DecodeOptions::default()
        }
    }

    pub(crate) fn load(&self, run: &Path) -> Result<Translator> {
        let device = parse_device(&self.device)?;
        Translator::load(run, &Checkpoint::parse(&self.checkpoint), &device)
            .with_context(|| format!("loading the model in {}", run.display()))
    }
}

#[derive(Args)]
pub(crate) struct TranslateArgs {
    /// Run directory written by `train`.
    #[arg(long)]
    pub(crate) model: PathBuf,
    /// Source sentences, one per line; stdin when absent (translated as lines arrive, a batch
    /// at a time).
    #[arg(long)]
    pub(crate) input: Option<PathBuf>,
    /// Output file; stdout when absent.
    #[arg(long)]
    pub(crate) output: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) decode: DecodeArgs,
}

#[derive(Args)]
pub(crate) struct BleuArgs {
    /// Reference file, one segment per line.
    #[arg(long)]
    pub(crate) r#ref: PathBuf,
    /// Hypothesis file, one segment per line.
    #[arg(long)]
    pub(crate) hyp: PathBuf,
    /// sacrebleu (sacreBLEU's BLEU), compound-split (fairseq's `compound_split_bleu.sh` on
    /// tokenised text: hyphens split, plain BLEU-4; the paper's metric), fairseq (the same
    /// BLEU-4 without the splitting, for files the script already split, such as the official
    /// `.sys`/`.ref` outputs) or chrf (sacreBLEU's chrF).
    #[arg(long, default_value = "sacrebleu")]
    pub(crate) metric: Metric,
    /// Tokenizer applied first: 13a, none, intl or zh (default: 13a for sacrebleu, none for
    /// compound-split and fairseq, whose input is already tokenised; chrf takes none).
    #[arg(long)]
    pub(crate) tokenize: Option<String>,
    /// Lowercase before scoring.
    #[arg(long)]
    pub(crate) lowercase: bool,
    /// Print one JSON object (the score on the 0-100 scale with its statistics).
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Args)]
pub(crate) struct CalibrateArgs {
    /// Run directory written by `train`.
    #[arg(long)]
    pub(crate) model: PathBuf,
    /// Source sentences.
    #[arg(long)]
    pub(crate) src: PathBuf,
    /// Reference translations.
    #[arg(long)]
    pub(crate) r#ref: PathBuf,
    /// Write the inference reliability diagram here (SVG).
    #[arg(long)]
    pub(crate) svg: Option<PathBuf>,
    /// Write the training-time (teacher-forced) reliability diagram here (SVG).
    #[arg(long)]
    pub(crate) training_svg: Option<PathBuf>,
    /// Write the translations here.
    #[arg(long)]
    pub(crate) hyp_out: Option<PathBuf>,
    /// Print the full report as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) decode: DecodeArgs,
}

#[derive(Args)]
pub(crate) struct AverageArgs {
    /// Output parameter file.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Parameter files or checkpoint directories (holding model.safetensors).
    #[arg(required = true)]
    pub(crate) inputs: Vec<PathBuf>,
}

#[derive(Args)]
pub(crate) struct ExperimentArgs {
    /// Source language code.
    #[arg(long, default_value = "de")]
    pub(crate) src_lang: String,
    /// Target language code.
    #[arg(long, default_value = "en")]
    pub(crate) tgt_lang: String,
    /// Corpus directory holding `TRAIN.LANG`, `VALID.LANG`, `TEST.LANG`.
    #[arg(long)]
    pub(crate) data_dir: PathBuf,
    /// Training files name.
    #[arg(long, default_value = "train")]
    pub(crate) train_name: String,
    /// Validation files name.
    #[arg(long, default_value = "val")]
    pub(crate) valid_name: String,
    /// Test files name.
    #[arg(long, default_value = "test_2016_flickr")]
    pub(crate) test_name: String,
    /// Score only the first N test pairs.
    #[arg(long)]
    pub(crate) max_test: Option<usize>,
    /// Joint BPE vocabulary size.
    #[arg(long, default_value_t = 8000)]
    pub(crate) vocab_size: usize,
    #[command(flatten)]
    pub(crate) thresholds: ThresholdArgs,
    /// Losses compared, in order (the first one's time budget fixes the steps of all).
    #[arg(long, value_delimiter = ',', default_value = "ls,mls")]
    pub(crate) losses: Vec<LossKind>,
    #[command(flatten)]
    pub(crate) options: TrainOptions,
    /// Beam size.
    #[arg(long, default_value_t = 5)]
    pub(crate) beam: usize,
    /// Markdown report.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Working directory for the data and runs.
    #[arg(long, default_value = "target/mls-nmt-experiment")]
    pub(crate) work: PathBuf,
    #[command(flatten)]
    pub(crate) device: DeviceArgs,
}
