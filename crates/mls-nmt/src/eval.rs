//! Evaluation: teacher-forced validation statistics with training-time ECE, inference ECE
//! on beam-search outputs, and the calibration report.
//!
//! Inference ECE is InfECE's (Wang et al., "On the Inference Calibration of Neural Machine
//! Translation", ACL 2020, <https://arxiv.org/abs/2005.00963>; code shuo-git/InfECE), as the
//! MLS paper uses it: every generated token of the beam-search output is a prediction whose
//! confidence is its model probability, labelled correct or not by tercom's alignment of the
//! hypothesis with the reference ([`crate::infece`]). Training-time ECE uses the
//! teacher-forced predictions on the references (confidence = the largest probability,
//! correct = it is the gold token), binned the same way.

use std::hash::Hash;

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::activation::softmax;
use burnlp_core::burn::tensor::{Int, Tensor};
use burnlp_core::data::{BatchLimit, bucket_batches};
use burnlp_core::metrics::bleu::{Bleu, BleuScore};
use burnlp_core::metrics::calibration::Calibration;
use burnlp_core::nn::seq2seq::{Seq2SeqBatch, Transformer};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::infece;

/// Bins of the ECE: InfECE's `calc_ece.py` default, 20 equal-width confidence bins (the paper
/// does not state its bin count; `run.sh` uses the default).
pub const ECE_BINS: usize = infece::INFECE_BINS;

/// Token-level predictions with their confidence and correctness.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Predictions {
    /// Mean negative log-likelihood of the gold tokens (teacher forcing), in nats.
    pub nll: f64,
    /// Confidence of every prediction.
    pub confidences: Vec<f64>,
    /// Whether every prediction is correct.
    pub correct: Vec<bool>,
}

impl Predictions {
    /// Fraction of correct predictions.
    pub fn accuracy(&self) -> f64 {
        self.correct.iter().filter(|&&c| c).count() as f64 / self.correct.len().max(1) as f64
    }

    /// Reliability bins and ECE, binned as InfECE's `calc_ece.py` bins.
    pub fn calibration(&self, bins: usize) -> Result<Calibration> {
        infece::calibration(&self.confidences, &self.correct, bins)
    }
}

/// Teacher-forced predictions of `model` on `pairs` (EOS included as a target position).
pub fn teacher_forced(
    model: &Transformer,
    pairs: &[(Vec<u32>, Vec<u32>)],
    max_tokens: usize,
    pad: u32,
    eos: u32,
) -> Predictions {
    let device = model.devices()[0].clone();
    let lengths: Vec<usize> = pairs
        .iter()
        .map(|(s, t)| s.len().max(t.len()) + 1)
        .collect();
    let batches =
        bucket_batches(&lengths, BatchLimit::tokens(max_tokens), None).expect("positive limit");
    let mut out = Predictions::default();
    let mut nll_sum = 0.0;
    for batch in batches {
        let rows: Vec<(&[u32], &[u32])> = batch
            .iter()
            .map(|&i| (pairs[i].0.as_slice(), pairs[i].1.as_slice()))
            .collect();
        let batch = Seq2SeqBatch::from_pairs(&rows, eos, pad, &device);
        let logits = model.forward(
            batch.src_tokens,
            batch.src_padding,
            batch.prev_output_tokens,
        );
        let probs = softmax(logits, 2);
        let (top, argmax) = probs.clone().max_dim_with_indices(2);
        let gold_p = probs.gather(2, batch.target.clone().unsqueeze_dim::<3>(2));
        let target = ints(batch.target);
        let top = floats(top.flatten::<1>(0, 2));
        let argmax = ints(argmax.flatten::<1>(0, 2));
        let gold_p = floats(gold_p.flatten::<1>(0, 2));
        for (i, &t) in target.iter().enumerate() {
            if t == pad as i64 {
                continue;
            }
            nll_sum -= gold_p[i].max(f64::MIN_POSITIVE).ln();
            out.confidences.push(top[i].clamp(0.0, 1.0));
            out.correct.push(argmax[i] == t);
        }
    }
    out.nll = nll_sum / out.correct.len().max(1) as f64;
    out
}

fn ints<const D: usize>(t: Tensor<D, Int>) -> Vec<i64> {
    t.into_data()
        .convert::<i64>()
        .try_to_vec::<i64>()
        .expect("int data")
}

fn floats(t: Tensor<1>) -> Vec<f64> {
    t.into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .expect("float data")
}

/// Inference predictions: each hypothesis token (EOS excluded) with its probability, correct
/// as InfECE labels it against the reference tokens; tokens InfECE leaves out are left out.
/// A probability above 1 (a log-probability rounded above 0) counts as 1.
pub fn inference_predictions<S: AsRef<str> + Eq + Hash>(
    hypotheses: &[(Vec<S>, Vec<f32>)],
    references: &[Vec<S>],
) -> Predictions {
    let mut out = Predictions::default();
    for ((tokens, log_probs), reference) in hypotheses.iter().zip(references) {
        assert_eq!(
            tokens.len(),
            log_probs.len(),
            "one log-probability per token"
        );
        let labels = infece::token_labels(tokens, reference);
        for (lp, label) in log_probs.iter().zip(labels) {
            if let Some(correct) = label {
                out.confidences.push(f64::from(*lp).exp().min(1.0));
                out.correct.push(correct);
            }
        }
    }
    out
}

/// Corpus BLEU with sacreBLEU's defaults (13a tokenisation, exp smoothing), as the MLS
/// repository's detokenized outputs are scored.
pub fn bleu<H: AsRef<str> + Sync, R: AsRef<str> + Sync>(
    hypotheses: &[H],
    references: &[R],
) -> Result<BleuScore> {
    Ok(Bleu::default().corpus_score(hypotheses, &[references])?)
}

/// The calibration results of [`crate::translate::Translator::calibrate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationReport {
    /// sacreBLEU BLEU (13a) of the detokenized beam-search outputs.
    pub bleu: f64,
    /// The paper's compound-split BLEU (13a-tokenized, hyphens split, plain BLEU-4).
    pub compound_split_bleu: f64,
    /// sacreBLEU chrF of the detokenized outputs.
    pub chrf: f64,
    /// Inference ECE (InfECE on the beam-search outputs against the references).
    pub inference: Calibration,
    /// Training-time ECE (teacher forcing on the references).
    pub training: Calibration,
    /// Teacher-forced NLL of the references.
    pub nll: f64,
}
