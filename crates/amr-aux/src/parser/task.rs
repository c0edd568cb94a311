//! The [`TrainTask`] of one training stage: batches of encoded examples, the loss, and the dev
//! evaluation (loss, and optionally Smatch of greedy decoding).

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::Tensor;
use burnlp_core::data::{BatchLimit, bucket_batches, epoch_seed};
use burnlp_core::nn::seq2seq::label_smoothed_cross_entropy;
use burnlp_core::train::{Metrics, TrainTask};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::net::ParserNet;
use super::vocab::PAD;
use super::{EncodedExample, Example, Parser, Result, collate, score};
use crate::penman::Amr;

/// The [`TrainTask`] of one stage: length-bucketed batches of the stage's examples, dev loss
/// and (optionally) dev Smatch.
pub struct ParserTask<'a> {
    parser: &'a Parser,
    examples: Vec<EncodedExample>,
    dev: Vec<EncodedExample>,
    dev_sentences: Vec<String>,
    dev_gold: Vec<Amr>,
    batch_size: usize,
    label_smoothing: f64,
}

impl<'a> ParserTask<'a> {
    /// A stage over `examples`; Smatch is evaluated on `dev_gold` (AMR examples) when given.
    pub fn new(
        parser: &'a Parser,
        examples: &[&Example],
        dev: &[&Example],
        smatch_dev: bool,
        batch_size: usize,
        label_smoothing: f64,
    ) -> Result<Self> {
        let encode_all = |list: &[&Example]| -> Result<Vec<EncodedExample>> {
            let mut out = Vec::with_capacity(list.len());
            for example in list {
                out.extend(parser.encode(example)?);
            }
            Ok(out)
        };
        let encoded = encode_all(examples)?;
        if encoded.len() < examples.len() {
            tracing::warn!(
                skipped = examples.len() - encoded.len(),
                "training graphs longer than the model's target positions are skipped"
            );
        }
        let (dev_sentences, dev_gold) = if smatch_dev {
            dev.iter()
                .map(|e| (e.sentence.clone(), e.graph.clone()))
                .unzip()
        } else {
            (Vec::new(), Vec::new())
        };
        Ok(Self {
            parser,
            examples: encoded,
            dev: encode_all(dev)?,
            dev_sentences,
            dev_gold,
            batch_size: batch_size.max(1),
            label_smoothing,
        })
    }

    /// The encoded training examples of this stage.
    pub fn examples(&self) -> &[EncodedExample] {
        &self.examples
    }

    fn batch_loss(&self, model: &ParserNet, rows: &[&EncodedExample], smoothing: f64) -> Tensor<1> {
        let device = model.devices()[0].clone();
        let batch = collate(rows, !self.parser.pretrained(), &device);
        let logits = model.forward(
            batch.src_tokens,
            batch.src_padding,
            batch.prev_output_tokens,
        );
        label_smoothed_cross_entropy(logits, batch.target, smoothing, PAD)
    }
}

impl TrainTask<ParserNet> for ParserTask<'_> {
    type Batch = Vec<usize>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Vec<usize>> {
        let lengths: Vec<usize> = self
            .examples
            .iter()
            .map(|e| e.source.len().max(e.target.len()))
            .collect();
        let shuffle = epoch_seed(seed, epoch as u64);
        let mut batches = bucket_batches(
            &lengths,
            BatchLimit::examples(self.batch_size),
            Some(shuffle),
        )
        .expect("a positive batch size is a valid limit");
        // Bucketing puts similar lengths together; shuffle once more so tasks interleave.
        batches.shuffle(&mut StdRng::seed_from_u64(shuffle ^ 0xA5A5));
        batches
    }

    fn loss(&self, model: &ParserNet, batch: &Vec<usize>) -> Tensor<1> {
        let rows: Vec<&EncodedExample> = batch.iter().map(|&i| &self.examples[i]).collect();
        self.batch_loss(model, &rows, self.label_smoothing)
    }

    fn evaluate(&self, model: &ParserNet) -> Metrics {
        let mut metrics = Metrics::new();
        let (mut total, mut tokens) = (0.0, 0usize);
        for chunk in self.dev.chunks(self.batch_size) {
            let rows: Vec<&EncodedExample> = chunk.iter().collect();
            let n: usize = chunk.iter().map(|e| e.target.len() + 1).sum();
            total += self.batch_loss(model, &rows, 0.0).into_scalar::<f64>() * n as f64;
            tokens += n;
        }
        if tokens > 0 {
            metrics.insert("loss".into(), total / tokens as f64);
        }
        if !self.dev_gold.is_empty() {
            let parser = Parser {
                model: model.clone(),
                ..self.parser.clone()
            };
            // The trainer's evaluation cannot fail; a failure counts as Smatch 0 and is logged.
            let smatch = parser
                .parse(&self.dev_sentences, 1, 64)
                .and_then(|pred| score(&pred, &self.dev_gold))
                .map_or_else(
                    |e| {
                        tracing::warn!(error = %e, "dev Smatch failed");
                        0.0
                    },
                    |s| s.f1(),
                );
            metrics.insert("smatch".into(), smatch);
        }
        metrics
    }

    fn batch_len(&self, batch: &Vec<usize>) -> usize {
        batch.len()
    }
}
