//! The captioner experiment: generated train / validation / held-out test charts (disjoint seed
//! ranges), optional real training pairs, training, and the held-out scores as JSON and
//! Markdown.

use std::path::Path;

use burnlp_core::burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::charts::charts;
use super::model::CaptionerSpec;
use super::train::{
    CaptionExample, CaptionerRun, HeldOutScores, TrainConfig, TrainReport, held_out_scores, train,
};
use crate::error::Result;

/// First seed of the held-out test charts; training and validation charts use seeds from 0.
pub const TEST_SEED: u64 = 1_000_000;

/// Sizes of the generated splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartSplits {
    /// Training charts: seeds `0..train`.
    pub train: usize,
    /// Validation charts (model selection): seeds `train..train + valid`.
    pub valid: usize,
    /// Held-out test charts: seeds `TEST_SEED..TEST_SEED + test`.
    pub test: usize,
}

/// What [`run`] reports (also written to `RUN/held_out.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentReport {
    /// The generated splits.
    pub splits: ChartSplits,
    /// Real training pairs added to the generated training charts.
    pub train_real: usize,
    /// Seed of initialisation and batch order.
    pub seed: u64,
    /// The training run.
    pub train: TrainReport,
    /// Scores on the held-out test charts, with the majority-caption baseline.
    pub held_out: HeldOutScores,
}

/// Generated examples of seeds `start..start + n` at `size` pixels.
pub fn chart_examples(start: u64, n: usize, size: usize) -> Vec<CaptionExample> {
    charts(start, n, size)
        .into_iter()
        .map(CaptionExample::from)
        .collect()
}

/// Trains on the generated training charts plus `real` pairs, selects on the validation charts
/// and scores the held-out test charts (the majority baseline uses the generated training
/// captions). Writes the run to `out` and the report to `out/held_out.json`.
pub fn run(
    splits: ChartSplits,
    real: Vec<CaptionExample>,
    spec: &CaptionerSpec,
    config: &TrainConfig,
    out: &Path,
    device: &Device,
) -> Result<ExperimentReport> {
    let size = spec.image_size;
    let mut training = chart_examples(0, splits.train, size);
    let valid = chart_examples(splits.train as u64, splits.valid, size);
    let test = chart_examples(TEST_SEED, splits.test, size);
    let train_real = real.len();
    training.extend(real);
    let report = train(&training, &valid, spec, config, out, device)?;
    let model = CaptionerRun::load(out, device)?;
    let held_out = held_out_scores(
        &model,
        &test,
        training[..splits.train].iter().map(|e| e.caption.as_str()),
    )?;
    let report = ExperimentReport {
        splits,
        train_real,
        seed: config.seed,
        train: report,
        held_out,
    };
    burnlp_core::data::write_json(out.join("held_out.json"), &report, true)?;
    Ok(report)
}

/// The Markdown section of a report.
pub fn markdown(report: &ExperimentReport, spec: &CaptionerSpec, config: &TrainConfig) -> String {
    let s = &report.splits;
    let h = &report.held_out;
    let mut md = String::from("## The tiny captioner on held-out generated charts\n\n");
    md.push_str(&format!(
        "A ViT-style patch encoder ({}×{} grey-scale images, {}×{} patches, {} encoder layers) and \
         the core Transformer decoder ({} layers), `d_model` {}, trained from scratch for {} steps \
         (batch {}, AdamW, peak lr {}, seed {}) on {} generated charts (seeds 0–{}){}; model \
         selection on {} validation charts (the next seeds); scored on {} held-out charts (seeds \
         {}–{}), none of which was trained on or used for selection. The charts are line plots \
         (rising, falling, peak, dip), bar charts (3–6 bars, which is tallest) and scatter plots \
         (positive, negative, no correlation) drawn by a small rasteriser with random margins, \
         values and noise; each caption states what was drawn, so the 25 possible captions \
         repeat between splits while the images do not. Greedy decoding. The baseline gives \
         every chart the most frequent training caption.\n\n",
        spec.image_size,
        spec.image_size,
        spec.patch,
        spec.patch,
        spec.encoder_layers,
        spec.decoder_layers,
        spec.d_model,
        report.train.steps,
        config.batch_size,
        config.lr,
        report.seed,
        s.train,
        s.train.saturating_sub(1),
        if report.train_real > 0 {
            format!(
                " plus {} extracted real figure–caption pairs",
                report.train_real
            )
        } else {
            String::new()
        },
        s.valid,
        s.test,
        TEST_SEED,
        TEST_SEED + s.test as u64 - 1,
    ));
    md.push_str("| captions | BLEU-2 | ROUGE-L | CIDEr-D | exact |\n|---|---:|---:|---:|---:|\n");
    md.push_str(&format!(
        "| tiny captioner | {:.2} | {:.4} | {:.4} | {:.4} |\n",
        h.model.bleu2, h.model.rouge_l, h.model.cider_d, h.exact
    ));
    md.push_str(&format!(
        "| most frequent training caption | {:.2} | {:.4} | {:.4} | {:.4} |\n\n",
        h.majority.bleu2, h.majority.rouge_l, h.majority.cider_d, h.majority_exact
    ));
    md.push_str(&format!(
        "Validation next-word accuracy {:.4} (loss {:.4}) at the best evaluation, {:.4} before \
         training; {:.0} s of training. BLEU-2 is on a 0–100 scale; CIDEr-D's document \
         frequencies come from the {} held-out references. These are generated charts with \
         template captions: the numbers show that the model and the pipeline learn, not how well \
         real figures are captioned.\n",
        report
            .train
            .best_eval
            .get("accuracy")
            .copied()
            .unwrap_or(f64::NAN),
        report
            .train
            .best_eval
            .get("loss")
            .copied()
            .unwrap_or(f64::NAN),
        report
            .train
            .initial_eval
            .get("accuracy")
            .copied()
            .unwrap_or(f64::NAN),
        report.train.wall_s,
        s.test,
    ));
    md
}
