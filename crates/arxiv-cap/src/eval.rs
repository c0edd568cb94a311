//! Caption scores (§5.4): BLEU-2, ROUGE-L and CIDEr-D from `burnlp_core::metrics`, over the
//! captioning and title-generation instances of ArxivCap rows (§5.2, [`crate::tasks`]).

use std::path::Path;

use burnlp_core::metrics::bleu::{Bleu, BleuConfig};
use burnlp_core::metrics::cider::cider_d;
use burnlp_core::metrics::rouge::rouge_l_corpus;
use serde::{Deserialize, Serialize};

use crate::bertscore::{BertScore, BertScorer};
use crate::error::{ArxivCapError, Result};
use crate::schema::ArxivCapRow;
use crate::tasks::{Task, instances};

/// One scored instance: an id and its reference text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaptionInstance {
    /// The instance id.
    pub id: String,
    /// The reference caption (or title).
    pub reference: String,
}

/// The scored instances of a §5.2 task in `rows` (title generation: up to `max_figures`
/// figures per paper), in row order.
pub fn caption_instances(
    rows: &[ArxivCapRow],
    task: Task,
    max_figures: usize,
) -> Vec<CaptionInstance> {
    instances(rows, task, max_figures)
        .into_iter()
        .map(|i| CaptionInstance {
            id: i.id,
            reference: i.target,
        })
        .collect()
}

/// A generated caption or title (`--pred` JSON Lines).
#[derive(Debug, Clone, Deserialize)]
pub struct CaptionPrediction {
    /// The instance id.
    pub id: String,
    /// The generated text.
    pub prediction: String,
}

/// Caption scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaptionReport {
    /// Instances scored.
    pub instances: usize,
    /// Instances without a prediction (scored as the empty caption).
    pub missing: usize,
    /// Corpus BLEU-2 (sacreBLEU's defaults with n-grams up to 2), in `[0, 100]`.
    pub bleu2: f64,
    /// Mean ROUGE-L F-measure (rouge-score, no stemming), in `[0, 1]`.
    pub rouge_l: f64,
    /// CIDEr-D (pycocoevalcap), document frequencies from these references.
    pub cider_d: f64,
    /// BERTScore ([`crate::bertscore`]), when an encoder was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bertscore: Option<BertScore>,
}

/// Scores predictions against instances by id. A prediction for an unknown or repeated id is
/// an error naming `pred_path` and the record; a missing one is scored as the empty caption.
pub fn score_captions(
    instances: &[CaptionInstance],
    predictions: &[CaptionPrediction],
    pred_path: &Path,
) -> Result<CaptionReport> {
    if instances.is_empty() {
        return Err(ArxivCapError::Empty {
            what: "the caption instance list".into(),
        });
    }
    let (refs, hyps, missing) = aligned(instances, predictions, pred_path)?;
    let bleu2 = Bleu::new(BleuConfig::default().with_max_ngram_order(2))?
        .corpus_score(&hyps, &[&refs])?
        .score;
    let (_, rouge) = rouge_l_corpus(&refs, &hyps)?;
    let grouped: Vec<[&str; 1]> = refs.iter().map(|r| [*r]).collect();
    let cider = cider_d(&hyps, &grouped)?;
    Ok(CaptionReport {
        instances: instances.len(),
        missing,
        bleu2,
        rouge_l: rouge.fmeasure,
        cider_d: cider.score,
        bertscore: None,
    })
}

/// References and predictions in instance order (a missing prediction is `""`), and the number
/// missing; an unknown or repeated prediction id is an error naming `pred_path` and the record.
pub fn aligned<'a>(
    instances: &'a [CaptionInstance],
    predictions: &'a [CaptionPrediction],
    pred_path: &Path,
) -> Result<(Vec<&'a str>, Vec<&'a str>, usize)> {
    let by_id = crate::qa::index_predictions(
        instances.iter().map(|i| i.id.as_str()),
        predictions
            .iter()
            .map(|p| (p.id.as_str(), p.prediction.as_str())),
        pred_path,
        "instance",
    )?;
    let hyps: Vec<&str> = instances
        .iter()
        .map(|i| by_id.get(i.id.as_str()).copied().unwrap_or(""))
        .collect();
    let refs: Vec<&str> = instances.iter().map(|i| i.reference.as_str()).collect();
    Ok((refs, hyps, instances.len() - by_id.len()))
}

/// [`score_captions`] plus BERTScore with `scorer`.
pub fn score_captions_with_bertscore(
    instances: &[CaptionInstance],
    predictions: &[CaptionPrediction],
    pred_path: &Path,
    scorer: &BertScorer,
) -> Result<CaptionReport> {
    let mut report = score_captions(instances, predictions, pred_path)?;
    let (refs, hyps, _) = aligned(instances, predictions, pred_path)?;
    report.bertscore = Some(scorer.score(&hyps, &refs)?);
    Ok(report)
}
