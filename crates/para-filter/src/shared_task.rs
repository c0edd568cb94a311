//! The shared task in miniature (issue: "evaluated the way the shared task does"): Multi30k
//! en–de training lines play both the clean data the participants get and, noised, the crawled
//! corpus to filter; each filtering condition selects a budget of English words by the
//! organisers' rule, an NMT system is trained on each selection (`mls-nmt`, run by `cargo xtask
//! results --only para-filter-nmt`), and BLEU on the Multi30k test set ranks the conditions.
//!
//! [`prepare`] writes one directory per condition under the work directory
//! (`train.de` / `train.en` line-aligned, `selection.json`) and `conditions.txt`; after the NMT
//! runs have written `<condition>/bleu.json` (`mls-nmt bleu --json`), [`report`] renders the
//! Markdown table.
//!
//! Splits: clean data = Multi30k train lines 1..`clean`; the corpus = the next `corpus` lines,
//! deduplicated against the clean English, of which `rate` are noised (seeded). The test set
//! (`test_2016_flickr`) and the validation set (`val`, used by the NMT runs to select
//! checkpoints) are separate files of the release.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burnlp_core::burn::tensor::Device;
use burnlp_core::data::check_disjoint;
use burnlp_core::data::overlap::dedup_against;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::classifier::{ClassifierScorer, train_fresh_scorer, z_mean};
use crate::corpus::{Pair, read_line_aligned, read_lines};
use crate::error::{ParaFilterError, Result};
use crate::ibm1::{Ibm1Config, Ibm1Model};
use crate::margin::{MarginConfig, MarginScorer};
use crate::noise::{Label, NoiseConfig, inject};
use crate::rules::{RuleConfig, RuleSet};
use crate::score::{BatchScorer, score_pairs};
use crate::select::{english_words, select};

/// Corpus lines whose scores calibrate the ensemble's z-normalisation.
const CALIBRATION: usize = 500;

/// Sizes, seeds and scorers of the miniature shared task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SharedTaskConfig {
    /// The shared folder (holding `datasets/multi30k`).
    pub shared: PathBuf,
    /// The work directory (one sub-directory per condition).
    pub work: PathBuf,
    /// Encoder of the margin and classifier scorers (an E5S1 file or HF directory); without
    /// one the margin condition is left out and the classifier uses a tiny random BERT.
    pub encoder: Option<String>,
    /// Multi30k train lines given as clean data (Model 1, classifier).
    pub clean: usize,
    /// Multi30k train lines after them that form the noisy corpus.
    pub corpus: usize,
    /// Fraction of corpus lines noised.
    pub rate: f64,
    /// Budget as a fraction of the corpus's English words.
    pub budget_fraction: f64,
    /// Clean pairs the classifier is trained on (the first of the clean lines).
    pub classifier_pairs: usize,
    /// Classifier fine-tuning epochs.
    pub classifier_epochs: usize,
    /// Seeds of the classifier runs (the ensemble averages them; the first is the single
    /// classifier condition).
    pub classifier_seeds: Vec<u64>,
    /// Seed of the noise and of the random condition.
    pub seed: u64,
}

impl SharedTaskConfig {
    /// The defaults with a shared folder and a work directory.
    pub fn new(shared: impl Into<PathBuf>, work: impl Into<PathBuf>) -> Self {
        Self {
            shared: shared.into(),
            work: work.into(),
            encoder: None,
            clean: 9_000,
            corpus: 4_000,
            rate: 0.5,
            budget_fraction: 0.4,
            classifier_pairs: 2_000,
            classifier_epochs: 1,
            classifier_seeds: vec![1, 2],
            seed: 13,
        }
    }
}

/// What one condition selected.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ConditionSummary {
    /// The condition's directory name.
    pub name: String,
    /// What it is, for the report.
    pub description: String,
    /// Lines selected.
    pub lines: usize,
    /// English words selected.
    pub words: usize,
    /// Fraction of the selected lines that are clean (by the injection labels).
    pub clean_fraction: f64,
    /// Seconds spent scoring (training of the scorers included).
    pub seconds: f64,
}

fn write_side(path: &Path, texts: impl Iterator<Item = String>) -> Result<()> {
    let mut text = String::new();
    for t in texts {
        text.push_str(&t);
        text.push('\n');
    }
    burnlp_core::data::write_atomic(path, text.as_bytes())?;
    Ok(())
}

/// Writes a condition's selection (line-aligned `train.de` / `train.en` and `selection.json`).
fn write_condition(
    work: &Path,
    summary: &ConditionSummary,
    corpus: &[Pair],
    keep: &[bool],
) -> Result<()> {
    let dir = work.join(&summary.name);
    let kept = || corpus.iter().zip(keep).filter(|(_, k)| **k).map(|(p, _)| p);
    write_side(&dir.join("train.de"), kept().map(|p| p.xx.clone()))?;
    write_side(&dir.join("train.en"), kept().map(|p| p.en.clone()))?;
    burnlp_core::data::write_json(dir.join("selection.json"), summary, true)?;
    Ok(())
}

fn summary(
    name: &str,
    description: String,
    keep: &[bool],
    labels: &[Label],
    corpus: &[Pair],
    seconds: f64,
) -> ConditionSummary {
    let lines = keep.iter().filter(|k| **k).count();
    let clean = keep
        .iter()
        .zip(labels)
        .filter(|(k, l)| **k && l.is_none())
        .count();
    let words = corpus
        .iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|(p, _)| english_words(&p.en))
        .sum();
    ConditionSummary {
        name: name.into(),
        description,
        lines,
        words,
        clean_fraction: clean as f64 / lines.max(1) as f64,
        seconds,
    }
}

fn timed_scores(pairs: &[Pair], scorer: &dyn BatchScorer) -> Result<(Vec<f64>, f64)> {
    let started = Instant::now();
    let scores = score_pairs(pairs, scorer, None, 64)?;
    Ok((scores, started.elapsed().as_secs_f64()))
}

/// Builds the corpus, scores it under every condition, selects the budget and writes each
/// condition's training data; returns the summaries (also in `<work>/conditions.json`, names
/// one per line in `<work>/conditions.txt`).
pub fn prepare(config: &SharedTaskConfig, device: &Device) -> Result<Vec<ConditionSummary>> {
    let dir = config.shared.join("datasets/multi30k");
    let all = read_line_aligned(dir.join("train.en"), dir.join("train.de"))?;
    let french = read_lines(dir.join("train.fr"))?;
    if config.clean + config.corpus > all.len() {
        return Err(ParaFilterError::invalid(
            "shared task sizes",
            format!(
                "{} clean + {} corpus lines exceed Multi30k's {}",
                config.clean,
                config.corpus,
                all.len()
            ),
        ));
    }
    let clean = &all[..config.clean];
    let english = |p: &[Pair]| p.iter().map(|p| p.en.clone()).collect::<Vec<_>>();
    let raw = dedup_against(
        all[config.clean..config.clean + config.corpus].to_vec(),
        english(clean),
        |p| p.en.clone(),
    );
    check_disjoint("shared task clean/corpus", &english(clean), &english(&raw))?;
    // Wrong-language lines: French captions from the end of train.fr (other images).
    let other = &french[french.len() - config.corpus..];
    let noise = NoiseConfig {
        rate: config.rate,
        seed: config.seed,
        ..NoiseConfig::default()
    };
    let (corpus, labels): (Vec<Pair>, Vec<Label>) =
        inject(&raw, other, &noise)?.into_iter().unzip();
    let words: Vec<usize> = corpus.iter().map(|p| english_words(&p.en)).collect();
    let budget = (words.iter().sum::<usize>() as f64 * config.budget_fraction).round() as usize;
    tracing::info!(lines = corpus.len(), budget, "shared task corpus");

    let mut rules = RuleSet::new(RuleConfig {
        xx_lang: "deu".into(),
        ..RuleConfig::default()
    })?;
    let broken: Vec<f64> = corpus
        .iter()
        .map(|p| f64::from(rules.check(p).count()))
        .collect();
    let minus_rules =
        |scores: &[f64]| -> Vec<f64> { scores.iter().zip(&broken).map(|(s, b)| s - b).collect() };

    let mut conditions: Vec<(String, String, Vec<f64>, f64)> = Vec::new();
    let mut rng = StdRng::seed_from_u64(config.seed);
    let random: Vec<f64> = corpus.iter().map(|_| rng.random::<f64>()).collect();
    conditions.push((
        "random".into(),
        format!("random scores (seed {})", config.seed),
        random,
        0.0,
    ));
    let oracle: Vec<f64> = labels
        .iter()
        .map(|l| f64::from(u8::from(l.is_none())))
        .collect();
    conditions.push((
        "oracle".into(),
        "oracle: clean lines first (injection labels), line order among them".into(),
        oracle,
        0.0,
    ));
    let started = Instant::now();
    let ibm1 = Ibm1Model::train(clean, &Ibm1Config::default())?;
    let (ibm1_scores, ibm1_seconds) = timed_scores(&corpus, &ibm1)?;
    let ibm1_seconds = ibm1_seconds + started.elapsed().as_secs_f64();
    conditions.push((
        "ibm1-rules".into(),
        "IBM Model 1, −5 per broken rule".into(),
        ibm1_scores
            .iter()
            .zip(&broken)
            .map(|(s, b)| s - 5.0 * b)
            .collect(),
        ibm1_seconds,
    ));
    let mut margin = None;
    if let Some(reference) = &config.encoder {
        let scorer = MarginScorer::load(reference, device, MarginConfig::default())?;
        let started = Instant::now();
        let scores = score_pairs(&corpus, &scorer, None, scorer.config.margin_batch)?;
        let seconds = started.elapsed().as_secs_f64();
        conditions.push((
            "margin".into(),
            "LASER-style ratio margin (e5-small, k = 4)".into(),
            scores.clone(),
            seconds,
        ));
        margin = Some((scores, seconds));
    }

    // Classifier runs, one per seed.
    let mut runs = Vec::new();
    let mut classifier_seconds = 0.0;
    for &seed in &config.classifier_seeds {
        let started = Instant::now();
        let run = config.work.join(format!("scorer-seed{seed}"));
        let pairs = &clean[..config.classifier_pairs.min(clean.len())];
        train_fresh_scorer(
            pairs,
            &french[..pairs.len()],
            config.encoder.as_deref(),
            config.classifier_epochs,
            seed,
            &run,
        )?;
        classifier_seconds += started.elapsed().as_secs_f64();
        runs.push(run);
    }
    if !runs.is_empty() {
        // Each run scores the corpus once; the ensemble combines the stored scores.
        let mut run_scores = Vec::new();
        let mut scoring_seconds = 0.0;
        for run in &runs {
            let scorer = ClassifierScorer::load(run, device)?;
            let (scores, seconds) = timed_scores(&corpus, &scorer)?;
            scoring_seconds += seconds;
            run_scores.push(scores);
        }
        let per_run = (classifier_seconds + scoring_seconds) / runs.len() as f64;
        conditions.push((
            "classifier".into(),
            format!("classifier (seed {}), P(clean)", config.classifier_seeds[0]),
            run_scores[0].clone(),
            per_run,
        ));
        let mean_probability: Vec<f64> = (0..corpus.len())
            .map(|i| run_scores.iter().map(|s| s[i]).sum::<f64>() / run_scores.len() as f64)
            .collect();
        let mut members: Vec<&[f64]> = vec![&mean_probability, &ibm1_scores];
        let mut named = format!("{} classifier runs, IBM1", runs.len());
        let mut seconds = classifier_seconds + scoring_seconds + ibm1_seconds;
        if let Some((scores, margin_seconds)) = &margin {
            members.push(scores);
            named.push_str(", margin");
            seconds += margin_seconds;
        }
        conditions.push((
            "ensemble-rules".into(),
            format!(
                "ensemble ({named}; z-normalised on the first {CALIBRATION} lines), −1 per broken rule"
            ),
            minus_rules(&z_mean(&members, CALIBRATION)),
            seconds,
        ));
    }

    let mut summaries = Vec::new();
    let all_lines = vec![true; corpus.len()];
    let none = summary(
        "none",
        "no filtering: the whole noisy corpus".into(),
        &all_lines,
        &labels,
        &corpus,
        0.0,
    );
    write_condition(&config.work, &none, &corpus, &all_lines)?;
    summaries.push(none);
    for (name, description, scores, seconds) in conditions {
        let selection = select(&scores, &words, budget)?;
        let s = summary(
            &name,
            description,
            &selection.selected,
            &labels,
            &corpus,
            seconds,
        );
        write_condition(&config.work, &s, &corpus, &selection.selected)?;
        summaries.push(s);
    }
    let names: Vec<&str> = summaries.iter().map(|s| s.name.as_str()).collect();
    burnlp_core::data::write_atomic(
        config.work.join("conditions.txt"),
        format!("{}\n", names.join("\n")).as_bytes(),
    )?;
    burnlp_core::data::write_json(
        config.work.join("conditions.json"),
        &serde_json::json!({
            "config": config,
            "clean_lines": clean.len(),
            "corpus_lines": corpus.len(),
            "noised": labels.iter().filter(|l| l.is_some()).count(),
            "budget_words": budget,
            "conditions": summaries,
        }),
        true,
    )?;
    Ok(summaries)
}

/// BLEU of one condition's NMT system, as `mls-nmt bleu --json` writes it.
#[derive(Debug, Clone, Deserialize)]
struct BleuFile {
    bleu: f64,
}

/// Renders the Markdown report from `<work>/conditions.json` and each condition's
/// `bleu.json`; a condition without BLEU is shown as not run.
pub fn report(work: &Path, nmt_settings: &str) -> Result<String> {
    let meta: serde_json::Value =
        burnlp_core::data::read_json_document(work.join("conditions.json"))?;
    let conditions: Vec<ConditionSummary> = serde_json::from_value(meta["conditions"].clone())
        .map_err(|e| {
            ParaFilterError::invalid(
                format!("{}", work.join("conditions.json").display()),
                e.to_string(),
            )
        })?;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## The shared task in miniature: filtering → NMT → BLEU\n"
    );
    let _ = writeln!(
        md,
        "Clean data: Multi30k train lines 1–{clean} (Model 1 and classifier training). Corpus: the \
         next {corpus} lines (deduplicated against the clean English), {noised} of them noised \
         (seed {seed}, the eight noise types in turn). Budget: {budget} English words \
         ({fraction:.0} % of the corpus's). Each selection trains an `mls-nmt` de→en system \
         ({nmt_settings}); BLEU is sacreBLEU on the 1000 lines of `test_2016_flickr`.\n",
        clean = meta["clean_lines"],
        corpus = meta["corpus_lines"],
        noised = meta["noised"],
        seed = meta["config"]["seed"],
        budget = meta["budget_words"],
        fraction = 100.0
            * meta["config"]["budget_fraction"]
                .as_f64()
                .unwrap_or(f64::NAN),
    );
    let _ = writeln!(
        md,
        "| condition | lines | English words | clean share | scoring seconds | BLEU |\n|---|---:|---:|---:|---:|---:|"
    );
    for c in &conditions {
        let bleu_path = work.join(&c.name).join("bleu.json");
        let bleu = match std::fs::read_to_string(&bleu_path) {
            Ok(text) => match serde_json::from_str::<BleuFile>(&text) {
                Ok(b) => format!("{:.2}", b.bleu),
                Err(e) => {
                    return Err(ParaFilterError::invalid(
                        bleu_path.display().to_string(),
                        e.to_string(),
                    ));
                }
            },
            Err(_) => "not run".into(),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.3} | {:.0} | {bleu} |",
            c.description, c.lines, c.words, c.clean_fraction, c.seconds
        );
    }
    Ok(md)
}
