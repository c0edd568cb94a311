//! The `cargo xtask demo` rows, on a generated English–German bitext (see
//! [`crate::synthetic::toy_bitext`]): noise detection by Model 1 + rules, and mining from
//! synthetic document pairs. The three splits (lexical training, noise evaluation, documents)
//! are disjoint, checked with `check_disjoint`.

use std::path::Path;
use std::time::Instant;

use burnlp_core::data::check_disjoint;
use burnlp_core::report::DemoRow;

use crate::corpus::{Pair, write_corpus, write_scores};
use crate::error::Result;
use crate::eval::{mining_scores, noise_report};
use crate::ibm1::{Ibm1Config, Ibm1Model};
use crate::mine::{MineConfig, mine};
use crate::noise::{NoiseConfig, inject, write_labels};
use crate::rules::{RuleConfig, RuleSet};
use crate::score::{Rerank, score_pairs};
use crate::synthetic::{DocConfig, documents_from_bitext, toy_bitext};

/// ROC-AUC the noise-detection row must reach.
pub const NOISE_TARGET: f64 = 0.9;
/// F1 the mining row must reach.
pub const MINING_TARGET: f64 = 0.8;

const SIZES: (usize, usize, usize) = (1500, 800, 300);
const SEED: u64 = 42;

fn english(pairs: &[Pair]) -> Vec<&str> {
    pairs.iter().map(|p| p.en.as_str()).collect()
}

/// Runs both demo rows, writing the noised corpus, labels and scores to `out`.
pub fn demo(out: &Path) -> Result<Vec<DemoRow>> {
    let started = Instant::now();
    let (n_train, n_eval, n_docs) = SIZES;
    let (pairs, french) = toy_bitext(n_train + n_eval + n_docs, SEED);
    let train = &pairs[..n_train];
    let evaluation = &pairs[n_train..n_train + n_eval];
    let doc_pairs = &pairs[n_train + n_eval..];
    let sizes = check_disjoint(
        "para-filter demo train/noise",
        &english(train),
        &english(evaluation),
    )?;
    check_disjoint(
        "para-filter demo train/documents",
        &english(train),
        &english(doc_pairs),
    )?;

    let model = Ibm1Model::train(train, &Ibm1Config::default())?;
    let noise = NoiseConfig {
        rate: 0.5,
        seed: SEED,
        ..NoiseConfig::default()
    };
    let noised = inject(evaluation, &french[n_train + n_eval..], &noise)?;
    let (lines, labels): (Vec<Pair>, Vec<_>) = noised.into_iter().unzip();
    let mut rules = RuleSet::new(RuleConfig {
        xx_lang: "deu".into(),
        ..RuleConfig::default()
    })?;
    let rerank = Rerank {
        rules: &mut rules,
        penalty: 5.0,
    };
    let scores = score_pairs(&lines, &model, Some(rerank), 256)?;
    write_corpus(out.join("noised.tsv"), &lines)?;
    write_labels(out.join("noised.labels"), &labels)?;
    write_scores(out.join("noised.scores"), &scores)?;
    let report = noise_report(&scores, &labels)?;
    tracing::info!(?report.per_kind, "para-filter demo noise detection");
    let noise_row = DemoRow::new(
        "para-filter",
        format!(
            "generated en-de, {} lexical-training pairs / {} unseen lines ({} noised, 8 types, seed {SEED})",
            sizes.train, sizes.eval, report.noisy
        ),
        "noise ROC-AUC (IBM1 + rules)",
        report.overall,
        started,
    )
    .with_target(NOISE_TARGET);

    let started = Instant::now();
    let (docs, gold) = documents_from_bitext(doc_pairs, &DocConfig::default());
    let outcome = mine(train, &docs, &MineConfig::default())?;
    let scores = mining_scores(&outcome.mined, &gold);
    let mining_row = DemoRow::new(
        "para-filter",
        format!(
            "{} synthetic document pairs from {} unseen pairs (dropped, split, swapped sentences)",
            docs.len(),
            doc_pairs.len()
        ),
        "mining F1",
        scores.f1(),
        started,
    )
    .with_target(MINING_TARGET);
    Ok(vec![noise_row, mining_row])
}
