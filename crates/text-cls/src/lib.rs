//! Sentence and sentence-pair classification with a BERT-family encoder.
//!
//! The standard fine-tuning recipe of Devlin et al. (2019): encode `[CLS] A [SEP] (B [SEP])`,
//! take the pooled first token (or the mean of the tokens), apply dropout and a linear layer,
//! and train with cross-entropy. Data is GLUE-style TSV with named columns, or the synthetic
//! negation task of [`synthetic`] that `cargo xtask demo` runs. The encoder is a pretrained
//! Hugging Face directory or a small randomly initialised one with a WordPiece vocabulary
//! trained on the training texts.

pub mod synthetic;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use burnlp_core::burn;
use burnlp_core::burn::module::Module;
use burnlp_core::burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burnlp_core::burn::tensor::activation::softmax;
use burnlp_core::burn::tensor::loss::cross_entropy_with_logits;
use burnlp_core::burn::tensor::{Device, Int, Tensor, TensorData};
use burnlp_core::metrics::classification;
use burnlp_core::nn::bert::{Bert, BertConfig, BertInput, mean_pool};
use burnlp_core::tokenize::{Encoded, Tokenizer};
use burnlp_core::train::{Metrics, TrainTask};
use serde::{Deserialize, Serialize};

/// One labelled text or text pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    /// The text (first sentence of a pair).
    pub text: String,
    /// The second sentence of a pair.
    pub pair: Option<String>,
    /// The label as written in the data.
    pub label: String,
}

/// Errors of reading data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The reader failed (file, line and cause are in the message).
    #[error(transparent)]
    Read(#[from] burnlp_core::data::DataError),
    /// A required column is absent from the header.
    #[error("{path}: no column `{column}` (columns: {available})")]
    MissingColumn {
        /// The file.
        path: String,
        /// The missing column.
        column: String,
        /// The header's columns.
        available: String,
    },
    /// A label that the model does not know.
    #[error("{path}: record {record} has label `{label}`, which is not one of {known}")]
    UnknownLabel {
        /// The file.
        path: String,
        /// 1-based record number.
        record: usize,
        /// The label.
        label: String,
        /// The known labels.
        known: String,
    },
}

/// Which TSV columns hold the text, the optional pair text and the label.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Columns {
    /// Column of the (first) text.
    pub text: String,
    /// Column of the second text, for pair tasks.
    pub pair: Option<String>,
    /// Column of the label.
    pub label: String,
}

/// Reads a TSV file with a header into examples.
pub fn read_tsv(path: &Path, columns: &Columns) -> Result<Vec<Example>, DataError> {
    let rows: Vec<HashMap<String, String>> = burnlp_core::data::read_tsv(path)?;
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    for column in [
        Some(&columns.text),
        columns.pair.as_ref(),
        Some(&columns.label),
    ]
    .into_iter()
    .flatten()
    {
        if !first.contains_key(column) {
            let mut available: Vec<&String> = first.keys().collect();
            available.sort();
            return Err(DataError::MissingColumn {
                path: path.display().to_string(),
                column: column.clone(),
                available: available
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    Ok(rows
        .into_iter()
        .map(|mut row| Example {
            text: row.remove(&columns.text).unwrap_or_default(),
            pair: columns.pair.as_ref().and_then(|c| row.remove(c)),
            label: row.remove(&columns.label).unwrap_or_default(),
        })
        .collect())
}

/// How the sequence representation is pooled.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
pub enum Pooling {
    /// The encoder's tanh pooler over `[CLS]` (or `[CLS]`'s hidden state without a pooler).
    Cls,
    /// Mean over real tokens.
    Mean,
}

/// Everything needed to rebuild a trained classifier (`RUN/model.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClassifierSpec {
    /// Encoder configuration.
    pub encoder: BertConfig,
    /// Label names in output order.
    pub labels: Vec<String>,
    /// Pooling.
    pub pooling: Pooling,
    /// Dropout before the output layer.
    pub dropout: f64,
    /// Maximum sequence length in tokens.
    pub max_length: usize,
}

/// A BERT-family encoder with a linear classification head.
#[derive(Module, Debug)]
pub struct Classifier {
    /// The encoder.
    pub encoder: Bert,
    /// Dropout before the head.
    pub dropout: Dropout,
    /// Output layer `[hidden, labels]`.
    pub head: Linear,
    /// Pooling.
    #[module(skip)]
    pub pooling: Pooling,
}

impl ClassifierSpec {
    /// A classifier with a fresh head on `encoder`.
    pub fn init_with(&self, encoder: Bert, device: &Device) -> Classifier {
        let hidden = encoder.hidden_size();
        Classifier {
            encoder,
            dropout: DropoutConfig::new(self.dropout).init(),
            head: LinearConfig::new(hidden, self.labels.len()).init(device),
            pooling: self.pooling,
        }
    }

    /// A classifier with a randomly initialised encoder.
    pub fn init(&self, device: &Device) -> Classifier {
        self.init_with(self.encoder.init(device), device)
    }

    /// Index of a label name.
    pub fn label_index(&self, label: &str) -> Option<usize> {
        self.labels.iter().position(|l| l == label)
    }
}

impl Classifier {
    /// Class logits.
    ///
    /// # Shapes
    /// - input ids and mask: `[batch, seq]`
    /// - output: `[batch, labels]`
    pub fn forward(&self, input: BertInput) -> Tensor<2> {
        let mask = input.attention_mask.clone();
        let output = self.encoder.forward(input);
        let pooled = match (self.pooling, output.pooled) {
            (Pooling::Cls, Some(pooled)) => pooled,
            (Pooling::Cls, None) => {
                let [batch, _, hidden] = output.hidden.dims();
                output
                    .hidden
                    .slice([0..batch, 0..1])
                    .reshape([batch, hidden])
            }
            (Pooling::Mean, _) => mean_pool(output.hidden, mask),
        };
        self.head.forward(self.dropout.forward(pooled))
    }
}

/// Examples turned into token ids and label indices.
#[derive(Debug, Clone)]
pub struct EncodedSet {
    /// Token ids of each example, special tokens included.
    pub ids: Vec<Vec<u32>>,
    /// Segment ids of each example.
    pub type_ids: Vec<Vec<u32>>,
    /// Label index of each example.
    pub labels: Vec<usize>,
}

/// Tokenizes examples and maps their labels, truncating to the tokenizer's maximum length.
pub fn encode(
    tokenizer: &Tokenizer,
    spec: &ClassifierSpec,
    examples: &[Example],
    origin: &str,
) -> anyhow::Result<EncodedSet> {
    let mut set = EncodedSet {
        ids: Vec::new(),
        type_ids: Vec::new(),
        labels: Vec::new(),
    };
    for (index, example) in examples.iter().enumerate() {
        let encoded: Encoded = match &example.pair {
            Some(pair) => tokenizer.encode_pair(&example.text, pair, true)?,
            None => tokenizer.encode(&example.text, true)?,
        };
        let label = spec
            .label_index(&example.label)
            .ok_or_else(|| DataError::UnknownLabel {
                path: origin.to_string(),
                record: index + 1,
                label: example.label.clone(),
                known: spec.labels.join(", "),
            })?;
        set.ids.push(encoded.ids);
        set.type_ids.push(encoded.type_ids);
        set.labels.push(label);
    }
    Ok(set)
}

/// Builds a padded encoder batch from examples of a set.
pub fn batch_input(set: &EncodedSet, indices: &[usize], pad_id: u32, device: &Device) -> BertInput {
    let rows: Vec<Vec<u32>> = indices.iter().map(|&i| set.ids[i].clone()).collect();
    let mut input = BertInput::from_rows(&rows, pad_id, device);
    let [batch, seq] = input.input_ids.dims();
    let mut types = vec![0i64; batch * seq];
    for (row, &i) in indices.iter().enumerate() {
        for (col, &t) in set.type_ids[i].iter().enumerate() {
            types[row * seq + col] = t as i64;
        }
    }
    input.token_type_ids = Some(Tensor::from_data(
        TensorData::new(types, [batch, seq]),
        device,
    ));
    input
}

/// Class probabilities of every example, in batches.
pub fn predict(
    model: &Classifier,
    set: &EncodedSet,
    batch_size: usize,
    pad_id: u32,
) -> Vec<Vec<f32>> {
    let device = model.devices()[0].clone();
    let mut out = Vec::with_capacity(set.ids.len());
    let indices: Vec<usize> = (0..set.ids.len()).collect();
    for chunk in indices.chunks(batch_size.max(1)) {
        let logits = model.forward(batch_input(set, chunk, pad_id, &device));
        let [rows, labels] = logits.dims();
        let probs = softmax(logits, 1)
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32");
        out.extend((0..rows).map(|r| probs[r * labels..(r + 1) * labels].to_vec()));
    }
    out
}

/// Accuracy, macro F1 and mean loss of predictions against gold label indices.
pub fn score(probs: &[Vec<f32>], gold: &[usize]) -> Metrics {
    let predicted: Vec<usize> = probs
        .iter()
        .map(|p| {
            p.iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i)
                .unwrap_or(0)
        })
        .collect();
    let loss = probs
        .iter()
        .zip(gold)
        .map(|(p, &g)| -(p[g].max(1e-12) as f64).ln())
        .sum::<f64>()
        / gold.len().max(1) as f64;
    let mut metrics = BTreeMap::new();
    metrics.insert(
        "accuracy".to_string(),
        classification::accuracy(gold, &predicted).unwrap_or(0.0),
    );
    metrics.insert(
        "macro_f1".to_string(),
        classification::precision_recall_f1(gold, &predicted, classification::Average::Macro)
            .map(|p| p.f1)
            .unwrap_or(0.0),
    );
    metrics.insert("loss".to_string(), loss);
    metrics
}

/// The training task: batches of a training set, cross-entropy loss, dev accuracy.
pub struct ClassificationTask {
    /// Training data.
    pub train: EncodedSet,
    /// Development data.
    pub dev: EncodedSet,
    /// Examples per batch.
    pub batch_size: usize,
    /// Padding id.
    pub pad_id: u32,
}

impl TrainTask<Classifier> for ClassificationTask {
    type Batch = Vec<usize>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Vec<usize>> {
        let lengths: Vec<usize> = self.train.ids.iter().map(Vec::len).collect();
        burnlp_core::data::bucket_batches(
            &lengths,
            burnlp_core::data::BatchLimit::examples(self.batch_size),
            Some(burnlp_core::data::epoch_seed(seed, epoch as u64)),
        )
        .expect("non-empty batch limit")
    }

    fn loss(&self, model: &Classifier, batch: &Vec<usize>) -> Tensor<1> {
        let device = model.devices()[0].clone();
        let logits = model.forward(batch_input(&self.train, batch, self.pad_id, &device));
        let [_, labels] = logits.dims();
        let gold: Vec<i64> = batch.iter().map(|&i| self.train.labels[i] as i64).collect();
        let targets = Tensor::<1, Int>::from_data(TensorData::new(gold, [batch.len()]), &device)
            .one_hot(labels)
            .float();
        cross_entropy_with_logits(logits, targets)
    }

    fn evaluate(&self, model: &Classifier) -> Metrics {
        score(
            &predict(model, &self.dev, 64, self.pad_id),
            &self.dev.labels,
        )
    }

    fn batch_len(&self, batch: &Vec<usize>) -> usize {
        batch.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_counts_accuracy_and_loss() {
        let probs = vec![vec![0.9, 0.1], vec![0.2, 0.8], vec![0.6, 0.4]];
        let metrics = score(&probs, &[0, 1, 1]);
        assert!((metrics["accuracy"] - 2.0 / 3.0).abs() < 1e-12);
        let loss = -((0.9f32 as f64).ln() + (0.8f32 as f64).ln() + (0.4f32 as f64).ln()) / 3.0;
        assert!((metrics["loss"] - loss).abs() < 1e-9);
    }

    #[test]
    fn missing_column_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("train.tsv");
        std::fs::write(&path, "sentence\tgold\nit works\t1\n").unwrap();
        let columns = Columns {
            text: "sentence".into(),
            pair: None,
            label: "label".into(),
        };
        let error = read_tsv(&path, &columns).unwrap_err().to_string();
        assert!(
            error.contains("no column `label`") && error.contains("gold"),
            "{error}"
        );
    }
}
