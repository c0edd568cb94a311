//! Experiment 3b: S4-Tuning's few-shot cross-lingual setting on Tatoeba — language-specific
//! sub-networks against one shared sub-network, vanilla fine-tuning and the untouched encoder.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use burnlp_core::burn::module::Module;
use burnlp_core::cli;
use burnlp_core::nn::encoder::load_encoder;
use burnlp_core::train::{
    AdamWConfig, AdamWStyle, LrSchedule, ParamGroup, RunDir, Trainer, TrainerConfig,
    load_parameters,
};
use serde::{Deserialize, Serialize};

use super::mean_std;
use crate::data::read_tatoeba;
use crate::error::SubnetError;
use crate::masks::load_masks;
use crate::strategy::{Strategy, StrategyConfig};
use crate::tatoeba::{
    ContrastiveTask, EncodedPairs, LanguageSplit, PairEncoder, encode_pairs, retrieval_accuracy,
    split_language,
};

/// Settings of the Tatoeba comparison.
#[derive(clap::Args, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TatoebaConfig {
    /// Directory of the `tatoeba.<xxx>-eng.{xxx,eng}` files.
    #[arg(long, default_value = "../shared/datasets/tatoeba")]
    pub dir: PathBuf,
    /// Languages (three-letter codes of the file names).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "ara,cmn,deu,fra,hin,jpn,khm,rus,spa,vie"
    )]
    pub langs: Vec<String>,
    /// The multilingual encoder (E5S1 file, Hugging Face directory or id).
    #[arg(
        long,
        default_value = "target/models/multilingual-e5-small-q4/e5-small-q4.bin"
    )]
    pub encoder: String,
    /// Training pairs per language (K shots).
    #[arg(long, default_value_t = 32, value_parser = cli::positive)]
    pub k: usize,
    /// Dev pairs per language (selection); the rest are the test pairs.
    #[arg(long, default_value_t = 100, value_parser = cli::positive)]
    pub dev_pairs: usize,
    /// Test pairs per language (the first N of the held-out pairs; default all of them).
    #[arg(long, value_parser = cli::positive)]
    pub test_pairs: Option<usize>,
    /// Seeds of every trained setting.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
    pub seeds: Vec<u64>,
    /// Passes over the training pairs.
    #[arg(long, default_value_t = 3, value_parser = cli::positive)]
    pub epochs: usize,
    /// Learning rate of the encoder layers.
    #[arg(long, default_value_t = 2e-5, value_parser = cli::positive_f64)]
    pub lr: f64,
    /// Pairs per batch (one language per batch).
    #[arg(long, default_value_t = 16, value_parser = cli::positive)]
    pub batch_size: usize,
    /// Temperature of the contrastive loss.
    #[arg(long, default_value_t = 0.05, value_parser = cli::positive_f64)]
    pub temperature: f64,
    /// Fraction of the encoder-layer parameters in each sub-network (S4 and shared).
    #[arg(long, default_value_t = 0.3, value_parser = cli::probability)]
    pub keep: f64,
    /// Maximum tokens per sentence.
    #[arg(long, default_value_t = 64, value_parser = cli::positive)]
    pub max_length: usize,
    /// Where the runs go.
    #[arg(long, default_value = "target/burnlp/experiment/subnet-tune-tatoeba")]
    pub runs: PathBuf,
}

/// A setting of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Setting {
    /// The encoder as released.
    ZeroShot,
    /// Every parameter of the encoder layers trained.
    Vanilla,
    /// One Fisher sub-network from all languages' pairs (Child-Tuning_D on the mixture).
    Shared,
    /// One Fisher sub-network per language (S4-Tuning).
    PerLanguage,
}

impl Setting {
    fn name(self) -> &'static str {
        match self {
            Setting::ZeroShot => "zero-shot",
            Setting::Vanilla => "vanilla",
            Setting::Shared => "shared mask",
            Setting::PerLanguage => "S4 (per-language masks)",
        }
    }
}

/// The results: test accuracy per setting, language and seed, and the sub-networks' overlaps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TatoebaReport {
    /// Pairs per language: (train, dev, test).
    pub sizes: BTreeMap<String, (usize, usize, usize)>,
    /// `setting → language → accuracy per seed`.
    pub accuracy: Vec<(Setting, BTreeMap<String, Vec<f64>>)>,
    /// Jaccard overlap of every pair of languages' S4 sub-networks (first seed).
    pub overlaps: Vec<(String, String, f64)>,
}

struct Prepared {
    splits: Vec<LanguageSplit>,
    train: Vec<EncodedPairs>,
    dev: Vec<EncodedPairs>,
    test: Vec<EncodedPairs>,
    pad_id: u32,
}

fn prepare(
    config: &TatoebaConfig,
    tokenizer: &burnlp_core::tokenize::Tokenizer,
) -> Result<Prepared, SubnetError> {
    let mut prepared = Prepared {
        splits: Vec::new(),
        train: Vec::new(),
        dev: Vec::new(),
        test: Vec::new(),
        pad_id: tokenizer.special_tokens().pad.unwrap_or(1),
    };
    for lang in &config.langs {
        let pairs = read_tatoeba(&config.dir, lang)?;
        let mut split = split_language(&pairs, config.k, config.dev_pairs, 0)?;
        if let Some(n) = config.test_pairs {
            split.test.truncate(n);
        }
        prepared
            .train
            .push(encode_pairs(tokenizer, lang, &split.train)?);
        prepared
            .dev
            .push(encode_pairs(tokenizer, lang, &split.dev)?);
        prepared
            .test
            .push(encode_pairs(tokenizer, lang, &split.test)?);
        prepared.splits.push(split);
    }
    Ok(prepared)
}

/// Runs the comparison; every trained setting is selected on the dev pairs (mean accuracy
/// over languages) and reported on the test pairs.
pub fn run(config: &TatoebaConfig) -> Result<TatoebaReport, SubnetError> {
    let device = burnlp_core::device::training_device("cpu")?;
    let loaded = load_encoder(&config.encoder, &device).map_err(|e| {
        SubnetError::Setup(format!("loading the encoder `{}`: {e}", config.encoder))
    })?;
    let tokenizer = loaded
        .tokenizer
        .with_max_length(Some(config.max_length))
        .map_err(|e| SubnetError::Setup(e.to_string()))?;
    let data = prepare(config, &tokenizer)?;
    let mut base = PairEncoder {
        encoder: loaded.model,
    };
    // The embedding tables (most of a multilingual encoder's parameters) stay fixed in every
    // setting; the sub-networks are chosen among the encoder layers.
    base.encoder.embeddings = base.encoder.embeddings.no_grad();
    let test_scores = |model: &PairEncoder| -> BTreeMap<String, f64> {
        let model = model.valid();
        data.test
            .iter()
            .map(|pairs| {
                (
                    pairs.lang.clone(),
                    retrieval_accuracy(&model, pairs, data.pad_id),
                )
            })
            .collect()
    };
    // Every run's test scores are appended to `runs/results.jsonl` as soon as they exist, so an
    // interrupted comparison keeps what it measured.
    let log = config.runs.join("results.jsonl");
    let record = |setting: Setting, seed: Option<u64>, scores: &BTreeMap<String, f64>| {
        let line = serde_json::json!({"setting": setting, "seed": seed, "accuracy": scores});
        append_line(&log, &line.to_string())
    };
    let mut accuracy = Vec::new();
    let zero_scores = test_scores(&base);
    record(Setting::ZeroShot, None, &zero_scores)?;
    let zero: BTreeMap<String, Vec<f64>> =
        zero_scores.into_iter().map(|(l, a)| (l, vec![a])).collect();
    tracing::info!(?zero, "zero-shot");
    accuracy.push((Setting::ZeroShot, zero));
    let mut overlaps = Vec::new();
    for setting in [Setting::Vanilla, Setting::Shared, Setting::PerLanguage] {
        let mut per_language: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for (i, &seed) in config.seeds.iter().enumerate() {
            let dir = config.runs.join(format!(
                "{}-seed{seed}",
                setting.name().split(' ').next().unwrap_or("run")
            ));
            let model = train_one(config, &base, &data, setting, seed, &dir)?;
            let scores = test_scores(&model);
            record(setting, Some(seed), &scores)?;
            for (lang, a) in scores {
                per_language.entry(lang).or_default().push(a);
            }
            if setting == Setting::PerLanguage && i == 0 {
                let masks = load_masks(&dir)?;
                let groups: Vec<_> = masks.iter().collect();
                for (a, (la, ma)) in groups.iter().enumerate() {
                    for (lb, mb) in &groups[a + 1..] {
                        overlaps.push((la.to_string(), lb.to_string(), ma.jaccard(mb)));
                    }
                }
            }
        }
        tracing::info!(setting = setting.name(), ?per_language, "setting done");
        accuracy.push((setting, per_language));
    }
    let sizes = data
        .splits
        .iter()
        .map(|s| (s.lang.clone(), (s.train.len(), s.dev.len(), s.test.len())))
        .collect();
    Ok(TatoebaReport {
        sizes,
        accuracy,
        overlaps,
    })
}

fn append_line(path: &std::path::Path, line: &str) -> Result<(), SubnetError> {
    use std::io::Write as _;
    let failed = |e: std::io::Error| SubnetError::Record {
        path: path.to_owned(),
        record: 0,
        message: format!("cannot append ({e})"),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(failed)?;
    writeln!(file, "{line}").map_err(failed)
}

fn train_one(
    config: &TatoebaConfig,
    base: &PairEncoder,
    data: &Prepared,
    setting: Setting,
    seed: u64,
    dir: &std::path::Path,
) -> Result<PairEncoder, SubnetError> {
    let task = ContrastiveTask {
        train: data.train.clone(),
        dev: data.dev.clone(),
        batch_size: config.batch_size,
        temperature: config.temperature,
        pad_id: data.pad_id,
    };
    let steps = burnlp_core::train::TrainTask::train_batches(&task, 0, seed).len() * config.epochs;
    let mut trainer = Trainer::new(
        TrainerConfig {
            epochs: config.epochs,
            schedule: LrSchedule::Linear {
                warmup: steps / 10,
                total: steps,
            },
            metric: "accuracy".into(),
            higher_is_better: true,
            seed,
            ..TrainerConfig::default()
        },
        dir,
    );
    let strategy = StrategyConfig {
        strategy: match setting {
            Setting::Shared => Strategy::ChildD,
            Setting::PerLanguage => Strategy::S4,
            _ => Strategy::Vanilla,
        },
        p_d: config.keep,
        keep: config.keep,
        ..StrategyConfig::default()
    };
    if let Some(provider) = strategy.provider(base, &task, seed, dir)? {
        trainer = trainer.with_mask_provider(provider);
    }
    let optimizer = AdamWConfig::new(config.lr)
        .with_style(AdamWStyle::Transformers)
        .with_weight_decay(0.01)
        .with_group(
            ParamGroup::new("no-decay", &["*.bias", "*norm*", "*.beta", "*.gamma"])
                .with_weight_decay(0.0),
        );
    let experiment =
        serde_json::json!({"tatoeba": config, "setting": setting, "strategy": strategy.settings()});
    trainer.write_config(&optimizer, &experiment, false)?;
    trainer.fit(base.clone(), optimizer.init(), &task, false)?;
    let best = load_parameters(base.clone(), &RunDir::new(dir).best_model())?;
    super::prune_run(dir)?;
    Ok(best)
}

/// The Markdown tables of the comparison.
pub fn table(config: &TatoebaConfig, report: &TatoebaReport) -> String {
    let mut out = String::new();
    let langs: Vec<&String> = report.sizes.keys().collect();
    let _ = write!(out, "| setting |");
    for lang in &langs {
        let _ = write!(out, " {lang} |");
    }
    let _ = writeln!(out, " average |");
    let _ = writeln!(out, "|---|{}---:|", "---:|".repeat(langs.len()));
    for (setting, per_language) in &report.accuracy {
        let _ = write!(out, "| {} |", setting.name());
        let mut means = Vec::new();
        for lang in &langs {
            let (mean, std) = mean_std(per_language.get(*lang).map_or(&[][..], Vec::as_slice));
            means.push(mean);
            if *setting == Setting::ZeroShot {
                let _ = write!(out, " {:.1} |", 100.0 * mean);
            } else {
                let _ = write!(out, " {:.1} ± {:.1} |", 100.0 * mean, 100.0 * std);
            }
        }
        let average = means.iter().sum::<f64>() / means.len().max(1) as f64;
        let _ = writeln!(out, " {:.1} |", 100.0 * average);
    }
    let _ = writeln!(
        out,
        "\nTest accuracy (xx → en retrieval, %, mean ± std over seeds {:?}); K = {} training and \
         {} dev pairs per language (split seed 0), the remaining pairs tested: {}.\n",
        config.seeds,
        config.k,
        config.dev_pairs,
        report
            .sizes
            .iter()
            .map(|(lang, (_, _, test))| format!("{lang} {test}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !report.overlaps.is_empty() {
        let values: Vec<f64> = report.overlaps.iter().map(|o| o.2).collect();
        let (mean, std) = mean_std(&values);
        let min = report.overlaps.iter().min_by(|a, b| a.2.total_cmp(&b.2));
        let max = report.overlaps.iter().max_by(|a, b| a.2.total_cmp(&b.2));
        let _ = writeln!(
            out,
            "S4 sub-networks (keep {}): pairwise Jaccard overlap {:.3} ± {:.3} over {} language \
             pairs; lowest {:.3} ({}–{}), highest {:.3} ({}–{}).",
            config.keep,
            mean,
            std,
            values.len(),
            min.map_or(0.0, |o| o.2),
            min.map_or("", |o| o.0.as_str()),
            min.map_or("", |o| o.1.as_str()),
            max.map_or(0.0, |o| o.2),
            max.map_or("", |o| o.0.as_str()),
            max.map_or("", |o| o.1.as_str()),
        );
    }
    out
}
