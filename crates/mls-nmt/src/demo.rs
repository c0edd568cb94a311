//! The `cargo xtask demo` rows: label smoothing against masked label smoothing on a made-up
//! language pair whose source and target vocabularies only partly overlap.

use std::path::Path;
use std::time::Instant;

use burnlp_core::burn::tensor::Device;
use burnlp_core::data::check_disjoint;
use burnlp_core::data::overlap::dedup_against;
use burnlp_core::report::DemoRow;

use crate::experiment::{ExperimentConfig, run_experiment};
use crate::{Arch, DecodeOptions, LossKind, PrepareConfig, Result, TrainConfig, synthetic};

/// Training, validation and test pairs of the demo.
pub const DEMO_SIZES: (usize, usize, usize) = (3000, 200, 200);
/// BLEU both demo runs reliably reach.
pub const DEMO_TARGET: f64 = 80.0;
const SEED: u64 = 2022;

/// Writes the corpus under `out/corpus`, trains LS and MLS models under `out/runs`, and returns
/// one BLEU row per loss, on test sentences none of which is a training sentence.
pub fn demo(out: &Path, device: &Device) -> Result<Vec<DemoRow>> {
    let started = Instant::now();
    let corpus = out.join("corpus");
    let (n_train, n_valid, n_test) = DEMO_SIZES;
    let train = synthetic::sentence_pairs(n_train, SEED);
    let held_out = dedup_against(
        synthetic::sentence_pairs(4 * (n_valid + n_test), SEED + 1),
        train.iter().map(|(s, _)| s.as_str()),
        |(s, _)| s.clone(),
    );
    let (valid, test) = held_out[..(n_valid + n_test).min(held_out.len())].split_at(n_valid);
    let sources =
        |pairs: &[(String, String)]| pairs.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>();
    check_disjoint("mls-nmt demo train/test", &sources(&train), &sources(test))?;
    let (src, tgt) = ("sx", "tx");
    synthetic::write_corpus(&corpus.join("train"), src, tgt, &train)?;
    synthetic::write_corpus(&corpus.join("valid"), src, tgt, valid)?;
    synthetic::write_corpus(&corpus.join("test"), src, tgt, test)?;
    let config = ExperimentConfig {
        prepare: PrepareConfig {
            src_lang: src.into(),
            tgt_lang: tgt.into(),
            train: corpus.join("train"),
            valid: corpus.join("valid"),
            vocab_size: 300,
            // The made-up corpus is tiny: every token seen once belongs to its side.
            threshold_src: 1,
            threshold_tgt: 1,
            max_len: 64,
        },
        test: corpus.join("test"),
        max_test: None,
        train: TrainConfig {
            arch: Arch::Tiny,
            dropout: 0.1,
            lr: 3e-3,
            warmup: 100,
            max_tokens: 1024,
            epochs: 1000,
            max_steps: Some(200),
            eval_every: 50,
            average_last: 2,
            seed: 666,
            max_positions: 64,
            progress: false,
            ..TrainConfig::default()
        },
        losses: vec![LossKind::Ls, LossKind::Mls],
        decode: DecodeOptions {
            beam: 4,
            ..DecodeOptions::default()
        },
    };
    let result = run_experiment(&config, &out.join("runs"), device)?;
    let s = &result.prepare.stats;
    let dataset = format!(
        "synthetic sx→tx ({} train / {} valid / {} unseen test pairs, seed {SEED}; vocab {}, dictionary threshold {}: {} source-only, {} common, {} target-only, {} neither)",
        train.len(),
        valid.len(),
        test.len(),
        s.vocab_size,
        s.threshold_src,
        s.source_only,
        s.common,
        s.target_only,
        s.neither
    );
    Ok(result
        .rows
        .iter()
        .map(|row| {
            tracing::info!(
                loss = row.loss.name(),
                bleu = row.bleu,
                inference_ece = row.inference_ece,
                training_ece = row.training_ece,
                steps = row.steps,
                "mls-nmt demo"
            );
            let mut demo_row = DemoRow::new(
                format!("mls-nmt-{}", row.loss.name()),
                &dataset,
                "bleu",
                row.bleu,
                started,
            )
            .with_target(DEMO_TARGET);
            demo_row.wall_s = row.train_s + row.eval_s;
            demo_row
        })
        .collect())
}
