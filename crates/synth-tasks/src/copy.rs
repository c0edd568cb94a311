//! Synthetic sequence reversal with the encoder-decoder Transformer.
//!
//! Sources are random sequences of 4 to 10 tokens over 20 symbols; the target is the source
//! reversed. burnlp-core's Transformer (`nn::seq2seq`, the `tiny` preset widened to
//! `d_model` 64) is trained by the core `Trainer` on freshly sampled sequences each epoch,
//! selected on greedy exact match over a dev set, and scored by the exact match of its best
//! beam-search hypothesis on a test set. No dev or test sequence occurs in training.

use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::Tensor;
use burnlp_core::data::epoch_seed;
use burnlp_core::device;
use burnlp_core::nn::seq2seq::{
    SearchConfig, Seq2SeqBatch, Transformer, TransformerConfig, label_smoothed_cross_entropy,
};
use burnlp_core::train::{
    AdamWConfig, LrSchedule, Metrics, RunDir, TrainTask, Trainer, TrainerConfig, load_parameters,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::DemoRow;

/// Padding token (fairseq's dictionary layout: 0 BOS, 1 pad, 2 EOS, 3 unknown).
const PAD: u32 = 1;
/// End of sentence; also the first decoder input.
const EOS: u32 = 2;
/// Id of the first of the [`SYMBOLS`] sequence symbols.
const FIRST_SYMBOL: u32 = 4;
/// Number of distinct symbols in the sequences.
const SYMBOLS: u32 = 20;
/// Shortest and longest sequence.
const LENGTHS: std::ops::RangeInclusive<usize> = 4..=10;
/// Sequences per training batch.
const BATCH_SIZE: usize = 64;
/// Training batches per epoch (each epoch samples new sequences).
const BATCHES_PER_EPOCH: usize = 100;
/// Training epochs.
const EPOCHS: usize = 4;
/// Dev and test set sizes.
const DEV_SIZE: usize = 200;
const TEST_SIZE: usize = 500;
/// Beam size of the final evaluation.
const BEAM: usize = 4;
/// Exact match the demo must reach on the test set.
const TARGET: f64 = 0.95;
/// Seed of the data, the initialisation and the training run.
const SEED: u64 = 7;

fn random_sequence(rng: &mut StdRng) -> Vec<u32> {
    let len = rng.random_range(LENGTHS);
    (0..len)
        .map(|_| rng.random_range(FIRST_SYMBOL..FIRST_SYMBOL + SYMBOLS))
        .collect()
}

/// (source, reversed source) pairs.
fn reversal_pairs(sources: &[Vec<u32>]) -> Vec<(&[u32], Vec<u32>)> {
    sources
        .iter()
        .map(|s| (s.as_slice(), s.iter().rev().copied().collect()))
        .collect()
}

/// Decoding settings: fairseq's defaults with room for the longest sequence.
fn search_config(beam_size: usize) -> SearchConfig {
    SearchConfig::new(EOS, PAD)
        .with_beam_size(beam_size)
        .with_max_len_b(*LENGTHS.end() + 2)
}

/// Fraction of `sources` whose best hypothesis is exactly the reversed source (greedy for a
/// beam of 1, beam search otherwise).
fn exact_match(model: &Transformer, sources: &[Vec<u32>], beam_size: usize) -> f64 {
    let device = model.devices()[0].clone();
    let search = search_config(beam_size);
    let mut correct = 0;
    for chunk in sources.chunks(100) {
        let batch = Seq2SeqBatch::from_pairs(&reversal_pairs(chunk), EOS, PAD, &device);
        let outputs: Vec<Vec<u32>> = if beam_size == 1 {
            model
                .greedy(batch.src_tokens, batch.src_padding, &search)
                .into_iter()
                .map(|h| h.output().to_vec())
                .collect()
        } else {
            model
                .beam_search(batch.src_tokens, batch.src_padding, &search)
                .into_iter()
                .map(|hyps| {
                    hyps.first()
                        .map(|h| h.output().to_vec())
                        .unwrap_or_default()
                })
                .collect()
        };
        correct += chunk
            .iter()
            .zip(outputs)
            .filter(|(source, output)| source.iter().rev().eq(output.iter()))
            .count();
    }
    correct as f64 / sources.len().max(1) as f64
}

/// The training task: fresh random sequences every epoch, greedy exact match on the dev set.
struct Reversal {
    /// Dev and test sequences, never sampled for training.
    held_out: HashSet<Vec<u32>>,
    dev: Vec<Vec<u32>>,
}

impl TrainTask<Transformer> for Reversal {
    type Batch = Vec<Vec<u32>>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Self::Batch> {
        let mut rng = StdRng::seed_from_u64(epoch_seed(seed, epoch as u64));
        (0..BATCHES_PER_EPOCH)
            .map(|_| {
                (0..BATCH_SIZE)
                    .map(|_| {
                        loop {
                            let sequence = random_sequence(&mut rng);
                            if !self.held_out.contains(&sequence) {
                                break sequence;
                            }
                        }
                    })
                    .collect()
            })
            .collect()
    }

    fn loss(&self, model: &Transformer, batch: &Self::Batch) -> Tensor<1> {
        let device = model.devices()[0].clone();
        let batch = Seq2SeqBatch::from_pairs(&reversal_pairs(batch), EOS, PAD, &device);
        let logits = model.forward(
            batch.src_tokens,
            batch.src_padding,
            batch.prev_output_tokens,
        );
        label_smoothed_cross_entropy(logits, batch.target, 0.1, PAD)
    }

    fn evaluate(&self, model: &Transformer) -> Metrics {
        Metrics::from([("exact_match".to_string(), exact_match(model, &self.dev, 1))])
    }

    fn batch_len(&self, batch: &Self::Batch) -> usize {
        batch.len()
    }
}

/// Distinct random sequences.
fn distinct_sequences(rng: &mut StdRng, n: usize, seen: &mut HashSet<Vec<u32>>) -> Vec<Vec<u32>> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let sequence = random_sequence(rng);
        if seen.insert(sequence.clone()) {
            out.push(sequence);
        }
    }
    out
}

/// Trains and evaluates the reversal model, writing its run to `out`.
pub fn demo(out: &Path) -> anyhow::Result<DemoRow> {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut held_out = HashSet::new();
    let dev = distinct_sequences(&mut rng, DEV_SIZE, &mut held_out);
    let test = distinct_sequences(&mut rng, TEST_SIZE, &mut held_out);
    let task = Reversal { held_out, dev };

    let vocab = (FIRST_SYMBOL + SYMBOLS) as usize;
    let model_config = TransformerConfig::tiny(vocab, vocab)
        .with_d_model(64)
        .with_ffn_dim(128)
        .with_share_decoder_input_output_embed(true);
    let steps = EPOCHS * BATCHES_PER_EPOCH;
    let trainer_config = TrainerConfig {
        epochs: EPOCHS,
        schedule: LrSchedule::Linear {
            warmup: steps / 20,
            total: steps,
        },
        eval_every: Some(BATCHES_PER_EPOCH),
        metric: "exact_match".into(),
        higher_is_better: true,
        seed: SEED,
        log_every: 20,
        ..TrainerConfig::default()
    };
    let optimizer = AdamWConfig::new(1e-2).with_weight_decay(0.0);
    let trainer = Trainer::new(trainer_config, out);
    let experiment = serde_json::json!({
        "task": "reverse random sequences",
        "symbols": SYMBOLS, "lengths": [LENGTHS.start(), LENGTHS.end()],
        "batch_size": BATCH_SIZE, "batches_per_epoch": BATCHES_PER_EPOCH,
        "dev": DEV_SIZE, "test": TEST_SIZE, "beam": BEAM,
        "label_smoothing": 0.1, "model": model_config,
    });
    trainer.write_config(&optimizer, &experiment, false)?;

    let train_device = device::cpu().autodiff();
    train_device.seed(SEED);
    let model = model_config.init(&train_device);
    let outcome = trainer.fit(model, optimizer.init(), &task, false)?;
    let best = outcome.best()?.clone();
    let model = load_parameters(outcome.model.valid(), &RunDir::new(out).best_model())?;
    let greedy = exact_match(&model, &test, 1);
    let beam = exact_match(&model, &test, BEAM);
    burnlp_core::data::write_json(
        out.join("eval.json"),
        &serde_json::json!({
            "best_step": best.step, "dev_exact_match": best.value,
            "test_exact_match_greedy": greedy, "test_exact_match_beam": beam, "beam": BEAM,
        }),
        true,
    )?;
    tracing::info!(greedy, beam, dev = best.value, "reversal evaluated");
    Ok(DemoRow {
        task: "synth-copy".into(),
        dataset: format!(
            "reversal of random sequences (length {}-{}, {SYMBOLS} symbols), {TEST_SIZE} test sequences, beam {BEAM}",
            LENGTHS.start(),
            LENGTHS.end()
        ),
        metric: "exact_match".into(),
        score: beam,
        target: Some(TARGET),
        wall_s: started.elapsed().as_secs_f64(),
    })
}
