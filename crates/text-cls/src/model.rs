//! The classifier: a BERT-family encoder, pooling, dropout and a linear head.

use burnlp_core::burn;
use burnlp_core::burn::module::Module;
use burnlp_core::burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burnlp_core::burn::tensor::activation::softmax;
use burnlp_core::burn::tensor::{Device, Int, Tensor, TensorData};
use burnlp_core::nn::bert::{Bert, BertConfig, BertInput, BertMasks, BertOutput, mean_pool};
use burnlp_core::tokenize::{Encoded, Tokenizer};
use serde::{Deserialize, Serialize};

use crate::data::{DataError, Example};
use crate::error::TextClsError;

/// How the sequence representation is pooled.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
pub enum Pooling {
    /// The encoder's tanh pooler over `[CLS]` (or `[CLS]`'s hidden state without a pooler).
    Cls,
    /// Mean over real tokens.
    Mean,
}

/// What the output layer predicts.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Head {
    /// One logit per label, cross-entropy loss.
    #[default]
    Classification,
    /// One real-valued score (STS-B), mean squared error loss; labels are numbers.
    Regression,
}

/// Everything needed to rebuild a trained classifier (`RUN/model.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClassifierSpec {
    /// Encoder configuration.
    pub encoder: BertConfig,
    /// Label names in output order (empty for a regression head).
    pub labels: Vec<String>,
    /// Classification or regression.
    #[serde(default)]
    pub head: Head,
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
    /// Whether the head is a regression head (its output is not a distribution).
    #[module(skip)]
    pub regression: bool,
}

impl ClassifierSpec {
    /// A classifier with a fresh head on `encoder`.
    pub fn init_with(&self, encoder: Bert, device: &Device) -> Classifier {
        let hidden = encoder.hidden_size();
        Classifier {
            encoder,
            dropout: DropoutConfig::new(self.dropout).init(),
            head: LinearConfig::new(hidden, self.outputs()).init(device),
            pooling: self.pooling,
            regression: self.head == Head::Regression,
        }
    }

    /// A classifier with a randomly initialised encoder.
    pub fn init(&self, device: &Device) -> Classifier {
        self.init_with(self.encoder.init(device), device)
    }

    /// Width of the output layer: the number of labels, or 1 for regression.
    pub fn outputs(&self) -> usize {
        match self.head {
            Head::Classification => self.labels.len(),
            Head::Regression => 1,
        }
    }

    /// Index of a label name.
    pub fn label_index(&self, label: &str) -> Option<usize> {
        self.labels.iter().position(|l| l == label)
    }
}

impl Classifier {
    /// Class logits (or the regression score).
    ///
    /// # Shapes
    /// - input ids and mask: `[batch, seq]`
    /// - output: `[batch, outputs]` (labels, or 1 for regression)
    pub fn forward(&self, input: BertInput) -> Tensor<2> {
        let mask = input.attention_mask.clone();
        let output = self.encoder.forward(input);
        self.head_logits(output, mask)
    }

    /// [`Classifier::forward`] with head / neuron masks (or a width) on the encoder
    /// (`Bert::forward_masked`): what structured pruning scores and simulates.
    ///
    /// # Shapes
    /// - input ids and mask: `[batch, seq]`
    /// - output: `[batch, outputs]`
    pub fn forward_masked(&self, input: BertInput, masks: &BertMasks) -> Tensor<2> {
        let mask = input.attention_mask.clone();
        let output = self.encoder.forward_masked(input, masks);
        self.head_logits(output, mask)
    }

    /// Pooling, dropout and the output layer over the encoder's output.
    fn head_logits(&self, output: BertOutput, mask: Tensor<2, Int>) -> Tensor<2> {
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
    /// Label index of each example (0 for a regression head).
    pub labels: Vec<usize>,
    /// Regression target of each example (empty for a classification head).
    pub targets: Vec<f32>,
    /// Group of each example ([`Example::group`]).
    pub groups: Vec<Option<String>>,
}

/// Tokenizes examples and maps their labels (or parses their scores, for a regression head),
/// truncating to the tokenizer's maximum length.
pub fn encode(
    tokenizer: &Tokenizer,
    spec: &ClassifierSpec,
    examples: &[Example],
    origin: &str,
) -> Result<EncodedSet, TextClsError> {
    let mut set = EncodedSet {
        ids: Vec::new(),
        type_ids: Vec::new(),
        labels: Vec::new(),
        targets: Vec::new(),
        groups: Vec::new(),
    };
    for (index, example) in examples.iter().enumerate() {
        let encoded: Encoded = match &example.pair {
            Some(pair) => tokenizer.encode_pair(&example.text, pair, true)?,
            None => tokenizer.encode(&example.text, true)?,
        };
        match spec.head {
            Head::Classification => {
                let label =
                    spec.label_index(&example.label)
                        .ok_or_else(|| DataError::UnknownLabel {
                            path: origin.to_string(),
                            record: index + 1,
                            label: example.label.clone(),
                            known: spec.labels.join(", "),
                        })?;
                set.labels.push(label);
            }
            Head::Regression => {
                let score = parse_score(&example.label).ok_or_else(|| DataError::BadScore {
                    path: origin.to_string(),
                    record: index + 1,
                    label: example.label.clone(),
                })?;
                set.labels.push(0);
                set.targets.push(score);
            }
        }
        set.ids.push(encoded.ids);
        set.type_ids.push(encoded.type_ids);
        set.groups.push(example.group.clone());
    }
    Ok(set)
}

/// A regression target: a finite number.
pub fn parse_score(label: &str) -> Option<f32> {
    label.trim().parse::<f32>().ok().filter(|v| v.is_finite())
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

/// Class probabilities of every example, in batches (for a regression head: the score, one
/// value per example).
pub fn probabilities(
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
        let outputs = if labels == 1 && model.regression {
            logits
        } else {
            softmax(logits, 1)
        };
        let probs = outputs
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32");
        out.extend((0..rows).map(|r| probs[r * labels..(r + 1) * labels].to_vec()));
    }
    out
}
