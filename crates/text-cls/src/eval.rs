//! Scoring, and a trained run directory loaded for evaluation and prediction.

use std::collections::BTreeMap;
use std::path::Path;

use burnlp_core::burn::tensor::Device;
use burnlp_core::metrics::{classification, correlation};
use burnlp_core::tokenize::Tokenizer;
use burnlp_core::train::{Metrics, RunDir, load_parameters};
use serde::Serialize;

use crate::data::Example;
use crate::error::TextClsError;
use crate::model::{Classifier, ClassifierSpec, Head, encode, probabilities};

/// Examples per forward pass at inference.
const BATCH_SIZE: usize = 64;

/// Accuracy, macro F1, Matthews correlation (`mcc`), the F1 of label 1 (`f1`, the positive
/// class of a binary GLUE task: MRPC's paraphrase) and mean loss of predictions against gold
/// label indices.
pub fn score(probs: &[Vec<f32>], gold: &[usize]) -> Metrics {
    let predicted: Vec<usize> = probs.iter().map(|p| argmax(p)).collect();
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
    metrics.insert(
        "mcc".to_string(),
        classification::matthews_corrcoef(gold, &predicted).unwrap_or(0.0),
    );
    metrics.insert(
        "f1".to_string(),
        classification::precision_recall_f1_for_labels(
            gold,
            &predicted,
            &[1],
            classification::Average::Micro,
        )
        .map(|p| p.f1)
        .unwrap_or(0.0),
    );
    metrics.insert("loss".to_string(), loss);
    metrics
}

/// Pearson and Spearman correlation, their mean (`corr`, the GLUE score of STS-B) and the mean
/// squared error of predicted scores (`outputs[i][0]`) against gold scores.
pub fn score_regression(outputs: &[Vec<f32>], gold: &[f32]) -> Metrics {
    let predicted: Vec<f64> = outputs.iter().map(|o| o[0] as f64).collect();
    let gold: Vec<f64> = gold.iter().map(|&g| g as f64).collect();
    let pearson = correlation::pearson(&gold, &predicted).unwrap_or(0.0);
    let spearman = correlation::spearman(&gold, &predicted).unwrap_or(0.0);
    let mse = predicted
        .iter()
        .zip(&gold)
        .map(|(p, g)| (p - g).powi(2))
        .sum::<f64>()
        / gold.len().max(1) as f64;
    BTreeMap::from([
        ("pearson".to_string(), pearson),
        ("spearman".to_string(), spearman),
        ("corr".to_string(), (pearson + spearman) / 2.0),
        ("mse".to_string(), mse),
    ])
}

/// One labelled input.
#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    /// The text.
    pub text: String,
    /// The second text of a pair.
    pub pair: Option<String>,
    /// The most probable label (the predicted score, for a regression head).
    pub label: String,
    /// Every label's probability (empty for a regression head).
    pub probabilities: BTreeMap<String, f32>,
}

/// A trained classifier with its tokenizer and specification, loaded from a run directory.
pub struct Run {
    /// The best model of the run.
    pub model: Classifier,
    /// The run's tokenizer.
    pub tokenizer: Tokenizer,
    /// The run's `model.json`.
    pub spec: ClassifierSpec,
}

impl Run {
    /// Loads the best model of the run directory `dir` onto `device`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self, TextClsError> {
        let spec_path = dir.join("model.json");
        let text = std::fs::read_to_string(&spec_path).map_err(|e| TextClsError::Run {
            path: spec_path.clone(),
            message: format!("not a text-cls run directory ({e})"),
        })?;
        let spec: ClassifierSpec = serde_json::from_str(&text).map_err(|e| TextClsError::Run {
            path: spec_path.clone(),
            message: e.to_string(),
        })?;
        let tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))?
            .with_max_length(Some(spec.max_length))?;
        let model = load_parameters(spec.init(device), &RunDir::new(dir).best_model())?;
        Ok(Self {
            model,
            tokenizer,
            spec,
        })
    }

    fn pad_id(&self) -> u32 {
        self.tokenizer.special_tokens().pad.unwrap_or(0)
    }

    /// The metrics of [`score`] (or [`score_regression`]) on labelled examples (`origin`
    /// names them in errors).
    pub fn evaluate(&self, examples: &[Example], origin: &str) -> Result<Metrics, TextClsError> {
        let set = encode(&self.tokenizer, &self.spec, examples, origin)?;
        let probs = probabilities(&self.model, &set, BATCH_SIZE, self.pad_id());
        Ok(match self.spec.head {
            Head::Classification => score(&probs, &set.labels),
            Head::Regression => score_regression(&probs, &set.targets),
        })
    }

    /// The most probable label and all probabilities of each example (labels are ignored).
    pub fn predict(
        &self,
        examples: &[Example],
        origin: &str,
    ) -> Result<Vec<Prediction>, TextClsError> {
        let relabelled: Vec<Example> = examples
            .iter()
            .map(|e| Example {
                label: self.spec.labels.first().cloned().unwrap_or("0".into()),
                ..e.clone()
            })
            .collect();
        let set = encode(&self.tokenizer, &self.spec, &relabelled, origin)?;
        let probs = probabilities(&self.model, &set, BATCH_SIZE, self.pad_id());
        Ok(examples
            .iter()
            .zip(probs)
            .map(|(example, p)| Prediction {
                text: example.text.clone(),
                pair: example.pair.clone(),
                label: match self.spec.head {
                    Head::Classification => self.spec.labels[argmax(&p)].clone(),
                    Head::Regression => p[0].to_string(),
                },
                probabilities: self.spec.labels.iter().cloned().zip(p).collect(),
            })
            .collect())
    }
}

fn argmax(p: &[f32]) -> usize {
    p.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i)
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
        assert_eq!(argmax(&[0.1, 0.7, 0.2]), 1);
    }
}
