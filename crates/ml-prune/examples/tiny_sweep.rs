//! The tiny-scale measurements of `docs/results/ml-prune.md`, on the demo's encoder (random
//! initialisation, hidden 128, 2 layers × 4 heads × 512 FFN neurons) and text-cls's synthetic
//! negation task (1200 train / 200 dev / 400 unseen test sentences per seed):
//!
//! - `methods`: importance, taylor, l0 and random pruning to 0.5, 0.75 and 0.9 (shared);
//! - `settings`: shared vs per-language importance pruning on a pseudo-bilingual version of
//!   the task (alternate sentences in a "reversed" language whose words are spelled
//!   backwards, so the two languages share no content word), 0.5 and 0.75, fine-tuned for 6
//!   epochs (each language has half the data);
//! - `units`: heads only, FFN only and both at 0.5 (size and latency);
//! - `dynamic`: Dynamic Sparsification at widths 0.25, 0.5, 0.75, 1.
//!
//! ```sh
//! nice -n 10 cargo run -p ml-prune --example tiny_sweep -- OUT [methods|settings|units|dynamic] [SEED] [METHODS]
//! ```
//! `METHODS` (comma-separated) restricts the `methods` part, e.g. `random`.
//! Then `ml-prune plot --runs OUT/… --out OUT/plot.svg`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burnlp_core::cli::EncoderArgs;
use ml_prune::demo::write_random_encoder;
use ml_prune::dynamic::{DynamicConfig, dynamic};
use ml_prune::{LatencyConfig, Method, PruneConfig, PruneData, Setting, Units, prune};
use text_cls::{Example, TrainConfig, synthetic};

fn reversed(example: &Example) -> Example {
    let text = example
        .text
        .split(' ')
        .map(|w| w.chars().rev().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ");
    Example::new(text, None, example.label.clone())
}

fn bilingual(set: Vec<Example>) -> Vec<Example> {
    let mut out = Vec::new();
    for (i, e) in set.into_iter().enumerate() {
        // Alternate sentences go to each language, so the languages share no sentence.
        if i % 2 == 0 {
            out.push(e.with_group("en"));
        } else {
            out.push(reversed(&e).with_group("rev"));
        }
    }
    out
}

fn config(encoder: &Path, seed: u64) -> PruneConfig {
    PruneConfig {
        fine_tune: TrainConfig {
            encoder: EncoderArgs::from(encoder.to_string_lossy().as_ref()),
            epochs: 3,
            lr: 2e-3,
            encoder_lr: 1e-3,
            max_length: 32,
            seed,
            ..TrainConfig::default()
        },
        importance_examples: 256,
        refine_epochs: 1,
        l0_epochs: 2,
        latency: LatencyConfig {
            batch: 8,
            seq: 32,
            runs: 15,
            warmup: 3,
        },
        ..PruneConfig::default()
    }
}

fn print(report: &ml_prune::PruneReport, name: &str) {
    for m in &report.models {
        println!(
            "{name}\t{}\t{:.2}\t{}\t{}\t{:.3}\t{:.3}\t{:.3}\t{:.2}\t{:?}",
            m.lang.as_deref().unwrap_or("-"),
            m.sparsity,
            m.params.total,
            m.params.without_embeddings,
            m.dev_pruned,
            m.dev,
            m.test.unwrap_or(f64::NAN),
            m.latency.median_ms,
            m.test_by_lang
        );
    }
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().context("usage: tiny_sweep OUT PART [SEED]")?);
    let part = args.next().unwrap_or_else(|| "methods".into());
    let seed: u64 = args.next().map_or(Ok(7), |s| s.parse())?;
    let only: Option<String> = args.next();
    let out = out.join(format!("seed{seed}"));
    let splits = synthetic::splits(1200, 200, 400, seed);
    let mut data = PruneData {
        train: splits.train,
        dev: splits.dev,
        test: Some(splits.test),
    };
    if part == "settings" {
        data = PruneData {
            train: bilingual(data.train),
            dev: bilingual(data.dev),
            test: data.test.map(bilingual),
        };
    }
    let encoder = out.join(format!("encoder-{part}"));
    let texts = data.train.iter().map(|e| e.text.clone()).collect();
    write_random_encoder(&encoder, texts, 32)?;
    let mut base = config(&encoder, seed);
    if part == "settings" {
        base.fine_tune.epochs = 6;
    }
    println!("run\tlang\tsparsity\tparams\tnon-emb\tdev-pruned\tdev\ttest\tms\ttest_by_lang");
    match part.as_str() {
        "methods" => {
            for method in [
                Method::Importance,
                Method::Taylor,
                Method::L0,
                Method::Random,
            ] {
                let name = format!("{method:?}").to_lowercase();
                if only
                    .as_ref()
                    .is_some_and(|o| !o.split(',').any(|m| m == name))
                {
                    continue;
                }
                let config = PruneConfig {
                    method,
                    sparsity: vec![0.5, 0.75, 0.9],
                    ..base.clone()
                };
                print(&prune(&config, &data, &out.join(&name))?, &name);
            }
        }
        "settings" => {
            for setting in [Setting::Shared, Setting::PerLanguage] {
                let config = PruneConfig {
                    setting,
                    sparsity: vec![0.5, 0.75],
                    ..base.clone()
                };
                let name = format!("{setting:?}").to_lowercase();
                print(&prune(&config, &data, &out.join(&name))?, &name);
            }
        }
        "units" => {
            for units in [Units::Heads, Units::Ffn, Units::Both] {
                let config = PruneConfig {
                    units,
                    sparsity: vec![0.5],
                    ..base.clone()
                };
                let name = format!("units-{units:?}").to_lowercase();
                print(&prune(&config, &data, &out.join(&name))?, &name);
            }
        }
        "dynamic" => {
            let config = DynamicConfig {
                fine_tune: base.fine_tune.clone(),
                dynamic_epochs: 3,
                importance_examples: 256,
                latency: base.latency,
                ..DynamicConfig::default()
            };
            let report = dynamic(&config, &data, &out.join("dynamic"))?;
            let rows = report
                .models
                .iter()
                .map(|m| ("dynamic", m))
                .chain(report.full_width.iter().map(|m| ("dynamic-w1", m)))
                .chain(report.cut.iter().map(|m| ("cut", m)));
            for (name, m) in rows {
                println!(
                    "{name}\t-\t{:.2}\t{}\t{}\t-\t{:.3}\t{:.3}\t{:.2}",
                    m.sparsity,
                    m.params.total,
                    m.params.without_embeddings,
                    m.dev,
                    m.test.unwrap_or(f64::NAN),
                    m.latency.median_ms
                );
            }
        }
        other => anyhow::bail!("unknown part `{other}` (methods, settings, units, dynamic)"),
    }
    Ok(())
}
