//! The `cargo xtask demo` row: a tiny ESD trained on synthetic episodes, selected on dev
//! episodes and reported on test episodes, the three sampled from sentence-disjoint corpora.

use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

use burnlp_core::data::check_disjoint;
use burnlp_core::report::DemoRow;

use crate::data::{Episode, episode_sentences};
use crate::error::Result;
use crate::model::Architecture;
use crate::run::Run;
use crate::sample::{Corpus, SamplerConfig, sample_episodes};
use crate::synthetic;
use crate::train::{F1Kind, TrainConfig, train};

/// Micro F1 the demo must reach on its test episodes. Measured with dev selection (2 cores,
/// dev profile): 0.754 (seed 1, the default), 0.713 (seed 2), 0.767 (seed 3).
pub const DEMO_TARGET: f64 = 0.65;

/// Optimizer steps of the demo run.
const STEPS: usize = 800;

/// Sentences per corpus and episodes sampled from it: train, dev, test.
const SIZES: [(usize, usize); 3] = [(600, 200), (200, 40), (200, 40)];

/// The demo's episodes: 3-way 1~2-shot, no sentence of one set occurs in another.
#[derive(Debug, Clone)]
pub struct DemoSplits {
    /// Training episodes.
    pub train: Vec<Episode>,
    /// Model-selection episodes.
    pub dev: Vec<Episode>,
    /// Reported episodes.
    pub test: Vec<Episode>,
}

/// `corpus` without the sentences whose word sequence is in `seen`.
fn without(mut corpus: Corpus, seen: &HashSet<Vec<String>>) -> Corpus {
    corpus.sentences.retain(|s| !seen.contains(&s.words));
    corpus
}

/// The demo's splits for `seed`: the test corpus first, then a dev corpus and a training
/// corpus from other seeds with every sentence of the earlier corpora removed.
pub fn splits(seed: u64) -> Result<DemoSplits> {
    let sampler = |episodes, seed| SamplerConfig {
        n_way: 3,
        k_shot: 1,
        q_shot: 1,
        episodes,
        seed,
        relabel_other_types: true,
    };
    let [
        (train_n, train_episodes),
        (dev_n, dev_episodes),
        (test_n, test_episodes),
    ] = SIZES;
    let test_corpus = synthetic::corpus(test_n, seed.wrapping_add(1000));
    let mut seen: HashSet<Vec<String>> = test_corpus
        .sentences
        .iter()
        .map(|s| s.words.clone())
        .collect();
    let dev_corpus = without(synthetic::corpus(dev_n, seed.wrapping_add(2000)), &seen);
    seen.extend(dev_corpus.sentences.iter().map(|s| s.words.clone()));
    let train_corpus = without(synthetic::corpus(train_n, seed), &seen);
    Ok(DemoSplits {
        train: sample_episodes(&train_corpus, &sampler(train_episodes, seed))?,
        dev: sample_episodes(&dev_corpus, &sampler(dev_episodes, seed.wrapping_add(2)))?,
        test: sample_episodes(&test_corpus, &sampler(test_episodes, seed.wrapping_add(1)))?,
    })
}

/// Trains a tiny ESD (random 2-layer encoder) in `out` on the synthetic training episodes,
/// keeps the best model on the dev episodes and reports its micro F1 on the test episodes.
pub fn demo(out: &Path, seed: u64) -> Result<DemoRow> {
    let started = Instant::now();
    let splits = splits(seed)?;
    let texts = |episodes: &[Episode]| -> Vec<String> {
        episode_sentences(episodes)
            .map(|s| s.words.join(" "))
            .collect()
    };
    let seen: Vec<String> = texts(&splits.train)
        .into_iter()
        .chain(texts(&splits.dev))
        .collect();
    check_disjoint("fssl-span demo train+dev/test", &seen, &texts(&splits.test))?;
    let config = TrainConfig::small(Architecture::Esd, STEPS, seed);
    let origin = serde_json::json!({"synthetic": {
        "train": splits.train.len(), "dev": splits.dev.len(), "test": splits.test.len(),
        "seed": seed,
    }});
    let best = train(&config, &splits.train, &splits.dev, out, &origin, false)?;
    let run = Run::load(out, &config.device.inference()?)?;
    let f1 = run.evaluate(&splits.test, Some(F1Kind::Micro), "the test episodes")?["f1"];
    tracing::info!(dev = best.value, test = f1, "fssl-span demo");
    Ok(DemoRow::new(
        "fssl-span",
        format!(
            "synthetic 3-way 1~2-shot episodes ({} train / {} dev / {} test, sentence-disjoint, seed {seed})",
            splits.train.len(),
            splits.dev.len(),
            splits.test.len()
        ),
        "test micro_f1",
        f1,
        started,
    )
    .with_target(DEMO_TARGET))
}
