//! The `cargo xtask results` suite: ESD and the token-level prototypical baseline (ProtoBERT)
//! trained on SNIPS episodes of four intents and tested on episodes of three held-out intents,
//! and trained on Few-NERD episodes (5-way 1~2-shot and 10-way 5~10-shot) from a part of the
//! shared INTER episodes disjoint from the dev and test parts; writes `docs/results/fssl-span.md`.
//!
//! Few-NERD parts: the shared file holds 300 official INTER 5-way 1~2-shot dev episodes whose
//! sentences repeat across episodes (all 300 episodes form one component of shared sentences),
//! so a split by line alone is not disjoint. The first `--fewnerd-test-lines` episodes are the
//! test part (official episodes, verbatim); the sentences of the next `--fewnerd-dev-lines`
//! episodes minus the test sentences are the dev part, and the sentences of the remaining
//! episodes minus the test and dev sentences are the training part. Training and dev episodes
//! (both settings) and the 10-way 5~10-shot test episodes are sampled from their part's
//! sentences with the greedy Few-NERD sampler; every split is checked with
//! [`check_disjoint`].

use std::path::PathBuf;
use std::time::Instant;

use burnlp_core::cli::{DeviceArgs, EncoderArgs};
use burnlp_core::data::{SplitSizes, check_disjoint};
use burnlp_core::train::Metrics;

use crate::data::{Episode, episode_sentences, write_fewnerd};
use crate::error::{FsslError, Result};
use crate::model::Architecture;
use crate::run::{Run, load_episodes};
use crate::sample::{Corpus, SamplerConfig, corpus_from_episodes, read_bio_dir, sample_episodes};
use crate::train::{F1Kind, TrainConfig, train};

/// SNIPS intents used for training and held out for testing.
pub const SNIPS_TRAIN: [&str; 4] = ["AddToPlaylist", "BookRestaurant", "GetWeather", "PlayMusic"];
/// SNIPS intents of the test episodes.
pub const SNIPS_TEST: [&str; 3] = ["RateBook", "SearchCreativeWork", "SearchScreeningEvent"];

/// Dev episodes sampled from the SNIPS valid split for model selection.
const DEV_EPISODES: usize = 20;

/// Settings of the results suite.
#[derive(clap::Args, Debug, Clone)]
pub struct ExperimentConfig {
    /// Markdown report to write.
    #[arg(long, default_value = "docs/results/fssl-span.md")]
    pub out: PathBuf,
    /// Working directory for episodes and runs.
    #[arg(long, default_value = "target/burnlp/experiment/fssl-span")]
    pub work: PathBuf,
    /// Shared data directory (holding `datasets/` and `models/`).
    #[arg(long, default_value = "../shared")]
    pub shared: PathBuf,
    /// The encoder (any `--encoder` reference of `train`) [default: SHARED/models/all-minilm-l6-v2].
    #[arg(long)]
    pub encoder: Option<String>,
    /// Training episodes sampled from the SNIPS training intents.
    #[arg(long, default_value_t = 400, value_parser = burnlp_core::cli::positive)]
    pub train_episodes: usize,
    /// Optimizer steps per SNIPS model.
    #[arg(long, default_value_t = 300, value_parser = burnlp_core::cli::positive)]
    pub steps: usize,
    /// SNIPS test episodes of the held-out intents.
    #[arg(long, default_value_t = 100, value_parser = burnlp_core::cli::positive)]
    pub eval_episodes: usize,
    /// Few-NERD test part: the first N official episodes of the shared file.
    #[arg(long, default_value_t = 60, value_parser = burnlp_core::cli::positive)]
    pub fewnerd_test_lines: usize,
    /// Few-NERD dev part: the sentences of the next N episodes (minus test sentences).
    #[arg(long, default_value_t = 30, value_parser = burnlp_core::cli::positive)]
    pub fewnerd_dev_lines: usize,
    /// Few-NERD training episodes sampled per setting from the training part.
    #[arg(long, default_value_t = 200, value_parser = burnlp_core::cli::positive)]
    pub fewnerd_train_episodes: usize,
    /// Few-NERD dev (model selection) episodes sampled per setting from the dev part.
    #[arg(long, default_value_t = 8, value_parser = burnlp_core::cli::positive)]
    pub fewnerd_dev_episodes: usize,
    /// Optimizer steps per Few-NERD model.
    #[arg(long, default_value_t = 100, value_parser = burnlp_core::cli::positive)]
    pub fewnerd_steps: usize,
    /// 10-way 5~10-shot test episodes sampled from the test part.
    #[arg(long, default_value_t = 6, value_parser = burnlp_core::cli::positive)]
    pub ten_way_test_episodes: usize,
    /// Query mentions per type (Q~2Q) of the sampled 10-way dev and test episodes (Few-NERD: 5).
    #[arg(long, default_value_t = 1, value_parser = burnlp_core::cli::positive)]
    pub ten_way_query_shot: usize,
    /// O spans kept per training sentence in 10-way 5~10-shot training (reference: 120; the
    /// default 30 keeps a CPU step affordable).
    #[arg(long, default_value_t = 30, value_parser = burnlp_core::cli::positive)]
    pub ten_way_max_o_spans: usize,
    /// Query sentences per training chunk in 10-way 5~10-shot training (reference: 20; the
    /// default 5 keeps a CPU step affordable).
    #[arg(long, default_value_t = 5, value_parser = burnlp_core::cli::positive)]
    pub ten_way_query_chunk: usize,
    /// Optimizer steps per 10-way 5~10-shot model.
    #[arg(long, default_value_t = 30, value_parser = burnlp_core::cli::positive)]
    pub ten_way_steps: usize,
    /// 10-way 5~10-shot dev (model selection) episodes sampled from the dev part.
    #[arg(long, default_value_t = 3, value_parser = burnlp_core::cli::positive)]
    pub ten_way_dev_episodes: usize,
    /// Training seeds per model: `seed`, `seed + 1`, … (the data are sampled with `seed`).
    #[arg(long, default_value_t = 1, value_parser = burnlp_core::cli::positive)]
    pub seeds: usize,
    /// Settings to run (comma-separated): snips, fewnerd-5-1, fewnerd-10-5.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "snips,fewnerd-5-1,fewnerd-10-5"
    )]
    pub suites: Vec<Suite>,
    /// Seed of the first training run (and of the episode sampling unless `--data-seed`).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Seed of the episode sampling [default: `--seed`].
    #[arg(long)]
    pub data_seed: Option<u64>,
    /// Where the models train and run.
    #[command(flatten)]
    pub device: DeviceArgs,
}

/// One training setting of the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Suite {
    /// SNIPS 5-way 1~2-shot, held-out intents.
    Snips,
    /// Few-NERD INTER 5-way 1~2-shot.
    #[value(name = "fewnerd-5-1")]
    FewNerd5x1,
    /// Few-NERD 10-way 5~10-shot.
    #[value(name = "fewnerd-10-5")]
    FewNerd10x5,
}

impl ExperimentConfig {
    fn encoder(&self) -> EncoderArgs {
        match &self.encoder {
            Some(reference) => EncoderArgs::from(reference.as_str()),
            None => EncoderArgs::from(
                self.shared
                    .join("models/all-minilm-l6-v2")
                    .display()
                    .to_string()
                    .as_str(),
            ),
        }
    }
}

/// A test set of a setting.
struct TestSet {
    name: String,
    episodes: Vec<Episode>,
    f1: F1Kind,
}

/// A training setting: its episodes and training settings.
struct Setting {
    name: &'static str,
    train: Vec<Episode>,
    dev: Vec<Episode>,
    tests: Vec<TestSet>,
    f1: F1Kind,
    steps: usize,
    max_o_spans: usize,
    query_chunk: Option<usize>,
    /// Lines of the report describing the data and the split sizes.
    notes: Vec<String>,
}

fn texts(episodes: &[Episode]) -> Vec<String> {
    episode_sentences(episodes)
        .map(|s| s.words.join(" "))
        .collect()
}

fn query_texts(episodes: &[Episode]) -> Vec<String> {
    episodes
        .iter()
        .flat_map(|e| &e.query)
        .map(|s| s.words.join(" "))
        .collect()
}

fn write_episodes(config: &ExperimentConfig, name: &str, episodes: &[Episode]) -> Result<()> {
    Ok(write_fewnerd(config.work.join(name), episodes)?)
}

fn snips_setting(config: &ExperimentConfig) -> Result<Setting> {
    let snips = config.shared.join("datasets/snips");
    let sample = |dir: &str, domains: &[&str], episodes, seed| -> Result<Vec<Episode>> {
        let domains: Vec<String> = domains.iter().map(|s| s.to_string()).collect();
        let corpus = read_bio_dir(snips.join(dir), Some(&domains))?;
        let sampler = SamplerConfig {
            n_way: 5,
            k_shot: 1,
            q_shot: 1,
            episodes,
            seed,
            relabel_other_types: true,
        };
        Ok(sample_episodes(&corpus, &sampler)?)
    };
    let seed = config.data_seed.unwrap_or(config.seed);
    let train = sample("train", &SNIPS_TRAIN, config.train_episodes, seed)?;
    let dev = sample("valid", &SNIPS_TRAIN, DEV_EPISODES, seed + 1)?;
    let test = sample("train", &SNIPS_TEST, config.eval_episodes, seed + 2)?;
    let seen: Vec<String> = texts(&train).into_iter().chain(texts(&dev)).collect();
    let sizes = check_disjoint(
        "fssl-span experiment SNIPS train+dev/test",
        &seen,
        &texts(&test),
    )?;
    write_episodes(config, "snips_train_5_1.jsonl", &train)?;
    write_episodes(config, "snips_test_5_1.jsonl", &test)?;
    let notes = vec![format!(
        "SNIPS: {} training episodes sampled (greedy Few-NERD sampler, other slot types \
         relabelled O) from the training split of the intents {}; model selection on {} \
         episodes of the same intents from the valid split; test: {} episodes of the held-out \
         intents {} (SNIPS train split). Sentences: {} train+dev, {} test, none shared.",
        train.len(),
        SNIPS_TRAIN.join(", "),
        dev.len(),
        test.len(),
        SNIPS_TEST.join(", "),
        sizes.train,
        sizes.eval,
    )];
    Ok(Setting {
        name: "SNIPS 5-way 1~2-shot",
        train,
        dev,
        tests: vec![TestSet {
            name: "SNIPS held-out intents".into(),
            episodes: test,
            f1: F1Kind::Episode,
        }],
        f1: F1Kind::Episode,
        steps: config.steps,
        max_o_spans: 1000,
        query_chunk: None,
        notes,
    })
}

/// The three disjoint Few-NERD parts.
struct FewNerdParts {
    /// The official episodes of the test part.
    test: Vec<Episode>,
    test_corpus: Corpus,
    dev_corpus: Corpus,
    train_corpus: Corpus,
}

fn no_episodes(what: &str) -> FsslError {
    FsslError::NoEpisodes { what: what.into() }
}

fn fewnerd_parts(config: &ExperimentConfig) -> Result<FewNerdParts> {
    let all = load_episodes(
        &config
            .shared
            .join("datasets/fewnerd/inter_dev_5_1_sample.jsonl"),
    )?;
    let t = config.fewnerd_test_lines.min(all.len());
    let d = (t + config.fewnerd_dev_lines).min(all.len());
    let test = all[..t].to_vec();
    let test_texts = texts(&test);
    let test_corpus = corpus_from_episodes(&test, std::iter::empty::<&str>())
        .ok_or_else(|| no_episodes("the Few-NERD test part"))?;
    let dev_corpus = corpus_from_episodes(&all[t..d], &test_texts)
        .ok_or_else(|| no_episodes("the Few-NERD dev part"))?;
    let dev_texts: Vec<String> = dev_corpus
        .sentences
        .iter()
        .map(|s| s.words.join(" "))
        .collect();
    let train_corpus = corpus_from_episodes(
        &all[d..],
        test_texts.iter().chain(&dev_texts).map(String::as_str),
    )
    .ok_or_else(|| no_episodes("the Few-NERD training part"))?;
    Ok(FewNerdParts {
        test,
        test_corpus,
        dev_corpus,
        train_corpus,
    })
}

fn sample_part(
    corpus: &Corpus,
    n_way: usize,
    k: usize,
    q: usize,
    n: usize,
    seed: u64,
) -> Result<Vec<Episode>> {
    let sampler = SamplerConfig {
        n_way,
        k_shot: k,
        q_shot: q,
        episodes: n,
        seed,
        relabel_other_types: false,
    };
    Ok(sample_episodes(corpus, &sampler)?)
}

/// Checks train / dev / test disjointness of a Few-NERD setting (every sentence of the
/// training episodes against every dev and test sentence, dev against test).
fn check_fewnerd(
    name: &str,
    train: &[Episode],
    dev: &[Episode],
    test: &[Episode],
) -> Result<(SplitSizes, SplitSizes)> {
    let dev_test: Vec<String> = texts(dev).into_iter().chain(texts(test)).collect();
    let a = check_disjoint(
        &format!("fssl-span experiment {name} train/dev+test"),
        &texts(train),
        &dev_test,
    )?;
    let b = check_disjoint(
        &format!("fssl-span experiment {name} dev/test"),
        &texts(dev),
        &texts(test),
    )?;
    // The evaluated items proper: test query sentences against train and dev.
    let seen: Vec<String> = texts(train).into_iter().chain(texts(dev)).collect();
    check_disjoint(
        &format!("fssl-span experiment {name} test queries"),
        &seen,
        &query_texts(test),
    )?;
    Ok((a, b))
}

fn distinct(texts: Vec<String>) -> usize {
    texts
        .iter()
        .map(|t| burnlp_core::data::overlap::normalise(t))
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

fn fewnerd_settings(config: &ExperimentConfig, parts: &FewNerdParts) -> Result<Vec<Setting>> {
    let seed = config.data_seed.unwrap_or(config.seed);
    let mut out = Vec::new();
    let part_note = format!(
        "Few-NERD parts (`inter_dev_5_1_sample.jsonl`, 300 official INTER 5-way 1~2-shot dev \
         episodes; its episodes share sentences, so the parts are made disjoint by sentence): \
         test = official episodes 1–{t} ({} distinct sentences); dev = the sentences of \
         episodes {}–{} not in the test part ({} sentences); train = the sentences of episodes \
         {}–300 in neither ({} sentences). All parts draw on the same 13 fine-grained types \
         (the file's types), so test types are not new types, unlike the paper's INTER split.",
        parts.test_corpus.sentences.len(),
        config.fewnerd_test_lines + 1,
        config.fewnerd_test_lines + config.fewnerd_dev_lines,
        parts.dev_corpus.sentences.len(),
        config.fewnerd_test_lines + config.fewnerd_dev_lines + 1,
        parts.train_corpus.sentences.len(),
        t = config.fewnerd_test_lines,
    );
    if config.suites.contains(&Suite::FewNerd5x1) {
        let train = sample_part(
            &parts.train_corpus,
            5,
            1,
            1,
            config.fewnerd_train_episodes,
            seed,
        )?;
        let dev = sample_part(
            &parts.dev_corpus,
            5,
            1,
            1,
            config.fewnerd_dev_episodes,
            seed + 1,
        )?;
        let test = parts.test.clone();
        let (a, b) = check_fewnerd("Few-NERD 5-way", &train, &dev, &test)?;
        write_episodes(config, "fewnerd_train_5_1.jsonl", &train)?;
        write_episodes(config, "fewnerd_dev_5_1.jsonl", &dev)?;
        write_episodes(config, "fewnerd_test_5_1.jsonl", &test)?;
        out.push(Setting {
            name: "Few-NERD 5-way 1~2-shot",
            notes: vec![
                part_note.clone(),
                format!(
                    "Few-NERD 5-way 1~2-shot: {} training episodes and {} dev episodes sampled \
                     (greedy Few-NERD sampler) from the training and dev parts; test: the {} \
                     official episodes of the test part. Sentences: {} train ({} distinct), {} \
                     dev+test; {} dev, {} test; none shared (core's `check_disjoint`, also for \
                     the test query sentences).",
                    train.len(),
                    dev.len(),
                    test.len(),
                    a.train,
                    distinct(texts(&train)),
                    a.eval,
                    b.train,
                    b.eval,
                ),
            ],
            train,
            dev,
            tests: vec![TestSet {
                name: "Few-NERD test part, official episodes".into(),
                episodes: test,
                f1: F1Kind::Micro,
            }],
            f1: F1Kind::Micro,
            steps: config.fewnerd_steps,
            max_o_spans: 1000,
            query_chunk: None,
        });
    }
    if config.suites.contains(&Suite::FewNerd10x5) {
        let q = config.ten_way_query_shot;
        let train = sample_part(
            &parts.train_corpus,
            10,
            5,
            5,
            config.fewnerd_train_episodes,
            seed,
        )?;
        let dev = sample_part(
            &parts.dev_corpus,
            10,
            5,
            q,
            config.ten_way_dev_episodes,
            seed + 1,
        )?;
        let test = sample_part(
            &parts.test_corpus,
            10,
            5,
            q,
            config.ten_way_test_episodes,
            seed + 2,
        )?;
        let (a, b) = check_fewnerd("Few-NERD 10-way", &train, &dev, &test)?;
        write_episodes(config, "fewnerd_train_10_5.jsonl", &train)?;
        write_episodes(config, "fewnerd_dev_10_5.jsonl", &dev)?;
        write_episodes(config, "fewnerd_test_10_5.jsonl", &test)?;
        let notes = vec![format!(
            "Few-NERD 10-way 5~10-shot: no official episodes here, so all of them are sampled \
             with the greedy Few-NERD sampler (`fssl-span episodes --from episodes`): {} \
             training episodes (query 5~10 mentions per type) from the training part, {} dev \
             episodes from the dev part and {} test episodes from the test part's sentences \
             (dev and test queries {q}~{} mentions per type, to keep ESD's CPU inference \
             affordable). Training: queries in chunks of {} sentences, at most {} O spans per \
             sentence (the reference uses `eposide_tasks` 20 and `max_o_num` 120; smaller here for \
             the CPU budget). Sentences (with repeats across episodes): {} \
             train, {} dev+test; {} dev, {} test; none shared.",
            train.len(),
            dev.len(),
            test.len(),
            2 * q,
            config.ten_way_query_chunk,
            config.ten_way_max_o_spans,
            a.train,
            a.eval,
            b.train,
            b.eval,
        )];
        let mut notes = notes;
        if !config.suites.contains(&Suite::FewNerd5x1) {
            notes.insert(0, part_note);
        }
        out.push(Setting {
            name: "Few-NERD 10-way 5~10-shot",
            train,
            dev,
            tests: vec![TestSet {
                name: "Few-NERD test part, sampled episodes".into(),
                episodes: test,
                f1: F1Kind::Micro,
            }],
            f1: F1Kind::Micro,
            steps: config.ten_way_steps,
            max_o_spans: config.ten_way_max_o_spans,
            query_chunk: Some(config.ten_way_query_chunk),
            notes,
        });
    }
    Ok(out)
}

/// The scores of one trained model: per test set (main F1, other F1), and the training seconds.
struct Scores {
    tests: Vec<(f64, f64)>,
    train_s: f64,
    best_step: usize,
}

fn train_and_score(
    config: &ExperimentConfig,
    setting: &Setting,
    architecture: Architecture,
    seed: u64,
) -> Result<Scores> {
    let slug: String = setting
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let out = config.work.join(slug).join(format!(
        "{}-seed{seed}",
        format!("{architecture:?}").to_lowercase()
    ));
    let train_config = TrainConfig {
        encoder: config.encoder(),
        hidden: 100,
        max_length: 128,
        f1: Some(setting.f1),
        max_o_spans: setting.max_o_spans,
        query_chunk: setting.query_chunk,
        device: config.device.clone(),
        ..TrainConfig::small(architecture, setting.steps, seed)
    };
    let origin = serde_json::json!({"setting": setting.name, "seed": seed});
    let started = Instant::now();
    let best = train(
        &train_config,
        &setting.train,
        &setting.dev,
        &out,
        &origin,
        false,
    )?;
    let train_s = started.elapsed().as_secs_f64();
    let run = Run::load(&out, &config.device.inference()?)?;
    let mut tests = Vec::new();
    for test in &setting.tests {
        let m: Metrics = run.evaluate(&test.episodes, Some(test.f1), &test.name)?;
        let other = match test.f1 {
            F1Kind::Micro => m["episode_f1"],
            F1Kind::Episode => m["micro_f1"],
        };
        tests.push((m["f1"], other));
    }
    tracing::info!(
        setting = setting.name,
        ?architecture,
        seed,
        train_s,
        "scored"
    );
    Ok(Scores {
        tests,
        train_s,
        best_step: best.step,
    })
}

/// `mean ± std` (sample standard deviation) in percent, or the mean alone for one value.
fn mean_std(values: &[f64]) -> String {
    match burnlp_core::metrics::mean_std(values) {
        Some((mean, std)) if values.len() >= 2 => {
            format!("{:.2} ± {:.2}", 100.0 * mean, 100.0 * std)
        }
        Some((mean, _)) => format!("{:.2}", 100.0 * mean),
        None => format!("{:.2}", f64::NAN),
    }
}

/// Runs the suite and writes the Markdown report to `config.out`; returns its text.
pub fn experiment(config: &ExperimentConfig) -> Result<String> {
    let started = Instant::now();
    std::fs::create_dir_all(&config.work).map_err(|source| {
        FsslError::File(burnlp_core::data::DataError::Write {
            path: config.work.clone(),
            source,
        })
    })?;
    let parts = fewnerd_parts(config)?;
    let mut settings = Vec::new();
    if config.suites.contains(&Suite::Snips) {
        settings.push(snips_setting(config)?);
    }
    settings.extend(fewnerd_settings(config, &parts)?);
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for setting in &settings {
        notes.extend(setting.notes.iter().cloned());
        for architecture in [Architecture::Esd, Architecture::Proto] {
            let name = match architecture {
                Architecture::Esd => "ESD",
                Architecture::Proto => "ProtoBERT (token-level)",
            };
            let scores: Vec<Scores> = (0..config.seeds as u64)
                .map(|i| train_and_score(config, setting, architecture, config.seed + i))
                .collect::<Result<_>>()?;
            let train_s = scores.iter().map(|s| s.train_s).sum::<f64>() / scores.len() as f64;
            let steps: Vec<String> = scores.iter().map(|s| s.best_step.to_string()).collect();
            for (t, test) in setting.tests.iter().enumerate() {
                let main: Vec<f64> = scores.iter().map(|s| s.tests[t].0).collect();
                let other: Vec<f64> = scores.iter().map(|s| s.tests[t].1).collect();
                let (micro, episode) = match test.f1 {
                    F1Kind::Micro => (mean_std(&main), mean_std(&other)),
                    F1Kind::Episode => (mean_std(&other), mean_std(&main)),
                };
                let main_name = match test.f1 {
                    F1Kind::Micro => "micro",
                    F1Kind::Episode => "episode",
                };
                rows.push(format!(
                    "| {} | {} ({} ep.) | {name} | {micro} | {episode} | {main_name} | {} | {} | {train_s:.0} |",
                    setting.name,
                    test.name,
                    test.episodes.len(),
                    scores.len(),
                    steps.join(", "),
                ));
            }
        }
    }
    let text = render(
        config,
        &settings,
        &notes,
        &rows,
        started.elapsed().as_secs_f64(),
    );
    burnlp_core::data::write_atomic(&config.out, text.as_bytes())?;
    Ok(text)
}

fn render(
    config: &ExperimentConfig,
    settings: &[Setting],
    notes: &[String],
    rows: &[String],
    total_s: f64,
) -> String {
    let steps: Vec<String> = settings
        .iter()
        .map(|s| format!("{}: {} steps", s.name, s.steps))
        .collect();
    let notes: Vec<String> = notes.iter().map(|n| format!("- {n}")).collect();
    format!(
        "# fssl-span results\n\n\
         Generated by `fssl-span experiment` ({total_s:.0} s in total; encoder `{}`; data \
         sampled with seed {}; training seeds {}–{}).\n\n\
         {}\n\n\
         Training: one episode per optimizer step ({}), head lr 1e-3, encoder lr 5e-5, 10 % \
         linear warm-up then linear decay, span size D = 100; model selection on the dev \
         episodes (evaluated at half and at the end of training), scores on the test episodes. \
         F1 in %, mean ± sample std over the training seeds; \"main\" is the F1 that selects \
         the model (Few-NERD micro over all query sentences, SNIPS mean per episode).\n\n\
         | setting | test set | model | micro F1 | episode F1 | main | seeds | best step | train s |\n\
         |---|---|---|---|---|---|---|---|---|\n{}\n",
        config.encoder().encoder,
        config.data_seed.unwrap_or(config.seed),
        config.seed,
        config.seed + config.seeds as u64 - 1,
        notes.join("\n"),
        steps.join("; "),
        rows.join("\n"),
    )
}
